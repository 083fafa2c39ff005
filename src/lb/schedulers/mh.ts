/**
 * Maglev consistent hashing (Eisenbud et al., "Maglev: A Fast and Reliable Software Network Load Balancer",
 * NSDI 2016, §3.4). Each backend walks the M slots of a lookup table in its own order, a permutation built from
 * hashes of its key; backends take turns claiming their next still-free slot until the table is full. A client
 * hashes to a slot. Each backend ends up owning a share of slots matching its weight share almost exactly, and when
 * one of N backends leaves about 1/N of the slots change (the leaver's) plus a small fraction of the others'.
 *
 * The permutation. The paper's is `perm[j] = (offset + j · skip) mod M` with `offset = h1(key) mod M` and
 * `skip = h2(key) mod (M − 1) + 1` (M prime, so every skip visits every slot). Here it is
 * `perm[j] = (offset + skip · (j + c)³) mod M` with a third hash `c = h3(key) mod M`, the default
 * ({@link MaglevPermutation} `'cubic'`); the paper's stays available as `'linear'`. Why: two backends whose skips
 * collide (chance ≈ N²/2(M − 1) per set: 0.07 % for N = 10, 7 % for N = 100) walk the same cycle and displace each
 * other like linear probing. Measured here with M = 65537 and N = 10, one backend leaving moved up to 9 % of the
 * *other* backends' slots in such sets (and ~1 % in the worst 0.1 % of ordinary sets); with the cubic walk, at most
 * 0.41 % in either case (mh.test.ts, bench/lb-schedulers.ts). Cubing is a bijection mod M when gcd(3, M − 1) = 1, i.e.
 * M ≡ 2 (mod 3): 65537, 2039, 509 and 251 qualify; the walk is computed by finite differences (three additions a step).
 *
 * Weights: the paper gives each backend one turn per round; here a backend takes `weight / g` turns in a row per
 * round (g = gcd of the weights), so its share is proportional to its weight (within one round's turns / M).
 * Backends are visited in key order, so two directors that list the same servers in another order build the same
 * table. Pure.
 * @see https://research.google/pubs/maglev-a-fast-and-reliable-software-network-load-balancer/ (Pseudocode 1)
 * @see Linux net/netfilter/ipvs/ip_vs_mh.c (the kernel's mh scheduler, the paper's linear walk)
 */
import { hashString, MAGLEV_CUBE_SEED, MAGLEV_OFFSET_SEED, MAGLEV_SKIP_SEED } from '../hash.ts';
import { clientSlot } from './sh.ts';
import type { PickContext, PickResult, Scheduler, TableState } from './types.ts';
import { gcd, tableFingerprint, usableWeight } from './types.ts';

/** The paper's table size for production (a prime, ≡ 2 mod 3 as the cubic walk needs). */
export const MAGLEV_DEFAULT_SLOTS = 65_537;

/** How a backend walks the table: the paper's arithmetic progression, or the cubic walk (default, see above). */
export type MaglevPermutation = 'cubic' | 'linear';

/** Whether n is prime (trial division; table sizes are small). */
export function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

/**
 * Whether `slots` can size a Maglev table: a prime below 2^26 (so `skip · x < 2^52` stays exact), and for the cubic
 * walk ≡ 2 (mod 3).
 * @default permutation 'cubic'
 */
export function isMaglevSize(slots: number, permutation: MaglevPermutation = 'cubic'): boolean {
  return isPrime(slots) && slots < 2 ** 26 && (permutation === 'linear' || slots % 3 === 2);
}

/**
 * The Maglev lookup table: `slots` backend indices (into `backends`), empty when no backend has a weight above 0.
 * Throws RangeError when `slots` fails {@link isMaglevSize} (a programming error: config validation checks it first).
 * @default slots 65537, permutation 'cubic'
 * @example maglevTable([{ key: '10.0.0.1:80', weight: 1 }, { key: '10.0.0.2:80', weight: 1 }], 251)
 */
