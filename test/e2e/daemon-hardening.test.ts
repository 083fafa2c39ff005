/**
 * Issue 9's faults of `tandem run` and the CLI as a careless operator meets them, each a regression test named after
 * what broke: a reload of a YAML alias bomb, a second daemon on the same control socket, `--control` naming a file,
 * SIGTERM in the supervisor's restart back-off, `tandem status | head`, secrets in `tandem import -o`, and escape
 * sequences from a config reaching the terminal. The daemon runs for real (a proxy-only node on 127.0.0.1, which
 * needs no root), with its real supervisor.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { eventually, Output } from '../netns/tandem-lab.ts';

const root = new URL('../../', import.meta.url).pathname;
const TANDEM = join(root, 'bin/tandem');
const dir = mkdtempSync(join(tmpdir(), 'tandem-hardening-'));
const children: ChildProcess[] = [];
let backend: Server;
let backendPort = 0;

const BOMB = `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
`;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function proxyConfig(port: number): string {
  return `lb:
  services:
    - name: web
      vip: 127.0.0.1
      port: ${port}
      dataplane: proxy
      proxy: { mode: http }
      real_servers:
        - { address: 127.0.0.1, port: ${backendPort} }
`;
}

function cli(args: string[], input?: string) {
  return spawnSync(process.execPath, [TANDEM, ...args], { cwd: root, encoding: 'utf8', timeout: 30_000, input });
}

function fetchText(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/', timeout: 3_000 }, (res) => {
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

/** Starts a supervised `tandem run`; resolves once the service is served. */
async function startDaemon(
  name: string,
): Promise<{ child: ChildProcess; out: Output; config: string; control: string; port: number }> {
  const port = await freePort();
  const config = join(dir, `${name}.yaml`);
  const control = join(dir, `${name}.sock`);
  writeFileSync(config, proxyConfig(port));
  const child = spawn(process.execPath, [TANDEM, 'run', '-c', config, '--control', control, '--node', name], {
    cwd: root,
  });
  children.push(child);
  const out = new Output(child);
  await out.waitFor(/serving virtual service web/, 30_000);
  // Served means programmed: the proxy listens once the data plane took the apply.
  await eventually(
    'the proxy answers',
    () => fetchText(port),
    (t) => t === 'backend\n',
    15_000,
  );
  return { child, out, config, control, port };
}

