// NAT connections survive a director failover: two directors run `tandem run` with lb.conntrack_sync, so tandem runs
// conntrackd (FTFW over a dedicated veth link) and steers it by VRRP ownership. The client (198.18.0.50) downloads
// from a real server (198.18.3.2x) through the NAT VIP 198.18.0.100; the real servers route back through the floating
// gateway 198.18.3.1, which moves with the VIP. The directors run with nf_conntrack_tcp_loose=0, so a packet of a
// connection their kernel does not track is invalid and the stream breaks: it survives only if the state was
// replicated. Failovers: SIGKILL of the master daemon, then (after it came back and preempted) a link-down.
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { canBuildLabs, createLab, type Lab } from './lab.ts';
import { download, type StreamResult, startStreamServer } from './stream-lab.ts';
import { eventually, startTandem, type TandemProc, untilState, workDir } from './tandem-lab.ts';

const CONNTRACKD = '/usr/sbin/conntrackd';
const skip = !canBuildLabs()
  ? 'needs root and ip netns'
  : !existsSync(CONNTRACKD)
    ? 'needs conntrackd (apt-get install conntrackd; scripts/setup.sh installs it)'
    : false;
const VIP = '198.18.0.100';
const GW = '198.18.3.1';
const RS = { rs1: '198.18.3.21', rs2: '198.18.3.22', rs3: '198.18.3.23' } as const;
const PORT = 9000;
const BYTES = 4 << 20;
const RATE = 1 << 20;

const config = `
cluster:
  nodes: [{ name: d1, address: 198.18.0.11 }, { name: d2, address: 198.18.0.12 }]
vrrp:
  instances:
    - name: VI_1
      interface: eth0
      vrid: 63
      version: 3
      priority: { d1: 150, d2: 100 }
      advert_interval: 100ms
      vips: [${VIP}/24, ${GW}/24]
      # The failover here is the master daemon's SIGKILL without its supervisor: the host still answers and still holds
      # the VIP, so the takeover guard (docs/split-brain.md) would rightly keep d2 BACKUP. This test is about what
      # survives a takeover, so it turns the guard off.
      guard: { enabled: false }
lb:
  conntrack_sync:
    interface: sync0
    addresses: { d1: 198.18.1.11, d2: 198.18.1.12 }
  services:
    - name: stream
      vip: ${VIP}
      port: ${PORT}
      scheduler: rr
      check: { type: tcp, interval: 300ms, rise: 2, fall: 2, connect_timeout: 200ms, warmup: 0 }
      real_servers: [{ address: ${RS.rs1} }, { address: ${RS.rs2} }, { address: ${RS.rs3} }]
`;

function survived(r: StreamResult, what: string): void {
  assert.deepEqual(
    { error: r.error, bytes: r.bytes, corrupt: r.corrupt },
    { error: null, bytes: BYTES, corrupt: 0 },
    `${what}: ${JSON.stringify(r)}`,
  );
}

const serving = (p: TandemProc) =>
  eventually(
    `${p.host} serves stream over 3 real servers`,
    () => p.status().then((s) => s.lb?.services.find((x) => x.name === 'stream')),
    (s) => s?.role === 'serving' && s.servers.every((r) => r.health === 'up' && r.programmed),
    20_000,
  );

/** Waits until conntrackd on `host` has logged `re` (its log lives in the daemon's conntrackd directory). */
const logged = (lab: Lab, host: string, dir: string, re: RegExp) =>
  eventually(
    `${host}: conntrackd log ${re}`,
    () => lab.exec(host, 'cat', [join(dir, `conntrackd-${host}`, 'conntrackd.log')]).then((r) => r.stdout),
    (t) => re.test(t),
    20_000,
  );

