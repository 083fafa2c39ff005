import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeAddressAdapter } from '../../sim/fake-addresses.ts';
import { fakeDeps, fakeRunner, NEVER } from './test-support.ts';
import { parseVip, vipAgent } from './vip.ts';

function deps(over: { failWith?: (op: 'add' | 'remove') => Error | undefined } = {}) {
  const addresses = new FakeAddressAdapter(['eth0', 'eth1']);
  if (over.failWith) addresses.failWith = over.failWith;
  const announced: string[] = [];
  const d = fakeDeps(fakeRunner(() => ({ exit: 0 })).run, {
    addresses,
    garp: {
      announce: (dev, vips, repeat) => {
        announced.push(`${dev} ${vips.map((v) => v.addr).join(',')} ×${repeat}`);
      },
    },
  });
  return { addresses, announced, d };
}

test('parseVip: ADDR[/LEN], host prefix by default', () => {
  assert.deepEqual(parseVip('198.18.0.100'), { addr: '198.18.0.100', prefix: 32 });
  assert.deepEqual(parseVip('198.18.0.100/24'), { addr: '198.18.0.100', prefix: 24 });
  assert.deepEqual(parseVip('2001:db8::1/64'), { addr: '2001:db8::1', prefix: 64 });
  assert.equal(parseVip('198.18.0.100/33'), undefined);
  assert.equal(parseVip('nope'), undefined);
});

test('start adds the address and announces it; stop removes it; both are idempotent', async () => {
  const { addresses, announced, d } = deps();
  const a = vipAgent({ address: '198.18.0.100/24' }, { ...d, defaultInterface: 'eth0' });
  assert.equal(a.describe(), 'vip:198.18.0.100/24@eth0');
  assert.equal((await a.monitor(NEVER, 1_000)).code, 'not-running');
  assert.deepEqual(await a.start(NEVER, 1_000), { code: 'ok', detail: 'added, announced ×5' });
  assert.deepEqual(await a.start(NEVER, 1_000), { code: 'ok', detail: 'already present, announced ×5' });
  assert.deepEqual(addresses.held(), ['198.18.0.100/24@eth0']);
  assert.equal((await a.monitor(NEVER, 1_000)).code, 'ok');
  assert.deepEqual(await a.stop(NEVER, 1_000), { code: 'ok', detail: 'removed' });
  assert.deepEqual(await a.stop(NEVER, 1_000), { code: 'ok', detail: 'already absent' });
  assert.deepEqual(announced, ['eth0 198.18.0.100 ×5', 'eth0 198.18.0.100 ×5']);
});

test('the device: interface, else the address object dev, else the owner instance interface; label kept', async () => {
  const { addresses, d } = deps();
  await vipAgent(
    { address: { address: '198.18.0.101', dev: 'eth1', label: 'eth1:web' } },
    { ...d, defaultInterface: 'eth0' },
  ).start(NEVER, 1);
  await vipAgent({ address: '198.18.0.102', interface: 'eth1' }, { ...d, defaultInterface: 'eth0' }).start(NEVER, 1);
  assert.deepEqual(addresses.held(), ['198.18.0.101/32@eth1', '198.18.0.102/32@eth1']);
  assert.equal(addresses.calls[0]!.addr.label, 'eth1:web');
});

test('no device is not-configured; a bad address is invalid-args; stop of either is ok', async () => {
  const { d } = deps();
  const noDev = vipAgent({ address: '198.18.0.100' }, d);
  assert.equal((await noDev.start(NEVER, 1)).code, 'not-configured');
  assert.equal((await noDev.stop(NEVER, 1)).code, 'ok');
  const bad = vipAgent({ address: '198.18.0.300' }, { ...d, defaultInterface: 'eth0' });
  assert.equal((await bad.start(NEVER, 1)).code, 'invalid-args');
});

test('an adapter failure is a generic error with its message', async () => {
  const { d } = deps({
    failWith: (op) => (op === 'add' ? new Error('RTNETLINK answers: Operation not permitted') : undefined),
  });
  const r = await vipAgent({ address: '198.18.0.100' }, { ...d, defaultInterface: 'eth0' }).start(NEVER, 1);
  assert.equal(r.code, 'generic-error');
  assert.match(r.detail ?? '', /Operation not permitted/);
});
