/**
 * The VRRP instance driver: runs one machine (machine.ts) against an injected clock, transport and effect ports,
 * and reports what happens on an event bus (Rule 9). It holds no protocol logic: every decision is the reducer's.
 * Also the sync group driver, which feeds the pure coordinator's orders (sync-group.ts) to the members.
 */
import { EventBus } from '../core/events.ts';
import type { Cancel, Clock, Ms } from '../core/time.ts';
import { matchAdvert } from './codec.ts';
import {
  type AdvertDiscard,
  type InstanceState,
  initialState,
  step,
  type TimerName,
  type TransitionCause,
  type VrrpEffect,
  type VrrpInput,
} from './machine.ts';
import type { GarpEffects, VipEffects, VrrpRx, VrrpTransport } from './ports.ts';
import { type SyncChange, syncGroupInputs, syncMemberView } from './sync-group.ts';
import type { InstanceConfig, VrrpDrop, VrrpPacket, VrrpState } from './types.ts';

/** Fields every VRRP event carries. */
interface EventBase {
  /** The node, when the driver was given one (the simulator runs many nodes in one process). */
  node?: string;
  instance: string;
  at: Ms;
}

/** The events a VRRP instance emits, by kind. */
export type VrrpEvents = {
  transition: EventBase & { from: VrrpState; to: VrrpState; cause: TransitionCause; priority: number };
  advertSent: EventBase & { priority: number; to?: string };
  advertReceived: EventBase & { src: string; priority: number };
  /** The transport or matchAdvert dropped a packet. */
  drop: EventBase & { src: string; reason: VrrpDrop; detail: string };
  /** The machine ignored an advert. */
  discard: EventBase & { src: string; priority: number; reason: AdvertDiscard };
  priority: EventBase & { from: number; to: number };
  vips: EventBase & { op: 'add' | 'remove'; addrs: string[] };
  /** An asynchronous effect failed; the machine does not wait for effects, so this is the only trace. */
  effectFailed: EventBase & { effect: 'addVips' | 'delVips' | 'garp'; error: string };
  /** The takeover guard changed phase (docs/split-brain.md; guard.ts has the table). */
  guard: EventBase & Omit<Extract<VrrpEffect, { kind: 'guard' }>, 'kind'>;
  /** A fence agent finished (the node runs it for a `fence` effect). */
  fence: EventBase & {
    device: string;
    target: string;
    outcome: 'ok' | 'failed' | 'timeout' | 'error';
    code: number | null;
    durationMs: number;
    detail: string;
  };
  /** A timer fired after a pause longer than any Master_Down_Interval. */
  paused: EventBase & { lateMs: number; action: 'stepped-down' | 'relistening' };
  /** A make-before-break handover began, heard the new master, or released the VIPs (docs/handover.md). */
  handover: EventBase & Omit<Extract<VrrpEffect, { kind: 'handover' }>, 'kind'>;
};

/** The guard's probe and fence requests, as the machine emits them. */
export type ProbeEffect = Extract<VrrpEffect, { kind: 'probe' }>;
export type FenceEffect = Extract<VrrpEffect, { kind: 'fence' }>;

/**
 * Runs the guard's requests (node/guard.ts): each must end with a `guardVerdict` or `fenceResult` fed to the instance
 * by the request's deadline (the machine has a backstop). Never blocks the step.
 */
export interface GuardRunner {
  probe(req: ProbeEffect, vi: VrrpInstance): void;
  fence(req: FenceEffect, vi: VrrpInstance): void;
}

/** Instance-level receive checks; the codec's matchAdvert by default. */
export type AdvertMatcher = (
  packet: VrrpPacket,
  cfg: InstanceConfig,
  opts?: { skipAddrList?: boolean },
) => { ok: true } | { ok: false; reason: VrrpDrop; detail: string };

/**
 * keepalived skip_check_adv_addr: a BACKUP does not check the address list of an advert from the master it already
 * follows (the list was checked when that master was first heard); any other advert, or any advert in another
 * state, is checked in full. Pure.
 * @see keepalived vrrp.c vrrp_state_backup (check_addr unless the source is master_saddr)
 */
