/**
 * Durations in config files: a whole number of milliseconds, or text with a unit (`100ms`, `1s`, `1.5s`, `2m`).
 * Everything downstream sees integer milliseconds (Rule 2).
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/;

/** Parses a duration to integer ms; returns undefined for text that is not a duration or not a whole ms. */
export function parseDurationMs(value: number | string, defaultUnit: 'ms' | 's' = 'ms'): number | undefined {
  let ms: number;
  if (typeof value === 'number') ms = value * UNIT_MS[defaultUnit]!;
  else {
    const m = DURATION.exec(value);
    if (!m) return undefined;
    ms = Number(m[1]) * UNIT_MS[m[2] ?? defaultUnit]!;
  }
  if (!Number.isFinite(ms) || ms < 0) return undefined;
  // Refuse sub-millisecond precision rather than rounding silently: 1.0005s is a typo, not a wish.
  const rounded = Math.round(ms);
  return Math.abs(ms - rounded) < 1e-6 ? rounded : undefined;
}

/** Formats integer ms the way an operator writes it (`1s`, `100ms`, `1.5s`). */
export function formatDurationMs(ms: number): string {
  if (ms !== 0 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms !== 0 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1000 && ms % 10 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
