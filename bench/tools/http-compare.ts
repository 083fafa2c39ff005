// The HTTP hardening comparison (issue 9): the smuggling suite's exact bytes (src/dataplane/proxy/smuggling-cases.ts)
// and the issue's scenarios (WebSocket, a server closing mid-body, slowloris, connection limits) run against tandem's
// proxy, nginx and HAProxy side by side, each in front of the same strict recording backend, all on 127.0.0.x.
// Prints a markdown table: what each one answers, what reached the backend, and whether a victim sharing the pooled
// upstream connection still got its own answer. nginx and HAProxy are started here (configs in a temp dir) and
// stopped by PID; a missing one is reported as absent. Not part of `npm test`.
//
//   node --import tsx bench/tools/http-compare.ts            # everything
//   COMPARE_ONLY=cases|scenarios node --import tsx bench/tools/http-compare.ts
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProxyDataPlane } from '../../src/dataplane/proxy/index.ts';
import {
  namingResponse,
  type RecordingBackend,
  rawRequest,
  recordingBackend,
  type SeenRequest,
} from '../../src/dataplane/proxy/raw-http.ts';
import { SMUGGLING_CASES, type SmugglingCase, VICTIM } from '../../src/dataplane/proxy/smuggling-cases.ts';
import { freePort, program } from '../../src/dataplane/proxy/test-support.ts';

/** One proxy under comparison. */
interface Target {
  name: string;
  addr: string;
  port: number;
  /** A second listener with a limit of 10 client connections (the connection-limit scenario). */
  limitedPort: number;
}

const ONLY = process.env.COMPARE_ONLY ?? '';
const HEADER_TIMEOUT_S = 5;
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

/** The backend's answers: the default naming response, and the special paths of the scenarios. */
function respond(r: SeenRequest, s: net.Socket): string | null | 'handled' | 'tunnel' {
  if (r.target === '/tunnel') {
    s.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n',
    );
    return 'tunnel';
  }
  if (r.target === '/ws-deny') return 'HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\n\r\nnope\n';
  if (r.target === '/cut') {
    s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part');
    setTimeout(() => s.destroy(), 50);
    return 'handled';
  }
  return namingResponse(r);
}

