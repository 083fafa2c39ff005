import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import type { PassiveFailure } from '../../lb/dataplane.ts';
import { createProxyDataPlane } from './index.ts';
import {
  backend,
  blackhole,
  echo,
  freePort,
  program,
  readLine,
  refusingPort,
  type TestServer,
  tcpBackend,
  tcpGreeting,
  tcpOpen,
  until,
} from './test-support.ts';

/** Backends on 127.0.0.2, .3, … and a proxy; everything is closed after `fn`. */
async function lab(n: number, fn: (l: { servers: TestServer[]; port: number }) => Promise<void>): Promise<void> {
  const servers: TestServer[] = [];
  try {
    for (let i = 0; i < n; i++) servers.push(await tcpBackend(`127.0.0.${i + 2}`));
    await fn({ servers, port: await freePort() });
  } finally {
    await Promise.all(servers.map((s) => s.close()));
  }
}

test('tcp rr: connections go to the backends in an exact cycle', async () => {
  await lab(3, async ({ servers, port }) => {
    const dp = createProxyDataPlane();
    try {
      await dp.apply([program('web', port, servers)]);
      const got: (string | null)[] = [];
      for (let i = 0; i < 6; i++) got.push(await tcpGreeting(port));
      const keys = servers.map((s) => s.key);
      assert.deepEqual(got, [...keys, ...keys]);
    } finally {
      await dp.close();
    }
  });
});

test('tcp wrr: connections follow the weights 3:1', async () => {
  await lab(2, async ({ servers, port }) => {
    const dp = createProxyDataPlane();
    try {
      const [a, b] = servers as [TestServer, TestServer];
      await dp.apply([program('web', port, [backend(a, 3), backend(b, 1)], { scheduler: 'wrr' })]);
      const got: (string | null)[] = [];
      for (let i = 0; i < 8; i++) got.push(await tcpGreeting(port));
      assert.deepEqual(got, [a.key, a.key, a.key, b.key, a.key, a.key, a.key, b.key]);
    } finally {
      await dp.close();
    }
  });
});

test('tcp sh: each client address keeps landing on one backend', async () => {
  await lab(3, async ({ servers, port }) => {
    const dp = createProxyDataPlane();
    try {
      await dp.apply([program('web', port, servers, { scheduler: 'sh' })]);
      for (const localAddress of ['127.0.0.10', '127.0.0.11', '127.0.0.12', '127.0.0.13']) {
        const first = await tcpGreeting(port, { localAddress });
        assert.ok(first);
        for (let i = 0; i < 3; i++) assert.equal(await tcpGreeting(port, { localAddress }), first, localAddress);
      }
    } finally {
      await dp.close();
    }
  });
});

test('tcp lc: a new connection goes to the backend with the fewest open connections', async () => {
  await lab(2, async ({ servers, port }) => {
    const dp = createProxyDataPlane();
    const open: net.Socket[] = [];
    try {
      const [a, b] = servers as [TestServer, TestServer];
      await dp.apply([program('web', port, servers, { scheduler: 'lc' })]);
      const held = async () => {
        const c = await tcpOpen(port);
        open.push(c.socket);
        return c.greeting;
      };
      assert.deepEqual([await held(), await held(), await held(), await held()], [a.key, b.key, a.key, b.key]);
      // b's two connections end: b is now the least busy, twice over.
      open[1]?.destroy();
      open[3]?.destroy();
      await until(async () => (await dp.connections()).get('web')?.get(b.key)?.active === 0, 5_000, 'b idle');
      assert.deepEqual([await held(), await held(), await held()], [b.key, b.key, a.key]);
    } finally {
      for (const s of open) s.destroy();
      await dp.close();
    }
  });
});

test('tcp persistence: a client keeps its backend under rr while the affinity lasts', async () => {
  await lab(3, async ({ servers, port }) => {
    const dp = createProxyDataPlane();
    try {
      await dp.apply([program('web', port, servers, { persistence: { timeoutMs: 60_000, netmaskPrefix: 32 } })]);
      const one = await tcpGreeting(port, { localAddress: '127.0.0.10' });
      const other = await tcpGreeting(port, { localAddress: '127.0.0.11' });
      assert.notEqual(one, other);
      for (let i = 0; i < 4; i++) {
        assert.equal(await tcpGreeting(port, { localAddress: '127.0.0.10' }), one);
        assert.equal(await tcpGreeting(port, { localAddress: '127.0.0.11' }), other);
      }
    } finally {
      await dp.close();
    }
  });
});

test('tcp half-close: the client ends its side and still reads everything the server sends back', async () => {
  await lab(1, async ({ servers, port }) => {
    const dp = createProxyDataPlane();
    try {
      await dp.apply([program('web', port, servers)]);
      const s = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
      const chunks: Buffer[] = [];
      const ended = new Promise<void>((resolve, reject) => {
        s.on('data', (d: Buffer) => chunks.push(d));
        s.on('end', () => resolve());
        s.on('error', reject);
      });
      const payload = 'x'.repeat(200_000);
      s.end(payload);
      await ended;
      s.destroy();
      assert.equal(Buffer.concat(chunks).toString(), `${servers[0]?.key}\n${payload}`);
      await until(async () => (await dp.connections()).get('web')?.get(servers[0]?.key ?? '')?.active === 0);
    } finally {
      await dp.close();
    }
  });
});

