import assert from 'node:assert/strict';
import { test } from 'node:test';
import { printable } from './text.ts';

test('printable leaves ordinary text (and non-ASCII letters) alone', () => {
  assert.equal(
    printable('vrrp_instance VI_1: priority must be 1..255 — über'),
    'vrrp_instance VI_1: priority must be 1..255 — über',
  );
});

test('printable escapes C0, DEL and C1 controls so they cannot drive a terminal or split a log line', () => {
  assert.equal(printable('a\x1b[31mb'), 'a\\x1b[31mb');
  assert.equal(printable('x\ny\rz\tw'), 'x\\ny\\rz\\tw');
  assert.equal(printable('\x7f\u009b2J'), '\\x7f\\u009b2J');
  assert.equal(printable('\x00'), '\\x00');
});
