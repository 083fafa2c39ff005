import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { COUNTS_BEFORE_ISSUE_11, keywordCounts } from './keepalived-doc.ts';
import { KA_BLOCKS, REJECTED, SUPPORTED, WARNED } from './keepalived-keywords.ts';

test('docs/keepalived.md shows the keyword counts of the tables (supported / warned / rejected), before and now', () => {
  const page = readFileSync(new URL('../../../docs/keepalived.md', import.meta.url), 'utf8');
  const now = keywordCounts();
  assert.match(page, new RegExp(`\\| now \\| ${now.supported} \\| ${now.warned} \\| ${now.rejected} \\|`));
  const b = COUNTS_BEFORE_ISSUE_11;
  assert.match(
    page,
    new RegExp(`\\| before issue 11 \\(main at 22ffe28\\) \\| ${b.supported} \\| ${b.warned} \\| ${b.rejected} \\|`),
  );
  assert.ok(now.supported > b.supported);
});

test('a keyword is supported or warned in a block, never both (rejected values may sit beside supported ones)', () => {
  // The preprocessor's @ID lines are both: read with a config id (the CLI always has one), warned without.
  for (const block of KA_BLOCKS.filter((b) => b !== 'preprocessor')) {
    const both = Object.keys(SUPPORTED[block]).filter((k) => Object.hasOwn(WARNED[block], k));
    assert.deepEqual(both, [], block);
    const warnedAndRejected = Object.keys(WARNED[block]).filter((k) => Object.hasOwn(REJECTED[block], k));
    assert.deepEqual(warnedAndRejected, [], block);
  }
});
