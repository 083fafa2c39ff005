import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { hashString, MAGLEV_SKIP_SEED } from '../hash.ts';
import { isMaglevSize, MAGLEV_DEFAULT_SLOTS, type MaglevPermutation, maglevTable, pickMh } from './mh.ts';
import type { TableState } from './types.ts';

const M = MAGLEV_DEFAULT_SLOTS;
type B = { key: string; weight: number };

/** Compares the tables before and after `gone` leaves: every changed slot, and the changed slots it did not own. */
function disruption(backends: B[], gone: number, perm: MaglevPermutation = 'cubic') {
  const before = maglevTable(backends, M, perm);
  const rest = backends.filter((_, i) => i !== gone);
  const after = maglevTable(rest, M, perm);
  const leaver = backends[gone]?.key;
  let changed = 0;
  let movedOthers = 0;
  let leaverSlots = 0;
  for (let s = 0; s < M; s++) {
    const was = backends[before[s] ?? -1]?.key;
    const is = rest[after[s] ?? -1]?.key;
    if (was === leaver) leaverSlots++;
    if (was !== is) {
      changed++;
      if (was !== leaver) movedOthers++;
    }
  }
  return { changed: changed / M, movedOthers: movedOthers / M, leaverShare: leaverSlots / M };
}

const ipPort = fc
  .tuple(fc.integer({ min: 1, max: 223 }), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 1, max: 254 }))
  .map(([a, bc, d]) => `${a}.${bc >> 8}.${bc & 255}.${d}`);
const keyArb = fc.tuple(ipPort, fc.integer({ min: 1, max: 65_535 })).map(([ip, port]) => `${ip}:${port}`);

test('Maglev: each backend owns its weight share of a 65537-slot table, within ±1 %', () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(keyArb, { minLength: 2, maxLength: 20 }),
      fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 20, maxLength: 20 }),
      (keys, weights) => {
        const backends = keys.map((key, i) => ({ key, weight: weights[i] ?? 1 }));
        const table = maglevTable(backends);
        const total = backends.reduce((s, b) => s + b.weight, 0);
        const counts = new Array<number>(backends.length).fill(0);
        for (const i of table) counts[i] = (counts[i] ?? 0) + 1;
        backends.forEach((b, i) => {
          const expected = (M * b.weight) / total;
          const got = counts[i] ?? 0;
          assert.ok(Math.abs(got - expected) <= 0.01 * expected, `${b.key} w${b.weight}: ${got} vs ${expected}`);
        });
      },
    ),
    { seed: 21, numRuns: 15 },
  );
});

test('Maglev: with equal weights the shares differ by at most one slot (one turn per backend per round)', () => {
  const backends = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((key) => ({ key, weight: 3 }));
  const table = maglevTable(backends, 251);
  const counts = backends.map((_, i) => table.filter((x) => x === i).length);
  assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `${counts}`);
});

test('Maglev minimal disruption: when one of N = 10 backends leaves, at most 1/N + 1 % of the slots change and at most 1 % of the remaining backends’ slots move', (t) => {
  const moved: number[] = [];
  fc.assert(
    fc.property(fc.uniqueArray(keyArb, { minLength: 10, maxLength: 10 }), fc.nat(9), (keys, gone) => {
      const backends = keys.map((key) => ({ key, weight: 1 }));
      const d = disruption(backends, gone);
      moved.push(d.movedOthers);
      assert.ok(d.changed <= 1 / 10 + 0.01, `changed ${d.changed}`);
      assert.ok(d.movedOthers <= 0.01, `others moved ${d.movedOthers}`);
      // every slot of the leaver changes hands, and nothing else changes beyond that small bound
      assert.ok(Math.abs(d.changed - d.leaverShare - d.movedOthers) < 1e-12);
    }),
    { seed: 42, numRuns: 30 },
  );
  moved.sort((a, b) => a - b);
  t.diagnostic(`others moved: median ${(moved[15] ?? 0) * 100}% max ${(moved.at(-1) ?? 0) * 100}%`);
});

test('Maglev minimal disruption holds with weights too: changed ≤ the leaver’s share + 1 %', () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(keyArb, { minLength: 10, maxLength: 10 }),
      fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 10, maxLength: 10 }),
      fc.nat(9),
      (keys, weights, gone) => {
        const backends = keys.map((key, i) => ({ key, weight: weights[i] ?? 1 }));
        const d = disruption(backends, gone);
        assert.ok(d.changed <= d.leaverShare + 0.01, `changed ${d.changed} share ${d.leaverShare}`);
        assert.ok(d.movedOthers <= 0.01, `others moved ${d.movedOthers}`);
      },
    ),
    { seed: 7, numRuns: 15 },
  );
});

