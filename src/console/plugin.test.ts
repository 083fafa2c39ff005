import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Fastify from 'fastify';
import type { DaemonStatus } from '../api/contract.ts';
import type { ApiContext, ApiEvent, Principal } from '../api/http-plugin.ts';
import { CONSOLE_CSP, createConsolePlugin } from './plugin.ts';

function ctx(status: () => DaemonStatus): ApiContext & { emit(e: ApiEvent): void; reads: number } {
  const handlers = new Set<(e: ApiEvent) => void>();
  const c = {
    reads: 0,
    async require(req, reply) {
      if (req.headers.authorization !== 'Bearer ok') {
        await reply.code(401).send({ code: 'TND_API_UNAUTHENTICATED', message: 'log in' });
        return undefined;
      }
      return { name: 'v', role: 'viewer', via: 'token', from: '127.0.0.1' } satisfies Principal;
    },
    audit() {},
    async status() {
      c.reads++;
      return status();
    },
    onEvent(h) {
      handlers.add(h);
      return () => handlers.delete(h);
    },
    emit(e: ApiEvent) {
      for (const h of handlers) h(e);
    },
  } as ApiContext & { emit(e: ApiEvent): void; reads: number };
  return c;
}

const st = (state: 'MASTER' | 'BACKUP') =>
  ({
    node: 'd1',
    instances: [{ name: 'VI_1', state, master: state === 'MASTER' ? { self: true } : null, vips: ['198.18.0.100/24'] }],
  }) as unknown as DaemonStatus;

test('the console is served at / with the strict CSP, nosniff, and index.html never cached', async () => {
  const dir = mkdtempSync(join(tmpdir(), 't13w-console-'));
  try {
    writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="app.js"></script>');
    writeFileSync(join(dir, 'app.js'), 'console.log(1)');
    writeFileSync(join(dir, 'app.css'), 'body{}');
    const app = Fastify();
    await app.register(async (a) =>
      createConsolePlugin({ dir, history: false })(
        a,
        ctx(() => st('MASTER')),
      ),
    );
    const index = await app.inject({ url: '/' });
    assert.equal(index.statusCode, 200);
    assert.equal(index.headers['content-security-policy'], CONSOLE_CSP);
    assert.equal(index.headers['x-content-type-options'], 'nosniff');
    assert.equal(index.headers['cache-control'], 'no-store');
    assert.match(String(index.headers['content-type']), /text\/html/);
    const js = await app.inject({ url: '/app.js' });
    assert.match(String(js.headers['content-type']), /text\/javascript/);
    assert.equal(js.headers['content-security-policy'], CONSOLE_CSP);
    assert.equal((await app.inject({ url: '/../package.json' })).statusCode, 404);
    assert.equal((await app.inject({ url: '/nothing.js' })).statusCode, 404);
    await app.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing build is a 503 that says to build, not a crash', async () => {
  const app = Fastify();
  await app.register(async (a) =>
    createConsolePlugin({ dir: '/nonexistent/t13w', history: false })(
      a,
      ctx(() => st('MASTER')),
    ),
  );
  const r = await app.inject({ url: '/' });
  assert.equal(r.statusCode, 503);
  assert.match(r.body, /npm run build/);
  await app.close();
});

test('the history route needs a login, samples the status and records who held the VIPs after an event', async () => {
  let state: 'MASTER' | 'BACKUP' = 'BACKUP';
  const c = ctx(() => st(state));
  let now = 1_000_000;
  const app = Fastify();
  await app.register(async (a) =>
    createConsolePlugin({ dir: '/nonexistent/t13w', history: { intervalMs: 60_000, now: () => now } })(a, c),
  );
  await app.ready();
  assert.equal((await app.inject({ url: '/api/v1/history' })).statusCode, 401);
  const auth = { authorization: 'Bearer ok' };
  assert.equal((await app.inject({ url: '/api/v1/history?window=1d', headers: auth })).statusCode, 400);
  state = 'MASTER';
  now += 5_000;
  c.emit({ type: 'vrrp.transition', time: new Date(now).toISOString() });
  await new Promise((r) => setImmediate(r));
  const h = (await app.inject({ url: '/api/v1/history?window=15m', headers: auth })).json();
  assert.deepEqual(
    h.ownership[0].spans.map((s: { holder: string }) => s.holder),
    ['none', 'd1'],
  );
  assert.equal(h.samples.length, 1, 'an event adds a span, not a sample');
  await app.close();
});
