import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { API_DEFAULTS, type ApiConfig } from '../../config/schema-api.ts';
import { TandemError } from '../../core/errors.ts';
import type { DaemonStatus, RsVerb } from '../contract.ts';
import type { ControlHandlers } from '../control-server.ts';
import type { ApiPlugin } from '../http-plugin.ts';
import { type ApiAppOptions, buildApiApp } from './app.ts';
import { AuditLog } from './audit.ts';
import { EventHub } from './events.ts';
import { hashPassword, newToken, UserStore, type UsersDb, writeUsersFile } from './users.ts';

const dir = mkdtempSync(join(tmpdir(), `t12a-app-${process.pid}-`));
const usersFile = join(dir, 'users.json');
const auditFile = join(dir, 'audit.log');
let db: UsersDb;
let tokens: { viewer: string; operator: string };

const STATUS = { node: 'd1', since: '2026-12-04T00:00:00.000Z', config: 'x.yaml', instances: [], interfaces: [] };

before(async () => {
  const [v, o, a] = await Promise.all(['viewer-pw', 'operator-pw', 'admin-pw'].map((p) => hashPassword(p)));
  const now = new Date();
  const tv = newToken('ci-viewer', 'viewer', now);
  const to = newToken('ci-operator', 'operator', now);
  tokens = { viewer: tv.token, operator: to.token };
  db = {
    users: [
      { name: 'vera', role: 'viewer', hash: v!, created: now.toISOString() },
      { name: 'otto', role: 'operator', hash: o!, created: now.toISOString() },
      { name: 'ada', role: 'admin', hash: a!, created: now.toISOString() },
    ],
    tokens: [tv.record, to.record],
  };
  writeUsersFile(usersFile, db);
});
after(() => rmSync(dir, { recursive: true, force: true }));

interface Harness {
  app: FastifyInstance;
  calls: string[];
  clock: { t: number };
  audit: () => Array<Record<string, unknown>>;
  close(): Promise<void>;
}

async function harness(
  over: { config?: Partial<ApiConfig>; handlers?: Partial<ControlHandlers>; plugins?: ApiPlugin[] } = {},
): Promise<Harness> {
  const calls: string[] = [];
  const clock = { t: 1_000_000 };
  const hub = new EventHub();
  const log = join(dir, `audit-${Math.random().toString(36).slice(2)}.log`);
  const audit = new AuditLog(log, { hub, now: () => clock.t });
  const handlers: ControlHandlers = {
    status: () => STATUS as DaemonStatus,
    standby: (n) => {
      calls.push(`standby ${JSON.stringify(n)}`);
      if (Array.isArray(n) && n.includes('VI_X'))
        throw new TandemError('TND_CTL_UNKNOWN_INSTANCE', 'this node runs no instance VI_X');
      return Array.isArray(n) ? n : ['VI_1'];
    },
    takeover: (n) => {
      calls.push(`takeover ${JSON.stringify(n)}`);
      return Array.isArray(n) ? n : ['VI_1'];
    },
    rs: async (service: string, req: RsVerb) => {
      calls.push(`rs ${service} ${req.verb} ${req.server}`);
      return { ok: true, service, server: req.server, verb: req.verb };
    },
    reload: () => {
      calls.push('reload');
      return { ok: true, summary: { kept: ['VI_1'], restarted: [], started: [], stopped: [] } };
    },
    ...over.handlers,
  };
  const opts: ApiAppOptions = {
    handlers,
    users: new UserStore(usersFile),
    audit,
    hub,
    config: { ...API_DEFAULTS, ...over.config },
    now: () => clock.t,
    ...(over.plugins ? { plugins: over.plugins } : {}),
  };
  const app = await buildApiApp(opts);
  return {
    app,
    calls,
    clock,
    audit: () =>
      readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l)),
    close: async () => {
      await app.close();
      audit.close();
    },
  };
}

async function login(h: Harness, user: string, password: string, remoteAddress = '127.0.0.1') {
  const r = await h.app.inject({ method: 'POST', url: '/api/v1/login', payload: { user, password }, remoteAddress });
  const cookie = String(r.headers['set-cookie'] ?? '');
  return { r, cookie: cookie.split(';')[0]!, setCookie: cookie, csrf: r.json().csrf as string | undefined };
}

