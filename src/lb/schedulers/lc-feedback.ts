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
 * - **Steering**: water-filling over a horizon H, the new connections expected before the next update (measured: the
 *   new connections seen per interval, smoothed). Server i gets a share of the next H connections proportional to
 *   its deficit `max(0, (L + H)·wᵢ/W − Lᵢ)`, which is what exact least-connections would hand it; every live server
 *   keeps at least 1 ‰ so it is never starved (and a persistent service's affinity, honoured only for weight > 0,
 *   holds). A proportional controller with gain ≤ 1 over its own horizon does not overshoot; updates are also skipped
 *   when the new shares differ from the programmed ones by less than {@link MIN_SHARE_CHANGE} (no churn of nft
 *   transactions), and come at most once per interval.
 *
 * Pure (Rule 1): the data plane keeps the state (`SteerState`) and the clock.
 */

/** Weights of a steered table sum to about this (slot tables cap at 4096 slots; 1 ‰ is the floor). */
export const STEER_SCALE = 1000;

/** Shares of new connections (L1 distance) that must move before a steered table is rewritten. */
export const MIN_SHARE_CHANGE = 0.05;

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
  /** Steered weights by key, or null when the configured weights apply. */
  weights: ReadonlyMap<string, number> | null;
  /** Smoothed new connections per interval. */
  horizon: number;
}

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
 * One feedback update: from the counts and the number of connections that arrived since the last update, the next
 * steering state. `unweighted` is lc (every live server counts as weight 1), else wlc.
 */
export function steer(
  servers: readonly FeedbackServer[],
  prev: SteerState,
  arrived: number,
  unweighted: boolean,
): SteerStep {
  const horizon = Math.max(1, prev.horizon === 0 ? arrived : 0.5 * prev.horizon + 0.5 * arrived);
  const live = servers.filter((s) => s.weight > 0).map((s) => ({ ...s, w: unweighted ? 1 : s.weight }));
  const W = live.reduce((a, s) => a + s.w, 0);
  const L = live.reduce((a, s) => a + loadOf(s), 0);
  const bound = imbalanceBound(L, live.length);
  if (live.length < 2 || W === 0) {
    return { state: { weights: null, horizon }, changed: prev.weights !== null, imbalance: 0, bound };
  }
  const imbalance = Math.max(...live.map((s) => Math.abs(loadOf(s) - (L * s.w) / W)));
  if (prev.weights === null && imbalance <= bound)
    return { state: { weights: null, horizon }, changed: false, imbalance, bound };
  if (prev.weights !== null && imbalance <= bound / 2)
    return { state: { weights: null, horizon }, changed: true, imbalance, bound };
  const deficits = live.map((s) => Math.max(0, ((L + horizon) * s.w) / W - loadOf(s)));
  const sum = deficits.reduce((a, d) => a + d, 0);
  const floor = STEER_SCALE / 1000;
  const weights = new Map<string, number>();
  live.forEach((s, i) => {
    const share = sum > 0 ? deficits[i]! / sum : s.w / W;
    weights.set(s.key, Math.max(floor, Math.round(share * STEER_SCALE)));
  });
  const changed = prev.weights === null || shareDistance(prev.weights, weights) >= MIN_SHARE_CHANGE;
  return { state: { weights: changed ? weights : prev.weights, horizon }, changed, imbalance, bound };
}

/** L1 distance between the shares two weight maps give (keys missing on one side count as 0). */
export function shareDistance(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): number {
  const sa = [...a.values()].reduce((x, y) => x + y, 0) || 1;
  const sb = [...b.values()].reduce((x, y) => x + y, 0) || 1;
  let d = 0;
  for (const k of new Set([...a.keys(), ...b.keys()])) d += Math.abs((a.get(k) ?? 0) / sa - (b.get(k) ?? 0) / sb);
  return d;
}
