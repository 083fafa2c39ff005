/**
 * The VRRP instance state machine: a pure reducer `(config, state, input, now) → { state, effects }` (Rule 1).
 * RFC 3768 / RFC 5798 / RFC 9568 §6.4 plus keepalived's FAULT state, tracking, preempt_delay and sync groups.
 * It reads no clock, arms no timer and touches no socket: it returns what to do as data, and a driver
 * (instance.ts) does it.
 *
 * Transition table. These rows are the only transitions `step` produces: machine.test.ts parses this comment and
 * checks that every row happens and that exhaustive input from every reachable state produces no other.
 *
 * <transitions>
 *   from    to      cause                          when
 *   INIT    MASTER  owner                          startup with priority 255 (RFC 5798 §6.4.1)
 *   INIT    BACKUP  startup                        startup with priority < 255 (RFC 5798 §6.4.1)
 *   INIT    FAULT   tracker-fault                  startup while a weight-0 tracker is failed (keepalived)
 *   INIT    FAULT   sync-group                     startup while another sync group member is faulted (keepalived)
 *   BACKUP  MASTER  master-down                    Master_Down_Timer fired (RFC 5798 §6.4.2)
 *   BACKUP  MASTER  priority-change                setPriority made this instance the address owner
 *   BACKUP  MASTER  sync-group                     another member of the sync group became MASTER (keepalived)
 *   BACKUP  MASTER  fenced                         the guard could not confirm the master's death; fencing it worked
 *   BACKUP  FAULT   tracker-fault                  a weight-0 tracker failed (keepalived)
 *   BACKUP  FAULT   sync-group                     another member of the sync group is faulted (keepalived)
 *   BACKUP  INIT    shutdown                       Shutdown event (RFC 5798 §6.4.2)
 *   MASTER  BACKUP  higher-priority                advert with a higher priority (RFC 5798 §6.4.3)
 *   MASTER  BACKUP  equal-priority-higher-address  advert with our priority from a higher address (RFC 5798 §6.4.3)
 *   MASTER  BACKUP  sync-group                     another member of the sync group left MASTER (keepalived)
 *   MASTER  BACKUP  standby                        setPriority with release (tandem standby); sends priority 0
 *   MASTER  BACKUP  paused                         a timer fired later than any Master_Down_Interval: a pause
 *   MASTER  FAULT   tracker-fault                  a weight-0 tracker failed; sends priority 0 (keepalived)
 *   MASTER  FAULT   sync-group                     another member is faulted; sends priority 0 (keepalived)
 *   MASTER  INIT    shutdown                       Shutdown event; sends priority 0 (RFC 5798 §6.4.3)
 *   FAULT   BACKUP  tracker-recovered              every weight-0 tracker is up again (keepalived)
 *   FAULT   BACKUP  sync-group                     the sync group left FAULT (keepalived)
 *   FAULT   MASTER  owner                          the address owner left FAULT (keepalived)
 *   FAULT   INIT    shutdown                       Shutdown event
 * </transitions>
 *
 * A guarded backup (docs/split-brain.md) has sub-states of BACKUP with a table of their own in guard.ts: there,
 * Master_Down_Timer leads to a `probe` effect, and BACKUP → MASTER (master-down or fenced) follows the verdict.
 *
 * Make-before-break handover (docs/handover.md): a master that leaves on purpose (standby, a graceful stop fed with
 * `handover`) or loses the election to a higher-priority advert (a takeover, a preempting master come back) has a
 * sub-state of MASTER, `handover`: it stops advertising its priority (a leaving master sends priority 0 every advert
 * interval until a new master speaks; a beaten one sends nothing), sends no gratuitous ARP, and keeps its VIPs until
 * {@link handoverLingerMs} after it first hears the new master's advert (time for the new master to add the VIPs and
 * announce them), or until {@link handoverDeadlineMs} when no new master is heard. Only then do the VIPs go and the
 * row of the table (MASTER → BACKUP standby / higher-priority / equal-priority-higher-address, MASTER → INIT
 * shutdown) happen. A fault, a sync-group order or a pause ends it at once, as before.
 */

import { parseIpv4, parseIpv6, stripZone } from '../core/inet.ts';
import type { Ms } from '../core/time.ts';
import {
  decideVerdict,
  type GuardPhase,
  type GuardRelease,
  type GuardState,
  type GuardTrigger,
  type GuardVerdict,
  type GuardVerdictInput,
  guardBackstopMs,
  guardEngages,
  guardLeadMs,
  pauseThresholdMs,
} from './guard.ts';
import { masterDownIntervalMs, minSkewTimeMs, skewTimeMs } from './timers.ts';
import type { InstanceConfig, VipConfig, VrrpPacket, VrrpState } from './types.ts';

/** The timers an instance runs: Adver_Timer, Master_Down_Timer, and the delayed/refresh gratuitous ARP timer. */
export type TimerName = 'advert' | 'masterDown' | 'garp' | 'guard' | 'handover';

/** Why a transition happened: a closed set that flows unchanged to logs, metrics and the API (Rule 5). */
export type TransitionCause =
  | 'startup'
  | 'owner'
  | 'master-down'
  | 'higher-priority'
  | 'equal-priority-higher-address'
  | 'priority-change'
  | 'tracker-fault'
  | 'tracker-recovered'
  | 'sync-group'
  | 'standby'
  | 'shutdown'
  | 'fenced'
  | 'paused';

/** One row of the transition table. */
export interface TransitionRow {
  from: VrrpState;
  to: VrrpState;
  cause: TransitionCause;
}