const DRAIN = { service: 'web', verb: 'drain', server: '127.0.0.2:80', wait: false };

describe('HTTP API: login, roles, CSRF', () => {
  test('a viewer logs in (HttpOnly SameSite=Strict cookie, csrf in the reply), reads status, and is refused a drain with 403, audited', async () => {
    const h = await harness();
    const { r, cookie, setCookie, csrf } = await login(h, 'vera', 'viewer-pw');
    assert.equal(r.statusCode, 200);
    assert.deepEqual(Object.keys(r.json()).sort(), ['csrf', 'role', 'user']);
    assert.equal(r.json().role, 'viewer');
    assert.match(setCookie, /^tandem_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=28800$/);
    const st = await h.app.inject({ method: 'GET', url: '/api/v1/status', headers: { cookie } });
    assert.equal(st.statusCode, 200);
    assert.equal(st.json().node, 'd1');
    const rs = await h.app.inject({
      method: 'POST',
      url: '/api/v1/rs',
      headers: { cookie, 'x-csrf-token': csrf! },
      payload: DRAIN,
    });
    assert.equal(rs.statusCode, 403);
    assert.equal(rs.json().code, 'TND_API_FORBIDDEN');
    assert.match(rs.json().message, /vera has role viewer; rs\.drain needs operator/);
    assert.deepEqual(h.calls, [], 'the handler never ran');
    const lines = h.audit();
    assert.deepEqual(
      lines.map((l) => [l.who, l.action, l.target, l.result]),
      [
        ['vera', 'login', 'vera', 'ok'],
        ['vera', 'rs.drain', 'web/127.0.0.2:80', 'refused'],
      ],
    );
    assert.equal(lines[1]!.via, 'session');
    assert.equal(lines[1]!.from, '127.0.0.1');
    await h.close();
  });

  test('an operator drains with the CSRF header; without it the drain is refused with TND_API_CSRF and nothing runs', async () => {
    const h = await harness();
    const { cookie, csrf } = await login(h, 'otto', 'operator-pw');
    const bare = await h.app.inject({ method: 'POST', url: '/api/v1/rs', headers: { cookie }, payload: DRAIN });
    assert.equal(bare.statusCode, 403);
    assert.equal(bare.json().code, 'TND_API_CSRF');
    const wrong = await h.app.inject({
      method: 'POST',
      url: '/api/v1/rs',
      headers: { cookie, 'x-csrf-token': `${csrf}x` },
      payload: DRAIN,
    });
    assert.equal(wrong.json().code, 'TND_API_CSRF');
    assert.deepEqual(h.calls, []);
    const ok = await h.app.inject({
      method: 'POST',
      url: '/api/v1/rs',
      headers: { cookie, 'x-csrf-token': csrf! },
      payload: DRAIN,
    });
    assert.equal(ok.statusCode, 200);
    assert.deepEqual(ok.json(), { ok: true, service: 'web', server: '127.0.0.2:80', verb: 'drain' });
    assert.deepEqual(h.calls, ['rs web drain 127.0.0.2:80']);
    assert.deepEqual(
      h.audit().map((l) => [l.action, l.result]),
      [
        ['login', 'ok'],
        ['rs.drain', 'refused'],
        ['rs.drain', 'refused'],
        ['rs.drain', 'ok'],
      ],
    );
    await h.close();
  });

  test('reload needs admin: an operator gets 403, an admin reloads', async () => {
    const h = await harness();
    const op = await login(h, 'otto', 'operator-pw');
    const r1 = await h.app.inject({
      method: 'POST',
      url: '/api/v1/reload',
      headers: { cookie: op.cookie, 'x-csrf-token': op.csrf! },
    });
    assert.equal(r1.statusCode, 403);
    const ad = await login(h, 'ada', 'admin-pw');
    const r2 = await h.app.inject({
      method: 'POST',
      url: '/api/v1/reload',
      headers: { cookie: ad.cookie, 'x-csrf-token': ad.csrf! },
    });
    assert.equal(r2.statusCode, 200);
    assert.deepEqual(r2.json().kept, ['VI_1']);
    assert.deepEqual(h.calls, ['reload']);
    await h.close();
  });

  test('standby, takeover and their errors come back as the control socket gives them (same bodies, ControlError)', async () => {
    const h = await harness();
    const auth = { authorization: `Bearer ${tokens.operator}` };
    const s = await h.app.inject({
      method: 'POST',
      url: '/api/v1/standby',
      headers: auth,
      payload: { instances: 'all' },
    });
    assert.deepEqual([s.statusCode, s.json()], [200, { instances: ['VI_1'] }]);
    const u = await h.app.inject({
      method: 'POST',
      url: '/api/v1/standby',
      headers: auth,
      payload: { instances: ['VI_X'] },
    });
    assert.deepEqual(
      [u.statusCode, u.json()],
      [404, { code: 'TND_CTL_UNKNOWN_INSTANCE', message: 'this node runs no instance VI_X' }],
    );
    const bad = await h.app.inject({
      method: 'POST',
      url: '/api/v1/takeover',
      headers: auth,
      payload: { instances: 7 },
    });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().code, 'TND_CTL_BAD_REQUEST');
    await h.close();
  });

  test('a bearer token needs no CSRF header; a viewer token cannot act; a revoked token is 401 at once', async () => {
    const h = await harness();
    const v = await h.app.inject({
      method: 'POST',
      url: '/api/v1/rs',
      headers: { authorization: `Bearer ${tokens.viewer}` },
      payload: DRAIN,
    });
    assert.equal(v.statusCode, 403);
    const o = await h.app.inject({
      method: 'POST',
      url: '/api/v1/rs',
      headers: { authorization: `Bearer ${tokens.operator}` },
      payload: DRAIN,
    });
    assert.equal(o.statusCode, 200);
    assert.equal(h.audit().at(-1)!.via, 'token');
    assert.equal(h.audit().at(-1)!.who, 'ci-operator');
    writeUsersFile(usersFile, { ...db, tokens: db.tokens.filter((t) => t.name !== 'ci-operator') });
    const gone = await h.app.inject({
      method: 'GET',
      url: '/api/v1/status',
      headers: { authorization: `Bearer ${tokens.operator}` },
    });
    assert.equal(gone.statusCode, 401);
    assert.equal(gone.json().code, 'TND_API_UNAUTHENTICATED');
    writeUsersFile(usersFile, db);
    await h.close();
  });

  test('no credentials, a forged cookie, a malformed token: 401 with a ControlError body', async () => {
    const h = await harness();
    for (const headers of [
      {},
      { cookie: 'tandem_session=forged' },
      { authorization: 'Bearer tnd_nothex_abc' },
      { authorization: 'Basic dmVyYTp2aWV3ZXItcHc=' },
    ]) {
      const r = await h.app.inject({ method: 'GET', url: '/api/v1/status', headers });
      assert.equal(r.statusCode, 401, JSON.stringify(headers));
      assert.equal(r.json().code, 'TND_API_UNAUTHENTICATED');
      assert.equal(typeof r.json().message, 'string');
    }
    await h.close();
  });

  test('a session ends at its TTL, on logout, and when its user is deleted', async () => {
    const h = await harness({ config: { session_ttl: 60_000 } });
    const a = await login(h, 'vera', 'viewer-pw');
    h.clock.t += 59_000;
    assert.equal((await h.app.inject({ url: '/api/v1/whoami', headers: { cookie: a.cookie } })).statusCode, 200);
    h.clock.t += 2_000;
    assert.equal((await h.app.inject({ url: '/api/v1/whoami', headers: { cookie: a.cookie } })).statusCode, 401);
    const b = await login(h, 'vera', 'viewer-pw');
    const out = await h.app.inject({
      method: 'POST',
      url: '/api/v1/logout',
      headers: { cookie: b.cookie, 'x-csrf-token': b.csrf! },
    });
    assert.equal(out.statusCode, 200);
    assert.match(String(out.headers['set-cookie']), /tandem_session=; .*Max-Age=0/);
    assert.equal((await h.app.inject({ url: '/api/v1/whoami', headers: { cookie: b.cookie } })).statusCode, 401);
    const c = await login(h, 'vera', 'viewer-pw');
    writeUsersFile(usersFile, { ...db, users: db.users.filter((u) => u.name !== 'vera') });
    const w = await h.app.inject({ url: '/api/v1/whoami', headers: { cookie: c.cookie } });
    assert.equal(w.statusCode, 401);
    assert.match(w.json().message, /vera no longer exists/);
    writeUsersFile(usersFile, db);
    await h.close();
  });

  test('whoami says who and how; a session also gets its csrf back (the console after a page reload)', async () => {
    const h = await harness();
    const a = await login(h, 'otto', 'operator-pw', '127.0.0.9');
    const w = await h.app.inject({ url: '/api/v1/whoami', headers: { cookie: a.cookie }, remoteAddress: '127.0.0.9' });
    assert.deepEqual(w.json(), { user: 'otto', role: 'operator', via: 'session', from: '127.0.0.9', csrf: a.csrf });
    const t = await h.app.inject({ url: '/api/v1/whoami', headers: { authorization: `Bearer ${tokens.viewer}` } });
    assert.deepEqual(t.json(), { user: 'ci-viewer', role: 'viewer', via: 'token', from: '127.0.0.1' });
    await h.close();
  });
});