/** A key whose skip equals `key`'s: Maglev's weak case for the paper's linear walk. */
function sameSkipAs(key: string): string {
  const skip = (k: string) => hashString(k, MAGLEV_SKIP_SEED) % (M - 1);
  const want = skip(key);
  for (let i = 0; ; i++) {
    const k = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:80`;
    if (skip(k) === want && k !== key) return k;
  }
}

test('Maglev weak case: two backends with the same skip; the cubic walk keeps the disruption bound, the paper’s linear walk does not', (t) => {
  const keys = Array.from({ length: 10 }, (_, i) => `192.0.2.${10 + i}:443`);
  keys[1] = sameSkipAs(keys[0] ?? '');
  const backends = keys.map((key) => ({ key, weight: 1 }));
  const cubic = disruption(backends, 0, 'cubic');
  const linear = disruption(backends, 0, 'linear');
  t.diagnostic(`others moved: cubic ${cubic.movedOthers * 100}%, linear ${linear.movedOthers * 100}%`);
  assert.ok(cubic.movedOthers <= 0.01, `cubic ${cubic.movedOthers}`);
  assert.ok(linear.movedOthers > 2 * cubic.movedOthers, `linear ${linear.movedOthers} cubic ${cubic.movedOthers}`);
});

test('Maglev table build for M = 65537 and 100 backends completes and gives every slot to a live backend', () => {
  const backends = Array.from({ length: 100 }, (_, i) => ({
    key: `10.1.${i >> 8}.${i & 255}:8080`,
    weight: 1 + (i % 3),
  }));
  backends[7] = { key: 'drained:1', weight: 0 };
  const table = maglevTable(backends);
  assert.equal(table.length, M);
  assert.ok(table.every((i) => i >= 0 && i < 100 && i !== 7));
});

test('Maglev: the table does not depend on the order the backends are listed in', () => {
  const backends = ['10.0.0.3:80', '10.0.0.1:80', '10.0.0.2:80', '10.0.0.4:80'].map((key, i) => ({
    key,
    weight: i + 1,
  }));
  const reversed = [...backends].reverse();
  const a = maglevTable(backends, 2039).map((i) => backends[i]?.key);
  const b = maglevTable(reversed, 2039).map((i) => reversed[i]?.key);
  assert.deepEqual(a, b);
});

test('Maglev: an empty or all-zero backend set gives an empty table; a size that is not a suitable prime throws', () => {
  assert.deepEqual(maglevTable([], 251), []);
  assert.deepEqual(maglevTable([{ key: 'a', weight: 0 }], 251), []);
  assert.ok(isMaglevSize(65_537) && isMaglevSize(251) && isMaglevSize(2039));
  assert.ok(!isMaglevSize(4093), '4093 ≡ 1 (mod 3): cubing is not a bijection');
  assert.ok(isMaglevSize(4093, 'linear'));
  assert.ok(!isMaglevSize(256) && !isMaglevSize(1));
  assert.throws(() => maglevTable([{ key: 'a', weight: 1 }], 256), RangeError);
});

test('mh: a client keeps its backend, and most clients of the remaining backends stay put when one leaves', () => {
  const backends = Array.from({ length: 5 }, (_, i) => ({ key: `10.0.0.${i + 1}:80`, weight: 1 }));
  let state: TableState = null;
  const before: (number | null)[] = [];
  for (let c = 0; c < 2000; c++) {
    const r = pickMh({ backends, state, client: { addr: `203.0.113.${c & 255}`, port: c }, slots: 2039 });
    state = r.state;
    before.push(r.index);
    assert.equal(
      pickMh({ backends, state, client: { addr: `203.0.113.${c & 255}`, port: c }, slots: 2039 }).index,
      r.index,
    );
  }
  const rest = backends.filter((_, i) => i !== 2);
  let stayed = 0;
  let others = 0;
  for (let c = 0; c < 2000; c++) {
    if (before[c] === 2) continue;
    others++;
    const r = pickMh({ backends: rest, state, client: { addr: `203.0.113.${c & 255}`, port: c }, slots: 2039 });
    state = r.state;
    if (rest[r.index ?? -1]?.key === backends[before[c] ?? -1]?.key) stayed++;
  }
  assert.ok(stayed / others >= 0.97, `${stayed}/${others}`);
  assert.equal(pickMh({ backends, state: null, slots: 251 }).index, null, 'no client, no pick');
});
