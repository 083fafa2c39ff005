import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffById, sameValue, stableKey } from './diff.ts';

test('stableKey ignores key order and undefined members, keeps array order', () => {
  assert.equal(stableKey({ b: 1, a: { d: [1, 2], c: undefined } }), stableKey({ a: { d: [1, 2] }, b: 1 }));
  assert.notEqual(stableKey([1, 2]), stableKey([2, 1]));
  assert.equal(stableKey([undefined]), '[null]');
});

test('regression: two configs that differ only in key order compare equal (JSON.stringify did not)', () => {
  const a = { name: 'VI_1', vrid: 51, vips: [{ addr: '198.18.0.100', prefix: 24 }] };
  const b = { vips: [{ prefix: 24, addr: '198.18.0.100' }], vrid: 51, name: 'VI_1' };
  assert.notEqual(JSON.stringify(a), JSON.stringify(b));
  assert.ok(sameValue(a, b));
});

test('diffById sorts ids into kept, changed, added and removed', () => {
  const d = diffById(
    [
      { n: 'a', v: 1 },
      { n: 'b', v: 1 },
      { n: 'c', v: 1 },
    ],
    [
      { n: 'b', v: 2 },
      { n: 'a', v: 1 },
      { n: 'd', v: 1 },
    ],
    (x) => x.n,
  );
  assert.deepEqual(d, { kept: ['a'], changed: ['b'], added: ['d'], removed: ['c'] });
});
