// The cluster's API routes on a real fastify instance (inject()), with a fake ApiContext: roles, bodies, replies.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Fastify from 'fastify';
import type { ApiContext, Principal, Role } from '../api/http-plugin.ts';
import { clusterApiPlugin } from './api-plugin.ts';
import { memCluster, twoNodeYaml } from './test-support.ts';

const rank: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

async function app(opts: { d2Interfaces?: string[] } = {}) {
  const c = memCluster(
    ['d1', 'd2'],
    twoNodeYaml(),
    opts.d2Interfaces ? { d2: { interfaces: new Set(opts.d2Interfaces) } } : {},
  );
  const audits: string[] = [];
  const ctx: ApiContext = {
    async require(req, reply, role) {
      const r = req.headers['x-role'] as Role | undefined;
      if (!r) {
        await reply.code(401).send({ code: 'TND_API_AUTH', message: 'log in' });
        return undefined;
      }
      if (rank[r] < rank[role]) {
        await reply.code(403).send({ code: 'TND_API_FORBIDDEN', message: `needs ${role}` });
        return undefined;
      }
      return { name: `${r}-user`, role: r, via: 'token', from: '127.0.0.1' } satisfies Principal;
    },
    audit: (who, action, target, result, detail) =>
      audits.push(`${who.name} ${action} ${target} ${result} ${detail ?? ''}`),
    status: async () => ({ node: 'd1', since: '', config: '', instances: [], interfaces: [] }),
    onEvent: () => () => undefined,
  };
  const f = Fastify();
  await f.register(async (scope) => clusterApiPlugin(c.get('d1')!.node)(scope, ctx));
  await f.ready();
  return { f, c, audits };
}

const as = (role: Role) => ({ 'x-role': role });

test('GET /api/v1/cluster lists every node with its status or the error; a viewer may read it, nobody else', async () => {
  const { f, c } = await app();
  c.get('d2')!.up = false;
  assert.equal((await f.inject({ url: '/api/v1/cluster' })).statusCode, 401);
  const r = await f.inject({ url: '/api/v1/cluster', headers: as('viewer') });
  assert.equal(r.statusCode, 200);
  const nodes = r.json().nodes as {
    name: string;
    url: string;
    reachable: boolean;
    status?: { node: string; configHash: string };
    error?: string;
  }[];
  assert.deepEqual(
    nodes.map((n) => [n.name, n.url, n.reachable]),
    [
      ['d1', 'https://198.18.0.11:7695', true],
      ['?', 'https://198.18.0.12:7695', false],
    ],
  );
  assert.match(nodes[0]!.status!.configHash, /^sha256:[0-9a-f]{64}$/);
  assert.match(nodes[1]!.error!, /ECONNREFUSED/);
});

test('GET /api/v1/config gives the running text, format, version and hash to an admin only', async () => {
  const { f } = await app();
  assert.equal((await f.inject({ url: '/api/v1/config', headers: as('operator') })).statusCode, 403);
  const r = await f.inject({ url: '/api/v1/config', headers: as('admin') });
  assert.equal(r.statusCode, 200);
  const b = r.json();
  assert.equal(b.text, twoNodeYaml());
  assert.equal(b.format, 'yaml');
  assert.equal(b.version, 0);
  assert.match(b.hash, /^sha256:/);
});

test('POST /api/v1/config/check answers diagnostics as objects with line, col, severity, code, path, message', async () => {
  const { f } = await app();
  const r = await f.inject({
    method: 'POST',
    url: '/api/v1/config/check',
    headers: as('operator'),
    payload: { text: 'vrrp:\n  instances:\n    - { name: VI_1, interface: eth0, vrid: 300 }\n' },
  });
  assert.equal(r.statusCode, 200);
  const b = r.json();
  assert.equal(b.ok, false);
  const d = b.diagnostics.find((x: { code: string }) => x.code === 'TND_CFG_RANGE');
  assert.deepEqual(
    { line: d.line, col: d.col, severity: d.severity, path: d.path },
    { line: 3, col: 44, severity: 'error', path: 'vrrp.instances[0].vrid' },
  );
  assert.equal(typeof d.message, 'string');
  assert.equal(
    (await f.inject({ method: 'POST', url: '/api/v1/config/check', headers: as('operator'), payload: { text: 5 } }))
      .statusCode,
    400,
  );
  assert.equal(
    (await f.inject({ method: 'POST', url: '/api/v1/config/check', headers: as('viewer'), payload: { text: '' } }))
      .statusCode,
    403,
  );
});

test('POST /api/v1/config/diff gives the unified diff and the per-kind summary', async () => {
  const { f } = await app();
  const next = twoNodeYaml({ extra: '    - { name: VI_2, interface: eth0, vrid: 52, vips: [198.18.0.101/24] }' });
  const r = await f.inject({
    method: 'POST',
    url: '/api/v1/config/diff',
    headers: as('admin'),
    payload: { text: next },
  });
  assert.equal(r.statusCode, 200);
  const b = r.json();
  assert.match(b.unified, /\n\+ {4}- \{ name: VI_2/);
  assert.deepEqual(b.summary.instances.added, ['VI_2']);
});

test('POST /api/v1/config/apply: admin only, audited; applied on both nodes; a refusal is 409 with the refusing node’s diagnostics', async () => {
  const { f, c, audits } = await app({ d2Interfaces: ['lo', 'eth0'] });
  const next = twoNodeYaml({ extra: '    - { name: VI_2, interface: eth0, vrid: 52, vips: [198.18.0.101/24] }' });
  assert.equal(
    (
      await f.inject({
        method: 'POST',
        url: '/api/v1/config/apply',
        headers: as('operator'),
        payload: { text: next, expected: 0 },
      })
    ).statusCode,
    403,
  );
  assert.equal(
    (await f.inject({ method: 'POST', url: '/api/v1/config/apply', headers: as('admin'), payload: { text: next } }))
      .statusCode,
    400,
  );
  const ok = await f.inject({
    method: 'POST',
    url: '/api/v1/config/apply',
    headers: as('admin'),
    payload: { text: next, expected: 0 },
  });
  assert.equal(ok.statusCode, 200, ok.body);
  assert.equal(ok.json().version.version, 1);
  assert.equal(c.get('d2')!.file.text, next);
  const stale = await f.inject({
    method: 'POST',
    url: '/api/v1/config/apply',
    headers: as('admin'),
    payload: { text: twoNodeYaml(), expected: 0 },
  });
  assert.equal(stale.statusCode, 409);
  assert.equal(stale.json().code, 'TND_CLUSTER_CONFLICT');
  const bad = await f.inject({
    method: 'POST',
    url: '/api/v1/config/apply',
    headers: as('admin'),
    payload: { text: twoNodeYaml({ iface: 'eth7' }), expected: 1 },
  });
  assert.equal(bad.statusCode, 409);
  const b = bad.json();
  assert.equal(b.code, 'TND_CLUSTER_REFUSED');
  assert.equal(b.node, 'd1');
  assert.deepEqual([...new Set(b.refusals.map((r: { node: string }) => r.node))].sort(), ['d1', 'd2']);
  assert.equal(b.diagnostics[0].code, 'TND_HOST_INTERFACE');
  assert.equal(b.diagnostics[0].line, 7);
  assert.equal(c.get('d2')!.file.text, next, 'nothing changed');
  assert.deepEqual(
    audits.map((a) => a.split(' ').slice(0, 5).join(' ')),
    [
      'admin-user config.apply version 1 ok',
      'admin-user config.apply on version 0',
      'admin-user config.apply on version 1',
    ],
  );
});
