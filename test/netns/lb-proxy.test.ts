// The user-space proxy data plane on its own, in a lab: a client, a director running the proxy on a VIP, two real
// servers and the address of a third whose host is gone. The proxy cannot listen on the VIP before the VIP is there
// (TND_PROXY_LISTEN, EADDRNOTAVAIL); once it is, HTTP requests spread over the live servers with the client's real
// address in X-Forwarded-For, the gone server times out, is retried around (no client error) and reported once by
// passive health; the TCP service carries bytes with the director's address as source.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { canBuildLabs, createLab, type Lab } from './lab.ts';
import { Output } from './tandem-lab.ts';

const skip = canBuildLabs() ? false : 'needs root and ip netns';
const root = join(fileURLToPath(new URL('.', import.meta.url)), '../..');
const VIP = '198.18.0.100';
const RS = { rs1: '198.18.0.21', rs2: '198.18.0.22' } as const;
/** No lab host has this address: connects to it go unanswered (ARP fails). */
const GONE = '198.18.0.23';

/** An HTTP server answering `NAME <x-forwarded-for> <remote address>` on port 80. */
const RESPONDER = `
const name = process.argv[1];
require('node:http').createServer((req, res) => {
  res.end(name + ' ' + (req.headers['x-forwarded-for'] ?? '-') + ' ' + req.socket.remoteAddress + '\\n');
}).listen(80, '0.0.0.0', () => process.stdout.write('listening\\n'));`;

/**
 * Runs the proxy data plane: applies the programs given as JSON in argv, prints `applied <report>` or `error <code>`,
 * applies again on each `apply` line of stdin, prints passive-health reports as `passive <json>`, closes on SIGTERM.
 */
const RUNNER = `
import { createInterface } from 'node:readline';
const { createProxyDataPlane } = await import(${JSON.stringify(join(root, 'src/dataplane/proxy/index.ts'))});
const programs = JSON.parse(process.argv[1]);
const dp = createProxyDataPlane();
dp.onPassiveFailure = (f) => process.stdout.write('passive ' + JSON.stringify(f) + '\\n');
const apply = () => dp.apply(programs).then(
  (r) => process.stdout.write('applied ' + JSON.stringify(r) + '\\n'),
  (e) => process.stdout.write('error ' + e.code + ' ' + e.message + '\\n'),
);
await apply();
createInterface({ input: process.stdin }).on('line', (l) => { if (l === 'apply') void apply(); });
process.on('SIGTERM', () => dp.close().then(() => process.exit(0)));`;

function proxySettings(mode: 'http' | 'tcp') {
  return {
    mode,
    listen: VIP,
    retries: 1,
    passiveFailures: 1,
    connectTimeoutMs: 300,
    idleTimeoutMs: 10_000,
    forwardedFor: true,
  };
}

function programs() {
  const backends = [RS.rs1, RS.rs2, GONE].map((addr) => ({
    key: `${addr}:80`,
    addr,
    port: 80,
    weight: 1,
    op: 'up',
    reason: 'up',
  }));
  const base = {
    vip: VIP,
    protocol: 'tcp',
    family: 4,
    scheduler: 'rr',
    method: 'nat',
    persistence: null,
    quorum: 'up',
    sorry: null,
  };
  return [
    { ...base, id: 'web', port: 80, backends, proxy: proxySettings('http') },
    { ...base, id: 'raw', port: 81, backends: backends.slice(0, 1), proxy: proxySettings('tcp') },
  ];
}

/** One GET from the client host through the VIP, with a deadline; the body, trimmed. */
async function get(lab: Lab, port: number): Promise<string> {
  const script = `require('node:http').get({ host: ${JSON.stringify(VIP)}, port: ${port}, timeout: 5000 }, (res) => {
    let b = ''; res.on('data', (d) => { b += d; }); res.on('end', () => process.stdout.write(b));
  }).on('error', (e) => { console.error(e.message); process.exit(1); });`;
  return (await lab.run('client', process.execPath, ['-e', script])).trim();
}

test('proxy in a lab: listens on the VIP once it exists, spreads, forwards the client address, retries around a gone server', {
  skip,
  timeout: 120_000,
}, async () => {
  const lab = await createLab(['client', 'lb', 'rs1', 'rs2'], { client: '198.18.0.11', lb: '198.18.0.12', ...RS });
  try {
    for (const rs of ['rs1', 'rs2'] as const) {
      const child = lab.spawn(rs, process.execPath, ['-e', RESPONDER, rs]);
      await new Output(child).waitFor(/listening/, 15_000);
    }
    const proxy: ChildProcess = lab.spawn(
      'lb',
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', RUNNER, JSON.stringify(programs())],
      { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const out = new Output(proxy);
    const refused = await out.waitFor(/^(applied|error) /m, 30_000);
    assert.match(
      refused,
      new RegExp(`error TND_PROXY_LISTEN service web: cannot listen on ${VIP}:80: .*EADDRNOTAVAIL`),
    );

    await lab.run('lb', 'ip', ['addr', 'add', `${VIP}/32`, 'dev', 'eth0']);
    proxy.stdin?.write('apply\n');
    await out.waitFor(/^applied \{"added":\[\],/m, 15_000);

    const who: Record<string, number> = {};
    for (let i = 0; i < 12; i++) {
      const [name, xff, remote] = (await get(lab, 80)).split(' ');
      assert.equal(xff, lab.host('client').addr, 'the client’s own address in X-Forwarded-For');
      assert.equal(remote, lab.host('lb').addr, 'the real server sees the director');
      who[name ?? '?'] = (who[name ?? '?'] ?? 0) + 1;
    }
    assert.deepEqual(who, { rs1: 6, rs2: 6 });
    const report = JSON.parse((await out.waitFor(/^passive /m, 5_000)).replace(/^.*?passive /, '')) as {
      backend: string;
      code: string;
    };
    assert.deepEqual([report.backend, report.code], [`${GONE}:80`, 'L4TOUT']);

    const raw = (await get(lab, 81)).split(' ');
    assert.deepEqual(raw, ['rs1', '-', lab.host('lb').addr]);
  } finally {
    await lab.teardown();
  }
});