/** The transition table of the module comment, as data (a test keeps the two equal). */
export const TRANSITIONS: readonly TransitionRow[] = [
  { from: 'INIT', to: 'MASTER', cause: 'owner' },
  { from: 'INIT', to: 'BACKUP', cause: 'startup' },
  { from: 'INIT', to: 'FAULT', cause: 'tracker-fault' },
  { from: 'INIT', to: 'FAULT', cause: 'sync-group' },
  { from: 'BACKUP', to: 'MASTER', cause: 'master-down' },
  { from: 'BACKUP', to: 'MASTER', cause: 'priority-change' },
  { from: 'BACKUP', to: 'MASTER', cause: 'sync-group' },
  { from: 'BACKUP', to: 'MASTER', cause: 'fenced' },
  { from: 'BACKUP', to: 'FAULT', cause: 'tracker-fault' },
  { from: 'BACKUP', to: 'FAULT', cause: 'sync-group' },
  { from: 'BACKUP', to: 'INIT', cause: 'shutdown' },
  { from: 'MASTER', to: 'BACKUP', cause: 'higher-priority' },
  { from: 'MASTER', to: 'BACKUP', cause: 'equal-priority-higher-address' },
  { from: 'MASTER', to: 'BACKUP', cause: 'sync-group' },
  { from: 'MASTER', to: 'BACKUP', cause: 'standby' },
  { from: 'MASTER', to: 'BACKUP', cause: 'paused' },
  { from: 'MASTER', to: 'FAULT', cause: 'tracker-fault' },
  { from: 'MASTER', to: 'FAULT', cause: 'sync-group' },
  { from: 'MASTER', to: 'INIT', cause: 'shutdown' },
  { from: 'FAULT', to: 'BACKUP', cause: 'tracker-recovered' },
  { from: 'FAULT', to: 'BACKUP', cause: 'sync-group' },
  { from: 'FAULT', to: 'MASTER', cause: 'owner' },
  { from: 'FAULT', to: 'INIT', cause: 'shutdown' },
];

/** Why the machine ignored an advert it was given (the codec's drops happen before; these are the machine's own). */
export type AdvertDiscard =
  /** INIT and FAULT ignore adverts (keepalived). */
  | 'not-running'
  /** A preempting backup, or a master, discards a lower-priority advert (RFC 5798 §6.4.2, §6.4.3). */
  | 'lower-priority'
  /** An advert with our priority from our own address: a looped-back packet or a duplicate address. */
  | 'own-address'
  // Defensive repeats of the codec's matchAdvert, so that a driver that skips it cannot confuse the machine.
  | 'vrid'
  | 'family'
  | 'version-mismatch'
  | 'interval-mismatch';

/** A transition with when and why it happened. */
export interface TransitionRecord {
  at: Ms;
  from: VrrpState;
  to: VrrpState;
  cause: TransitionCause;
}

/**
 * The runtime state of one instance: plain, serialisable data that survives a reload (Rule 6). Config stays in
 * {@link InstanceConfig}; counters live with the driver.
 */
export interface InstanceState {
  state: VrrpState;
  /** Our primary address (the advert source), used to break priority ties; null before startup. */
  primaryAddr: string | null;
  /** A runtime base priority set by `setPriority` (standby/takeover, two-owner repair); null = the configured one. */
  priorityOverride: number | null;
  /** Base priority plus tracker weights, clamped to 1..254; 255 for the address owner, which is not tracked. */
  effectivePriority: number;
  /** Each configured tracker's last reported state, by id; true = up. Trackers start up. */
  trackers: Readonly<Record<string, boolean>>;
  /** A weight-0 tracker is failed (this instance's own fault). */
  trackerFault: boolean;
  /** Held in FAULT because another member of the sync group is faulted. */
  syncFault: boolean;
  /** Master_Adver_Interval: v3 learns it from the master's adverts; otherwise the configured interval. */
  masterAdverIntervalMs: Ms;
  /** The master we last heard (BACKUP), or null. */
  master: { addr: string; priority: number } | null;
  /** Deadline of each armed timer, or null. */
  timers: Readonly<Record<TimerName, Ms | null>>;
  /** keepalived preempt_delay: when a lower-priority master may be preempted; null = not counting. */
  preemptAt: Ms | null;
  /** What the armed `garp` timer is for: the second burst after garp_master_delay, or the periodic refresh. */
  garpPhase: 'delayed' | 'refresh' | null;
  lastTransition: TransitionRecord | null;
  /** The takeover guard's sub-state of BACKUP (guard.ts), or null when not guarding. */
  guard: GuardState | null;
  /** The last guard round handed out; rounds only grow, so a late verdict of an earlier round is recognised. */
  guardSeq: number;
  /** A master's make-before-break handover in progress (docs/handover.md), or null. */
  handover: HandoverState | null;
}

/** A master handing over its VIPs: it keeps them until the new master has them (docs/handover.md). */
export interface HandoverState {
  /** What the master becomes once its VIPs are gone: BACKUP (standby, beaten) or INIT (graceful stop). */
  to: 'BACKUP' | 'INIT';
  cause: TransitionCause;
  /** When the handover began. */
  since: Ms;
  /** When the VIPs go although no new master was heard. */
  deadline: Ms;
  /** The new master once heard: its address, priority and advert interval, and when it was first heard. */
  newMaster: { addr: string; priority: number; intervalMs: Ms; at: Ms } | null;
}

/** What can happen to an instance. */
export type VrrpInput =
  /** Startup event; `primaryAddr` is the address adverts go out from. */
  | { kind: 'startup'; primaryAddr: string }
  /**
   * Shutdown event (graceful stop: a master sends priority 0). With `handover`, a master keeps its VIPs until a new
   * master is heard (make-before-break, docs/handover.md) and enters INIT then; without, at once.
   */
  | { kind: 'shutdown'; handover?: boolean }
  /** An armed timer fired, `lateMs` after its deadline (a pause shows here: guard.ts pauseThresholdMs). */
  | { kind: 'timer'; timer: TimerName; lateMs?: Ms }
  /** The verdict of a guard probe round (the node ran the `probe` effect). */
  | ({ kind: 'guardVerdict' } & GuardVerdictInput)
  /** The outcome of a `fence` effect. */
  | { kind: 'fenceResult'; round: number; ok: boolean; detail: string }
  /** An advert that passed decoding and matchAdvert; `src` is its IP source address. */
  | { kind: 'advert'; packet: VrrpPacket; src: string }
  /** A tracked object changed state. */
  | { kind: 'tracker'; id: string; up: boolean }
  /**
   * An order from the sync group coordinator: FAULT = hold in fault; BACKUP = leave a held fault, or leave MASTER;
   * MASTER = leave BACKUP for MASTER.
   */
  | { kind: 'sync'; to: 'MASTER' | 'BACKUP' | 'FAULT' }
  /**
   * Runtime base priority (1..255) for standby/takeover; null restores the configured priority. With `release`, a
   * master hands over at once like a graceful stop (priority 0, a backup takes over after Skew_Time) but stays in
   * the election as a backup (heartbeat's hb_standby).
   */
  | { kind: 'setPriority'; priority: number | null; release?: boolean };

