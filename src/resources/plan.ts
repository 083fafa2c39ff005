/**
 * The resource group plan: a pure reducer `(config, state, event, now) → { state, effects }` (Rule 1) that decides
 * what to start, stop and monitor, in which order, and what to do after a failure. It runs nothing: a runner
 * (runner.ts) carries out its `run` effects one at a time and feeds the results back as events.
 *
 * The rules (heartbeat's ResourceManager and Pacemaker's groups):
 * - A group runs here while this node owns it (`owner-gained`), is not shutting down, and is not banned.
 * - Start left→right; stop right→left. Only a prefix of the group ever runs: before resource i starts, everything
 *   right of it that is not stopped is stopped first (right→left).
 * - A failed start (any code but `ok`) is fatal, as Pacemaker's start-failure-is-fatal: its fail count jumps to
 *   migration_threshold, the group stops right→left (the failed resource first: its state is unknown), and once
 *   everything is stopped the owner is told to give up ownership (`give-up`), so a peer takes over.
 * - A failed monitor counts one failure of that resource and restarts it in place: it and everything right of it
 *   are stopped right→left, then started left→right again. When the count reaches migration_threshold, or the
 *   monitor returned a hard error (not installed, not configured, …), the whole group stops and ownership is given up.
 * - failure_timeout (0 = never): once this long has passed since a resource's last failure, its fail count is
 *   forgotten (Pacemaker: the whole count expires, not one failure at a time). A group banned by its fail counts
 *   becomes eligible again and the owner is told it may reclaim ownership (`reclaim`); so is `cleanup` (operator).
 * - A failed stop blocks the group (Pacemaker without fencing: unmanaged, fence needed): nothing more is started,
 *   stopped or monitored, and ownership is not given up, because a peer that started the group while a resource
 *   could not be stopped here might run it twice. An operator fixes the resource and runs `cleanup`.
 * - Maintenance: neither start nor stop; monitors are suspended. Leaving maintenance probes every resource (a monitor
 *   to learn its state, as Pacemaker re-probes) before managing the group again.
 * - Probes: with `probe` set, a new group starts by learning what already runs here (a daemon restarted after a crash),
 *   so a node that does not own the group stops leftovers, and an owner does not start twice.
 *
 * Phases are not set by hand: after every event the phase is computed from the state (the start or stop in flight, else
 * what the next action would be), and a change becomes a `transition` effect carrying the event's cause.
 *
 * Transition table. These rows are the only transitions `step` produces: plan.test.ts parses this comment, checks it
 * against GROUP_TRANSITIONS, and explores random event sequences to check that no other transition happens.
 *
 * <transitions>
 *   from         to           cause              when
 *   probing      stopped      probed             every resource was found stopped and the group is not owned here
 *   probing      starting     probed             owned, and the resources found running form a prefix
 *   probing      running      probed             owned, and every resource was found running
 *   probing      recovering   probed             owned, and a resource was found failed, or running right of a gap
 *   probing      stopping     probed             not owned, and a resource was found running or failed
 *   probing      failed       probed             banned, and everything was found stopped
 *   probing      maintenance  maintenance-on     maintenance began
 *   probing      blocked      stop-failed        a stop begun before maintenance ended failed
 *   stopped      starting     owner-gained       this node became the owner
 *   stopped      maintenance  maintenance-on     maintenance began
 *   starting     running      started            the last resource started
 *   starting     stopping     owner-lost         ownership was lost while starting
 *   starting     stopping     shutdown           the daemon is shutting down
 *   starting     stopping     start-failed       a start failed: stop what runs, then give up ownership
 *   starting     maintenance  maintenance-on     maintenance began
 *   running      recovering   monitor-failed     a monitor failed below migration_threshold: restart in place
 *   running      stopping     migration-threshold  a monitor failure reached migration_threshold
 *   running      stopping     hard-error         a monitor returned a hard error (not installed, not configured, …)
 *   running      stopping     owner-lost         ownership was lost
 *   running      stopping     shutdown           the daemon is shutting down
 *   running      maintenance  maintenance-on     maintenance began
 *   recovering   starting     stopped            the failed resource and those right of it are stopped
 *   recovering   stopping     owner-lost         ownership was lost while recovering
 *   recovering   stopping     shutdown           the daemon is shutting down
 *   recovering   blocked      stop-failed        a stop failed
 *   recovering   maintenance  maintenance-on     maintenance began
 *   stopping     stopped      stopped            the last running resource stopped
 *   stopping     failed       stopped            the last running resource stopped and the group is banned here
 *   stopping     starting     owner-gained       ownership came back while stopping
 *   stopping     recovering   owner-gained       ownership came back while a failed resource still had to stop
 *   stopping     running      owner-gained       ownership came back before anything stopped (a monitor was aborted)
 *   stopping     recovering   failures-expired   failure_timeout ended the ban during a stop; still owned: restart
 *   stopping     recovering   cleanup            an operator cleared the failures during a stop, still owned: the same
 *   stopping     blocked      stop-failed        a stop failed
 *   stopping     maintenance  maintenance-on     maintenance began
 *   failed       starting     failures-expired   failure_timeout passed and this node still owns the group
 *   failed       stopped      failures-expired   failure_timeout passed; not the owner
 *   failed       starting     cleanup            an operator cleared the failures; still the owner
 *   failed       stopped      cleanup            an operator cleared the failures; not the owner
 *   failed       maintenance  maintenance-on     maintenance began
 *   blocked      probing      cleanup            an operator cleared the failed stop: learn the state again
 *   blocked      maintenance  cleanup            the same, during maintenance
 *   maintenance  probing      maintenance-off    maintenance ended: learn the state again
 *   maintenance  blocked      stop-failed        a stop begun before maintenance failed
 * </transitions>
 */
