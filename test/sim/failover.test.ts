import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simCluster } from '../../src/sim/cluster.ts';
import { handoverLingerMs } from '../../src/vrrp/machine.ts';
import { masterDownIntervalMs, skewTimeMs } from '../../src/vrrp/timers.ts';
import { node, VIP } from './nodes.ts';

const MDI_100 = masterDownIntervalMs({ version: 2, priority: 100, advertIntervalMs: 1000 }); // 3609
const MDI_150 = masterDownIntervalMs({ version: 2, priority: 150, advertIntervalMs: 1000 }); // 3414
const DELAY = 1; // the default link's one-way delay

test('both nodes start BACKUP; the higher priority is master after its Master_Down_Interval and holds the VIP', () => {
  const c = simCluster({ nodes: [node(1, { priority: 150 }), node(2, { priority: 100 })], seed: 1 });
  c.runFor(MDI_150 - 1);
  assert.deepEqual(c.owners('VI_1'), []);
  c.runFor(1);
  assert.deepEqual(c.owners('VI_1'), ['d1']);
  c.runFor(10_000);
  assert.deepEqual(c.owners('VI_1'), ['d1']);
  assert.deepEqual(c.vipHolders(VIP), ['d1']);
  assert.deepEqual(
    c.timeline.map((e) => `${e.node} ${e.to} ${e.cause}`),
    ['d1 BACKUP startup', 'd2 BACKUP startup', 'd1 MASTER master-down'],
  );
});

test('master isolated → the backup is master within Master_Down_Interval', () => {
  const c = simCluster({ nodes: [node(1, { priority: 150 }), node(2, { priority: 100 })], seed: 2 });
  c.runFor(10_000);
  c.isolate('d1');
  const r = c.runUntil(() => c.owners('VI_1').includes('d2'), MDI_100 + DELAY);
  assert.ok(r.ok, `d2 not master after ${r.elapsedMs} ms`);
  assert.ok(r.elapsedMs <= MDI_100, `${r.elapsedMs} ms > Master_Down_Interval ${MDI_100} ms`);
  // The isolated master cannot know: both hold the VIP until the network heals (split brain, by design of VRRP).
  assert.deepEqual(c.vipHolders(VIP), ['d1', 'd2']);
  c.heal();
  c.runFor(1000 + 2 * DELAY);
  assert.deepEqual(c.owners('VI_1'), ['d1']);
  assert.deepEqual(c.vipHolders(VIP), ['d1']);
});

test('master returns → it preempts the lower-priority master after its own Master_Down_Interval', () => {
  const c = simCluster({ nodes: [node(1, { priority: 150 }), node(2, { priority: 100 })], seed: 3 });
  c.runFor(10_000);
  c.kill('d1');
  c.runFor(10_000);
  assert.deepEqual(c.owners('VI_1'), ['d2']);
  const back = c.clock.now();
  c.restart('d1');
  const r = c.runUntil(() => c.owners('VI_1').includes('d1'), 10_000);
  assert.ok(r.ok);
  // d1 discards d2's lower-priority adverts, so its Master_Down_Timer from startup runs out.
  assert.equal(r.elapsedMs, MDI_150);
  // Make-before-break: d2 keeps the VIP for the linger after it hears d1's advert, then lets it go.
  assert.deepEqual(c.vipHolders(VIP), ['d1', 'd2']);
  const gone = c.runUntil(() => c.owners('VI_1').join() === 'd1', 10_000);
  assert.equal(gone.elapsedMs, DELAY + handoverLingerMs(1000));
  const moves = c.timeline.filter((e) => e.at >= back).map((e) => `${e.node} ${e.from}→${e.to} ${e.cause}`);
  assert.deepEqual(moves, [
    'd1 INIT→BACKUP startup',
    'd1 BACKUP→MASTER master-down',
    'd2 MASTER→BACKUP higher-priority',
  ]);
  assert.deepEqual(c.vipHolders(VIP), ['d1']);
});

test('master returns with nopreempt → it stays BACKUP and the VIP stays put', () => {
  const c = simCluster({
    nodes: [node(1, { priority: 150, preempt: false }), node(2, { priority: 100, preempt: false })],
    seed: 4,
  });
  c.runFor(10_000);
  c.kill('d1');
  c.runFor(10_000);
  c.restart('d1');
  c.runFor(60_000);
  assert.deepEqual(c.owners('VI_1'), ['d2']);
  assert.deepEqual(c.vipHolders(VIP), ['d2']);
});

