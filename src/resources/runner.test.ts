import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Ms } from '../core/time.ts';
import { SimClock } from '../sim/sim-clock.ts';
import type { GiveUpReason, ReclaimCause } from './plan.ts';
import { GroupRunner, type GroupRunnerOptions, resourceEvents } from './runner.ts';
import { advance, advanceUntil, type FakeBehaviour, FakeWorld, memoryLog } from './test-support.ts';
import type { AgentResultCode } from './types.ts';

/** A group `web` of fake resources r1…rn on node d1, with an owner hook that records what it is told. */
function setup(
  n: number,
  opts: {
    behaviours?: Record<string, FakeBehaviour>;
    over?: Partial<GroupRunnerOptions>;
    monitorIntervalMs?: Ms;
    startTimeoutMs?: Ms;
  } = {},
) {
  const clock = new SimClock();
  const world = new FakeWorld(clock);
  const log = memoryLog();
  const owner: string[] = [];
  const ids = Array.from({ length: n }, (_, i) => `r${i + 1}`);
  const runner = new GroupRunner({
    name: 'web',
    resources: ids.map((id) => ({
      id,
      agent: world.agent('d1', id, opts.behaviours?.[id]),
      monitorIntervalMs: opts.monitorIntervalMs ?? 10_000,
      monitorTimeoutMs: 5_000,
      startTimeoutMs: opts.startTimeoutMs ?? 20_000,
      stopTimeoutMs: 20_000,
    })),
    probe: false,
    clock,
    log,
    owner: {
      onGiveUp: (g: string, why: GiveUpReason) => owner.push(`give-up ${g} ${why}`),
      onReclaim: (g: string, why: ReclaimCause) => owner.push(`reclaim ${g} ${why}`),
      onBlocked: (g: string, r: string, code: AgentResultCode) => owner.push(`blocked ${g} ${r} ${code}`),
    },
    ...opts.over,
  });
  runner.start();
  /** The log lines of starts and stops, without their durations. */
  const actions = (): string[] =>
    log.lines.filter((l) => /: (start|stop) \d+\//.test(l)).map((l) => l.replace(/ in \d+ ms/, ''));
  return { clock, world, log, owner, runner, actions };
}

test('a 4-resource group starts left to right and stops right to left, as its log lines show', async () => {
  const { clock, runner, actions, log } = setup(4);
  runner.setOwner(true);
  await advance(clock, 1_000);
  runner.setOwner(false);
  await advance(clock, 1_000);
  assert.deepEqual(actions(), [
    'group web: start 1/4 fake:r1 (r1): ok',
    'group web: start 2/4 fake:r2 (r2): ok',
    'group web: start 3/4 fake:r3 (r3): ok',
    'group web: start 4/4 fake:r4 (r4): ok',
    'group web: stop 4/4 fake:r4 (r4): ok',
    'group web: stop 3/4 fake:r3 (r3): ok',
    'group web: stop 2/4 fake:r2 (r2): ok',
    'group web: stop 1/4 fake:r1 (r1): ok',
  ]);
  assert.ok(log.lines.includes('group web: start 2/4 fake:r2 (r2): ok in 10 ms'), 'durations come from the clock');
  assert.ok(log.lines.includes('group web: stopped → starting (owner-gained)'));
  assert.ok(log.lines.includes('group web: stopping → stopped (stopped)'));
});

test('a failing third resource is rolled back: stopped 3, 2, 1, then ownership is given up', async () => {
  const { clock, runner, actions, owner, world } = setup(4, {
    behaviours: { r3: (a) => (a === 'start' ? { code: 'generic-error', detail: 'exit 1' } : { code: 'ok' }) },
  });
  runner.setOwner(true);
  await advance(clock, 1_000);
  assert.deepEqual(actions(), [
    'group web: start 1/4 fake:r1 (r1): ok',
    'group web: start 2/4 fake:r2 (r2): ok',
    'group web: start 3/4 fake:r3 (r3): generic-error (exit 1)',
    'group web: stop 3/4 fake:r3 (r3): ok',
    'group web: stop 2/4 fake:r2 (r2): ok',
    'group web: stop 1/4 fake:r1 (r1): ok',
  ]);
  assert.deepEqual(owner, ['give-up web start-failed']);
  assert.deepEqual(world.runningOn('r1'), []);
  assert.equal(runner.status().phase, 'failed');
  assert.equal(runner.status().resources[2]!.failCount, 3);
});

test('a start that outlives start_timeout is aborted and counts as a failed start', async () => {
  const { clock, runner, owner, world } = setup(2, {
    startTimeoutMs: 2_000,
    behaviours: { r2: (a) => (a === 'start' ? 'hang' : { code: 'ok' }) },
  });
  runner.setOwner(true);
  await advance(clock, 2_000 + 10);
  assert.deepEqual(world.trail(), ['d1 start r1', 'd1 start r2 aborted']);
  await advance(clock, 1_000);
  assert.deepEqual(world.trail().slice(2), ['d1 stop r2', 'd1 stop r1']);
  assert.equal(runner.status().resources[1]!.failCount, 3);
  assert.deepEqual(owner, ['give-up web start-failed']);
});

test('a failed monitor restarts in place; reaching migration_threshold stops the group and gives up', async () => {
  const { clock, runner, world, owner } = setup(3, { over: { migrationThreshold: 2 } });
  runner.setOwner(true);
  await advance(clock, 1_000);
  world.crash('d1', 'r2');
  await advance(clock, 10_000);
  assert.deepEqual(world.trail().slice(3), [
    'd1 monitor r1',
    'd1 monitor r2 not-running',
    'd1 stop r3',
    'd1 stop r2',
    'd1 start r2',
    'd1 start r3',
  ]);
  assert.equal(runner.status().resources[1]!.failCount, 1);
  assert.deepEqual(owner, []);
  world.crash('d1', 'r2');
  await advance(clock, 10_000);
  assert.deepEqual(world.trail().slice(9), [
    'd1 monitor r1',
    'd1 monitor r2 not-running',
    'd1 stop r3',
    'd1 stop r2',
    'd1 stop r1',
  ]);
  assert.deepEqual(owner, ['give-up web migration-threshold']);
  assert.equal(runner.status().phase, 'failed');
});

test('failure_timeout forgets failures, lifts the ban and tells the owner it may reclaim', async () => {
  const { clock, runner, world, owner } = setup(1, { over: { migrationThreshold: 1, failureTimeoutMs: 60_000 } });
  runner.setOwner(true);
  await advance(clock, 1_000);
  world.crash('d1', 'r1');
  await advance(clock, 10_000);
  assert.deepEqual(owner, ['give-up web migration-threshold']);
  const failedAt = runner.status().resources[0]!.lastFailureAt!;
  await advanceUntil(clock, () => owner.length > 1, 120_000);
  assert.deepEqual(owner, ['give-up web migration-threshold', 'reclaim web failures-expired']);
  assert.equal(clock.now(), failedAt + 60_000);
  // Still the owner (no peer took over): the group starts again.
  await advance(clock, 100);
  assert.deepEqual(world.runningOn('r1'), ['d1']);
  assert.equal(runner.status().resources[0]!.failCount, 0);
});

test('maintenance: nothing is started or stopped and monitors stop; leaving it probes and converges', async () => {
  const { clock, runner, world } = setup(2);
  runner.setOwner(true);
  await advance(clock, 1_000);
  const before = world.calls.length;
  runner.setMaintenance(true);
  runner.setOwner(false);
  await advance(clock, 60_000);
  assert.equal(world.calls.length, before, 'no call at all in maintenance');
  assert.deepEqual(world.runningOn('r1'), ['d1']);
  runner.setMaintenance(false);
  await advance(clock, 1_000);
  assert.deepEqual(world.trail().slice(before), ['d1 monitor r1', 'd1 monitor r2', 'd1 stop r2', 'd1 stop r1']);
});

test('a stop that fails blocks the group and tells the owner; nothing is retried', async () => {
  const { clock, runner, owner, world } = setup(2, {
    behaviours: { r1: (a) => (a === 'stop' ? { code: 'generic-error' } : { code: 'ok' }) },
  });
  runner.setOwner(true);
  await advance(clock, 1_000);
  runner.setOwner(false);
  await advance(clock, 60_000);
  assert.deepEqual(owner, ['blocked web r1 generic-error']);
  assert.equal(runner.status().phase, 'blocked');
  assert.deepEqual(world.trail(), ['d1 start r1', 'd1 start r2', 'd1 stop r2', 'd1 stop r1 generic-error']);
});

test('shutdown stops right to left and resolves once everything is stopped', async () => {
  const { clock, runner, world } = setup(3);
  runner.setOwner(true);
  await advance(clock, 1_000);
  let done = false;
  const p = runner.shutdown().then(() => {
    done = true;
  });
  await advance(clock, 15);
  assert.equal(done, false, 'still stopping');
  await advance(clock, 100);
  await p;
  assert.deepEqual(world.trail().slice(-3), ['d1 stop r3', 'd1 stop r2', 'd1 stop r1']);
  runner.setOwner(true);
  await advance(clock, 1_000);
  assert.deepEqual(world.runningOn('r1'), [], 'nothing starts after shutdown');
});

test('losing ownership aborts a hanging monitor, so the stop is not held up', async () => {
  const { clock, runner, world } = setup(1, {
    behaviours: { r1: (a) => (a === 'monitor' ? 'hang' : { code: 'ok' }) },
  });
  runner.setOwner(true);
  await advance(clock, 10_100);
  runner.setOwner(false);
  await advance(clock, 100);
  assert.deepEqual(world.trail(), ['d1 start r1', 'd1 monitor r1 aborted', 'd1 stop r1']);
  assert.equal(runner.status().resources[0]!.failCount, 0, 'a cancelled monitor is not a failure');
});

test('a monitor that hangs past monitor_timeout counts as a failure', async () => {
  const { clock, runner, world } = setup(1, {
    behaviours: { r1: (a, n) => (a === 'monitor' && n === 0 ? 'hang' : { code: 'ok' }) },
  });
  runner.setOwner(true);
  await advance(clock, 10_000 + 5_000 + 100);
  assert.deepEqual(world.trail(), ['d1 start r1', 'd1 monitor r1 aborted', 'd1 stop r1', 'd1 start r1']);
  assert.equal(runner.status().resources[0]!.failCount, 1);
  assert.equal(runner.status().resources[0]!.last?.action, 'start');
});

test('an owner hook that reports ownership from inside give-up does not re-enter the plan', async () => {
  const clock = new SimClock();
  const world = new FakeWorld(clock);
  const calls: string[] = [];
  const runner: GroupRunner = new GroupRunner({
    name: 'g',
    resources: [
      {
        id: 'a',
        agent: world.agent('d1', 'a', (act) => (act === 'start' ? { code: 'generic-error' } : { code: 'ok' })),
        monitorIntervalMs: 0,
        monitorTimeoutMs: 1_000,
        startTimeoutMs: 1_000,
        stopTimeoutMs: 1_000,
      },
    ],
    probe: false,
    clock,
    owner: {
      onGiveUp: () => {
        calls.push('give-up');
        runner.setOwner(false); // what a synchronous VRRP FAULT transition does
      },
    },
  });
  runner.start();
  runner.setOwner(true);
  await advance(clock, 1_000);
  assert.deepEqual(calls, ['give-up']);
  assert.equal(runner.status().owned, false);
  assert.equal(runner.status().phase, 'failed');
});

test('probing at start stops leftovers on a node that does not own the group', async () => {
  const clock = new SimClock();
  const world = new FakeWorld(clock);
  world.leave('d1', 'r1');
  const runner = new GroupRunner({
    name: 'g',
    resources: ['r1', 'r2'].map((id) => ({
      id,
      agent: world.agent('d1', id),
      monitorIntervalMs: 10_000,
      monitorTimeoutMs: 1_000,
      startTimeoutMs: 1_000,
      stopTimeoutMs: 1_000,
    })),
    clock,
    owner: { onGiveUp: () => undefined },
  });
  runner.start();
  await advance(clock, 1_000);
  assert.deepEqual(world.trail(), ['d1 monitor r1', 'd1 monitor r2 not-running', 'd1 stop r1']);
  assert.equal(runner.status().phase, 'stopped');
});

test('status and events report each resource with its last result, output and duration', async () => {
  const clock = new SimClock();
  const world = new FakeWorld(clock);
  const events = resourceEvents();
  const seen: string[] = [];
  events.on('resource-action', (e) =>
    seen.push(`${e.action} ${e.resource} ${e.code} ${e.durationMs} ${e.output ?? ''}`),
  );
  events.on('group-transition', (e) => seen.push(`${e.from}→${e.to}`));
  const log = memoryLog();
  const runner = new GroupRunner({
    name: 'g',
    resources: [
      {
        id: 'svc',
        agent: world.agent('d1', 'svc', () => ({ code: 'ok', ms: 35, output: 'Starting svc: done.' })),
        monitorIntervalMs: 0,
        monitorTimeoutMs: 1_000,
        startTimeoutMs: 1_000,
        stopTimeoutMs: 1_000,
      },
    ],
    probe: false,
    clock,
    log,
    events,
    owner: { onGiveUp: () => undefined },
  });
  runner.start();
  runner.setOwner(true);
  await advance(clock, 100);
  assert.deepEqual(seen, ['stopped→starting', 'start svc ok 35 Starting svc: done.', 'starting→running']);
  const st = runner.status();
  assert.equal(st.phase, 'running');
  assert.deepEqual(st.resources[0], {
    id: 'svc',
    agent: 'fake:svc',
    status: 'started',
    failCount: 0,
    lastFailureAt: null,
    last: { action: 'start', code: 'ok', at: 35, durationMs: 35 },
  });
  const rec = log.records.find((r) => r.fields.event === 'resource-action')!;
  assert.equal(rec.fields.output, 'Starting svc: done.');
  assert.ok(log.lines.includes('group g: svc start output: Starting svc: done.'));
});

test('a malformed group is refused with TND_RES_GROUP', () => {
  const clock = new SimClock();
  const world = new FakeWorld(clock);
  const res = (id: string, over = {}) => ({
    id,
    agent: world.agent('d1', id),
    monitorIntervalMs: 0,
    monitorTimeoutMs: 1_000,
    startTimeoutMs: 1_000,
    stopTimeoutMs: 1_000,
    ...over,
  });
  const make = (over: Partial<GroupRunnerOptions>) => () =>
    new GroupRunner({ name: 'g', resources: [res('a')], clock, owner: { onGiveUp: () => undefined }, ...over });
  for (const [over, why] of [
    [{ resources: [] }, /no resources/],
    [{ resources: [res('a'), res('a')] }, /two resources are named a/],
    [{ resources: [res('a', { startTimeoutMs: 0 })] }, /start_timeout/],
    [{ migrationThreshold: 0 }, /migration_threshold/],
  ] as const)
    assert.throws(make(over), (e: unknown) => (e as { code?: string }).code === 'TND_RES_GROUP' && why.test(String(e)));
});

test('probes reach the agent as monitors marked probe; routine monitors are not', async () => {
  const clock = new SimClock();
  const seen: string[] = [];
  const agent = {
    canMonitor: true,
    describe: () => 'probe-recorder',
    start: async () => ({ code: 'ok' as const }),
    stop: async () => ({ code: 'ok' as const }),
    monitor: async (_s: AbortSignal, _t: number, probe?: boolean) => {
      seen.push(probe ? 'probe' : 'monitor');
      return { code: 'not-running' as const };
    },
  };
  const runner = new GroupRunner({
    name: 'g',
    resources: [
      { id: 'x', agent, monitorIntervalMs: 1_000, monitorTimeoutMs: 500, startTimeoutMs: 500, stopTimeoutMs: 500 },
    ],
    clock,
    owner: { onGiveUp: () => undefined },
  });
  runner.start();
  await advance(clock, 10);
  runner.setOwner(true);
  await advance(clock, 1_010);
  assert.deepEqual(seen.slice(0, 2), ['probe', 'monitor']);
});
