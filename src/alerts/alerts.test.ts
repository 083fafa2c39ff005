import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configSchema } from '../config/schema.ts';
import { memoryLogger } from '../core/log.ts';
import { SimClock } from '../sim/sim-clock.ts';
import { AlertDispatcher, type AlertSink, backoffMs } from './dispatcher.ts';
import { emptyLimiter, flush, type LimiterEffect, offer } from './limiter.ts';
import { alertPlan } from './plan.ts';
import { type Alert, type AlertMessage, digestMessage, quorumBody, singleMessage, webhookBody } from './render.ts';
import { signBody } from './sinks.ts';
import { AlertSource } from './source.ts';

const input = {
  cluster: { nodes: [{ name: 'd1' }] },
  vrrp: {
    instances: [
      { name: 'VI_1', interface: 'eth0', vrid: 51, vips: ['198.18.0.100/24'] },
      { name: 'VI_2', interface: 'eth0', vrid: 52, vips: ['198.18.0.101/24'] },
    ],
    sync_groups: [{ name: 'G1', members: ['VI_1', 'VI_2'] }],
  },
  lb: {
    services: [
      {
        name: 'web',
        vip: '198.18.0.100',
        port: 80,
        check: { type: 'tcp' },
        quorum: { min: 2, hysteresis: 1 },
        real_servers: [{ address: '198.18.1.11' }, { address: '198.18.1.12', check: { type: 'http', path: '/' } }],
      },
    ],
  },
  alerts: {
    router_id: 'LVS_DEVEL',
    instances: { VI_1: true },
    sync_groups: { G1: true },
    services: { web: true },
    real_servers: { 'web 198.18.1.12:80': false },
    email: { to: ['ops@example.com'], smtp: { server: '127.0.0.1' } },
  },
};
const cfg = configSchema.parse(input);
const plan = alertPlan(cfg, 'd1');

test("subjects and bodies are keepalived's (core/smtp.c smtp_alert, vrrp_notify.c, check_tcp.c, ipwrapper.c)", () => {
  const src = new AlertSource(plan);
  const [a] = src.fromEvent({ event: 'transition', instance: 'VI_1', from: 'BACKUP', to: 'MASTER' }, 0, 0);
  assert.ok(a);
  const m = singleMessage(plan.routerId, a, 'x');
  assert.equal(m.subject, '[LVS_DEVEL] VRRP Instance VI_1 - Entering MASTER state');
  assert.equal(m.body, '=> VRRP Instance is now owning VRRP VIPs <=');
  const [b] = src.fromEvent({ event: 'transition', instance: 'VI_1', to: 'BACKUP' }, 0, 0);
  assert.equal(singleMessage(plan.routerId, b!, 'y').subject, '[LVS_DEVEL] VRRP Instance VI_1 - Entering BACKUP state');
  assert.equal(b!.body, '=> VRRP Instance is no longer owning VRRP VIPs <=');
  const [rs] = src.fromEvent(
    { event: 'health', service: 'web', server: '198.18.1.11:80', up: false, code: 'L4CON' },
    0,
    0,
  );
  assert.equal(
    singleMessage(plan.routerId, rs!, 'z').subject,
    '[LVS_DEVEL] Realserver [198.18.1.11]:tcp:80 of virtual server [198.18.0.100]:tcp:80 - DOWN',
  );
  assert.equal(rs!.body, '=> TCP CHECK failed on service <=');
  const [vs] = src.fromEvent({ event: 'quorum', service: 'web', to: 'down', weightSum: 0 }, 0, 0);
  assert.equal(
    singleMessage(plan.routerId, vs!, 'v').subject,
    '[LVS_DEVEL] Virtualserver [198.18.0.100]:tcp:80 - DOWN',
  );
  assert.equal(vs!.body, '=> Lost quorum 2+1=1 <= 0 <=');
  assert.equal(quorumBody(true, 2, 1, 3), '=> Gained quorum 2+1=3 <= 3 <=');
});

