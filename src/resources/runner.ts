/**
 * Runs one resource group: drives the pure plan (plan.ts) with an injected clock, calls the agents one at a time with
 * their timeouts and an AbortSignal, logs every call with its result, duration and output, and tells the owner (the
 * VRRP instance or sync group the daemon bound the group to) when to give up ownership and when it may take it back.
 *
 * Nothing here blocks: agent calls are promises, the one timer is the plan's wake-up (next monitor, failure expiry),
 * and every call's deadline runs on the same clock, so a simulation drives it all without sleeping.
 */
import { TandemError } from '../core/errors.ts';
import { EventBus } from '../core/events.ts';
import type { Cancel, Clock, Ms } from '../core/time.ts';
import {
  type GiveUpReason,
  type GroupCause,
  type GroupEffect,
  type GroupEvent,
  type GroupPhase,
  type GroupPlanConfig,
  type GroupState,
  initialGroupState,
  isSettled,
  type PlanAction,
  type ReclaimCause,
  type ResourceStatus,
  step,
} from './plan.ts';
import { type AgentResult, type AgentResultCode, boundOutput, type ResourceAgent } from './types.ts';

/**
 * What the runner tells the group's owner. The daemon implements it on the owner instance: give-up lowers its
 * priority or puts it in FAULT (so a peer takes over), reclaim restores it.
 */
export interface OwnerHook {
  /** Everything is stopped after a fatal failure; stop claiming the group. */
  onGiveUp(group: string, reason: GiveUpReason): void;
  /** The failures that caused a give-up expired or were cleaned up: the node may claim the group again. */
  onReclaim?(group: string, cause: ReclaimCause): void;
  /** A stop failed: the group is blocked until cleanup (a fence or an operator is needed). */
  onBlocked?(group: string, resource: string, code: AgentResultCode): void;
}

/** Where the runner writes its lines (structurally the daemon's Logger). */
export interface GroupLogger {
  log(level: 'error' | 'warn' | 'info' | 'debug', msg: string, fields?: Record<string, unknown>): void;
}

/** One resource of a running group. */
export interface RunnerResource {
  /** Name in logs and status. */
  id: string;
  agent: ResourceAgent;
  /** Monitor period; 0 = never monitored. */
  monitorIntervalMs: Ms;
  monitorTimeoutMs: Ms;
  startTimeoutMs: Ms;
  stopTimeoutMs: Ms;
}

/** Typed events of the runner (Rule 9): logs, metrics and the API subscribe. */
export interface ResourceEvents extends Record<string, unknown> {
  'group-transition': { at: Ms; group: string; from: GroupPhase; to: GroupPhase; cause: GroupCause };
  'resource-action': {
    at: Ms;
    group: string;
    index: number;
    resource: string;
    agent: string;
    action: PlanAction;
    code: AgentResultCode;
    durationMs: Ms;
    detail?: string;
    output?: string;
  };
  'group-give-up': { at: Ms; group: string; reason: GiveUpReason };
  'group-reclaim': { at: Ms; group: string; cause: ReclaimCause };
  'group-blocked': { at: Ms; group: string; resource: string; code: AgentResultCode };
}

/** Options of {@link GroupRunner}. */
export interface GroupRunnerOptions {
  name: string;
  /** Started in this order, stopped in reverse. */
  resources: readonly RunnerResource[];
  /** @default 3 */
  migrationThreshold?: number;
  /** 0 = failures are never forgotten. @default 0 */
  failureTimeoutMs?: Ms;
  /** Start in maintenance. @default false */
  maintenance?: boolean;
  /** Probe every resource when the runner starts, to learn what already runs. @default true */
  probe?: boolean;
  clock: Clock;
  owner: OwnerHook;
  log?: GroupLogger;
  events?: EventBus<ResourceEvents>;
  /** After a timed-out call is aborted, how long to wait for it to end before moving on. @default 5000 */
  abortGraceMs?: Ms;
  /**
   * The environment object the group's agents run with (AgentDeps.env): the runner sets `TANDEM_FENCING_TOKEN` in it
   * with each ownership, so a script or agent can refuse a stale owner. @default none
   */
  env?: Record<string, string | undefined>;
}

/** The last result of a resource, with what the runner measured. */
export interface ResourceResultStatus {
  action: PlanAction;
  code: AgentResultCode;
  at: Ms;
  durationMs: Ms;
  detail?: string;
}

