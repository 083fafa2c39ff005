// tandem nagios in remote mode against small HTTP(S) servers of the test that serve a status JSON at
// GET /api/v1/status behind a bearer token (the HTTP API's scheme, api/http-plugin.ts): the real client path —
// sockets, TLS with --ca, the token from $TANDEM_TOKEN or --token-file, timeouts — and the exit codes.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { DaemonStatus } from '../api/contract.ts';
import { sampleStatus } from '../metrics/test-support.ts';
import { bufferIo } from './io.ts';
import { runNagios } from './nagios.ts';

const TOKEN = 'tnd_test_token_1';
const tls = new URL('../../test/fixtures/tls/', import.meta.url).pathname;
const servers: Server[] = [];
const dir = mkdtempSync(join(tmpdir(), `t12m-${process.pid}-`));
after(() => {
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

const seen: { auth: string | undefined; path: string | undefined }[] = [];

function handler(status: () => DaemonStatus | 'hang') {
  return (req: IncomingMessage, res: ServerResponse) => {
    seen.push({ auth: req.headers.authorization, path: req.url });
    const st = status();
    if (st === 'hang') return; // never answers
    if (req.url !== '/api/v1/status') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"code":"TND_CTL_NOT_FOUND","message":"no"}');
      return;
    }
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 'TND_API_UNAUTHENTICATED', message: 'a session or a bearer token is needed' }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(st));
  };
}

async function serve(status: () => DaemonStatus | 'hang', https = false): Promise<string> {
  const h = handler(status);
  const s = https
    ? createHttps({ key: readFileSync(join(tls, 'server.key')), cert: readFileSync(join(tls, 'server.crt')) }, h)
    : createHttp(h);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `${https ? 'https' : 'http'}://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

const node = (name: string, state: 'MASTER' | 'BACKUP', hash: string) => () => {
  const st = sampleStatus({ node: name, configHash: hash });
  st.instances[0]!.state = state;
  return st;
};

async function nagios(argv: string[], env: NodeJS.ProcessEnv = { TANDEM_TOKEN: TOKEN }) {
  const io = bufferIo();
  const code = await runNagios(argv, io, env);
  assert.equal(io.stdout.length, 1, `one line: ${io.stdout.join('\n')}`);
  return { code, line: io.stdout[0]! };
}

const H1 = `sha256:${'1'.repeat(64)}`;
const H2 = `sha256:${'2'.repeat(64)}`;

test('vip over two nodes (http and https with --ca): OK with the bearer token, CRITICAL with two holders', async () => {
  const a = await serve(node('a', 'MASTER', H1));
  const b = await serve(node('b', 'BACKUP', H1), true);
  const ca = join(tls, 'server.crt');
  let r = await nagios(['vip', '198.18.0.100', '--node', a, b, '--ca', ca]);
  assert.deepEqual(r, { code: 0, line: 'OK - 198.18.0.100 is held by a (VI_1); b (VI_1 BACKUP) | holders=1;;1:1;0;2' });
  assert.ok(seen.some((s) => s.auth === `Bearer ${TOKEN}` && s.path === '/api/v1/status'));
  const c = await serve(node('c', 'MASTER', H1));
  r = await nagios(['vip', '198.18.0.100', '--node', a, '--node', c]);
  assert.equal(r.code, 2);
  assert.match(r.line, /^CRITICAL - 198\.18\.0\.100 is held by 2 nodes: a \(VI_1 MASTER\), c \(VI_1 MASTER\)/);
  // https without the CA: the certificate is refused, UNKNOWN with the reason.
  r = await nagios(['vip', '198.18.0.100', '--node', a, b]);
  assert.equal(r.code, 3);
  assert.match(
    r.line,
    /^UNKNOWN - 198\.18\.0\.100: cannot ask every node: https:\/\/127\.0\.0\.1:\d+: .*(self.signed|certificate)/i,
  );
});

test('config: the same hash OK, a different one CRITICAL; token from --token-file', async () => {
  const a = await serve(node('a', 'MASTER', H1));
  const b = await serve(node('b', 'BACKUP', H1));
  const c = await serve(node('c', 'BACKUP', H2));
  const file = join(dir, 'token');
  writeFileSync(file, `${TOKEN}\n`, { mode: 0o600 });
  let r = await nagios(['config', '--node', a, b, '--token-file', file], {});
  assert.deepEqual(r, {
    code: 0,
    line: 'OK - 2 nodes run the same config sha256:111111111111 (a, b) | configs=1;;1:1;1;2',
  });
  r = await nagios(['config', '--node', a, b, c]);
  assert.deepEqual(r, {
    code: 2,
    line: 'CRITICAL - the nodes run 2 different configs: a, b sha256:111111111111; c sha256:222222222222 | configs=2;;1:1;1;3',
  });
});

test('service and server remotely: WARNING and CRITICAL by thresholds and state', async () => {
  const a = await serve(node('a', 'MASTER', H1));
  let r = await nagios(['service', 'web', '-w', '2', '-c', '1', '--node', a]);
  assert.equal(r.code, 1);
  assert.match(r.line, /^WARNING - web .*1 of 3 real servers healthy.* \| healthy=1;2:;1:;0;3$/);
  r = await nagios(['server', 'web', '198.18.2.3:80', '--node', a]);
  assert.equal(r.code, 2);
  assert.match(r.line, /^CRITICAL - web 198\.18\.2\.3:80 on a is down/);
});

test('every failure to reach a node is UNKNOWN with its reason: no token, refused, no reply, not tandem', async () => {
  const a = await serve(node('a', 'MASTER', H1));
  let r = await nagios(['instance', 'VI_1', '--node', a], {});
  assert.equal(r.code, 3);
  assert.match(
    r.line,
    /^UNKNOWN - http:\/\/127\.0\.0\.1:\d+: HTTP 401: a session or a bearer token is needed \(set \$TANDEM_TOKEN or --token-file\)$/,
  );
  r = await nagios(['instance', 'VI_1', '--node', 'http://127.0.0.1:1']);
  assert.equal(r.code, 3);
  assert.match(r.line, /ECONNREFUSED/);
  const hang = await serve(() => 'hang');
  const t0 = Date.now();
  r = await nagios(['instance', 'VI_1', '--node', hang, '-t', '0.5']);
  assert.equal(r.code, 3);
  assert.match(r.line, /no reply within 500 ms/);
  assert.ok(Date.now() - t0 < 5_000);
  r = await nagios(['config', '--node', a, 'http://127.0.0.1:1']);
  assert.equal(r.code, 3);
  assert.match(r.line, /^UNKNOWN - cannot compare configs: http:\/\/127\.0\.0\.1:1: ECONNREFUSED/);
  r = await nagios(['instance', 'VI_1', '--node', a, '--token-file', join(dir, 'missing')]);
  assert.deepEqual(r, { code: 3, line: `UNKNOWN - --token-file ${join(dir, 'missing')}: ENOENT` });
  // A usage error is UNKNOWN too (NRPE shows it), never commander's exit 2.
  r = await nagios(['service', 'web', '-w', 'lots']);
  assert.equal(r.code, 3);
  assert.match(r.line, /^UNKNOWN - usage: -w: threshold "lots" is not a range/);
});
