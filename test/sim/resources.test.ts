/**
 * Resource groups on a simulated two-node cluster running the real node runtime: each node's group runner follows
 * the elector (its VRRP instance MASTER, VIPs settled) and gives up ownership by failing a weight-0 tracker (FAULT:
 * priority 0, the peer takes over within Skew_Time). Resources are fakes that record which node runs them; all time
 * is simulated.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GroupDef } from '../../src/resources/group-def.ts';
import { GroupRunner } from '../../src/resources/runner.ts';
import { advance, advanceUntil, type FakeBehaviour, FakeWorld, memoryLog } from '../../src/resources/test-support.ts';
import type { SimCluster, SimNodeSpec } from '../../src/sim/cluster.ts';
import { simCluster } from '../../src/sim/cluster.ts';
import type { InstanceOverrides } from '../../src/sim/fixtures.ts';
import { SimClock } from '../../src/sim/sim-clock.ts';
import { node } from './nodes.ts';

const TRACKER = 'group:web';
const RESOURCES = ['vip', 'fs', 'db', 'app'];

/**
 * Two nodes d1 (priority 150) and d2 (100) running VI_1 and group `web` bound to it, on the one cluster harness: the
 * node runtime decides ownership (its elector) and faults VI_1 through the `group:web` tracker on a give-up.
 */
function cluster(opts: {
  vrrp?: InstanceOverrides;
  behaviours?: Record<string, Record<string, FakeBehaviour>>;
  migrationThreshold?: number;
  failureTimeoutMs?: number;
  seed: number;
}) {
  const trackers = [{ id: TRACKER, weight: 0 }];
  const clock = new SimClock();
  const world = { current: new FakeWorld(clock) } as const;
  const log = memoryLog();
  const owner: string[] = [];
  const runners = new Map<string, GroupRunner>();
  const def: GroupDef = {
    name: 'web',
    resources: RESOURCES.map((id) => ({
      id,
      agent: { type: 'script', start: 'true', stop: 'true' },
      monitorIntervalMs: 5_000,
      monitorTimeoutMs: 2_000,
      startTimeoutMs: 10_000,
      stopTimeoutMs: 10_000,
    })),
    migrationThreshold: opts.migrationThreshold ?? 3,
    failureTimeoutMs: opts.failureTimeoutMs ?? 0,
    maintenance: false,
  };
  const withGroup = (spec: SimNodeSpec): SimNodeSpec => ({
    ...spec,
    plan: {
      node: spec.name,
      instances: [...spec.instances],
      syncGroups: [],
      notify: { instances: {}, groups: {} },
      scripts: {},
      trackFiles: {},
      interfaces: [],
      groups: [{ def, owner: { kind: 'instance', name: 'VI_1' } }],
    },
  });
  const c: SimCluster = simCluster({
    nodes: [
      withGroup(node(1, { priority: 150, trackers, ...opts.vrrp })),
      withGroup(node(2, { priority: 100, trackers, ...opts.vrrp })),
    ],
    seed: opts.seed,
    clock,
    groupRunner: (n) => (d, ctx) => {
      const r = new GroupRunner({
        name: d.name,
        resources: d.resources.map((res) => ({
          id: res.id,
          agent: world.current.agent(n, res.id, opts.behaviours?.[n]?.[res.id]),
          monitorIntervalMs: res.monitorIntervalMs,
          monitorTimeoutMs: res.monitorTimeoutMs,
          startTimeoutMs: res.startTimeoutMs,
          stopTimeoutMs: res.stopTimeoutMs,
        })),
        migrationThreshold: d.migrationThreshold,
        failureTimeoutMs: d.failureTimeoutMs,
        clock,
        log: { log: (level, msg, f) => log.log(level, `${n} ${msg}`, f) },
        owner: {
          // The node's side (groups.ts): FAULT the owner instance, so the peer takes over within Skew_Time.
          onGiveUp: (g, why) => {
            owner.push(`${n} give-up ${g} ${why}`);
            ctx.owner.onGiveUp(g, why);
          },
          onReclaim: (g, why) => {
            owner.push(`${n} reclaim ${g} ${why}`);
            ctx.owner.onReclaim?.(g, why);
          },
        },
      });
      runners.set(n, r);
      return r;
    },
  });
  /** Where every resource of the group runs: `d1` when the whole group runs on d1, or per resource. */
  const where = (): string => {
    const on = RESOURCES.map((r) => world.current.runningOn(r).join('+') || '-');
    return on.every((x) => x === on[0]) ? on[0]! : on.join(' ');
  };
  return {
    c,
    world: world.current,
    log,
    owner,
    runners,
    where,
    /** Graceful daemon stop, in the daemon's order: the group stops right to left, then VRRP sends priority 0. */
    async stopNode(n: string): Promise<void> {
      let finished = false;
      void c.stopGracefully(n).then(() => {
        finished = true;
      });
      assert.ok(await advanceUntil(c.clock, () => finished, 60_000), `${n}: group did not stop`);
      runners.delete(n);
    },
    async startNode(n: string): Promise<void> {
      c.start(n);
      await advance(c.clock, 0);
    },
  };
}

