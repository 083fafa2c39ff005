/**
 * Weighted slot tables: a list of `slots` backend indices in which each backend appears in proportion to its weight,
 * spread through the list. The kernel data plane turns one into an nftables map (`numgen inc mod N map {…}` for wrr,
 * `jhash … mod N map {…}` for sh); the user-space sh scheduler hashes a client into the same table. Pure.
 *
 * Counts: largest-remainder apportionment of `slots` over the positive weights, so the counts sum to `slots` exactly
 * and each is within 1 of `slots * w / Σw`. Order: backend i's k-th slot sits near `(k + ½) · slots / count_i`, so
 * a backend's slots are evenly spaced and equal backends alternate (`a b c a b c …`), built by a counting sort in
 * O(slots + backends).
 */
import { usableWeight } from './types.ts';

/** How many slots each backend gets: largest remainder, ties to the earlier backend. */
export function apportion(weights: readonly number[], slots: number): number[] {
  const total = weights.reduce((s, w) => s + w, 0);
  if (total <= 0 || slots <= 0) return weights.map(() => 0);
  const exact = weights.map((w) => (w * slots) / total);
  const counts = exact.map(Math.floor);
  let left = slots - counts.reduce((s, c) => s + c, 0);
  const byRemainder = exact.map((x, i) => ({ i, r: x - Math.floor(x) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of byRemainder) {
    if (left <= 0) break;
    if ((weights[i] ?? 0) <= 0) continue;
    counts[i] = (counts[i] ?? 0) + 1;
    left--;
  }
  return counts;
}

/**
 * A weighted slot list of exactly `slots` entries (indices into `backends`); empty when no backend has a weight
 * above 0. With fewer slots than positive backends some get none: size tables well above the backend count.
 * @example slotTable([{ key: 'a', weight: 2 }, { key: 'b', weight: 1 }], 6) // [0, 1, 0, 0, 1, 0]
 */
export function slotTable(backends: readonly { weight: number }[], slots: number): number[] {
  const n = Math.max(0, Math.trunc(slots));
  const counts = apportion(
    backends.map((b) => usableWeight(b)),
    n,
  );
  if (counts.every((c) => c === 0)) return [];
  // Counting sort by target position; within a position, backends keep list order.
  const pos = (k: number, c: number): number => Math.min(n - 1, Math.floor(((k + 0.5) * n) / c));
  const bucketSize = new Int32Array(n + 1);
  counts.forEach((c) => {
    for (let k = 0; k < c; k++) {
      const p = pos(k, c) + 1;
      bucketSize[p] = (bucketSize[p] ?? 0) + 1;
    }
  });
  for (let p = 1; p <= n; p++) bucketSize[p] = (bucketSize[p] ?? 0) + (bucketSize[p - 1] ?? 0);
  const out = new Array<number>(n);
  counts.forEach((c, i) => {
    for (let k = 0; k < c; k++) {
      const p = pos(k, c);
      const at = bucketSize[p] ?? 0;
      out[at] = i;
      bucketSize[p] = at + 1;
    }
  });
  return out;
}

/** The plain round-robin table: backends with a weight above 0, each once per turn, repeated to `slots` entries. */
export function rrSlotTable(backends: readonly { weight: number }[], slots: number): number[] {
  const live: number[] = [];
  backends.forEach((b, i) => {
    if (usableWeight(b) > 0) live.push(i);
  });
  if (live.length === 0) return [];
  const out = new Array<number>(Math.max(0, Math.trunc(slots)));
  for (let s = 0; s < out.length; s++) out[s] = live[s % live.length] ?? 0;
  return out;
}
