// GET /metrics as the API server registers it: a real fastify instance (inject), with an ApiContext whose `require`
// checks a bearer token as the server's does.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Fastify from 'fastify';
import type { ApiContext } from '../api/http-plugin.ts';
import { attachMetrics, DaemonMetrics } from './daemon-metrics.ts';
import { EXPOSITION_CONTENT_TYPE } from './exposition.ts';
import { plugin } from './plugin.ts';
import { sampleStatus } from './test-support.ts';

const ctx: ApiContext = {
  async require(req, reply, role) {
    if (req.headers.authorization === 'Bearer viewer-token') return { name: 'prom', role, via: 'token', from: req.ip };
    await reply.code(401).send({ code: 'TND_API_UNAUTHENTICATED', message: 'a session or a bearer token is needed' });
    return undefined;
  },
  audit() {},
  status: async () => sampleStatus(),
  onEvent: () => () => {},
};

async function app(metricsAuth: boolean) {
  const node = {};
  attachMetrics(node, new DaemonMetrics({ file: '/etc/tandem/tandem.yaml', hash: 'sha256:00', nowMs: 0 }));
  const a = Fastify();
  await a.register(async (scope) => plugin({ node, metricsAuth })(scope, ctx));
  return a;
}

test('GET /metrics is open by default and serves the text format', async () => {
  const a = await app(false);
  const r = await a.inject({ method: 'GET', url: '/metrics' });
  assert.equal(r.statusCode, 200);
  assert.equal(r.headers['content-type'], EXPOSITION_CONTENT_TYPE);
  assert.match(r.body, /^tandem_vrrp_instance_state\{vrrp_instance="VI_1",state="MASTER"\} 1$/m);
  // The status's own hash wins over the one read at load.
  assert.match(r.body, /^tandem_config_info\{file="\/etc\/tandem\/tandem.yaml",hash="sha256:aa"\} 1$/m);
  await a.close();
});

test('with api.metrics_auth a scrape needs a viewer token', async () => {
  const a = await app(true);
  assert.equal((await a.inject({ method: 'GET', url: '/metrics' })).statusCode, 401);
  const r = await a.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer viewer-token' } });
  assert.equal(r.statusCode, 200);
  assert.match(r.body, /tandem_lb_real_server_weight/);
  await a.close();
});

test('the plugin refuses to start when the daemon attached no metrics', () => {
  assert.throws(() => plugin({ node: {}, metricsAuth: false }), /attached no metrics/);
});
