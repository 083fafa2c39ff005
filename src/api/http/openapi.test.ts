import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { API_DEFAULTS } from '../../config/schema-api.ts';
import { parseGroup, parseOrder, parseRs } from '../contract.ts';
import { buildApiApp } from './app.ts';
import { AuditLog } from './audit.ts';
import { EventHub } from './events.ts';
import { openApiDocument, renderOpenApi } from './openapi.ts';
import { groupRequest, orderRequest, rsRequest } from './schemas.ts';
import { UserStore } from './users.ts';

test('docs/openapi.json is the current rendering of the schemas (run npm run gen:docs when this fails)', () => {
  const committed = readFileSync(new URL('../../../docs/openapi.json', import.meta.url), 'utf8');
  assert.equal(committed, renderOpenApi());
});

test('every route the app serves is in the document, and every path of the document is served; GET openapi.json serves it', async () => {
  const app = await buildApiApp({
    handlers: {
      status: () => ({ node: 'n', since: '', config: '', instances: [], interfaces: [] }),
      standby: () => [],
      takeover: () => [],
      reload: () => ({ ok: true, summary: { kept: [], restarted: [], started: [], stopped: [] } }),
      rs: async () => ({ ok: false, reason: 'unknown-service', message: '' }),
      group: () => {},
    },
    users: new UserStore('/nonexistent/t12a-users.json'),
    audit: new AuditLog(null),
    hub: new EventHub(),
    config: API_DEFAULTS,
  });
  const doc = openApiDocument() as { paths: Record<string, Record<string, unknown>> };
  const served: string[] = [];
  for (const [path, ops] of Object.entries(doc.paths))
    for (const method of Object.keys(ops)) {
      served.push(`${method.toUpperCase()} ${path}`);
      assert.ok(app.hasRoute({ method: method.toUpperCase() as 'GET', url: path }), `${method} ${path} is served`);
    }
  const routes = app.printRoutes({ commonPrefix: false });
  for (const m of routes.matchAll(/(\/api\/v1\/[a-z.]+) \(([A-Z, ]+)\)/g))
    for (const method of m[2]!.split(', ').filter((x) => x !== 'HEAD'))
      assert.ok(served.includes(`${method} ${m[1]}`), `${method} ${m[1]} is documented`);
  const r = await app.inject({ url: '/api/v1/openapi.json' });
  assert.deepEqual(r.json(), JSON.parse(JSON.stringify(doc)));
  await app.close();
});

// The zod schemas document the bodies; contract.ts's parsers check them at run time. They must agree.
const CORPUS: Array<
  [
    string,
    (b: Record<string, unknown> | undefined) => { ok: boolean },
    { safeParse(v: unknown): { success: boolean } },
    unknown[],
  ]
> = [
  [
    'order',
    parseOrder,
    orderRequest,
    [
      { instances: 'all' },
      { instances: 'local', clear: true },
      { instances: ['VI_1', 'VI_2'] },
      { instances: [] },
      { instances: 'some' },
      { instances: [1] },
      { instances: 7 },
      {},
    ],
  ],
  [
    'group',
    parseGroup,
    groupRequest,
    [
      { name: 'g', action: 'cleanup' },
      { name: 'g', action: 'manage' },
      { name: 'g', action: 'maintenance' },
      { name: 'g', action: 'restart' },
      { name: 1, action: 'cleanup' },
      { action: 'cleanup' },
    ],
  ],
  [
    'rs',
    parseRs,
    rsRequest,
    [
      { service: 'web', server: '1.2.3.4:80', verb: 'drain' },
      { service: 'web', server: '1.2.3.4:80', verb: 'drain', wait: false },
      { service: 'web', server: '1.2.3.4:80', verb: 'enable' },
      { service: 'web', server: '1.2.3.4:80', verb: 'maint' },
      { service: 'web', server: '1.2.3.4:80', verb: 'remove' },
      { service: 'web', server: '1.2.3.4:80', verb: 'weight', weight: 5 },
      { service: 'web', server: '1.2.3.4:80', verb: 'weight', weight: null },
      { service: 'web', server: '1.2.3.4:80', verb: 'weight', weight: 'x' },
      { service: 'web', server: '1.2.3.4:80', verb: 'add' },
      { service: 'web', server: '1.2.3.4:80', verb: 'add', weight: 3 },
      { service: 'web', server: '1.2.3.4:80', verb: 'add', weight: 'x' },
      { service: 'web', server: '1.2.3.4:80', verb: 'explode' },
      { service: 'web', verb: 'drain' },
      { server: '1.2.3.4:80', verb: 'drain' },
    ],
  ],
];

for (const [name, parse, schema, bodies] of CORPUS)
  test(`the ${name} request schema of the OpenAPI document accepts exactly what the control parser accepts`, () => {
    for (const b of bodies)
      assert.equal(schema.safeParse(b).success, parse(b as Record<string, unknown>).ok, `${name} ${JSON.stringify(b)}`);
  });
