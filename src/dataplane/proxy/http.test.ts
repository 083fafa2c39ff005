import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { test } from 'node:test';
import type { DataPlane, PassiveFailure } from '../../lb/dataplane.ts';
import { createProxyDataPlane } from './index.ts';
import {
  backend,
  freePort,
  type HttpTestServer,
  httpBackend,
  httpRequest,
  program,
  refusingPort,
  until,
} from './test-support.ts';

const HTTP = { mode: 'http' as const };

/** HTTP backends on 127.0.0.2, .3, …, a proxy, and a keep-alive client agent; all closed after `fn`. */
async function lab(
  n: number,
  fn: (l: { servers: HttpTestServer[]; port: number; dp: DataPlane; agent: http.Agent }) => Promise<void>,
): Promise<void> {
  const servers: HttpTestServer[] = [];
  const dp = createProxyDataPlane();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (let i = 0; i < n; i++) servers.push(await httpBackend(`127.0.0.${i + 2}`));
    await fn({ servers, port: await freePort(), dp, agent });
  } finally {
    agent.destroy();
    await dp.close();
    await Promise.all(servers.map((s) => s.close()));
  }
}

/** Counts of each body among `bodies`. */
function tally(bodies: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const b of bodies) out[b] = (out[b] ?? 0) + 1;
  return out;
}

test('http rr: requests on one client connection spread over the backends, each over one reused connection', async () => {
  await lab(3, async ({ servers, port, dp, agent }) => {
    await dp.apply([program('web', port, servers, {}, HTTP)]);
    const bodies: string[] = [];
    for (let i = 0; i < 60; i++) {
      const r = await httpRequest(port, { agent });
      assert.equal(r.status, 200);
      bodies.push(r.body);
    }
    assert.deepEqual(
      bodies.slice(0, 3),
      servers.map((s) => s.key),
    );
    assert.deepEqual(tally(bodies), Object.fromEntries(servers.map((s) => [s.key, 20])));
    assert.deepEqual(
      servers.map((s) => s.accepted()),
      [1, 1, 1],
      'one keep-alive connection per backend',
    );
    const c = (await dp.connections()).get('web');
    for (const s of servers) assert.deepEqual(c?.get(s.key), { active: 0, inactive: 1 });
  });
});

test('http keep-alive pool: 8 concurrent clients × 25 requests open at most 8 connections per backend', async () => {
  await lab(2, async ({ servers, port, dp }) => {
    await dp.apply([program('web', port, servers, {}, HTTP)]);
    const agents = Array.from({ length: 8 }, () => new http.Agent({ keepAlive: true, maxSockets: 1 }));
    try {
      const statuses = await Promise.all(
        agents.map(async (agent) => {
          const out: number[] = [];
          for (let i = 0; i < 25; i++) out.push((await httpRequest(port, { agent })).status);
          return out;
        }),
      );
      assert.ok(statuses.flat().every((s) => s === 200));
      assert.deepEqual(
        servers.map((s) => s.requests()),
        [100, 100],
      );
      for (const s of servers) assert.ok(s.accepted() <= 8, `${s.key} accepted ${s.accepted()} connections`);
    } finally {
      for (const a of agents) a.destroy();
    }
  });
});

