import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simCluster } from '../../src/sim/cluster.ts';
import { measureHealToOneMaster, oneMaster } from '../../src/sim/convergence.ts';
import { handoverLingerMs } from '../../src/vrrp/machine.ts';
import { node, VIP } from './nodes.ts';

const LINKS = [
  { name: 'LAN 1 ms', link: { delayMs: 1, jitterMs: 0 } },
  { name: '5 ms ± 10 ms jitter', link: { delayMs: 5, jitterMs: 10 } },
];
const TOPOLOGIES = [
  {
    name: '2 nodes {d1}|{d2}',
    groups: [['d1'], ['d2']],
    nodes: () => [node(1, { priority: 150 }), node(2, { priority: 100 })],
  },
  {
    name: '3 nodes {d1}|{d2,d3}',
    groups: [['d1'], ['d2', 'd3']],
    nodes: () => [node(1, { priority: 200 }), node(2, { priority: 150 }), node(3, { priority: 100 })],
  },
];

test('partition heals → exactly one master again within one advert interval plus the largest delay', (t) => {
  for (const topo of TOPOLOGIES) {
    for (const { name, link } of LINKS) {
      const maxDelay = link.delayMs + link.jitterMs;
      const times: number[] = [];
      for (let seed = 1; seed <= 20; seed++) {
        // Vary how long the split lasts, so the heal falls at a different point of the masters' advert cycles.
        const m = measureHealToOneMaster({
          nodes: topo.nodes(),
          instance: 'VI_1',
          seed,
          link,
          groups: topo.groups,
          splitMs: 10_000 + ((seed * 137) % 1000),
        });
        assert.deepEqual(m.mastersBeforeHeal, ['d1', 'd2'], 'a split brain before the heal');
        assert.equal(m.master, 'd1', 'the highest priority wins');
        // The beaten master keeps the VIP for the handover linger (make-before-break, docs/handover.md).
        assert.ok(
          m.elapsedMs !== null && m.elapsedMs <= 1000 + maxDelay + handoverLingerMs(1000),
          `${topo.name}, ${name}, seed ${seed}: ${m.elapsedMs} ms`,
        );
        times.push(m.elapsedMs ?? Number.NaN);
      }
      times.sort((a, b) => a - b);
      t.diagnostic(
        `heal → one master, ${topo.name}, ${name}: min ${times[0]} ms, median ${times[10]} ms, max ${times.at(-1)} ms (20 seeds)`,
      );
    }
  }
});

test('partition heals with VRRPv3 at 100 ms → one master within 100 ms plus the delay', (t) => {
  const times: number[] = [];
  for (let seed = 1; seed <= 20; seed++) {
    const m = measureHealToOneMaster({
      nodes: [
        node(1, { version: 3, advertIntervalMs: 100, priority: 150 }),
        node(2, { version: 3, advertIntervalMs: 100 }),
      ],
      instance: 'VI_1',
      seed,
      groups: [['d1'], ['d2']],
      splitMs: 5_000 + ((seed * 37) % 100),
    });
    assert.ok(m.elapsedMs !== null && m.elapsedMs <= 101 + handoverLingerMs(100), `seed ${seed}: ${m.elapsedMs} ms`);
    times.push(m.elapsedMs ?? Number.NaN);
  }
  times.sort((a, b) => a - b);
  t.diagnostic(`heal → one master, VRRPv3 100 ms, 2 nodes: min ${times[0]} ms, max ${times.at(-1)} ms (20 seeds)`);
});

test('RFC 9568: when the lower-priority master speaks first after a heal, the higher one answers at once', () => {
  const c = simCluster({ nodes: [node(1, { priority: 150 }), node(2, { priority: 100 })], seed: 31 });
  c.runFor(10_000);
  c.isolate('d1');
  c.runFor(10_000);
  // Heal right before d2's next advert and well before d1's: d1 answers d2's advert at once instead of waiting.
  const d2Next = c.instance('d2', 'VI_1')?.state.timers.advert ?? 0;
  const d1Next = c.instance('d1', 'VI_1')?.state.timers.advert ?? 0;
  assert.ok(d2Next < d1Next - 10, `phases: d2 ${d2Next}, d1 ${d1Next}`);
  c.runFor(d2Next - c.clock.now() - 1);
  c.heal();
  const r = c.runUntil(() => oneMaster(c, 'VI_1'), 1000);
  // d2 advert (1 ms), d1 reply (1 ms); d2, beaten, keeps the VIP for the handover linger.
  assert.equal(r.elapsedMs, 1 + 2 + handoverLingerMs(1000));
  assert.deepEqual(c.vipHolders(VIP), ['d1']);
});