/** A group's status: plain data for the API and `tandem status`. */
export interface GroupStatus {
  name: string;
  phase: GroupPhase;
  owned: boolean;
  /** The fencing token of the last ownership this node got (0: never owned). */
  token: number;
  maintenance: boolean;
  /** Why the group is banned on this node, or null. */
  banned: GiveUpReason | null;
  /** The action in flight, if any. */
  busy: { action: PlanAction; resource: string; since: Ms } | null;
  resources: {
    id: string;
    agent: string;
    status: ResourceStatus;
    failCount: number;
    lastFailureAt: Ms | null;
    last: ResourceResultStatus | null;
  }[];
}

interface Call {
  op: number;
  ctl: AbortController;
  /** The plan asked to abort it: its result is `cancelled` whatever the agent says. */
  cancelled: boolean;
}

/**
 * Drives one group. Call {@link start} once; then report ownership with {@link setOwner}.
 * @example
 * const g = new GroupRunner({ name: 'web', resources, clock, owner: { onGiveUp: () => fault(vi) } });
 * g.start(); g.setOwner(true); … await g.shutdown();
 */
export class GroupRunner {
  readonly name: string;
  readonly #opts: GroupRunnerOptions;
  readonly #cfg: GroupPlanConfig;
  readonly #clock: Clock;
  #state: GroupState;
  readonly #queue: GroupEvent[] = [];
  #draining = false;
  #wake: Cancel | null = null;
  readonly #calls = new Map<number, Call>();
  readonly #last: (ResourceResultStatus | null)[];
  #busySince: Ms = 0;
  #started = false;
  #token = 0;
  #closed = false;
  readonly #settleWaiters: (() => void)[] = [];

