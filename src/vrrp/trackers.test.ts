import assert from 'node:assert/strict';
import { test } from 'node:test';
import { trackerEffect, trackFileDelta, trackFileUp } from './trackers.ts';

test('keepalived: weight 0 and a non-zero value is FAULT (reverse: a zero value); otherwise value × weight', () => {
  assert.equal(trackFileDelta(0, 0), 0);
  assert.equal(trackFileDelta(3, 0), 'fault');
  assert.equal(trackFileDelta(0, 0, true), 'fault');
  assert.equal(trackFileDelta(3, 0, true), 0);
  assert.equal(trackFileDelta(2, 10), 20);
  assert.equal(trackFileDelta(2, 10, true), -20);
  assert.equal(trackFileDelta(-3, 10), -30);
  assert.equal(trackFileDelta(100, 100), 253);
  assert.equal(trackFileDelta(-100, 100), -254);
});

test('trackFileUp: weight 0 is up at 0; positive weights are up when non-zero; negative weights down when non-zero', () => {
  assert.deepEqual(
    [
      trackFileUp(0, 0),
      trackFileUp(1, 0),
      trackFileUp(0, 5),
      trackFileUp(1, 5),
      trackFileUp(0, -5),
      trackFileUp(1, -5),
    ],
    [true, false, false, true, true, false],
  );
});

test('trackerEffect: a weight-0 tracker faults when down (reverse: when up); weights add or subtract as keepalived', () => {
  assert.equal(trackerEffect(0, false, false), 'fault');
  assert.equal(trackerEffect(0, false, true), 'none');
  assert.equal(trackerEffect(0, true, true), 'fault');
  assert.equal(trackerEffect(10, false, true), 'adds');
  assert.equal(trackerEffect(-10, false, false), 'subtracts');
  assert.equal(trackerEffect(10, true, false), 'subtracts');
});
