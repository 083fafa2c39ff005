import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeAddressAdapter } from './fake-addresses.ts';
import { FakeLinks } from './fake-link.ts';

test('fake links: unknown interfaces are down, and only real changes are announced', () => {
  const links = new FakeLinks({ eth0: true });
  const seen: string[] = [];
  const off = links.onChange((i, up) => seen.push(`${i} ${up}`));
  assert.equal(links.isUp('eth0'), true);
  assert.equal(links.isUp('eth1'), false);
  assert.equal(links.set('eth0', true), false);
  assert.equal(links.set('eth0', false), true);
  assert.equal(links.set('eth1', true), true);
  off();
  links.set('eth1', false);
  assert.deepEqual(seen, ['eth0 false', 'eth1 true']);
});

test('fake addresses converge like ip, log every call and fail on demand', async () => {
  const a = new FakeAddressAdapter(['eth0']);
  const vip = { addr: '198.18.0.100', prefix: 24, dev: 'eth0', label: 'eth0:vi1' };
  assert.equal(await a.ensurePresent(vip), true);
  assert.equal(await a.ensurePresent(vip), false);
  assert.deepEqual(await a.list('eth0'), [vip]);
  await assert.rejects(a.ensurePresent({ ...vip, dev: 'eth9' }), /Cannot find device "eth9"/);
  a.failWith = (op) => (op === 'remove' ? new Error('busy') : undefined);
  await assert.rejects(a.ensureAbsent(vip), /busy/);
  a.failWith = undefined;
  assert.equal(await a.ensureAbsent(vip), true);
  assert.equal(await a.ensureAbsent(vip), false);
  assert.deepEqual(a.held(), []);
  assert.deepEqual(
    a.calls.map((c) => `${c.op} ${c.addr.dev} ${c.changed ?? c.error}`),
    [
      'add eth0 true',
      'add eth0 false',
      'add eth9 Cannot find device "eth9"',
      'remove eth0 busy',
      'remove eth0 true',
      'remove eth0 false',
    ],
  );
});
