import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERROR_CODES, TandemError } from './errors.ts';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const documented = [...doc.matchAll(/^\| (TND_[A-Z0-9_]+) \|/gm)].map((m) => m[1] ?? '');

test('every registered error code is documented in docs/errors.md', () => {
  const missing = Object.keys(ERROR_CODES).filter((c) => !documented.includes(c));
  assert.deepEqual(missing, []);
});

test('docs/errors.md documents no code that the registry lacks, and none twice', () => {
  assert.deepEqual(
    documented.filter((c) => !(c in ERROR_CODES)),
    [],
  );
  assert.equal(new Set(documented).size, documented.length);
});

test('a TandemError carries its stable code', () => {
  const e = new TandemError('TND_CFG_RANGE', 'priority must be 1..255');
  assert.equal(e.code, 'TND_CFG_RANGE');
  assert.ok(e instanceof Error);
});
