/**
 * VRRP interval math (RFC 3768 §6.1, RFC 5798 §6.1) in integer milliseconds. Pure.
 *
 * Rounding: keepalived computes these in microseconds with integer division; tandem's clock ticks in whole
 * milliseconds (Rule 2), so Skew_Time is the exact RFC value rounded *down* to a millisecond. Down, because a backup
 * that waits a little less than the RFC says only ever takes over sooner by under 1 ms, while rounding up could make
 * it wait longer than keepalived peers expect; and the result is independent of the platform, which a float is not.
 * The difference from keepalived's µs value is below 1 ms (keepalived's v2 skew uses 3906 µs per priority step, the
 * exact value is 3906.25 µs).
 */
import type { Ms } from '../core/time.ts';
import type { VrrpVersion } from './types.ts';

/** One second, the unit of v2's Skew_Time formula. */
const SECOND_MS = 1000;

/** Inputs of {@link skewTimeMs}. */
export interface SkewInput {
  version: VrrpVersion;
  /** The local (effective) priority, 1..255. */
  priority: number;
  /**
   * Master_Adver_Interval (v3: learned from the master's adverts). v2's Skew_Time does not depend on it.
   * @see RFC 5798 §6.1
   */
  masterAdverIntervalMs?: Ms;
}

/** Inputs of {@link masterDownIntervalMs}: the interval under either of its names. */
export type MasterDownInput = {
  version: VrrpVersion;
  priority: number;
  /** keepalived down_timer_adverts: adverts missed before the master is declared down. @default 3 */
  downTimerAdverts?: number;
} & (
  | { /** Master_Adver_Interval (v3: learned; v2: the configured interval). */ masterAdverIntervalMs: Ms }
  | { /** Advertisement_Interval, for callers that think in configured values. */ advertIntervalMs: Ms }
);

const clampPriority = (p: number): number => Math.min(255, Math.max(0, Math.trunc(p)));

/**
 * Skew_Time: v2 `(256 − Priority) / 256` s; v3 `((256 − Priority) × Master_Adver_Interval) / 256`. Rounded down to
 * a millisecond (see the module comment).
 * @example skewTimeMs({ version: 2, priority: 100 }) // 609
 * @see RFC 3768 §6.1, RFC 5798 §6.1
 */
export function skewTimeMs(input: SkewInput): Ms {
  const steps = 256 - clampPriority(input.priority);
  const unit = input.version === 2 ? SECOND_MS : (input.masterAdverIntervalMs ?? SECOND_MS);
  return Math.floor((steps * unit) / 256);
}

/**
 * Master_Down_Interval: `down_timer_adverts × Master_Adver_Interval + Skew_Time` (the RFCs fix the multiplier at 3;
 * keepalived makes it configurable).
 * @example masterDownIntervalMs({ version: 2, priority: 100, advertIntervalMs: 1_000 }) // 3609
 * @see RFC 3768 §6.1, RFC 5798 §6.1
 */
export function masterDownIntervalMs(input: MasterDownInput): Ms {
  const interval = 'masterAdverIntervalMs' in input ? input.masterAdverIntervalMs : input.advertIntervalMs;
  const adverts = input.downTimerAdverts ?? 3;
  return (
    adverts * interval +
    skewTimeMs({ version: input.version, priority: input.priority, masterAdverIntervalMs: interval })
  );
}

/**
 * keepalived's smallest skew (`VRRP_TIMER_SKEW_MIN`, one priority step): v2 1/256 s, v3 Master_Adver_Interval / 256.
 * An instance configured `state MASTER` waits one interval plus this before claiming mastership.
 */
export function minSkewTimeMs(version: VrrpVersion, masterAdverIntervalMs: Ms): Ms {
  return skewTimeMs({ version, priority: 255, masterAdverIntervalMs });
}
