import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Ms } from '../core/time.ts';
import {
  GROUP_TRANSITIONS,
  type GroupEffect,
  type GroupEvent,
  type GroupPlanConfig,
  type GroupState,
  type GroupTransitionRow,
  initialGroupState,
  isSettled,
  type PlanAction,
  step,
} from './plan.ts';
import { AGENT_RESULT_CODES, type AgentResultCode } from './types.ts';

/** A group of `n` resources r1…rn, monitored every 10 s. */
function group(n: number, over: Partial<GroupPlanConfig> = {}): GroupPlanConfig {
  return {
    name: 'web',
    resources: Array.from({ length: n }, (_, i) => ({ id: `r${i + 1}`, monitorIntervalMs: 10_000 })),
    migrationThreshold: 3,
    failureTimeoutMs: 0,
    ...over,
  };
}

/** Every transition any test in this file made, as `from to cause`: the last test checks every row was reached. */
const reached = new Set<string>();
const rowKey = (r: GroupTransitionRow): string => `${r.from} ${r.to} ${r.cause}`;

/** Who answers the plan's `run` effects: the result code for an action on resource `index` (0-based). */
type Answer = (action: PlanAction, index: number) => AgentResultCode | 'hold';
const allOk: Answer = () => 'ok';

/**
 * Drives the plan like a runner would, with instant agents: every `run` is answered at once by `answer`. Records
 * actions as `start r1`, plus give-up / reclaim / blocked / transitions.
 */
class Drive {
  s: GroupState;
  now: Ms = 0;
  readonly trail: string[] = [];
  readonly effects: GroupEffect[] = [];
  answer: Answer = allOk;

  constructor(
    readonly cfg: GroupPlanConfig,
    opts: { probe?: boolean; maintenance?: boolean } = {},
  ) {
    this.s = initialGroupState(cfg, { probe: opts.probe ?? false, maintenance: opts.maintenance ?? false });
  }

  /** Feeds one event, then answers every action it leads to, until the plan waits for an event again. */
  feed(ev: GroupEvent): this {
    const queue: GroupEvent[] = [ev];
    for (let guard = 0; queue.length > 0; guard++) {
      assert.ok(guard < 1_000, 'the plan never settles');
      const next = queue.shift()!;
      const { state, effects } = step(this.cfg, this.s, next, this.now);
      this.s = state;
      this.effects.push(...effects);
      for (const e of effects) {
        if (e.kind === 'run') {
          const id = this.cfg.resources[e.index]!.id;
          const code = this.answer(e.action, e.index);
          if (code === 'hold') {
            this.trail.push(`${e.action} ${id} …`);
            continue;
          }
          this.trail.push(`${e.action} ${id}${code === 'ok' ? '' : ` → ${code}`}`);
          queue.push({ kind: 'result', op: e.op, action: e.action, index: e.index, code });
        } else if (e.kind === 'give-up') this.trail.push(`give-up ${e.reason}`);
        else if (e.kind === 'reclaim') this.trail.push(`reclaim ${e.cause}`);
        else if (e.kind === 'blocked') this.trail.push(`blocked ${this.cfg.resources[e.index]!.id}`);
        else if (e.kind === 'transition') reached.add(rowKey(e));
      }
    }
    return this;
  }

  /** Advances time to `t` and delivers a tick (what the runner's wake timer does). */
  at(t: Ms): this {
    this.now = t;
    return this.feed({ kind: 'tick' });
  }

  /** Answers the action held in flight with `code`. */
  finish(code: AgentResultCode): this {
    const f = this.s.inFlight;
    assert.ok(f, 'nothing in flight');
    this.trail.push(`→ ${code}`);
    return this.feed({ kind: 'result', ...f, code });
  }

  take(): string[] {
    return this.trail.splice(0);
  }

  get statuses(): string[] {
    return this.s.resources.map((r) => r.status);
  }
}

test('the transition table in the module comment is GROUP_TRANSITIONS', () => {
  const src = readFileSync(new URL('./plan.ts', import.meta.url), 'utf8');
  const body = src.slice(src.indexOf('<transitions>'), src.indexOf('</transitions>'));
  const rows: GroupTransitionRow[] = [];
  for (const line of body.split('\n').slice(2)) {
    const m = /^\s*\*\s+([a-z]+)\s+([a-z]+)\s+([a-z-]+)\s/.exec(line);
    if (m) rows.push({ from: m[1], to: m[2], cause: m[3] } as GroupTransitionRow);
  }
  assert.deepEqual(rows, GROUP_TRANSITIONS);
});

