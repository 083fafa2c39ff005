/**
 * Issue 12's HTTP API end to end: a real `bin/tandem run --api 127.0.0.1:PORT` (a proxy-only node on 127.0.0.1, which
 * needs no root, with its real supervisor), users and tokens made with `tandem user` / `tandem token`, and real HTTP:
 * a viewer is refused a drain with 403, an operator drains, the audit log and the event stream carry both; the CLI
 * drives the node remotely with --node and a token; the same over TLS with the test certificate; a non-loopback
 * address without TLS refuses to start.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Output } from '../netns/tandem-lab.ts';

const root = new URL('../../', import.meta.url).pathname;
const TANDEM = join(root, 'bin/tandem');
const dir = mkdtempSync(join(tmpdir(), `t12a-api-${process.pid}-`));
const CERT = join(root, 'test/fixtures/tls/server.crt');
const KEY = join(root, 'test/fixtures/tls/server.key');
const children: ChildProcess[] = [];
let backend: Server;
let backendPort = 0;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function cli(args: string[], opts: { input?: string; env?: Record<string, string> } = {}) {
  const r = spawnSync(process.execPath, [TANDEM, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 30_000,
    input: opts.input,
    env: { ...process.env, ...opts.env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Reply {
  status: number;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

/** One HTTP(S) request with a JSON body; never follows redirects. */
function call(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  opts: { body?: unknown; headers?: Record<string, string>; ca?: Buffer } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const u = new URL(path, base);
    const send = u.protocol === 'https:' ? httpsRequest : request;
    const req = send(
      u,
      {
        method,
        timeout: 10_000,
        headers: {
          ...(payload ? { 'content-type': 'application/json' } : {}),
          ...opts.headers,
        },
        ...(opts.ca ? { ca: opts.ca } : {}),
      },
      (res) => {
        let text = '';
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    if (payload) req.write(payload);
    req.end();
  });
}

/** Opens the event stream; collects the events. */
function openStream(base: string, token: string): Promise<{ events: Array<Record<string, unknown>>; close(): void }> {
  return new Promise((resolve, reject) => {
    const events: Array<Record<string, unknown>> = [];
    const req = request(new URL('/api/v1/events', base), { headers: { authorization: `Bearer ${token}` } }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`event stream: HTTP ${res.statusCode}`));
        return;
      }
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        buf += c;
        for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = block.split('\n').find((l) => l.startsWith('data: '));
          if (data) events.push(JSON.parse(data.slice(6)));
        }
      });
      resolve({ events, close: () => req.destroy() });
    });
    req.on('error', (e) => {
      if ((e as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(e);
    });
    req.end();
  });
}