export function skipsAddrCheck(
  cfg: Pick<InstanceConfig, 'skipCheckAdvAddr'>,
  state: InstanceState,
  src: string,
): boolean {
  return cfg.skipCheckAdvAddr === true && state.state === 'BACKUP' && state.master?.addr === src;
}

/** What a {@link VrrpInstance} runs with. */
export interface VrrpInstanceOptions {
  config: InstanceConfig;
  clock: Clock;
  transport: VrrpTransport;
  vips: VipEffects;
  garp: GarpEffects;
  /** Where events go. @default a private bus */
  events?: EventBus<VrrpEvents>;
  /** A node name to put on events. */
  node?: string;
  /** Receive checks before the machine sees an advert; null turns them off. @default matchAdvert */
  match?: AdvertMatcher | null;
  /** Runtime state carried over a reload (Rule 6). @default initialState(config) */
  state?: InstanceState;
  /** Runs the takeover guard's probes and fences; without it a guarded round is unconfirmed at once. */
  guard?: GuardRunner;
}

/** Called after every step with the new state, the effects and the input that caused them. */
export type StepListener = (state: InstanceState, effects: readonly VrrpEffect[], input: VrrpInput) => void;

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * Drives one VRRP instance.
 * @example const vi = new VrrpInstance({ config, clock, transport, vips, garp }); vi.start('198.18.0.1');
 */
export class VrrpInstance {
  readonly config: InstanceConfig;
  readonly events: EventBus<VrrpEvents>;
  readonly #opts: VrrpInstanceOptions;
  readonly #timers = new Map<TimerName, Cancel>();
  readonly #listeners = new Set<StepListener>();
  readonly #queue: VrrpInput[] = [];
  #state: InstanceState;
  #feeding = false;
  /** The last address change still in flight, so that a gratuitous ARP waits for it. */
  #vipsDone: Promise<void> | null = null;
  #unsubscribe: (() => void) | null = null;

  constructor(opts: VrrpInstanceOptions) {
    this.#opts = opts;
    this.config = opts.config;
    this.events = opts.events ?? new EventBus<VrrpEvents>();
    this.#state = opts.state ?? initialState(opts.config);
  }

  /** The instance name. */
  get name(): string {
    return this.config.name;
  }

  /** The current runtime state. */
  get state(): InstanceState {
    return this.#state;
  }

  /** Starts listening and feeds the Startup event. `primaryAddr` is the address adverts go out from. */
  start(primaryAddr: string): void {
    this.#unsubscribe ??= this.#opts.transport.onReceive((rx) => this.#receive(rx));
    this.feed({ kind: 'startup', primaryAddr });
  }

  /** Graceful stop: the Shutdown event (a master sends priority 0 and removes its VIPs), then stops listening. */
  stop(): void {
    this.feed({ kind: 'shutdown' });
    this.#detach();
  }

  /**
   * Graceful stop, make-before-break (docs/handover.md): a master keeps its VIPs, and keeps listening, until a new
   * master has been heard (or the machine's deadline passed); then it enters INIT and stops listening. Resolves then,
   * once the address change is done; at once for a node that is not master.
   */
  handOver(): Promise<void> {
    this.feed({ kind: 'shutdown', handover: true });
    if (this.#state.state === 'INIT') {
      this.#detach();
      return this.vipsSettled;
    }
    return new Promise<void>((resolve) => {
      const off = this.onStep((state) => {
        if (state.state !== 'INIT') return;
        off();
        this.#detach();
        void this.vipsSettled.then(resolve);
      });
    });
  }

  /** Like SIGKILL: stops listening and cancels every timer, with no effects (the VIPs stay where they are). */
  kill(): void {
    this.#detach();
  }

  /** Reports a tracked object's state. */
  setTracker(id: string, up: boolean): void {
    this.feed({ kind: 'tracker', id, up });
  }

