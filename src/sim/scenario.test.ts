import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDiagnostic } from '../config/diagnostics.ts';
import { simCluster } from './cluster.ts';
import { instanceConfig } from './fixtures.ts';
import { parseScenario, runScenario } from './scenario.ts';

const two = () =>
  simCluster({
    seed: 3,
    nodes: [
      { name: 'd1', primaryAddr: '198.18.0.11', instances: [instanceConfig({ priority: 150 })] },
      { name: 'd2', primaryAddr: '198.18.0.12', instances: [instanceConfig({ priority: 100 })] },
    ],
  });

test('a scenario file is validated with file:line:col diagnostics, like a config', () => {
  const text = 'duration: 10s\nsteps:\n  - { at: 1s, isolate: d1 }\n  - { at: 2s }\n  - { at: soon, heal: true }\n';
  const r = parseScenario('s.yaml', text);
  assert.equal(r.scenario, undefined);
  assert.deepEqual(r.diagnostics.map(formatDiagnostic), [
    's.yaml:4:5 error TND_SIM_SCENARIO steps[1]: a step needs exactly one action of isolate, partition, heal, stop, kill, start, loss, track, priority; got none',
    's.yaml:5:11 error TND_CFG_NUMBER steps[2].at: at must be whole milliseconds or text like 100ms, 1s, 1.5s; got "soon"',
  ]);
});

test('the client sees a gap from the master losing its link until the backup takes over, and none after', () => {
  const c = two();
  const [cov] = runScenario(
    c,
    {
      duration: 20_000,
      steps: [
        { at: 5_000, isolate: 'd1' },
        { at: 12_000, heal: true },
      ],
    },
    ['198.18.0.100'],
  );
  assert.equal(cov!.gaps.length, 1);
  const gap = cov!.gaps[0]!;
  assert.equal(gap.from, 5_000);
  // Master_Down_Interval for priority 100 at 1 s adverts: 3 s + Skew_Time 0.609 s, counted from d1's last advert.
  const takeover = c.timeline.find((t) => t.node === 'd2' && t.to === 'MASTER')!;
  assert.equal(gap.to, takeover.at);
  assert.ok(gap.to - gap.from <= 3_610, `gap ${gap.to - gap.from} ms`);
  // While cut off, d1 still holds the address: the split brain that later issues (quorum, fencing) address.
  assert.equal(cov!.overlaps[0]!.from, takeover.at);
  assert.deepEqual(c.owners('VI_1'), ['d1']);
});

test('a partition may put the client on one side; an unknown name in a step is refused', () => {
  const c = two();
  const [cov] = runScenario(c, { duration: 15_000, steps: [{ at: 5_000, partition: [['d1'], ['d2', 'client']] }] }, [
    '198.18.0.100',
  ]);
  assert.equal(cov!.gaps.length, 1);
  assert.throws(
    () => runScenario(two(), { duration: 1_000, steps: [{ at: 0, partition: [['d9']] }] }),
    /no node d9 in this cluster/,
  );
});