import type { Ms } from '../core/time.ts';
import { type AgentResultCode, HARD_ERRORS } from './types.ts';

/** What the group is doing, computed from its state after every event. */
export type GroupPhase =
  | 'probing'
  | 'stopped'
  | 'starting'
  | 'running'
  | 'recovering'
  | 'stopping'
  | 'failed'
  | 'blocked'
  | 'maintenance';

/**
 * What is known of one resource. `failed`: a start, monitor or probe found it broken; its state is unknown and it
 * must be stopped before anything else. `stop-failed`: a stop failed; the group is blocked.
 */
export type ResourceStatus = 'unknown' | 'stopped' | 'starting' | 'started' | 'stopping' | 'failed' | 'stop-failed';

/** An action the plan asks for. `probe` is the agent's monitor run to learn the state. */
export type PlanAction = 'start' | 'stop' | 'monitor' | 'probe';

/** Why the owner is asked to give up ownership. */
export type GiveUpReason = 'start-failed' | 'migration-threshold' | 'hard-error';

/** Why the owner may claim ownership again. */
export type ReclaimCause = 'failures-expired' | 'cleanup';

/** Why a transition happened: a closed set that flows unchanged to logs, metrics and the API (Rule 5). */
export type GroupCause =
  | 'probed'
  | 'owner-gained'
  | 'owner-lost'
  | 'shutdown'
  | 'maintenance-on'
  | 'maintenance-off'
  | 'started'
  | 'start-failed'
  | 'stopped'
  | 'stop-failed'
  | 'monitor-ok'
  | 'monitor-failed'
  | 'migration-threshold'
  | 'hard-error'
  | 'failures-expired'
  | 'cleanup'
  | 'tick'
  | 'stale-result';

/** Why the plan wrote a log line. */
export type PlanLogCause =
  | 'failure-counted'
  | 'failures-expired'
  | 'start-failed'
  | 'stop-failed'
  | 'stop-assumed'
  | 'migration-threshold'
  | 'hard-error'
  | 'give-up'
  | 'reclaim'
  | 'stale-result';