test('a group starts left to right when this node becomes the owner', () => {
  const d = new Drive(group(4)).feed({ kind: 'owner-gained' });
  assert.deepEqual(d.take(), ['start r1', 'start r2', 'start r3', 'start r4']);
  assert.equal(d.s.phase, 'running');
});

test('a group stops right to left when ownership is lost, and on shutdown', () => {
  const d = new Drive(group(4)).feed({ kind: 'owner-gained' });
  d.take();
  d.feed({ kind: 'owner-lost' });
  assert.deepEqual(d.take(), ['stop r4', 'stop r3', 'stop r2', 'stop r1']);
  assert.equal(d.s.phase, 'stopped');
  d.feed({ kind: 'owner-gained' }).take();
  d.feed({ kind: 'shutdown' });
  assert.deepEqual(d.take(), ['stop r4', 'stop r3', 'stop r2', 'stop r1']);
  assert.ok(isSettled(d.s));
  d.feed({ kind: 'owner-gained' });
  assert.deepEqual(d.take(), [], 'after shutdown nothing starts again');
});

test('a failed start stops what started, in reverse (the failed one first), then gives up ownership', () => {
  const d = new Drive(group(4));
  d.answer = (a, i) => (a === 'start' && i === 2 ? 'generic-error' : 'ok');
  d.feed({ kind: 'owner-gained' });
  assert.deepEqual(d.take(), [
    'start r1',
    'start r2',
    'start r3 → generic-error',
    'stop r3',
    'stop r2',
    'stop r1',
    'give-up start-failed',
  ]);
  assert.equal(d.s.phase, 'failed');
  assert.equal(d.s.resources[2]!.failCount, 3, 'a start failure counts as migration_threshold failures');
});

test('give-up comes only after every stop finished, not when the start failed', () => {
  const d = new Drive(group(2));
  d.answer = (a, i) => (a === 'start' && i === 1 ? 'timeout' : 'ok');
  d.feed({ kind: 'owner-gained' });
  const kinds = d.effects.filter((e) => e.kind === 'run' || e.kind === 'give-up');
  assert.equal(kinds.at(-1)?.kind, 'give-up');
});

test('a banned group does not start again on this node while it stays owner', () => {
  const d = new Drive(group(2));
  d.answer = (a, i) => (a === 'start' && i === 1 ? 'generic-error' : 'ok');
  d.feed({ kind: 'owner-gained' }).take();
  d.answer = allOk;
  d.feed({ kind: 'owner-lost' }).feed({ kind: 'owner-gained' });
  assert.deepEqual(d.take(), []);
  assert.equal(d.s.phase, 'failed');
});

test('a monitor failure restarts that resource and those right of it, counting one failure', () => {
  const d = new Drive(group(4)).feed({ kind: 'owner-gained' });
  d.take();
  d.answer = (a, i) => (a === 'monitor' && i === 1 ? 'not-running' : 'ok');
  d.at(10_000);
  d.answer = allOk;
  assert.deepEqual(d.take(), [
    'monitor r1',
    'monitor r2 → not-running',
    'stop r4',
    'stop r3',
    'stop r2',
    'start r2',
    'start r3',
    'start r4',
  ]);
  assert.equal(d.s.phase, 'running');
  assert.equal(d.s.resources[1]!.failCount, 1);
});

test('monitor failures reaching migration_threshold stop the whole group and give up ownership', () => {
  const d = new Drive(group(3, { migrationThreshold: 2 })).feed({ kind: 'owner-gained' });
  d.take();
  d.answer = (a, i) => (a === 'monitor' && i === 2 ? 'generic-error' : 'ok');
  d.at(10_000);
  assert.deepEqual(d.take(), ['monitor r1', 'monitor r2', 'monitor r3 → generic-error', 'stop r3', 'start r3']);
  d.at(20_000);
  assert.deepEqual(d.take(), [
    'monitor r1',
    'monitor r2',
    'monitor r3 → generic-error',
    'stop r3',
    'stop r2',
    'stop r1',
    'give-up migration-threshold',
  ]);
  assert.equal(d.s.phase, 'failed');
});

