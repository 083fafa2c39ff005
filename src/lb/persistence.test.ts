import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultNetmaskPrefix, persistenceKey, renewAffinity, stickyBackend } from './persistence.ts';
import { DEFAULT_PERSISTENCE_TIMEOUT_MS } from './types.ts';

test('persistence_granularity: clients of one network share a key, other networks do not', () => {
  assert.equal(persistenceKey('198.51.100.77', 24), '198.51.100.0/24');
  assert.equal(persistenceKey('198.51.100.200', 24), '198.51.100.0/24');
  assert.notEqual(persistenceKey('198.51.101.1', 24), persistenceKey('198.51.100.1', 24));
  assert.equal(persistenceKey('10.1.2.3', 12), '10.0.0.0/12');
  assert.equal(persistenceKey('2001:db8:1:2::77', 48), '2001:db8:1::/48');
  assert.equal(persistenceKey('2001:db8:1:2::77', 64), '2001:db8:1:2::/64');
});

test('the default granularity keeps one key per address, and the prefix is clamped to the family', () => {
  assert.equal(persistenceKey('198.51.100.77', defaultNetmaskPrefix(4)), '198.51.100.77/32');
  assert.equal(persistenceKey('2001:db8::1', defaultNetmaskPrefix(6)), '2001:db8::1/128');
  assert.equal(persistenceKey('198.51.100.77', 99), '198.51.100.77/32');
  assert.equal(persistenceKey('198.51.100.77', -3), '0.0.0.0/0');
  assert.equal(persistenceKey('not-an-address', 24), 'not-an-address');
});

test('keepalived persistence_timeout with no value is 6 minutes (IPVS_SVC_PERSISTENT_TIMEOUT)', () => {
  assert.equal(DEFAULT_PERSISTENCE_TIMEOUT_MS, 6 * 60 * 1000);
});

test('an affinity holds until its timeout after the last connection, and only to a backend taking new connections', () => {
  const backends = [
    { key: '10.0.0.1:80', weight: 1 },
    { key: '10.0.0.2:80', weight: 1 },
    { key: '10.0.0.3:80', weight: 0 },
  ];
  const a = renewAffinity('10.0.0.2:80', 1_000, 300_000);
  assert.equal(stickyBackend(a, backends, 1_000), 1);
  assert.equal(stickyBackend(a, backends, 300_999), 1);
  assert.equal(stickyBackend(a, backends, 301_000), null);
  assert.equal(stickyBackend(renewAffinity('10.0.0.3:80', 0, 1_000), backends, 10), null, 'draining: no new');
  assert.equal(stickyBackend(renewAffinity('10.0.0.9:80', 0, 1_000), backends, 10), null, 'gone');
  assert.equal(stickyBackend(undefined, backends, 10), null);
});