describe('HTTP API: login limits', () => {
  test('after max_failures wrong passwords the user is locked out (429, retry-after), even with the right one; it ends after the lockout; logged and audited', async () => {
    const h = await harness({
      config: { login: { max_failures: 3, window: 60_000, lockout: 300_000, per_address_per_minute: 100 } },
    });
    for (let i = 0; i < 3; i++) {
      const r = await login(h, 'otto', 'guess', `127.0.0.${10 + i}`);
      assert.equal(r.r.statusCode, 401);
      assert.deepEqual(r.r.json(), { code: 'TND_API_UNAUTHENTICATED', message: 'wrong user or password' });
    }
    const locked = await login(h, 'otto', 'operator-pw', '127.0.0.20');
    assert.equal(locked.r.statusCode, 429);
    assert.equal(locked.r.json().code, 'TND_API_LOCKED_OUT');
    assert.equal(locked.r.headers['retry-after'], '300');
    assert.equal(locked.r.json().retryAfterS, 300);
    assert.equal(locked.cookie, '');
    // Another user from another address is not affected.
    assert.equal((await login(h, 'vera', 'viewer-pw', '127.0.0.30')).r.statusCode, 200);
    h.clock.t += 300_001;
    assert.equal((await login(h, 'otto', 'operator-pw', '127.0.0.20')).r.statusCode, 200);
    const a = h.audit();
    assert.ok(
      a.some(
        (l) => l.action === 'lockout' && l.target === 'otto' && /TND_API_LOCKED_OUT user otto/.test(String(l.detail)),
      ),
      JSON.stringify(a),
    );
    assert.ok(
      a.some((l) => l.action === 'login' && l.result === 'refused' && /TND_API_LOCKED_OUT/.test(String(l.detail))),
    );
    await h.close();
  });

  test('one address spraying many user names is locked out as an address', async () => {
    const h = await harness({
      config: { login: { max_failures: 4, window: 60_000, lockout: 60_000, per_address_per_minute: 100 } },
    });
    for (const u of ['a1', 'a2', 'a3', 'a4']) assert.equal((await login(h, u, 'x', '127.0.0.66')).r.statusCode, 401);
    const r = await login(h, 'vera', 'viewer-pw', '127.0.0.66');
    assert.equal(r.r.statusCode, 429);
    assert.match(r.r.json().message, /address 127\.0\.0\.66 is locked out/);
    assert.equal((await login(h, 'vera', 'viewer-pw', '127.0.0.67')).r.statusCode, 200);
    await h.close();
  });

  test('more than per_address_per_minute attempts from one address are refused with TND_API_RATE_LIMITED', async () => {
    const h = await harness({
      config: { login: { max_failures: 100, window: 60_000, lockout: 60_000, per_address_per_minute: 3 } },
    });
    for (let i = 0; i < 3; i++) assert.equal((await login(h, 'vera', 'viewer-pw', '127.0.0.77')).r.statusCode, 200);
    const r = await login(h, 'vera', 'viewer-pw', '127.0.0.77');
    assert.equal(r.r.statusCode, 429);
    assert.equal(r.r.json().code, 'TND_API_RATE_LIMITED');
    h.clock.t += 60_001;
    assert.equal((await login(h, 'vera', 'viewer-pw', '127.0.0.77')).r.statusCode, 200);
    await h.close();
  });
});

