import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simCluster } from '../../src/sim/cluster.ts';
import { handoverLingerMs } from '../../src/vrrp/machine.ts';
import { masterDownIntervalMs, skewTimeMs } from '../../src/vrrp/timers.ts';
import { node, VIP } from './nodes.ts';

const MDI_100 = masterDownIntervalMs({ version: 2, priority: 100, advertIntervalMs: 1000 });
const MDI_150 = masterDownIntervalMs({ version: 2, priority: 150, advertIntervalMs: 1000 });
const INTERVAL = 1000;
const DELAY = 1;

test('a tracker with a negative weight failing on the master moves the VIP to the backup, and back when it recovers', () => {
  const c = simCluster({
    nodes: [node(1, { priority: 150, trackers: [{ id: 'script:chk_web', weight: -60 }] }), node(2, { priority: 100 })],
    seed: 11,
  });
  c.runFor(10_000);
  assert.deepEqual(c.vipHolders(VIP), ['d1']);
  c.setTracker('d1', 'VI_1', 'script:chk_web', false); // 150 - 60 = 90 < 100
  // d2 discards d1's next (priority 90) advert; its Master_Down_Timer, last reset by d1's previous advert, fires.
  const r = c.runUntil(() => c.vipHolders(VIP).join() === 'd2', INTERVAL + MDI_100 + DELAY);
  assert.ok(r.ok, 'the VIP moved');
  assert.deepEqual(c.owners('VI_1'), ['d2']);
  assert.equal(
    c.timeline.find((e) => e.node === 'd1' && e.to === 'BACKUP' && e.from === 'MASTER')?.cause,
    'higher-priority',
  );
  c.setTracker('d1', 'VI_1', 'script:chk_web', true);
  const back = c.runUntil(
    () => c.vipHolders(VIP).join() === 'd1',
    INTERVAL + MDI_150 + 2 * DELAY + handoverLingerMs(INTERVAL),
  );
  assert.ok(back.ok, 'the VIP came back (preempt)');
});

test('a tracker with weight 0 failing on the master forces FAULT: priority 0 hands the VIP over within Skew_Time', () => {
  const c = simCluster({
    nodes: [node(1, { priority: 150, trackers: [{ id: 'interface:eth1', weight: 0 }] }), node(2, { priority: 100 })],
    seed: 12,
  });
  c.runFor(10_000);
  c.setTracker('d1', 'VI_1', 'interface:eth1', false);
  assert.equal(c.instance('d1', 'VI_1')?.state.state, 'FAULT');
  const r = c.runUntil(() => c.vipHolders(VIP).join() === 'd2', DELAY + skewTimeMs({ version: 2, priority: 100 }));
  assert.ok(r.ok, `VIP on ${c.vipHolders(VIP)} after ${r.elapsedMs} ms`);
  // FAULT holds: d1 ignores d2's adverts and never claims the VIP while the interface is down.
  c.runFor(30_000);
  assert.deepEqual(c.owners('VI_1'), ['d2']);
  c.setTracker('d1', 'VI_1', 'interface:eth1', true);
  assert.equal(c.instance('d1', 'VI_1')?.state.state, 'BACKUP');
  // d2 hands back make-before-break: the VIP leaves it the linger after d1's first advert.
  const back = c.runUntil(() => c.vipHolders(VIP).join() === 'd1', MDI_150 + 2 * DELAY + handoverLingerMs(INTERVAL));
  assert.ok(back.ok);
});

test('a tracker failing on the backup changes nothing visible while the master is healthy', () => {
  const c = simCluster({
    nodes: [node(1, { priority: 150 }), node(2, { priority: 100, trackers: [{ id: 'interface:eth1', weight: 0 }] })],
    seed: 13,
  });
  c.runFor(10_000);
  c.setTracker('d2', 'VI_1', 'interface:eth1', false);
  c.runFor(10_000);
  assert.deepEqual(c.states('VI_1'), { d1: 'MASTER', d2: 'FAULT' });
  c.stop('d1');
  c.runFor(30_000);
  assert.deepEqual(c.owners('VI_1'), [], 'nobody may take over: d2 is faulted');
  assert.deepEqual(c.vipHolders(VIP), []);
});
