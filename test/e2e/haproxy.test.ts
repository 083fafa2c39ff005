/**
 * `dataplane: haproxy` through the whole daemon: `tandem run` (its LB worker thread) starts Debian's HAProxy for a
 * service it serves on 127.0.15.3, `tandem rs drain|maint|weight` reach HAProxy's runtime API (seen in `show servers
 * state`, no reload), `tandem status` shows the service, and SIGTERM leaves no HAProxy process behind.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { haproxyDir } from '../../src/daemon/lb-worker.ts';
import { adminOf, parseServersState } from '../../src/dataplane/haproxy/render.ts';
import { haproxyFiles, haproxySocketCommand } from '../../src/os/haproxy.ts';
import { eventually, Output } from '../netns/tandem-lab.ts';

const root = new URL('../../', import.meta.url).pathname;
const TANDEM = join(root, 'bin/tandem');
const VIP = '127.0.15.3';

function listen(s: Server, host: string): Promise<number> {
  return new Promise((resolve) => s.listen(0, host, () => resolve((s.address() as AddressInfo).port)));
}

function fetchText(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: VIP, port, path: '/', timeout: 3_000, agent: false }, (res) => {
      let body = '';
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolve(body));
    })
      .on('error', reject)
      .on('timeout', function (this: { destroy(e: Error): void }) {
        this.destroy(new Error('timeout'));
      });
  });
}

const cli = (args: string[]) =>
  spawnSync(process.execPath, [TANDEM, ...args], { cwd: root, encoding: 'utf8', timeout: 30_000 });

test('tandem run with dataplane haproxy: HAProxy serves, tandem rs steers it over the runtime API, SIGTERM leaves none', {
  skip: !existsSync('/usr/sbin/haproxy') || !existsSync(TANDEM),
  timeout: 60_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), `t15p-${process.pid}-e2e-`));
  const a = createServer((_req, res) => res.end('a\n'));
  const b = createServer((_req, res) => res.end('b\n'));
  const pa = await listen(a, '127.0.0.1');
  const pb = await listen(b, '127.0.0.1');
  const probe = createServer();
  const port = await listen(probe, VIP);
  await new Promise((r) => probe.close(r));
  const config = join(dir, 'tandem.yaml');
  const control = join(dir, `t15p${process.pid}.sock`);
  writeFileSync(
    config,
    `lb:
  services:
    - name: web
      vip: ${VIP}
      port: ${port}
      scheduler: rr
      dataplane: haproxy
      proxy: { mode: http }
      check: { type: tcp, interval: 500ms, rise: 1, fall: 1 }
      real_servers:
        - { address: 127.0.0.1, port: ${pa} }
        - { address: 127.0.0.1, port: ${pb} }
`,
  );
  const files = haproxyFiles(haproxyDir(control));
  let child: ChildProcess | null = null;
  let master = 0;
  try {
    child = spawn(process.execPath, [TANDEM, 'run', '-c', config, '--control', control, '--node', 't15p'], {
      cwd: root,
    });
    const out = new Output(child);
    await out.waitFor(/serving virtual service web/, 30_000);
    const seen = new Set<string>();
    await eventually(
      'HAProxy answers from both servers',
      async () => {
        seen.add(await fetchText(port).catch(() => ''));
        return seen;
      },
      (s) => s.has('a\n') && s.has('b\n'),
      20_000,
    );
    master = Number(readFileSync(files.pidFile, 'utf8').trim());
    assert.ok(master > 1 && existsSync(`/proc/${master}`), 'the HAProxy master runs');
    assert.match(readFileSync(`/proc/${master}/cmdline`, 'utf8'), /haproxy\0-W\0-S/);
    const state = async () => parseServersState(await haproxySocketCommand(files.apiSocket, 'show servers state'));
    const worker = Number(/^Pid: (\d+)$/m.exec(await haproxySocketCommand(files.apiSocket, 'show info'))?.[1]);

    const r1 = cli(['rs', 'drain', 'web', `127.0.0.1:${pa}`, '--no-wait', '--control', control]);
    assert.equal(r1.status, 0, r1.stderr + r1.stdout);
    const r2 = cli(['rs', 'weight', 'web', `127.0.0.1:${pb}`, '9', '--control', control]);
    assert.equal(r2.status, 0, r2.stderr + r2.stdout);
    await eventually(
      'drain and weight in show servers state',
      state,
      (rows) =>
        rows.some((r) => r.server === `rs_127.0.0.1_${pa}` && adminOf(r) === 'drain') &&
        rows.some((r) => r.server === `rs_127.0.0.1_${pb}` && r.weight === 9),
      10_000,
    );
    for (let i = 0; i < 6; i++) assert.equal(await fetchText(port), 'b\n', 'the drained server takes no new request');
    const r3 = cli(['rs', 'maint', 'web', `127.0.0.1:${pb}`, '--control', control]);
    assert.equal(r3.status, 0, r3.stderr + r3.stdout);
    await eventually(
      'maint in show servers state',
      state,
      (rows) => rows.some((r) => r.server === `rs_127.0.0.1_${pb}` && adminOf(r) === 'maint'),
      10_000,
    );
    const again = Number(/^Pid: (\d+)$/m.exec(await haproxySocketCommand(files.apiSocket, 'show info'))?.[1]);
    assert.equal(again, worker, 'runtime changes, no reload: the same worker');
    const st = cli(['status', '--control', control, '--json']);
    assert.equal(st.status, 0, st.stderr);
    assert.match(st.stdout, /"dataplane":\s*"haproxy"/);

    child.kill('SIGTERM');
    await new Promise((r) => child!.once('exit', r));
    await eventually(
      'no HAProxy left',
      async () => existsSync(`/proc/${master}`) || existsSync(`/proc/${worker}`),
      (alive) => !alive,
      10_000,
    );
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (master > 1 && existsSync(`/proc/${master}`)) process.kill(master, 'SIGKILL');
    a.close();
    b.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(files.dir, { recursive: true, force: true });
  }
});
