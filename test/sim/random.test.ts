import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SimNodeSpec } from '../../src/sim/cluster.ts';
import { chaosRun } from '../../src/sim/convergence.ts';
import { node } from './nodes.ts';

/** A mix that exercises every election rule: preempt_delay, nopreempt, and an equal-priority tie. */
const v2Nodes = (): SimNodeSpec[] => [
  node(1, { priority: 200, preemptDelayMs: 2000 }),
  node(2, { priority: 150, preempt: false }),
  node(3, { priority: 150 }),
];
/** A tie at the top, so the address tie-break decides; lower_prio_no_advert; preempt_delay. */
const v3Nodes = (): SimNodeSpec[] => [
  node(1, { version: 3, advertIntervalMs: 100, priority: 200 }),
  node(2, { version: 3, advertIntervalMs: 100, priority: 100, lowerPrioNoAdvert: true }),
  node(3, { version: 3, advertIntervalMs: 100, priority: 200, preemptDelayMs: 500 }),
];

const VARIANTS = [
  { name: 'VRRPv2 1 s, 3 nodes', nodes: v2Nodes, link: { delayMs: 1, jitterMs: 4 }, maxWaitMs: 3000, checkEveryMs: 50 },
  {
    name: 'VRRPv3 100 ms, 3 nodes, duplication',
    nodes: v3Nodes,
    link: { delayMs: 2, jitterMs: 3, duplicate: 0.05 },
    maxWaitMs: 600,
    checkEveryMs: 10,
  },
];

for (const v of VARIANTS) {
  test(`seeded random partitions and loss (${v.name}): healthy for longer than Master_Down_Interval ⇒ exactly one master and one VIP holder`, (t) => {
    for (const seed of [1, 2, 3, 4]) {
      const r = chaosRun({
        nodes: v.nodes(),
        seed,
        steps: 2000,
        link: v.link,
        maxWaitMs: v.maxWaitMs,
        checkEveryMs: v.checkEveryMs,
      });
      assert.equal(r.aborted, undefined, `seed ${seed}`);
      assert.deepEqual(r.violations.slice(0, 3), [], `seed ${seed}`);
      assert.ok(
        r.healthyWindows >= 50 && r.checks >= 1000,
        `seed ${seed}: only ${r.healthyWindows} windows, ${r.checks} checks`,
      );
      t.diagnostic(
        `seed ${seed}: ${Math.round(r.simulatedMs / 1000)} s simulated, ${r.healthyWindows} healthy windows, ` +
          `${r.checks} checks, grace ${r.graceMs} ms, slowest convergence ${r.longestConvergenceMs} ms`,
      );
    }
  });
}