/** What the driver must do, as data. */
export type VrrpEffect =
  /** Send an advert (multicast, or to each unicast peer). */
  | { kind: 'send'; packet: VrrpPacket }
  /** (Re-)arm a timer to fire at `at`, replacing any earlier deadline. */
  | { kind: 'arm'; timer: TimerName; at: Ms }
  | { kind: 'disarm'; timer: TimerName }
  | { kind: 'addVips'; vips: readonly VipConfig[] }
  | { kind: 'delVips'; vips: readonly VipConfig[] }
  /** Gratuitous ARP / unsolicited NA for the VIPs, `repeat` times. */
  | { kind: 'garp'; vips: readonly VipConfig[]; repeat: number }
  | { kind: 'transition'; from: VrrpState; to: VrrpState; cause: TransitionCause }
  /** The effective priority changed (keepalived's notify_priority_changes). */
  | { kind: 'priority'; from: number; to: number }
  /** An advert was ignored, and why. */
  | { kind: 'discard'; reason: AdvertDiscard; src: string; priority: number }
  /** Ask the master over other paths and feed a `guardVerdict` of this round by `deadline`. */
  | { kind: 'probe'; round: number; master: { addr: string; priority: number }; deadline: Ms }
  /** Fence the master and feed a `fenceResult` of this round by `deadline`. */
  | { kind: 'fence'; round: number; master: { addr: string; priority: number }; deadline: Ms }
  /** The guard changed phase (a row of guard.ts's table). */
  | {
      kind: 'guard';
      from: GuardPhase | null;
      phase: GuardPhase | 'released';
      on: GuardTrigger;
      master: string;
      verdict?: GuardVerdict;
      via: readonly string[];
      detail: string;
      reason?: GuardRelease;
    }
  /** A timer fired after a pause: a master stepped down, or a backup waits to hear the cluster again. */
  | { kind: 'paused'; lateMs: Ms; action: 'stepped-down' | 'relistening' }
  /**
   * A make-before-break handover began, heard the new master, or ended (`released`: the VIPs go now, because the new
   * master was heard `lingerMs` ago, the deadline passed, or something else ended it at once).
   */
  | {
      kind: 'handover';
      phase: 'started' | 'new-master' | 'released';
      to: 'BACKUP' | 'INIT';
      cause: TransitionCause;
      /** The new master's address, once heard. */
      newMaster?: string;
      reason?: HandoverRelease;
      /** Since the handover began. */
      elapsedMs: Ms;
      /** started: the deadline; new-master: when the VIPs will go. */
      until?: Ms;
    };

/** Why a handover released the VIPs. */
export type HandoverRelease = 'new-master' | 'deadline' | 'interrupted';

/** What {@link step} returns. */
export interface StepResult {
  state: InstanceState;
  effects: VrrpEffect[];
}

/** The priority an address owner uses; it is master whenever it runs. @see RFC 5798 §5.2.4 */
export const OWNER_PRIORITY = 255;
/** The priority a master sends when it stops being master: backups take over after Skew_Time. */
export const RELEASE_PRIORITY = 0;
/** keepalived garp_master_refresh_repeat's default: one GARP per refresh. */
const GARP_REFRESH_REPEAT = 1;
/** The shortest time a leaving master keeps its VIPs after hearing the new master (its address change and GARP). */
export const HANDOVER_LINGER_MIN_MS = 100;
/** The longest: the time both hosts hold the VIP, during which the old one could still answer an ARP broadcast. */
export const HANDOVER_LINGER_MAX_MS = 500;

/**
 * How long a leaving master keeps its VIPs after it first hears the new master's advert: two of the new master's
 * advert intervals, within 100..500 ms. The new master sends that advert before its address change is done and its
 * gratuitous ARPs follow the change (tandem; keepalived adds the VIPs first), so the clients move to it meanwhile;
 * until they have, the old master still serves them.
 * @example handoverLingerMs(100) // 200
 */
export function handoverLingerMs(newMasterIntervalMs: Ms): Ms {
  return Math.min(HANDOVER_LINGER_MAX_MS, Math.max(HANDOVER_LINGER_MIN_MS, 2 * newMasterIntervalMs));
}

/**
 * How long a leaving master waits for a new master before it releases anyway: the Master_Down_Interval of the
 * lowest-priority backup (by then any live backup has taken over, even one that heard none of the priority-0
 * adverts) plus one advert interval to hear it.
 * @example handoverDeadlineMs({ version: 3, advertIntervalMs: 100, downTimerAdverts: 3 }) // 300 + 99 + 100
 */
export function handoverDeadlineMs(cfg: Pick<InstanceConfig, 'version' | 'advertIntervalMs' | 'downTimerAdverts'>): Ms {
  return (
    masterDownIntervalMs({
      version: cfg.version,
      priority: 1,
      masterAdverIntervalMs: cfg.advertIntervalMs,
      downTimerAdverts: cfg.downTimerAdverts,
    }) + cfg.advertIntervalMs
  );
}

/**
 * Orders two addresses numerically (IPv4 and IPv6 alike: big-endian bytes), for RFC 5798 §6.4.3's tie-break on
 * equal priority. IPv4 sorts before IPv6; text that is no address sorts before any address, then by its text.
 */