  /** Sets a runtime base priority (1..255); null restores the configured one. `release`: a master hands over now. */
  setPriority(priority: number | null, release = false): void {
    this.feed({ kind: 'setPriority', priority, ...(release ? { release } : {}) });
  }

  /** Subscribes to every step; returns the unsubscribe function. */
  onStep(listener: StepListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Feeds one input. Inputs fed while a step runs (from a listener) are queued and run after it, in order. */
  feed(input: VrrpInput): void {
    this.#queue.push(input);
    if (this.#feeding) return;
    this.#feeding = true;
    try {
      for (let next = this.#queue.shift(); next; next = this.#queue.shift()) this.#process(next);
    } finally {
      this.#feeding = false;
    }
  }

  #process(input: VrrpInput): void {
    const { state, effects } = step(this.config, this.#state, input, this.#opts.clock.now());
    this.#state = state;
    for (const e of effects) this.#run(e);
    for (const l of [...this.#listeners]) l(state, effects, input);
  }

  #base(): EventBase {
    const { node } = this.#opts;
    return { ...(node === undefined ? {} : { node }), instance: this.config.name, at: this.#opts.clock.now() };
  }

  #receive(rx: VrrpRx): void {
    if (!rx.ok) {
      this.events.emit('drop', { ...this.#base(), src: rx.src, reason: rx.reason, detail: rx.detail });
      return;
    }
    const match = this.#opts.match === undefined ? matchAdvert : this.#opts.match;
    const skip = skipsAddrCheck(this.config, this.#state, rx.src);
    const verdict = match ? match(rx.packet, this.config, skip ? { skipAddrList: true } : {}) : { ok: true as const };
    if (!verdict.ok) {
      this.events.emit('drop', { ...this.#base(), src: rx.src, reason: verdict.reason, detail: verdict.detail });
      return;
    }
    this.events.emit('advertReceived', { ...this.#base(), src: rx.src, priority: rx.packet.priority });
    this.feed({ kind: 'advert', packet: rx.packet, src: rx.src });
  }

  #run(e: VrrpEffect): void {
    const { transport, clock } = this.#opts;
    switch (e.kind) {
      case 'send': {
        const peers = this.config.unicastPeers;
        if (transport.sendAdvert) transport.sendAdvert(e.packet);
        else if (peers.length === 0) transport.send(e.packet);
        if (!transport.sendAdvert) for (const peer of peers) transport.send(e.packet, peer);
        this.events.emit('advertSent', { ...this.#base(), priority: e.packet.priority });
        break;
      }
      case 'arm': {
        this.#timers.get(e.timer)?.();
        const timer = e.timer;
        this.#timers.set(
          timer,
          clock.at(e.at, () => {
            this.#timers.delete(timer);
            // How late it fires tells a pause (SIGSTOP, a frozen VM) from an ordinary event loop delay.
            this.feed({ kind: 'timer', timer, lateMs: Math.max(0, clock.now() - e.at) });
          }),
        );
        break;
      }
      case 'disarm':
        this.#timers.get(e.timer)?.();
        this.#timers.delete(e.timer);
        break;
      case 'addVips':
        this.#vipsDone = this.#effect('addVips', () => this.#opts.vips.add(e.vips));
        this.events.emit('vips', { ...this.#base(), op: 'add', addrs: e.vips.map((v) => v.addr) });
        break;
      case 'delVips':
        this.#vipsDone = this.#effect('delVips', () => this.#opts.vips.remove(e.vips));
        this.events.emit('vips', { ...this.#base(), op: 'remove', addrs: e.vips.map((v) => v.addr) });
        break;
      case 'garp': {
        // Announce only once the addresses are on the interface: a client that switches its ARP entry before the
        // address exists sends its SYN into a drop and waits a full retransmission timeout.
        const announce = () => this.#opts.garp.announce(e.vips, e.repeat);
        const pending = this.#vipsDone;
        this.#effect('garp', pending ? () => pending.then(announce) : announce);
        break;
      }
      case 'transition':
        this.events.emit('transition', {
          ...this.#base(),
          from: e.from,
          to: e.to,
          cause: e.cause,
          priority: this.#state.effectivePriority,
        });
        break;
      case 'priority':
        this.events.emit('priority', { ...this.#base(), from: e.from, to: e.to });
        break;
      case 'discard':
        this.events.emit('discard', { ...this.#base(), src: e.src, priority: e.priority, reason: e.reason });
        break;
      case 'probe':
        if (this.#opts.guard) this.#opts.guard.probe(e, this);
        else
          this.#queue.push({
            kind: 'guardVerdict',
            round: e.round,
            verdict: 'unconfirmed',
            via: [],
            detail: 'no probes',
          });
        break;
      case 'fence':
        if (this.#opts.guard) this.#opts.guard.fence(e, this);
        else this.#queue.push({ kind: 'fenceResult', round: e.round, ok: false, detail: 'no fence runner' });
        break;
      case 'guard': {
        const { kind: _k, ...rest } = e;
        this.events.emit('guard', { ...this.#base(), ...rest });
        break;
      }
      case 'paused':
        this.events.emit('paused', { ...this.#base(), lateMs: e.lateMs, action: e.action });
        break;
      case 'handover': {
        const { kind: _k, ...rest } = e;
        this.events.emit('handover', { ...this.#base(), ...rest });
        break;
      }
    }
  }

  /** Resolves once the last address change asked of the VIP adapter has finished (at once if none is pending). */
  get vipsSettled(): Promise<void> {
    return this.#vipsDone ?? Promise.resolve();
  }

  /** Runs an effect without waiting for it: a slow or failing OS call must not hold up the state machine. */
  #effect(effect: 'addVips' | 'delVips' | 'garp', run: () => unknown): Promise<void> | null {
    const failed = (err: unknown): void =>
      this.events.emit('effectFailed', { ...this.#base(), effect, error: errorText(err) });
    try {
      const r = run();
      // A synchronous effect (the simulator's) is done now: nothing to wait for, so the order stays synchronous.
      if (r && typeof (r as Promise<unknown>).then === 'function')
        return (r as Promise<unknown>).then(() => undefined, failed);
    } catch (err) {
      failed(err);
    }
    return null;
  }

  #detach(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    for (const cancel of this.#timers.values()) cancel();
    this.#timers.clear();
  }
}

/** A bound on one cascade of orders; a correct coordinator converges in a couple of rounds. */
const MAX_SYNC_ROUNDS = 64;

/**
 * Keeps the members of one sync group in step: after each member step it asks the pure coordinator for orders and
 * feeds them. Members must be distinct instances on one node.
 */
export class SyncGroupRunner {
  readonly name: string;
  readonly #members: readonly VrrpInstance[];
  readonly #unsubscribe: (() => void)[];
  readonly #pending: (SyncChange | undefined)[] = [];
  #busy = false;

  constructor(name: string, members: readonly VrrpInstance[]) {
    this.name = name;
    this.#members = members;
    this.#unsubscribe = members.map((m) =>
      m.onStep((_state, effects) => {
        let change: SyncChange | undefined;
        for (const e of effects) {
          if (e.kind === 'transition') change = { member: m.name, from: e.from, to: e.to, cause: e.cause };
        }
        this.#settle(change);
      }),
    );
  }

  /** Stops following the members. */
  dispose(): void {
    for (const u of this.#unsubscribe) u();
  }

  #settle(change: SyncChange | undefined): void {
    this.#pending.push(change);
    if (this.#busy) return;
    this.#busy = true;
    try {
      for (let round = 0; this.#pending.length > 0 && round < MAX_SYNC_ROUNDS; round++) {
        const next = this.#pending.shift();
        const views = this.#members.map((m) => syncMemberView(m.name, m.state));
        for (const order of syncGroupInputs(views, next)) {
          this.#members.find((m) => m.name === order.member)?.feed(order.input);
        }
      }
      this.#pending.length = 0;
    } finally {
      this.#busy = false;
    }
  }
}
