import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type FeedbackServer, imbalanceBound, type SteerState, steer, UNSTEERED } from './lc-feedback.ts';

const srv = (key: string, active: number, weight = 1, inactive = 0): FeedbackServer => ({
  key,
  weight,
  active,
  inactive,
});
const share = (st: SteerState, k: string): number => st.shares!.get(k)!;

test('lc feedback: a balanced service keeps the configured weights (no transaction)', () => {
  const s = steer([srv('a', 10), srv('b', 11), srv('c', 9)], UNSTEERED, true);
  assert.equal(s.changed, false);
  assert.equal(s.state.weights, null);
  assert.ok(s.imbalance <= s.bound);
});

test('lc feedback: a loaded server loses share of new connections, an idle one gains; weights sum to ~1000', () => {
  const s = steer([srv('a', 30), srv('b', 10), srv('c', 20)], UNSTEERED, true);
  assert.equal(s.changed, true);
  assert.ok(share(s.state, 'a') < share(s.state, 'c') && share(s.state, 'c') < share(s.state, 'b'));
  const sum = [...s.state.weights!.values()].reduce((x, y) => x + y, 0);
  assert.ok(Math.abs(sum - 1000) <= 3, String(sum));
});

test('lc feedback: a lasting imbalance (a slower server) keeps lowering its share: integral action', () => {
  let st = UNSTEERED;
  const seen: number[] = [];
  for (let i = 0; i < 6; i++) {
    st = steer([srv('slow', 18), srv('b', 12), srv('c', 12)], st, true).state;
    seen.push(share(st, 'slow'));
  }
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! < seen[i - 1]!, JSON.stringify(seen));
});

test('lc feedback: once balanced, the leak brings the shares back, then the configured weights apply', () => {
  let st = steer([srv('a', 30), srv('b', 10)], UNSTEERED, true).state;
  let steps = 0;
  let last = steer([srv('a', 20), srv('b', 20)], st, true);
  while (last.state.weights !== null) {
    assert.ok(++steps < 40, 'returns to the configured weights');
    st = last.state;
    last = steer([srv('a', 20), srv('b', 20)], st, true);
  }
  assert.equal(last.changed, true);
});

test('lc feedback: wlc weighs the share; lc ignores the weights; weight 0 is never steered up; the bound', () => {
  const wlc = steer([srv('a', 20, 2), srv('b', 20, 1), srv('d', 0, 0)], UNSTEERED, false).state;
  assert.ok(share(wlc, 'a') > share(wlc, 'b'));
  assert.equal(wlc.weights!.has('d'), false);
  assert.equal(steer([srv('a', 20, 2), srv('b', 20, 1)], UNSTEERED, true).changed, false);
  assert.equal(imbalanceBound(10, 3), 2);
  assert.equal(imbalanceBound(3000, 3), 50);
});
