// keepalived's long tail on a real wire (issue 11): use_vmac and vmac_xmit_base seen from a peer namespace with
// `tcpdump -e`, virtual_routes that follow the master, static routes and addresses on every node, the ping check
// against a lab address. Every test builds its own lab and tears it down. Needs root; skipped otherwise.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { runPingCheck } from '../../src/health/checkers/ping.ts';
import { IpRouteAdapter } from '../../src/os/routes.ts';
import { IpVmacAdapter, virtualRouterMac } from '../../src/os/vmac.ts';
import { canBuildLabs, createLab } from './lab.ts';
import { eventually, Output, startTandem, untilState, workDir } from './tandem-lab.ts';

const skip = canBuildLabs() ? false : 'needs root and ip netns';
const never = new AbortController().signal;

const config = `
cluster:
  nodes: [{ name: d1, address: 198.18.0.11 }, { name: d2, address: 198.18.0.12 }]
vrrp:
  static:
    addresses: [{ address: 198.18.6.1/32, dev: eth0 }]
    routes: ['198.18.7.0/24 via 198.18.0.253']
  instances:
    - name: VI_1
      interface: eth0
      vrid: 51
      version: 3
      priority: { d1: 150, d2: 100 }
      advert_interval: 1s
      vips: [198.18.0.100/24]
      vmac: {}
      virtual_routes: ['198.18.9.0/24 via 198.18.0.254']
      virtual_rules: ['from 198.18.0.100 table 151']
    - name: VI_2
      interface: eth0
      vrid: 52
      version: 3
      priority: { d1: 150, d2: 100 }
      advert_interval: 1s
      vips: [198.18.0.101/24]
      vmac: { name: vmac52, xmit_base: true }
`;

/** `SRCMAC vrid N` for each VRRP packet tcpdump prints with -e -v. */
function advertSources(lines: readonly string[]): Map<number, Set<string>> {
  // With -v tcpdump prints the link header on one line and the VRRP fields on the next.
  const out = new Map<number, Set<string>>();
  let mac: string | undefined;
  for (const l of lines) {
    const head = /^\S+ ([0-9a-f:]{17}) > [0-9a-f:]{17}/.exec(l);
    if (head) mac = head[1];
    const vrid = /vrid (\d+)/.exec(l);
    if (!vrid || !mac) continue;
    const set = out.get(Number(vrid[1])) ?? new Set<string>();
    set.add(mac);
    out.set(Number(vrid[1]), set);
  }
  return out;
}