/** One resource as the plan sees it. */
export interface ResourcePlanConfig {
  /** Name in logs. */
  id: string;
  /** Monitor period; 0 = never monitored. */
  monitorIntervalMs: Ms;
}

/** The frozen part of a group the plan needs. */
export interface GroupPlanConfig {
  name: string;
  resources: readonly ResourcePlanConfig[];
  /** Failures of one resource that move the group away. @default 3 */
  migrationThreshold: number;
  /** Forget a resource's failures this long after its last one; 0 = never. @default 0 */
  failureTimeoutMs: Ms;
}

/** The last action result of a resource. */
export interface LastResult {
  action: PlanAction;
  code: AgentResultCode;
  at: Ms;
}

/** The runtime state of one resource: plain, serialisable data (Rule 6). */
export interface ResourceState {
  status: ResourceStatus;
  /** Failures counted against migration_threshold. */
  failCount: number;
  lastFailureAt: Ms | null;
  /** When the next monitor is due; null = none scheduled (not running, no monitoring, or one in flight). */
  monitorAt: Ms | null;
  last: LastResult | null;
}

/** The action the runner is carrying out for the plan. */
export interface InFlight {
  op: number;
  action: PlanAction;
  index: number;
}

/** The runtime state of one group: plain, serialisable data that survives a reload (Rule 6). */
export interface GroupState {
  phase: GroupPhase;
  /** What the elector says: this node owns the group. */
  owned: boolean;
  maintenance: boolean;
  /** Shutdown was asked for: the group never starts again. */
  shutdown: boolean;
  /** Why the group is banned here, while any fail count is at migration_threshold; null = not banned. */
  banReason: GiveUpReason | null;
  /** The give-up told to the owner and not yet taken back by a reclaim. */
  gaveUp: GiveUpReason | null;
  inFlight: InFlight | null;
  /** The op number of the next action. */
  nextOp: number;
  /** The wake-up the runner has armed (next monitor, or next failure expiry); null = none. */
  wakeAt: Ms | null;
  resources: ResourceState[];
  lastTransition: { at: Ms; from: GroupPhase; to: GroupPhase; cause: GroupCause } | null;
}

/** What the plan is told. */
export type GroupEvent =
  | { kind: 'owner-gained' }
  | { kind: 'owner-lost' }
  | { kind: 'shutdown' }
  | { kind: 'maintenance'; on: boolean }
  /** The result of the action with number `op` (action and index repeat what the `run` effect said). */
  | { kind: 'result'; op: number; action: PlanAction; index: number; code: AgentResultCode }
  /** The wake-up timer fired: run due monitors, forget expired failures. */
  | { kind: 'tick' }
  /** An operator cleared every failure and a blocked stop (`tandem resource cleanup`). */
  | { kind: 'cleanup' };

/** What the plan asks for, as data. */
export type GroupEffect =
  /** Call the agent of resource `index` (a `probe` calls its monitor); report back with a `result` event. */
  | { kind: 'run'; op: number; action: PlanAction; index: number }
  /** Abort the call with number `op` (a monitor or probe no longer wanted); its result still comes back. */
  | { kind: 'abort'; op: number }
  /** Arm the one wake-up timer at `at` (replacing the previous one); null = disarm. */
  | { kind: 'wake'; at: Ms | null }
  /** Everything is stopped after a fatal failure: lower the owner's priority / enter fault so a peer takes over. */
  | { kind: 'give-up'; reason: GiveUpReason }
  /** The ban ended: the owner may restore its priority and claim ownership again. */
  | { kind: 'reclaim'; cause: ReclaimCause }
  /** A stop failed: the group is blocked until cleanup (fence or operator needed). */
  | { kind: 'blocked'; index: number; code: AgentResultCode }
  | { kind: 'transition'; from: GroupPhase; to: GroupPhase; cause: GroupCause }
  | { kind: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; cause: PlanLogCause; index?: number; text: string };

/** One row of the transition table. */
export interface GroupTransitionRow {
  from: GroupPhase;
  to: GroupPhase;
  cause: GroupCause;
}

