// The cluster's one config on two real daemons in a namespace lab: cluster init/join (mutual TLS under the cluster
// CA), an apply that both nodes run, an apply one node refuses (its diagnostic, nothing changed anywhere), a node
// that was down catching up when it returns, history and rollback. `tandem config status` is printed before and
// after each step (the report quotes it).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { configHash } from '../../src/cluster/hash.ts';
import { canBuildLabs, createLab } from './lab.ts';
import { eventually, startTandem, TANDEM, type TandemProc, workDir } from './tandem-lab.ts';

const skip = canBuildLabs() ? false : 'needs root and ip netns';
const PORT = 7695;

const config = (dir: string, opts: { extra?: string; d2Address?: string; advert?: string } = {}) => `
cluster:
  name: t13c
  nodes: [{ name: d1, address: 198.18.0.11 }, { name: d2, address: ${opts.d2Address ?? '198.18.0.12'} }]
  listen: { d1: "198.18.0.11:${PORT}", d2: "198.18.0.12:${PORT}" }
  peers: [ "https://198.18.0.11:${PORT}", "https://198.18.0.12:${PORT}" ]
  state_dir: { d1: ${dir}/d1, d2: ${dir}/d2 }
vrrp:
  instances:
    - { name: VI_1, interface: eth0, vrid: 51, priority: { d1: 150, d2: 100 }, advert_interval: ${opts.advert ?? '100ms'}, vips: [198.18.0.100/24] }
${opts.extra ?? ''}`;

const VI_2 =
  '    - { name: VI_2, interface: eth0, vrid: 52, priority: { d1: 100, d2: 150 }, advert_interval: 100ms, vips: [198.18.0.101/24] }';