test('NAT connections survive a director failover with conntrackd (SIGKILL of the master daemon, link-down)', {
  skip,
  timeout: 240_000,
}, async () => {
  const dir = workDir('t15d-ct-');
  const lab = await createLab(['d1', 'd2', 'client', 'rs1', 'rs2', 'rs3'], {
    d1: '198.18.0.11',
    d2: '198.18.0.12',
    client: '198.18.0.50',
    ...RS,
  });
  try {
    for (const [d, n] of [
      ['d1', 11],
      ['d2', 12],
    ] as const) {
      await lab.run(d, 'ip', ['addr', 'add', `198.18.3.${n}/24`, 'dev', 'eth0']);
      for (const s of [
        'net.ipv4.ip_forward=1',
        'net.ipv4.conf.all.send_redirects=0',
        'net.ipv4.conf.eth0.send_redirects=0',
        'net.netfilter.nf_conntrack_tcp_loose=0',
      ])
        await lab.run(d, 'sysctl', ['-qw', s]);
    }
    // The dedicated sync link: a veth pair between the two directors.
    await lab.run('d1', 'ip', [
      'link',
      'add',
      'sync0',
      'type',
      'veth',
      'peer',
      'name',
      'sync0',
      'netns',
      lab.host('d2').ns,
    ]);
    for (const [d, n] of [
      ['d1', 11],
      ['d2', 12],
    ] as const) {
      await lab.run(d, 'ip', ['addr', 'add', `198.18.1.${n}/24`, 'dev', 'sync0']);
      await lab.run(d, 'ip', ['link', 'set', 'sync0', 'up']);
    }
    for (const h of Object.keys(RS)) {
      await lab.run(h, 'ip', ['route', 'add', 'default', 'via', GW]);
      await startStreamServer(lab, h, PORT, BYTES, RATE);
    }
    let d1 = await startTandem(lab, 'd1', config, { dir, supervisor: false });
    const d2 = await startTandem(lab, 'd2', config, { dir, supervisor: false });
    await untilState(d1, 'MASTER');
    await untilState(d2, 'BACKUP');
    await serving(d1);
    await logged(lab, 'd1', dir, /resync|sending bulk|committing/i);

    // 1. SIGKILL of the master daemon in the middle of a download.
    const s1 = download(lab, VIP, PORT);
    await s1.progress(1);
    d1.child.kill('SIGKILL');
    await untilState(d2, 'MASTER');
    const r1 = await s1.done;
    const tracked = await lab.run('d2', 'conntrack', ['-L', '-p', 'tcp', '--dport', String(PORT)]);
    process.stdout.write(`# conntrackd: download across SIGKILL of the master: ${JSON.stringify(r1)}\n`);
    survived(r1, 'download across a SIGKILL failover');
    assert.match(d2.out.text(), /conntrackd steered to master/);
    assert.match(
      tracked,
      /dport=9000 .*src=198\.18\.3\.2\d/,
      'd2 tracks the NATed download (replicated by conntrackd)',
    );

    // 2. d1 comes back (its leftover conntrackd is ended, a new one resyncs), preempts; then its link goes down.
    d1 = await startTandem(lab, 'd1', config, { dir, supervisor: false });
    await untilState(d1, 'MASTER', 30_000);
    await untilState(d2, 'BACKUP', 30_000);
    await serving(d1);
    assert.match(d1.out.text(), /conntrackd of an earlier run still answers/);
    const s2 = download(lab, VIP, PORT);
    await s2.progress(1);
    await lab.setLink('d1', false);
    await untilState(d2, 'MASTER');
    const r2 = await s2.done;
    process.stdout.write(`# conntrackd: download across a link-down of the master: ${JSON.stringify(r2)}\n`);
    survived(r2, 'download across a link-down failover');
    await lab.setLink('d1', true);
    d1.child.kill('SIGTERM');
    await new Promise((r) => d1.child.once('exit', r));
    const left = await lab.exec('d1', CONNTRACKD, ['-C', join(dir, 'conntrackd-d1', 'conntrackd.conf'), '-s']);
    assert.notEqual(left.code, 0, 'a stopped daemon stops its conntrackd');
  } finally {
    await lab.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
});