test('smtp_alert follows keepalived: own setting, else smtp_alert_vrrp/_checker, else smtp_alert; real servers default on', () => {
  assert.deepEqual(plan.instances, { VI_1: true, VI_2: false });
  assert.equal(plan.services.web!.alert, true);
  assert.equal(plan.services.web!.servers['198.18.1.11:80']!.alert, true, 'a real server alerts by default');
  assert.equal(plan.services.web!.servers['198.18.1.12:80']!.alert, false);
  const src = new AlertSource(plan);
  assert.deepEqual(src.fromEvent({ event: 'transition', instance: 'VI_2', to: 'MASTER' }, 0, 0), []);
  assert.deepEqual(src.fromEvent({ event: 'health', service: 'web', server: '198.18.1.12:80', up: false }, 0, 0), []);
  const off = alertPlan(
    configSchema.parse({
      ...input,
      alerts: { ...input.alerts, smtp_alert_checker: false, services: {}, real_servers: {} },
    }),
    'd1',
  );
  assert.equal(off.services.web!.servers['198.18.1.11:80']!.alert, false);
  const all = alertPlan(configSchema.parse({ ...input, alerts: { smtp_alert: true } }), 'd1');
  assert.deepEqual(all.instances, { VI_1: true, VI_2: true });
  assert.equal(all.routerId, 'd1', 'router id defaults to the node');
});

test('a sync group alerts once, when every member has reached the state (vrrp_sync_smtp_notifier)', () => {
  const src = new AlertSource(plan);
  const one = src.fromEvent({ event: 'transition', instance: 'VI_1', to: 'MASTER' }, 0, 0);
  assert.deepEqual(
    one.map((a) => a.object.kind),
    ['instance'],
  );
  const two = src.fromEvent({ event: 'transition', instance: 'VI_2', to: 'MASTER' }, 0, 0);
  assert.equal(two.length, 1);
  assert.equal(singleMessage('r', two[0]!, 'g').subject, '[r] VRRP Group G1 - Entering MASTER state');
  assert.equal(two[0]!.body, '=> All VRRP group instances are now in MASTER state <=');
});

const rsAlert = (state: 'UP' | 'DOWN', at: number): Alert => ({
  object: {
    kind: 'rs',
    service: 'web',
    server: '198.18.1.11:80',
    label: '[198.18.1.11]:tcp:80',
    vsLabel: '[198.18.0.100]:tcp:80',
  },
  state,
  subject: state,
  body: state === 'UP' ? '=> TCP CHECK succeed on service <=' : '=> TCP CHECK failed on service <=',
  at,
  wallMs: 1_700_000_000_000 + at,
});

test('the limiter drops a repeated state, lets a burst through, and holds the rest for one digest', () => {
  const limits = { windowMs: 60_000, burst: 2 };
  let s = emptyLimiter();
  const kinds: string[] = [];
  const step = (a: Alert, now: number) => {
    const r = offer(s, a, now, limits);
    s = r.state;
    kinds.push(...r.effects.map((e) => e.kind));
    return r.effects;
  };
  step(rsAlert('DOWN', 0), 0);
  step(rsAlert('DOWN', 10), 10);
  step(rsAlert('UP', 20), 20);
  const held = step(rsAlert('DOWN', 30), 30);
  step(rsAlert('UP', 40), 40);
  assert.deepEqual(kinds, ['send', 'drop', 'send', 'hold', 'arm', 'hold']);
  const arm = held.find((e): e is Extract<LimiterEffect, { kind: 'arm' }> => e.kind === 'arm');
  assert.equal(arm?.at, 60_000, 'the digest goes when the oldest alert leaves the window');
  assert.deepEqual(flush(s, 59_999, limits).effects, []);
  const f = flush(s, 60_000, limits);
  assert.equal(f.effects.length, 1);
  const d = f.effects[0] as Extract<LimiterEffect, { kind: 'digest' }>;
  assert.deepEqual(
    d.alerts.map((a) => a.state),
    ['DOWN', 'UP'],
  );
  // Still flapping: the next change is held for the next window's digest, not sent at once.
  const after = offer(f.state, rsAlert('DOWN', 61_000), 61_000, limits);
  assert.deepEqual(
    after.effects.map((e) => e.kind),
    ['hold', 'arm'],
  );
});

test('a digest names the object, the count and every change in order', () => {
  const m = digestMessage('LVS_DEVEL', [rsAlert('DOWN', 0), rsAlert('UP', 1000), rsAlert('DOWN', 2000)], 600_000, 'd1');
  assert.equal(
    m.subject,
    '[LVS_DEVEL] Realserver [198.18.1.11]:tcp:80 of virtual server [198.18.0.100]:tcp:80 - DOWN (digest: 3 changes in 600 s)',
  );
  const lines = m.body.split('\n');
  assert.match(lines[0]!, /3 changes were held back .* now DOWN/);
  assert.equal(lines.length, 5);
  assert.match(lines[2]!, /^2023-11-14T22:13:20\.000Z {2}DOWN {2}=> TCP CHECK failed on service <=$/);
  const body = JSON.parse(webhookBody('LVS_DEVEL', m));
  assert.equal(body.type, 'digest');
  assert.equal(body.alerts.length, 3);
});