function cli(args: string[]): { code: number; out: string } {
  const r = spawnSync(process.execPath, [TANDEM, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

test('two daemons share one config: init/join, apply, a refused apply, catching up, rollback', {
  skip,
  timeout: 120_000,
}, async () => {
  const dir = workDir(`t13c-${process.pid}-`);
  const lab = await createLab(['d1', 'd2'], {}, { prefix: 't13c' });
  const shown: string[] = [];
  const status = (label: string, control: string) => {
    const r = cli(['config', 'status', '--control', control]);
    shown.push(`$ tandem config status   # ${label}\n${r.out.trimEnd()}\n(exit ${r.code})`);
    return r;
  };
  try {
    // Identity: the CA on d1, d2 joins over TLS pinned to the token's fingerprint.
    const init = cli(['cluster', 'init', '--name', 'd1', '--cluster', 't13c', '--state-dir', join(dir, 'd1')]);
    assert.equal(init.code, 0, init.out);
    const token = /^(tj1\.[0-9a-f]+\.[0-9a-f]+)$/m.exec(init.out)?.[1];
    assert.ok(token, init.out);
    assert.equal(statSync(join(dir, 'd1/cluster/ca.key')).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'd1/cluster/node.key')).mode & 0o777, 0o600);

    const v0 = config(dir);
    const d1 = await startTandem(lab, 'd1', v0, { dir, supervisor: false });
    await d1.out.waitFor(/peer listener on https:\/\/198\.18\.0\.11:7695/);
    // A token with another CA's fingerprint is refused before anything is sent.
    const forged = `${token.slice(0, 37)}${'0'.repeat(64)}`;
    const bad = await lab.exec('d2', process.execPath, [
      TANDEM,
      'cluster',
      'join',
      `https://198.18.0.11:${PORT}`,
      '--token',
      forged,
      '--name',
      'd2',
      '--state-dir',
      join(dir, 'd2'),
    ]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /TND_CLUSTER_JOIN .*not the 0{64} the token pins/);
    const join2 = await lab.exec('d2', process.execPath, [
      TANDEM,
      'cluster',
      'join',
      `https://198.18.0.11:${PORT}`,
      '--token',
      token,
      '--name',
      'd2',
      '--state-dir',
      join(dir, 'd2'),
    ]);
    assert.equal(join2.code, 0, join2.stderr);
    assert.equal(statSync(join(dir, 'd2/cluster/node.key')).mode & 0o777, 0o600);
    // The token is used up.
    const again = await lab.exec('d2', process.execPath, [
      TANDEM,
      'cluster',
      'join',
      `https://198.18.0.11:${PORT}`,
      '--token',
      token,
      '--name',
      'd3',
      '--state-dir',
      join(dir, 'd3'),
    ]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /wrong, used or expired/);

    const d2file = join(dir, 'd2.yaml');
    let d2: TandemProc = await startTandem(lab, 'd2', v0, { dir, supervisor: false });
    await d2.out.waitFor(/peer listener on/);

    const before = status('before the apply', d1.control);
    assert.equal(before.code, 0, before.out);
    assert.match(before.out, /in sync: 2 nodes run version 0/);

    // An apply both nodes run.
    const v1 = config(dir, { extra: VI_2 });
    writeFileSync(join(dir, 'v1.yaml'), v1);
    const a1 = cli(['config', 'apply', join(dir, 'v1.yaml'), '--control', d1.control]);
    assert.equal(a1.code, 0, a1.out);
    assert.match(a1.out, /applied version 1/);
    for (const p of [d1, d2])
      await eventually(
        `${p.host} runs version 1`,
        () => p.status(),
        (s) => s.configVersion === 1 && s.instances.length === 2,
      );
    assert.equal(readFileSync(d2file, 'utf8'), v1);
    const after = status('after the apply', d1.control);
    assert.equal(after.code, 0, after.out);
    assert.match(after.out, new RegExp(`d2 .* 1 +${configHash(v1)}`));

    // A mistake only d2 can see: its node address is not on d2's host. d2 refuses; nothing changes anywhere.
    const bad1 = config(dir, { extra: VI_2, d2Address: '198.18.0.99' });
    writeFileSync(join(dir, 'mistake.yaml'), bad1);
    const a2 = cli(['config', 'apply', join(dir, 'mistake.yaml'), '--control', d1.control]);
    shown.push(`$ tandem config apply mistake.yaml\n${a2.out.trimEnd()}\n(exit ${a2.code})`);
    assert.equal(a2.code, 1, a2.out);
    assert.match(a2.out, /TND_CLUSTER_REFUSED d2 refused the config; nothing changed on any node/);
    assert.match(
      a2.out,
      /d2: .*mistake\.yaml:4:\d+ error TND_HOST_ADDRESS cluster\.nodes\[1\]\.address: on d2: the node address 198\.18\.0\.99 is not an address of this host/,
    );
    const refused = status('after the refused apply', d1.control);
    assert.equal(refused.code, 0, refused.out);
    assert.match(refused.out, /in sync: 2 nodes run version 1/);
    assert.equal(readFileSync(d2file, 'utf8'), v1);
    assert.equal(readFileSync(join(dir, 'd1.yaml'), 'utf8'), v1);

    // d2 is down during an apply, and catches up when it returns.
    d2.child.kill('SIGTERM');
    await new Promise((r) => d2.child.once('exit', r));
    const v2 = config(dir, { extra: VI_2, advert: '200ms' });
    writeFileSync(join(dir, 'v2.yaml'), v2);
    const a3 = cli(['config', 'apply', join(dir, 'v2.yaml'), '--control', d1.control]);
    assert.equal(a3.code, 0, a3.out);
    assert.match(a3.out, /unreachable .*catches up when it returns/);
    const down = status('d2 down after applying version 2', d1.control);
    assert.equal(down.code, 4, down.out);
    assert.equal(readFileSync(d2file, 'utf8'), v1);
    d2 = await startTandem(lab, 'd2', '', { dir, supervisor: false, file: d2file });
    await eventually(
      'd2 caught up to version 2',
      () => d2.status(),
      (s) => s.configVersion === 2,
      20_000,
    );
    assert.equal(readFileSync(d2file, 'utf8'), v2);
    status('d2 back, caught up', d1.control);

    // History and rollback: version 1's text again, as version 3, on both nodes.
    const h = cli(['config', 'history', '--control', d2.control]);
    assert.equal(h.code, 0, h.out);
    assert.match(h.out, /^2 .*\n1 /m);
    shown.push(`$ tandem config history   # on d2\n${h.out.trimEnd()}`);
    const rb = cli(['config', 'rollback', '1', '--control', d2.control]);
    assert.equal(rb.code, 0, rb.out);
    assert.match(rb.out, /applied version 3/);
    for (const p of [d1, d2])
      await eventually(
        `${p.host} rolled back`,
        () => p.status(),
        (s) => s.configVersion === 3 && s.configHash === configHash(v1),
      );
    const rolled = status('after rollback 1', d1.control);
    assert.equal(rolled.code, 0, rolled.out);
  } finally {
    console.log(shown.join('\n\n'));
    await lab.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
});
