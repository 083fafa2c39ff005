import assert from 'node:assert/strict';
import { test } from 'node:test';
import { REGEX_BUDGET_MS, RegexMatcher } from './regex-matcher.ts';

test('matches, misses and invalid patterns are told apart', async () => {
  const m = new RegexMatcher();
  try {
    assert.equal(m.budgetMs, REGEX_BUDGET_MS);
    assert.equal(await m.match('status: (ok|degraded)', 'status: ok\n'), true);
    assert.equal(await m.match('^ready$', 'not ready'), false);
    assert.equal(await m.match('(', 'x'), 'invalid');
  } finally {
    await m.close();
  }
});

test('a runaway match is cut at its budget without blocking the event loop, and the queue goes on', async () => {
  const m = new RegexMatcher(60);
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 5);
  try {
    const slow = m.match('^(a+)+$', `${'a'.repeat(40)}!`);
    const queued = m.match('b', 'abc');
    const started = performance.now();
    assert.equal(await slow, 'too-slow');
    assert.ok(performance.now() - started < 1_000);
    assert.ok(ticks >= 3, `the event loop ticked only ${ticks} times`);
    assert.equal(await queued, true);
  } finally {
    clearInterval(ticker);
    await m.close();
  }
});

test('a job whose check was aborted before its turn is skipped', async () => {
  const m = new RegexMatcher(60);
  try {
    const ac = new AbortController();
    const first = m.match('^(a+)+$', `${'a'.repeat(40)}!`);
    const skipped = m.match('a', 'a', ac.signal);
    ac.abort();
    assert.equal(await first, 'too-slow');
    assert.equal(await skipped, 'aborted');
  } finally {
    await m.close();
  }
});
