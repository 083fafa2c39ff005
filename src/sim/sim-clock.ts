/**
 * Simulated time: a Clock whose timers fire only when a test advances it. Deterministic: timers fire in deadline
 * order, and timers with equal deadlines in the order they were set.
 */
import { TandemError } from '../core/errors.ts';
import type { Cancel, Clock, Ms } from '../core/time.ts';

interface Entry {
  deadline: Ms;
  seq: number;
  fire: () => void;
  cancelled: boolean;
}

const before = (a: Entry, b: Entry): boolean => a.deadline < b.deadline || (a.deadline === b.deadline && a.seq < b.seq);

/**
 * A Clock for simulations and tests.
 * @example const clock = new SimClock(); clock.at(1_000, tick); clock.runFor(1_000)
 */
export class SimClock implements Clock {
  #now: Ms;
  #seq = 0;
  #live = 0;
  readonly #heap: Entry[] = [];

  /** Starts at `start` ms. @default 0 */
  constructor(start: Ms = 0) {
    this.#now = start;
  }

  /** The simulated time. */
  now(): Ms {
    return this.#now;
  }

  /** Schedules `fire` at `deadline`; a deadline in the past fires at the current time, after what is already due. */
  at(deadline: Ms, fire: () => void): Cancel {
    if (!Number.isFinite(deadline))
      throw new TandemError('TND_SIM_SCENARIO', `timer deadline ${deadline} is not finite`);
    const entry: Entry = { deadline: Math.max(deadline, this.#now), seq: this.#seq++, fire, cancelled: false };
    this.#push(entry);
    this.#live++;
    return () => {
      if (entry.cancelled) return;
      entry.cancelled = true;
      this.#live--;
    };
  }

  /** How many timers are scheduled and not cancelled. */
  get pending(): number {
    return this.#live;
  }

  /** The deadline of the next timer, or null when none is scheduled. */
  nextDeadline(): Ms | null {
    this.#dropCancelled();
    return this.#heap[0]?.deadline ?? null;
  }

  /** Fires every timer due up to `now() + ms` (including ones those timers schedule), then sets the time there. */
  runFor(ms: Ms): number {
    if (!(ms >= 0)) throw new TandemError('TND_SIM_SCENARIO', `cannot run for ${ms} ms`);
    return this.runTo(this.#now + ms);
  }

  /** Fires every timer due up to `deadline`, then sets the time to it. Returns how many fired. */
  runTo(deadline: Ms): number {
    let fired = 0;
    while (this.#fireNext(deadline)) fired++;
    if (deadline > this.#now) this.#now = deadline;
    return fired;
  }

  /**
   * Fires timers one at a time until `pred()` holds or `limitMs` have passed. Returns whether it held and when: the
   * time stops at the instant it first held (checked before anything fires and after every timer).
   */
  runUntil(pred: () => boolean, limitMs: Ms): { ok: boolean; elapsedMs: Ms } {
    const start = this.#now;
    const end = start + limitMs;
    if (pred()) return { ok: true, elapsedMs: 0 };
    while (this.#fireNext(end)) {
      if (pred()) return { ok: true, elapsedMs: this.#now - start };
    }
    this.#now = Math.max(this.#now, end);
    return { ok: false, elapsedMs: this.#now - start };
  }

  /** Fires the next timer if it is due by `limit`. */
  #fireNext(limit: Ms): boolean {
    this.#dropCancelled();
    const top = this.#heap[0];
    if (!top || top.deadline > limit) return false;
    this.#pop();
    top.cancelled = true;
    this.#live--;
    this.#now = top.deadline;
    top.fire();
    return true;
  }

  #dropCancelled(): void {
    while (this.#heap[0]?.cancelled) this.#pop();
  }

  #push(e: Entry): void {
    const h = this.#heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = h[parent]!;
      if (!before(e, p)) break;
      h[i] = p;
      i = parent;
    }
    h[i] = e;
  }

  #pop(): void {
    const h = this.#heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const child = r < h.length && before(h[r]!, h[l]!) ? r : l;
      if (!before(h[child]!, last)) break;
      h[i] = h[child]!;
      i = child;
    }
    h[i] = last;
  }
}
