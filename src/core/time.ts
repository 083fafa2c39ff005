/** Integer milliseconds. Every duration and instant in tandem is one of these, named with its unit (Rule 2). */
export type Ms = number;

/** Cancels a scheduled callback; calling it twice, or after it fired, does nothing. */
export type Cancel = () => void;

/**
 * The only source of time. Real code gets a wall clock from daemon/, tests a SimClock from sim/.
 * @example clock.at(clock.now() + 1_000, () => tick())
 */
export interface Clock {
  /** Milliseconds since an arbitrary, monotonic origin. */
  now(): Ms;
  /** Runs `fire` once when `now() >= deadline`; a deadline in the past fires as soon as possible. */
  at(deadline: Ms, fire: () => void): Cancel;
}
