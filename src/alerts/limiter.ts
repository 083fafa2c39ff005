/**
 * De-duplication and rate limiting of alerts, as a pure reducer (Rule 1). Per object (alertKey):
 * - an alert whose state is the one last seen for that object is a duplicate and dropped (keepalived's
 *   `last_email_state` does this for VRRP);
 * - at most `burst` alerts go out within `window`; the ones after that are held, and when the window rolls over
 *   they go out as one digest (a flapping real server sends a digest, not a flood).
 * The driver (dispatcher.ts) arms a timer for every `arm` effect and calls `flush` when it fires.
 */
import type { Ms } from '../core/time.ts';
import { type Alert, alertKey } from './render.ts';

/** The limits (config alerts.limits). */
export interface Limits {
  windowMs: Ms;
  burst: number;
}

interface KeyState {
  /** The state last seen (sent or held), for de-duplication. */
  last?: string;
  /** When alerts (or digests) about this key were sent, within the window. */
  sent: Ms[];
  /** Alerts held back, oldest first. */
  held: Alert[];
  /** When the held alerts go out as a digest. */
  flushAt?: Ms;
}

/** The limiter's state: per key. */
export type LimiterState = ReadonlyMap<string, Readonly<KeyState>>;

/** What the driver does. */
export type LimiterEffect =
  | { kind: 'send'; alert: Alert }
  | { kind: 'digest'; key: string; alerts: Alert[] }
  | { kind: 'drop'; alert: Alert; reason: 'duplicate' }
  | { kind: 'hold'; alert: Alert }
  | { kind: 'arm'; at: Ms };

/** An empty limiter. */
export const emptyLimiter = (): LimiterState => new Map();

const prune = (sent: readonly Ms[], now: Ms, windowMs: Ms): Ms[] => sent.filter((t) => t > now - windowMs);

/** Offers one alert at `now`: send it, hold it for a digest, or drop it as a duplicate. */
export function offer(
  s: LimiterState,
  alert: Alert,
  now: Ms,
  limits: Limits,
): { state: LimiterState; effects: LimiterEffect[] } {
  const key = alertKey(alert.object);
  const cur: KeyState = s.get(key) ?? { sent: [], held: [] };
  if (cur.last === alert.state) return { state: s, effects: [{ kind: 'drop', alert, reason: 'duplicate' }] };
  const next = new Map(s);
  const sent = prune(cur.sent, now, limits.windowMs);
  if (cur.held.length > 0) {
    next.set(key, { ...cur, last: alert.state, sent, held: [...cur.held, alert] });
    return { state: next, effects: [{ kind: 'hold', alert }] };
  }
  if (sent.length < limits.burst) {
    next.set(key, { last: alert.state, sent: [...sent, now], held: [] });
    return { state: next, effects: [{ kind: 'send', alert }] };
  }
  // Over the limit: hold it until the oldest alert of the window leaves it.
  const flushAt = (sent[0] ?? now) + limits.windowMs;
  next.set(key, { last: alert.state, sent, held: [alert], flushAt });
  return {
    state: next,
    effects: [
      { kind: 'hold', alert },
      { kind: 'arm', at: flushAt },
    ],
  };
}

/** Sends the digests that are due at `now`. */
export function flush(s: LimiterState, now: Ms, limits: Limits): { state: LimiterState; effects: LimiterEffect[] } {
  const effects: LimiterEffect[] = [];
  let next: Map<string, KeyState> | undefined;
  for (const [key, cur] of s) {
    if (cur.flushAt === undefined || cur.flushAt > now || cur.held.length === 0) continue;
    next ??= new Map(s);
    effects.push({ kind: 'digest', key, alerts: [...cur.held] });
    // A digest fills the new window: an object that keeps flapping gets one digest a window, and one that has been
    // quiet for a whole window gets its full burst again.
    next.set(key, {
      ...(cur.last !== undefined ? { last: cur.last } : {}),
      sent: Array.from({ length: limits.burst }, () => now),
      held: [],
    });
  }
  return { state: next ?? s, effects };
}

/** Whether a key has alerts held for a digest (status, tests). */
export function heldCount(s: LimiterState): number {
  let n = 0;
  for (const k of s.values()) n += k.held.length;
  return n;
}

/** Forgets what is known about objects that are no longer configured (a reload). */
export function forget(s: LimiterState, keep: (key: string) => boolean): LimiterState {
  return new Map([...s].filter(([k]) => keep(k)));
}