async function waitListening(addr: string, port: number, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: addr, port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${what} does not listen on ${addr}:${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function nginxConf(dir: string, t: Target, be: RecordingBackend): string {
  return `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx.err warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  client_header_timeout ${HEADER_TIMEOUT_S}s;
  map $http_upgrade $connection_upgrade { default upgrade; '' ''; }
  limit_conn_zone $server_port zone=perport:1m;
  upstream rs { server ${be.addr}:${be.port}; keepalive 8; }
  server {
    listen ${t.addr}:${t.port};
    listen ${t.addr}:${t.limitedPort};
    location / {
      limit_conn perport 10;
      proxy_pass http://rs;
      proxy_http_version 1.1;
      proxy_set_header Host $host;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
    }
  }
}
`;
}

function haproxyConf(t: Target, be: RecordingBackend): string {
  return `global
  maxconn 1000
defaults
  mode http
  timeout connect 3s
  timeout client 30s
  timeout server 30s
  timeout http-request ${HEADER_TIMEOUT_S}s
  timeout tunnel 30s
  http-reuse always
frontend fe
  bind ${t.addr}:${t.port}
  default_backend be
frontend limited
  bind ${t.addr}:${t.limitedPort}
  maxconn 10
  default_backend be
backend be
  server s1 ${be.addr}:${be.port}
`;
}

/** What a case did on one target, in a few words; `ok` = it matches what the suite expects of tandem. */
async function runCase(t: Target, be: RecordingBackend, c: SmugglingCase): Promise<string> {
  be.reset();
  const a = await rawRequest(t.port, [c.bytes], { host: t.addr, expect: c.statuses.length, settleMs: 100 });
  await be.settled();
  const victim = await rawRequest(t.port, [VICTIM], { host: t.addr, expect: 1, settleMs: 100 });
  await be.settled();
  const statuses = a.responses.map((r) => r.status);
  const theirs = be.requests.filter((r) => r.tag !== 'victim');
  const smuggled = be.requests.some((r) => r.tag === 'smuggled') || a.responses.some((r) => r.tag === 'smuggled');
  const v = victim.responses[0];
  const victimOk = victim.responses.length === 1 && v?.tag === 'victim';
  const parts: string[] = [statuses.length ? statuses.join(' ') : a.closed ? 'closed, no answer' : 'no answer'];
  if (theirs.length > 0) {
    const seen = theirs.map((r) => `${r.method} ${r.target.slice(0, 16)}${r.body ? ` +${r.body.length}B` : ''}`);
    parts.push(`→ ${seen.join(', ')}`);
  } else {
    parts.push('→ nothing');
  }
  if (be.violations.length > 0) parts.push(`(backend: ${be.violations[0]?.replace(/^conn \d+: /, '')})`);
  // A desync: the backend parsed a request whose answer did not go back to the attacker (or went to the victim).
  const answered = a.responses.filter((r) => r.tag !== '').length;
  if (theirs.length !== answered) parts.push(`**DESYNC: ${theirs.length} at the backend, ${answered} answered**`);
  else if (smuggled) parts.push('(the hidden request was read as a second request)');
  if (!victimOk) parts.push(`**victim got ${v ? `${v.status} ${v.tag || 'proxy'}` : 'nothing'}**`);
  const want =
    statuses.join(' ') === c.statuses.join(' ') &&
    theirs.length === c.backend.length &&
    !smuggled &&
    victimOk &&
    be.violations.length === 0;
  return `${want ? '' : '≠ '}${parts.join(' ')}`;
}

/** The issue's scenarios on one target: rows of [scenario, result]. */
async function scenarios(t: Target, be: RecordingBackend): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  // WebSocket: does a real 101 become a tunnel?
  be.reset();
  const ws = await rawRequest(
    t.port,
    [
      'GET /tunnel HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
      'ping',
    ],
    { host: t.addr, gapMs: 200, timeoutMs: 1_500 },
  );
  const wsText = ws.raw.toString('latin1');
  out.set(
    'WebSocket: server answers 101',
    wsText.startsWith('HTTP/1.1 101')
      ? wsText.includes('echo:ping')
        ? '101, tunnel both ways'
        : '101, no tunnel'
      : `${ws.responses[0]?.status ?? 'nothing'}`,
  );
  be.reset();
  const deny = await rawRequest(
    t.port,
    [
      'GET /ws-deny HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\nX-Tag: smuggled\r\n\r\n',
    ],
    { host: t.addr, expect: 1, settleMs: 300, timeoutMs: 3_000 },
  );
  await be.settled();
  const leaked = be.requests.some((r) => r.tag === 'smuggled');
  out.set(
    'WebSocket: server answers 403',
    `${deny.responses.map((r) => r.status).join(' ') || 'nothing'}${deny.closed ? ', closed' : ', kept open'}${leaked ? ', the bytes after it read as the next request' : ''}`,
  );
  // A server closing in the middle of its body.
  const cut = await rawRequest(t.port, ['GET /cut HTTP/1.1\r\nHost: a\r\n\r\n'], { host: t.addr, timeoutMs: 3_000 });
  const cutText = cut.raw.toString('latin1');
  out.set(
    'server closes mid-body (Content-Length 100, 9 bytes sent)',
    cutText.startsWith('HTTP/1.1 200')
      ? `head + ${cutText.length - cutText.indexOf('\r\n\r\n') - 4} body bytes, then ${cut.closed ? 'close' : 'hang'}`
      : `${cut.responses[0]?.status ?? 'nothing'}${cut.closed ? ', close' : ''}`,
  );
  // Connection limit: 10 silent connections, then one that sends a whole request.
  out.set('11th connection while 10 slow clients hold a limit of 10', await limit(t));
  return out;
}

async function slowloris(t: Target): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ host: t.addr, port: t.port });
    const head = `GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ${'x'.repeat(100)}`;
    let i = 0;
    let got = '';
    const t0 = Date.now();
    const drip = setInterval(() => {
      if (!s.destroyed) s.write(head[i++ % head.length] as string);
    }, 2_000);
    const give = setTimeout(() => s.destroy(), 40_000);
    s.on('data', (d: Buffer) => {
      got += d.toString('latin1');
    });
    s.on('error', () => {});
    s.on('connect', () => s.write(head[i++] as string));
    s.on('close', () => {
      clearInterval(drip);
      clearTimeout(give);
      const ms = Date.now() - t0;
      resolve(
        ms >= 39_000
          ? 'still open after 40 s'
          : `cut after ${(ms / 1000).toFixed(1)} s (${got.split('\r\n')[0] || 'no answer'})`,
      );
    });
  });
}