  /** Throws TND_RES_GROUP for a group the config checks should have refused. */
  constructor(opts: GroupRunnerOptions) {
    checkGroup(opts);
    this.name = opts.name;
    this.#opts = opts;
    this.#clock = opts.clock;
    this.#cfg = {
      name: opts.name,
      resources: opts.resources.map((r) => ({
        id: r.id,
        monitorIntervalMs: r.agent.canMonitor ? Math.max(0, r.monitorIntervalMs) : 0,
      })),
      migrationThreshold: opts.migrationThreshold ?? 3,
      failureTimeoutMs: opts.failureTimeoutMs ?? 0,
    };
    this.#state = initialGroupState(this.#cfg, {
      probe: opts.probe ?? true,
      ...(opts.maintenance !== undefined ? { maintenance: opts.maintenance } : {}),
    });
    this.#last = opts.resources.map(() => null);
  }

  /** Starts managing the group: probes (unless disabled), then follows ownership. Calling it twice does nothing. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#log('info', `group ${this.name}: managing ${this.#opts.resources.length} resource(s), ${this.#state.phase}`);
    this.#feed({ kind: 'tick' });
  }

  /** The elector's word: this node owns the group (true) or not, with the ownership's fencing token. */
  setOwner(owned: boolean, token = 0): void {
    this.#token = owned ? token : this.#token;
    const env = this.#opts.env;
    if (env && owned) env.TANDEM_FENCING_TOKEN = String(token);
    this.#feed({ kind: owned ? 'owner-gained' : 'owner-lost' });
  }

  /** Maintenance on: neither start nor stop, monitors suspended. Off: probe, then manage again. */
  setMaintenance(on: boolean): void {
    this.#feed({ kind: 'maintenance', on });
  }

  /** Forgets every failure and a blocked stop (the operator fixed the cause). */
  cleanup(): void {
    this.#feed({ kind: 'cleanup' });
  }

  /**
   * Stops the group right to left and resolves when nothing runs and nothing is in flight (or the group is blocked,
   * or in maintenance, which stops nothing). Afterwards the runner does nothing more.
   */
  shutdown(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.#settleWaiters.push(resolve));
    if (!this.#started) this.start();
    this.#feed({ kind: 'shutdown' });
    return done;
  }

  /**
   * Like a SIGKILLed daemon: the runner stops at once without stopping anything (what runs keeps running, calls in
   * flight are left to finish on their own). The simulator's `kill`.
   */
  abandon(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#wake?.();
    this.#wake = null;
  }

  /** The plan state (plain, serialisable). */
  get state(): GroupState {
    return this.#state;
  }

  /** Status as plain data. */
  status(): GroupStatus {
    const s = this.#state;
    const f = s.inFlight;
    return {
      name: this.name,
      phase: s.phase,
      owned: s.owned,
      token: this.#token,
      maintenance: s.maintenance,
      banned: s.banReason,
      busy: f ? { action: f.action, resource: this.#opts.resources[f.index]!.id, since: this.#busySince } : null,
      resources: s.resources.map((r, i) => {
        const res = this.#opts.resources[i]!;
        return {
          id: res.id,
          agent: res.agent.describe(),
          status: r.status,
          failCount: r.failCount,
          lastFailureAt: r.lastFailureAt,
          last: this.#last[i] ? { ...this.#last[i] } : null,
        };
      }),
    };
  }

  #feed(ev: GroupEvent): void {
    if (this.#closed) return;
    this.#queue.push(ev);
    // An owner hook may report ownership from inside an effect (a synchronous VRRP transition): queue, never nest.
    if (this.#draining) return;
    this.#draining = true;
    try {
      for (let next = this.#queue.shift(); next; next = this.#queue.shift()) {
        const { state, effects } = step(this.#cfg, this.#state, next, this.#clock.now());
        this.#state = state;
        for (const e of effects) this.#do(e);
      }
    } finally {
      this.#draining = false;
    }
    if (this.#state.shutdown && isSettled(this.#state)) this.#close();
  }

  #close(): void {
    this.#closed = true;
    this.#wake?.();
    this.#wake = null;
    this.#log('info', `group ${this.name}: shut down (${this.#state.phase})`);
    for (const w of this.#settleWaiters.splice(0)) w();
  }

  #do(e: GroupEffect): void {
    const at = this.#clock.now();
    switch (e.kind) {
      case 'run':
        this.#run(e.op, e.action, e.index);
        return;
      case 'abort': {
        const call = this.#calls.get(e.op);
        if (call) {
          call.cancelled = true;
          call.ctl.abort();
        }
        return;
      }
      case 'wake':
        this.#wake?.();
        this.#wake = e.at === null ? null : this.#clock.at(e.at, () => this.#onWake());
        return;
      case 'give-up':
        this.#opts.events?.emit('group-give-up', { at, group: this.name, reason: e.reason });
        this.#guard('onGiveUp', () => this.#opts.owner.onGiveUp(this.name, e.reason));
        return;
      case 'reclaim':
        this.#opts.events?.emit('group-reclaim', { at, group: this.name, cause: e.cause });
        this.#guard('onReclaim', () => this.#opts.owner.onReclaim?.(this.name, e.cause));
        return;
      case 'blocked': {
        const resource = this.#opts.resources[e.index]!.id;
        this.#opts.events?.emit('group-blocked', { at, group: this.name, resource, code: e.code });
        this.#guard('onBlocked', () => this.#opts.owner.onBlocked?.(this.name, resource, e.code));
        return;
      }
      case 'transition':
        this.#log('info', `group ${this.name}: ${e.from} → ${e.to} (${e.cause})`, {
          event: 'group-transition',
          group: this.name,
          from: e.from,
          to: e.to,
          cause: e.cause,
        });
        this.#opts.events?.emit('group-transition', { at, group: this.name, from: e.from, to: e.to, cause: e.cause });
        return;
      case 'log':
        this.#log(e.level, `group ${this.name}: ${e.text}`, {
          event: 'group-plan',
          group: this.name,
          cause: e.cause,
          ...(e.index !== undefined ? { resource: this.#opts.resources[e.index]!.id } : {}),
        });
        return;
    }
  }

  #onWake(): void {
    this.#wake = null;
    this.#feed({ kind: 'tick' });
  }

  /** Calls an agent with its timeout and a signal; feeds the result back exactly once. */
  #run(op: number, action: PlanAction, index: number): void {
    const res = this.#opts.resources[index]!;
    const timeoutMs =
      action === 'start' ? res.startTimeoutMs : action === 'stop' ? res.stopTimeoutMs : res.monitorTimeoutMs;
    const call: Call = { op, ctl: new AbortController(), cancelled: false };
    this.#calls.set(op, call);
    const t0 = this.#clock.now();
    this.#busySince = t0;
    let done = false;
    let timedOut = false;
    let grace: Cancel | null = null;
    const finish = (r: AgentResult): void => {
      if (done) return;
      done = true;
      deadline();
      grace?.();
      this.#calls.delete(op);
      const code: AgentResultCode = call.cancelled ? 'cancelled' : timedOut ? 'timeout' : r.code;
      const result = { ...r, code, ...(timedOut ? { detail: `no result within ${timeoutMs} ms` } : {}) };
      this.#record(index, action, result, this.#clock.now() - t0);
      this.#feed({ kind: 'result', op, action, index, code });
    };
    const deadline = this.#clock.at(t0 + timeoutMs, () => {
      if (done) return;
      timedOut = true;
      call.ctl.abort();
      // The agent kills what it ran; give it a moment to report, so the next call does not race the dying one.
      grace = this.#clock.at(this.#clock.now() + (this.#opts.abortGraceMs ?? 5_000), () =>
        finish({ code: 'timeout', detail: 'the call did not end after it was aborted' }),
      );
    });
    let pending: Promise<AgentResult>;
    try {
      pending =
        action === 'start'
          ? res.agent.start(call.ctl.signal, timeoutMs)
          : action === 'stop'
            ? res.agent.stop(call.ctl.signal, timeoutMs)
            : res.agent.monitor(call.ctl.signal, timeoutMs, action === 'probe');
    } catch (e) {
      pending = Promise.reject(e);
    }
    pending.then(finish, (e: unknown) =>
      finish({ code: 'generic-error', detail: `agent threw: ${e instanceof Error ? e.message : String(e)}` }),
    );
  }

  #record(index: number, action: PlanAction, r: AgentResult, durationMs: Ms): void {
    const res = this.#opts.resources[index]!;
    const n = this.#opts.resources.length;
    const at = this.#clock.now();
    this.#last[index] = {
      action,
      code: r.code,
      at,
      durationMs,
      ...(r.detail ? { detail: r.detail } : {}),
    };
    const output = r.output ? boundOutput(r.output) : '';
    const detail = r.detail ? ` (${r.detail})` : '';
    const ok = r.code === 'ok' || (action === 'probe' && r.code === 'not-running') || r.code === 'cancelled';
    // Routine monitors that pass stay at debug: a line every interval per resource would drown the log.
    const level = !ok ? (action === 'stop' ? 'error' : 'warn') : action === 'monitor' ? 'debug' : 'info';
    this.#log(
      level,
      `group ${this.name}: ${action} ${index + 1}/${n} ${res.agent.describe()} (${res.id}): ` +
        `${r.code} in ${durationMs} ms${detail}`,
      {
        event: 'resource-action',
        group: this.name,
        resource: res.id,
        action,
        code: r.code,
        durationMs,
        ...(r.exitCode !== undefined ? { exitCode: r.exitCode } : {}),
        ...(output ? { output } : {}),
      },
    );
    if (output) this.#log(ok ? 'debug' : level, `group ${this.name}: ${res.id} ${action} output: ${output}`);
    this.#opts.events?.emit('resource-action', {
      at,
      group: this.name,
      index,
      resource: res.id,
      agent: res.agent.describe(),
      action,
      code: r.code,
      durationMs,
      ...(r.detail ? { detail: r.detail } : {}),
      ...(output ? { output } : {}),
    });
  }

  #guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.#log('error', `group ${this.name}: owner ${what} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  #log(level: 'error' | 'warn' | 'info' | 'debug', msg: string, fields?: Record<string, unknown>): void {
    this.#opts.log?.log(level, msg, fields);
  }
}

