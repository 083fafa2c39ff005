/**
 * Runs the health checks of many targets on an injected Clock, at most `maxConcurrent` at a time, and turns their
 * results into UP/DOWN with one rise/fall counter per target (`hysteresis`). Nothing here blocks: checks are async
 * I/O with their own timeouts, results arrive as callbacks, so no check can delay a VRRP advert (Rule 10).
 *
 * Per target, one run at a time (`phase`):
 *
 * ```
 *   idle ──tick──► queued ──slot free──► running ──pass, or failure that counts──► idle
 *                    ▲                      │
 *                    └──delay_before_retry──┴──failure of an up/unknown target, retries left──► retry-wait
 * ```
 *
 * Ticks come on a fixed grid, `intervalMs` apart, from a first tick spread by `warmupMs`. A tick that finds the target
 * not idle (still queued, running, or between retries) is skipped, not stacked. Only counted results move the
 * counter; `onChange` fires when the state (`unknown` → `up`/`down`, `up` ↔ `down`) changes.
 */
import { stableKey } from '../core/diff.ts';
import { TandemError } from '../core/errors.ts';
import type { Rng } from '../core/rng.ts';
import type { Cancel, Clock, Ms } from '../core/time.ts';
import { type Checker, runProbe } from './checker.ts';
import { applyCheck, initialHealth, isHealthy } from './hysteresis.ts';
import { type CheckResult, type CheckSpec, passed, probeTimeoutMs, timeoutCode } from './types.ts';

/** A target's health: `unknown` until its first counted result (unless it starts DOWN with `alpha`). */
export type TargetState = 'unknown' | 'up' | 'down';

/** One thing to check: a real server's checker, say. `id` is the caller's (e.g. `web/198.18.1.12:80/tcp`). */
export interface HealthTarget {
  id: string;
  check: CheckSpec;
  /**
   * When the first run starts, instead of a random point of the warmup: vrrp_scripts spread their first runs by a
   * hash of their name, so that a restart keeps each one's spot (health/vrrp-script.ts). @default random in warmupMs
   */
  firstDelayMs?: Ms;
}

/** A state change, the only thing the load balancer needs. @see HAProxy src/check.c set_server_check_status */
export interface HealthChange {
  id: string;
  up: boolean;
  from: TargetState;
  /** The result that decided it. */
  result: CheckResult;
  /** The rise/fall counter after it, 0..rise+fall-1. */
  health: number;
  /** misc_dynamic weight in force, if any. */
  weight?: number;
}

/** Every run's result, for metrics and debug logs. */
export interface HealthResultEvent {
  id: string;
  result: CheckResult;
  /** 0 for the scheduled run, n for its n-th retry. */
  attempt: number;
  /** False for a failure that will be retried: it did not move the counter. */
  counted: boolean;
  health: number;
  state: TargetState;
}

/** A target as the API and `tandem status` show it. Plain data. */
export interface TargetStatus {
  id: string;
  state: TargetState;
  health: number;
  weight?: number;
  last?: CheckResult;
  /** A run is queued, running, or waiting to retry. */
  busy: boolean;
  runs: number;
  /** Ticks skipped because the previous run had not finished. */
  skipped: number;
}

/** What `add` did with a target. `retimed`: same probe, new timing, state kept. `replaced`: new probe, state reset. */
export type AddOutcome = 'added' | 'kept' | 'retimed' | 'replaced';

/** What `update` did, by target id. */
export interface UpdateReport {
  added: string[];
  kept: string[];
  retimed: string[];
  replaced: string[];
  removed: string[];
}

/** Options of a HealthScheduler. */
export interface HealthSchedulerOptions {
  /** Time for ticks, retries and guards. The daemon passes a wall clock, tests a SimClock. */
  clock: Clock;
  /** Chance for warmup spreading. */
  rng: Rng;
  /** Most runs in flight at once; the rest wait in a FIFO queue. @default 64 */
  maxConcurrent?: number;
  /** Runs a probe. @default runProbe */
  run?: Checker;
  /**
   * A run not settled this long after its probe's timeout is aborted and counted as a timeout (L4TOUT, L7TOUT,
   * PROCTOUT). More than runCommand's kill grace, so a script's own timeout result normally wins. @default 2500
   */
  guardMs?: number;
  /** A target changed state. Called synchronously; must not throw (a throw is swallowed). */
  onChange: (change: HealthChange) => void;
  /** Every run's result, retried failures included. */
  onResult?: (event: HealthResultEvent) => void;
  /** A misc_dynamic weight changed (undefined: back to the configured weight, exit 0). @see keepalived update_svr_wgt */
  onWeight?: (id: string, weight: number | undefined, result: CheckResult) => void;
}