async function limit(t: Target): Promise<string> {
  const held: net.Socket[] = [];
  try {
    for (let i = 0; i < 10; i++) {
      const s = net.connect({ host: t.addr, port: t.limitedPort });
      s.on('error', () => {});
      await new Promise<void>((r) => s.once('connect', () => r()));
      s.write('GET / HTTP/1.1\r\n');
      held.push(s);
    }
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    const r = await rawRequest(t.limitedPort, ['GET /eleventh HTTP/1.1\r\nHost: a\r\n\r\n'], {
      host: t.addr,
      expect: 1,
      timeoutMs: 3_000,
    });
    const ms = Date.now() - t0;
    if (r.responses.length > 0) return `answered ${r.responses[0]?.status} after ${ms} ms`;
    return r.closed ? `refused (closed) after ${ms} ms` : 'hangs (no answer within 3 s)';
  } finally {
    for (const s of held) s.destroy();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-compare-'));
  const children: ChildProcess[] = [];
  const be = await recordingBackend('127.0.0.2', respond);
  const dp = createProxyDataPlane();
  try {
    const targets: Target[] = [];
    const tandem: Target = { name: 'tandem', addr: '127.0.0.3', port: 0, limitedPort: 0 };
    tandem.port = await freePort(tandem.addr);
    tandem.limitedPort = await freePort(tandem.addr);
    const proxy = { mode: 'http' as const, listen: tandem.addr, idleTimeoutMs: 30_000, retries: 0 };
    await dp.apply([
      program(
        'web',
        tandem.port,
        [be],
        { vip: tandem.addr },
        { ...proxy, clientHeaderTimeoutMs: HEADER_TIMEOUT_S * 1000 },
      ),
      program('limited', tandem.limitedPort, [be], { vip: tandem.addr }, { ...proxy, maxConnections: 10 }),
    ]);
    targets.push(tandem);
    const absent: string[] = [];
    if (has('nginx')) {
      const t: Target = { name: 'nginx', addr: '127.0.0.4', port: 0, limitedPort: 0 };
      t.port = await freePort(t.addr);
      t.limitedPort = await freePort(t.addr);
      const conf = join(dir, 'nginx.conf');
      writeFileSync(conf, nginxConf(dir, t, be));
      const p = spawn('nginx', ['-c', conf, '-p', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
      children.push(p);
      await waitListening(t.addr, t.port, 'nginx');
      targets.push(t);
    } else absent.push('nginx');
    if (has('haproxy')) {
      const t: Target = { name: 'HAProxy', addr: '127.0.0.5', port: 0, limitedPort: 0 };
      t.port = await freePort(t.addr);
      t.limitedPort = await freePort(t.addr);
      const conf = join(dir, 'haproxy.cfg');
      writeFileSync(conf, haproxyConf(t, be));
      const p = spawn('haproxy', ['-f', conf, '-db'], { stdio: ['ignore', 'ignore', 'ignore'] });
      children.push(p);
      await waitListening(t.addr, t.port, 'HAProxy');
      targets.push(t);
    } else absent.push('haproxy');
    const versions = [
      `tandem (this tree)`,
      has('nginx') ? spawnSync('nginx', ['-v'], { encoding: 'utf8' }).stderr.trim() : '',
      has('haproxy') ? (spawnSync('haproxy', ['-v'], { encoding: 'utf8' }).stdout.split('\n')[0] ?? '') : '',
    ].filter(Boolean);
    console.log(`<!-- ${versions.join('; ')}${absent.length ? `; absent: ${absent.join(', ')}` : ''} -->`);
    const header = `| case | ${targets.map((t) => t.name).join(' | ')} |\n|---|${targets.map(() => '---|').join('')}`;
    if (ONLY !== 'scenarios') {
      console.log(
        "\nStatuses the attacker got → requests the backend saw (≠: differs from what tandem's suite expects)\n",
      );
      console.log(header);
      for (const c of SMUGGLING_CASES) {
        const cells: string[] = [];
        for (const t of targets) cells.push(await runCase(t, be, c));
        console.log(
          `| ${c.family}: ${c.name.replaceAll('|', '\\|')} | ${cells.map((x) => x.replaceAll('|', '\\|')).join(' | ')} |`,
        );
      }
    }
    if (ONLY !== 'cases') {
      console.log('\nScenarios\n');
      console.log(header.replace('| case |', '| scenario |'));
      // Slowloris, one header byte every 2 s: the slow part, run on all targets at once.
      const loris = await Promise.all(targets.map((t) => slowloris(t)));
      const results: Map<string, string>[] = [];
      for (const t of targets) results.push(await scenarios(t, be));
      for (const [i, r] of results.entries()) {
        r.set(`slowloris, 1 byte / 2 s (${HEADER_TIMEOUT_S} s header timeout)`, loris[i] ?? '');
      }
      for (const key of results[0]?.keys() ?? []) {
        console.log(`| ${key} | ${results.map((r) => r.get(key) ?? '').join(' | ')} |`);
      }
    }
  } finally {
    for (const p of children) if (p.pid && p.exitCode === null) process.kill(p.pid, 'SIGTERM');
    await Promise.all(
      children.map((p) => (p.exitCode === null ? new Promise((r) => p.once('exit', r)) : Promise.resolve())),
    );
    await dp.close();
    await be.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