test('use_vmac: the master advertises from 00:00:5e:00:01:VRID (vmac_xmit_base: from the base MAC); virtual routes and rules follow the master; static ones are on every node', {
  skip,
}, async () => {
  const dir = workDir();
  const lab = await createLab(['d1', 'd2', 'peer'], { d1: '198.18.0.11', d2: '198.18.0.12', peer: '198.18.0.50' });
  try {
    const dump = new Output(lab.spawn('peer', 'tcpdump', ['-e', '-n', '-l', '-v', '-i', 'eth0', 'ip proto 112']));
    const d1 = await startTandem(lab, 'd1', config, { dir });
    const d2 = await startTandem(lab, 'd2', config, { dir });
    await untilState(d1, 'MASTER');
    await untilState(d2, 'BACKUP');
    const baseMac = JSON.parse(await lab.run('d1', 'ip', ['-j', 'link', 'show', 'eth0']))[0].address as string;
    const seen = await eventually(
      'adverts of both VRIDs from the master',
      () => advertSources(dump.lines),
      (m) => (m.get(51)?.size ?? 0) > 0 && (m.get(52)?.size ?? 0) > 0,
      15_000,
    );
    assert.deepEqual([...seen.get(51)!], [virtualRouterMac(51, 4)], dump.text());
    assert.deepEqual([...seen.get(52)!], [baseMac], 'vmac_xmit_base: adverts leave from the base interface');

    // The VIP is on the vmac, whose MAC is the virtual router MAC.
    const link = JSON.parse(await lab.run('d1', 'ip', ['-j', 'addr', 'show', 'dev', 'vrrp.51']))[0];
    assert.equal(link.address, '00:00:5e:00:01:33');
    assert.ok(
      link.addr_info.some((a: { local: string }) => a.local === '198.18.0.100'),
      JSON.stringify(link),
    );

    const route = async (host: string) => (await lab.run(host, 'ip', ['route', 'show', '198.18.9.0/24'])).trim();
    const rule = async (host: string) => (await lab.run(host, 'ip', ['rule', 'show'])).includes('lookup 151');
    await eventually(
      'the virtual route on the master',
      () => route('d1'),
      (r) => r !== '',
      10_000,
    );
    assert.match(await route('d1'), /via 198\.18\.0\.254/);
    assert.equal(await route('d2'), '', 'no virtual route on the backup');
    assert.deepEqual([await rule('d1'), await rule('d2')], [true, false]);
    for (const h of ['d1', 'd2']) {
      assert.match(await lab.run(h, 'ip', ['route', 'show', '198.18.7.0/24']), /via 198\.18\.0\.253/, h);
      assert.match(await lab.run(h, 'ip', ['addr', 'show', 'dev', 'eth0']), /198\.18\.6\.1\/32/, h);
    }

    // A graceful stop: d2 takes over, the route and rule move with it, and d1's vmac is gone.
    d1.child.kill('SIGTERM');
    await untilState(d2, 'MASTER');
    await eventually(
      'the virtual route on the new master',
      () => route('d2'),
      (r) => r !== '',
      10_000,
    );
    await eventually(
      'd1 without its virtual route',
      () => route('d1'),
      (r) => r === '',
      10_000,
    );
    assert.deepEqual([await rule('d1'), await rule('d2')], [false, true]);
    await eventually(
      'd1 without vrrp.51',
      async () => (await lab.exec('d1', 'ip', ['link', 'show', 'vrrp.51'])).code,
      (c) => c !== 0,
      10_000,
    );
  } finally {
    await lab.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the route and vmac adapters converge: a second add or delete changes nothing', { skip }, async () => {
  const lab = await createLab(['a'], { a: '198.18.0.11' });
  try {
    const netns = lab.host('a').ns;
    const routes = new IpRouteAdapter({ netns });
    const r = { kind: 'route' as const, args: ['198.18.9.0/24', 'via', '198.18.0.254'] };
    assert.deepEqual([await routes.ensurePresent(r), await routes.ensurePresent(r)], [true, false]);
    assert.deepEqual([await routes.ensureAbsent(r), await routes.ensureAbsent(r)], [true, false]);
    const rule = { kind: 'rule' as const, args: ['from', '198.18.0.100', 'table', '151'] };
    assert.deepEqual([await routes.ensurePresent(rule), await routes.ensurePresent(rule)], [true, false]);
    assert.deepEqual([await routes.ensureAbsent(rule), await routes.ensureAbsent(rule)], [true, false]);
    const vmacs = new IpVmacAdapter({ netns });
    const v = { name: 'vrrp.7', base: 'eth0', mac: virtualRouterMac(7, 4) };
    assert.deepEqual([await vmacs.ensurePresent(v), await vmacs.ensurePresent(v)], [true, false]);
    assert.match(await lab.run('a', 'ip', ['link', 'show', 'vrrp.7']), /00:00:5e:00:01:07/);
    assert.deepEqual([await vmacs.ensureAbsent(v), await vmacs.ensureAbsent(v)], [true, false]);
  } finally {
    await lab.teardown();
  }
});

test('PING_CHECK: a lab host that answers is L4OK; an address with no host is L4TOUT or L4CON', { skip }, async () => {
  const lab = await createLab(['a', 'b'], { a: '198.18.0.11', b: '198.18.0.12' });
  try {
    // The check runs inside a's namespace, as the daemon would on a director there.
    const script = (addr: string) =>
      `import { runPingCheck } from ${JSON.stringify(new URL('../../src/health/checkers/ping.ts', import.meta.url).href)};` +
      `const r = await runPingCheck({ kind: 'ping', addr: '${addr}', timeoutMs: 1000 }, new AbortController().signal);` +
      'console.log(JSON.stringify(r));';
    const run = async (addr: string) => {
      const r = await lab.exec(
        'a',
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', script(addr)],
        20_000,
      );
      return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as { code: string; detail: string };
    };
    assert.equal((await run('198.18.0.12')).code, 'L4OK');
    const nobody = await run('198.18.0.99');
    assert.ok(nobody.code === 'L4TOUT' || nobody.code === 'L4CON', JSON.stringify(nobody));
    // And on the host's own loopback, outside any lab.
    assert.equal((await runPingCheck({ kind: 'ping', addr: '127.0.0.1', timeoutMs: 1000 }, never)).code, 'L4OK');
  } finally {
    await lab.teardown();
  }
});
