import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { canBuildLabs, createLab } from '../../test/netns/lab.ts';
import {
  benchServiceProgram,
  haproxyConf,
  minimalNftRuleset,
  nginxProxyConf,
  PLACEMENT,
  realServerBody,
  realServerNginxConf,
} from './configs.ts';

/** A TCP port free on 127.0.0.1 right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

test('every real server answers with a body of the same length', () => {
  const lengths = new Set([1, 2, 3].map((n) => realServerBody(n).length));
  assert.equal(lengths.size, 1);
});

test('HAProxy, nginx and tandem all balance round robin over the same three real servers', () => {
  const rs = PLACEMENT.realServers.map((r) => `${r.addr}:${r.port}`);
  const hap = haproxyConf(PLACEMENT, 'http');
  assert.match(hap, /balance roundrobin/);
  const ngx = nginxProxyConf(PLACEMENT, { dir: '/tmp/x', name: 'lb' });
  for (const r of rs) {
    assert.ok(hap.includes(r), `haproxy has ${r}`);
    assert.ok(ngx.includes(`server ${r};`), `nginx has ${r}`);
  }
  for (const dp of ['nft', 'proxy-tcp', 'proxy-http'] as const) {
    const p = benchServiceProgram(PLACEMENT, dp);
    assert.equal(p.scheduler, 'rr');
    assert.deepEqual(
      p.backends.map((b) => b.key),
      rs,
    );
    assert.equal(p.proxy?.mode, dp === 'nft' ? undefined : dp.slice(6));
  }
});

test('HAProxy accepts both of its configurations (haproxy -c)', { skip: !has('haproxy') && 'no haproxy' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-bench-cfg-'));
  try {
    for (const mode of ['tcp', 'http'] as const) {
      const f = join(dir, `${mode}.cfg`);
      writeFileSync(f, haproxyConf(PLACEMENT, mode));
      const r = spawnSync('haproxy', ['-c', '-f', f], { encoding: 'utf8', timeout: 10_000 });
      assert.equal(r.status, 0, `${mode}: ${r.stdout}${r.stderr}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('nginx accepts the proxy and real server configurations (nginx -t)', {
  skip: (!has('nginx') || process.getuid?.() !== 0) && 'needs nginx and root',
}, async () => {
  // nginx -t binds its listeners: test on free loopback ports of this namespace, not the bench placement.
  const [vipPort, rsPort] = [await freePort(), await freePort()];
  const local = { vip: { addr: '127.0.0.1', port: vipPort }, realServers: [{ addr: '127.0.0.1', port: rsPort }] };
  const dir = mkdtempSync(join(tmpdir(), 'tandem-bench-cfg-'));
  try {
    const confs = {
      lb: nginxProxyConf(local, { dir, name: 'lb' }),
      rs1: realServerNginxConf(1, local.realServers[0]!, { dir, name: 'rs1' }),
    };
    for (const [name, text] of Object.entries(confs)) {
      const f = join(dir, `${name}.conf`);
      writeFileSync(f, text);
      const r = spawnSync('nginx', ['-t', '-q', '-e', join(dir, `${name}.err`), '-p', dir, '-c', f], {
        encoding: 'utf8',
        timeout: 10_000,
      });
      assert.equal(r.status, 0, `${name}: ${r.stdout}${r.stderr}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the one-rule DNAT reference loads into nft and spreads the VIP over the three real servers', {
  skip: (!canBuildLabs() || !has('nft')) && 'needs root, ip netns and nft',
}, async () => {
  const lab = await createLab(['a']);
  const dir = mkdtempSync(join(tmpdir(), 'tandem-bench-cfg-'));
  try {
    const f = join(dir, 'raw.nft');
    writeFileSync(f, minimalNftRuleset(PLACEMENT));
    await lab.run('a', 'nft', ['-f', f]);
    const listed = await lab.run('a', 'nft', ['list', 'table', 'ip', 'bench_raw']);
    for (const r of PLACEMENT.realServers) assert.ok(listed.includes(`${r.addr} . ${r.port}`), listed);
    assert.match(listed, /numgen inc mod 3/);
  } finally {
    await lab.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
});
