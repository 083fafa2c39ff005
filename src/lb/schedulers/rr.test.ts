import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pickRr, RR_INITIAL, type RrState } from './rr.ts';
import type { SchedBackend } from './types.ts';

const run = (backends: SchedBackend[], n: number, state: RrState = RR_INITIAL): string => {
  let s = state;
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = pickRr({ backends, state: s });
    s = r.state;
    out.push(r.index === null ? '-' : (backends[r.index]?.key ?? '?'));
  }
  return out.join(' ');
};
const b = (key: string, weight = 1): SchedBackend => ({ key, weight });

test('rr: each new connection goes to the next backend, in an exact cycle, whatever the weights', () => {
  assert.equal(run([b('a'), b('b'), b('c')], 7), 'a b c a b c a');
  assert.equal(run([b('a', 5), b('b', 1)], 4), 'a b a b');
});

test('rr skips backends with weight 0 (no new connections) and returns null when none is left', () => {
  assert.equal(run([b('a'), b('b', 0), b('c')], 4), 'a c a c');
  assert.equal(run([b('a', 0), b('b', 0)], 2), '- -');
  assert.equal(run([], 1), '-');
});

test('rr restarts at the head when its position is beyond a shrunken list', () => {
  assert.equal(run([b('a'), b('b')], 2, { last: 5 }), 'a b');
});