/** The transition table of the module comment, as data (a test keeps the two equal). */
export const GROUP_TRANSITIONS: readonly GroupTransitionRow[] = [
  { from: 'probing', to: 'stopped', cause: 'probed' },
  { from: 'probing', to: 'starting', cause: 'probed' },
  { from: 'probing', to: 'running', cause: 'probed' },
  { from: 'probing', to: 'recovering', cause: 'probed' },
  { from: 'probing', to: 'stopping', cause: 'probed' },
  { from: 'probing', to: 'failed', cause: 'probed' },
  { from: 'probing', to: 'maintenance', cause: 'maintenance-on' },
  { from: 'probing', to: 'blocked', cause: 'stop-failed' },
  { from: 'stopped', to: 'starting', cause: 'owner-gained' },
  { from: 'stopped', to: 'maintenance', cause: 'maintenance-on' },
  { from: 'starting', to: 'running', cause: 'started' },
  { from: 'starting', to: 'stopping', cause: 'owner-lost' },
  { from: 'starting', to: 'stopping', cause: 'shutdown' },
  { from: 'starting', to: 'stopping', cause: 'start-failed' },
  { from: 'starting', to: 'maintenance', cause: 'maintenance-on' },
  { from: 'running', to: 'recovering', cause: 'monitor-failed' },
  { from: 'running', to: 'stopping', cause: 'migration-threshold' },
  { from: 'running', to: 'stopping', cause: 'hard-error' },
  { from: 'running', to: 'stopping', cause: 'owner-lost' },
  { from: 'running', to: 'stopping', cause: 'shutdown' },
  { from: 'running', to: 'maintenance', cause: 'maintenance-on' },
  { from: 'recovering', to: 'starting', cause: 'stopped' },
  { from: 'recovering', to: 'stopping', cause: 'owner-lost' },
  { from: 'recovering', to: 'stopping', cause: 'shutdown' },
  { from: 'recovering', to: 'blocked', cause: 'stop-failed' },
  { from: 'recovering', to: 'maintenance', cause: 'maintenance-on' },
  { from: 'stopping', to: 'stopped', cause: 'stopped' },
  { from: 'stopping', to: 'failed', cause: 'stopped' },
  { from: 'stopping', to: 'starting', cause: 'owner-gained' },
  { from: 'stopping', to: 'recovering', cause: 'owner-gained' },
  { from: 'stopping', to: 'running', cause: 'owner-gained' },
  { from: 'stopping', to: 'recovering', cause: 'failures-expired' },
  { from: 'stopping', to: 'recovering', cause: 'cleanup' },
  { from: 'stopping', to: 'blocked', cause: 'stop-failed' },
  { from: 'stopping', to: 'maintenance', cause: 'maintenance-on' },
  { from: 'failed', to: 'starting', cause: 'failures-expired' },
  { from: 'failed', to: 'stopped', cause: 'failures-expired' },
  { from: 'failed', to: 'starting', cause: 'cleanup' },
  { from: 'failed', to: 'stopped', cause: 'cleanup' },
  { from: 'failed', to: 'maintenance', cause: 'maintenance-on' },
  { from: 'blocked', to: 'probing', cause: 'cleanup' },
  { from: 'blocked', to: 'maintenance', cause: 'cleanup' },
  { from: 'maintenance', to: 'probing', cause: 'maintenance-off' },
  { from: 'maintenance', to: 'blocked', cause: 'stop-failed' },
];

/** Options of {@link initialGroupState}. */
export interface InitialOptions {
  /** Learn each resource's state with a probe before managing it; false = assume all stopped. @default true */
  probe?: boolean;
  /** Start in maintenance (the group's `maintenance: true`). @default false */
  maintenance?: boolean;
}

/**
 * The state of a group the daemon just loaded: not owned, nothing in flight. Feed it a `tick` to start the probes.
 * @example const { state, effects } = step(cfg, initialGroupState(cfg), { kind: 'tick' }, now)
 */
