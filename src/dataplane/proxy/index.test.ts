import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { TandemError } from '../../core/errors.ts';
import { createProxyDataPlane } from './index.ts';
import {
  backend,
  echo,
  freePort,
  httpRequest,
  program,
  readLine,
  type TestServer,
  tcpBackend,
  tcpGreeting,
  tcpOpen,
  until,
} from './test-support.ts';

/** Whether a TCP connect to `port` is refused. */
async function refused(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (e: Error & { code?: string }) => resolve(e.code === 'ECONNREFUSED'));
  });
}

function rejectsWith(code: string, message?: RegExp): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof TandemError, String(e));
    assert.equal(e.code, code);
    if (message) assert.match(e.message, message);
    return true;
  };
}

async function servers(n: number): Promise<TestServer[]> {
  const out: TestServer[] = [];
  for (let i = 0; i < n; i++) out.push(await tcpBackend(`127.0.0.${i + 2}`));
  return out;
}

test('apply reports what it added, changed and removed; an unchanged service is not reported', async () => {
  const rs = await servers(2);
  const [p1, p2] = [await freePort(), await freePort()];
  const dp = createProxyDataPlane();
  try {
    let r = await dp.apply([program('a', p1, rs), program('b', p2, rs)]);
    assert.deepEqual([r.added, r.changed, r.removed], [['a', 'b'], [], []]);
    assert.ok(r.tookMs >= 0);
    r = await dp.apply([program('a', p1, rs), program('b', p2, [rs[0] as TestServer])]);
    assert.deepEqual([r.added, r.changed, r.removed], [[], ['b'], []]);
    r = await dp.apply([program('a', p1, rs)]);
    assert.deepEqual([r.added, r.changed, r.removed], [[], [], ['b']]);
    assert.equal(await refused(p2), true);
    assert.equal(await tcpGreeting(p1), rs[0]?.key);
  } finally {
    await dp.close();
    await Promise.all(rs.map((s) => s.close()));
  }
});

test('what the proxy cannot carry is refused before anything changes: udp, dr, port 0, no settings, twice', async () => {
  const rs = await servers(1);
  const port = await freePort();
  const dp = createProxyDataPlane();
  try {
    await dp.apply([program('a', port, rs)]);
    const other = await freePort();
    const bad = [
      [program('u', other, rs, { protocol: 'udp' }), 'TND_PROXY_UNSUPPORTED', /service u: the proxy carries TCP only/],
      [program('d', other, rs, { method: 'dr' }), 'TND_PROXY_UNSUPPORTED', /service d: method dr needs the kernel/],
      [program('z', 0, rs), 'TND_PROXY_UNSUPPORTED', /service z: port 0 \(every port\) cannot be proxied/],
      [{ ...program('n', other, rs), proxy: undefined }, 'TND_PROXY_SETTINGS', /service n: no proxy settings/],
      [program('l', other, rs, {}, { listen: 'localhost' }), 'TND_PROXY_SETTINGS', /listen must be an IP address/],
      [program('t', other, rs, {}, { idleTimeoutMs: 0 }), 'TND_PROXY_SETTINGS', /idleTimeoutMs/],
      [program('p', other, [{ addr: '127.0.0.2', port: 0 }]), 'TND_PROXY_SETTINGS', /real server 127.0.0.2:0 needs/],
    ] as const;
    for (const [p, code, message] of bad) {
      await assert.rejects(dp.apply([program('a', port, []), p]), rejectsWith(code, message));
    }
    await assert.rejects(
      dp.apply([program('x', other, rs), program('x', other + 1, rs)]),
      rejectsWith('TND_PROXY_SETTINGS', /service x is listed twice/),
    );
    await assert.rejects(
      dp.apply([program('x', other, rs), program('y', other, rs)]),
      rejectsWith('TND_PROXY_LISTEN', new RegExp(`services x and y both listen on 127.0.0.1:${other}`)),
    );
    // Nothing changed: 'a' still carries its backend (the refused applies emptied it), nothing else listens.
    assert.equal(await tcpGreeting(port), rs[0]?.key);
    assert.equal(await refused(other), true);
  } finally {
    await dp.close();
    await Promise.all(rs.map((s) => s.close()));
  }
});

