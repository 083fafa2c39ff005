// Direct routing through the real daemon: a client, two directors running `tandem run`, three real servers set up
// with `tandem realserver up` (the VIP on lo, arp_ignore/arp_announce), all on one segment. The directors forward the
// client's packets unchanged to a real server's MAC (nft netdev ingress); the real servers answer the client
// directly. Shown here: the spread; reply packets counted on the directors (0); a drain moves no established flow;
// long downloads survive a director failover by SIGKILL of the master daemon and by a link-down, because both
// directors hash a flow to the same real server. Needs root; skipped otherwise.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { LbServiceStatus } from '../../src/api/contract.ts';
import { canBuildLabs, createLab, type Lab } from './lab.ts';
import { download, type StreamResult, startStreamServer } from './stream-lab.ts';
import {
  eventually,
  type Output,
  probe,
  startResponder,
  startTandem,
  TANDEM,
  type TandemProc,
  untilState,
  workDir,
} from './tandem-lab.ts';

const skip = canBuildLabs() ? false : 'needs root and ip netns';
const VIP = '198.18.0.100';
const RS = { rs1: '198.18.0.21', rs2: '198.18.0.22', rs3: '198.18.0.23' } as const;
const STREAM_PORT = 9000;
const STREAM_BYTES = 4 << 20;
const STREAM_RATE = 1 << 20;
const COUNTERS = 't15dcnt';

const config = `
cluster:
  nodes: [{ name: d1, address: 198.18.0.11 }, { name: d2, address: 198.18.0.12 }]
vrrp:
  instances:
    - name: VI_1
      interface: eth0
      vrid: 62
      version: 3
      priority: { d1: 150, d2: 100 }
      advert_interval: 100ms
      vips: [${VIP}/24]
      # The failover here is the master daemon's SIGKILL without its supervisor: the host still answers and still holds
      # the VIP, so the takeover guard (docs/split-brain.md) would rightly keep d2 BACKUP. This test is about what
      # survives a takeover, so it turns the guard off.
      guard: { enabled: false }
lb:
  services:
    - name: web
      vip: ${VIP}
      port: 80
      scheduler: wrr
      method: dr
      check: { type: tcp, interval: 300ms, rise: 2, fall: 2, connect_timeout: 200ms, warmup: 0 }
      real_servers: [{ address: ${RS.rs1} }, { address: ${RS.rs2} }, { address: ${RS.rs3} }]
    - name: stream
      vip: ${VIP}
      port: ${STREAM_PORT}
      scheduler: wrr
      method: dr
      check: { type: tcp, interval: 300ms, rise: 2, fall: 2, connect_timeout: 200ms, warmup: 0 }
      real_servers: [{ address: ${RS.rs1} }, { address: ${RS.rs2} }, { address: ${RS.rs3} }]
`;

const svcOf = (p: TandemProc, name: string): Promise<LbServiceStatus | undefined> =>
  p.status().then((s) => s.lb?.services.find((x) => x.name === name));

const allProgrammed = (s: LbServiceStatus | undefined): boolean =>
  s?.role === 'serving' && s.servers.length === 3 && s.servers.every((r) => r.health === 'up' && r.programmed);

async function serving(p: TandemProc): Promise<void> {
  for (const name of ['web', 'stream'])
    await eventually(`${p.host} serves ${name} over 3 real servers`, () => svcOf(p, name), allProgrammed, 20_000);
}

/** A counting table on a director, before tandem's: replies from the VIP, and client packets to it. */
async function addCounters(lab: Lab, host: string): Promise<void> {
  const script = [
    `table netdev ${COUNTERS} {`,
    '\tchain c {',
    '\t\ttype filter hook ingress device "eth0" priority -500; policy accept;',
    `\t\tip saddr ${VIP} counter comment "replies"`,
    `\t\tip daddr ${VIP} meta l4proto tcp counter comment "requests"`,
    '\t}',
    '}',
  ].join('\n');
  const r = await lab.exec(host, 'sh', ['-c', `printf '%s\\n' '${script}' | nft -f -`]);
  assert.equal(r.code, 0, r.stderr);
}

