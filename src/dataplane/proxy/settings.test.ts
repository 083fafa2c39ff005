// The proxy's settings from the YAML to the data plane: the schema's names and defaults (docs/config.md), the
// config mapping (plan/lb-plan.ts) and the defaults the proxy fills in for what a program leaves out.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configSchema } from '../../config/schema.ts';
import { lbPlan } from '../../plan/lb-plan.ts';
import { budgetUnits, FdBudget, parseNofileLimit } from './fd-budget.ts';
import { DEFAULT_MAX_HEADER_BYTES, DEFAULT_MAX_HEADERS, resolveSettings } from './service.ts';
import { settings } from './test-support.ts';

const plan = (proxy: Record<string, unknown> | undefined) =>
  lbPlan(
    configSchema.parse({
      lb: {
        services: [
          {
            name: 'web',
            vip: '198.18.0.100',
            port: 80,
            dataplane: 'proxy',
            ...(proxy ? { proxy } : {}),
            real_servers: [{ address: '198.18.1.1' }],
          },
        ],
      },
    }),
  ).services[0]?.proxy;

test('the timeouts and limits of the proxy block reach the data plane in ms, with their names', () => {
  assert.deepEqual(
    plan({
      mode: 'http',
      idle_timeout: '5s',
      client_header_timeout: '2s',
      client_body_timeout: '3s',
      keepalive_timeout: '4s',
      response_timeout: '30s',
      connect_timeout: '1s',
      max_connections: 500,
      max_headers: 50,
      max_header_size: 8192,
    }),
    {
      mode: 'http',
      listen: '198.18.0.100',
      retries: 1,
      passiveFailures: 3,
      connectTimeoutMs: 1_000,
      idleTimeoutMs: 5_000,
      forwardedFor: true,
      clientHeaderTimeoutMs: 2_000,
      clientBodyTimeoutMs: 3_000,
      keepAliveTimeoutMs: 4_000,
      responseTimeoutMs: 30_000,
      maxConnections: 500,
      maxHeaders: 50,
      maxHeaderBytes: 8_192,
    },
  );
});

test('defaults: header limits from the schema; the timeouts follow idle_timeout, the header timeout at most 10 s', () => {
  const budget = new FdBudget(20_000, 22_000);
  for (const proxy of [undefined, { mode: 'http' }]) {
    const s = plan(proxy);
    assert.ok(s);
    assert.deepEqual([s.maxHeaders, s.maxHeaderBytes], [DEFAULT_MAX_HEADERS, DEFAULT_MAX_HEADER_BYTES]);
    const r = resolveSettings(s, budget);
    assert.deepEqual(
      [r.clientHeaderTimeoutMs, r.clientBodyTimeoutMs, r.keepAliveTimeoutMs, r.responseTimeoutMs, r.maxConnections],
      [10_000, 60_000, 60_000, 60_000, 5_000],
    );
  }
  const short = resolveSettings(settings({ idleTimeoutMs: 5_000 }), budget);
  assert.deepEqual(
    [short.clientHeaderTimeoutMs, short.clientBodyTimeoutMs, short.keepAliveTimeoutMs],
    [5_000, 5_000, 5_000],
  );
});

test('the file-descriptor budget is the soft RLIMIT_NOFILE less a reserve; two units per client connection', () => {
  const limits = [
    'Limit                     Soft Limit           Hard Limit           Units     ',
    'Max processes             63704                63704                processes ',
    'Max open files            1024                 524288               files     ',
  ].join('\n');
  assert.equal(parseNofileLimit(limits), 1024);
  assert.equal(parseNofileLimit('Max open files            unlimited            unlimited            files'), null);
  assert.equal(parseNofileLimit('nothing here'), null);
  assert.equal(budgetUnits(1024), 704);
  assert.equal(budgetUnits(1_048_576), 943_718);
  assert.equal(budgetUnits(100), 0);
  const b = new FdBudget(5, 5);
  assert.deepEqual(
    [b.tryAcquire(2), b.tryAcquire(2), b.tryAcquire(2), b.used, b.connections],
    [true, true, false, 4, 2],
  );
  b.release(2);
  assert.equal(b.tryAcquire(1), true);
});
