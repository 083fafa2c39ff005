import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SimClock } from './sim-clock.ts';

test('timers fire in deadline order, and equal deadlines in the order they were set', () => {
  const clock = new SimClock();
  const fired: string[] = [];
  clock.at(300, () => fired.push('c'));
  clock.at(100, () => fired.push('a1'));
  clock.at(100, () => fired.push('a2'));
  clock.at(200, () => fired.push('b'));
  clock.runFor(1000);
  assert.deepEqual(fired, ['a1', 'a2', 'b', 'c']);
  assert.equal(clock.now(), 1000);
});

test('now() inside a timer is its deadline, and timers set while running fire in the same run if due', () => {
  const clock = new SimClock(50);
  const seen: number[] = [];
  clock.at(100, () => {
    seen.push(clock.now());
    clock.at(clock.now() + 10, () => seen.push(clock.now()));
    clock.at(clock.now(), () => seen.push(-clock.now()));
  });
  clock.runFor(60);
  assert.deepEqual(seen, [100, -100, 110]);
});

test('a cancelled timer never fires, and cancelling twice or after firing does nothing', () => {
  const clock = new SimClock();
  let n = 0;
  const cancel = clock.at(10, () => n++);
  const fired = clock.at(5, () => n++);
  assert.equal(clock.pending, 2);
  cancel();
  cancel();
  clock.runFor(20);
  fired();
  assert.equal(n, 1);
  assert.equal(clock.pending, 0);
});

test('a deadline in the past fires at the current time, after timers already due then', () => {
  const clock = new SimClock(1000);
  const order: string[] = [];
  clock.at(1000, () => order.push('due'));
  clock.at(10, () => order.push('past'));
  clock.runFor(0);
  assert.deepEqual(order, ['due', 'past']);
  assert.equal(clock.now(), 1000);
});

test('runUntil stops at the first instant the predicate holds, or at the limit', () => {
  const clock = new SimClock();
  let x = 0;
  for (const t of [100, 200, 300]) clock.at(t, () => x++);
  assert.deepEqual(
    clock.runUntil(() => x === 2, 1000),
    { ok: true, elapsedMs: 200 },
  );
  assert.equal(clock.now(), 200);
  assert.deepEqual(
    clock.runUntil(() => x === 5, 500),
    { ok: false, elapsedMs: 500 },
  );
  assert.equal(clock.now(), 700);
  assert.deepEqual(
    clock.runUntil(() => true, 10),
    { ok: true, elapsedMs: 0 },
  );
});

test('many timers stay ordered (heap property under random deadlines)', () => {
  const clock = new SimClock();
  const fired: number[] = [];
  let seed = 7;
  for (let i = 0; i < 2000; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const t = seed % 10_000;
    const cancel = clock.at(t, () => fired.push(t));
    if (i % 7 === 0) cancel();
  }
  clock.runFor(10_000);
  assert.deepEqual(
    fired,
    [...fired].sort((a, b) => a - b),
  );
  assert.equal(fired.length, 2000 - Math.ceil(2000 / 7));
});