type Phase = 'idle' | 'queued' | 'running' | 'retry-wait';

interface Entry {
  target: HealthTarget;
  probeKey: string;
  timingKey: string;
  state: TargetState;
  health: number;
  weight: number | undefined;
  last: CheckResult | undefined;
  phase: Phase;
  /** Retries made in the current sequence. */
  attempt: number;
  nextTickAt: Ms;
  tick: Cancel | null;
  retryTimer: Cancel | null;
  run: AbortController | null;
  removed: boolean;
  runs: number;
  skipped: number;
  /** When the last run ended: a tick due before then found the target busy, however late its timer fired. */
  idleSince: Ms;
}

/** Timing fields: a change in these keeps the target's state. Everything else in a CheckSpec is the probe. */
const TIMING_KEYS = ['intervalMs', 'rise', 'fall', 'retries', 'delayBeforeRetryMs', 'warmupMs', 'alpha'] as const;

/**
 * The health-check engine of one node.
 * @example
 * const hs = new HealthScheduler({ clock, rng, onChange: (c) => log.info(formatHealthChange(vs, rs, c.up, c.result)) });
 * hs.update(targets); hs.start(signal);
 */
export class HealthScheduler {
  readonly #clock: Clock;
  readonly #rng: Rng;
  readonly #max: number;
  readonly #run: Checker;
  readonly #guardMs: number;
  readonly #opts: HealthSchedulerOptions;
  readonly #entries = new Map<string, Entry>();
  #queue: Entry[] = [];
  #head = 0;
  #inFlight = 0;
  #maxInFlight = 0;
  #runs = 0;
  #skipped = 0;
  #mode: 'new' | 'running' | 'stopped' = 'new';
  readonly #settled: (() => void)[] = [];

  constructor(opts: HealthSchedulerOptions) {
    const max = opts.maxConcurrent ?? 64;
    if (!Number.isInteger(max) || max < 1) {
      throw new TandemError('TND_HEALTH_TARGET', `maxConcurrent must be a whole number ≥ 1, got ${max}`);
    }
    this.#opts = opts;
    this.#clock = opts.clock;
    this.#rng = opts.rng;
    this.#max = max;
    this.#run = opts.run ?? runProbe;
    this.#guardMs = opts.guardMs ?? 2_500;
  }