test('a monitor that returns a hard error moves the group away at once', () => {
  const d = new Drive(group(2)).feed({ kind: 'owner-gained' });
  d.take();
  d.answer = (a, i) => (a === 'monitor' && i === 0 ? 'not-installed' : 'ok');
  d.at(10_000);
  assert.deepEqual(d.take(), ['monitor r1 → not-installed', 'stop r2', 'stop r1', 'give-up hard-error']);
});

test('failures older than failure_timeout are forgotten before counting a new one', () => {
  const d = new Drive(group(1, { migrationThreshold: 2, failureTimeoutMs: 60_000 })).feed({ kind: 'owner-gained' });
  d.answer = (a) => (a === 'monitor' ? 'not-running' : 'ok');
  d.at(10_000);
  assert.equal(d.s.resources[0]!.failCount, 1);
  d.answer = allOk;
  // The expiry at 70 s forgets the failure…
  d.at(70_000);
  assert.equal(d.s.resources[0]!.failCount, 0);
  // …so a failure at 80 s is the first again, not the second.
  d.answer = (a) => (a === 'monitor' ? 'not-running' : 'ok');
  d.at(80_000);
  assert.equal(d.s.resources[0]!.failCount, 1);
  assert.equal(d.s.phase, 'running');
});

test('with failure_timeout 0 failures are never forgotten', () => {
  const d = new Drive(group(1, { migrationThreshold: 3 })).feed({ kind: 'owner-gained' });
  d.answer = (a) => (a === 'monitor' ? 'not-running' : 'ok');
  d.at(10_000);
  d.answer = allOk;
  d.at(1_000_000_000);
  assert.equal(d.s.resources[0]!.failCount, 1);
});

test('a ban ends when failure_timeout passes: the owner is told to reclaim, and the group starts again', () => {
  const d = new Drive(group(2, { failureTimeoutMs: 30_000 }));
  d.answer = (a, i) => (a === 'start' && i === 1 ? 'generic-error' : 'ok');
  d.feed({ kind: 'owner-gained' });
  assert.deepEqual(d.take().slice(-1), ['give-up start-failed']);
  assert.equal(d.s.wakeAt, 30_000);
  d.answer = allOk;
  d.at(30_000);
  assert.deepEqual(d.take(), ['reclaim failures-expired', 'start r1', 'start r2']);
  assert.equal(d.s.phase, 'running');
});

test('a ban that ends while not the owner leaves the group stopped and eligible', () => {
  const d = new Drive(group(1, { failureTimeoutMs: 30_000 }));
  d.answer = (a) => (a === 'start' ? 'generic-error' : 'ok');
  d.feed({ kind: 'owner-gained' });
  d.take();
  d.feed({ kind: 'owner-lost' });
  d.at(30_000);
  assert.deepEqual(d.take(), ['reclaim failures-expired']);
  assert.equal(d.s.phase, 'stopped');
});

test('cleanup clears a ban at once', () => {
  const d = new Drive(group(1));
  d.answer = (a) => (a === 'start' ? 'generic-error' : 'ok');
  d.feed({ kind: 'owner-gained' });
  d.take();
  d.answer = allOk;
  d.feed({ kind: 'cleanup' });
  assert.deepEqual(d.take(), ['reclaim cleanup', 'start r1']);
});

test('a failed stop blocks the group: no more stops, no restart loop, no give-up', () => {
  const d = new Drive(group(3)).feed({ kind: 'owner-gained' });
  d.take();
  d.answer = (a, i) => (a === 'stop' && i === 1 ? 'timeout' : 'ok');
  d.feed({ kind: 'owner-lost' });
  assert.deepEqual(d.take(), ['stop r3', 'stop r2 → timeout', 'blocked r2']);
  assert.equal(d.s.phase, 'blocked');
  d.feed({ kind: 'owner-gained' }).at(100_000).feed({ kind: 'owner-lost' });
  assert.deepEqual(d.take(), []);
  assert.equal(
    d.effects.some((e) => e.kind === 'give-up'),
    false,
  );
});

test('cleanup after a blocked stop probes again and converges', () => {
  const d = new Drive(group(2)).feed({ kind: 'owner-gained' });
  d.take();
  d.answer = (a, i) => (a === 'stop' && i === 1 ? 'generic-error' : 'ok');
  d.feed({ kind: 'owner-lost' });
  d.take();
  // The operator stopped r2 by hand; its probe says so.
  d.answer = (a, i) => (a === 'probe' && i === 1 ? 'not-running' : 'ok');
  d.feed({ kind: 'cleanup' });
  assert.deepEqual(d.take(), ['probe r2 → not-running', 'stop r1']);
  assert.equal(d.s.phase, 'stopped');
});