test('http: X-Forwarded-For is appended, X-Forwarded-Proto and -Host set; hop-by-hop headers stop both ways', async () => {
  const web = await httpBackend('127.0.0.2', (req, res) => {
    res.writeHead(200, {
      'content-type': 'application/json',
      connection: 'keep-alive, X-Internal',
      'x-internal': 'secret',
      'keep-alive': 'timeout=30',
      'x-app': 'kept',
    });
    res.end(JSON.stringify(req.headers));
  });
  const port = await freePort();
  const dp = createProxyDataPlane();
  try {
    await dp.apply([program('web', port, [web], {}, HTTP)]);
    const r = await httpRequest(port, {
      headers: {
        host: 'shop.test',
        'x-forwarded-for': '203.0.113.9',
        'x-forwarded-proto': 'https',
        connection: 'keep-alive, X-Trace',
        'x-trace': 'client-hop',
        te: 'trailers',
        'proxy-authorization': 'Basic eA==',
        'x-keep': 'yes',
      },
    });
    const seen = JSON.parse(r.body) as Record<string, string>;
    assert.equal(seen['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
    assert.equal(seen['x-forwarded-proto'], 'http');
    assert.equal(seen['x-forwarded-host'], 'shop.test');
    assert.equal(seen.host, 'shop.test');
    assert.equal(seen['x-keep'], 'yes');
    for (const h of ['x-trace', 'te', 'proxy-authorization']) assert.equal(seen[h], undefined, h);
    assert.equal(r.headers['x-app'], 'kept');
    assert.equal(r.headers['x-internal'], undefined);
    assert.notEqual(r.headers['keep-alive'], 'timeout=30');
  } finally {
    await dp.close();
    await web.close();
  }
});

test('http: GET is retried on another backend when one refuses (0 client errors); POST gets 502', async () => {
  await lab(1, async ({ servers, port, dp }) => {
    const dead = { addr: '127.0.0.9', port: await refusingPort('127.0.0.9') };
    await dp.apply([program('web', port, [dead, ...servers], {}, { ...HTTP, retries: 1, passiveFailures: 0 })]);
    const gets = [];
    for (let i = 0; i < 20; i++) gets.push(await httpRequest(port));
    assert.deepEqual(tally(gets.map((g) => `${g.status} ${g.body}`)), { [`200 ${servers[0]?.key}`]: 20 });
    const posts = [];
    for (let i = 0; i < 10; i++) posts.push((await httpRequest(port, { method: 'POST', body: 'x' })).status);
    assert.deepEqual(tally(posts.map(String)), { '200': 5, '502': 5 });
  });
});

test('http: a pooled connection the server closed is retried on a fresh one for GET, not counted; POST gets 502', async () => {
  // A server that answers the first request of each connection and closes the connection on the second.
  const server = net.createServer((s) => {
    let served = 0;
    let buf = '';
    s.on('error', () => {});
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (let i = buf.indexOf('\r\n\r\n'); i >= 0; i = buf.indexOf('\r\n\r\n')) {
        buf = buf.slice(i + 4);
        if (++served === 1) s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
        else s.destroy();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.2', r));
  const rs = { addr: '127.0.0.2', port: (server.address() as net.AddressInfo).port };
  const port = await freePort();
  const dp = createProxyDataPlane();
  const reports: PassiveFailure[] = [];
  dp.onPassiveFailure = (f) => reports.push(f);
  try {
    await dp.apply([program('web', port, [rs], {}, { ...HTTP, retries: 0, passiveFailures: 1 })]);
    for (let i = 0; i < 5; i++) {
      const r = await httpRequest(port);
      assert.deepEqual([r.status, r.body], [200, 'ok'], `GET ${i}`);
    }
    const post = await httpRequest(port, { method: 'POST' });
    assert.equal(post.status, 502);
    assert.deepEqual(reports, []);
  } finally {
    await dp.close();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('http passive health: reports once after N failures, then leaves the backend out until an apply brings it back', async () => {
  await lab(1, async ({ servers, port, dp }) => {
    const deadPort = await refusingPort('127.0.0.9');
    const dead = { addr: '127.0.0.9', port: deadPort };
    const reports: PassiveFailure[] = [];
    dp.onPassiveFailure = (f) => reports.push(f);
    const opts = { ...HTTP, retries: 0, passiveFailures: 2 };
    await dp.apply([program('web', port, [dead, ...servers], {}, opts)]);
    const first = [];
    for (let i = 0; i < 4; i++) first.push((await httpRequest(port)).status);
    assert.deepEqual(first, [502, 200, 502, 200]);
    assert.equal(reports.length, 1);
    assert.equal(reports[0]?.code, 'L4CON');
    assert.equal(reports[0]?.backend, `127.0.0.9:${deadPort}`);
    for (let i = 0; i < 6; i++) assert.equal((await httpRequest(port)).status, 200);
    await dp.apply([program('web', port, servers, {}, opts)]);
    const revived = await httpBackend('127.0.0.9', undefined, deadPort);
    try {
      await dp.apply([program('web', port, [dead, ...servers], {}, opts)]);
      const bodies = [];
      for (let i = 0; i < 4; i++) bodies.push((await httpRequest(port)).body);
      assert.deepEqual(tally(bodies), { [revived.key]: 2, [servers[0]?.key ?? '']: 2 });
    } finally {
      await revived.close();
    }
  });
});

test('http drain: weight 0 lets a response in progress and an open client connection go on; new requests go elsewhere', async () => {
  let release: () => void = () => {};
  const released = new Promise<void>((r) => {
    release = r;
  });
  const slow = await httpBackend('127.0.0.2', (req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    if (req.url === '/slow') {
      res.write('first half, ');
      void released.then(() => res.end('second half'));
    } else {
      res.end('a');
    }
  });
  const other = await httpBackend('127.0.0.3');
  const port = await freePort();
  const dp = createProxyDataPlane();
  const idleClient = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    await dp.apply([program('web', port, [slow, other], {}, HTTP)]);
    const inFlight = httpRequest(port, { path: '/slow' });
    await until(() => slow.requests() === 1, 5_000, 'slow request at the backend');
    // An idle keep-alive client connection, opened before the drain (rr: this one goes to `other`).
    assert.equal((await httpRequest(port, { agent: idleClient })).body, other.key);
    await dp.apply([program('web', port, [backend(slow, 0), backend(other)], {}, HTTP)]);
    for (let i = 0; i < 4; i++) assert.equal((await httpRequest(port)).body, other.key);
    const again = await httpRequest(port, { agent: idleClient });
    assert.deepEqual([again.status, again.body, again.reused], [200, other.key, true]);
    assert.deepEqual((await dp.connections()).get('web')?.get(slow.key), { active: 1, inactive: 0 });
    release();
    const done = await inFlight;
    assert.deepEqual([done.status, done.body], [200, 'first half, second half']);
  } finally {
    release();
    idleClient.destroy();
    await dp.close();
    await Promise.all([slow.close(), other.close()]);
  }
});

test('http: the sorry server answers while the desired state names it; without any backend the answer is 503', async () => {
  await lab(2, async ({ servers, port, dp }) => {
    const [a, sorry] = servers as [HttpTestServer, HttpTestServer];
    await dp.apply([program('web', port, [backend(a, 0)], { sorry: { addr: sorry.addr, port: sorry.port } }, HTTP)]);
    assert.equal((await httpRequest(port)).body, sorry.key);
    await dp.apply([program('web', port, [], {}, HTTP)]);
    const r = await httpRequest(port);
    assert.equal(r.status, 503);
    assert.match(r.body, /no server is available/);
  });
});

test('http: a server that does not answer within the idle timeout gets the client a 504', async () => {
  const mute = await httpBackend('127.0.0.2', () => {});
  const port = await freePort();
  const dp = createProxyDataPlane();
  try {
    await dp.apply([program('web', port, [mute], {}, { ...HTTP, idleTimeoutMs: 300 })]);
    const r = await httpRequest(port, { timeoutMs: 5_000 });
    assert.equal(r.status, 504);
  } finally {
    await dp.close();
    await mute.close();
  }
});

test('http bodies stream both ways: a 1 MiB upload with a length, a chunked upload, a 4 MiB download', async () => {
  const big = Buffer.alloc(4 * 1024 * 1024, 'z');
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const web = await httpBackend('127.0.0.2', (req, res) => {
    if (req.url === '/download') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      // Several writes without a length: a chunked response.
      for (let i = 0; i < 4; i++) res.write(big.subarray(i * 1024 * 1024, (i + 1) * 1024 * 1024));
      res.end();
      return;
    }
    const h = createHash('sha256');
    let n = 0;
    req.on('data', (d: Buffer) => {
      h.update(d);
      n += d.length;
    });
    req.on('end', () => res.end(`${n} ${h.digest('hex')} ${req.headers['transfer-encoding'] ?? '-'}`));
  });
  const port = await freePort();
  const dp = createProxyDataPlane();
  try {
    await dp.apply([program('web', port, [web], {}, HTTP)]);
    const upload = Buffer.alloc(1024 * 1024, 'u');
    const r1 = await httpRequest(port, { method: 'PUT', body: upload });
    assert.equal(r1.body, `${upload.length} ${sha(upload)} -`);
    const chunked = await new Promise<string>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/' }, (res) => {
        let b = '';
        res.on('data', (d: Buffer) => {
          b += d;
        });
        res.on('end', () => resolve(b));
      });
      req.on('error', reject);
      for (let i = 0; i < 5; i++) req.write(upload.subarray(0, 100_000));
      req.end();
    });
    assert.equal(chunked, `500000 ${sha(Buffer.alloc(500_000, 'u'))} chunked`);
    const down = await new Promise<Buffer>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: '/download' }, (res) => {
          const parts: Buffer[] = [];
          res.on('data', (d: Buffer) => parts.push(d));
          res.on('end', () => resolve(Buffer.concat(parts)));
        })
        .on('error', reject);
    });
    assert.equal(down.length, big.length);
    assert.equal(sha(down), sha(big));
  } finally {
    await dp.close();
    await web.close();
  }
});