function checkGroup(opts: GroupRunnerOptions): void {
  const bad = (why: string): never => {
    throw new TandemError('TND_RES_GROUP', `group ${opts.name}: ${why}`);
  };
  if (opts.resources.length === 0) bad('has no resources');
  const ids = new Set<string>();
  for (const r of opts.resources) {
    if (ids.has(r.id)) bad(`two resources are named ${r.id}`);
    ids.add(r.id);
    for (const [k, v] of Object.entries({
      start_timeout: r.startTimeoutMs,
      stop_timeout: r.stopTimeoutMs,
      monitor_timeout: r.monitorTimeoutMs,
    }))
      if (!(Number.isFinite(v) && v > 0)) bad(`${r.id}: ${k} must be a positive number of ms, got ${v}`);
    if (!(Number.isFinite(r.monitorIntervalMs) && r.monitorIntervalMs >= 0))
      bad(`${r.id}: monitor_interval must be 0 or more ms, got ${r.monitorIntervalMs}`);
  }
  const t = opts.migrationThreshold ?? 3;
  if (!(Number.isInteger(t) && t >= 1)) bad(`migration_threshold must be a whole number ≥ 1, got ${t}`);
  const ft = opts.failureTimeoutMs ?? 0;
  if (!(Number.isFinite(ft) && ft >= 0)) bad(`failure_timeout must be 0 or more ms, got ${ft}`);
}

/** A new event bus for runner events. */
export function resourceEvents(): EventBus<ResourceEvents> {
  return new EventBus<ResourceEvents>();
}
