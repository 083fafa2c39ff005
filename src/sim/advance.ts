/**
 * Stepping a SimClock from async tests: runs its timers one deadline at a time and lets promise continuations (and
 * I/O callbacks) run after each, so code that awaits between timers sees the time its timers fired at. Never sleeps.
 */

/** Lets promise continuations and I/O callbacks run. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The part of a SimClock that `advance` drives. */
export interface SteppableClock {
  now(): number;
  nextDeadline(): number | null;
  runTo(deadline: number): number;
}

/**
 * Advances `clock` by `ms`, one timer deadline at a time, letting promise continuations run after each.
 * @example await advance(clock, 2_000)
 */
export async function advance(clock: SteppableClock, ms: number): Promise<void> {
  const end = clock.now() + ms;
  // Bounded by the deadlines due before `end`, and a hard cap against a timer that re-arms itself at `now`.
  for (let i = 0; i < 1_000_000; i++) {
    await flush();
    const next = clock.nextDeadline();
    if (next === null || next > end) break;
    clock.runTo(next);
  }
  clock.runTo(end);
  await flush();
}
