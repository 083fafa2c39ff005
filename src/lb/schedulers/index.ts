/**
 * Every scheduler by name, and the slot table a kernel data plane programs for each scheduler it can express without
 * connection counts (rr, wrr, sh, mh). Pure.
 */
import type { SchedulerName } from '../types.ts';
import { lc } from './lc.ts';
import { MAGLEV_DEFAULT_SLOTS, maglevTable, mh } from './mh.ts';
import { type RrState, rr } from './rr.ts';
import { SH_DEFAULT_SLOTS, sh } from './sh.ts';
import { rrSlotTable, slotTable } from './slots.ts';
import type { SchedBackend, Scheduler, TableState } from './types.ts';
import { gcd, usableWeight } from './types.ts';
import { wlc } from './wlc.ts';
import { type WrrState, wrr } from './wrr.ts';

/** The state type of each scheduler. */
export interface SchedulerStates {
  rr: RrState;
  wrr: WrrState;
  lc: null;
  wlc: null;
  sh: TableState;
  mh: TableState;
}

/** Every scheduler, by name. */
export const SCHEDULERS: { readonly [K in SchedulerName]: Scheduler<SchedulerStates[K]> } = {
  rr,
  wrr,
  lc,
  wlc,
  sh,
  mh,
};

/**
 * The slot table for a kernel data plane, or null for lc/wlc (they need live connection counts). Default sizes:
 * rr one slot per live backend; wrr one LVS cycle (Σ weight / gcd), so the ratio is exact; sh 256; mh 65537
 * (the table IS the Maglev table, so `slots` must be prime).
 * @example slotTableFor('wrr', [{ key: 'a', weight: 3 }, { key: 'b', weight: 1 }]) // 4 slots: three a, one b
 */
export function slotTableFor(
  scheduler: SchedulerName,
  backends: readonly SchedBackend[],
  slots?: number,
): number[] | null {
  const weights = backends.map(usableWeight).filter((w) => w > 0);
  switch (scheduler) {
    case 'rr':
      return rrSlotTable(backends, slots ?? weights.length);
    case 'wrr': {
      const g = weights.reduce((acc, w) => gcd(w, acc), 0) || 1;
      return slotTable(backends, slots ?? weights.reduce((s, w) => s + w / g, 0));
    }
    case 'sh':
      return slotTable(backends, slots ?? SH_DEFAULT_SLOTS);
    case 'mh':
      return maglevTable(backends, slots ?? MAGLEV_DEFAULT_SLOTS);
    case 'lc':
    case 'wlc':
      return null;
  }
}
