// GET /metrics and tandem nagios against the real HTTP API server (api/http/): a daemon with a proxied service over
// one live and one dead real server on 127.0.0.1, `tandem run --api 127.0.0.1:PORT`. The metrics are open by default
// and pass promtool; nagios asks the node remotely with a viewer token (and without one: UNKNOWN, 401), and compares
// the config over the API and the control socket.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Output } from '../netns/tandem-lab.ts';

const root = new URL('../../', import.meta.url).pathname;
const TANDEM = join(root, 'bin/tandem');
const hasPromtool = spawnSync('promtool', ['--version']).status === 0;

const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });

function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [TANDEM, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, TANDEM_TOKEN: '', ...env },
  });
  return { code: r.status, stdout: r.stdout.trimEnd(), stderr: r.stderr };
}

test('GET /metrics on the HTTP API passes promtool; tandem nagios asks the node over the API', {
  skip: !hasPromtool && 'needs promtool',
  timeout: 60_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), `t12m-${process.pid}-`));
  const backend = createServer((_req, res) => res.end('ok')).listen(0, '127.0.0.1');
  let child: ChildProcess | undefined;
  try {
    await new Promise((r) => backend.once('listening', r));
    const live = (backend.address() as AddressInfo).port;
    const [dead, svc, api] = [await freePort(), await freePort(), await freePort()];
    const config = join(dir, 'n1.yaml');
    const users = join(dir, 'users.json');
    writeFileSync(
      config,
      `lb:
  services:
    - name: web
      vip: 127.0.0.1
      port: ${svc}
      dataplane: proxy
      proxy: { mode: http }
      check: { type: tcp, interval: 200ms, rise: 1, fall: 1, connect_timeout: 200ms, warmup: 0 }
      real_servers:
        - { address: 127.0.0.1, port: ${live} }
        - { address: 127.0.0.1, port: ${dead} }
api:
  users_file: ${users}
  audit_log: ${join(dir, 'audit.log')}
`,
    );
    const token = cli(['token', 'create', '--role', 'viewer', '--name', 'prometheus', '--users-file', users]);
    assert.equal(token.code, 0, token.stderr);
    const sock = join(dir, `t12m-${process.pid}.sock`);
    child = spawn(
      process.execPath,
      [TANDEM, 'run', '-c', config, '--control', sock, '--node', 'n1', '--api', `127.0.0.1:${api}`],
      { cwd: root },
    );
    const out = new Output(child);
    await out.waitFor(/HTTP API listening on/, 30_000);
    const base = `http://127.0.0.1:${api}`;

    // Open by default; the dead server settles down and the live one up.
    let m = await get(`${base}/metrics`);
    const deadline = Date.now() + 15_000;
    while (
      !/tandem_lb_real_server_state\{service="web",server="127\.0\.0\.1:\d+",state="down"\} 1/.test(m.body) ||
      !m.body.includes('tandem_lb_service_healthy_servers{service="web"} 1')
    ) {
      assert.ok(Date.now() < deadline, `servers did not settle:\n${m.body}\n${out.text()}`);
      await new Promise((r) => setTimeout(r, 100));
      m = await get(`${base}/metrics`);
    }
    for (let i = 0; i < 3; i++) assert.equal((await get(`http://127.0.0.1:${svc}/`)).status, 200);
    m = await get(`${base}/metrics`);
    assert.equal(m.status, 200);
    assert.match(m.type, /^text\/plain; version=0\.0\.4/);
    const check = spawnSync('promtool', ['check', 'metrics'], { input: m.body, encoding: 'utf8' });
    assert.equal(check.status, 0, `${check.stdout}${check.stderr}`);
    assert.match(
      m.body,
      new RegExp(
        `^tandem_proxy_requests_total\\{service="web",server="127\\.0\\.0\\.1:${live}",class="2xx"\\} 3$`,
        'm',
      ),
    );
    assert.match(m.body, /^tandem_node_info\{node="n1"\} 1$/m);

    // nagios over the API: a viewer token from the environment, or none (UNKNOWN, with the 401 and what to do).
    const env = { TANDEM_TOKEN: token.stdout.trim() };
    let n = cli(['nagios', 'service', 'web', '-w', '2', '-c', '1', '--node', base], env);
    assert.equal(n.code, 1, n.stdout);
    assert.match(
      n.stdout,
      /^WARNING - web \(127\.0\.0\.1:\d+, serving on n1\): 1 of 2 real servers healthy; 127\.0\.0\.1:\d+ down L4CON \| healthy=1;2:;1:;0;2$/,
    );
    n = cli(['nagios', 'server', 'web', `127.0.0.1:${live}`, '--node', base], env);
    assert.equal(n.code, 0, n.stdout);
    n = cli(['nagios', 'server', 'web', `127.0.0.1:${dead}`, '--node', base], env);
    assert.equal(n.code, 2, n.stdout);
    n = cli(['nagios', 'config', '--node', base, `unix:${sock}`], env);
    assert.equal(n.code, 0, n.stdout);
    assert.match(n.stdout, /^OK - 2 nodes run the same config sha256:[0-9a-f]{12} \(n1, n1\)/);
    n = cli(['nagios', 'service', 'web', '--node', base]);
    assert.equal(n.code, 3, n.stdout);
    assert.match(n.stdout, /^UNKNOWN - http:\/\/127\.0\.0\.1:\d+: HTTP 401: .*\(set \$TANDEM_TOKEN or --token-file\)$/);
  } finally {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child!.once('exit', r));
    }
    backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
