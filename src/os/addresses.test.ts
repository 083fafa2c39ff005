import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type AddressAdapter, AddressVipEffects, type IfAddr, IpAddressAdapter, parseAddrJson } from './addresses.ts';

// `ip -j addr show dev eth0` from iproute2 6.1 in a lab namespace.
const SHOW = JSON.stringify([
  {
    ifindex: 2,
    ifname: 'eth0',
    flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
    addr_info: [
      { family: 'inet', local: '198.18.0.11', prefixlen: 24, scope: 'global', label: 'eth0' },
      { family: 'inet', local: '198.18.0.100', prefixlen: 24, scope: 'global', secondary: true, label: 'eth0:vi1' },
      { family: 'inet6', local: '2001:db8::100', prefixlen: 64, scope: 'global', nodad: true },
      { family: 'inet6', local: 'fe80::38f0:2eff:fee8:96e3', prefixlen: 64, scope: 'link' },
    ],
  },
]);

test('parseAddrJson reads address, prefix, device and label', () => {
  assert.deepEqual(parseAddrJson(SHOW, 'eth0'), [
    { addr: '198.18.0.11', prefix: 24, dev: 'eth0', label: 'eth0' },
    { addr: '198.18.0.100', prefix: 24, dev: 'eth0', label: 'eth0:vi1' },
    { addr: '2001:db8::100', prefix: 64, dev: 'eth0' },
    { addr: 'fe80::38f0:2eff:fee8:96e3', prefix: 64, dev: 'eth0' },
  ]);
});

test('parseAddrJson is lenient: bad JSON or odd shapes give no entries, not exceptions', () => {
  assert.deepEqual(parseAddrJson('not json', 'eth0'), []);
  assert.deepEqual(parseAddrJson('{}', 'eth0'), []);
  assert.deepEqual(parseAddrJson('[{"addr_info":[{"local":1}]}, null]', 'eth0'), []);
});

test('IpAddressAdapter reports an ip that cannot run as a rejection naming the command', async () => {
  const a = new IpAddressAdapter({ ipPath: '/nonexistent/ip' });
  await assert.rejects(a.ensurePresent({ addr: '198.18.0.100', prefix: 24, dev: 'eth0' }), /ip addr add .*ENOENT/);
});

/** An in-memory adapter that records calls and can be made slow or failing per address. */
class MemAdapter implements AddressAdapter {
  readonly held = new Set<string>();
  readonly log: string[] = [];
  delayMs: Record<string, number> = {};
  failing = new Set<string>();
  throwing = new Set<string>();

  async ensurePresent(a: IfAddr): Promise<boolean> {
    return this.#op('add', a);
  }

  async ensureAbsent(a: IfAddr): Promise<boolean> {
    return this.#op('del', a);
  }

  async list(): Promise<IfAddr[]> {
    return [];
  }

  #op(op: 'add' | 'del', a: IfAddr): Promise<boolean> {
    if (this.throwing.has(a.addr)) throw new Error(`sync ${a.addr}`);
    return new Promise((resolve, reject) => {
      setTimeout(() => {
        this.log.push(`${op} ${a.addr}/${a.prefix} ${a.dev}${a.label ? ` ${a.label}` : ''}`);
        if (this.failing.has(a.addr)) return reject(new Error(`no such device ${a.dev}`));
        const key = `${a.addr}/${a.prefix}@${a.dev}`;
        const had = this.held.has(key);
        if (op === 'add') this.held.add(key);
        else this.held.delete(key);
        resolve(op === 'add' ? !had : had);
      }, this.delayMs[a.addr] ?? 0);
    });
  }
}

test('VipEffects: a VIP without dev goes on the instance interface; changed lists only real changes', async () => {
  const m = new MemAdapter();
  const fx = new AddressVipEffects(m, 'eth0');
  const vips = [
    { addr: '198.18.0.100', prefix: 24, label: 'eth0:vi1' },
    { addr: '198.18.0.101', prefix: 32, dev: 'eth1' },
  ];
  assert.deepEqual(await fx.add(vips), { changed: ['198.18.0.100', '198.18.0.101'] });
  assert.deepEqual(await fx.add(vips), { changed: [] });
  assert.deepEqual(m.log.slice(0, 2).sort(), ['add 198.18.0.100/24 eth0 eth0:vi1', 'add 198.18.0.101/32 eth1']);
  assert.deepEqual(await fx.remove(vips), { changed: ['198.18.0.100', '198.18.0.101'] });
  assert.equal(m.held.size, 0);
});

test('VipEffects: a remove issued right after a slow add runs after it, so the address ends absent', async () => {
  const m = new MemAdapter();
  m.delayMs['198.18.0.100'] = 50;
  const fx = new AddressVipEffects(m, 'eth0');
  const vip = [{ addr: '198.18.0.100', prefix: 24 }];
  const added = fx.add(vip);
  const removed = fx.remove(vip);
  await Promise.all([added, removed]);
  assert.deepEqual(m.log, ['add 198.18.0.100/24 eth0', 'del 198.18.0.100/24 eth0']);
  assert.equal(m.held.size, 0);
});

test('VipEffects: failures reject after every address was tried, naming each failed address', async () => {
  const m = new MemAdapter();
  m.failing.add('198.18.0.101');
  m.throwing.add('198.18.0.102');
  const fx = new AddressVipEffects(m, 'eth0');
  const vips = ['198.18.0.100', '198.18.0.101', '198.18.0.102'].map((addr) => ({ addr, prefix: 24 }));
  let result: unknown;
  assert.doesNotThrow(() => {
    result = fx.add(vips);
  });
  await assert.rejects(result as Promise<unknown>, (e: Error) => {
    assert.match(
      e.message,
      /^add failed for 198\.18\.0\.101: no such device eth0; 198\.18\.0\.102: sync 198\.18\.0\.102$/,
    );
    return true;
  });
  assert.ok(m.held.has('198.18.0.100/24@eth0'), 'the good address was still added');
  // A failed batch does not block the next one.
  assert.deepEqual(await fx.remove([{ addr: '198.18.0.100', prefix: 24 }]), { changed: ['198.18.0.100'] });
});