  /** Starts checking every target (first runs spread over their warmup) until `signal` fires. Once only. */
  start(signal: AbortSignal): void {
    if (this.#mode !== 'new') return;
    if (signal.aborted) {
      this.#mode = 'stopped';
      return;
    }
    this.#mode = 'running';
    signal.addEventListener('abort', () => this.#stop(), { once: true });
    for (const e of this.#entries.values()) this.#armFirst(e);
  }

  /** Resolves once stopped and no run is left in flight (at once if never started). */
  get stopped(): Promise<void> {
    if (this.#mode !== 'running' && this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#settled.push(resolve));
  }

  /**
   * Adds a target, or changes one with the same id. An identical target is `kept`; one whose probe is the same but
   * timing differs is `retimed` and keeps its state and counter (clamped to the new rise/fall); a new probe is a new
   * check: `replaced`, its run aborted and its state back to unknown.
   */
  add(target: HealthTarget): AddOutcome {
    validate(target);
    const probeKey = stableKey(probeOf(target.check));
    const timingKey = stableKey(timingOf(target.check));
    const old = this.#entries.get(target.id);
    if (old && old.probeKey === probeKey) {
      if (old.timingKey === timingKey) {
        old.target = target;
        return 'kept';
      }
      this.#retime(old, target, timingKey);
      return 'retimed';
    }
    if (old) this.#drop(old);
    const e = newEntry(target, probeKey, timingKey);
    this.#entries.set(target.id, e);
    if (this.#mode === 'running') this.#armFirst(e);
    return old ? 'replaced' : 'added';
  }

  /** Stops checking a target; a run in flight is aborted and its result ignored. Returns whether it existed. */
  remove(id: string): boolean {
    const e = this.#entries.get(id);
    if (!e) return false;
    this.#drop(e);
    return true;
  }

  /** Makes the target set exactly `targets` (a reload): unchanged targets keep their state. */
  update(targets: readonly HealthTarget[]): UpdateReport {
    const ids = new Set<string>();
    for (const t of targets) {
      if (ids.has(t.id)) throw new TandemError('TND_HEALTH_TARGET', `health check target ${t.id} is listed twice`);
      ids.add(t.id);
    }
    const report: UpdateReport = { added: [], kept: [], retimed: [], replaced: [], removed: [] };
    for (const id of [...this.#entries.keys()]) {
      if (!ids.has(id)) {
        this.remove(id);
        report.removed.push(id);
      }
    }
    for (const t of targets) report[this.add(t)].push(t.id);
    return report;
  }

  /**
   * Forces a target DOWN from outside its checks (passive health: a proxy saw its connections fail), with the counter
   * at 0 so that `rise` passing checks bring it back. Fires `onChange` when the state changes. Returns whether the
   * target exists. @see HAProxy `observe layer4` + `on-error mark-down`
   */
  markDown(id: string, result: CheckResult): boolean {
    const e = this.#entries.get(id);
    if (!e) return false;
    const from = e.state;
    e.health = 0;
    e.last = result;
    e.state = 'down';
    if (from !== 'down') {
      safely(() => this.#opts.onChange({ id, up: false, from, result, health: 0 }));
    }
    return true;
  }

  /** One target's status, or undefined. */
  get(id: string): TargetStatus | undefined {
    const e = this.#entries.get(id);
    return e ? status(e) : undefined;
  }

  /** Every target's status, in insertion order. */
  list(): TargetStatus[] {
    return [...this.#entries.values()].map(status);
  }

  /** Counters for metrics: targets, runs in flight (and the most ever), queued, runs started, ticks skipped. */
  stats(): { targets: number; inFlight: number; maxInFlight: number; queued: number; runs: number; skipped: number } {
    return {
      targets: this.#entries.size,
      inFlight: this.#inFlight,
      maxInFlight: this.#maxInFlight,
      queued: this.#queue.length - this.#head,
      runs: this.#runs,
      skipped: this.#skipped,
    };
  }

  #armFirst(e: Entry): void {
    const warmup = Math.max(0, Math.trunc(e.target.check.warmupMs));
    const delay = e.target.firstDelayMs ?? (warmup > 0 ? this.#rng.int(0, warmup) : 0);
    this.#armTick(e, this.#clock.now() + delay);
  }

  #armTick(e: Entry, at: Ms): void {
    e.tick?.();
    e.nextTickAt = at;
    e.tick = this.#clock.at(at, () => this.#onTick(e));
  }

  #onTick(e: Entry): void {
    e.tick = null;
    if (this.#mode !== 'running' || e.removed) return;
    // Next tick on the grid; ticks missed while the event loop was busy are skipped, not caught up.
    const interval = e.target.check.intervalMs;
    const due = e.nextTickAt;
    const behind = Math.max(0, this.#clock.now() - due);
    this.#armTick(e, due + (Math.floor(behind / interval) + 1) * interval);
    // Busy at the tick's due time (still running then, though the timer fired after the run ended) is busy.
    if (e.phase !== 'idle' || e.idleSince > due) {
      e.skipped++;
      this.#skipped++;
      return;
    }
    e.attempt = 0;
    this.#enqueue(e);
  }

  #enqueue(e: Entry): void {
    e.phase = 'queued';
    this.#queue.push(e);
    this.#pump();
  }

  #pump(): void {
    while (this.#mode === 'running' && this.#inFlight < this.#max && this.#head < this.#queue.length) {
      const e = this.#queue[this.#head++]!;
      if (!e.removed && e.phase === 'queued') this.#launch(e);
    }
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1_024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  #launch(e: Entry): void {
    const spec = e.target.check;
    e.phase = 'running';
    e.runs++;
    this.#runs++;
    this.#inFlight++;
    this.#maxInFlight = Math.max(this.#maxInFlight, this.#inFlight);
    const ctrl = new AbortController();
    e.run = ctrl;
    const limitMs = probeTimeoutMs(spec) + this.#guardMs;
    let guarded = false;
    const cancelGuard = this.#clock.at(this.#clock.now() + limitMs, () => {
      guarded = true;
      ctrl.abort();
    });
    let pending: Promise<CheckResult>;
    try {
      pending = this.#run(spec, ctrl.signal);
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending
      .then(
        (r) => r,
        (err: unknown) => crashed(spec, err),
      )
      .then((r) => {
        cancelGuard();
        this.#inFlight--;
        if (e.run === ctrl) e.run = null;
        const result: CheckResult = guarded
          ? { code: timeoutCode(spec.kind), detail: `no result within ${limitMs} ms`, durationMs: r.durationMs }
          : r;
        // Aborted by remove/replace/stop (not by the guard): the result means nothing.
        if (this.#mode === 'running' && !e.removed && (guarded || !ctrl.signal.aborted)) this.#finish(e, result);
        this.#pump();
        this.#notifySettled();
      });
  }

  #finish(e: Entry, r: CheckResult): void {
    const spec = e.target.check;
    const ok = passed(r.code);
    e.last = r;
    // keepalived: a failed check of a server that is up, or has not run yet, is retried `retry` times,
    // `delay_before_retry` apart, before it counts (check_tcp.c tcp_epilog, check_misc.c, check_dns.c dns_final).
    if (!ok && e.state !== 'down' && e.attempt < spec.retries) {
      const attempt = e.attempt++;
      e.phase = 'retry-wait';
      this.#emitResult(e, r, attempt, false);
      e.retryTimer = this.#clock.at(this.#clock.now() + Math.max(0, spec.delayBeforeRetryMs), () => {
        e.retryTimer = null;
        if (this.#mode === 'running' && !e.removed) this.#enqueue(e);
      });
      return;
    }
    const attempt = e.attempt;
    e.attempt = 0;
    e.phase = 'idle';
    e.idleSince = this.#clock.now();
    e.health = applyCheck(e.health, ok, spec.rise, spec.fall);
    const next: TargetState = isHealthy(e.health, spec.rise) ? 'up' : 'down';
    const from = e.state;
    e.state = next;
    this.#emitResult(e, r, attempt, true);
    // misc_dynamic and FILE_CHECK results carry the weight the server is to have (keepalived update_svr_wgt).
    if (ok && ((spec.kind === 'script' && spec.dynamic) || spec.kind === 'file') && r.weight !== e.weight) {
      e.weight = r.weight;
      const w = r.weight;
      safely(() => this.#opts.onWeight?.(e.target.id, w, r));
    }
    if (next !== from) {
      const change: HealthChange = { id: e.target.id, up: next === 'up', from, result: r, health: e.health };
      if (e.weight !== undefined) change.weight = e.weight;
      safely(() => this.#opts.onChange(change));
    }
  }

  #emitResult(e: Entry, result: CheckResult, attempt: number, counted: boolean): void {
    const onResult = this.#opts.onResult;
    if (!onResult) return;
    const event = { id: e.target.id, result, attempt, counted, health: e.health, state: e.state };
    safely(() => onResult(event));
  }

  #retime(e: Entry, target: HealthTarget, timingKey: string): void {
    const before = e.target.check;
    const after = target.check;
    e.target = target;
    e.timingKey = timingKey;
    e.health = carryHealth(e.state, e.health, after.rise, after.fall);
    if (e.tick && before.intervalMs !== after.intervalMs) {
      // Keep the phase of the grid: the next tick is one new interval after the last one.
      const last = e.nextTickAt - before.intervalMs;
      this.#armTick(e, Math.max(this.#clock.now(), last + after.intervalMs));
    }
  }

  #drop(e: Entry): void {
    e.removed = true;
    e.tick?.();
    e.tick = null;
    e.retryTimer?.();
    e.retryTimer = null;
    e.run?.abort();
    this.#entries.delete(e.target.id);
  }

  #stop(): void {
    if (this.#mode !== 'running') return;
    this.#mode = 'stopped';
    for (const e of this.#entries.values()) {
      e.tick?.();
      e.tick = null;
      e.retryTimer?.();
      e.retryTimer = null;
      e.run?.abort();
      e.phase = 'idle';
      e.attempt = 0;
    }
    this.#queue = [];
    this.#head = 0;
    this.#notifySettled();
  }

  #notifySettled(): void {
    if (this.#mode === 'running' || this.#inFlight > 0) return;
    for (const resolve of this.#settled.splice(0)) resolve();
  }
}

function newEntry(target: HealthTarget, probeKey: string, timingKey: string): Entry {
  const { rise, alpha } = target.check;
  return {
    target,
    probeKey,
    timingKey,
    state: alpha ? 'down' : 'unknown',
    health: initialHealth(rise, alpha ?? false),
    weight: undefined,
    last: undefined,
    phase: 'idle',
    attempt: 0,
    nextTickAt: 0,
    tick: null,
    retryTimer: null,
    run: null,
    removed: false,
    runs: 0,
    skipped: 0,
    idleSince: Number.NEGATIVE_INFINITY,
  };
}

function status(e: Entry): TargetStatus {
  const s: TargetStatus = {
    id: e.target.id,
    state: e.state,
    health: e.health,
    busy: e.phase !== 'idle',
    runs: e.runs,
    skipped: e.skipped,
  };
  if (e.weight !== undefined) s.weight = e.weight;
  if (e.last) s.last = e.last;
  return s;
}

/** A counter moved into the new rise/fall's range on the same side of the line, so the state survives a retime. */
function carryHealth(state: TargetState, health: number, rise: number, fall: number): number {
  if (state === 'up') return Math.min(rise + fall - 1, Math.max(rise, health));
  if (state === 'down') return Math.min(rise - 1, Math.max(0, health));
  return initialHealth(rise, false);
}

/** The result for a checker that broke its contract and threw. */
function crashed(spec: CheckSpec, err: unknown): CheckResult {
  const message = err instanceof Error ? err.message : String(err);
  return { code: spec.kind === 'script' ? 'PROCERR' : 'SOCKERR', detail: `checker failed: ${message}`, durationMs: 0 };
}

function validate(t: HealthTarget): void {
  const c = t.check;
  const bad = (what: string): never => {
    throw new TandemError('TND_HEALTH_TARGET', `health check target ${t.id || '(no id)'}: ${what}`);
  };
  if (typeof t.id !== 'string' || t.id === '') bad('the id is empty');
  if (!Number.isInteger(c.rise) || c.rise < 1) bad(`rise must be a whole number ≥ 1, got ${c.rise}`);
  if (!Number.isInteger(c.fall) || c.fall < 1) bad(`fall must be a whole number ≥ 1, got ${c.fall}`);
  if (!Number.isInteger(c.retries) || c.retries < 0) bad(`retries must be a whole number ≥ 0, got ${c.retries}`);
  if (!(c.intervalMs >= 1) || !Number.isFinite(c.intervalMs)) bad(`intervalMs must be ≥ 1, got ${c.intervalMs}`);
  if (!(c.delayBeforeRetryMs >= 0)) bad(`delayBeforeRetryMs must be ≥ 0, got ${c.delayBeforeRetryMs}`);
  if (!(c.warmupMs >= 0) || !Number.isFinite(c.warmupMs)) bad(`warmupMs must be ≥ 0, got ${c.warmupMs}`);
}

function timingOf(c: CheckSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of TIMING_KEYS) out[k] = c[k];
  return out;
}

function probeOf(c: CheckSpec): Record<string, unknown> {
  const out: Record<string, unknown> = { ...c };
  for (const k of TIMING_KEYS) delete out[k];
  return out;
}

/** Runs a subscriber callback; its bug must not stop the scheduler. */
function safely(f: () => void): void {
  try {
    f();
  } catch {
    // ignored on purpose: see above
  }
}
