/**
 * Least connection: the backend with the smallest connection overhead, where an established connection weighs 256
 * times an inactive one (TIME_WAIT and friends still cost a little). Ties go to the first in list order. Pure.
 * @see Linux net/netfilter/ipvs/ip_vs_lc.c, include/net/ip_vs.h ip_vs_dest_conn_overhead
 */
import type { PickContext, PickResult, SchedBackend, Scheduler } from './types.ts';
import { usableWeight } from './types.ts';

/** LVS's connection overhead: `active * 256 + inactive`. */
export function connOverhead(b: SchedBackend): number {
  return (b.active ?? 0) * 256 + (b.inactive ?? 0);
}

/**
 * Picks the backend with weight > 0 and the least overhead.
 * @example pickLc({ backends: [{ key: 'a', weight: 1, active: 2 }, { key: 'b', weight: 1, active: 1 }], state: null })
 */
export function pickLc(ctx: PickContext<null>): PickResult<null> {
  let best: number | null = null;
  let bestOverhead = Number.POSITIVE_INFINITY;
  ctx.backends.forEach((b, i) => {
    if (usableWeight(b) <= 0) return;
    const o = connOverhead(b);
    if (o < bestOverhead) [best, bestOverhead] = [i, o];
  });
  return { index: best, state: null };
}

/** The lc scheduler (stateless). */
export const lc: Scheduler<null> = { name: 'lc', initialState: null, pick: pickLc };