test('a port in use is TND_PROXY_LISTEN naming the service and address; the others start; a later apply retries', async () => {
  const rs = await servers(1);
  const taken = net.createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  const busy = (taken.address() as net.AddressInfo).port;
  const free = await freePort();
  const dp = createProxyDataPlane();
  try {
    await assert.rejects(
      dp.apply([program('busy', busy, rs), program('ok', free, rs)]),
      rejectsWith('TND_PROXY_LISTEN', new RegExp(`service busy: cannot listen on 127.0.0.1:${busy}: .*EADDRINUSE`)),
    );
    assert.equal(await tcpGreeting(free), rs[0]?.key);
    await new Promise<void>((r) => taken.close(() => r()));
    const r = await dp.apply([program('busy', busy, rs), program('ok', free, rs)]);
    assert.deepEqual([r.added, r.changed], [[], []]);
    assert.equal(await tcpGreeting(busy), rs[0]?.key);
  } finally {
    taken.close();
    await dp.close();
    await Promise.all(rs.map((s) => s.close()));
  }
});

test('an address that is not on this host is TND_PROXY_LISTEN with EADDRNOTAVAIL and a hint', async () => {
  const dp = createProxyDataPlane();
  try {
    // 192.0.2.1 (TEST-NET-1) is on no interface here: bind fails, nothing is sent.
    await assert.rejects(
      dp.apply([program('vip', 8080, [], {}, { listen: '192.0.2.1' })]),
      rejectsWith(
        'TND_PROXY_LISTEN',
        /service vip: cannot listen on 192.0.2.1:8080: .*EADDRNOTAVAIL.*ip_nonlocal_bind/,
      ),
    );
  } finally {
    await dp.close();
  }
});

test('close() frees the ports and cuts the connections; the data plane takes no more applies', async () => {
  const rs = await servers(1);
  const [p1, p2] = [await freePort(), await freePort()];
  const dp = createProxyDataPlane();
  try {
    await dp.apply([program('t', p1, rs), program('h', p2, rs, {}, { mode: 'http' })]);
    const open = await tcpOpen(p1);
    const closed = new Promise<void>((r) => open.socket.once('close', () => r()));
    await dp.close();
    await closed;
    for (const port of [p1, p2]) {
      const s = net.createServer();
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, '127.0.0.1', resolve);
      });
      await new Promise<void>((r) => s.close(() => r()));
    }
    await until(() => rs[0]?.open() === 0, 5_000, 'backend connection closed');
    await assert.rejects(dp.apply([]), rejectsWith('TND_PROXY_CLOSED'));
  } finally {
    await dp.close();
    await Promise.all(rs.map((s) => s.close()));
  }
});

test('a new port re-listens: the old port refuses, its open connection goes on, the new port serves', async () => {
  const rs = await servers(1);
  const [p1, p2] = [await freePort(), await freePort()];
  const dp = createProxyDataPlane();
  try {
    await dp.apply([program('web', p1, rs)]);
    const open = await tcpOpen(p1);
    const r = await dp.apply([program('web', p2, rs)]);
    assert.deepEqual(r.changed, ['web']);
    assert.equal(await refused(p1), true);
    assert.equal(await tcpGreeting(p2), rs[0]?.key);
    assert.equal(await echo(open.socket, 'old connection'), 'old connection');
    open.socket.destroy();
  } finally {
    await dp.close();
    await Promise.all(rs.map((s) => s.close()));
  }
});

test('a new mode re-listens on the same port: tcp, then http', async () => {
  const { httpBackend } = await import('./test-support.ts');
  const web = await httpBackend('127.0.0.2');
  const port = await freePort();
  const dp = createProxyDataPlane();
  try {
    await dp.apply([program('web', port, [web])]);
    const s = net.connect({ host: '127.0.0.1', port });
    s.write('GET / HTTP/1.0\r\n\r\n');
    const raw = await new Promise<string>((resolve) => {
      let buf = '';
      s.on('data', (d: Buffer) => {
        buf += d;
      });
      s.on('close', () => resolve(buf));
    });
    assert.match(raw, /^HTTP\/1\.1 200 OK/);
    assert.doesNotMatch(raw, /X-Forwarded|x-body-length: 0\r\n.*forwarded/i);
    await dp.apply([program('web', port, [web], {}, { mode: 'http' })]);
    const got = await httpRequest(port);
    assert.deepEqual([got.status, got.body], [200, web.key]);
    assert.equal(web.lastHeaders()['x-forwarded-for'], '127.0.0.1');
  } finally {
    await dp.close();
    await web.close();
  }
});