function exited(child: ChildProcess, timeoutMs = 20_000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`pid ${child.pid} did not exit within ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(t);
      resolve(code);
    });
  });
}

before(async () => {
  backend = createServer((_req, res) => res.end('backend\n'));
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', () => r()));
  backendPort = (backend.address() as AddressInfo).port;
});

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(children.map((c) => exited(c).catch(() => null)));
  await new Promise<void>((r) => backend.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

test('regression: SIGHUP with a YAML alias bomb is refused with a diagnostic; the daemon keeps running and serving', async () => {
  const d = await startDaemon('bomb');
  assert.equal(await fetchText(d.port), 'backend\n');
  writeFileSync(d.config, BOMB);
  d.child.kill('SIGHUP');
  await d.out.waitFor(/Reload refused/, 15_000);
  assert.match(d.out.text(), /error TND_CFG_SYNTAX \(yaml\): aliases expand to too many nodes/);
  assert.doesNotMatch(d.out.text(), /ReferenceError|Excessive alias count|exited with|killed by/);
  assert.equal(await fetchText(d.port), 'backend\n', 'the service still answers');
  // `tandem reload` and `tandem check` of the same file: a diagnostic, no stack trace.
  const reload = cli(['reload', '--control', d.control]);
  assert.equal(reload.status, 1);
  assert.match(reload.stderr, /TND_CTL_RELOAD_REFUSED/);
  const check = cli(['check', d.config]);
  assert.equal(check.status, 1);
  assert.match(check.stdout + check.stderr, /bomb\.yaml:2:\d+ error TND_CFG_SYNTAX/);
  assert.doesNotMatch(check.stdout + check.stderr, /\n\s+at |ReferenceError/);
  d.child.kill('SIGTERM');
  assert.equal(await exited(d.child), 0);
});

test('regression: a second tandem run on the same control socket is refused, naming the first PID; the first stays in control', async () => {
  const d = await startDaemon('twice');
  const second = spawnSync(
    process.execPath,
    [TANDEM, 'run', '-c', d.config, '--control', d.control, '--node', 'twice'],
    {
      cwd: root,
      encoding: 'utf8',
      timeout: 30_000,
    },
  );
  assert.equal(second.status, 5, second.stderr);
  assert.match(second.stderr, new RegExp(`TND_DAEMON_LOCKED another tandem daemon \\(pid ${d.child.pid}\\)`));
  assert.ok(lstatSync(d.control).isSocket(), 'the first daemon’s socket is still there');
  const status = cli(['status', '--control', d.control, '--json']);
  assert.equal(status.status, 0, status.stderr);
  assert.equal(JSON.parse(status.stdout).node, 'twice');
  d.child.kill('SIGTERM');
  assert.equal(await exited(d.child), 0);
  assert.equal(existsSync(d.control), false, 'the socket goes with its daemon');
});

test('regression: --control naming a regular file is refused and the file is left intact', async () => {
  const port = await freePort();
  const config = join(dir, 'file.yaml');
  writeFileSync(config, proxyConfig(port));
  const victim = join(dir, 'precious.txt');
  writeFileSync(victim, 'do not delete\n');
  const r = spawnSync(process.execPath, [TANDEM, 'run', '-c', config, '--control', victim, '--node', 'f'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(r.status, 5, r.stderr);
  assert.match(r.stderr, /TND_DAEMON_CONTROL .*precious\.txt exists and is not a socket \(a regular file\)/);
  assert.equal(readFileSync(victim, 'utf8'), 'do not delete\n');
});

test("regression: SIGTERM during the supervisor's restart back-off stops it, and no new daemon starts", async () => {
  const d = await startDaemon('backoff');
  const started = (d.out.text().match(/Supervisor: started daemon pid (\d+)/g) ?? []).length;
  const childPid = Number(/Supervisor: started daemon pid (\d+)/.exec(d.out.text())?.[1]);
  assert.ok(childPid > 0);
  process.kill(childPid, 'SIGKILL');
  await d.out.waitFor(/starting the daemon again in 1 s/, 10_000);
  d.child.kill('SIGTERM');
  assert.equal(await exited(d.child), 0);
  assert.match(d.out.text(), /stopped during the restart back-off/);
  assert.equal((d.out.text().match(/Supervisor: started daemon pid/g) ?? []).length, started, 'no new child');
});

test('regression: tandem status into a closed pipe (tandem status | head) ends quietly, without an EPIPE stack trace', async () => {
  const d = await startDaemon('epipe');
  const c = spawn(process.execPath, [TANDEM, 'status', '--control', d.control, '--json'], { cwd: root });
  c.stdout.destroy(); // the reader is gone before the first byte: every write fails with EPIPE
  let stderr = '';
  c.stderr.on('data', (b) => {
    stderr += b;
  });
  const code = await exited(c);
  assert.equal(code, 0, stderr);
  assert.doesNotMatch(stderr, /EPIPE|\n\s+at /);
  d.child.kill('SIGTERM');
  await exited(d.child);
});

test('regression: tandem import -o of a 0600 keepalived.conf writes a 0600 file, never through a symlink, and never prints the password', () => {
  const conf = join(dir, 'keepalived.conf');
  writeFileSync(
    conf,
    `vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass s3cr3tPassw0rd
    }
    virtual_ipaddress {
        198.18.0.100/24
    }
}
`,
  );
  chmodSync(conf, 0o600);
  const out = join(dir, 'imported.yaml');
  const r = cli(['import', conf, '-o', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(statSync(out).mode & 0o777, 0o600);
  assert.match(readFileSync(out, 'utf8'), /password: s3cr3tPa/);
  assert.doesNotMatch(r.stdout + r.stderr, /s3cr3t|Passw0rd/);
  // A symlink at the output path is refused; its target is untouched.
  const target = join(dir, 'target.txt');
  writeFileSync(target, 'original\n');
  const link = join(dir, 'link.yaml');
  symlinkSync(target, link);
  const refused = cli(['import', conf, '-o', link]);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /TND_CLI_OUTPUT cannot write .*link\.yaml: it is a symbolic link/);
  assert.equal(readFileSync(target, 'utf8'), 'original\n');
  assert.ok(lstatSync(link).isSymbolicLink());
  // Overwriting an existing (0644) file leaves it 0600.
  writeFileSync(out, 'old\n');
  chmodSync(out, 0o644);
  assert.equal(cli(['import', conf, '-o', out]).status, 0);
  assert.equal(statSync(out).mode & 0o777, 0o600);
});

test('regression: escape sequences in config keywords reach the terminal as visible escapes, not raw', () => {
  const conf = join(dir, 'escape.conf');
  writeFileSync(conf, 'vrrp_instance VI_1 {\n  \x1b[2J\x1b[31mstate MASTER\n}\n');
  const r = cli(['check', conf]);
  assert.equal(r.status, 1);
  const text = r.stdout + r.stderr;
  assert.ok(!text.includes(String.fromCharCode(0x1b)), 'no raw ESC reaches the terminal');
  assert.match(text, /\\x1b\[2J\\x1b\[31mstate/);
});