async function until<T>(what: string, probe: () => Promise<T> | T, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms (last ${JSON.stringify(v)})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Daemon {
  child: ChildProcess;
  out: Output;
  base: string;
  users: string;
  audit: string;
}

async function startDaemon(name: string, tls: boolean): Promise<Daemon> {
  const [svcPort, apiPort] = [await freePort(), await freePort()];
  const config = join(dir, `${name}.yaml`);
  const users = join(dir, `${name}-users.json`);
  const audit = join(dir, `${name}-audit.log`);
  writeFileSync(
    config,
    `lb:
  services:
    - name: web
      vip: 127.0.0.1
      port: ${svcPort}
      dataplane: proxy
      proxy: { mode: http }
      real_servers:
        - { address: 127.0.0.1, port: ${backendPort} }
api:
  users_file: ${users}
  audit_log: ${audit}
${tls ? `  tls: { cert: ${CERT}, key: ${KEY} }\n` : ''}`,
  );
  for (const [u, role] of [
    ['vera', 'viewer'],
    ['otto', 'operator'],
  ] as const) {
    const r = cli(['user', 'add', u, '--role', role, '--password-stdin', '--users-file', users], {
      input: `${u}-secret-pw\n`,
    });
    assert.equal(r.code, 0, r.stderr);
  }
  const child = spawn(
    process.execPath,
    [
      TANDEM,
      'run',
      '-c',
      config,
      '--control',
      join(dir, `t12a-${process.pid}-${name}.sock`),
      '--node',
      name,
      '--api',
      `127.0.0.1:${apiPort}`,
    ],
    { cwd: root },
  );
  children.push(child);
  const out = new Output(child);
  await out.waitFor(/HTTP API listening on/, 30_000);
  await out.waitFor(/serving virtual service web/, 30_000);
  return { child, out, base: `${tls ? 'https' : 'http'}://127.0.0.1:${apiPort}`, users, audit };
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

const auditLines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, string>);

before(async () => {
  backend = createServer((_req, res) => res.end('backend\n'));
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', () => r()));
  backendPort = (backend.address() as AddressInfo).port;
});

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  await Promise.all(children.map((c) => exited(c).catch(() => c.kill('SIGKILL'))));
  await new Promise<void>((r) => backend.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

test('over real HTTP: a viewer is refused a drain (403), an operator drains it, the audit log and the event stream carry both', async () => {
  const d = await startDaemon('t12a-plain', false);
  const t = cli(['token', 'create', '--role', 'viewer', '--name', 'watcher', '--users-file', d.users]);
  assert.equal(t.code, 0, t.stderr);
  const stream = await openStream(d.base, t.stdout.trim());
  const server = `127.0.0.1:${backendPort}`;

  const v = await call(d.base, 'POST', '/api/v1/login', { body: { user: 'vera', password: 'vera-secret-pw' } });
  assert.equal(v.status, 200);
  assert.equal(v.body.role, 'viewer');
  const vCookie = String(v.headers['set-cookie']).split(';')[0]!;
  assert.doesNotMatch(String(v.headers['set-cookie']), /Secure/, 'plain HTTP on loopback: no Secure flag');
  const st = await call(d.base, 'GET', '/api/v1/status', { headers: { cookie: vCookie } });
  assert.equal(st.status, 200);
  assert.equal((st.body.lb as { services: Array<{ name: string }> }).services[0]!.name, 'web');
  const refused = await call(d.base, 'POST', '/api/v1/rs', {
    body: { service: 'web', verb: 'drain', server, wait: false },
    headers: { cookie: vCookie, 'x-csrf-token': String(v.body.csrf) },
  });
  assert.equal(refused.status, 403);
  assert.equal(refused.body.code, 'TND_API_FORBIDDEN');

  const o = await call(d.base, 'POST', '/api/v1/login', { body: { user: 'otto', password: 'otto-secret-pw' } });
  const oCookie = String(o.headers['set-cookie']).split(';')[0]!;
  const drained = await call(d.base, 'POST', '/api/v1/rs', {
    body: { service: 'web', verb: 'drain', server, wait: false },
    headers: { cookie: oCookie, 'x-csrf-token': String(o.body.csrf) },
  });
  assert.equal(drained.status, 200, JSON.stringify(drained.body));
  assert.deepEqual([drained.body.ok, drained.body.verb], [true, 'drain']);
  const after = await call(d.base, 'GET', '/api/v1/status', { headers: { cookie: oCookie } });
  const rs = (after.body.lb as { services: Array<{ servers: Array<{ admin: Record<string, unknown> }> }> }).services[0]!
    .servers[0]!;
  assert.ok(rs.admin.drain, `drained: ${JSON.stringify(rs)}`);

  const lines = auditLines(d.audit);
  assert.deepEqual(
    lines.map((l) => [l.who, l.role, l.via, l.from, l.action, l.target, l.result]),
    [
      ['vera', 'viewer', 'session', '127.0.0.1', 'login', 'vera', 'ok'],
      ['vera', 'viewer', 'session', '127.0.0.1', 'rs.drain', `web/${server}`, 'refused'],
      ['otto', 'operator', 'session', '127.0.0.1', 'login', 'otto', 'ok'],
      ['otto', 'operator', 'session', '127.0.0.1', 'rs.drain', `web/${server}`, 'ok'],
    ],
  );
  assert.equal(statSync(d.audit).mode & 0o777, 0o600);
  assert.equal(statSync(d.users).mode & 0o777, 0o600);

  const events = await until(
    'the stream carries the audit lines and the drain',
    () => stream.events,
    (e) =>
      e.some((x) => x.type === 'audit' && x.action === 'rs.drain' && x.result === 'ok') &&
      e.some((x) => x.type === 'lb-op' && x.to === 'draining'),
  );
  assert.ok(events.some((x) => x.type === 'audit' && x.who === 'vera' && x.result === 'refused'));
  stream.close();

  // The CLI, remotely: a viewer token reads status and is refused an action; an operator token enables the server.
  const remote = ['--node', d.base];
  const s = cli(['status', '--json', ...remote], { env: { TANDEM_TOKEN: t.stdout.trim() } });
  assert.equal(s.code, 0, s.stderr);
  assert.equal(JSON.parse(s.stdout).node, 't12a-plain');
  const no = cli(['rs', 'enable', 'web', server, ...remote], { env: { TANDEM_TOKEN: t.stdout.trim() } });
  assert.equal(no.code, 1);
  assert.match(no.stderr, /TND_API_FORBIDDEN watcher has role viewer; rs\.enable needs operator/);
  const op = cli(['token', 'create', '--role', 'operator', '--name', 'ci', '--users-file', d.users]);
  const tokenFile = join(dir, 'ci.token');
  writeFileSync(tokenFile, op.stdout, { mode: 0o600 });
  const yes = cli(['rs', 'enable', 'web', server, ...remote, '--token-file', tokenFile]);
  assert.equal(yes.code, 0, yes.stderr);
  assert.match(yes.stdout, /enabled/);
  const none = cli(['status', ...remote], { env: { TANDEM_TOKEN: '' } });
  assert.equal(none.code, 1);
  assert.match(none.stderr, /TND_API_UNAUTHENTICATED/);
  // The local socket still works, as root, and is audited as root via local.
  const local = cli([
    'rs',
    'drain',
    'web',
    server,
    '--no-wait',
    '--control',
    join(dir, `t12a-${process.pid}-t12a-plain.sock`),
  ]);
  assert.equal(local.code, 0, local.stderr);
  assert.deepEqual(
    auditLines(d.audit)
      .slice(-2)
      .map((l) => [l.who, l.via, l.action, l.result]),
    [
      ['ci', 'token', 'rs.enable', 'ok'],
      ['root', 'local', 'rs.drain', 'ok'],
    ],
  );
  // logrotate: the file moves, SIGHUP, and the next line goes to a new 0600 file.
  renameSync(d.audit, `${d.audit}.1`);
  d.child.kill('SIGHUP');
  await d.out.waitFor(/Reloaded .*t12a-plain\.yaml/, 15_000);
  assert.equal(cli(['rs', 'enable', 'web', server, ...remote, '--token-file', tokenFile]).code, 0);
  assert.deepEqual(
    auditLines(d.audit).map((l) => [l.who, l.action]),
    [['ci', 'rs.enable']],
  );
  assert.equal(statSync(d.audit).mode & 0o777, 0o600);
  // A revoked token is refused at once.
  assert.equal(cli(['token', 'revoke', 'ci', '--users-file', d.users]).code, 0);
  const gone = cli(['status', ...remote, '--token-file', tokenFile]);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /TND_API_UNAUTHENTICATED/);
});

test('over TLS: HTTPS with the configured certificate, a Secure session cookie, and the CLI with --cacert', async () => {
  const d = await startDaemon('t12a-tls', true);
  const ca = readFileSync(CERT);
  const o = await call(d.base, 'POST', '/api/v1/login', { body: { user: 'otto', password: 'otto-secret-pw' }, ca });
  assert.equal(o.status, 200);
  assert.match(String(o.headers['set-cookie']), /; HttpOnly; SameSite=Strict; Max-Age=\d+; Secure$/);
  await assert.rejects(call(d.base, 'GET', '/api/v1/status'), /self-signed|unable to verify|certificate/i);
  const t = cli(['token', 'create', '--role', 'viewer', '--users-file', d.users]);
  const s = cli(['status', '--json', '--node', d.base, '--cacert', CERT], { env: { TANDEM_TOKEN: t.stdout.trim() } });
  assert.equal(s.code, 0, s.stderr);
  assert.equal(JSON.parse(s.stdout).node, 't12a-tls');
  const noCa = cli(['status', '--node', d.base], { env: { TANDEM_TOKEN: t.stdout.trim() } });
  assert.equal(noCa.code, 3);
  assert.match(noCa.stderr, /TND_CTL_NO_DAEMON .*(self-signed|certificate)/i);
});

test('a non-loopback --api without TLS refuses to start, naming the key; a missing certificate file too', async () => {
  const config = join(dir, 'refuse.yaml');
  writeFileSync(config, `api:\n  users_file: ${join(dir, 'r-users.json')}\n  audit_log: ${join(dir, 'r-audit.log')}\n`);
  const r = cli([
    'run',
    '-c',
    config,
    '--control',
    join(dir, `t12a-${process.pid}-r.sock`),
    '--api',
    '198.18.0.1:8443',
  ]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /TND_API_TLS_REQUIRED --api 198\.18\.0\.1:8443 is not a loopback address: set api\.tls\.cert and api\.tls\.key/,
  );
  const listen = join(dir, 'refuse2.yaml');
  writeFileSync(
    listen,
    `api:\n  listen: "[::]:8443"\n  users_file: ${join(dir, 'r-users.json')}\n  audit_log: ${join(dir, 'r-audit.log')}\n`,
  );
  const r2 = cli(['run', '-c', listen, '--control', join(dir, `t12a-${process.pid}-r2.sock`)]);
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /TND_API_TLS_REQUIRED api\.listen \[::\]:8443 is not a loopback address/);
  const badTls = join(dir, 'refuse3.yaml');
  writeFileSync(
    badTls,
    `api:\n  tls: { cert: ${join(dir, 'missing.crt')}, key: ${KEY} }\n  users_file: ${join(dir, 'r-users.json')}\n  audit_log: ${join(dir, 'r-audit.log')}\n`,
  );
  const r3 = cli([
    'run',
    '-c',
    badTls,
    '--control',
    join(dir, `t12a-${process.pid}-r3.sock`),
    '--no-supervisor',
    '--api',
    `127.0.0.1:${await freePort()}`,
  ]);
  assert.equal(r3.code, 1);
  assert.match(r3.stderr, /TND_API_LISTEN api\.tls\.cert .*missing\.crt: ENOENT/);
});