test('a removed service stops listening; its open connection may finish, and is cut after closeGraceMs', async () => {
  const rs = await servers(1);
  const port = await freePort();
  const dp = createProxyDataPlane({ closeGraceMs: 300 });
  try {
    await dp.apply([program('web', port, rs)]);
    const open = await tcpOpen(port);
    const closed = new Promise<void>((r) => open.socket.once('close', () => r()));
    const r = await dp.apply([]);
    assert.deepEqual(r.removed, ['web']);
    assert.equal(await refused(port), true);
    assert.equal(await echo(open.socket, 'finishing'), 'finishing');
    assert.deepEqual((await dp.connections()).get('web')?.get(rs[0]?.key ?? ''), { active: 1, inactive: 0 });
    await closed;
    await until(async () => !(await dp.connections()).has('web'), 5_000, 'counts gone');
  } finally {
    await dp.close();
    await Promise.all(rs.map((s) => s.close()));
  }
});

test('apply with changed backends keeps the listener: 1,000 connections during an apply loop, none refused', async () => {
  const rs = await servers(3);
  const port = await freePort();
  const dp = createProxyDataPlane();
  const deadline = Date.now() + 60_000;
  try {
    const variants = [
      rs,
      [rs[0], rs[1]],
      [backend(rs[0] as TestServer, 3), backend(rs[1] as TestServer, 0), backend(rs[2] as TestServer, 1)],
      [rs[2], rs[1], rs[0]],
    ].map((b) => program('web', port, b as TestServer[]));
    await dp.apply([variants[0] as never]);
    let applies = 0;
    let stop = false;
    const loop = (async () => {
      while (!stop && Date.now() < deadline) {
        await dp.apply([variants[applies % variants.length] as never]);
        applies++;
        await new Promise((r) => setImmediate(r));
      }
    })();
    const total = 1_000;
    let next = 0;
    let ok = 0;
    const failures: string[] = [];
    const worker = async () => {
      while (next < total && Date.now() < deadline) {
        next++;
        try {
          const g = await tcpGreeting(port, { timeoutMs: 5_000 });
          if (g && rs.some((s) => s.key === g)) ok++;
          else failures.push(`closed without a greeting (${g})`);
        } catch (e) {
          failures.push(String(e));
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    stop = true;
    await loop;
    assert.deepEqual(failures.slice(0, 5), []);
    assert.equal(ok, total);
    assert.ok(applies > 10, `only ${applies} applies ran`);
  } finally {
    await dp.close();
    await Promise.all(rs.map((s) => s.close()));
  }
});

test('connections() counts open connections per service and backend', async () => {
  const rs = await servers(2);
  const port = await freePort();
  const dp = createProxyDataPlane();
  const open: net.Socket[] = [];
  try {
    await dp.apply([program('web', port, rs)]);
    for (let i = 0; i < 3; i++) open.push((await tcpOpen(port)).socket);
    const c = await dp.connections();
    assert.deepEqual(c.get('web')?.get(rs[0]?.key ?? ''), { active: 2, inactive: 0 });
    assert.deepEqual(c.get('web')?.get(rs[1]?.key ?? ''), { active: 1, inactive: 0 });
    for (const s of open) s.destroy();
    await until(async () => (await dp.connections()).get('web')?.get(rs[0]?.key ?? '')?.active === 0);
  } finally {
    for (const s of open) s.destroy();
    await dp.close();
    await Promise.all(rs.map((s) => s.close()));
  }
});

test('a client that sends first is carried once the backend answers: nothing is lost while connecting', async () => {
  const rs = await servers(1);
  const port = await freePort();
  const dp = createProxyDataPlane();
  try {
    await dp.apply([program('web', port, rs)]);
    const s = net.connect({ host: '127.0.0.1', port });
    s.write('early\n');
    assert.equal(await readLine(s), rs[0]?.key);
    assert.equal(await readLine(s), 'early');
    s.destroy();
  } finally {
    await dp.close();
    await Promise.all(rs.map((s) => s.close()));
  }
});
