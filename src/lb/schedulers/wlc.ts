/**
 * Weighted least connection: the backend with the least overhead per unit of weight, `overhead / weight`, compared
 * by cross-multiplication as LVS does (no division, exact on integers). Ties go to the first in list order. Pure.
 * keepalived's and ipvsadm's default scheduler.
 * @see Linux net/netfilter/ipvs/ip_vs_wlc.c ip_vs_wlc_schedule
 */
import { connOverhead } from './lc.ts';
import type { PickContext, PickResult, Scheduler } from './types.ts';
import { usableWeight } from './types.ts';

/**
 * Picks the backend with weight > 0 that minimises overhead / weight.
 * @example pickWlc({ backends: [{ key: 'a', weight: 3, active: 2 }, { key: 'b', weight: 1, active: 1 }], state: null })
 */
export function pickWlc(ctx: PickContext<null>): PickResult<null> {
  let best: number | null = null;
  let loh = 0;
  let lw = 0;
  ctx.backends.forEach((b, i) => {
    const w = usableWeight(b);
    if (w <= 0) return;
    const doh = connOverhead(b);
    // ip_vs_wlc: switch when loh * w(dest) > doh * w(least), i.e. doh/w(dest) < loh/w(least).
    if (best === null || loh * w > doh * lw) [best, loh, lw] = [i, doh, w];
  });
  return { index: best, state: null };
}

/** The wlc scheduler (stateless). */
export const wlc: Scheduler<null> = { name: 'wlc', initialState: null, pick: pickWlc };
