import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { slotTableFor } from './index.ts';
import { apportion, rrSlotTable, slotTable } from './slots.ts';

const count = (table: readonly number[], i: number) => table.filter((x) => x === i).length;

test('slotTable gives each backend its weight share of the slots, each count within 1 of exact', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 20 }),
      fc.integer({ min: 1, max: 5000 }),
      (weights, slots) => {
        const total = weights.reduce((s, w) => s + w, 0);
        fc.pre(total > 0);
        const table = slotTable(
          weights.map((weight) => ({ weight })),
          slots,
        );
        assert.equal(table.length, slots);
        weights.forEach((w, i) => {
          const exact = (w * slots) / total;
          assert.ok(Math.abs(count(table, i) - exact) < 1, `backend ${i}: ${count(table, i)} vs ${exact}`);
        });
      },
    ),
    { seed: 11, numRuns: 300 },
  );
});

test('slotTable spreads a backend through the table: equal weights alternate, 2:1 never puts b twice in a row', () => {
  assert.deepEqual(slotTable([{ weight: 1 }, { weight: 1 }, { weight: 1 }], 6), [0, 1, 2, 0, 1, 2]);
  const t = slotTable([{ weight: 2 }, { weight: 1 }], 12);
  assert.equal(count(t, 0), 8);
  assert.ok(!t.join('').includes('11'), t.join(''));
  assert.ok(!t.join('').includes('000'), t.join(''));
});

test('slotTable is empty when no backend has a weight above 0', () => {
  assert.deepEqual(slotTable([{ weight: 0 }], 8), []);
  assert.deepEqual(slotTable([], 8), []);
  assert.deepEqual(apportion([0, 0], 8), [0, 0]);
});

test('rrSlotTable lists the live backends in turn', () => {
  assert.deepEqual(rrSlotTable([{ weight: 3 }, { weight: 0 }, { weight: 1 }], 5), [0, 2, 0, 2, 0]);
});

test('slotTableFor: rr one slot per live backend, wrr one exact cycle, sh 256, mh the Maglev table, lc/wlc none', () => {
  const backends = [
    { key: 'a', weight: 4 },
    { key: 'b', weight: 2 },
  ];
  assert.deepEqual(slotTableFor('rr', backends), [0, 1]);
  const wrr = slotTableFor('wrr', backends) ?? [];
  assert.deepEqual([wrr.length, count(wrr, 0), count(wrr, 1)], [3, 2, 1]);
  assert.equal(slotTableFor('sh', backends)?.length, 256);
  assert.equal(slotTableFor('mh', backends, 251)?.length, 251);
  assert.equal(slotTableFor('lc', backends), null);
  assert.equal(slotTableFor('wlc', backends), null);
});
