import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CHECK_RESULT_CODES,
  CHECK_RESULT_MEANING,
  checkTimingDefaults,
  formatStatusRanges,
  hostPort,
  passed,
  probeTimeoutMs,
  timeoutCode,
} from './types.ts';

test('HAProxy check_status: exactly the codes ending in OK pass', () => {
  assert.deepEqual(
    CHECK_RESULT_CODES.filter((c) => passed(c)),
    ['L4OK', 'L6OK', 'L7OK', 'PROCOK', 'FILEOK'],
  );
  for (const c of CHECK_RESULT_CODES) assert.equal(passed(c), c.endsWith('OK'));
});

test('the code set is closed and each code carries its HAProxy meaning', () => {
  assert.deepEqual(CHECK_RESULT_CODES, Object.keys(CHECK_RESULT_MEANING));
  assert.equal(new Set(CHECK_RESULT_CODES).size, CHECK_RESULT_CODES.length);
  for (const c of ['L4TOUT', 'L4CON', 'L6TOUT', 'L6RSP', 'L7STS', 'L7TOUT', 'L7RSP', 'PROCERR', 'PROCTOUT'] as const) {
    assert.ok(CHECK_RESULT_CODES.includes(c), c);
  }
});

test('keepalived defaults: delay_loop 60 s, retry 1 (MISC_CHECK 0), delay_before_retry 3 s for HTTP, warmup = delay_loop', () => {
  assert.deepEqual(checkTimingDefaults('tcp'), {
    intervalMs: 60_000,
    rise: 1,
    fall: 1,
    retries: 1,
    delayBeforeRetryMs: 1_000,
    warmupMs: 60_000,
  });
  assert.equal(checkTimingDefaults('http').delayBeforeRetryMs, 3_000);
  assert.equal(checkTimingDefaults('script').retries, 0);
  assert.equal(checkTimingDefaults('tcp', 6_000).warmupMs, 6_000);
});

test('the timeout code and limit follow the probe kind', () => {
  assert.equal(timeoutCode('tcp'), 'L4TOUT');
  assert.equal(timeoutCode('http'), 'L7TOUT');
  assert.equal(timeoutCode('script'), 'PROCTOUT');
  assert.equal(probeTimeoutMs({ kind: 'tcp', addr: '127.0.0.1', port: 1, connectTimeoutMs: 7 }), 7);
  assert.equal(probeTimeoutMs({ kind: 'script', command: 'true', timeoutMs: 9, dynamic: false }), 9);
});

test('status ranges and endpoints print the way keepalived configs and logs write them', () => {
  assert.equal(
    formatStatusRanges([
      { from: 200, to: 299 },
      { from: 503, to: 503 },
    ]),
    '200-299 503',
  );
  assert.equal(hostPort('198.18.1.12', 80), '198.18.1.12:80');
  assert.equal(hostPort('2001:db8::12', 443), '[2001:db8::12]:443');
});