export function compareAddresses(a: string, b: string): -1 | 0 | 1 {
  const pa = parseIpv4(stripZone(a)) ?? parseIpv6(stripZone(a));
  const pb = parseIpv4(stripZone(b)) ?? parseIpv6(stripZone(b));
  if (!pa || !pb) {
    if (pa) return 1;
    if (pb) return -1;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (pa.length !== pb.length) return pa.length < pb.length ? -1 : 1;
  for (let i = 0; i < pa.length; i++) {
    const x = pa[i] ?? 0;
    const y = pb[i] ?? 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

const isUp = (trackers: Readonly<Record<string, boolean>>, id: string): boolean => trackers[id] ?? true;

/**
 * keepalived's effective priority: base + Σ weights, clamped to 1..254. A tracker with weight > 0 adds it while up,
 * one with weight < 0 adds it (subtracts) while down; `reverse` flips the sign of the adjustment. Weight-0 trackers
 * do not change the priority (they force FAULT). The address owner (255) is not tracked.
 * @see keepalived vrrp_track.c, anchors §5.1
 */
export function effectivePriority(
  cfg: Pick<InstanceConfig, 'priority' | 'trackers'>,
  trackers: Readonly<Record<string, boolean>>,
  base: number = cfg.priority,
): number {
  if (base >= OWNER_PRIORITY) return OWNER_PRIORITY;
  let total = base;
  for (const t of cfg.trackers) {
    const sign = t.reverse ? -1 : 1;
    const up = isUp(trackers, t.id);
    if (up && t.weight > 0) total += t.weight * sign;
    else if (!up && t.weight < 0) total += t.weight * sign;
  }
  return Math.min(OWNER_PRIORITY - 1, Math.max(1, total));
}

/**
 * keepalived's FAULT condition from trackers: a weight-0 tracker that is down (or, with `reverse`, up). It applies to
 * the address owner as well: the owner's priority cannot be tracked, but it can still be faulted.
 */
export function trackerFault(
  cfg: Pick<InstanceConfig, 'trackers'>,
  trackers: Readonly<Record<string, boolean>>,
): boolean {
  return cfg.trackers.some((t) => t.weight === 0 && isUp(trackers, t.id) === Boolean(t.reverse));
}

/** The state before startup: INIT, every tracker up, nothing armed. */
export function initialState(cfg: InstanceConfig): InstanceState {
  const trackers: Record<string, boolean> = {};
  for (const t of cfg.trackers) trackers[t.id] = true;
  return {
    state: 'INIT',
    primaryAddr: null,
    priorityOverride: null,
    effectivePriority: effectivePriority(cfg, trackers),
    trackers,
    trackerFault: trackerFault(cfg, trackers),
    syncFault: false,
    masterAdverIntervalMs: cfg.advertIntervalMs,
    master: null,
    timers: { advert: null, masterDown: null, garp: null, guard: null, handover: null },
    preemptAt: null,
    garpPhase: null,
    lastTransition: null,
    guard: null,
    guardSeq: 0,
    handover: null,
  };
}

/** The base priority in force: the runtime override, else the configured one. */
export function basePriority(cfg: InstanceConfig, s: InstanceState): number {
  return s.priorityOverride ?? cfg.priority;
}

/** Master_Down_Interval for this instance now (its effective priority, its Master_Adver_Interval). */
export function instanceMasterDownMs(cfg: InstanceConfig, s: InstanceState): Ms {
  return masterDownIntervalMs({
    version: cfg.version,
    priority: s.effectivePriority,
    masterAdverIntervalMs: s.masterAdverIntervalMs,
    downTimerAdverts: cfg.downTimerAdverts,
  });
}

/** Skew_Time for this instance now. */
export function instanceSkewMs(cfg: InstanceConfig, s: InstanceState): Ms {
  return skewTimeMs({
    version: cfg.version,
    priority: s.effectivePriority,
    masterAdverIntervalMs: s.masterAdverIntervalMs,
  });
}

/** The advert this instance sends with `priority`. */
export function advertFor(cfg: InstanceConfig, priority: number): VrrpPacket {
  return {
    version: cfg.version,
    family: cfg.family,
    vrid: cfg.vrid,
    priority,
    advertIntervalMs: cfg.advertIntervalMs,
    addrs: cfg.vips.map((v) => v.addr),
    auth: cfg.version === 2 ? cfg.auth : { type: 'none' },
  };
}

/** A step in progress: a private copy of the state and the effects so far. */
interface Ctx {
  readonly cfg: InstanceConfig;
  readonly now: Ms;
  s: InstanceState & { timers: Record<TimerName, Ms | null> };
  readonly fx: VrrpEffect[];
}

const isOwner = (c: Ctx): boolean => basePriority(c.cfg, c.s) >= OWNER_PRIORITY;

function arm(c: Ctx, timer: TimerName, at: Ms): void {
  c.s.timers[timer] = at;
  c.fx.push({ kind: 'arm', timer, at });
}

function disarm(c: Ctx, timer: TimerName): void {
  if (c.s.timers[timer] === null) return;
  c.s.timers[timer] = null;
  c.fx.push({ kind: 'disarm', timer });
  if (timer === 'garp') c.s.garpPhase = null;
}

function send(c: Ctx, priority: number): void {
  c.fx.push({ kind: 'send', packet: advertFor(c.cfg, priority) });
}

function transition(c: Ctx, to: VrrpState, cause: TransitionCause): void {
  if (c.s.guard && to !== 'BACKUP') releaseGuard(c, 'left-backup');
  const from = c.s.state;
  c.s.state = to;
  c.s.lastTransition = { at: c.now, from, to, cause };
  c.fx.push({ kind: 'transition', from, to, cause });
}

/** Recomputes the effective priority; a backup's Master_Down_Timer moves with its Skew_Time (keepalived does so). */
function refreshPriority(c: Ctx): void {
  const next = effectivePriority(c.cfg, c.s.trackers, basePriority(c.cfg, c.s));
  const prev = c.s.effectivePriority;
  if (next === prev) return;
  const before = instanceSkewMs(c.cfg, c.s);
  c.s.effectivePriority = next;
  c.fx.push({ kind: 'priority', from: prev, to: next });
  const deadline = c.s.timers.masterDown;
  if (c.s.state === 'BACKUP' && deadline !== null) {
    // Keeps "the higher priority backup fires first" true after the change.
    arm(c, 'masterDown', Math.max(c.now, deadline + instanceSkewMs(c.cfg, c.s) - before));
  }
}

/** RFC 5798 §6.4.1/§6.4.2: send an advert, GARP each VIP, set Adver_Timer; keepalived adds the VIPs first. */
function becomeMaster(c: Ctx, cause: TransitionCause): void {
  const { cfg, s, now } = c;
  transition(c, 'MASTER', cause);
  disarm(c, 'masterDown');
  s.masterAdverIntervalMs = cfg.advertIntervalMs;
  s.master = null;
  s.preemptAt = null;
  c.fx.push({ kind: 'addVips', vips: cfg.vips });
  send(c, s.effectivePriority);
  c.fx.push({ kind: 'garp', vips: cfg.vips, repeat: cfg.garp.masterRepeat });
  arm(c, 'advert', now + cfg.advertIntervalMs);
  if (cfg.garp.masterDelayMs > 0) {
    arm(c, 'garp', now + cfg.garp.masterDelayMs);
    s.garpPhase = 'delayed';
  } else if (cfg.garp.masterRefreshMs > 0) {
    arm(c, 'garp', now + cfg.garp.masterRefreshMs);
    s.garpPhase = 'refresh';
  }
}

/** Stops acting as master: no more adverts or GARPs, and the VIPs go (ending a handover in progress). */
function releaseMaster(c: Ctx): void {
  if (c.s.handover) endHandover(c, 'interrupted');
  disarm(c, 'advert');
  disarm(c, 'garp');
  c.fx.push({ kind: 'delVips', vips: c.cfg.vips });
}

/**
 * Enters BACKUP and sets Master_Down_Timer. `learnedIntervalMs` is the master's interval when a v3 advert caused the
 * change (RFC 5798 §6.4.3); otherwise the configured interval is used, as keepalived does.
 */
function becomeBackup(c: Ctx, cause: TransitionCause, learnedIntervalMs?: Ms): void {
  const wasMaster = c.s.state === 'MASTER';
  transition(c, 'BACKUP', cause);
  if (wasMaster) releaseMaster(c);
  c.s.masterAdverIntervalMs = learnedIntervalMs ?? c.cfg.advertIntervalMs;
  c.s.preemptAt = null;
  arm(c, 'masterDown', c.now + instanceMasterDownMs(c.cfg, c.s));
}

/** keepalived: a master going to FAULT sends priority 0 so that a backup takes over after Skew_Time. */
function enterFault(c: Ctx, cause: TransitionCause): void {
  const was = c.s.state;
  transition(c, 'FAULT', cause);
  if (was === 'MASTER') {
    send(c, RELEASE_PRIORITY);
    releaseMaster(c);
  }
  disarm(c, 'masterDown');
  c.s.master = null;
  c.s.preemptAt = null;
}

/** keepalived try_up_instance: the owner goes straight to MASTER, anyone else to BACKUP. */
function leaveFault(c: Ctx, cause: TransitionCause): void {
  if (isOwner(c)) becomeMaster(c, 'owner');
  else becomeBackup(c, cause);
}

function onStartup(c: Ctx, primaryAddr: string): void {
  const { cfg, s, now } = c;
  if (s.state !== 'INIT') return;
  s.primaryAddr = primaryAddr;
  s.masterAdverIntervalMs = cfg.advertIntervalMs;
  s.master = null;
  s.preemptAt = null;
  if (s.trackerFault || s.syncFault) {
    transition(c, 'FAULT', s.trackerFault ? 'tracker-fault' : 'sync-group');
    // A previous run that was killed may have left the VIPs behind (keepalived removes them at startup too).
    c.fx.push({ kind: 'delVips', vips: cfg.vips });
    return;
  }
  if (isOwner(c)) {
    becomeMaster(c, 'owner');
    return;
  }
  transition(c, 'BACKUP', 'startup');
  c.fx.push({ kind: 'delVips', vips: cfg.vips });
  // keepalived's timer for an instance that wants MASTER: one interval plus the smallest skew, so it still hears a
  // running higher-priority master before it claims the addresses.
  const wait =
    cfg.initialState === 'MASTER'
      ? cfg.advertIntervalMs + minSkewTimeMs(cfg.version, cfg.advertIntervalMs)
      : instanceMasterDownMs(cfg, s);
  arm(c, 'masterDown', now + wait);
}

function onShutdown(c: Ctx, handover: boolean): void {
  const was = c.s.state;
  if (was === 'INIT') return;
  if (was === 'MASTER' && handover) {
    const h = c.s.handover;
    // Beaten already (a higher-priority master is taking the VIPs): that handover ends in INIT now.
    if (h) c.s.handover = { ...h, to: 'INIT', cause: 'shutdown' };
    else startHandover(c, 'INIT', 'shutdown');
    return;
  }
  if (c.s.handover) endHandover(c, 'interrupted');
  transition(c, 'INIT', 'shutdown');
  if (was === 'MASTER') {
    // RFC 5798 §6.4.3: cancel Adver_Timer, send an advert with priority 0.
    disarm(c, 'advert');
    disarm(c, 'garp');
    send(c, RELEASE_PRIORITY);
    c.fx.push({ kind: 'delVips', vips: c.cfg.vips });
  }
  disarm(c, 'masterDown');
  c.s.master = null;
  c.s.preemptAt = null;
}

function onTimer(c: Ctx, timer: TimerName, lateMs: Ms): void {
  const { cfg, s, now } = c;
  // A timer the driver fires after we disarmed it (a race the driver cannot always avoid) is stale.
  const deadline = s.timers[timer];
  if (deadline === null) return;
  s.timers[timer] = null;
  // A timer this late means the process was paused (docs/split-brain.md §5): what it would do now rests on a view of
  // the cluster that is older than any backup's patience.
  if (lateMs >= pauseThresholdMs(cfg, s.masterAdverIntervalMs) && afterPause(c, timer, lateMs)) return;
  if (timer === 'guard') {
    onGuardTimer(c);
    return;
  }
  if (timer === 'masterDown') {
    if (s.state !== 'BACKUP') return;
    if (guardEngages(cfg, s.master, s.effectivePriority, isOwner(c))) startGuard(c);
    else becomeMaster(c, 'master-down');
    return;
  }
  if (s.state !== 'MASTER') return;
  if (timer === 'handover') {
    if (s.handover) finishHandover(c);
    return;
  }
  if (s.handover) {
    // A leaving master repeats priority 0 until a new master speaks (one lost advert must not cost a whole
    // Master_Down_Interval); a beaten one, or one that heard its successor, is silent.
    if (timer === 'advert' && s.handover.newMaster === null) {
      send(c, RELEASE_PRIORITY);
      arm(c, 'advert', now + cfg.advertIntervalMs);
    }
    return;
  }
  if (timer === 'advert') {
    // RFC 5798 §6.4.3: send an advert, reset Adver_Timer.
    send(c, s.effectivePriority);
    // On the grid of the previous deadline, not from when the timer happened to fire: a driver's lateness (an event
    // loop is never exact) must not add up advert after advert. Fallen behind by a whole interval: start afresh.
    const next = deadline + cfg.advertIntervalMs;
    arm(c, 'advert', next > now ? next : now + cfg.advertIntervalMs);
    return;
  }
  // garp: the delayed second burst (garp_master_delay), then the periodic refresh (garp_master_refresh).
  const phase = s.garpPhase;
  s.garpPhase = null;
  c.fx.push({
    kind: 'garp',
    vips: cfg.vips,
    repeat: phase === 'refresh' ? GARP_REFRESH_REPEAT : cfg.garp.masterRepeat,
  });
  if (cfg.garp.masterRefreshMs > 0) {
    arm(c, 'garp', now + cfg.garp.masterRefreshMs);
    s.garpPhase = 'refresh';
  }
}

/** The checks matchAdvert makes that the machine relies on; repeated so a careless driver cannot confuse it. */
function mismatch(cfg: InstanceConfig, p: VrrpPacket): AdvertDiscard | null {
  if (p.vrid !== cfg.vrid) return 'vrid';
  if (p.family !== cfg.family) return 'family';
  if (p.version !== cfg.version) return 'version-mismatch';
  if (cfg.version === 2 && p.advertIntervalMs !== cfg.advertIntervalMs) return 'interval-mismatch';
  return null;
}

function discard(c: Ctx, reason: AdvertDiscard, src: string, priority: number): void {
  c.fx.push({ kind: 'discard', reason, src, priority });
}

/** RFC 5798 §6.4.2 with keepalived's preempt_delay. */
function backupReceives(c: Ctx, p: VrrpPacket, src: string): void {
  const { cfg, s, now } = c;
  if (p.priority === RELEASE_PRIORITY) {
    // "If the Priority is zero, then set the Master_Down_Timer to Skew_Time."
    if (s.guard) releaseGuard(c, 'priority-zero');
    s.master = null;
    arm(c, 'masterDown', now + instanceSkewMs(cfg, s));
    return;
  }
  const preempt = cfg.preempt || isOwner(c); // the owner always preempts (RFC 5798 §6.1 Preempt_Mode)
  const higherOrEqual = p.priority >= s.effectivePriority;
  // keepalived preempt_delay: a lower-priority master is tolerated until preempt_delay after we first saw it.
  const delaying = cfg.preemptDelayMs > 0 && (s.preemptAt === null || now < s.preemptAt);
  if (preempt && !higherOrEqual && !delaying) {
    // "Otherwise, discard the ADVERTISEMENT": Master_Down_Timer keeps running, and we take over when it fires.
    s.master = { addr: src, priority: p.priority };
    discard(c, 'lower-priority', src, p.priority);
    if (s.guard) {
      // A guarded backup's timer has fired already: a master that speaks again below us is preempted now.
      releaseGuard(c, 'adverts-resumed');
      arm(c, 'masterDown', now);
    }
    return;
  }
  // RFC 5798 §6.4.2: v3 adopts the master's interval, then Master_Down_Timer := Master_Down_Interval.
  if (cfg.version === 3) s.masterAdverIntervalMs = p.advertIntervalMs;
  if (s.guard) releaseGuard(c, 'adverts-resumed');
  s.master = { addr: src, priority: p.priority };
  if (cfg.preemptDelayMs > 0) {
    if (higherOrEqual) s.preemptAt = null;
    else if (s.preemptAt === null) s.preemptAt = now + cfg.preemptDelayMs;
  }
  // A guarded backup starts asking one probe deadline early, so that a real death still fails over at
  // Master_Down_Interval: the guard's verdict is due when plain VRRP would take over (guard.ts guardLeadMs).
  const lead = guardEngages(cfg, s.master, s.effectivePriority, isOwner(c))
    ? guardLeadMs(cfg, instanceMasterDownMs(cfg, s), s.masterAdverIntervalMs)
    : 0;
  arm(c, 'masterDown', now + instanceMasterDownMs(cfg, s) - lead);
}

/** RFC 5798 §6.4.3 with RFC 9568's immediate advert and keepalived's two-owner repair. */
function masterReceives(c: Ctx, p: VrrpPacket, src: string): void {
  const { cfg, s, now } = c;
  if (s.handover) {
    // Leaving: any other router's advert above priority 0 is the new master (we advertise 0, or nothing); another
    // priority 0 or our own looped-back advert is not. The first one starts the linger; the rest change nothing.
    if (p.priority === RELEASE_PRIORITY || compareAddresses(src, s.primaryAddr ?? '') === 0) return;
    if (s.handover.newMaster === null) heardNewMaster(c, src, p.priority, p.advertIntervalMs);
    return;
  }
  if (p.priority === RELEASE_PRIORITY) {
    // "If the Priority in the ADVERTISEMENT is zero, then: Send an ADVERTISEMENT; Reset the Adver_Timer."
    send(c, s.effectivePriority);
    arm(c, 'advert', now + cfg.advertIntervalMs);
    return;
  }
  const cmp = compareAddresses(src, s.primaryAddr ?? '');
  if (p.priority === s.effectivePriority && cmp === 0) {
    discard(c, 'own-address', src, p.priority);
    return;
  }
  if (p.priority === OWNER_PRIORITY && isOwner(c)) {
    // keepalived: two address owners is a configuration error; the one that hears the other steps down to 254.
    s.priorityOverride = OWNER_PRIORITY - 1;
    refreshPriority(c);
  }
  const mine = s.effectivePriority;
  if (p.priority > mine || (p.priority === mine && cmp > 0)) {
    // Beaten (a takeover, a preempting master come back): keep the VIPs until the new master has them.
    startHandover(c, 'BACKUP', p.priority > mine ? 'higher-priority' : 'equal-priority-higher-address', {
      addr: src,
      priority: p.priority,
      intervalMs: p.advertIntervalMs,
    });
    return;
  }
  discard(c, 'lower-priority', src, p.priority);
  if (!cfg.lowerPrioNoAdvert) {
    // RFC 9568 §6.4.3: advertise at once so that the other router and learning bridges see the real master.
    send(c, mine);
    arm(c, 'advert', now + cfg.advertIntervalMs);
  }
  // keepalived garp_lower_prio_repeat: the other node was master too (a split brain that healed, a paused master
  // come back), so clients may have its MAC for the VIPs; a GARP burst brings them back now, not at ARP expiry.
  const repeat = cfg.garp.lowerPrioRepeat ?? cfg.garp.masterRepeat;
  if (repeat > 0) c.fx.push({ kind: 'garp', vips: cfg.vips, repeat });
}

function onAdvert(c: Ctx, p: VrrpPacket, src: string): void {
  const bad = mismatch(c.cfg, p);
  if (bad) discard(c, bad, src, p.priority);
  else if (c.s.state === 'BACKUP') backupReceives(c, p, src);
  else if (c.s.state === 'MASTER') masterReceives(c, p, src);
  else discard(c, 'not-running', src, p.priority);
}

function onTracker(c: Ctx, id: string, up: boolean): void {
  const { cfg, s } = c;
  if (!cfg.trackers.some((t) => t.id === id) || isUp(s.trackers, id) === up) return;
  s.trackers = { ...s.trackers, [id]: up };
  s.trackerFault = trackerFault(cfg, s.trackers);
  refreshPriority(c);
  if (s.trackerFault && (s.state === 'BACKUP' || s.state === 'MASTER')) enterFault(c, 'tracker-fault');
  else if (!s.trackerFault && !s.syncFault && s.state === 'FAULT') leaveFault(c, 'tracker-recovered');
}

function onSync(c: Ctx, to: 'MASTER' | 'BACKUP' | 'FAULT'): void {
  const { s } = c;
  if (to === 'FAULT') {
    s.syncFault = true;
    if (s.state === 'BACKUP' || s.state === 'MASTER') enterFault(c, 'sync-group');
    return;
  }
  if (to === 'BACKUP') {
    const held = s.syncFault;
    s.syncFault = false;
    if (s.state === 'FAULT' && held && !s.trackerFault) leaveFault(c, 'sync-group');
    else if (s.state === 'MASTER') becomeBackup(c, 'sync-group');
    return;
  }
  if (s.state === 'BACKUP') becomeMaster(c, 'sync-group');
}

function onSetPriority(c: Ctx, priority: number | null, release: boolean): void {
  if (priority !== null && !(Number.isInteger(priority) && priority >= 1 && priority <= OWNER_PRIORITY)) return;
  c.s.priorityOverride = priority;
  refreshPriority(c);
  if (release && c.s.state === 'MASTER' && !isOwner(c)) {
    // RFC 5798 §6.4.3's Shutdown hand-over, without leaving the election: priority 0 makes backups take over
    // after Skew_Time instead of Master_Down_Interval; the VIPs stay until the new master has them.
    if (!c.s.handover) startHandover(c, 'BACKUP', 'standby');
    return;
  }
  // An owner does not wait for Master_Down_Timer (RFC 5798 §6.4.1), so a backup that becomes one takes over now.
  if (c.s.state === 'BACKUP' && isOwner(c)) becomeMaster(c, 'priority-change');
}

// ── make-before-break handover (docs/handover.md) ─────────────────────────────────────────────────────────────────

function handoverEffect(
  c: Ctx,
  h: HandoverState,
  phase: 'started' | 'new-master' | 'released',
  extra: { reason?: HandoverRelease; until?: Ms } = {},
): void {
  c.fx.push({
    kind: 'handover',
    phase,
    to: h.to,
    cause: h.cause,
    ...(h.newMaster ? { newMaster: h.newMaster.addr } : {}),
    elapsedMs: c.now - h.since,
    ...extra,
  });
}

/**
 * A master begins to hand over: no GARP from now on (it would pull the clients back), and either priority 0 now and
 * every interval until a new master speaks (leaving), or silence with the new master known (beaten).
 */
function startHandover(
  c: Ctx,
  to: 'BACKUP' | 'INIT',
  cause: TransitionCause,
  heard?: { addr: string; priority: number; intervalMs: Ms },
): void {
  const { cfg, s, now } = c;
  disarm(c, 'garp');
  const h: HandoverState = { to, cause, since: now, deadline: now + handoverDeadlineMs(cfg), newMaster: null };
  s.handover = h;
  if (heard) {
    handoverEffect(c, { ...h, newMaster: { ...heard, at: now } }, 'started', { until: h.deadline });
    heardNewMaster(c, heard.addr, heard.priority, heard.intervalMs);
    return;
  }
  handoverEffect(c, h, 'started', { until: h.deadline });
  send(c, RELEASE_PRIORITY);
  arm(c, 'advert', now + cfg.advertIntervalMs);
  arm(c, 'handover', h.deadline);
}

/** The new master spoke: stop advertising, and let the VIPs go after the linger. */
function heardNewMaster(c: Ctx, addr: string, priority: number, intervalMs: Ms): void {
  const { s, now } = c;
  const h: HandoverState = { ...s.handover!, newMaster: { addr, priority, intervalMs, at: now } };
  s.handover = h;
  disarm(c, 'advert');
  const until = now + handoverLingerMs(intervalMs);
  arm(c, 'handover', until);
  handoverEffect(c, h, 'new-master', { until });
}

/** Ends a handover's bookkeeping (its timer, its sub-state) and says why. */
function endHandover(c: Ctx, reason: HandoverRelease): HandoverState {
  const h = c.s.handover!;
  c.s.handover = null;
  disarm(c, 'handover');
  handoverEffect(c, h, 'released', { reason });
  return h;
}

/** The linger or the deadline ran out: the VIPs go, and the transition of the table happens now. */
function finishHandover(c: Ctx): void {
  const { cfg, s } = c;
  const h = endHandover(c, s.handover!.newMaster ? 'new-master' : 'deadline');
  if (h.to === 'INIT') {
    transition(c, 'INIT', 'shutdown');
    disarm(c, 'advert');
    disarm(c, 'garp');
    c.fx.push({ kind: 'delVips', vips: cfg.vips });
    disarm(c, 'masterDown');
    s.master = null;
    s.preemptAt = null;
    return;
  }
  becomeBackup(c, h.cause, cfg.version === 3 && h.newMaster ? h.newMaster.intervalMs : undefined);
  s.master = h.newMaster ? { addr: h.newMaster.addr, priority: h.newMaster.priority } : null;
}

// ── the takeover guard (guard.ts has its phase table) and the pause rule ────────────────────────────────────────

function guardChange(
  c: Ctx,
  to: GuardPhase | 'released',
  on: GuardTrigger,
  extra: { verdict?: GuardVerdict; via?: readonly string[]; detail?: string; reason?: GuardRelease } = {},
): void {
  const g = c.s.guard;
  c.fx.push({
    kind: 'guard',
    from: g?.phase ?? null,
    phase: to,
    on,
    master: g?.master.addr ?? c.s.master?.addr ?? '',
    via: extra.via ?? [],
    detail: extra.detail ?? '',
    ...(extra.verdict ? { verdict: extra.verdict } : {}),
    ...(extra.reason ? { reason: extra.reason } : {}),
  });
}

/** Ends the guard: the phase goes, and so does its timer. */
function releaseGuard(c: Ctx, reason: GuardRelease, detail = ''): void {
  if (!c.s.guard) return;
  guardChange(c, 'released', reason, { reason, detail, ...(c.s.guard.last ? { via: c.s.guard.last.via } : {}) });
  c.s.guard = null;
  disarm(c, 'guard');
}

/** One probe round: a `probe` effect, and the backstop timer in case no verdict ever comes. */
function probeRound(c: Ctx, g: GuardState): void {
  const timeout = c.cfg.guard?.timeoutMs ?? 0;
  c.s.guardSeq++;
  const round = c.s.guardSeq;
  c.s.guard = { ...g, phase: 'probing', round, rounds: g.rounds + 1 };
  c.fx.push({ kind: 'probe', round, master: g.master, deadline: c.now + timeout });
  arm(c, 'guard', c.now + timeout + guardBackstopMs(timeout));
}

/** Master_Down_Timer fired on a guarded backup: ask before taking over. */
function startGuard(c: Ctx): void {
  const master = c.s.master!;
  guardChange(c, 'probing', 'master-down', { detail: `no advert from ${master.addr} for Master_Down_Interval` });
  probeRound(c, { phase: 'probing', master, round: 0, since: c.now, rounds: 0, last: null, fenceRetryAt: null });
}

function onGuardTimer(c: Ctx): void {
  const g = c.s.guard;
  if (!g || c.s.state !== 'BACKUP') return;
  if (g.phase === 'held' || g.phase === 'fence-failed') {
    guardChange(c, 'probing', 'recheck');
    probeRound(c, g);
  } else if (g.phase === 'probing') {
    onGuardVerdict(c, { round: g.round, verdict: 'unconfirmed', via: [], detail: 'no verdict by the deadline' });
  } else {
    onFenceResult(c, g.round, false, 'no result from the fence agent by the deadline');
  }
}

function onGuardVerdict(c: Ctx, v: GuardVerdictInput): void {
  const { cfg, s, now } = c;
  const g = s.guard;
  if (g?.phase !== 'probing' || v.round !== g.round || s.state !== 'BACKUP') return;
  const last = { verdict: v.verdict, via: [...v.via], detail: v.detail, at: now };
  s.guard = { ...g, last };
  disarm(c, 'guard');
  // RFC 5798 §6.4.3's election, asked of a node that answers but is not master: does it win against us?
  const remoteWins =
    v.remote !== undefined &&
    (v.remote.priority > s.effectivePriority ||
      (v.remote.priority === s.effectivePriority && compareAddresses(v.remote.addr, s.primaryAddr ?? '') > 0));
  const info = { verdict: v.verdict, via: v.via, detail: v.detail };
  switch (decideVerdict(cfg, s.guard, v.verdict, remoteWins, now)) {
    case 'hold':
      guardChange(c, 'held', 'alive', info);
      s.guard = { ...s.guard, phase: 'held' };
      arm(c, 'guard', now + s.masterAdverIntervalMs);
      return;
    case 'defer':
      releaseGuard(c, 'deferred', v.detail);
      arm(c, 'masterDown', now + instanceMasterDownMs(cfg, s));
      return;
    case 'take-over':
      releaseGuard(c, 'took-over', v.detail);
      becomeMaster(c, 'master-down');
      return;
    case 'wait-fence-retry':
      guardChange(c, 'fence-failed', 'unconfirmed', info);
      s.guard = { ...s.guard, phase: 'fence-failed' };
      arm(c, 'guard', now + s.masterAdverIntervalMs);
      return;
    case 'fence': {
      const fence = cfg.guard!.fence!;
      guardChange(c, 'fencing', 'unconfirmed', info);
      s.guardSeq++;
      s.guard = { ...s.guard, phase: 'fencing', round: s.guardSeq };
      c.fx.push({ kind: 'fence', round: s.guardSeq, master: g.master, deadline: now + fence.timeoutMs });
      arm(c, 'guard', now + fence.timeoutMs + guardBackstopMs(fence.timeoutMs));
      return;
    }
  }
}

function onFenceResult(c: Ctx, round: number, ok: boolean, detail: string): void {
  const { cfg, s, now } = c;
  const g = s.guard;
  if (g?.phase !== 'fencing' || round !== g.round || s.state !== 'BACKUP') return;
  disarm(c, 'guard');
  if (ok) {
    releaseGuard(c, 'took-over-fenced', detail);
    becomeMaster(c, 'fenced');
    return;
  }
  guardChange(c, 'fence-failed', 'fence-failed', { detail });
  s.guard = { ...g, phase: 'fence-failed', fenceRetryAt: now + (cfg.guard?.fence?.retryMs ?? 0), fenceFailure: detail };
  arm(c, 'guard', now + s.masterAdverIntervalMs);
}

/**
 * A timer fired `lateMs` after its deadline, past every backup's patience. A master goes to BACKUP without a word and
 * listens for one advert interval (plus the smallest skew) before it may take over again; a backup whose
 * Master_Down_Timer is that late waits a fresh Master_Down_Interval. True when the pause was handled.
 */
function afterPause(c: Ctx, timer: TimerName, lateMs: Ms): boolean {
  const { cfg, s, now } = c;
  if (s.state === 'MASTER') {
    transition(c, 'BACKUP', 'paused');
    releaseMaster(c);
    s.masterAdverIntervalMs = cfg.advertIntervalMs;
    s.master = null;
    s.preemptAt = null;
    c.fx.push({ kind: 'paused', lateMs, action: 'stepped-down' });
    arm(c, 'masterDown', now + cfg.advertIntervalMs + minSkewTimeMs(cfg.version, cfg.advertIntervalMs));
    return true;
  }
  if (s.state === 'BACKUP' && timer === 'masterDown') {
    c.fx.push({ kind: 'paused', lateMs, action: 'relistening' });
    arm(c, 'masterDown', now + instanceMasterDownMs(cfg, s));
    return true;
  }
  return false;
}

/**
 * The reducer: applies one input at time `now` and returns the new state and the effects to carry out, in order.
 * Never throws, never mutates `state`.
 * @example const { state, effects } = step(cfg, initialState(cfg), { kind: 'startup', primaryAddr: '10.0.0.1' }, 0)
 */
export function step(cfg: InstanceConfig, state: InstanceState, input: VrrpInput, now: Ms): StepResult {
  const c: Ctx = { cfg, now, s: { ...state, timers: { ...state.timers } }, fx: [] };
  switch (input.kind) {
    case 'startup':
      onStartup(c, input.primaryAddr);
      break;
    case 'shutdown':
      onShutdown(c, input.handover ?? false);
      break;
    case 'timer':
      onTimer(c, input.timer, input.lateMs ?? 0);
      break;
    case 'guardVerdict':
      onGuardVerdict(c, input);
      break;
    case 'fenceResult':
      onFenceResult(c, input.round, input.ok, input.detail);
      break;
    case 'advert':
      onAdvert(c, input.packet, input.src);
      break;
    case 'tracker':
      onTracker(c, input.id, input.up);
      break;
    case 'sync':
      onSync(c, input.to);
      break;
    case 'setPriority':
      onSetPriority(c, input.priority, input.release ?? false);
      break;
  }
  return { state: c.s, effects: c.fx };
}