export function initialGroupState(cfg: GroupPlanConfig, opts: InitialOptions = {}): GroupState {
  const status: ResourceStatus = (opts.probe ?? true) ? 'unknown' : 'stopped';
  const s: GroupState = {
    phase: 'stopped',
    owned: false,
    maintenance: opts.maintenance ?? false,
    shutdown: false,
    banReason: null,
    gaveUp: null,
    inFlight: null,
    nextOp: 1,
    wakeAt: null,
    resources: cfg.resources.map(() => ({ status, failCount: 0, lastFailureAt: null, monitorAt: null, last: null })),
    lastTransition: null,
  };
  s.phase = phaseOf(cfg, s);
  return s;
}

/**
 * Applies one event. Pure: the same arguments always give the same result, and `state` is not modified.
 * @example const { state, effects } = step(cfg, s, { kind: 'owner-gained' }, clock.now())
 */
export function step(
  cfg: GroupPlanConfig,
  state: GroupState,
  event: GroupEvent,
  now: Ms,
): { state: GroupState; effects: GroupEffect[] } {
  const s = cloneState(state);
  const fx: GroupEffect[] = [];
  const cause = apply(cfg, s, event, now, fx);
  schedule(cfg, s, now, fx);
  const phase = phaseOf(cfg, s);
  if (phase !== s.phase) {
    fx.push({ kind: 'transition', from: s.phase, to: phase, cause });
    s.lastTransition = { at: now, from: s.phase, to: phase, cause };
    s.phase = phase;
  }
  if (phase === 'failed' && s.banReason !== null && s.gaveUp === null) {
    s.gaveUp = s.banReason;
    fx.push({ kind: 'give-up', reason: s.banReason });
    fx.push({ kind: 'log', level: 'warn', cause: 'give-up', text: `giving up ownership (${s.banReason})` });
  }
  const wake = nextWake(cfg, s);
  if (wake !== s.wakeAt) {
    s.wakeAt = wake;
    fx.push({ kind: 'wake', at: wake });
  }
  return { state: s, effects: fx };
}

/** Whether the group should run here now. */
export function wantsRun(s: GroupState): boolean {
  return s.owned && !s.shutdown && s.banReason === null;
}

/** Whether nothing is in flight and nothing more will happen without an event: what shutdown waits for. */
export function isSettled(s: GroupState): boolean {
  return s.inFlight === null && ['stopped', 'failed', 'blocked', 'maintenance'].includes(s.phase);
}

/** Updates the state for one event; returns the cause any transition it leads to carries. */
function apply(cfg: GroupPlanConfig, s: GroupState, ev: GroupEvent, now: Ms, fx: GroupEffect[]): GroupCause {
  switch (ev.kind) {
    case 'owner-gained':
      s.owned = true;
      return 'owner-gained';
    case 'owner-lost':
      s.owned = false;
      abortMonitor(s, fx);
      return 'owner-lost';
    case 'shutdown':
      s.shutdown = true;
      abortMonitor(s, fx);
      return 'shutdown';
    case 'maintenance':
      if (ev.on) {
        s.maintenance = true;
        abortMonitor(s, fx, true);
        return 'maintenance-on';
      }
      if (s.maintenance) {
        s.maintenance = false;
        // What ran or stopped while unmanaged is unknown: probe again, as Pacemaker does after maintenance mode.
        // A start or stop still in flight sets its resource's status when its result comes.
        for (const r of s.resources) {
          if (r.status !== 'stop-failed') r.status = 'unknown';
          r.monitorAt = null;
        }
      }
      return 'maintenance-off';
    case 'tick':
      s.wakeAt = null;
      return expireFailures(cfg, s, now, fx) ? 'failures-expired' : 'tick';
    case 'cleanup':
      for (const r of s.resources) {
        r.failCount = 0;
        r.lastFailureAt = null;
        if (r.status === 'stop-failed') r.status = 'unknown';
      }
      unban(s, 'cleanup', fx);
      return 'cleanup';
    case 'result':
      return applyResult(cfg, s, ev, now, fx);
  }
}