test('the group runs on the VRRP master only, started in order, and follows a graceful failover', async () => {
  const t = cluster({ seed: 1 });
  assert.ok(await advanceUntil(t.c.clock, () => t.where() === 'd1', 10_000));
  assert.deepEqual(
    t.world.trail((x) => x.action !== 'monitor'),
    ['d1 start vip', 'd1 start fs', 'd1 start db', 'd1 start app'],
  );
  await t.stopNode('d1');
  assert.ok(await advanceUntil(t.c.clock, () => t.where() === 'd2', 5_000), t.where());
  assert.deepEqual(
    t.world.trail((x) => x.action !== 'monitor').slice(4),
    [
      'd1 stop app',
      'd1 stop db',
      'd1 stop fs',
      'd1 stop vip',
      'd2 start vip',
      'd2 start fs',
      'd2 start db',
      'd2 start app',
    ],
    'd2 starts only after d1 stopped everything',
  );
});

test('a failing start on the master rolls back and fails over to the peer', async () => {
  const t = cluster({
    seed: 2,
    behaviours: { d1: { db: (a) => (a === 'start' ? { code: 'generic-error' } : undefined) } },
  });
  assert.ok(await advanceUntil(t.c.clock, () => t.where() === 'd2', 20_000), t.where());
  assert.deepEqual(
    t.world.trail((x) => x.action !== 'monitor' && x.node === 'd1'),
    ['d1 start vip', 'd1 start fs', 'd1 start db generic-error', 'd1 stop db', 'd1 stop fs', 'd1 stop vip'],
  );
  assert.deepEqual(t.owner, ['d1 give-up web start-failed']);
  assert.deepEqual(t.c.states('VI_1'), { d1: 'FAULT', d2: 'MASTER' });
  // It stays there: d1 is banned and in FAULT.
  await advance(t.c.clock, 60_000);
  assert.equal(t.where(), 'd2');
});

test('a monitor failure restarts in place; at migration_threshold the group moves to the peer', async () => {
  const t = cluster({ seed: 3, migrationThreshold: 2 });
  assert.ok(await advanceUntil(t.c.clock, () => t.where() === 'd1', 10_000));
  t.world.crash('d1', 'db');
  await advance(t.c.clock, 6_000);
  assert.equal(t.where(), 'd1', 'restarted in place');
  assert.equal(t.runners.get('d1')!.status().resources[2]!.failCount, 1);
  t.world.crash('d1', 'db');
  assert.ok(await advanceUntil(t.c.clock, () => t.where() === 'd2', 20_000), t.where());
  assert.deepEqual(t.owner, ['d1 give-up web migration-threshold']);
  assert.ok(t.log.lines.some((l) => l.startsWith('d1 group web: db reached migration_threshold 2')));
});

test('failure_timeout: after the failures expire the node claims the group back (VRRP preempts)', async () => {
  const t = cluster({ seed: 4, migrationThreshold: 1, failureTimeoutMs: 60_000 });
  assert.ok(await advanceUntil(t.c.clock, () => t.where() === 'd1', 10_000));
  t.world.crash('d1', 'app');
  assert.ok(await advanceUntil(t.c.clock, () => t.where() === 'd2', 20_000), t.where());
  assert.ok(await advanceUntil(t.c.clock, () => t.where() === 'd1', 70_000), t.where());
  assert.deepEqual(t.owner, ['d1 give-up web migration-threshold', 'd1 reclaim web failures-expired']);
});

test('auto_failback on (VRRP preempt): the group moves back to the preferred node when it returns', async () => {
  const t = cluster({ seed: 5 });
  assert.ok(await advanceUntil(t.c.clock, () => t.where() === 'd1', 10_000));
  await t.stopNode('d1');
  assert.ok(await advanceUntil(t.c.clock, () => t.where() === 'd2', 5_000));
  await t.startNode('d1');
  assert.ok(await advanceUntil(t.c.clock, () => t.where() === 'd1', 10_000), t.where());
  // d2 stopped everything, right to left.
  assert.deepEqual(
    t.world.trail((x) => x.node === 'd2' && x.action === 'stop'),
    ['d2 stop app', 'd2 stop db', 'd2 stop fs', 'd2 stop vip'],
  );
});

test('auto_failback off (VRRP nopreempt): the group stays on the node that took it over', async () => {
  const t = cluster({ seed: 6, vrrp: { preempt: false } });
  assert.ok(await advanceUntil(t.c.clock, () => t.where() === 'd1', 10_000));
  await t.stopNode('d1');
  assert.ok(await advanceUntil(t.c.clock, () => t.where() === 'd2', 5_000));
  const back = t.c.clock.now();
  await t.startNode('d1');
  await advance(t.c.clock, 30_000);
  assert.equal(t.where(), 'd2');
  assert.deepEqual(t.c.owners('VI_1'), ['d2']);
  // The returning node probed and found nothing of the group running there.
  assert.deepEqual(
    t.world.trail((x) => x.node === 'd1' && x.at >= back),
    [
      'd1 monitor vip not-running',
      'd1 monitor fs not-running',
      'd1 monitor db not-running',
      'd1 monitor app not-running',
    ],
  );
});
