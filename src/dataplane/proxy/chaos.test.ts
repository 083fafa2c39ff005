// Misbehaving servers and impatient clients, mixed by a seeded generator: the proxy must survive all of it (an
// uncaught error would end this process), answer every request it can, and count every connection down to 0.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { test } from 'node:test';
import { createProxyDataPlane } from './index.ts';
import { freePort, type HttpTestServer, httpBackend, httpRequest, program, tcpBackend, until } from './test-support.ts';

/** mulberry32: a small seeded generator, so that a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Replay another mix with PROXY_CHAOS_SEED=n. */
const SEED = Number(process.env.PROXY_CHAOS_SEED ?? 20_241_122);

test('http chaos: servers that cut, stall, garble or close; clients that leave early; the proxy carries on', async (t) => {
  const rand = rng(SEED);
  const behave = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const r = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('r'));
    if (r < 0.5) {
      res.end('ok');
    } else if (r < 0.6) {
      req.socket.destroy();
    } else if (r < 0.7) {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('partial');
      setImmediate(() => req.socket.destroy());
    } else if (r < 0.8) {
      setTimeout(() => res.end('slow'), 50);
    } else if (r < 0.9) {
      req.socket.end('HTTP/1.1 2xx nonsense\r\n\r\n');
    } else {
      res.writeHead(200, { connection: 'close' });
      res.end('bye');
    }
  };
  const servers: HttpTestServer[] = [];
  for (let i = 0; i < 3; i++) servers.push(await httpBackend(`127.0.0.${i + 2}`, behave));
  const port = await freePort();
  const dp = createProxyDataPlane();
  const deadline = Date.now() + 60_000;
  try {
    await dp.apply([program('web', port, servers, {}, { mode: 'http', idleTimeoutMs: 2_000, retries: 1 })]);
    const agents = Array.from({ length: 6 }, () => new http.Agent({ keepAlive: true, maxSockets: 2 }));
    let next = 0;
    const statuses: Record<string, number> = {};
    await Promise.all(
      agents.map(async (agent) => {
        while (next < 300 && Date.now() < deadline) {
          next++;
          const r = rand();
          const method = rand() < 0.7 ? 'GET' : 'POST';
          const abortEarly = rand() < 0.1;
          const outcome = await new Promise<string>((resolve) => {
            const req = http.request({ host: '127.0.0.1', port, path: `/?r=${r}`, method, agent }, (res) => {
              res.resume();
              res.on('end', () => resolve(String(res.statusCode)));
              res.on('error', () => resolve('cut'));
              res.on('aborted', () => resolve('cut'));
            });
            req.on('error', () => resolve('error'));
            req.setTimeout(10_000, () => req.destroy());
            if (method === 'POST') req.write('some body');
            req.end();
            if (abortEarly) setImmediate(() => req.destroy());
          });
          statuses[outcome] = (statuses[outcome] ?? 0) + 1;
        }
      }),
    );
    for (const a of agents) a.destroy();
    t.diagnostic(`seed ${SEED}: ${JSON.stringify(statuses)}`);
    assert.ok((statuses['200'] ?? 0) > 100, JSON.stringify(statuses));
    // Nothing is left counted once the clients are gone.
    await until(
      async () => [...((await dp.connections()).get('web')?.values() ?? [])].every((c) => c.active === 0),
      10_000,
      'all counts back to 0',
    );
    // And it still serves: a well-behaved request.
    assert.equal((await httpRequest(port, { path: '/?r=0.1' })).body, 'ok');
  } finally {
    await dp.close();
    await Promise.all(servers.map((s) => s.close()));
  }
});

test('tcp chaos: clients that leave while the proxy connects or mid-stream leave nothing counted', async () => {
  const rand = rng(SEED);
  const rs = await tcpBackend('127.0.0.2');
  const port = await freePort();
  const dp = createProxyDataPlane();
  try {
    await dp.apply([program('web', port, [rs])]);
    const runs: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) {
      runs.push(
        new Promise<void>((resolve) => {
          const s = net.connect({ host: '127.0.0.1', port });
          s.on('error', () => {});
          s.on('close', () => resolve());
          const r = rand();
          if (r < 0.3) s.destroy();
          else if (r < 0.6) s.once('connect', () => s.destroy());
          else if (r < 0.8) s.once('data', () => s.resetAndDestroy());
          else s.once('data', () => s.end('bye\n'));
          setTimeout(() => s.destroy(), 5_000).unref();
        }),
      );
    }
    await Promise.all(runs);
    await until(async () => ((await dp.connections()).get('web')?.get(rs.key)?.active ?? 0) === 0, 10_000, 'drained');
    await until(() => rs.open() === 0, 10_000, 'backend connections closed');
  } finally {
    await dp.close();
    await rs.close();
  }
});