function applyResult(
  cfg: GroupPlanConfig,
  s: GroupState,
  ev: Extract<GroupEvent, { kind: 'result' }>,
  now: Ms,
  fx: GroupEffect[],
): GroupCause {
  const f = s.inFlight;
  if (!f || f.op !== ev.op || f.action !== ev.action || f.index !== ev.index) {
    fx.push({
      kind: 'log',
      level: 'debug',
      cause: 'stale-result',
      index: ev.index,
      text: `ignored a ${ev.action} result (op ${ev.op}) nothing waits for`,
    });
    return 'stale-result';
  }
  s.inFlight = null;
  const i = f.index;
  const r = s.resources[i]!;
  // A start or stop begun before maintenance ended finishes a probe: its result is what is now known.
  if (r.status === 'unknown' && (f.action === 'start' || f.action === 'stop')) {
    const cause = applyAction(cfg, s, ev, now, fx, f);
    return cause === 'stop-failed' ? cause : 'probed';
  }
  return applyAction(cfg, s, ev, now, fx, f);
}

function applyAction(
  cfg: GroupPlanConfig,
  s: GroupState,
  ev: Extract<GroupEvent, { kind: 'result' }>,
  now: Ms,
  fx: GroupEffect[],
  f: InFlight,
): GroupCause {
  const i = f.index;
  const r = s.resources[i]!;
  const rc = cfg.resources[i]!;
  const code = ev.code;
  r.last = { action: f.action, code, at: now };
  const interval = rc.monitorIntervalMs;
  const monitorFrom = (t: Ms): Ms | null => (interval > 0 ? t + interval : null);

  switch (f.action) {
    case 'probe':
      if (code === 'cancelled') return 'probed'; // stays unknown; probed again when managed
      if (code === 'ok') {
        r.status = 'started';
        r.monitorAt = monitorFrom(now);
      } else if (code === 'not-running' || code === 'not-installed' || code === 'unimplemented') {
        // Pacemaker: a probe that finds the agent missing means the resource cannot be running here.
        r.status = 'stopped';
      } else {
        r.status = 'failed';
      }
      return 'probed';

    case 'start':
      if (code === 'ok') {
        r.status = 'started';
        r.monitorAt = monitorFrom(now);
        return 'started';
      }
      r.status = 'failed';
      r.monitorAt = null;
      r.failCount = Math.max(r.failCount, cfg.migrationThreshold);
      r.lastFailureAt = now;
      fx.push({
        kind: 'log',
        level: 'error',
        cause: 'start-failed',
        index: i,
        text: `start of ${rc.id} failed (${code}): stopping the group and giving up ownership`,
      });
      ban(s, HARD_ERRORS.has(code) ? 'hard-error' : 'start-failed');
      return 'start-failed';

    case 'stop':
      if (code === 'ok' || code === 'not-running' || code === 'not-installed') {
        if (code !== 'ok')
          fx.push({
            kind: 'log',
            level: 'info',
            cause: 'stop-assumed',
            index: i,
            text: `stop of ${rc.id} returned ${code}: taken as stopped`,
          });
        r.status = 'stopped';
        r.monitorAt = null;
        return 'stopped';
      }
      r.status = 'stop-failed';
      r.monitorAt = null;
      fx.push({ kind: 'blocked', index: i, code });
      fx.push({
        kind: 'log',
        level: 'error',
        cause: 'stop-failed',
        index: i,
        text: `stop of ${rc.id} failed (${code}): group blocked, nothing more is started or stopped; fix, then cleanup`,
      });
      return 'stop-failed';

    case 'monitor': {
      if (code === 'cancelled') {
        r.monitorAt = monitorFrom(now);
        return 'monitor-ok';
      }
      if (code === 'ok') {
        r.monitorAt = monitorFrom(now);
        return 'monitor-ok';
      }
      r.status = 'failed';
      r.monitorAt = null;
      // A failure that arrives after ownership went away is not counted: the group is stopping anyway.
      if (!wantsRun(s)) return 'monitor-failed';
      if (cfg.failureTimeoutMs > 0 && r.lastFailureAt !== null && now >= r.lastFailureAt + cfg.failureTimeoutMs)
        r.failCount = 0;
      const hard = HARD_ERRORS.has(code);
      r.failCount = hard ? Math.max(r.failCount + 1, cfg.migrationThreshold) : r.failCount + 1;
      r.lastFailureAt = now;
      fx.push({
        kind: 'log',
        level: 'warn',
        cause: 'failure-counted',
        index: i,
        text: `monitor of ${rc.id} failed (${code}): failure ${r.failCount}/${cfg.migrationThreshold}`,
      });
      if (hard) {
        fx.push({
          kind: 'log',
          level: 'error',
          cause: 'hard-error',
          index: i,
          text: `${rc.id} cannot run here (${code}): stopping the group and giving up ownership`,
        });
        ban(s, 'hard-error');
        return 'hard-error';
      }
      if (r.failCount >= cfg.migrationThreshold) {
        fx.push({
          kind: 'log',
          level: 'warn',
          cause: 'migration-threshold',
          index: i,
          text: `${rc.id} reached migration_threshold ${cfg.migrationThreshold}: stopping the group, giving up`,
        });
        ban(s, 'migration-threshold');
        return 'migration-threshold';
      }
      return 'monitor-failed';
    }
  }
}

