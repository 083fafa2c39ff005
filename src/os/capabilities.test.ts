import assert from 'node:assert/strict';
import { test } from 'node:test';
import { capabilityMessage, checkCapabilities, missingCapabilities, parseCapEff } from './capabilities.ts';

const status = (capEff: string): string => `Name:\tnode\nCapInh:\t0000000000000000\nCapEff:\t${capEff}\nCapBnd:\t0\n`;

test('root (every capability) misses nothing', () => {
  assert.deepEqual(checkCapabilities(status('000001ffffffffff')), []);
});

test('CAP_NET_RAW is bit 13 and CAP_NET_ADMIN bit 12 of CapEff', () => {
  assert.deepEqual(checkCapabilities(status('0000000000000000')), ['CAP_NET_RAW', 'CAP_NET_ADMIN']);
  assert.deepEqual(missingCapabilities(1n << 13n), ['CAP_NET_ADMIN']);
  assert.deepEqual(missingCapabilities(1n << 12n), ['CAP_NET_RAW']);
  assert.deepEqual(checkCapabilities(status('0000000000003000')), []);
});

test('an unreadable status counts as missing everything', () => {
  assert.equal(parseCapEff('Name: x\n'), undefined);
  assert.deepEqual(checkCapabilities(''), ['CAP_NET_RAW', 'CAP_NET_ADMIN']);
});

test('this process: the check reads /proc/self/status', () => {
  const missing = checkCapabilities();
  if (process.getuid?.() === 0) assert.deepEqual(missing, []);
  else assert.ok(Array.isArray(missing));
});

test('the message says what to do and what is missing', () => {
  assert.equal(
    capabilityMessage(['CAP_NET_RAW']),
    'tandem needs CAP_NET_RAW and CAP_NET_ADMIN (run as root or grant them with setcap/AmbientCapabilities); ' +
      'missing: CAP_NET_RAW',
  );
});
