// HTTP conformance of the proxy beyond framing (smuggling.test.ts has that): WebSocket / Upgrade passthrough, a
// server that fails in the middle of a response, the client and server timeouts (slowloris included), half-closed
// clients, header limits, deep pipelining, and connection limits. Real sockets on 127.0.0.x, raw clients writing
// exact bytes, raw backends recording exactly what they got.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import type { DataPlane, ProxySettings } from '../../lb/dataplane.ts';
import { FdBudget } from './fd-budget.ts';
import { createProxyDataPlane } from './index.ts';
import { parseResponses, rawRequest, recordingBackend } from './raw-http.ts';
import { freePort, program, until } from './test-support.ts';

const HTTP = { mode: 'http' as const };

/** `p`, or a failure naming `what` after `ms` (an upper bound, never a wait). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

/** A raw backend: `onHead(head, socket, received)` runs once per connection when its first head is complete. */
async function rawServer(
  addr: string,
  onHead: (head: string, s: net.Socket, c: { received: () => Buffer }) => void,
): Promise<{ port: number; conns: { received: () => Buffer; closed: Promise<void> }[]; close: () => Promise<void> }> {
  const conns: { received: () => Buffer; closed: Promise<void> }[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    const parts: Buffer[] = [];
    const c = {
      received: () => Buffer.concat(parts),
      closed: new Promise<void>((r) => s.once('close', () => r())),
    };
    conns.push(c);
    let seen = false;
    s.on('data', (d: Buffer) => {
      parts.push(d);
      const all = c.received();
      const end = all.indexOf('\r\n\r\n');
      if (!seen && end >= 0) {
        seen = true;
        onHead(all.toString('latin1', 0, end + 4), s, c);
      }
    });
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, addr, r));
  return {
    port: (server.address() as net.AddressInfo).port,
    conns,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** A proxy for one service in front of `rs`; closed after `fn`. */
async function withProxy(
  rs: { addr?: string; port: number },
  proxy: Partial<ProxySettings>,
  fn: (port: number, dp: DataPlane) => Promise<void>,
  opts: Parameters<typeof createProxyDataPlane>[0] = {},
): Promise<void> {
  const port = await freePort();
  const dp = createProxyDataPlane(opts);
  try {
    await dp.apply([
      program('web', port, [{ addr: rs.addr ?? '127.0.0.2', port: rs.port }], {}, { ...HTTP, ...proxy }),
    ]);
    await fn(port, dp);
  } finally {
    await dp.close();
  }
}

/** A raw client socket that collects what it reads; `closed` resolves with how the proxy ended it. */
function client(port: number) {
  const s = net.connect({ host: '127.0.0.1', port });
  const parts: Buffer[] = [];
  let reset = false;
  s.on('data', (d: Buffer) => parts.push(d));
  s.on('error', (e: Error & { code?: string }) => {
    if (e.code === 'ECONNRESET') reset = true;
  });
  const closed = new Promise<{ reset: boolean; at: number }>((r) =>
    s.once('close', () => r({ reset, at: Date.now() })),
  );
  const connected = new Promise<void>((r) => s.once('connect', () => r()));
  return { s, received: () => Buffer.concat(parts).toString('latin1'), closed, connected };
}

const WS_HEAD =
  'GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';

test('websocket: after a real 101 the proxy is a byte tunnel; the client’s early bytes reach the server only after it', async () => {
  let beforeSwitch = '';
  const rs = await rawServer('127.0.0.2', (head, s, c) => {
    // Give a careless proxy time to pass the client's early bytes on before the switch.
    setTimeout(() => {
      beforeSwitch = c.received().toString('latin1');
      s.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\nserver-first',
      );
      s.on('data', (d: Buffer) => s.write(Buffer.concat([Buffer.from('echo:'), d])));
      void head;
    }, 100);
  });
  try {
    await withProxy(rs, { idleTimeoutMs: 5_000 }, async (port) => {
      const c = client(port);
      await c.connected;
      c.s.write(`${WS_HEAD}early`);
      await until(() => c.received().includes('server-first'), 5_000, 'the 101 and the first server bytes');
      const text = c.received();
      assert.match(text, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
      assert.match(text, /\r\nUpgrade: websocket\r\n/i);
      assert.match(text, /\r\nConnection: Upgrade\r\n/);
      assert.match(text, /\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/);
      assert.ok(
        beforeSwitch.endsWith('\r\n\r\n'),
        `the server got bytes before its 101: ${JSON.stringify(beforeSwitch)}`,
      );
      assert.match(beforeSwitch, /^GET \/ws HTTP\/1\.1\r\n/);
      assert.match(beforeSwitch, /\r\nUpgrade: websocket\r\n/);
      assert.match(beforeSwitch, /\r\nConnection: Upgrade\r\n/);
      assert.match(beforeSwitch, /\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n/);
      await until(() => c.received().includes('echo:early'), 5_000, 'the early bytes, after the switch');
      c.s.write(Buffer.from('\x81\x05hello', 'latin1'));
      await until(() => c.received().includes('echo:\x81\x05hello'), 5_000, 'a frame both ways');
      c.s.end();
      await within(c.closed, 20_000, 'c closed');
    });
  } finally {
    await rs.close();
  }
});

test('websocket: a server that does not switch (403) is relayed and the connection closed; no client byte after the head reaches it', async () => {
  const rs = await rawServer('127.0.0.2', (_head, s) => {
    s.write('HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nnope\n');
  });
  try {
    await withProxy(rs, {}, async (port) => {
      const c = client(port);
      await c.connected;
      c.s.write(`${WS_HEAD}GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n`);
      const end = await within(c.closed, 5_000, 'the client connection closed');
      assert.equal(end.reset, false);
      const r = parseResponses(Buffer.from(c.received(), 'latin1'));
      assert.deepEqual(
        r.responses.map((x) => [x.status, x.body]),
        [[403, 'nope\n']],
      );
      assert.match(c.received(), /\r\nConnection: close\r\n/);
      await within(rs.conns[0]?.closed ?? Promise.resolve(), 5_000, 'the server connection closed');
      const got = rs.conns[0]?.received().toString('latin1') ?? '';
      assert.ok(got.endsWith('\r\n\r\n') && !got.includes('smuggled'), JSON.stringify(got));
      assert.equal(rs.conns.length, 1);
    });
  } finally {
    await rs.close();
  }
});

test('websocket: a 101 to a request that did not ask for it is a 502; an HTTP/1.0 Upgrade is a plain request', async () => {
  const rs = await rawServer('127.0.0.2', (head, s) => {
    if (head.startsWith('GET /plain')) s.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n');
    else
      s.end(
        `HTTP/1.1 200 OK\r\nContent-Length: ${head.includes('Upgrade') ? 3 : 2}\r\n\r\n${head.includes('Upgrade') ? 'bad' : 'ok'}`,
      );
  });
  try {
    await withProxy(rs, {}, async (port) => {
      const a = await rawRequest(port, ['GET /plain HTTP/1.1\r\nHost: a\r\n\r\n'], { expect: 1 });
      assert.deepEqual(
        a.responses.map((r) => r.status),
        [502],
      );
      const b = await rawRequest(port, [
        'GET /old HTTP/1.0\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
      ]);
      assert.deepEqual(
        b.responses.map((r) => [r.status, r.body]),
        [[200, 'ok']],
      );
      assert.equal(b.closed, true);
    });
  } finally {
    await rs.close();
  }
});

test('websocket: a quiet tunnel is cut after the idle timeout', async () => {
  const rs = await rawServer('127.0.0.2', (_h, s) =>
    s.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'),
  );
  try {
    await withProxy(rs, { idleTimeoutMs: 300 }, async (port) => {
      const c = client(port);
      await c.connected;
      const t0 = Date.now();
      c.s.write(WS_HEAD);
      const end = await within(c.closed, 20_000, 'c closed');
      assert.match(c.received(), /^HTTP\/1\.1 101 /);
      assert.ok(end.at - t0 >= 250, `cut after ${end.at - t0} ms`);
      await within(rs.conns[0]?.closed ?? Promise.resolve(), 5_000, 'the server connection closed');
    });
  } finally {
    await rs.close();
  }
});

test('regression: a server closing mid-body gives the client the head and the partial body, then a close that is no clean end', async () => {
  const rs = await rawServer('127.0.0.2', (head, s) => {
    if (head.startsWith('GET /length')) s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part');
    else if (head.startsWith('GET /chunked'))
      s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n9\r\nonly part\r\n4\r\nab');
    else if (head.startsWith('GET /head')) s.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\nX-Head: 1\r\n\r\n');
    else s.write('HTTP/1.1 200 OK\r\n\r\nclose-delimited part');
    setTimeout(() => (head.includes('reset') ? s.resetAndDestroy() : s.destroy()), 50);
  });
  try {
    await withProxy(rs, {}, async (port) => {
      const length = await rawRequest(port, ['GET /length HTTP/1.1\r\nHost: a\r\n\r\n']);
      assert.equal(length.closed, true);
      assert.match(
        length.raw.toString('latin1'),
        /^HTTP\/1\.1 200 OK\r\n[\s\S]*Content-Length: 100\r\n[\s\S]*\r\n\r\nonly part$/,
      );
      const chunked = await rawRequest(port, ['GET /chunked HTTP/1.1\r\nHost: a\r\n\r\n']);
      const text = chunked.raw.toString('latin1');
      assert.match(text, /^HTTP\/1\.1 200 OK\r\n[\s\S]*Transfer-Encoding: chunked\r\n/);
      assert.match(text, /only part/);
      assert.ok(!text.endsWith('0\r\n\r\n'), `the message must not look complete: ${JSON.stringify(text)}`);
      assert.equal(chunked.clean, false);
      const head = await rawRequest(port, ['GET /head HTTP/1.1\r\nHost: a\r\n\r\n']);
      assert.match(head.raw.toString('latin1'), /^HTTP\/1\.1 200 OK\r\n[\s\S]*X-Head: 1\r\n[\s\S]*\r\n\r\n$/);
      // A close-delimited body cut by a reset (an HTTP/1.0 client): what came is passed on, then the close.
      const old = await rawRequest(port, ['GET /reset HTTP/1.0\r\nHost: a\r\n\r\n']);
      assert.match(old.raw.toString('latin1'), /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nclose-delimited part$/);
      assert.equal(old.closed, true);
    });
  } finally {
    await rs.close();
  }
});

test('regression: slowloris, one header byte every 2 s, is cut after the header timeout (idle_timeout 5s, and the defaults)', async (t) => {
  const backend = await recordingBackend('127.0.0.2');
  const [p5, pd] = [await freePort(), await freePort()];
  const dp = createProxyDataPlane();
  try {
    await dp.apply([
      program('five', p5, [backend], {}, { ...HTTP, idleTimeoutMs: 5_000 }),
      program('dflt', pd, [backend], {}, { ...HTTP, idleTimeoutMs: 60_000 }),
    ]);
    const slowloris = async (port: number) => {
      const c = client(port);
      await c.connected;
      const t0 = Date.now();
      const head = 'GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ' + 'x'.repeat(100);
      let i = 0;
      const drip = setInterval(() => {
        if (!c.s.destroyed) c.s.write(head[i++ % head.length] as string);
      }, 2_000);
      c.s.write(head[i++] as string);
      const end = await within(c.closed, 20_000, 'c closed');
      clearInterval(drip);
      return { ms: end.at - t0, text: c.received() };
    };
    const [five, dflt] = await Promise.all([slowloris(p5), slowloris(pd)]);
    t.diagnostic(`cut after ${five.ms} ms (idle_timeout 5s), ${dflt.ms} ms (defaults: client_header_timeout 10s)`);
    assert.match(five.text, /^HTTP\/1\.1 408 /);
    assert.match(dflt.text, /^HTTP\/1\.1 408 /);
    assert.ok(five.ms >= 4_900 && five.ms < 8_000, `idle_timeout 5s: cut after ${five.ms} ms`);
    assert.ok(dflt.ms >= 9_900 && dflt.ms < 13_000, `defaults: cut after ${dflt.ms} ms`);
    assert.equal(backend.requests.length, 0);
  } finally {
    await dp.close();
    await backend.close();
  }
});

test('client timeouts: a paused request body gets 408 and its partial request is never completed upstream; idle keep-alive connections close', async () => {
  const backend = await recordingBackend('127.0.0.2');
  try {
    await withProxy(
      backend,
      { clientBodyTimeoutMs: 300, keepAliveTimeoutMs: 400, clientHeaderTimeoutMs: 5_000 },
      async (port) => {
        const c = client(port);
        await c.connected;
        const t0 = Date.now();
        c.s.write('POST /slow HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nfirst part');
        const end = await within(c.closed, 20_000, 'c closed');
        assert.match(c.received(), /^HTTP\/1\.1 408 /);
        assert.ok(end.at - t0 >= 250, `cut after ${end.at - t0} ms`);
        // The same with a chunked body that never ends: nothing of it reaches the server.
        const d = client(port);
        await d.connected;
        d.s.write('POST /slow2 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
        await within(d.closed, 20_000, 'd closed');
        assert.match(d.received(), /^HTTP\/1\.1 408 /);
        const ka = client(port);
        await ka.connected;
        const t1 = Date.now();
        ka.s.write('GET /ka HTTP/1.1\r\nHost: a\r\n\r\n');
        const kaEnd = await within(ka.closed, 20_000, 'ka closed');
        assert.match(ka.received(), /^HTTP\/1\.1 200 /);
        assert.ok(kaEnd.at - t1 >= 350, `keep-alive closed after ${kaEnd.at - t1} ms`);
        await backend.settled();
        assert.deepEqual(
          backend.requests.map((r) => r.target),
          ['/ka'],
        );
        assert.deepEqual(backend.violations, []);
      },
    );
  } finally {
    await backend.close();
  }
});

test('server timeouts: no response head within response_timeout is a 504; a body that stalls after it is cut', async () => {
  const rs = await rawServer('127.0.0.2', (head, s) => {
    if (head.startsWith('GET /stall')) s.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
  });
  try {
    await withProxy(rs, { responseTimeoutMs: 300, idleTimeoutMs: 600 }, async (port) => {
      const t0 = Date.now();
      const quiet = await rawRequest(port, ['GET /quiet HTTP/1.1\r\nHost: a\r\n\r\n'], { expect: 1 });
      assert.deepEqual(
        quiet.responses.map((r) => r.status),
        [504],
      );
      assert.match(quiet.responses[0]?.body ?? '', /within 300 ms/);
      assert.ok(Date.now() - t0 >= 250);
      const stall = await rawRequest(port, ['GET /stall HTTP/1.1\r\nHost: a\r\n\r\n']);
      assert.equal(stall.closed, true);
      assert.match(stall.raw.toString('latin1'), /\r\n\r\nabc$/);
    });
  } finally {
    await rs.close();
  }
});

test('a client that half-closes after its request still gets the answer', async () => {
  const backend = await recordingBackend('127.0.0.2');
  try {
    await withProxy(backend, {}, async (port) => {
      const r = await rawRequest(port, ['GET /half HTTP/1.1\r\nHost: a\r\nX-Tag: h\r\n\r\n'], { halfClose: true });
      assert.deepEqual(
        r.responses.map((x) => [x.status, x.tag]),
        [[200, 'h']],
      );
      assert.equal(r.closed, true);
    });
  } finally {
    await backend.close();
  }
});

test('header limits are settings: max_header_bytes and max_headers answer 431, changed in place by an apply', async () => {
  const backend = await recordingBackend('127.0.0.2');
  const port = await freePort();
  const dp = createProxyDataPlane();
  const prog = (over: Partial<ProxySettings>) => program('web', port, [backend], {}, { ...HTTP, ...over });
  try {
    await dp.apply([prog({ maxHeaderBytes: 4_096, maxHeaders: 10 })]);
    const big = `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'b'.repeat(5_000)}\r\n\r\n`;
    const many = `GET / HTTP/1.1\r\nHost: a\r\n${'X-A: 1\r\n'.repeat(10)}\r\n`;
    assert.deepEqual(
      (await rawRequest(port, [big])).responses.map((r) => r.status),
      [431],
    );
    assert.deepEqual(
      (await rawRequest(port, [many])).responses.map((r) => r.status),
      [431],
    );
    await dp.apply([prog({ maxHeaderBytes: 8_192, maxHeaders: 20 })]);
    assert.deepEqual(
      (await rawRequest(port, [big], { expect: 1 })).responses.map((r) => r.status),
      [200],
    );
    assert.deepEqual(
      (await rawRequest(port, [many], { expect: 1 })).responses.map((r) => r.status),
      [200],
    );
  } finally {
    await dp.close();
    await backend.close();
  }
});

test('deep pipelining: 300 requests in one write are answered in order, one upstream connection', async () => {
  const backend = await recordingBackend('127.0.0.2');
  try {
    await withProxy(backend, {}, async (port) => {
      const n = 300;
      const bytes = Array.from({ length: n }, (_, i) => `GET /${i} HTTP/1.1\r\nHost: a\r\nX-Tag: p${i}\r\n\r\n`).join(
        '',
      );
      const r = await rawRequest(port, [bytes], { expect: n, timeoutMs: 20_000 });
      assert.deepEqual(
        r.responses.map((x) => x.tag),
        Array.from({ length: n }, (_, i) => `p${i}`),
      );
      assert.equal(backend.accepted(), 1);
    });
  } finally {
    await backend.close();
  }
});

test('max_connections: connections over the limit are refused at once; the other service and the count recover', async () => {
  const backend = await recordingBackend('127.0.0.2');
  const [pa, pb] = [await freePort(), await freePort()];
  const logs: string[] = [];
  const dp = createProxyDataPlane({ log: (l) => logs.push(l) });
  try {
    await dp.apply([
      program('a', pa, [backend], {}, { ...HTTP, maxConnections: 3 }),
      program('b', pb, [backend], {}, { ...HTTP, maxConnections: 3 }),
    ]);
    const slow = await Promise.all(
      [1, 2, 3].map(async () => {
        const c = client(pa);
        await c.connected;
        c.s.write('GET / HTTP/1.1\r\n');
        return c;
      }),
    );
    const t0 = Date.now();
    const over = client(pa);
    const end = await within(over.closed, 20_000, 'over closed');
    assert.ok(end.at - t0 < 2_000, `refused after ${end.at - t0} ms`);
    assert.equal(over.received(), '');
    assert.ok(
      logs.some((l) => /service a: max_connections \(3\) reached/.test(l)),
      logs.join('\n'),
    );
    const b = await rawRequest(pb, ['GET /b HTTP/1.1\r\nHost: a\r\n\r\n'], { expect: 1 });
    assert.deepEqual(
      b.responses.map((r) => r.status),
      [200],
    );
    slow[0]?.s.destroy();
    if (slow[0]) await within(slow[0].closed, 5_000, 'slow client closed');
    await until(
      async () => (await rawRequest(pa, ['GET /a HTTP/1.1\r\nHost: a\r\n\r\n'], { expect: 1 })).responses.length === 1,
      5_000,
      'a slot free again',
    );
    for (const c of slow) c.s.destroy();
  } finally {
    await dp.close();
    await backend.close();
  }
});

test('the file-descriptor budget is shared: when slow clients spend it, new connections are refused at once, none is lost', async () => {
  const backend = await recordingBackend('127.0.0.2');
  const [pa, pb] = [await freePort(), await freePort()];
  // 10 units: 5 client connections for the whole process, less the idle pooled connections.
  const budget = new FdBudget(10, 10);
  const dp = createProxyDataPlane({ fdBudget: budget });
  try {
    await dp.apply([
      program('a', pa, [backend], {}, { ...HTTP, maxConnections: 100 }),
      program('b', pb, [backend], {}, { ...HTTP, maxConnections: 100 }),
    ]);
    const held = [];
    for (let i = 0; i < 5; i++) {
      const c = client(pa);
      await c.connected;
      c.s.write('G');
      held.push(c);
    }
    await until(() => budget.used === 10, 5_000, 'the budget spent');
    const refused = client(pb);
    await within(refused.closed, 20_000, 'refused closed');
    assert.equal(refused.received(), '');
    for (const c of held) c.s.destroy();
    await until(() => budget.used === 0, 5_000, 'units given back');
    const b = await rawRequest(pb, ['GET /b HTTP/1.1\r\nHost: a\r\n\r\n'], { expect: 1 });
    assert.deepEqual(
      b.responses.map((r) => r.status),
      [200],
    );
    // Its pooled connection keeps one unit while idle.
    await until(() => budget.used === 1, 5_000, 'one idle pooled connection');
  } finally {
    await dp.close();
    await backend.close();
  }
});