test('master returns with preempt_delay → it preempts only after preempt_delay has passed', () => {
  const delay = 10_000;
  const c = simCluster({
    nodes: [node(1, { priority: 150, preemptDelayMs: delay }), node(2, { priority: 100 })],
    seed: 5,
  });
  c.runFor(10_000);
  c.kill('d1');
  c.runFor(10_000);
  const back = c.clock.now();
  c.restart('d1');
  // It first hears d2 within one advert interval; from then it tolerates d2 for preempt_delay, and then waits out
  // Master_Down_Interval from the last advert it accepted.
  const r = c.runUntil(() => c.owners('VI_1').join() === 'd1', 1000 + delay + MDI_150 + 2 * DELAY);
  assert.ok(r.ok, 'd1 took over');
  assert.ok(r.elapsedMs > delay, `took over after ${r.elapsedMs} ms, before preempt_delay`);
  assert.ok(r.elapsedMs >= delay - 1000 + MDI_150, `${r.elapsedMs} ms`);
  assert.equal(c.timeline.filter((e) => e.at > back && e.node === 'd1').at(-1)?.cause, 'master-down');
});

test('priority-0 handover: a graceful stop moves the VIP within Skew_Time', () => {
  const c = simCluster({ nodes: [node(1, { priority: 150 }), node(2, { priority: 100 })], seed: 6 });
  c.runFor(10_000);
  c.stop('d1');
  assert.deepEqual(c.vipHolders(VIP), [], 'd1 removed its VIP at once');
  const skew = skewTimeMs({ version: 2, priority: 100 }); // 609
  const r = c.runUntil(() => c.owners('VI_1').join() === 'd2', skew + DELAY);
  assert.ok(r.ok);
  assert.equal(r.elapsedMs, DELAY + skew);
  assert.deepEqual(c.vipHolders(VIP), ['d2']);
});

test('kill -9: the backup takes over after Master_Down_Interval; the dead node’s VIP lingers until it restarts', () => {
  const c = simCluster({ nodes: [node(1, { priority: 150 }), node(2, { priority: 100 })], seed: 7 });
  c.runFor(10_000);
  c.kill('d1');
  const r = c.runUntil(() => c.owners('VI_1').join() === 'd2', MDI_100 + DELAY);
  assert.ok(r.ok && r.elapsedMs <= MDI_100);
  assert.deepEqual(c.vipHolders(VIP), ['d1', 'd2'], 'nothing ran on d1 to remove it');
  c.restart('d1');
  c.runFor(0);
  assert.deepEqual(c.vipHolders(VIP), ['d2'], 'startup cleans up what the killed daemon left');
});

test('3 nodes with different priorities: the highest running node is always the one master', () => {
  const c = simCluster({
    nodes: [node(1, { priority: 200 }), node(2, { priority: 150 }), node(3, { priority: 100 })],
    seed: 8,
  });
  const settle = (expect: string) => {
    c.runFor(10_000);
    assert.deepEqual(c.owners('VI_1'), [expect]);
    assert.deepEqual(c.vipHolders(VIP), [expect]);
  };
  settle('d1');
  c.stop('d1');
  settle('d2');
  c.stop('d2');
  settle('d3');
  c.restart('d2');
  settle('d2');
  c.restart('d1');
  settle('d1');
  // d3 became master only when it was the last one running.
  const d3 = c.timeline.filter((e) => e.node === 'd3' && e.to === 'MASTER');
  assert.equal(d3.length, 1);
});

test('3 nodes: the middle priority takes over from a killed master before the lowest can', () => {
  const c = simCluster({
    nodes: [node(1, { priority: 200 }), node(2, { priority: 150 }), node(3, { priority: 100 })],
    seed: 9,
  });
  c.runFor(10_000);
  const t = c.clock.now();
  c.kill('d1');
  c.runFor(10_000);
  const after = c.timeline.filter((e) => e.at > t);
  assert.deepEqual(
    after.map((e) => `${e.node} ${e.to}`),
    ['d2 MASTER'],
  );
});
