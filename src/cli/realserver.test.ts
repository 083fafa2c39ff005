import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { AddressAdapter, IfAddr } from '../os/addresses.ts';
import { procSysctl } from '../os/sysctl.ts';
import { bufferIo } from './io.ts';
import { runRealserver } from './realserver.ts';

/** A /proc/sys of files and an address table in memory: the real sysctl adapter over a temp dir. */
function host(initial: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 't15d-rs-'));
  for (const [name, value] of Object.entries(initial)) {
    const file = join(dir, 'sys', ...name.split('.'));
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, `${value}\n`);
  }
  const addrs: IfAddr[] = [];
  const addresses: AddressAdapter = {
    async ensurePresent(a) {
      if (addrs.some((x) => x.addr === a.addr && x.dev === a.dev)) return false;
      addrs.push(a);
      return true;
    },
    async ensureAbsent(a) {
      const i = addrs.findIndex((x) => x.addr === a.addr && x.dev === a.dev);
      if (i < 0) return false;
      addrs.splice(i, 1);
      return true;
    },
    async list(dev) {
      return addrs.filter((a) => a.dev === dev);
    },
  };
  const sysctl = procSysctl(join(dir, 'sys'));
  const deps = { addresses, sysctl, statePath: join(dir, 'run', 'realserver.json') };
  return { dir, addrs, sysctl, deps, done: () => rmSync(dir, { recursive: true, force: true }) };
}

const BEFORE = {
  'net.ipv4.conf.all.arp_ignore': '0',
  'net.ipv4.conf.lo.arp_ignore': '0',
  'net.ipv4.conf.all.arp_announce': '1',
  'net.ipv4.conf.lo.arp_announce': '0',
};

test('realserver up puts the VIPs on lo and the ARP sysctls; again is a no-op; down restores exactly', async () => {
  const h = host(BEFORE);
  try {
    const io = bufferIo();
    assert.equal(await runRealserver('up', ['198.18.0.100', '2001:db8::100'], io, h.deps), 0);
    assert.deepEqual(
      h.addrs.map((a) => `${a.addr}/${a.prefix} ${a.dev}`),
      ['198.18.0.100/32 lo', '2001:db8::100/128 lo'],
    );
    assert.equal(h.sysctl.read('net.ipv4.conf.all.arp_ignore'), '1');
    assert.equal(h.sysctl.read('net.ipv4.conf.lo.arp_announce'), '2');
    assert.equal(statSync(h.deps.statePath).mode & 0o777, 0o600);
    const again = bufferIo();
    assert.equal(await runRealserver('up', ['198.18.0.100'], again, h.deps), 0);
    assert.deepEqual(again.stdout, ['198.18.0.100/32 already on lo']);
    assert.equal(h.addrs.length, 2);
    // One VIP down: the other keeps the ARP settings.
    const one = bufferIo();
    assert.equal(await runRealserver('down', ['198.18.0.100'], one, h.deps), 0);
    assert.equal(h.sysctl.read('net.ipv4.conf.all.arp_ignore'), '1');
    assert.deepEqual(
      h.addrs.map((a) => a.addr),
      ['2001:db8::100'],
    );
    assert.equal(await runRealserver('down', [], bufferIo(), h.deps), 0);
    assert.deepEqual(h.addrs, []);
    for (const [name, value] of Object.entries(BEFORE)) assert.equal(h.sysctl.read(name), value, name);
    assert.throws(() => statSync(h.deps.statePath), /ENOENT/);
  } finally {
    h.done();
  }
});

test('realserver: an address that was on lo before up stays after down; sysctls already right are not recorded as changed', async () => {
  const h = host({ ...BEFORE, 'net.ipv4.conf.all.arp_ignore': '1' });
  try {
    h.addrs.push({ addr: '198.18.0.100', prefix: 32, dev: 'lo' });
    const io = bufferIo();
    assert.equal(await runRealserver('up', ['198.18.0.100'], io, h.deps), 0);
    assert.ok(!io.stdout.some((l) => l.startsWith('net.ipv4.conf.all.arp_ignore')));
    const state = JSON.parse(readFileSync(h.deps.statePath, 'utf8'));
    assert.deepEqual(state.vips, [{ addr: '198.18.0.100', prefix: 32, added: false }]);
    assert.equal(await runRealserver('down', ['198.18.0.100'], bufferIo(), h.deps), 0);
    assert.deepEqual(
      h.addrs.map((a) => a.addr),
      ['198.18.0.100'],
    );
    assert.equal(h.sysctl.read('net.ipv4.conf.all.arp_announce'), '1');
  } finally {
    h.done();
  }
});

test('realserver: a bad VIP is a usage error (2) that changes nothing; a kernel without the setting fails (1)', async () => {
  const h = host(BEFORE);
  try {
    const io = bufferIo();
    assert.equal(await runRealserver('up', ['198.18.0.300'], io, h.deps), 2);
    assert.match(io.stderr[0]!, /"198\.18\.0\.300" is not an IP address/);
    assert.equal(h.sysctl.read('net.ipv4.conf.all.arp_ignore'), '0');
    assert.equal(await runRealserver('up', [], bufferIo(), h.deps), 2);
    const bare = host({});
    try {
      const e = bufferIo();
      assert.equal(await runRealserver('up', ['198.18.0.100'], e, bare.deps), 1);
      assert.match(e.stderr[0]!, /net\.ipv4\.conf\.all\.arp_ignore: no such setting/);
    } finally {
      bare.done();
    }
  } finally {
    h.done();
  }
});