describe('HTTP API: limits and errors', () => {
  test('a body over api.body_limit is 413 TND_API_TOO_LARGE; bad JSON is 400; neither reaches a handler', async () => {
    const h = await harness({ config: { body_limit: 1024 } });
    const auth = { authorization: `Bearer ${tokens.operator}`, 'content-type': 'application/json' };
    const big = await h.app.inject({
      method: 'POST',
      url: '/api/v1/rs',
      headers: auth,
      payload: JSON.stringify({ ...DRAIN, pad: 'x'.repeat(2000) }),
    });
    assert.equal(big.statusCode, 413);
    assert.equal(big.json().code, 'TND_API_TOO_LARGE');
    const bad = await h.app.inject({ method: 'POST', url: '/api/v1/rs', headers: auth, payload: '{"service":' });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().code, 'TND_CTL_BAD_REQUEST');
    assert.doesNotMatch(bad.body, /at .*\.(js|ts):\d+/);
    assert.deepEqual(h.calls, []);
    await h.close();
  });

  test('a handler that throws is 500 TND_CTL_INTERNAL without a stack trace; an unknown route is 404 TND_CTL_NOT_FOUND', async () => {
    const h = await harness({
      handlers: {
        status: () => {
          throw new Error('boom at /secret/path.ts:12');
        },
      },
    });
    const r = await h.app.inject({ url: '/api/v1/status', headers: { authorization: `Bearer ${tokens.viewer}` } });
    assert.equal(r.statusCode, 500);
    assert.equal(r.json().code, 'TND_CTL_INTERNAL');
    assert.doesNotMatch(r.body, /\n\s+at /);
    const nf = await h.app.inject({ url: '/api/v2/nothing' });
    assert.deepEqual([nf.statusCode, nf.json().code], [404, 'TND_CTL_NOT_FOUND']);
    await h.close();
  });

  test('the audit log is 0600 and each line has time, who, role, via, from, action, target, result', async () => {
    const h = await harness();
    await login(h, 'vera', 'viewer-pw');
    const line = h.audit()[0]!;
    assert.deepEqual(Object.keys(line), ['time', 'who', 'role', 'via', 'from', 'action', 'target', 'result']);
    await h.close();
    const log = new AuditLog(auditFile);
    log.close();
    assert.equal(statSync(auditFile).mode & 0o777, 0o600);
  });
});

