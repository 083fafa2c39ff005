/**
 * The shape every scheduler shares: a pure `pick(ctx) → { index, state }` over the eligible backends. A scheduler
 * that keeps a position (rr, wrr) or a lookup table (sh, mh) takes it in `ctx.state` and returns the next one; the
 * caller stores it. Backends with weight 0 are never picked (LVS: a quiesced destination takes no new connection).
 */
import type { SchedulerName } from '../types.ts';

/** A backend as a scheduler sees it. */
export interface SchedBackend {
  /** Stable identity (`addr:port`); hashing schedulers (mh) depend on it, not on the position. */
  key: string;
  /** Effective weight; 0 = no new connections. */
  weight: number;
  /** Established connections (ipvsadm ActiveConn). @default 0 */
  active?: number;
  /** Other connections: TIME_WAIT, FIN_WAIT, UDP (ipvsadm InActConn). @default 0 */
  inactive?: number;
}

/** The client of a new connection, for the hashing schedulers (sh, mh). */
export interface SchedClient {
  addr: string;
  /** Included in the hash only when given (keepalived `sh-port` / `mh-port`). */
  port?: number;
}

/** What a scheduler is given. */
export interface PickContext<S> {
  backends: readonly SchedBackend[];
  state: S;
  /** Required by sh and mh; the others ignore it. */
  client?: SchedClient;
  /** Lookup-table size for sh and mh. @default 256 for sh, 65537 for mh */
  slots?: number;
}

/** What a scheduler returns: an index into `ctx.backends` (null = none available) and its next state. */
export interface PickResult<S> {
  index: number | null;
  state: S;
}

/** A scheduler: its name, its initial state, and its pure pick. */
export interface Scheduler<S> {
  name: SchedulerName;
  initialState: S;
  pick(ctx: PickContext<S>): PickResult<S>;
}

/**
 * A lookup table cached in the state of a hashing scheduler, valid while `fingerprint` (slots, keys and weights of
 * the backends) is unchanged. null = not built yet.
 */
export type TableState = { fingerprint: string; table: readonly number[] } | null;

/** The fingerprint a {@link TableState} is valid for. */
export function tableFingerprint(backends: readonly SchedBackend[], slots: number): string {
  return `${slots}|${backends.map((b) => `${b.key}*${b.weight}`).join(',')}`;
}

/** The weight a scheduler uses: non-integer and negative weights are floored at 0. */
export function usableWeight(b: { weight: number }): number {
  return Number.isFinite(b.weight) && b.weight > 0 ? Math.floor(b.weight) : 0;
}

/** Greatest common divisor of two non-negative integers (gcd(0, x) = x). */
export function gcd(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}
