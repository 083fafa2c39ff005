/**
 * Round robin: each new connection goes to the next backend with a weight above 0, in list order. Pure.
 * @see Linux net/netfilter/ipvs/ip_vs_rr.c ip_vs_rr_schedule
 */
import type { PickContext, PickResult, Scheduler } from './types.ts';
import { usableWeight } from './types.ts';

/** The rr position: the index of the last pick (-1 = none yet: start at the head, like LVS after a change). */
export interface RrState {
  last: number;
}

/** The state before the first pick. */
export const RR_INITIAL: RrState = Object.freeze({ last: -1 });

/**
 * Picks the backend after the last one that has a weight above 0, wrapping around.
 * @example pickRr({ backends, state: RR_INITIAL }) // { index: 0, state: { last: 0 } }
 */
export function pickRr(ctx: PickContext<RrState>): PickResult<RrState> {
  const n = ctx.backends.length;
  // A stale position (the list shrank) restarts at the head, as ip_vs_rr_del_dest does.
  const last = ctx.state.last >= 0 && ctx.state.last < n ? ctx.state.last : -1;
  for (let step = 1; step <= n; step++) {
    const i = (last + step) % n;
    const b = ctx.backends[i];
    if (b && usableWeight(b) > 0) return { index: i, state: { last: i } };
  }
  return { index: null, state: ctx.state };
}

/** The rr scheduler. */
export const rr: Scheduler<RrState> = { name: 'rr', initialState: RR_INITIAL, pick: pickRr };