test('a stop returning not-running or not-installed counts as stopped', () => {
  for (const code of ['not-running', 'not-installed'] as const) {
    const d = new Drive(group(1)).feed({ kind: 'owner-gained' });
    d.answer = (a) => (a === 'stop' ? code : 'ok');
    d.feed({ kind: 'owner-lost' });
    assert.equal(d.s.phase, 'stopped', code);
  }
});

test('maintenance: neither start nor stop, monitors suspended', () => {
  const d = new Drive(group(2)).feed({ kind: 'owner-gained' });
  d.take();
  d.feed({ kind: 'maintenance', on: true });
  assert.equal(d.s.wakeAt, null, 'no monitor wake-up');
  d.feed({ kind: 'owner-lost' }).at(60_000).feed({ kind: 'owner-gained' }).feed({ kind: 'shutdown' });
  assert.deepEqual(d.take(), []);
  assert.equal(d.s.phase, 'maintenance');
  assert.ok(isSettled(d.s), 'shutdown in maintenance leaves everything as it is');
});

test('leaving maintenance probes every resource, then converges on what ownership says', () => {
  const d = new Drive(group(3)).feed({ kind: 'owner-gained' });
  d.take();
  d.feed({ kind: 'maintenance', on: true });
  // Meanwhile an operator stopped r3 by hand.
  d.answer = (a, i) => (a === 'probe' && i === 2 ? 'not-running' : 'ok');
  d.feed({ kind: 'maintenance', on: false });
  assert.deepEqual(d.take(), ['probe r1', 'probe r2', 'probe r3 → not-running', 'start r3']);
  assert.equal(d.s.phase, 'running');
});

test('a banned group that leaves maintenance probes, finds everything stopped, and stays failed', () => {
  const d = new Drive(group(2));
  d.answer = (a, i) => (a === 'start' && i === 1 ? 'generic-error' : 'ok');
  d.feed({ kind: 'owner-gained' });
  d.take();
  d.feed({ kind: 'maintenance', on: true });
  d.answer = (a) => (a === 'probe' ? 'not-running' : 'ok');
  d.feed({ kind: 'maintenance', on: false });
  assert.deepEqual(d.take(), ['probe r1 → not-running', 'probe r2 → not-running']);
  assert.equal(d.s.phase, 'failed');
  assert.equal(d.s.lastTransition?.cause, 'probed');
});

test('a stop begun before maintenance that fails after maintenance ended blocks the group', () => {
  const d = new Drive(group(1)).feed({ kind: 'owner-gained' });
  d.answer = () => 'hold';
  d.feed({ kind: 'owner-lost' });
  d.feed({ kind: 'maintenance', on: true }).feed({ kind: 'maintenance', on: false });
  assert.equal(d.s.phase, 'probing', 'the stop in flight decides what is known');
  d.finish('generic-error');
  assert.equal(d.s.phase, 'blocked');
  assert.equal(d.s.lastTransition?.cause, 'stop-failed');
});

test('a ban that ends while its stops are still running turns the stop into a recovery', () => {
  const d = new Drive(group(2, { failureTimeoutMs: 5_000 }));
  d.answer = (a, i) => (a === 'start' && i === 1 ? 'generic-error' : a === 'stop' ? 'hold' : 'ok');
  d.feed({ kind: 'owner-gained' });
  assert.equal(d.s.phase, 'stopping');
  d.at(5_000);
  assert.equal(d.s.phase, 'recovering', 'still owned: r2 is stopped, then started again');
  d.answer = allOk;
  d.take();
  d.finish('ok');
  assert.deepEqual(d.take(), ['→ ok', 'start r2']);
  assert.equal(d.s.phase, 'running');
});

test('cleanup of a blocked group during maintenance leaves it in maintenance', () => {
  const d = new Drive(group(1)).feed({ kind: 'owner-gained' });
  d.answer = () => 'generic-error';
  d.feed({ kind: 'owner-lost' });
  assert.equal(d.s.phase, 'blocked');
  d.feed({ kind: 'maintenance', on: true });
  assert.equal(d.s.phase, 'blocked', 'a blocked group shows as blocked even in maintenance');
  d.feed({ kind: 'cleanup' });
  assert.equal(d.s.phase, 'maintenance');
});

