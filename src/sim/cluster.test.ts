import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simCluster } from './cluster.ts';
import { instanceConfig } from './fixtures.ts';

const nodes = () => [
  { name: 'd1', primaryAddr: '198.18.0.1', instances: [instanceConfig({ priority: 150 })] },
  { name: 'd2', primaryAddr: '198.18.0.2', instances: [instanceConfig({ priority: 100 })] },
];

test('a cluster starts every node at time 0 and records a printable timeline', () => {
  const c = simCluster({ nodes: nodes(), seed: 1 });
  c.runFor(5000);
  assert.deepEqual(c.states('VI_1'), { d1: 'MASTER', d2: 'BACKUP' });
  assert.equal(
    c.formatTimeline(),
    [
      '       0 ms  d1     VI_1     INIT   → BACKUP startup (priority 150)',
      '       0 ms  d2     VI_1     INIT   → BACKUP startup (priority 100)',
      '    3414 ms  d1     VI_1     BACKUP → MASTER master-down (priority 150)',
    ].join('\n'),
  );
});

test('stop, kill, start and restart change which nodes run; states show DOWN', () => {
  const c = simCluster({ nodes: nodes(), seed: 1 });
  c.runFor(5000);
  c.kill('d1');
  assert.equal(c.isUp('d1'), false);
  assert.deepEqual(c.states('VI_1'), { d1: 'DOWN', d2: 'BACKUP' });
  c.start('d1');
  c.start('d1');
  assert.equal(c.isUp('d1'), true);
  c.stop('d2');
  assert.deepEqual(c.states('VI_1'), { d1: 'BACKUP', d2: 'DOWN' });
  c.restart('d1');
  assert.equal(c.timeline.filter((e) => e.node === 'd1' && e.cause === 'startup').length, 3);
});

test('the same seed replays the same run exactly', () => {
  const run = () => {
    const c = simCluster({ nodes: nodes(), seed: 9, link: { delayMs: 2, jitterMs: 30, loss: 0.3 } });
    c.runFor(60_000);
    return c.formatTimeline();
  };
  assert.equal(run(), run());
});

test('unknown nodes and instances are refused with TND_SIM_SCENARIO', () => {
  const c = simCluster({ nodes: nodes(), seed: 1 });
  assert.throws(() => c.isolate('d9'), { code: 'TND_SIM_SCENARIO' });
  assert.throws(() => c.setTracker('d1', 'VI_9', 'x', false), { code: 'TND_SIM_SCENARIO' });
  c.kill('d2');
  assert.throws(() => c.setPriority('d2', 'VI_1', 50), { code: 'TND_SIM_SCENARIO' });
  assert.throws(
    () =>
      simCluster({
        nodes: [
          {
            name: 'd1',
            primaryAddr: '198.18.0.1',
            instances: [instanceConfig()],
            syncGroups: [{ name: 'G', members: ['VI_2'] }],
          },
        ],
        seed: 1,
      }),
    { code: 'TND_SIM_SCENARIO' },
  );
});
