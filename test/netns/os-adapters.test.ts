/**
 * The real os/ adapters against real kernels, inside lab namespaces only (`ip -n NS …`): the host's own namespace is
 * never touched. Needs root; skipped otherwise.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AddressVipEffects, IpAddressAdapter } from '../../src/os/addresses.ts';
import { LinkMonitor } from '../../src/os/link-monitor.ts';
import { canBuildLabs, createLab } from './lab.ts';

const skip = canBuildLabs() ? false : 'needs root and ip netns (run the suite as root to build network namespaces)';

/** Resolves with the first change for `ifname` matching `up`, or rejects after `ms`. */
function linkChange(m: LinkMonitor, ifname: string, up: boolean, ms = 3_000): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`${ifname} did not go ${up ? 'up' : 'down'} within ${ms} ms`));
    }, ms);
    const off = m.onChange((name, u) => {
      if (name !== ifname || u !== up) return;
      clearTimeout(timer);
      off();
      resolve(performance.now() - t0);
    });
  });
}

test('addresses: IPv4 with prefix and label is added once, listed, and removed once', { skip }, async () => {
  const lab = await createLab(['a']);
  try {
    const a = new IpAddressAdapter({ netns: lab.host('a').ns });
    const vip = { addr: '198.18.0.100', prefix: 24, dev: 'eth0', label: 'eth0:vi1' };
    assert.equal(await a.ensurePresent(vip), true);
    assert.equal(await a.ensurePresent(vip), false, 'a second add changes nothing');
    const listed = await a.list('eth0');
    assert.deepEqual(
      listed.find((x) => x.addr === vip.addr),
      vip,
    );
    const shown = await lab.run('a', 'ip', ['-o', 'addr', 'show', 'dev', 'eth0']);
    assert.match(shown, /inet 198\.18\.0\.100\/24 .*eth0:vi1/);
    assert.equal(await a.ensureAbsent(vip), true);
    assert.equal(await a.ensureAbsent(vip), false, 'a second remove changes nothing');
    assert.equal(
      (await a.list('eth0')).some((x) => x.addr === vip.addr),
      false,
    );
  } finally {
    await lab.teardown();
  }
});

test('addresses: IPv6 is added with nodad (usable at once, not tentative) and removed', { skip }, async () => {
  const lab = await createLab(['a']);
  try {
    const a = new IpAddressAdapter({ netns: lab.host('a').ns });
    const vip = { addr: '2001:db8:0:0::100', prefix: 64, dev: 'eth0' };
    assert.equal(await a.ensurePresent(vip), true);
    assert.equal(await a.ensurePresent(vip), false);
    const shown = await lab.run('a', 'ip', ['-6', '-o', 'addr', 'show', 'dev', 'eth0']);
    assert.match(shown, /inet6 2001:db8::100\/64 .*nodad/);
    assert.doesNotMatch(shown.split('\n').find((l) => l.includes('2001:db8::100')) ?? '', /tentative/);
    assert.deepEqual(
      (await a.list('eth0')).find((x) => x.addr === '2001:db8::100'),
      { addr: '2001:db8::100', prefix: 64, dev: 'eth0' },
    );
    assert.equal(await a.ensureAbsent(vip), true);
    assert.equal(await a.ensureAbsent(vip), false);
  } finally {
    await lab.teardown();
  }
});

test('addresses: a missing device rejects an add, holds nothing for a remove, and lists empty', { skip }, async () => {
  const lab = await createLab(['a']);
  try {
    const a = new IpAddressAdapter({ netns: lab.host('a').ns });
    const vip = { addr: '198.18.0.100', prefix: 24, dev: 'nosuch0' };
    await assert.rejects(a.ensurePresent(vip), /ip addr add 198\.18\.0\.100\/24 dev nosuch0: .*nosuch0/);
    assert.equal(await a.ensureAbsent(vip), false);
    assert.deepEqual(await a.list('nosuch0'), []);
  } finally {
    await lab.teardown();
  }
});

test('VipEffects over ip: the instance interface is the default device; a failure rejects, never throws', {
  skip,
}, async () => {
  const lab = await createLab(['a']);
  try {
    const fx = new AddressVipEffects(new IpAddressAdapter({ netns: lab.host('a').ns }), 'eth0');
    const vips = [
      { addr: '198.18.0.100', prefix: 24, label: 'eth0:vi1' },
      { addr: '198.18.0.101', prefix: 32 },
    ];
    assert.deepEqual(await fx.add(vips), { changed: ['198.18.0.100', '198.18.0.101'] });
    const shown = await lab.run('a', 'ip', ['-o', 'addr', 'show', 'dev', 'eth0']);
    assert.match(shown, /198\.18\.0\.100\/24/);
    assert.match(shown, /198\.18\.0\.101\/32/);
    await assert.rejects(fx.add([{ addr: '198.18.0.102', prefix: 24, dev: 'nosuch0' }]), /198\.18\.0\.102/);
    assert.deepEqual(await fx.remove(vips), { changed: ['198.18.0.100', '198.18.0.101'] });
  } finally {
    await lab.teardown();
  }
});

