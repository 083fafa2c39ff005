import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simCluster } from '../../src/sim/cluster.ts';
import { handoverLingerMs } from '../../src/vrrp/machine.ts';
import { masterDownIntervalMs, skewTimeMs } from '../../src/vrrp/timers.ts';
import { syncedNode, VIP, VIP2 } from './nodes.ts';

const DELAY = 1;

test('keepalived sync group: a fault on one member moves the whole group to the other node, and back', () => {
  const c = simCluster({
    nodes: [syncedNode(1, 150, { trackers: [{ id: 'interface:eth1', weight: 0 }] }), syncedNode(2, 100)],
    seed: 21,
  });
  c.runFor(10_000);
  assert.deepEqual([c.owners('VI_1'), c.owners('VI_2')], [['d1'], ['d1']]);
  const t = c.clock.now();
  c.setTracker('d1', 'VI_1', 'interface:eth1', false);
  assert.deepEqual(c.states('VI_2'), { d1: 'FAULT', d2: 'BACKUP' }, 'VI_2 follows VI_1 into FAULT at once');
  const skew = skewTimeMs({ version: 2, priority: 100 });
  const r = c.runUntil(() => c.vipHolders(VIP).join() === 'd2' && c.vipHolders(VIP2).join() === 'd2', DELAY + skew);
  assert.ok(r.ok, 'both VIPs moved within Skew_Time (both d1 members sent priority 0)');
  assert.deepEqual(
    c.timeline.filter((e) => e.at >= t && e.node === 'd1').map((e) => `${e.instance} ${e.from}→${e.to} ${e.cause}`),
    ['VI_1 MASTER→FAULT tracker-fault', 'VI_2 MASTER→FAULT sync-group'],
  );
  c.runFor(10_000);
  c.setTracker('d1', 'VI_1', 'interface:eth1', true);
  assert.deepEqual(c.states('VI_2'), { d1: 'BACKUP', d2: 'MASTER' }, 'the group left FAULT together');
  const mdi = masterDownIntervalMs({ version: 2, priority: 150, advertIntervalMs: 1000 });
  // d2 hands back make-before-break: its VIPs go the linger after it hears d1's advert.
  const back = c.runUntil(
    () => c.vipHolders(VIP).join() === 'd1' && c.vipHolders(VIP2).join() === 'd1',
    mdi + 2 * DELAY + handoverLingerMs(1000),
  );
  assert.ok(back.ok, 'both VIPs came back together');
});

test('keepalived sync group: when one member becomes MASTER the others follow at once', () => {
  const c = simCluster({ nodes: [syncedNode(1, 150), syncedNode(2, 100)], seed: 22 });
  c.runFor(10_000);
  c.kill('d1');
  c.runFor(10_000);
  const d2 = c.timeline.filter((e) => e.node === 'd2' && e.to === 'MASTER');
  assert.equal(d2.length, 2);
  assert.equal(d2[0]?.at, d2[1]?.at, 'same instant');
  assert.deepEqual(d2.map((e) => e.cause).sort(), ['master-down', 'sync-group']);
});
