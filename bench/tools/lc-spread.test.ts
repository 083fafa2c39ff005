import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spreadOf } from './lc-spread.ts';

test('spread: mean range and relative range over samples, mean open per server', () => {
  const s = spreadOf([
    [10, 10, 10],
    [12, 6, 9],
  ]);
  assert.equal(s.samples, 2);
  assert.equal(s.meanRange, 3);
  assert.equal(s.meanRelative, (0 + 6 / 9) / 2);
  assert.deepEqual(s.meanOpen, [11, 8, 9.5]);
  assert.deepEqual(spreadOf([]), { meanRange: 0, meanRelative: 0, meanOpen: [], samples: 0 });
});