async function counters(lab: Lab, host: string): Promise<{ replies: number; requests: number }> {
  const text = await lab.run(host, 'nft', ['list', 'table', 'netdev', COUNTERS]);
  const n = (what: string): number =>
    Number(new RegExp(`counter packets (\\d+) bytes \\d+ comment "${what}"`).exec(text)?.[1] ?? NaN);
  return { replies: n('replies'), requests: n('requests') };
}

function checkStream(r: StreamResult, what: string): void {
  assert.equal(r.error, null, `${what}: ${JSON.stringify(r)}`);
  assert.equal(r.bytes, STREAM_BYTES, `${what}: ${JSON.stringify(r)}`);
  assert.equal(r.corrupt, 0, `${what}: ${JSON.stringify(r)}`);
}

async function tandem(lab: Lab, host: string, args: string[]): Promise<{ code: number; out: string }> {
  const r = await lab.exec(host, process.execPath, [TANDEM, ...args], 60_000);
  return { code: r.code, out: r.stdout + r.stderr };
}

test('direct routing: realserver up, spread, 0 replies through the director, drain keeps flows, downloads survive SIGKILL and link-down failovers', {
  skip,
  timeout: 240_000,
}, async () => {
  const dir = workDir('t15d-dr-');
  const lab = await createLab(['d1', 'd2', 'client', 'rs1', 'rs2', 'rs3'], {
    d1: '198.18.0.11',
    d2: '198.18.0.12',
    client: '198.18.0.50',
    ...RS,
  });
  const streamLogs: Output[] = [];
  try {
    // Real servers: tandem realserver up (twice: idempotent), an HTTP responder and a streaming one.
    for (const h of Object.keys(RS)) {
      for (let i = 0; i < 2; i++) {
        const r = await tandem(lab, h, ['realserver', 'up', VIP, '--state', join(dir, `${h}.json`)]);
        assert.equal(r.code, 0, r.out);
      }
      assert.match(
        await lab.run(h, 'ip', ['-o', 'addr', 'show', 'dev', 'lo']),
        new RegExp(`inet ${VIP.replaceAll('.', '\\.')}/32`),
      );
      assert.equal((await lab.run(h, 'sysctl', ['-n', 'net.ipv4.conf.all.arp_ignore'])).trim(), '1');
      assert.equal((await lab.run(h, 'sysctl', ['-n', 'net.ipv4.conf.all.arp_announce'])).trim(), '2');
      await startResponder(lab, h);
      streamLogs.push(await startStreamServer(lab, h, STREAM_PORT, STREAM_BYTES, STREAM_RATE));
    }
    for (const d of ['d1', 'd2']) await addCounters(lab, d);
    let d1 = await startTandem(lab, 'd1', config, { dir, supervisor: false });
    const d2 = await startTandem(lab, 'd2', config, { dir, supervisor: false });
    await untilState(d1, 'MASTER');
    await untilState(d2, 'BACKUP');
    await serving(d1);
    const table = await tandem(lab, 'd1', ['status', '--control', d1.control]);
    assert.match(table.out, /-> 198\.18\.0\.21:80 +Route +1 /);
    process.stdout.write(`${table.out.trimEnd().replace(/^/gm, '# status d1: ')}\n`);

    // 1. Spread over fresh connections: each flow hashes (client address and port) onto the Maglev table.
    const spread = await probe(lab, 'client', VIP, 10, 1_500);
    assert.equal(spread.failed, 0, JSON.stringify(spread));
    for (const h of Object.keys(RS)) {
      const n = spread.who[h] ?? 0;
      assert.ok(n >= spread.ok / 6, `every real server takes a share: ${JSON.stringify(spread.who)}`);
    }
    const c1 = await counters(lab, 'd1');
    process.stdout.write(
      `# dr spread over ${spread.ok} connections: ${JSON.stringify(spread.who)}; d1 counted ${JSON.stringify(c1)}\n`,
    );
    assert.ok(c1.requests >= spread.ok * 3, `client packets pass the director: ${JSON.stringify(c1)}`);
    assert.equal(c1.replies, 0, 'replies go straight from the real servers to the client');

    // 2. A drain moves no established flow: the download in progress on the drained server finishes there.
    const drained = download(lab, VIP, STREAM_PORT);
    await drained.progress(1);
    const who = (
      await eventually(
        'the flow is counted on its server',
        () => svcOf(d1, 'stream'),
        (s) => !!s?.servers.some((x) => x.conns.active > 0),
      )
    )?.servers.find((s) => s.conns.active > 0);
    assert.ok(who, 'the status counts the flow on its server');
    const dr = await tandem(lab, 'd1', [
      'rs',
      'drain',
      'stream',
      `${who.addr}:${STREAM_PORT}`,
      '--no-wait',
      '--control',
      d1.control,
    ]);
    assert.equal(dr.code, 0, dr.out);
    const afterDrain = await drained.done;
    checkStream(afterDrain, 'download across a drain');
    assert.equal(`${RS[afterDrain.who as keyof typeof RS]}`, who.addr, 'the flow stayed on the drained server');
    const en = await tandem(lab, 'd1', [
      'rs',
      'enable',
      'stream',
      `${who.addr}:${STREAM_PORT}`,
      '--control',
      d1.control,
    ]);
    assert.equal(en.code, 0, en.out);
    await serving(d1);

    // 3. SIGKILL of the master daemon in the middle of a download: d2 takes over and hashes the flow alike.
    const s1 = download(lab, VIP, STREAM_PORT);
    await s1.progress(1);
    d1.child.kill('SIGKILL');
    await untilState(d2, 'MASTER');
    const r1 = await s1.done;
    checkStream(r1, 'download across a SIGKILL failover');
    const c2 = await counters(lab, 'd2');
    process.stdout.write(
      `# dr download across SIGKILL of the master: ${JSON.stringify(r1)}; d2 counted ${JSON.stringify(c2)}\n`,
    );
    assert.ok(c2.requests > 0, 'd2 carried the flow after the failover');
    assert.equal(c2.replies, 0);

    // 4. d1 comes back (preempts); then its link goes down in the middle of a download.
    d1 = await startTandem(lab, 'd1', config, { dir, supervisor: false });
    await untilState(d1, 'MASTER', 30_000);
    await untilState(d2, 'BACKUP', 30_000);
    await serving(d1);
    const s2 = download(lab, VIP, STREAM_PORT);
    await s2.progress(1);
    await lab.setLink('d1', false);
    await untilState(d2, 'MASTER');
    const r2 = await s2.done;
    checkStream(r2, 'download across a link-down failover');
    // The client's packets were lost from the link-down until d2 held the VIP; the flow resumed on its server.
    assert.ok(r2.maxGapMs < 10_000, JSON.stringify(r2));
    process.stdout.write(`# dr download across a link-down of the master: ${JSON.stringify(r2)}\n`);
    const c3 = await counters(lab, 'd1');
    assert.equal(c3.replies, 0);
    await lab.setLink('d1', true);

    // realserver down undoes exactly what up did.
    const down = await tandem(lab, 'rs1', ['realserver', 'down', '--state', join(dir, 'rs1.json')]);
    assert.equal(down.code, 0, down.out);
    assert.doesNotMatch(
      await lab.run('rs1', 'ip', ['-o', 'addr', 'show', 'dev', 'lo']),
      new RegExp(VIP.replaceAll('.', '\\.')),
    );
    assert.equal((await lab.run('rs1', 'sysctl', ['-n', 'net.ipv4.conf.all.arp_ignore'])).trim(), '0');
  } catch (e) {
    process.stdout.write(`# stream servers:\n${streamLogs.map((o) => o.text()).join('\n')}\n`);
    throw e;
  } finally {
    await lab.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
});
