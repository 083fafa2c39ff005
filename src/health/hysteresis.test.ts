import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { applyCheck, initialHealth, isHealthy } from './hysteresis.ts';

/** Feeds results (1 = pass, 0 = failure) and returns the UP/DOWN after each. */
function run(health: number, results: string, rise: number, fall: number): { health: number; ups: string } {
  let h = health;
  let ups = '';
  for (const r of results) {
    h = applyCheck(h, r === '1', rise, fall);
    ups += isHealthy(h, rise) ? 'U' : 'D';
  }
  return { health: h, ups };
}

test('HAProxy rise: a DOWN server is considered operational after `rise` consecutive successful checks', () => {
  assert.equal(run(0, '111', 3, 2).ups, 'DDU');
  assert.equal(run(0, '1', 1, 5).ups, 'U');
});

test('HAProxy fall: an UP server is considered dead after `fall` consecutive failed checks', () => {
  const top = 3 + 2 - 1;
  assert.equal(run(top, '00', 3, 2).ups, 'UD');
  assert.equal(run(1 + 4 - 1, '0000', 1, 4).ups, 'UUUD');
});

test('a failure while DOWN throws away the passes counted so far: rise passes must be consecutive', () => {
  assert.equal(run(0, '11011', 3, 2).ups, 'DDDDD');
  assert.equal(run(0, '110111', 3, 2).ups, 'DDDDDU');
});

test('a pass while UP restores the full margin: fall failures must be consecutive', () => {
  const top = 2 + 3 - 1;
  assert.equal(run(top, '00100', 2, 3).ups, 'UUUUU');
  assert.equal(run(top, '001000', 2, 3).ups, 'UUUUUD');
});

test('coming UP jumps the counter to the top (rise+fall-1); going DOWN drops it to 0', () => {
  assert.equal(applyCheck(2, true, 3, 4), 6);
  assert.equal(applyCheck(3, false, 3, 4), 0);
  assert.equal(applyCheck(6, false, 3, 4), 5);
  assert.equal(applyCheck(6, true, 3, 4), 6);
  assert.equal(applyCheck(0, false, 3, 4), 0);
});

test('keepalived init_fail: the script starts failed and needs `rise` successes', () => {
  const h = initialHealth(2, true);
  assert.equal(isHealthy(h, 2), false);
  assert.equal(run(h, '11', 2, 3).ups, 'DU');
});

test('keepalived without init_fail: "one success is enough", and one failure is enough, to decide the first state', () => {
  const h = initialHealth(3, false);
  assert.equal(h, 2);
  assert.deepEqual(run(h, '1', 3, 2), { health: 4, ups: 'U' });
  assert.deepEqual(run(h, '0', 3, 2), { health: 0, ups: 'D' });
});

test('a counter from an older config with larger rise/fall is clamped into range first', () => {
  assert.equal(applyCheck(99, false, 2, 2), 2);
  assert.equal(applyCheck(-5, true, 2, 2), 1);
});

test('property: the counter matches "rise consecutive passes bring it UP, fall consecutive failures bring it DOWN"', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 1, max: 6 }),
      fc.array(fc.boolean(), { maxLength: 60 }),
      (rise, fall, results) => {
        let h = 0;
        let up = false;
        let streak = 0;
        for (const passed of results) {
          h = applyCheck(h, passed, rise, fall);
          assert.ok(h >= 0 && h <= rise + fall - 1);
          // The reference model: count results against the current state, reset by a result that agrees with it.
          if (passed !== up) streak++;
          else streak = 0;
          if (!up && streak >= rise) [up, streak] = [true, 0];
          else if (up && streak >= fall) [up, streak] = [false, 0];
          assert.equal(isHealthy(h, rise), up);
        }
      },
    ),
  );
});