function ban(s: GroupState, reason: GiveUpReason): void {
  if (s.banReason === null) s.banReason = reason;
}

/** Lifts the ban when no fail count is at the threshold any more; tells the owner if it had given up. */
function unban(s: GroupState, cause: ReclaimCause, fx: GroupEffect[]): boolean {
  if (s.banReason === null) return false;
  s.banReason = null;
  if (s.gaveUp !== null) {
    s.gaveUp = null;
    fx.push({ kind: 'reclaim', cause });
    fx.push({ kind: 'log', level: 'info', cause: 'reclaim', text: `may own the group again (${cause})` });
  }
  return true;
}

/** Forgets fail counts older than failure_timeout; true when that lifted the ban. */
function expireFailures(cfg: GroupPlanConfig, s: GroupState, now: Ms, fx: GroupEffect[]): boolean {
  if (cfg.failureTimeoutMs <= 0) return false;
  s.resources.forEach((r, i) => {
    if (r.failCount > 0 && r.lastFailureAt !== null && now >= r.lastFailureAt + cfg.failureTimeoutMs) {
      fx.push({
        kind: 'log',
        level: 'info',
        cause: 'failures-expired',
        index: i,
        text: `forgot ${r.failCount} failure(s) of ${cfg.resources[i]!.id} (failure_timeout ${cfg.failureTimeoutMs}ms)`,
      });
      r.failCount = 0;
      r.lastFailureAt = null;
    }
  });
  if (s.banReason !== null && s.resources.every((r) => r.failCount < cfg.migrationThreshold))
    return unban(s, 'failures-expired', fx);
  return false;
}

/** Aborts a monitor in flight (and a probe too, with `probes`: maintenance suspends them; a stop still needs them). */
function abortMonitor(s: GroupState, fx: GroupEffect[], probes = false): void {
  const f = s.inFlight;
  if (f && (f.action === 'monitor' || (probes && f.action === 'probe'))) fx.push({ kind: 'abort', op: f.op });
}