test('http: HEAD, 204 and 304 carry no body and keep the connections usable', async () => {
  const web = await httpBackend('127.0.0.2', (req, res) => {
    if (req.url === '/204') res.writeHead(204).end();
    else if (req.url === '/304') res.writeHead(304, { etag: '"x"' }).end();
    else res.writeHead(200, { 'content-length': '5' }).end(req.method === 'HEAD' ? undefined : 'hello');
  });
  const port = await freePort();
  const dp = createProxyDataPlane();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    await dp.apply([program('web', port, [web], {}, HTTP)]);
    const head = await httpRequest(port, { method: 'HEAD', agent });
    assert.deepEqual([head.status, head.body, head.headers['content-length']], [200, '', '5']);
    assert.deepEqual([(await httpRequest(port, { path: '/204', agent })).status], [204]);
    const nm = await httpRequest(port, { path: '/304', agent });
    assert.deepEqual([nm.status, nm.headers.etag], [304, '"x"']);
    const get = await httpRequest(port, { agent });
    assert.deepEqual([get.status, get.body, get.reused], [200, 'hello', true]);
    assert.equal(web.accepted(), 1);
  } finally {
    agent.destroy();
    await dp.close();
    await web.close();
  }
});

test('http: an HTTP/1.0 request without Host reaches the server with its address as Host', async () => {
  await lab(1, async ({ servers, port, dp }) => {
    await dp.apply([program('web', port, servers, {}, HTTP)]);
    const raw = await new Promise<string>((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => s.write('GET /x HTTP/1.0\r\n\r\n'));
      let buf = '';
      s.on('data', (d: Buffer) => {
        buf += d;
      });
      s.on('close', () => resolve(buf));
      s.on('error', reject);
    });
    assert.match(raw, /^HTTP\/1\.1 200 OK\r\n/);
    assert.equal(servers[0]?.lastHeaders().host, servers[0]?.key);
  });
});

