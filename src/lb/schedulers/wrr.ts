/**
 * Weighted round robin, LVS's interleaved variant. A current weight `cw` starts at the largest weight and steps down
 * by the gcd of the weights each time the scan wraps; a backend is picked when its weight is ≥ `cw`. Over one cycle
 * (sum of weights / gcd picks) every backend is picked exactly weight / gcd times, and heavy backends are spread
 * through the cycle rather than bunched: weights 3:1 give `a a a b`, weights 4:3:2 give `a a b a b c a b c`. Pure.
 * @see Linux net/netfilter/ipvs/ip_vs_wrr.c ip_vs_wrr_schedule, ip_vs_wrr_init_svc (cw = mw = max − (gcd − 1))
 */
import type { PickContext, PickResult, SchedBackend, Scheduler } from './types.ts';
import { gcd, usableWeight } from './types.ts';

/** The wrr position: the index of the last pick (-1 = head) and the current weight (0 = start a cycle). */
export interface WrrState {
  last: number;
  cw: number;
}

/** The state before the first pick. */
export const WRR_INITIAL: WrrState = Object.freeze({ last: -1, cw: 0 });

/** LVS's `di` (gcd of the positive weights, 1 if none) and `mw` (max weight − (di − 1)). */
export function wrrSteps(backends: readonly SchedBackend[]): { di: number; mw: number } {
  let g = 0;
  let max = 0;
  for (const b of backends) {
    const w = usableWeight(b);
    if (w > 0) g = gcd(w, g);
    max = Math.max(max, w);
  }
  const di = g || 1;
  return { di, mw: max === 0 ? 0 : max - (di - 1) };
}

/**
 * Picks the next backend of the interleaved weighted cycle.
 * @example pickWrr({ backends: [{ key: 'a', weight: 3 }, { key: 'b', weight: 1 }], state: WRR_INITIAL }).index // 0
 */
export function pickWrr(ctx: PickContext<WrrState>): PickResult<WrrState> {
  const n = ctx.backends.length;
  const { di, mw } = wrrSteps(ctx.backends);
  if (mw === 0) return { index: null, state: ctx.state };
  let last = ctx.state.last >= 0 && ctx.state.last < n ? ctx.state.last : -1;
  // As ip_vs_wrr_dest_changed: a cw from another weight set is reset to the top.
  let cw = ctx.state.cw > 0 && ctx.state.cw <= mw ? ctx.state.cw : mw;
  // Bounded: within (mw / di + 1) passes some backend with the largest weight qualifies.
  for (let guard = n * (Math.ceil(mw / di) + 2); guard > 0; guard--) {
    last++;
    if (last >= n) {
      last = 0;
      cw -= di;
      if (cw <= 0) cw = mw;
    }
    const b = ctx.backends[last];
    if (b && usableWeight(b) >= cw) return { index: last, state: { last, cw } };
  }
  return { index: null, state: ctx.state };
}

/** The wrr scheduler. */
export const wrr: Scheduler<WrrState> = { name: 'wrr', initialState: WRR_INITIAL, pick: pickWrr };