/** The next start, stop or probe, from the statuses (what is in flight counted as done). */
function intent(s: GroupState): { action: 'start' | 'stop' | 'probe'; index: number } | null {
  const st = s.resources.map((r) =>
    r.status === 'starting' ? 'started' : r.status === 'stopping' ? 'stopped' : r.status,
  );
  const unknown = st.findIndex((x, i) => x === 'unknown' && s.inFlight?.index !== i);
  if (unknown >= 0) return { action: 'probe', index: unknown };
  // The one unknown resource is in flight (a probe, or a start/stop begun before maintenance ended): wait for it.
  const inFlightUnknown = st.indexOf('unknown');
  if (inFlightUnknown >= 0) return { action: 'probe', index: inFlightUnknown };
  const highestNotStopped = (from: number): number => {
    for (let i = st.length - 1; i >= from; i--) if (st[i] !== 'stopped') return i;
    return -1;
  };
  if (wantsRun(s)) {
    const p = st.findIndex((x) => x !== 'started');
    if (p < 0) return null;
    const j = highestNotStopped(p);
    return j >= 0 ? { action: 'stop', index: j } : { action: 'start', index: p };
  }
  const j = highestNotStopped(0);
  return j >= 0 ? { action: 'stop', index: j } : null;
}

/** The phase the state is in. */
export function phaseOf(_cfg: GroupPlanConfig, s: GroupState): GroupPhase {
  if (s.resources.some((r) => r.status === 'stop-failed')) return 'blocked';
  if (s.maintenance) return 'maintenance';
  const next = intent(s);
  if (next?.action === 'probe') return 'probing';
  const busy = s.inFlight?.action === 'start' || s.inFlight?.action === 'stop' ? s.inFlight.action : null;
  if (wantsRun(s)) {
    const now = busy ?? next?.action ?? null;
    return now === null ? 'running' : now === 'start' ? 'starting' : 'recovering';
  }
  if (busy !== null || next !== null) return 'stopping';
  return s.banReason !== null ? 'failed' : 'stopped';
}

/** When idle and managing: starts the next action, or the most overdue monitor. */
function schedule(cfg: GroupPlanConfig, s: GroupState, now: Ms, fx: GroupEffect[]): void {
  if (s.inFlight || s.maintenance || s.resources.some((r) => r.status === 'stop-failed')) return;
  const next = intent(s);
  if (next) {
    const r = s.resources[next.index]!;
    if (next.action === 'start') r.status = 'starting';
    if (next.action === 'stop') r.status = 'stopping';
    dispatch(s, next.action, next.index, fx);
    return;
  }
  if (!wantsRun(s)) return;
  let due = -1;
  s.resources.forEach((r, i) => {
    if (r.monitorAt !== null && r.monitorAt <= now && (due < 0 || r.monitorAt < s.resources[due]!.monitorAt!)) due = i;
  });
  if (due >= 0 && cfg.resources[due]!.monitorIntervalMs > 0) {
    s.resources[due]!.monitorAt = null;
    dispatch(s, 'monitor', due, fx);
  }
}

function dispatch(s: GroupState, action: PlanAction, index: number, fx: GroupEffect[]): void {
  const op = s.nextOp++;
  s.inFlight = { op, action, index };
  fx.push({ kind: 'run', op, action, index });
}

/** The earliest future moment something is due: a monitor (while running and idle) or a failure expiry. */
function nextWake(cfg: GroupPlanConfig, s: GroupState): Ms | null {
  let at: Ms | null = null;
  const consider = (t: Ms): void => {
    if (at === null || t < at) at = t;
  };
  if (!s.maintenance && !s.inFlight && wantsRun(s) && s.phase === 'running')
    for (const r of s.resources) if (r.monitorAt !== null) consider(r.monitorAt);
  if (cfg.failureTimeoutMs > 0)
    for (const r of s.resources)
      if (r.failCount > 0 && r.lastFailureAt !== null) consider(r.lastFailureAt + cfg.failureTimeoutMs);
  return at;
}

function cloneState(s: GroupState): GroupState {
  return {
    ...s,
    inFlight: s.inFlight ? { ...s.inFlight } : null,
    resources: s.resources.map((r) => ({ ...r, last: r.last ? { ...r.last } : null })),
    lastTransition: s.lastTransition ? { ...s.lastTransition } : null,
  };
}
