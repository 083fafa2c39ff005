import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { SchedBackend } from './types.ts';
import { gcd } from './types.ts';
import { pickWrr, WRR_INITIAL, type WrrState } from './wrr.ts';

const run = (backends: SchedBackend[], n: number, state: WrrState = WRR_INITIAL): string[] => {
  let s = state;
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = pickWrr({ backends, state: s });
    s = r.state;
    out.push(r.index === null ? '-' : (backends[r.index]?.key ?? '?'));
  }
  return out;
};
const w = (...weights: number[]): SchedBackend[] =>
  weights.map((weight, i) => ({ key: 'abcdefgh'[i] ?? `x${i}`, weight }));

test('ip_vs_wrr: weights 3:1 give a a a b, and the cycle repeats', () => {
  assert.equal(run(w(3, 1), 8).join(' '), 'a a a b a a a b');
});

test('ip_vs_wrr interleaves: weights 4:3:2 give a a b a b c a b c, not a a a a b b b c c', () => {
  assert.equal(run(w(4, 3, 2), 9).join(' '), 'a a b a b c a b c');
});

test('ip_vs_wrr steps by the gcd of the weights: 4:2 behaves as 2:1', () => {
  assert.equal(run(w(4, 2), 6).join(' '), 'a a b a a b');
  assert.equal(run(w(6, 4, 2), 6).join(' '), run(w(3, 2, 1), 6).join(' '));
});

test('wrr: over one full cycle (Σ weight / gcd picks) each backend is picked exactly weight / gcd times', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 1, maxLength: 6 }), (weights) => {
      const g = weights.reduce((a, x) => gcd(x, a), 0);
      fc.pre(g > 0);
      const backends = w(...weights);
      const cycle = weights.reduce((s, x) => s + x / g, 0);
      const picks = run(backends, 2 * cycle);
      for (const half of [picks.slice(0, cycle), picks.slice(cycle)]) {
        backends.forEach((be, i) => {
          assert.equal(half.filter((k) => k === be.key).length, (weights[i] ?? 0) / g, `weights ${weights}`);
        });
      }
    }),
    { seed: 4, numRuns: 200 },
  );
});

test('wrr never picks a backend of weight 0, and returns null when all are 0', () => {
  assert.equal(run(w(2, 0, 1), 6).join(' '), 'a a c a a c');
  assert.deepEqual(run(w(0, 0), 2), ['-', '-']);
});

test('wrr survives a weight change mid-cycle: a current weight above the new maximum restarts the cycle', () => {
  const s = { last: 0, cw: 9 };
  assert.equal(run(w(1, 1), 4, s).join(' '), 'b a b a');
});
