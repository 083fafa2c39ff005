import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatHealthChange } from './format.ts';

test('a down line names the real server, the HAProxy code and the reason, as an LVS operator reads it', () => {
  const line = formatHealthChange(null, '198.18.1.12:80', false, {
    code: 'L4CON',
    detail: 'connection refused',
    durationMs: 1,
  });
  assert.equal(line, 'real server 198.18.1.12:80 down: L4CON connection refused');
});

test('an up line carries the deciding result', () => {
  const line = formatHealthChange(null, '198.18.1.12:80', true, { code: 'L7OK', detail: 'HTTP 200', durationMs: 4 });
  assert.equal(line, 'real server 198.18.1.12:80 up: L7OK HTTP 200');
});

test('with a virtual server, it follows the real server in parentheses', () => {
  const line = formatHealthChange('198.18.0.100:80', '[2001:db8::12]:80', false, {
    code: 'L7STS',
    detail: 'HTTP 503, expected 200-299',
    durationMs: 2,
  });
  assert.equal(line, 'real server [2001:db8::12]:80 (VS 198.18.0.100:80) down: L7STS HTTP 503, expected 200-299');
});
