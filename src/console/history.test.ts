import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DaemonStatus, InstanceStatus } from '../api/contract.ts';
import { History, parseWindow } from './history.ts';

const inst = (state: InstanceStatus['state'], master: InstanceStatus['master']): InstanceStatus =>
  ({
    name: 'VI_1',
    state,
    master,
    vips: ['198.18.0.100/24'],
    priority: { configured: 100, override: null, effective: 100, trackers: [] },
  }) as unknown as InstanceStatus;

const status = (i: InstanceStatus, active = 0): DaemonStatus =>
  ({
    node: 'd2',
    instances: [i],
    lb: {
      services: [
        {
          name: 'web',
          servers: [
            {
              key: '198.18.0.21:80',
              weight: 1,
              health: 'up',
              conns: { active, inactive: 2 },
              check: { state: 'up', last: { code: 'L4OK', detail: '', durationMs: 1.234 } },
            },
          ],
        },
      ],
    },
  }) as unknown as DaemonStatus;

test('the history keeps samples of connections and check latency, and a span per VIP holder', () => {
  const h = new History(60_000, 1_000);
  h.record(status(inst('BACKUP', { self: false, addr: '198.18.0.11', priority: 150 }), 3), 1_000);
  h.record(status(inst('BACKUP', { self: false, addr: '198.18.0.11', priority: 150 }), 4), 2_000);
  h.record(status(inst('MASTER', { self: true }), 5), 3_000);
  const w = h.window(60_000, 3_500);
  assert.deepEqual(
    w.samples.map((s) => s.services[0]!.servers[0]!.active),
    [3, 4, 5],
  );
  assert.equal(w.samples[0]!.services[0]!.servers[0]!.latencyMs, 1.2);
  assert.equal(w.samples[0]!.services[0]!.servers[0]!.code, 'L4OK');
  assert.deepEqual(w.ownership[0]!.spans, [
    { holder: '198.18.0.11', from: 1_000, to: 3_000 },
    { holder: 'd2', from: 3_000, to: null },
  ]);
});

test('the history forgets what is older than its retention and never holds more than its bound', () => {
  const h = new History(10_000, 1_000);
  for (let t = 0; t < 100_000; t += 500) h.record(status(inst('MASTER', { self: true }), t), t);
  const w = h.window(3_600_000, 100_000);
  assert.equal(w.windowMs, 10_000, 'a window is bounded by the retention');
  assert.ok(w.samples.length <= 11, String(w.samples.length));
  assert.ok(w.samples.every((s) => s.t >= 90_000));
  assert.equal(w.ownership[0]!.spans.length, 1);
});

test('a window is 90s, 15m, 1h or milliseconds; anything else is refused', () => {
  assert.equal(parseWindow('90s'), 90_000);
  assert.equal(parseWindow('15m'), 900_000);
  assert.equal(parseWindow('1h'), 3_600_000);
  assert.equal(parseWindow('5000'), 5_000);
  assert.equal(parseWindow('1d'), null);
  assert.equal(parseWindow('-5m'), null);
});

test('the last successful action per target says who set it; refusals and logins do not count', () => {
  const h = new History(60_000, 1_000);
  h.recordAudit({ who: 'ops', action: 'rs.drain', target: 'web/198.18.0.21:80', result: 'ok' }, 5);
  h.recordAudit({ who: 'eve', action: 'rs.maint', target: 'web/198.18.0.21:80', result: 'refused' }, 6);
  h.recordAudit({ who: 'eve', action: 'login', target: 'eve', result: 'ok' }, 7);
  assert.deepEqual(h.window(60_000, 10).lastActions, {
    'web/198.18.0.21:80': { who: 'ops', action: 'rs.drain', result: 'ok', at: 5 },
  });
});