test('link monitor: pulling and restoring the cable is seen as down and up within seconds', { skip }, async () => {
  const lab = await createLab(['a', 'b']);
  const ac = new AbortController();
  try {
    const m = new LinkMonitor({ interfaces: ['eth0'], netns: lab.host('a').ns, signal: ac.signal });
    await m.start();
    assert.equal(m.isUp('eth0'), true);
    const down = linkChange(m, 'eth0', false);
    await lab.setLink('a', false);
    const downMs = await down;
    assert.equal(m.isUp('eth0'), false);
    const up = linkChange(m, 'eth0', true);
    await lab.setLink('a', true);
    const upMs = await up;
    assert.equal(m.isUp('eth0'), true);
    assert.ok(downMs < 2_000 && upMs < 2_000, `down ${downMs.toFixed(0)} ms, up ${upMs.toFixed(0)} ms`);
  } finally {
    ac.abort();
    await lab.teardown();
  }
});

test('link monitor: an interface missing at start is down, comes up when created, and goes down when deleted', {
  skip,
}, async () => {
  const lab = await createLab(['a']);
  const ac = new AbortController();
  const ns = lab.host('a').ns;
  try {
    const m = new LinkMonitor({ interfaces: ['vx0'], netns: ns, signal: ac.signal });
    await m.start();
    assert.equal(m.isUp('vx0'), false);
    const up = linkChange(m, 'vx0', true);
    // A veth pair inside the lab namespace: vx0 gets carrier once both ends are up.
    await lab.run('a', 'ip', ['link', 'add', 'vx0', 'type', 'veth', 'peer', 'name', 'vx1']);
    await lab.run('a', 'ip', ['link', 'set', 'vx1', 'up']);
    await lab.run('a', 'ip', ['link', 'set', 'vx0', 'up']);
    await up;
    const down = linkChange(m, 'vx0', false);
    await lab.run('a', 'ip', ['link', 'del', 'vx0']);
    await down;
    assert.equal(m.isUp('vx0'), false);
  } finally {
    ac.abort();
    await lab.teardown();
  }
});

test('link monitor: an admin-down interface with carrier on the other end is down', { skip }, async () => {
  const lab = await createLab(['a']);
  const ac = new AbortController();
  try {
    const m = new LinkMonitor({ interfaces: ['eth0'], netns: lab.host('a').ns, signal: ac.signal });
    await m.start();
    const down = linkChange(m, 'eth0', false);
    await lab.run('a', 'ip', ['link', 'set', 'eth0', 'down']);
    await down;
    const up = linkChange(m, 'eth0', true);
    await lab.run('a', 'ip', ['link', 'set', 'eth0', 'up']);
    await up;
  } finally {
    ac.abort();
    await lab.teardown();
  }
});

test('the netlink address adapter adds and removes VIPs with label and prefix, converging, IPv4 and IPv6', {
  skip,
}, async () => {
  const lab = await createLab(['a']);
  try {
    // The addon acts in the calling process's namespace, so the check runs as a small script inside the lab host.
    const script = `
      import { NetlinkAddressAdapter } from '${new URL('../../src/os/addresses.ts', import.meta.url).pathname}';
      const a = new NetlinkAddressAdapter();
      const v4 = { addr: '198.18.0.100', prefix: 24, dev: 'eth0', label: 'eth0:vi1' };
      const v6 = { addr: '2001:db8::100', prefix: 64, dev: 'eth0' };
      const out = [await a.ensurePresent(v4), await a.ensurePresent(v4), await a.ensurePresent(v6), await a.ensurePresent(v6)];
      const listed = (await a.list('eth0')).map((x) => x.addr + '/' + x.prefix + (x.label ? ' ' + x.label : ''));
      out.push(await a.ensureAbsent(v4), await a.ensureAbsent(v4), await a.ensureAbsent(v6), await a.ensureAbsent({ ...v6, dev: 'nope0' }));
      console.log(JSON.stringify({ out, listed }));
    `;
    const r = await lab.exec('a', process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]);
    assert.equal(r.code, 0, r.stderr);
    const { out, listed } = JSON.parse(r.stdout) as { out: boolean[]; listed: string[] };
    assert.deepEqual(out, [true, false, true, false, true, false, true, false]);
    assert.ok(listed.includes('198.18.0.100/24 eth0:vi1'), listed.join(', '));
    assert.ok(listed.includes('2001:db8::100/64'), listed.join(', '));
  } finally {
    await lab.teardown();
  }
});
