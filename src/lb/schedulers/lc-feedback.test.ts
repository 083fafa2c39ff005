import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type FeedbackServer, imbalanceBound, type SteerState, shareDistance, steer } from './lc-feedback.ts';

const srv = (key: string, active: number, weight = 1, inactive = 0): FeedbackServer => ({
  key,
  weight,
  active,
  inactive,
});
const none: SteerState = { weights: null, horizon: 0 };

test('lc feedback: a balanced service keeps the configured weights (no transaction)', () => {
  const s = steer([srv('a', 10), srv('b', 11), srv('c', 9)], none, 5, true);
  assert.equal(s.changed, false);
  assert.equal(s.state.weights, null);
  assert.ok(s.imbalance <= s.bound);
});

test('lc feedback: new connections go to the servers below their share, in proportion to the deficit', () => {
  const s = steer([srv('a', 30), srv('b', 10), srv('c', 20)], none, 6, true);
  assert.equal(s.changed, true);
  const w = s.state.weights!;
  // Total 60 + horizon 6 → fair share 22: deficits a 0, b 12, c 2.
  assert.equal(w.get('a'), 1, 'above its share: the 1 ‰ floor');
  assert.ok(w.get('b')! > 5 * w.get('c')!, JSON.stringify([...w]));
});

test('lc feedback: wlc weighs the share; lc ignores the weights; weight 0 is never steered up', () => {
  const wlc = steer([srv('a', 20, 2), srv('b', 20, 1), srv('d', 0, 0)], none, 4, false).state.weights!;
  assert.ok(wlc.get('a')! > wlc.get('b')!);
  assert.equal(wlc.has('d'), false);
  const lc = steer([srv('a', 20, 2), srv('b', 20, 1)], none, 4, true);
  assert.equal(lc.changed, false, 'equal counts are balanced for lc, whatever the weights');
});

test('lc feedback: hysteresis: a steered service returns to its weights only below half the bound', () => {
  const first = steer([srv('a', 30), srv('b', 10)], none, 4, true);
  const within = steer([srv('a', 22), srv('b', 19)], first.state, 4, true);
  assert.ok(within.imbalance > within.bound / 2 && within.imbalance <= within.bound);
  assert.notEqual(within.state.weights, null, 'between half the bound and the bound it stays steered');
  const back = steer([srv('a', 20), srv('b', 20)], within.state, 4, true);
  assert.equal(back.state.weights, null);
  assert.equal(back.changed, true);
});

test('lc feedback: a small change of shares does not rewrite the table; the bound is max(2, 5 % of a share)', () => {
  const a = steer([srv('a', 30), srv('b', 10)], none, 4, true);
  const b = steer([srv('a', 30), srv('b', 11)], a.state, 4, true);
  assert.ok(shareDistance(a.state.weights!, new Map([...a.state.weights!])) === 0);
  assert.equal(b.changed, false);
  assert.equal(imbalanceBound(10, 3), 2);
  assert.equal(imbalanceBound(3000, 3), 50);
});
