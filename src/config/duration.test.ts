import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDurationMs, parseDurationMs } from './duration.ts';

test('durations: whole ms or text with a unit', () => {
  assert.equal(parseDurationMs(250), 250);
  assert.equal(parseDurationMs('100ms'), 100);
  assert.equal(parseDurationMs('1s'), 1000);
  assert.equal(parseDurationMs('1.5s'), 1500);
  assert.equal(parseDurationMs('2m'), 120_000);
  assert.equal(parseDurationMs('3', 's'), 3000);
  assert.equal(parseDurationMs(0.5, 's'), 500);
});

test('durations: sub-millisecond, negative and non-numeric text are refused, not rounded', () => {
  for (const bad of ['1.0005s', '-1s', 'abc', '1 x', '', '1e3']) assert.equal(parseDurationMs(bad), undefined, bad);
  assert.equal(parseDurationMs(-5), undefined);
  assert.equal(parseDurationMs(Number.NaN), undefined);
});

test('durations format the way an operator writes them', () => {
  assert.deepEqual([0, 10, 100, 1000, 1500, 60_000, 7_200_000].map(formatDurationMs), [
    '0ms',
    '10ms',
    '100ms',
    '1s',
    '1.5s',
    '1m',
    '2h',
  ]);
});