test('tcp: a refused backend is skipped for the next eligible one (retries), and passive health reports it', async () => {
  await lab(1, async ({ servers, port }) => {
    const dead = { addr: '127.0.0.9', port: await refusingPort('127.0.0.9') };
    const reports: PassiveFailure[] = [];
    const dp = createProxyDataPlane();
    dp.onPassiveFailure = (f) => reports.push(f);
    try {
      await dp.apply([program('web', port, [dead, ...servers], {}, { retries: 1, passiveFailures: 2 })]);
      for (let i = 0; i < 6; i++) assert.equal(await tcpGreeting(port), servers[0]?.key, `connection ${i}`);
      assert.equal(reports.length, 1);
      assert.deepEqual(
        { ...reports[0], detail: '' },
        { service: 'web', backend: `127.0.0.9:${dead.port}`, failures: 2, code: 'L4CON', detail: '' },
      );
      assert.match(reports[0]?.detail ?? '', /connection refused \(ECONNREFUSED\)/);
    } finally {
      await dp.close();
    }
  });
});

test('tcp passive health: after N failures the backend gets no more connections until an apply brings it back', async () => {
  await lab(1, async ({ servers, port }) => {
    const deadPort = await refusingPort('127.0.0.9');
    const dead = { addr: '127.0.0.9', port: deadPort };
    const reports: PassiveFailure[] = [];
    const dp = createProxyDataPlane();
    dp.onPassiveFailure = (f) => reports.push(f);
    let revived: TestServer | null = null;
    try {
      const opts = { retries: 0, passiveFailures: 2 };
      await dp.apply([program('web', port, [dead, ...servers], {}, opts)]);
      // rr: dead, alive, dead (second failure: reported, excluded), then only the live one.
      assert.deepEqual(
        [await tcpGreeting(port), await tcpGreeting(port), await tcpGreeting(port)],
        [null, servers[0]?.key, null],
      );
      assert.equal(reports.length, 1);
      for (let i = 0; i < 5; i++) assert.equal(await tcpGreeting(port), servers[0]?.key);
      // The daemon marks it down (it leaves the desired state); it comes back once its check passes.
      await dp.apply([program('web', port, servers, {}, opts)]);
      revived = await tcpBackend('127.0.0.9', deadPort);
      await dp.apply([program('web', port, [dead, ...servers], {}, opts)]);
      const got = new Set<string | null>();
      for (let i = 0; i < 4; i++) got.add(await tcpGreeting(port));
      assert.deepEqual(got, new Set([revived.key, servers[0]?.key]));
    } finally {
      await dp.close();
      await revived?.close();
    }
  });
});

test('tcp drain: weight 0 keeps an open connection working while new ones go elsewhere', async () => {
  await lab(2, async ({ servers, port }) => {
    const [a, b] = servers as [TestServer, TestServer];
    const dp = createProxyDataPlane();
    const open: net.Socket[] = [];
    try {
      await dp.apply([program('web', port, servers)]);
      const first = await tcpOpen(port);
      open.push(first.socket);
      assert.equal(first.greeting, a.key);
      await dp.apply([program('web', port, [backend(a, 0), backend(b)])]);
      for (let i = 0; i < 3; i++) assert.equal(await tcpGreeting(port), b.key);
      assert.equal(await echo(first.socket, 'still here'), 'still here');
      assert.deepEqual((await dp.connections()).get('web')?.get(a.key), { active: 1, inactive: 0 });
    } finally {
      for (const s of open) s.destroy();
      await dp.close();
    }
  });
});

test('tcp: the sorry server takes the connections while the desired state names it', async () => {
  await lab(2, async ({ servers, port }) => {
    const [a, sorry] = servers as [TestServer, TestServer];
    const dp = createProxyDataPlane();
    try {
      await dp.apply([program('web', port, [backend(a, 0)], { sorry: { addr: sorry.addr, port: sorry.port } })]);
      for (let i = 0; i < 3; i++) assert.equal(await tcpGreeting(port), sorry.key);
    } finally {
      await dp.close();
    }
  });
});

test('tcp: without backends a client connection is closed at once', async () => {
  const port = await freePort();
  const dp = createProxyDataPlane();
  try {
    await dp.apply([program('web', port, [])]);
    const s = net.connect({ host: '127.0.0.1', port });
    s.on('error', () => {});
    const t0 = Date.now();
    assert.equal(await readLine(s, 5_000), null);
    assert.ok(Date.now() - t0 < 4_000);
    s.destroy();
  } finally {
    await dp.close();
  }
});

test('tcp: an idle connection is closed after the idle timeout', async () => {
  await lab(1, async ({ servers, port }) => {
    const dp = createProxyDataPlane();
    try {
      await dp.apply([program('web', port, servers, {}, { idleTimeoutMs: 200 })]);
      const c = await tcpOpen(port);
      const closed = new Promise<void>((resolve) => c.socket.once('close', () => resolve()));
      await closed;
      await until(async () => (await dp.connections()).get('web')?.get(servers[0]?.key ?? '')?.active === 0);
      await until(() => servers[0]?.open() === 0, 5_000, 'backend side closed');
    } finally {
      await dp.close();
    }
  });
});

test('tcp: a connect that gets no answer times out (L4TOUT) and moves on to the next backend', async () => {
  await lab(1, async ({ servers, port }) => {
    const hole = await blackhole('127.0.0.8');
    const dp = createProxyDataPlane();
    const reports: PassiveFailure[] = [];
    dp.onPassiveFailure = (f) => reports.push(f);
    try {
      const opts = { connectTimeoutMs: 300, retries: 1, passiveFailures: 1 };
      await dp.apply([program('web', port, [{ addr: '127.0.0.8', port: hole.port }, ...servers], {}, opts)]);
      assert.equal(await tcpGreeting(port, { timeoutMs: 10_000 }), servers[0]?.key);
      assert.equal(reports.length, 1);
      assert.equal(reports[0]?.code, 'L4TOUT');
      assert.match(reports[0]?.detail ?? '', /300 ms/);
    } finally {
      hole.close();
      await dp.close();
    }
  });
});