export function maglevTable(
  backends: readonly { key: string; weight: number }[],
  slots: number = MAGLEV_DEFAULT_SLOTS,
  permutation: MaglevPermutation = 'cubic',
): number[] {
  if (!isMaglevSize(slots, permutation)) {
    throw new RangeError(`Maglev table size must be a prime below 2^26 (≡ 2 mod 3 for the cubic walk), got ${slots}`);
  }
  const m = slots;
  const live = backends
    .map((b, i) => ({ i, key: b.key, w: usableWeight(b) }))
    .filter((b) => b.w > 0)
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.i - b.i));
  if (live.length === 0) return [];
  const g = live.reduce((acc, b) => gcd(b.w, acc), 0);
  const n = live.length;
  // Backend j's walk: slot = (offset + skip · x) mod M with x a polynomial in the step count (linear: x = step;
  // cubic: x = (step + c)³). Multiplying by skip is linear, so slot itself has constant third differences: each
  // step is three additions mod M (no multiplication, no division).
  const slot = new Int32Array(n);
  const e1 = new Int32Array(n);
  const e2 = new Int32Array(n);
  const e3 = new Int32Array(n);
  const turns = new Int32Array(n);
  const owner = new Int32Array(n);
  live.forEach((b, j) => {
    const offset = hashString(b.key, MAGLEV_OFFSET_SEED) % m;
    const skip = (hashString(b.key, MAGLEV_SKIP_SEED) % (m - 1)) + 1;
    const times = (v: number): number => (skip * v) % m; // exact: skip · v < 2^52
    if (permutation === 'cubic') {
      const c = hashString(b.key, MAGLEV_CUBE_SEED) % m;
      const c2 = (c * c) % m;
      slot[j] = (offset + times((c2 * c) % m)) % m;
      e1[j] = times((3 * c2 + 3 * c + 1) % m);
      e2[j] = times((6 * c + 6) % m);
      e3[j] = times(6 % m);
    } else {
      slot[j] = offset;
      e1[j] = skip;
    }
    turns[j] = b.w / g;
    owner[j] = b.i;
  });
  const table = new Int32Array(m).fill(-1);
  let filled = 0;
  for (;;) {
    for (let j = 0; j < n; j++) {
      let s = slot[j] ?? 0;
      let a = e1[j] ?? 0;
      let b = e2[j] ?? 0;
      const c = e3[j] ?? 0;
      for (let t = turns[j] ?? 0; t > 0; t--) {
        let claim: number;
        do {
          claim = s;
          s += a;
          if (s >= m) s -= m;
          a += b;
          if (a >= m) a -= m;
          b += c;
          if (b >= m) b -= m;
        } while ((table[claim] ?? 0) >= 0);
        table[claim] = owner[j] ?? 0;
        if (++filled === m) return Array.from(table);
      }
      slot[j] = s;
      e1[j] = a;
      e2[j] = b;
    }
  }
}

/**
 * Picks the backend owning the client's slot of the Maglev table (built once per backend set, cached in the state).
 * @example pickMh({ backends, state: null, client: { addr: '198.51.100.7' }, slots: 251 }).index
 */
export function pickMh(ctx: PickContext<TableState>): PickResult<TableState> {
  const slots = ctx.slots ?? MAGLEV_DEFAULT_SLOTS;
  const fingerprint = tableFingerprint(ctx.backends, slots);
  const state =
    ctx.state?.fingerprint === fingerprint ? ctx.state : { fingerprint, table: maglevTable(ctx.backends, slots) };
  if (!ctx.client || state.table.length === 0) return { index: null, state };
  return { index: state.table[clientSlot(ctx.client, state.table.length)] ?? null, state };
}

/** The mh scheduler; its state caches the Maglev table. */
export const mh: Scheduler<TableState> = { name: 'mh', initialState: null, pick: pickMh };
