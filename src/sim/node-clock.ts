/**
 * One simulated node's view of the shared SimClock, which can be paused like a process under SIGSTOP (or a frozen VM,
 * a long GC): while paused, its timers and the packets delivered to it wait; on resume its late timers fire first,
 * then the packets, in order — the order of an event loop waking up (timers phase, then I/O). The time does not
 * stop, so every timer knows how late it is.
 */
import type { Cancel, Clock, Ms } from '../core/time.ts';
import type { SimClock } from './sim-clock.ts';

/** A pausable per-node clock. */
export class NodeClock implements Clock {
  readonly #base: SimClock;
  #paused = false;
  readonly #timers: (() => void)[] = [];
  readonly #io: (() => void)[] = [];

  constructor(base: SimClock) {
    this.#base = base;
  }

  now(): Ms {
    return this.#base.now();
  }

  at(deadline: Ms, fire: () => void): Cancel {
    let cancelled = false;
    const cancel = this.#base.at(deadline, () => {
      if (cancelled) return;
      if (this.#paused) this.#timers.push(() => !cancelled && fire());
      else fire();
    });
    return () => {
      cancelled = true;
      cancel();
    };
  }

  /** Whether the node is paused. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Runs `io` now, or after the late timers when the node resumes. */
  io(io: () => void): void {
    if (this.#paused) this.#io.push(io);
    else io();
  }

  pause(): void {
    this.#paused = true;
  }

  /** Wakes the node: its late timers, then its queued packets. */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    for (const f of this.#timers.splice(0)) f();
    for (const f of this.#io.splice(0)) f();
  }
}