test('http: a server that dies in the middle of a response cuts the client off; the proxy carries on', async () => {
  const web = await httpBackend('127.0.0.2', (req, res) => {
    if (req.url === '/cut') {
      res.writeHead(200, { 'content-length': '100' });
      res.write('only part');
      setImmediate(() => req.socket.destroy());
    } else {
      res.end('fine');
    }
  });
  const port = await freePort();
  const dp = createProxyDataPlane();
  try {
    await dp.apply([program('web', port, [web], {}, HTTP)]);
    await assert.rejects(httpRequest(port, { path: '/cut' }));
    assert.equal((await httpRequest(port)).body, 'fine');
  } finally {
    await dp.close();
    await web.close();
  }
});

test('http: a malformed response is a 502', async () => {
  const bad = net.createServer((s) => {
    s.on('error', () => {});
    s.once('data', () => s.end('HTTP/1.1 abc\r\n\r\n'));
  });
  await new Promise<void>((r) => bad.listen(0, '127.0.0.2', r));
  const web = await httpBackend('127.0.0.3');
  const [p1, p2] = [await freePort(), await freePort()];
  const dp = createProxyDataPlane();
  try {
    const badRs = { addr: '127.0.0.2', port: (bad.address() as net.AddressInfo).port };
    await dp.apply([program('bad', p1, [badRs], {}, HTTP), program('web', p2, [web], {}, HTTP)]);
    assert.equal((await httpRequest(p1)).status, 502);
    assert.equal((await httpRequest(p2)).status, 200);
  } finally {
    await dp.close();
    await web.close();
    await new Promise<void>((r) => bad.close(() => r()));
  }
});

test('http: 1,000 keep-alive requests during an apply loop all succeed (the listener and pools stay)', async () => {
  await lab(3, async ({ servers, port, dp }) => {
    const deadline = Date.now() + 60_000;
    const variants = [
      servers,
      [servers[0], servers[1]],
      [
        backend(servers[0] as HttpTestServer, 0),
        backend(servers[1] as HttpTestServer),
        backend(servers[2] as HttpTestServer, 2),
      ],
    ].map((b) => program('web', port, b as HttpTestServer[], {}, HTTP));
    await dp.apply([variants[0] as never]);
    let stop = false;
    let applies = 0;
    const loop = (async () => {
      while (!stop && Date.now() < deadline) {
        await dp.apply([variants[applies % variants.length] as never]);
        applies++;
        await new Promise((r) => setImmediate(r));
      }
    })();
    const agents = Array.from({ length: 8 }, () => new http.Agent({ keepAlive: true, maxSockets: 1 }));
    let next = 0;
    const failures: string[] = [];
    try {
      await Promise.all(
        agents.map(async (agent) => {
          while (next < 1_000 && Date.now() < deadline) {
            next++;
            try {
              const r = await httpRequest(port, { agent, timeoutMs: 5_000 });
              if (r.status !== 200) failures.push(`${r.status} ${r.body}`);
            } catch (e) {
              failures.push(String(e));
            }
          }
        }),
      );
    } finally {
      stop = true;
      await loop;
      for (const a of agents) a.destroy();
    }
    assert.deepEqual(failures.slice(0, 5), []);
    assert.equal(next, 1_000);
    assert.ok(applies > 10, `only ${applies} applies ran`);
  });
});

