/**
 * The takeover guard's sub-states of BACKUP and the pause rule (docs/split-brain.md), as pure decisions the machine
 * (machine.ts) applies. When Master_Down_Timer fires on a guarded backup that last heard a master, the machine does
 * not take over: it asks the node to probe that master over other paths (a `probe` effect) and waits for a verdict.
 *
 * The guard's phase table. These rows are the only phase changes the machine makes (a `guard` effect each);
 * guard.test.ts parses this comment and checks that every row happens and that nothing else does. `-` is "not
 * guarded" (plain BACKUP, or no longer BACKUP).
 *
 * <guard>
 *   from          to            on
 *   -             probing       master-down      Master_Down_Timer fired (guardLeadMs early) for a master not preempted
 *   probing       held          alive            a path says the master is alive: recheck after Master_Adver_Interval
 *   held          probing       recheck          the recheck timer fired
 *   probing       fencing       unconfirmed      no path answered in time and a fence device is configured
 *   probing       fence-failed  unconfirmed      the same, but the last failed fence is too recent to run again
 *   fencing       fence-failed  fence-failed     the agent failed or timed out: no takeover
 *   fence-failed  probing       recheck          the recheck timer fired
 *   probing       -             took-over        dead, unconfirmed without fencing, or not master and we win
 *   probing       -             deferred         not master, and the node answering wins the election itself
 *   fencing       -             took-over-fenced the agent succeeded
 *   probing       -             adverts-resumed  an advert from a master arrived
 *   held          -             adverts-resumed  an advert from a master arrived
 *   fencing       -             adverts-resumed  an advert from a master arrived
 *   fence-failed  -             adverts-resumed  an advert from a master arrived
 *   probing       -             priority-zero    the master released (priority 0)
 *   held          -             priority-zero    the master released (priority 0)
 *   fencing       -             priority-zero    the master released (priority 0)
 *   fence-failed  -             priority-zero    the master released (priority 0)
 *   probing       -             left-backup      the instance left BACKUP otherwise (fault, sync group, takeover)
 *   held          -             left-backup      the instance left BACKUP otherwise
 *   fencing       -             left-backup      the instance left BACKUP otherwise
 *   fence-failed  -             left-backup      the instance left BACKUP otherwise
 * </guard>
 */
import type { Ms } from '../core/time.ts';
import { minSkewTimeMs } from './timers.ts';
import type { InstanceConfig } from './types.ts';

/** Where a guarded backup is. */
export type GuardPhase = 'probing' | 'held' | 'fencing' | 'fence-failed';

/**
 * The verdict of one probe round (election/takeover-guard.ts combines the paths): the master is alive; a tandem
 * node answered that it is not master; every probe was refused; or something timed out.
 */
export type GuardVerdict = 'alive' | 'not-master' | 'dead' | 'unconfirmed';

/** Why the guard let go. */
export type GuardRelease =
  | 'adverts-resumed'
  | 'priority-zero'
  | 'took-over'
  | 'took-over-fenced'
  | 'deferred'
  | 'left-backup';

/** Every GuardRelease, in a fixed order (metrics, tests). */
export const GUARD_RELEASES: readonly GuardRelease[] = [
  'adverts-resumed',
  'priority-zero',
  'took-over',
  'took-over-fenced',
  'deferred',
  'left-backup',
];

/** What changed the phase: a verdict, the recheck timer, a fence result, Master_Down_Timer, or a release. */
export type GuardTrigger = 'master-down' | 'alive' | 'unconfirmed' | 'recheck' | 'fence-failed' | GuardRelease;

/** One row of the phase table. */
export interface GuardRow {
  from: GuardPhase | '-';
  to: GuardPhase | '-';
  on: GuardTrigger;
}

/** The phase table of the module comment, as data (a test keeps the two equal). */
export const GUARD_TABLE: readonly GuardRow[] = [
  { from: '-', to: 'probing', on: 'master-down' },
  { from: 'probing', to: 'held', on: 'alive' },
  { from: 'held', to: 'probing', on: 'recheck' },
  { from: 'probing', to: 'fencing', on: 'unconfirmed' },
  { from: 'probing', to: 'fence-failed', on: 'unconfirmed' },
  { from: 'fencing', to: 'fence-failed', on: 'fence-failed' },
  { from: 'fence-failed', to: 'probing', on: 'recheck' },
  { from: 'probing', to: '-', on: 'took-over' },
  { from: 'probing', to: '-', on: 'deferred' },
  { from: 'fencing', to: '-', on: 'took-over-fenced' },
  ...(['adverts-resumed', 'priority-zero', 'left-backup'] as const).flatMap((on) =>
    (['probing', 'held', 'fencing', 'fence-failed'] as const).map((from) => ({ from, to: '-' as const, on })),
  ),
];

