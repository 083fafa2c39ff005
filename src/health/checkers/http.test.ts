import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { test } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { blockedListener, closedPort } from '../test-support.ts';
import type { HttpProbe } from '../types.ts';
import { runHttpCheck } from './http.ts';
import { RegexMatcher } from './regex-matcher.ts';

const never = new AbortController().signal;
const tlsDir = new URL('../../../test/fixtures/tls/', import.meta.url);
const key = readFileSync(new URL('server.key', tlsDir));
const cert = readFileSync(new URL('server.crt', tlsDir));

/** What the server saw of one request. */
interface Seen {
  path: string;
  host: string | undefined;
  userAgent: string | undefined;
  sni: string | false | null | undefined;
}

/** An HTTP(S) server on loopback that records requests and answers with `handler`. */
async function serve(
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => void,
  opts: { tls?: boolean; host?: string } = {},
): Promise<{ port: number; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    seen.push({
      path: req.url ?? '',
      host: req.headers.host,
      userAgent: req.headers['user-agent'],
      sni: opts.tls ? (req.socket as TLSSocket).servername : undefined,
    });
    handler(req, res);
  };
  const server = opts.tls ? https.createServer({ key, cert }, onRequest) : http.createServer(onRequest);
  await new Promise<void>((resolve) => server.listen(0, opts.host ?? '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A raw TCP server on loopback: `onSocket` decides what (not) to send. */
async function rawServer(onSocket: (s: net.Socket) => void): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
    onSocket(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function probe(port: number, extra: Partial<HttpProbe> = {}): HttpProbe {
  return {
    kind: 'http',
    tls: false,
    addr: '127.0.0.1',
    port,
    path: '/',
    statusCodes: [{ from: 200, to: 299 }],
    timeoutMs: 2_000,
    ...extra,
  };
}

test('HTTP 200 on the path is L7OK; the server sees the path, a Host header and a fresh connection', async () => {
  const s = await serve((_req, res) => res.end('ok'));
  try {
    const r = await runHttpCheck(probe(s.port, { path: '/health?full=1' }), never);
    assert.deepEqual([r.code, r.detail], ['L7OK', 'HTTP 200']);
    assert.equal(s.seen[0]?.path, '/health?full=1');
    assert.equal(s.seen[0]?.host, `127.0.0.1:${s.port}`);
    assert.equal(s.seen[0]?.userAgent, 'tandem-health-check');
  } finally {
    await s.close();
  }
});

test('keepalived virtualhost: the configured Host header is what the server sees', async () => {
  const s = await serve((_req, res) => res.end('ok'));
  try {
    const r = await runHttpCheck(probe(s.port, { host: 'www.example.test' }), never);
    assert.equal(r.code, 'L7OK');
    assert.equal(s.seen[0]?.host, 'www.example.test');
  } finally {
    await s.close();
  }
});

test('a status outside status_code is L7STS, naming the status and the accepted ranges', async () => {
  const s = await serve((_req, res) => {
    res.statusCode = 503;
    res.end('busy');
  });
  try {
    const r = await runHttpCheck(probe(s.port), never);
    assert.deepEqual([r.code, r.detail], ['L7STS', 'HTTP 503, expected 200-299']);
    const ranges = [
      { from: 200, to: 299 },
      { from: 503, to: 503 },
    ];
    const ok = await runHttpCheck(probe(s.port, { statusCodes: ranges }), never);
    assert.deepEqual([ok.code, ok.detail], ['L7OK', 'HTTP 503']);
    const narrow = await runHttpCheck(probe(s.port, { statusCodes: [{ from: 500, to: 502 }] }), never);
    assert.deepEqual([narrow.code, narrow.detail], ['L7STS', 'HTTP 503, expected 500-502']);
  } finally {
    await s.close();
  }
});

test('a redirect is a status like any other: 301 fails the default 200-299', async () => {
  const s = await serve((_req, res) => {
    res.writeHead(301, { location: '/elsewhere' });
    res.end();
  });
  try {
    const r = await runHttpCheck(probe(s.port), never);
    assert.equal(r.code, 'L7STS');
    assert.equal(s.seen.length, 1);
  } finally {
    await s.close();
  }
});

test('regex: a body that matches passes, one that does not is L7RSP; regex_no_match reverses it', async () => {
  const s = await serve((_req, res) => res.end('status: ok\nversion: 7\n'));
  try {
    const hit = await runHttpCheck(probe(s.port, { bodyRegex: 'status: (ok|degraded)' }), never);
    assert.deepEqual([hit.code, hit.detail], ['L7OK', 'HTTP 200']);
    const miss = await runHttpCheck(probe(s.port, { bodyRegex: 'ready' }), never);
    assert.deepEqual([miss.code, miss.detail], ['L7RSP', 'HTTP 200, body does not match /ready/']);
    const reversed = await runHttpCheck(probe(s.port, { bodyRegex: 'ok', regexNoMatch: true }), never);
    assert.deepEqual([reversed.code, reversed.detail], ['L7RSP', 'HTTP 200, body matches /ok/']);
    const invalid = await runHttpCheck(probe(s.port, { bodyRegex: '(' }), never);
    assert.deepEqual([invalid.code, invalid.detail], ['L7RSP', 'invalid regex /(/']);
  } finally {
    await s.close();
  }
});

test('a regex with catastrophic backtracking fails after its budget, and the event loop runs on meanwhile', async () => {
  const s = await serve((_req, res) => res.end(`${'a'.repeat(40)}!`));
  const matcher = new RegexMatcher(80);
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 5);
  try {
    const r = await runHttpCheck(probe(s.port, { bodyRegex: '^(a+)+$' }), never, matcher);
    assert.equal(r.code, 'L7RSP');
    assert.equal(r.detail, 'regex /^(a+)+$/ took longer than 80 ms');
    assert.ok(ticks >= 3, `the event loop ticked only ${ticks} times`);
    const after = await runHttpCheck(probe(s.port, { bodyRegex: '^a+!$' }), never, matcher);
    assert.equal(after.code, 'L7OK', 'a fresh worker serves the next check');
  } finally {
    clearInterval(ticker);
    await matcher.close();
    await s.close();
  }
});

test('digest: the MD5 of the body (genhash) must match, in either case', async () => {
  const body = 'hello from rs1\n';
  const md5 = createHash('md5').update(body).digest('hex');
  const s = await serve((_req, res) => {
    // Chunked, in pieces: the digest is over the decoded body.
    res.write(body.slice(0, 5));
    res.end(body.slice(5));
  });
  try {
    const ok = await runHttpCheck(probe(s.port, { digest: md5.toUpperCase() }), never);
    assert.deepEqual([ok.code, ok.detail], ['L7OK', 'HTTP 200']);
    const wrong = '9b3a0c85a887a256d6939da88aabd8cd';
    const bad = await runHttpCheck(probe(s.port, { digest: wrong }), never);
    assert.deepEqual([bad.code, bad.detail], ['L7RSP', `HTTP 200, digest ${md5} expected ${wrong}`]);
  } finally {
    await s.close();
  }
});

test('a body over the cap fails (L7RSP) instead of being buffered; without regex or digest the body is not read', async () => {
  const big = Buffer.alloc(64 * 1024, 'x');
  const s = await serve((_req, res) => res.end(big));
  try {
    const capped = await runHttpCheck(probe(s.port, { bodyRegex: 'x', maxBodyBytes: 10_000 }), never);
    assert.deepEqual([capped.code, capped.detail], ['L7RSP', 'HTTP 200, body larger than 10000 bytes']);
    const within = await runHttpCheck(probe(s.port, { bodyRegex: 'x' }), never);
    assert.equal(within.code, 'L7OK');
    const statusOnly = await runHttpCheck(probe(s.port, { maxBodyBytes: 10 }), never);
    assert.equal(statusOnly.code, 'L7OK');
  } finally {
    await s.close();
  }
});

test('the default cap is 1 MiB', async () => {
  const big = Buffer.alloc(1_048_576 + 1, 'x');
  const s = await serve((_req, res) => res.end(big));
  try {
    const r = await runHttpCheck(probe(s.port, { digest: '00000000000000000000000000000000' }), never);
    assert.deepEqual([r.code, r.detail], ['L7RSP', 'HTTP 200, body larger than 1048576 bytes']);
  } finally {
    await s.close();
  }
});

test('a server that accepts the request and never answers is L7TOUT', async () => {
  const s = await serve(() => undefined);
  try {
    const r = await runHttpCheck(probe(s.port, { timeoutMs: 150 }), never);
    assert.deepEqual([r.code, r.detail], ['L7TOUT', 'no response within 150 ms']);
    assert.ok(r.durationMs >= 140 && r.durationMs < 1_000, `took ${r.durationMs} ms`);
  } finally {
    await s.close();
  }
});

test('a body that stops half way is L7TOUT once the whole check is out of time', async () => {
  const s = await serve((_req, res) => {
    res.writeHead(200, { 'content-length': '100' });
    res.write('partial');
  });
  try {
    const r = await runHttpCheck(probe(s.port, { timeoutMs: 150, bodyRegex: 'partial' }), never);
    assert.deepEqual([r.code, r.detail], ['L7TOUT', 'body not complete within 150 ms']);
  } finally {
    await s.close();
  }
});

test('a connect that hangs is L4TOUT, after connectTimeoutMs when that is shorter', async () => {
  const b = await blockedListener();
  try {
    const r = await runHttpCheck(probe(b.port, { timeoutMs: 2_000, connectTimeoutMs: 100 }), never);
    assert.deepEqual([r.code, r.detail], ['L4TOUT', 'connect timed out after 100 ms']);
    assert.ok(r.durationMs < 1_000);
  } finally {
    b.close();
  }
});

test('a refused connection is L4CON with the errno', async () => {
  const port = await closedPort();
  const r = await runHttpCheck(probe(port), never);
  assert.deepEqual([r.code, r.detail], ['L4CON', 'connection refused (ECONNREFUSED)']);
});

test('a connection closed without a response, or garbage instead of HTTP, is L7RSP', async () => {
  const closer = await rawServer((s) => s.once('data', () => s.end()));
  const garbage = await rawServer((s) => s.once('data', () => s.end('SSH-2.0-OpenSSH_9.2\r\n')));
  try {
    const closed = await runHttpCheck(probe(closer.port), never);
    assert.equal(closed.code, 'L7RSP');
    assert.equal(closed.detail, 'no HTTP response: connection closed by the server');
    const bad = await runHttpCheck(probe(garbage.port), never);
    assert.equal(bad.code, 'L7RSP');
    assert.match(bad.detail, /^invalid HTTP response: .*HPE_/);
  } finally {
    await closer.close();
    await garbage.close();
  }
});

test('IPv6: a check of [::1] sends Host [::1]:port', async () => {
  const s = await serve((_req, res) => res.end('ok'), { host: '::1' });
  try {
    const r = await runHttpCheck(probe(s.port, { addr: '::1' }), never);
    assert.equal(r.code, 'L7OK');
    assert.equal(s.seen[0]?.host, `[::1]:${s.port}`);
  } finally {
    await s.close();
  }
});

test('SSL_GET: HTTPS with a self-signed certificate passes (not verified, like keepalived); SNI is the Host name', async () => {
  const s = await serve((_req, res) => res.end('secure ok'), { tls: true });
  try {
    const r = await runHttpCheck(probe(s.port, { tls: true, host: 'www.example.test', bodyRegex: 'secure' }), never);
    assert.deepEqual([r.code, r.detail], ['L7OK', 'HTTP 200']);
    assert.equal(s.seen[0]?.sni, 'www.example.test');
    assert.equal(s.seen[0]?.host, 'www.example.test');
  } finally {
    await s.close();
  }
});

test('SSL_GET sni_name: an explicit SNI wins over the Host; an IP address Host sends no SNI', async () => {
  const s = await serve((_req, res) => res.end('ok'), { tls: true });
  try {
    await runHttpCheck(probe(s.port, { tls: true, host: 'www.example.test', sni: 'localhost' }), never);
    assert.equal(s.seen[0]?.sni, 'localhost');
    assert.equal(s.seen[0]?.host, 'www.example.test');
    await runHttpCheck(probe(s.port, { tls: true }), never);
    assert.equal(s.seen[1]?.sni, false);
    assert.equal(s.seen[1]?.host, `127.0.0.1:${s.port}`);
  } finally {
    await s.close();
  }
});

test('rejectUnauthorized: a self-signed certificate then fails the handshake, L6RSP', async () => {
  const s = await serve((_req, res) => res.end('ok'), { tls: true });
  try {
    const r = await runHttpCheck(probe(s.port, { tls: true, host: 'localhost', rejectUnauthorized: true }), never);
    assert.equal(r.code, 'L6RSP');
    assert.match(r.detail, /^TLS handshake failed: .*self[- ]signed/i);
    assert.equal(s.seen.length, 0);
  } finally {
    await s.close();
  }
});

test('HTTPS to a plain HTTP port is a failed handshake, L6RSP', async () => {
  const s = await serve((_req, res) => res.end('ok'));
  try {
    const r = await runHttpCheck(probe(s.port, { tls: true }), never);
    assert.equal(r.code, 'L6RSP');
    assert.match(r.detail, /^TLS handshake failed: /);
  } finally {
    await s.close();
  }
});

test('a server that never answers the ClientHello is L6TOUT', async () => {
  const silent = await rawServer(() => undefined);
  try {
    const r = await runHttpCheck(probe(silent.port, { tls: true, timeoutMs: 150 }), never);
    assert.deepEqual([r.code, r.detail], ['L6TOUT', 'TLS handshake timed out after 150 ms']);
  } finally {
    await silent.close();
  }
});

test('an abort ends a hanging check at once', async () => {
  const s = await serve(() => undefined);
  try {
    const ac = new AbortController();
    const pending = runHttpCheck(probe(s.port, { timeoutMs: 5_000 }), ac.signal);
    setTimeout(() => ac.abort(), 20);
    const r = await pending;
    assert.equal(r.detail, 'aborted');
    assert.ok(r.durationMs < 1_000);
  } finally {
    await s.close();
  }
});