test('a group loaded in maintenance does nothing until maintenance ends', () => {
  const d = new Drive(group(2), { probe: true, maintenance: true });
  d.feed({ kind: 'tick' }).feed({ kind: 'owner-gained' });
  assert.deepEqual(d.take(), []);
  d.answer = (a) => (a === 'probe' ? 'not-running' : 'ok');
  d.feed({ kind: 'maintenance', on: false });
  assert.deepEqual(d.take(), ['probe r1 → not-running', 'probe r2 → not-running', 'start r1', 'start r2']);
});

test('probes at load: a node that does not own the group stops leftovers, right to left', () => {
  const d = new Drive(group(3), { probe: true });
  d.answer = (a, i) => (a === 'probe' && i < 2 ? 'ok' : a === 'probe' ? 'not-running' : 'ok');
  d.feed({ kind: 'tick' });
  assert.deepEqual(d.take(), ['probe r1', 'probe r2', 'probe r3 → not-running', 'stop r2', 'stop r1']);
  assert.equal(d.s.phase, 'stopped');
});

test('probes at load: an owner does not start what already runs', () => {
  const d = new Drive(group(3), { probe: true });
  d.answer = (a, i) => (a === 'probe' && i === 2 ? 'not-running' : 'ok');
  d.feed({ kind: 'owner-gained' });
  assert.deepEqual(d.take(), ['probe r1', 'probe r2', 'probe r3 → not-running', 'start r3']);
});

test('probes at load: a running resource right of a stopped one is stopped before the gap is filled', () => {
  const d = new Drive(group(3), { probe: true });
  d.answer = (a, i) => (a === 'probe' && i === 1 ? 'not-running' : 'ok');
  d.feed({ kind: 'owner-gained' });
  assert.deepEqual(d.take(), ['probe r1', 'probe r2 → not-running', 'probe r3', 'stop r3', 'start r2', 'start r3']);
});

test('ownership lost mid-start: the start in flight finishes, then everything stops right to left', () => {
  const cfg = group(3);
  let s = initialGroupState(cfg, { probe: false });
  let r = step(cfg, s, { kind: 'owner-gained' }, 0);
  s = r.state;
  const run1 = r.effects.find((e) => e.kind === 'run')!;
  s = step(cfg, s, { kind: 'result', op: (run1 as { op: number }).op, action: 'start', index: 0, code: 'ok' }, 5).state;
  const inFlight = s.inFlight!;
  assert.deepEqual([inFlight.action, inFlight.index], ['start', 1]);
  r = step(cfg, s, { kind: 'owner-lost' }, 6);
  s = r.state;
  assert.equal(s.phase, 'stopping');
  assert.equal(
    r.effects.some((e) => e.kind === 'abort' || e.kind === 'run'),
    false,
    'a start is never aborted',
  );
  r = step(cfg, s, { kind: 'result', op: inFlight.op, action: 'start', index: 1, code: 'ok' }, 9);
  assert.deepEqual(
    r.effects
      .filter((e) => e.kind === 'run')
      .map((e) => [(e as { action: string }).action, (e as { index: number }).index]),
    [['stop', 1]],
  );
});

test('ownership lost during a monitor aborts the monitor, and its late failure is not counted', () => {
  const cfg = group(2);
  const d = new Drive(cfg).feed({ kind: 'owner-gained' });
  d.now = 10_000;
  const r = step(cfg, d.s, { kind: 'tick' }, 10_000);
  const mon = r.effects.find((e) => e.kind === 'run') as { op: number; action: PlanAction; index: number };
  assert.equal(mon.action, 'monitor');
  const lost = step(cfg, r.state, { kind: 'owner-lost' }, 10_001);
  assert.deepEqual(
    lost.effects.filter((e) => e.kind === 'abort'),
    [{ kind: 'abort', op: mon.op }],
  );
  const late = step(cfg, lost.state, { kind: 'result', ...mon, code: 'generic-error' }, 10_002);
  assert.equal(late.state.resources[0]!.failCount, 0);
  assert.equal(late.state.phase, 'stopping');
});