test('backoff doubles from the base and stops at the maximum', () => {
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6].map((n) => backoffMs(n, 1000, 30_000)),
    [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000],
  );
  assert.equal(backoffMs(1000, 1000, 30_000), 30_000);
});

function fakeSink(
  results: ('ok' | 'fail' | 'hang')[],
  name = 'hook',
): AlertSink & { got: AlertMessage[]; calls: number } {
  const sink = {
    name,
    kind: 'webhook' as const,
    retries: 3,
    backoffMs: 1000,
    maxBackoffMs: 10_000,
    timeoutMs: 5_000,
    got: [] as AlertMessage[],
    calls: 0,
    send(m: AlertMessage, signal: AbortSignal): Promise<void> {
      const r = results[sink.calls++] ?? 'ok';
      if (r === 'ok') {
        sink.got.push(m);
        return Promise.resolve();
      }
      if (r === 'fail') return Promise.reject(new Error('HTTP 500'));
      return new Promise((_res, rej) => signal.addEventListener('abort', () => rej(new Error('aborted'))));
    },
  };
  return sink;
}

const settle = () => new Promise((r) => setImmediate(r));

test('the dispatcher retries with backoff on the injected clock, counts, and logs a final failure', async () => {
  const clock = new SimClock(0);
  const log = memoryLogger();
  const ok = fakeSink(['fail', 'fail', 'ok']);
  const bad = fakeSink(['fail', 'hang', 'fail', 'fail'], 'bad');
  const d = new AlertDispatcher({
    clock,
    log,
    routerId: 'r',
    limits: { windowMs: 60_000, burst: 3 },
    queueMax: 10,
    sinks: [ok, bad],
  });
  d.offer(rsAlert('DOWN', 0));
  await settle();
  assert.equal(ok.calls, 1);
  clock.runFor(999);
  await settle();
  assert.equal(ok.calls, 1, 'no retry before the first backoff');
  clock.runFor(1);
  await settle();
  assert.equal(ok.calls, 2);
  clock.runFor(2000);
  await settle();
  assert.equal(ok.calls, 3);
  assert.equal(ok.got.length, 1);
  // bad: attempt 2 hangs until its 5 s timeout, then attempts 3 and 4 fail; then it gives up.
  for (let i = 0; i < 40; i++) {
    clock.runFor(1000);
    await settle();
  }
  const st = d.status();
  assert.deepEqual(
    { sent: st.sinks.hook!.sent, retried: st.sinks.hook!.retried, failed: st.sinks.hook!.failed },
    { sent: 1, retried: 2, failed: 0 },
  );
  assert.deepEqual(
    { sent: st.sinks.bad!.sent, retried: st.sinks.bad!.retried, failed: st.sinks.bad!.failed },
    { sent: 0, retried: 3, failed: 1 },
  );
  assert.equal(bad.calls, 4);
  assert.ok(
    log.records.some((r) => r.level === 'error' && /bad: giving up .* after 4 attempt\(s\): HTTP 500/.test(r.msg)),
  );
  assert.ok(log.records.some((r) => /timed out after 5000 ms/.test(r.msg)));
  assert.equal(st.sinks.bad!.lastError, 'HTTP 500');
});

test('offer never waits; a full queue drops the oldest and counts it', async () => {
  const clock = new SimClock(0);
  const hang = fakeSink(['hang', 'hang', 'hang', 'hang', 'hang']);
  hang.retries = 0;
  const d = new AlertDispatcher({
    clock,
    log: memoryLogger(),
    routerId: 'r',
    limits: { windowMs: 1, burst: 100 },
    queueMax: 2,
    sinks: [hang],
  });
  const t0 = performance.now();
  for (let i = 0; i < 5; i++)
    d.offer({ ...rsAlert(i % 2 ? 'UP' : 'DOWN', i), object: { kind: 'instance', name: `VI_${i}` } });
  assert.ok(performance.now() - t0 < 50);
  await settle();
  const st = d.status().sinks.hook!;
  assert.equal(st.queued, 3, 'one in flight, two waiting');
  assert.equal(st.dropped, 2);
  const closed = d.close(0);
  clock.runFor(1);
  await closed;
  assert.equal(d.status().sinks.hook!.dropped, 4, 'what was still queued at close is counted as dropped');
});

test('a webhook signature is the HMAC-SHA256 of the body', () => {
  assert.equal(
    signBody('key', 'The quick brown fox jumps over the lazy dog'),
    'sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8',
  );
});