describe('HTTP API: plugins', () => {
  test('a plugin registers routes and guards them with ctx.require; ctx.audit and ctx.status work', async () => {
    const plugin: ApiPlugin = (app, ctx) => {
      app.get('/x/read', async (req, reply) => {
        const who = await ctx.require(req, reply, 'viewer');
        if (!who) return reply;
        return { node: (await ctx.status()).node, who: who.name };
      });
      app.post('/x/admin', async (req, reply) => {
        const who = await ctx.require(req, reply, 'admin');
        if (!who) return reply;
        ctx.audit(who, 'x.admin', 'thing', 'ok');
        return { done: true };
      });
    };
    const h = await harness({ plugins: [plugin] });
    const auth = { authorization: `Bearer ${tokens.operator}` };
    assert.deepEqual((await h.app.inject({ url: '/x/read', headers: auth })).json(), {
      node: 'd1',
      who: 'ci-operator',
    });
    assert.equal((await h.app.inject({ url: '/x/read' })).statusCode, 401);
    const r = await h.app.inject({ method: 'POST', url: '/x/admin', headers: auth });
    assert.equal(r.statusCode, 403);
    const ad = await login(h, 'ada', 'admin-pw');
    const r2 = await h.app.inject({
      method: 'POST',
      url: '/x/admin',
      headers: { cookie: ad.cookie, 'x-csrf-token': ad.csrf! },
    });
    assert.deepEqual(r2.json(), { done: true });
    assert.deepEqual(
      h.audit().map((l) => [l.who, l.action, l.result]),
      [
        ['ci-operator', 'POST /x/admin', 'refused'],
        ['ada', 'login', 'ok'],
        ['ada', 'x.admin', 'ok'],
      ],
    );
    await h.close();
  });
});
