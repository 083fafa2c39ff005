import assert from 'node:assert/strict';
import { test } from 'node:test';
import { masterDownIntervalMs, minSkewTimeMs, skewTimeMs } from './timers.ts';

test('RFC 3768 §6.1: Skew_Time = (256 - Priority) / 256 seconds, rounded down to a millisecond', () => {
  assert.equal(skewTimeMs({ version: 2, priority: 100 }), 609); // 609.375
  assert.equal(skewTimeMs({ version: 2, priority: 150 }), 414); // 414.0625
  assert.equal(skewTimeMs({ version: 2, priority: 224 }), 125); // exactly 125
  assert.equal(skewTimeMs({ version: 2, priority: 254 }), 7); // 7.8125
  assert.equal(skewTimeMs({ version: 2, priority: 1 }), 996); // 996.09375
});

test('RFC 3768 §6.1: v2 Skew_Time does not depend on the advertisement interval', () => {
  assert.equal(
    skewTimeMs({ version: 2, priority: 100, masterAdverIntervalMs: 5000 }),
    skewTimeMs({ version: 2, priority: 100 }),
  );
});

test('RFC 3768 §6.1: Master_Down_Interval = 3 * Advertisement_Interval + Skew_Time', () => {
  assert.equal(masterDownIntervalMs({ version: 2, priority: 100, advertIntervalMs: 1000 }), 3609);
  assert.equal(masterDownIntervalMs({ version: 2, priority: 200, advertIntervalMs: 2000 }), 6218);
});

test('RFC 5798 §6.1: Skew_Time = ((256 - Priority) * Master_Adver_Interval) / 256', () => {
  assert.equal(skewTimeMs({ version: 3, priority: 100, masterAdverIntervalMs: 1000 }), 609);
  assert.equal(skewTimeMs({ version: 3, priority: 100, masterAdverIntervalMs: 100 }), 60); // 60.9375
  assert.equal(skewTimeMs({ version: 3, priority: 1, masterAdverIntervalMs: 40950 }), 40790); // 40790.04
  assert.equal(skewTimeMs({ version: 3, priority: 255, masterAdverIntervalMs: 10 }), 0); // 0.039
});

test('RFC 5798 §6.1: Master_Down_Interval = (3 * Master_Adver_Interval) + Skew_Time', () => {
  assert.equal(masterDownIntervalMs({ version: 3, priority: 100, masterAdverIntervalMs: 100 }), 360);
  assert.equal(masterDownIntervalMs({ version: 3, priority: 100, masterAdverIntervalMs: 1000 }), 3609);
});

test('keepalived down_timer_adverts replaces the RFC multiplier 3', () => {
  assert.equal(masterDownIntervalMs({ version: 2, priority: 100, advertIntervalMs: 1000, downTimerAdverts: 5 }), 5609);
  assert.equal(
    masterDownIntervalMs({ version: 3, priority: 100, masterAdverIntervalMs: 100, downTimerAdverts: 1 }),
    160,
  );
});

test('keepalived VRRP_TIMER_SKEW_MIN is one priority step of skew', () => {
  assert.equal(minSkewTimeMs(2, 1000), 3);
  assert.equal(minSkewTimeMs(3, 2560), 10);
});

test('rounding down never lengthens a wait: the result is within 1 ms below the exact value', () => {
  for (const version of [2, 3] as const) {
    for (let priority = 1; priority <= 255; priority++) {
      for (const interval of [10, 100, 990, 1000, 3000, 40950]) {
        const exact = ((256 - priority) * (version === 2 ? 1000 : interval)) / 256;
        const got = skewTimeMs({ version, priority, masterAdverIntervalMs: interval });
        assert.ok(Number.isInteger(got) && got <= exact && exact - got < 1, `${version}/${priority}/${interval}`);
      }
    }
  }
});

test('a higher priority always gets a shorter or equal Master_Down_Interval (so it takes over first)', () => {
  for (const version of [2, 3] as const) {
    let prev = Number.POSITIVE_INFINITY;
    for (let priority = 1; priority <= 255; priority++) {
      const mdi = masterDownIntervalMs({ version, priority, masterAdverIntervalMs: 1000 });
      assert.ok(mdi <= prev);
      prev = mdi;
    }
  }
});
