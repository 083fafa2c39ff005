/**
 * Least connections in the kernel by feedback. nft cannot count connections per backend while it picks one, so the
 * nft data plane picks by weighted random over a slot table (render.ts `weighted-random`) and steers the table's
 * weights from the connection counts it reads (a kernel-filtered conntrack dump of the service, every interval):
 *
 * - **Load** of a server: IPVS's overhead in connections, `active + inactive / 256` (ip_vs_lc: 256 × active +
 *   inactive), per unit of weight for wlc (lc: every live server weight 1).
 * - **Imbalance**: the largest distance of a server's load from its fair share of the total, `|Lᵢ − L·wᵢ/W|`.
 * - **Bound**: {@link imbalanceBound}, max(2, 5 % of a fair share) connections. Below it the table keeps its
 *   weights; a steered table goes back to the configured weights once the imbalance is below half the bound
 *   (hysteresis), so a balanced service is not rewritten every interval.
 * - **Steering**: a leaky integral controller on the shares of new connections. Each update multiplies a server's
 *   share by `exp(−G·eᵢ)`, `eᵢ = (Lᵢ − fairᵢ) / (fairᵢ + 1)` its relative excess (G = {@link STEER_GAIN}), then leaks
 *   10 % back toward the configured share (`sᵢ^0.9 · cᵢ^0.1`) and renormalises; every live server keeps at least 1 ‰
 *   so it is never starved (and a persistent service's affinity, honoured only for weight > 0, holds). Integral, because
 *   under a steady flow the shares that balance the load differ from the configured ones (a slower server must get
 *   fewer new connections for good, not only until it catches up) — a proportional law would leave that offset; the
 *   leak brings the shares back when the cause goes away (long-lived connections that ended). Inside the bound only the
 *   leak acts, and once the shares are within {@link MIN_SHARE_CHANGE} of the configured ones the configured weights
 *   apply again. Gain below 1 on the relative error, one step per interval and the dead band keep it from
 *   oscillating; the table is rewritten only when the shares moved by {@link MIN_SHARE_CHANGE} or more.
 *
 * Pure (Rule 1): the data plane keeps the state (`SteerState`) and the clock.
 */

/** Weights of a steered table sum to about this (slot tables cap at 4096 slots; 1 ‰ is the floor). */
export const STEER_SCALE = 1000;

/** Shares of new connections (L1 distance) that must move before a steered table is rewritten. */
export const MIN_SHARE_CHANGE = 0.05;

/** Gain of the controller on a server's relative excess load. */
export const STEER_GAIN = 0.7;

/** Fraction of the way back to the configured shares per update. */
export const STEER_LEAK = 0.1;

/** One server as the feedback sees it: its key, configured (desired) weight and current counts. */
export interface FeedbackServer {
  key: string;
  /** The desired weight (after drain, slow start, quorum); 0 = takes no new connections, never steered up. */
  weight: number;
  active: number;
  inactive: number;
}

/** The steering of one service, carried from one update to the next. */
export interface SteerState {
  /** Steered weights by key (programmed), or null when the configured weights apply. */
  weights: ReadonlyMap<string, number> | null;
  /** The controller's shares by key (sum 1), or null with the configured weights. */
  shares: ReadonlyMap<string, number> | null;
}

/** The state before any update. */
export const UNSTEERED: SteerState = { weights: null, shares: null };

/** What one update decided. */
export interface SteerStep {
  state: SteerState;
  /** Whether the weights to program changed (the data plane re-applies). */
  changed: boolean;
  imbalance: number;
  bound: number;
}

/** The imbalance bound of a service with `total` load over `live` servers: max(2, 5 % of a fair share). */
export function imbalanceBound(total: number, live: number): number {
  return Math.max(2, (0.05 * total) / Math.max(1, live));
}

/** The load of a server in connections (IPVS's lc overhead / 256). */
export const loadOf = (s: Pick<FeedbackServer, 'active' | 'inactive'>): number => s.active + s.inactive / 256;

/**
 * One feedback update: from the counts, the next steering state. `unweighted` is lc (every live server counts as
 * weight 1), else wlc.
 */
export function steer(servers: readonly FeedbackServer[], prev: SteerState, unweighted: boolean): SteerStep {
  const live = servers.filter((s) => s.weight > 0).map((s) => ({ ...s, w: unweighted ? 1 : s.weight }));
  const W = live.reduce((a, s) => a + s.w, 0);
  const L = live.reduce((a, s) => a + loadOf(s), 0);
  const bound = imbalanceBound(L, live.length);
  const reset = { state: UNSTEERED, changed: prev.weights !== null, imbalance: 0, bound };
  if (live.length < 2 || W === 0) return reset;
  // A server set that changed starts from the configured shares.
  const configured = new Map(live.map((s) => [s.key, s.w / W]));
  const sameSet =
    prev.shares !== null && prev.shares.size === live.length && live.every((s) => prev.shares!.has(s.key));
  const shares = sameSet ? prev.shares! : configured;
  const imbalance = Math.max(...live.map((s) => Math.abs(loadOf(s) - (L * s.w) / W)));
  if (!sameSet && prev.weights === null && imbalance <= bound)
    return { state: UNSTEERED, changed: false, imbalance, bound };
  const next = new Map<string, number>();
  for (const s of live) {
    const fair = (L * s.w) / W;
    const excess = imbalance > bound ? (loadOf(s) - fair) / (fair + 1) : 0;
    const moved = shares.get(s.key)! * Math.exp(-STEER_GAIN * excess);
    next.set(s.key, moved ** (1 - STEER_LEAK) * configured.get(s.key)! ** STEER_LEAK);
  }
  const floor = 1 / STEER_SCALE;
  const total = [...next.values()].reduce((a, b) => a + b, 0);
  for (const [k, v] of next) next.set(k, Math.max(floor, v / total));
  if (shareDistance(next, configured) < MIN_SHARE_CHANGE && imbalance <= bound)
    return { state: UNSTEERED, changed: prev.weights !== null, imbalance, bound };
  const weights = new Map([...next].map(([k, v]) => [k, Math.max(1, Math.round(v * STEER_SCALE))]));
  const changed = prev.weights === null || shareDistance(prev.weights, weights) >= MIN_SHARE_CHANGE;
  return { state: { weights: changed ? weights : prev.weights, shares: next }, changed, imbalance, bound };
}

/** L1 distance between the shares two weight maps give (keys missing on one side count as 0). */
export function shareDistance(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): number {
  const sa = [...a.values()].reduce((x, y) => x + y, 0) || 1;
  const sb = [...b.values()].reduce((x, y) => x + y, 0) || 1;
  let d = 0;
  for (const k of new Set([...a.keys(), ...b.keys()])) d += Math.abs((a.get(k) ?? 0) / sa - (b.get(k) ?? 0) / sb);
  return d;
}
