import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connOverhead, pickLc } from './lc.ts';
import type { SchedBackend } from './types.ts';
import { pickWlc } from './wlc.ts';

const be = (key: string, weight: number, active = 0, inactive = 0): SchedBackend => ({ key, weight, active, inactive });

test('LVS connection overhead is active × 256 + inactive', () => {
  assert.equal(connOverhead(be('a', 1, 2, 3)), 515);
  assert.equal(connOverhead({ key: 'a', weight: 1 }), 0);
});

test('lc chooses the backend with the least overhead, ties to the first in list order', () => {
  const backends = [be('a', 1, 3), be('b', 1, 1), be('c', 1, 1), be('d', 1, 5)];
  assert.equal(pickLc({ backends, state: null }).index, 1);
  // one active connection outweighs 255 inactive ones
  assert.equal(pickLc({ backends: [be('a', 1, 1, 0), be('b', 1, 0, 255)], state: null }).index, 1);
  assert.equal(pickLc({ backends: [be('a', 1, 1, 0), be('b', 1, 0, 256)], state: null }).index, 0);
});

test('lc ignores weights except that weight 0 takes nothing new', () => {
  assert.equal(pickLc({ backends: [be('a', 0, 0), be('b', 1, 9)], state: null }).index, 1);
  assert.equal(pickLc({ backends: [be('a', 100, 2), be('b', 1, 1)], state: null }).index, 1);
  assert.equal(pickLc({ backends: [be('a', 0)], state: null }).index, null);
});

test('wlc chooses the backend that minimises overhead / weight', () => {
  // a: 512/3 ≈ 171 per unit, b: 256/1 = 256 per unit
  assert.equal(pickWlc({ backends: [be('b', 1, 1), be('a', 3, 2)], state: null }).index, 1);
  // with equal weights it is lc
  assert.equal(pickWlc({ backends: [be('a', 2, 3), be('b', 2, 1)], state: null }).index, 1);
  // ties (256/1 = 512/2) go to the first
  assert.equal(pickWlc({ backends: [be('a', 1, 1), be('b', 2, 2)], state: null }).index, 0);
  assert.equal(pickWlc({ backends: [be('a', 0, 0), be('b', 1, 100)], state: null }).index, 1);
  assert.equal(pickWlc({ backends: [], state: null }).index, null);
});

test('wlc keeps the active connections in proportion to the weights as connections accumulate', () => {
  const backends = [be('a', 3), be('b', 1), be('c', 2)];
  for (let i = 0; i < 600; i++) {
    const k = pickWlc({ backends, state: null }).index ?? -1;
    const chosen = backends[k];
    if (chosen) chosen.active = (chosen.active ?? 0) + 1;
  }
  assert.deepEqual(
    backends.map((b) => b.active),
    [300, 100, 200],
  );
});
