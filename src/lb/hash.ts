/**
 * The one hash function of the load balancer: MurmurHash3 x86_32 (Austin Appleby, public domain). Small, fast,
 * deterministic across runs, machines and Node versions, and well mixed (it passes SMHasher), which is all a
 * scheduler needs: it is **not** for secrets — a client that can choose its source address can aim at a backend
 * whatever the hash. Pure.
 *
 * Uses: source hashing (sh) of client keys, and Maglev's per-backend hashes (offset, skip and the cubic walk's c,
 * with {@link MAGLEV_OFFSET_SEED}, {@link MAGLEV_SKIP_SEED} and {@link MAGLEV_CUBE_SEED}).
 * @see https://github.com/aappleby/smhasher/blob/master/src/MurmurHash3.cpp MurmurHash3_x86_32
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

const mixK = (k: number): number => Math.imul(rotl(Math.imul(k, C1), 15), C2);
const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r));

/**
 * MurmurHash3 x86_32 of some bytes, as an unsigned 32-bit integer.
 * @default seed 0
 * @example murmur3(new TextEncoder().encode('hello')) // 0x248bfa47
 */
export function murmur3(bytes: Uint8Array, seed = 0): number {
  let h = seed >>> 0;
  const n = bytes.length;
  const tail = n & ~3;
  for (let i = 0; i < tail; i += 4) {
    const k = (bytes[i] ?? 0) | ((bytes[i + 1] ?? 0) << 8) | ((bytes[i + 2] ?? 0) << 16) | ((bytes[i + 3] ?? 0) << 24);
    h ^= mixK(k);
    h = rotl(h, 13);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  const rest = n & 3;
  if (rest === 3) k ^= (bytes[tail + 2] ?? 0) << 16;
  if (rest >= 2) k ^= (bytes[tail + 1] ?? 0) << 8;
  if (rest >= 1) {
    k ^= bytes[tail] ?? 0;
    h ^= mixK(k);
  }
  h ^= n;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const utf8 = new TextEncoder();

/**
 * MurmurHash3 x86_32 of a string's UTF-8 bytes.
 * @default seed 0
 * @example hashString('198.51.100.7') % 256 // the sh bucket of a client
 */
export function hashString(text: string, seed = 0): number {
  return murmur3(utf8.encode(text), seed);
}

/** Seed of Maglev's `offset` hash (the paper's h1); fixed so that every director builds the same table. */
export const MAGLEV_OFFSET_SEED = 0x9747b28c;

/** Seed of Maglev's `skip` hash (the paper's h2); any value other than {@link MAGLEV_OFFSET_SEED} works. */
export const MAGLEV_SKIP_SEED = 0x5bd1e995;

/** Seed of the third hash `c` of the cubic Maglev walk (schedulers/mh.ts). */
export const MAGLEV_CUBE_SEED = 0x27d4eb2f;