test('a result for an action nothing waits for is ignored', () => {
  const cfg = group(1);
  const s = initialGroupState(cfg, { probe: false });
  const r = step(cfg, s, { kind: 'result', op: 99, action: 'start', index: 0, code: 'ok' }, 0);
  assert.deepEqual(r.state.resources, s.resources);
  assert.equal(r.effects[0]?.kind, 'log');
});

test('monitors run one at a time, each on its own interval, only while running', () => {
  const cfg: GroupPlanConfig = {
    ...group(2),
    resources: [
      { id: 'fast', monitorIntervalMs: 1_000 },
      { id: 'never', monitorIntervalMs: 0 },
    ],
  };
  const d = new Drive(cfg).feed({ kind: 'owner-gained' });
  d.take();
  for (let t = 1_000; t <= 3_000; t += 1_000) d.at(t);
  assert.deepEqual(d.take(), ['monitor fast', 'monitor fast', 'monitor fast']);
  d.feed({ kind: 'owner-lost' });
  d.take();
  assert.equal(d.s.wakeAt, null);
});

test('step never modifies the state it is given', () => {
  const cfg = group(2);
  const s = initialGroupState(cfg, { probe: true });
  const before = JSON.stringify(s);
  step(cfg, s, { kind: 'owner-gained' }, 0);
  step(cfg, s, { kind: 'tick' }, 0);
  assert.equal(JSON.stringify(s), before);
});

// Exploration: random event sequences against random agents. Every transition must be a row of the table, the
// started resources always form a prefix while nothing is in flight, and over all runs every row must occur.
const eventArb = fc.oneof(
  fc.constant<GroupEvent>({ kind: 'owner-gained' }),
  fc.constant<GroupEvent>({ kind: 'owner-lost' }),
  fc.constant<GroupEvent>({ kind: 'tick' }),
  fc.constant<GroupEvent>({ kind: 'cleanup' }),
  fc.constant<GroupEvent>({ kind: 'shutdown' }),
  fc.boolean().map<GroupEvent>((on) => ({ kind: 'maintenance', on })),
  // "answer the action in flight", three times as likely as any other event
  ...Array.from({ length: 3 }, () =>
    fc.constant<GroupEvent>({ kind: 'result', op: -1, action: 'start', index: 0, code: 'ok' }),
  ),
);

// Agents mostly succeed, so that runs get far enough to fail in interesting places.
const codeArb = fc.oneof(
  { arbitrary: fc.constant<AgentResultCode>('ok'), weight: 8 },
  { arbitrary: fc.constantFrom(...AGENT_RESULT_CODES), weight: 2 },
);

test('random event sequences only make transitions listed in the table', () => {
  const allowed = new Set(GROUP_TRANSITIONS.map(rowKey));
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 4 }),
      fc.boolean(),
      fc.boolean(),
      fc.array(fc.tuple(eventArb, codeArb, fc.integer({ min: 0, max: 40_000 })), { maxLength: 80 }),
      (n, probe, maint, script) => {
        const cfg = group(n, { migrationThreshold: 2, failureTimeoutMs: 50_000 });
        let s = initialGroupState(cfg, { probe, maintenance: maint });
        let now = 0;
        const feed = (ev: GroupEvent): void => {
          const r = step(cfg, s, ev, now);
          for (const e of r.effects) {
            if (e.kind !== 'transition') continue;
            const k = rowKey(e);
            assert.ok(allowed.has(k), `unlisted transition: ${k}`);
            reached.add(k);
          }
          s = r.state;
          if (!s.inFlight && !s.maintenance) {
            const st = s.resources.map((x) => x.status);
            const firstNot = st.findIndex((x) => x !== 'started');
            if (firstNot >= 0 && !st.includes('stop-failed') && !st.includes('unknown'))
              assert.ok(
                st.slice(firstNot).every((x) => x !== 'started'),
                `not a prefix: ${st.join(',')}`,
              );
          }
        };
        feed({ kind: 'tick' });
        for (const [ev, code, dt] of script) {
          now += dt;
          if (ev.kind === 'result') {
            if (s.inFlight) feed({ kind: 'result', ...s.inFlight, code });
          } else feed(ev);
        }
      },
    ),
    { seed: 5, numRuns: 5_000 },
  );
});

test('every row of the transition table is made by some test above', () => {
  const missing = GROUP_TRANSITIONS.map(rowKey).filter((k) => !reached.has(k));
  assert.deepEqual(missing, [], 'rows never reached');
});
