/**
 * The partition suite's checker. {@link OwnershipWatch} samples who holds the VIP in every director's namespace from
 * `ip -ts monitor address` (kernel events with microsecond timestamps, not polling); {@link analyzeRun} turns those
 * events, the fault windows the nemesis reports and the client's counts into the figures of one run: time with two
 * holders, time with none, false failovers and the takeover time. The analysis is pure, so its arithmetic has unit
 * tests of its own (partition-check.test.ts) and does not depend on a lab.
 */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Lab } from './lab.ts';

/** The VIP appeared on (`add`) or left (`del`) a host, at `t` (ms since the epoch, fractional). */
export interface OwnershipEvent {
  t: number;
  host: string;
  op: 'add' | 'del';
}

/** A time during which the nemesis made the initial master really unhealthy (dead, paused, cut off). */
export interface FaultWindow {
  from: number;
  to: number;
}

/** The figures of one run of one cell. */
export interface RunFigures {
  /** Total time two or more hosts held the VIP. */
  twoHoldersMs: number;
  /** Total time no host held it. */
  noneMs: number;
  /** Times a host other than the master took the VIP while the master was healthy (outside the fault windows). */
  falseFailovers: number;
  /** From the start of the fault to the first host other than the master taking the VIP; null if none did. */
  takeoverMs: number | null;
}

/** Inputs of {@link analyzeRun}. */
export interface RunInput {
  /** The hosts that held the VIP when observation began. */
  initial: readonly string[];
  events: readonly OwnershipEvent[];
  /** The observation window (ms since the epoch). */
  from: number;
  to: number;
  /** The initial master. */
  master: string;
  faults: readonly FaultWindow[];
  /** When the nemesis started (takeovers are timed from it), or null for a run without one. */
  faultAt: number | null;
  /**
   * How long after a fault window ends a takeover still counts as its consequence (the master rejoins and the
   * cluster settles: a few Master_Down_Intervals).
   */
  graceMs: number;
}

const round = (ms: number): number => Math.round(ms * 1000) / 1000;

/**
 * The figures of one run. Holder sets, not event counts, decide: a repeated `add` of an address a host already has
 * (iproute2 reports lifetime updates as new-address events) is no transition.
 * @example analyzeRun({ initial: ['d1'], events: [{ t: 10, host: 'd2', op: 'add' }], from: 0, to: 20, master: 'd1',
 *   faults: [], faultAt: null, graceMs: 0 }) // { twoHoldersMs: 10, noneMs: 0, falseFailovers: 1, takeoverMs: null }
 */
export function analyzeRun(input: RunInput): RunFigures {
  const holders = new Set(input.initial);
  const events = input.events.filter((e) => e.t >= input.from && e.t <= input.to).sort((a, b) => a.t - b.t);
  const faultAt = (t: number) => input.faults.some((f) => t >= f.from && t <= f.to + input.graceMs);
  let twoHolders = 0;
  let none = 0;
  let falseFailovers = 0;
  let takeover: number | null = null;
  let last = input.from;
  const account = (until: number) => {
    if (holders.size > 1) twoHolders += until - last;
    if (holders.size === 0) none += until - last;
    last = until;
  };
  for (const e of events) {
    account(e.t);
    if (e.op === 'del') {
      holders.delete(e.host);
      continue;
    }
    if (holders.has(e.host)) continue;
    holders.add(e.host);
    if (e.host === input.master) continue;
    if (!faultAt(e.t)) falseFailovers++;
    if (input.faultAt !== null && takeover === null && e.t >= input.faultAt) takeover = e.t - input.faultAt;
  }
  account(input.to);
  return {
    twoHoldersMs: round(twoHolders),
    noneMs: round(none),
    falseFailovers,
    takeoverMs: takeover === null ? null : round(takeover),
  };
}

/**
 * One line of `ip -ts monitor address`: `[2026-12-03T19:02:21.832575] 1: lo    inet 198.19.255.253/32 …`, with
 * `Deleted ` before the index for a removal. iproute2 prints local time with microseconds; returns null for other
 * lines (the `valid_lft` continuation) and for other addresses.
 */
export function parseMonitorLine(line: string, addr: string): { t: number; op: 'add' | 'del' } | null {
  const m = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{6})\] (Deleted )?\d+: \S+\s+inet6? ([0-9a-f.:]+)\//.exec(line);
  if (!m || m[4] !== addr) return null;
  // Date.parse of a date-time without a zone reads local time, as iproute2 printed it.
  return { t: Date.parse(m[1]!) + Number(m[2]) / 1000, op: m[3] ? 'del' : 'add' };
}

/** An address no lab uses, added and removed once per host to learn that a monitor listens. */
const SENTINEL = '198.19.255.253';

/**
 * Watches one address in several lab hosts through `ip -ts monitor address`. `start()` resolves once every monitor
 * is proven subscribed (it has reported a sentinel address added on its host) and the current holders are read, so
 * nothing after it is missed.
 */
export class OwnershipWatch {
  readonly events: OwnershipEvent[] = [];
  readonly #children: ChildProcess[] = [];
  /** The holders when `start()` returned. */
  initial: string[] = [];
  /** When `start()` returned (ms since the epoch). */
  startedAt = 0;

  constructor(
    readonly lab: Lab,
    readonly hosts: readonly string[],
    readonly addr: string,
  ) {}

  async start(): Promise<void> {
    await Promise.all(
      this.hosts.map(async (host) => {
        const child = this.lab.spawn(host, 'ip', ['-ts', 'monitor', 'address']);
        this.#children.push(child);
        let subscribed: () => void = () => undefined;
        const seen = new Promise<void>((resolve) => {
          subscribed = resolve;
        });
        createInterface({ input: child.stdout! }).on('line', (l) => {
          if (parseMonitorLine(l, SENTINEL)) subscribed();
          const e = parseMonitorLine(l, this.addr);
          if (e) this.events.push({ ...e, host });
        });
        // The monitor may not have subscribed yet when the first sentinel is added: add it again until it is seen.
        for (let attempt = 1; ; attempt++) {
          await this.lab.run(host, 'ip', ['addr', 'add', `${SENTINEL}/32`, 'dev', 'lo']);
          let timer: NodeJS.Timeout | undefined;
          const late = new Promise<boolean>((resolve) => {
            timer = setTimeout(() => resolve(false), 500);
          });
          const ok = await Promise.race([seen.then(() => true), late]);
          clearTimeout(timer);
          await this.lab.run(host, 'ip', ['addr', 'del', `${SENTINEL}/32`, 'dev', 'lo']);
          if (ok) break;
          if (attempt === 20) throw new Error(`ip monitor in ${host} did not report the sentinel address`);
        }
      }),
    );
    const held = await Promise.all(this.hosts.map(async (h) => ((await this.holds(h)) ? [h] : [])));
    this.initial = held.flat();
    this.startedAt = Date.now();
  }

  /** Whether `host` has the address now (read from `ip addr`, not from the events). */
  async holds(host: string): Promise<boolean> {
    const out = await this.lab.run(host, 'ip', ['-o', 'addr', 'show']);
    return out.split('\n').some((l) => l.includes(` ${this.addr}/`));
  }

  stop(): void {
    for (const c of this.#children) c.kill('SIGTERM');
  }
}