test('http: a removed service closes idle client connections at once and lets a response in progress finish', async () => {
  let release: () => void = () => {};
  const released = new Promise<void>((r) => {
    release = r;
  });
  const web = await httpBackend('127.0.0.2', (req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    if (req.url === '/slow') void released.then(() => res.end('late'));
    else res.end('quick');
  });
  const port = await freePort();
  const dp = createProxyDataPlane({ closeGraceMs: 10_000 });
  const idle = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const busy = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    await dp.apply([program('web', port, [web], {}, HTTP)]);
    assert.equal((await httpRequest(port, { agent: idle })).body, 'quick');
    const idleSocket = Object.values(idle.freeSockets)[0]?.[0];
    assert.ok(idleSocket);
    const idleClosed = new Promise<void>((r) => idleSocket.once('close', () => r()));
    const inFlight = httpRequest(port, { path: '/slow', agent: busy });
    await until(() => web.requests() === 2, 5_000, 'slow request at the backend');
    await dp.apply([]);
    await idleClosed;
    release();
    const done = await inFlight;
    assert.deepEqual([done.status, done.body, done.headers.connection], [200, 'late', 'close']);
    await until(async () => !(await dp.connections()).has('web'), 5_000, 'service gone');
  } finally {
    release();
    idle.destroy();
    busy.destroy();
    await dp.close();
    await web.close();
  }
});

test('http over IPv6: listens on ::1, forwards to [::1] servers, and names the client ::1', async () => {
  const web = await httpBackend('::1');
  const port = await freePort('::1');
  const dp = createProxyDataPlane();
  try {
    await dp.apply([program('v6', port, [web], { vip: '::1', family: 6 }, { ...HTTP, listen: '::1' })]);
    const r = await httpRequest(port, { host: '::1' });
    assert.deepEqual([r.status, r.body], [200, `[::1]:${web.port}`]);
    assert.equal(web.lastHeaders()['x-forwarded-for'], '::1');
    assert.ok((await dp.connections()).get('v6')?.has(`[::1]:${web.port}`));
  } finally {
    await dp.close();
    await web.close();
  }
});

test('http: the response carries the server’s headers once (one Date, repeated Set-Cookie kept)', async () => {
  const web = await httpBackend('127.0.0.2', (_req, res) => {
    res.setHeader('set-cookie', ['a=1', 'b=2']);
    res.end('x');
  });
  const port = await freePort();
  const dp = createProxyDataPlane();
  try {
    await dp.apply([program('web', port, [web], {}, HTTP)]);
    const raw = await new Promise<string>((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port }, () =>
        s.write('GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'),
      );
      let buf = '';
      s.on('data', (d: Buffer) => {
        buf += d;
      });
      s.on('close', () => resolve(buf));
      s.on('error', reject);
    });
    const head = raw.slice(0, raw.indexOf('\r\n\r\n'));
    assert.equal(head.match(/^date:/gim)?.length, 1, head);
    assert.equal(head.match(/^set-cookie:/gim)?.length, 2, head);
    assert.equal(head.match(/^connection:/gim)?.length, 1, head);
  } finally {
    await dp.close();
    await web.close();
  }
});

test('http keep-alive pool limits: at most maxSockets connections per server (the rest wait), maxFreeSockets kept idle', async () => {
  let inFlight = 0;
  let peak = 0;
  const web = await httpBackend('127.0.0.2', (_req, res) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    setTimeout(() => {
      inFlight--;
      res.end('done');
    }, 20);
  });
  const port = await freePort();
  const dp = createProxyDataPlane({ upstream: { maxSockets: 2, maxFreeSockets: 1 } });
  try {
    await dp.apply([program('web', port, [web], {}, HTTP)]);
    const all = await Promise.all(Array.from({ length: 8 }, () => httpRequest(port)));
    assert.ok(all.every((r) => r.status === 200 && r.body === 'done'));
    assert.equal(peak, 2);
    assert.equal(web.accepted(), 2);
    await until(async () => (await dp.connections()).get('web')?.get(web.key)?.inactive === 1, 5_000, 'one idle');
    await until(() => web.open() === 1, 5_000, 'the second connection closed');
  } finally {
    await dp.close();
    await web.close();
  }
});