/** The last verdict a guarded backup got. */
export interface GuardVerdictRecord {
  verdict: GuardVerdict;
  /** The paths that decided it (`peer channel`, `icmp`, `tcp:80`), or every path tried for dead/unconfirmed. */
  via: readonly string[];
  detail: string;
  at: Ms;
}

/** A guarded backup's state: plain data, part of InstanceState. */
export interface GuardState {
  phase: GuardPhase;
  /** The master being asked about (the one last heard). */
  master: { addr: string; priority: number };
  /** The current probe or fence round; a verdict or fence result of another round is stale. */
  round: number;
  /** When Master_Down_Timer fired and the guard engaged. */
  since: Ms;
  /** Probe rounds since it engaged. */
  rounds: number;
  last: GuardVerdictRecord | null;
  /** After a failed fence: the agent runs again no sooner than this. */
  fenceRetryAt: Ms | null;
  /** Why the last fence failed, while fenceRetryAt is set. */
  fenceFailure?: string;
}

/** A verdict as the node feeds it to the machine. */
export interface GuardVerdictInput {
  round: number;
  verdict: GuardVerdict;
  via: readonly string[];
  detail: string;
  /** For `not-master`: the answering node's priority and address, for the election tie-break. */
  remote?: { priority: number; addr: string };
}

/**
 * Whether Master_Down_Timer engages the guard rather than the takeover: the guard is configured and this backup heard
 * a master since it became backup (not a startup without a master, not after a priority-0 release) that it does not
 * preempt (a lower-priority master we still hear is preempted as RFC 5798 §6.4.2 says, unguarded).
 */
export function guardEngages(
  cfg: Pick<InstanceConfig, 'guard' | 'preempt'>,
  master: { priority: number } | null,
  effectivePriority: number,
  owner: boolean,
): boolean {
  if (!cfg.guard || !master) return false;
  const preempting = (cfg.preempt || owner) && master.priority < effectivePriority;
  return !preempting;
}

/** What the machine does with a verdict in `probing`. */
export type GuardDecision = 'hold' | 'take-over' | 'fence' | 'wait-fence-retry' | 'defer';

/**
 * Decides on a verdict. `remoteWins`: for `not-master`, the answering node would win the election (higher priority, or
 * equal and a higher address), so it will take over itself and we let it.
 */
export function decideVerdict(
  cfg: Pick<InstanceConfig, 'guard'>,
  g: Pick<GuardState, 'fenceRetryAt'>,
  verdict: GuardVerdict,
  remoteWins: boolean,
  now: Ms,
): GuardDecision {
  if (verdict === 'alive') return 'hold';
  if (verdict === 'not-master') return remoteWins ? 'defer' : 'take-over';
  if (verdict === 'dead' || !cfg.guard?.fence) return 'take-over';
  return g.fenceRetryAt !== null && now < g.fenceRetryAt ? 'wait-fence-retry' : 'fence';
}

/**
 * How late a timer may fire before the machine treats the time as lost to a pause (SIGSTOP, a frozen VM, a long GC):
 * the shortest Master_Down_Interval any backup can have, `down_timer_adverts × Master_Adver_Interval` plus the
 * smallest skew. A master paused that long may have been replaced.
 */
export function pauseThresholdMs(
  cfg: Pick<InstanceConfig, 'version' | 'downTimerAdverts'>,
  masterAdverIntervalMs: Ms,
): Ms {
  return cfg.downTimerAdverts * masterAdverIntervalMs + minSkewTimeMs(cfg.version, masterAdverIntervalMs);
}

/**
 * How much earlier than Master_Down_Interval a guarded backup's Master_Down_Timer fires: the probe deadline, so the
 * verdict is due when plain VRRP would take over and a real death costs no extra time; at most Master_Down_Interval
 * less one advert interval, so the backup still waits for a few lost adverts before it asks.
 */
export function guardLeadMs(cfg: Pick<InstanceConfig, 'guard'>, masterDownMs: Ms, masterAdverIntervalMs: Ms): Ms {
  if (!cfg.guard) return 0;
  return Math.max(0, Math.min(cfg.guard.timeoutMs, masterDownMs - masterAdverIntervalMs));
}

/** The guard's default probe deadline: the advert interval, within 50 ms..1 s. */
export function defaultGuardTimeoutMs(advertIntervalMs: Ms): Ms {
  return Math.min(1000, Math.max(50, advertIntervalMs));
}

/** The backstop after a probe or fence deadline: a node that never reports cannot strand the instance. */
export function guardBackstopMs(timeoutMs: Ms): Ms {
  return Math.max(50, timeoutMs);
}
