/**
 * Test support for the console: a minimal HTTP API in the URL scheme of api/http-plugin.ts (login with a session
 * cookie and CSRF token, lockout, whoami, logout, the control routes, `GET /api/v1/cluster`, an SSE stream), in
 * front of real daemons' control sockets, with the console plugin registered on it. It is the stand-in the brief
 * allows while the real API server (branch `api`) is not merged; the browser test prefers the real one.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { callDaemon } from '../api/client.ts';
import type { DaemonStatus } from '../api/contract.ts';
import type { ApiContext, ApiEvent, Principal, Role } from '../api/http-plugin.ts';
import { type ConsoleOptions, createConsolePlugin } from './plugin.ts';

/** One daemon behind the test API. */
export interface TestNode {
  name: string;
  address: string;
  control: string;
}

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** Starts the stand-in API on 127.0.0.1; `self` is the node whose control routes it serves. */
export async function startTestApi(opts: {
  nodes: TestNode[];
  self: string;
  users: { name: string; password: string; role: Role }[];
  maxFailures?: number;
  console?: ConsoleOptions;
}): Promise<{ url: string; close(): Promise<void> }> {
  const self = opts.nodes.find((n) => n.name === opts.self)!;
  const sessions = new Map<string, { principal: Principal; csrf: string }>();
  const failures = new Map<string, number>();
  const handlers = new Set<(e: ApiEvent) => void>();
  const emit = (e: ApiEvent) => {
    for (const h of handlers) h(e);
  };
  const app = Fastify({ bodyLimit: 1 << 20 });
  const cookie = (req: FastifyRequest) => /(?:^|;\s*)tandem_session=([\w-]+)/.exec(req.headers.cookie ?? '')?.[1];

  const ctx: ApiContext = {
    async require(req: FastifyRequest, reply: FastifyReply, role: Role) {
      const s = sessions.get(cookie(req) ?? '');
      if (!s) {
        await reply.code(401).send({ code: 'TND_API_UNAUTHENTICATED', message: 'log in first' });
        return undefined;
      }
      if (req.method !== 'GET' && req.headers['x-csrf-token'] !== s.csrf) {
        await reply.code(403).send({ code: 'TND_API_CSRF', message: 'missing or wrong X-CSRF-Token' });
        return undefined;
      }
      if (RANK[s.principal.role] < RANK[role]) {
        await reply.code(403).send({ code: 'TND_API_FORBIDDEN', message: `needs role ${role}` });
        return undefined;
      }
      return s.principal;
    },
    audit(who, action, target, result, detail) {
      emit({ type: 'audit', time: new Date().toISOString(), who: who.name, action, target, result, detail });
    },
    async status() {
      const r = await callDaemon(self.control, 'GET', '/v1/status', undefined, 5_000);
      if (!r.ok) throw new Error(r.message);
      return r.body as DaemonStatus;
    },
    onEvent(h) {
      handlers.add(h);
      return () => handlers.delete(h);
    },
  };

  app.post('/api/v1/login', async (req, reply) => {
    const b = (req.body ?? {}) as { user?: string; password?: string };
    const user = String(b.user ?? '');
    const n = failures.get(user) ?? 0;
    if (n >= (opts.maxFailures ?? 5))
      return reply
        .code(429)
        .send({ code: 'TND_API_LOCKED_OUT', message: 'too many failed logins', retryAfterSeconds: 900 });
    const u = opts.users.find((x) => x.name === user && x.password === b.password);
    if (!u) {
      failures.set(user, n + 1);
      return reply.code(401).send({ code: 'TND_API_BAD_LOGIN', message: 'wrong user or password' });
    }
    failures.delete(user);
    const id = randomBytes(24).toString('base64url');
    const csrf = randomBytes(24).toString('base64url');
    sessions.set(id, { principal: { name: u.name, role: u.role, via: 'session', from: req.ip }, csrf });
    reply.header('set-cookie', `tandem_session=${id}; HttpOnly; SameSite=Strict; Path=/`);
    return { user: u.name, role: u.role, csrf };
  });
  app.post('/api/v1/logout', async (req) => {
    sessions.delete(cookie(req) ?? '');
    return { ok: true };
  });
  app.get('/api/v1/whoami', async (req, reply) => {
    const p = await ctx.require(req, reply, 'viewer');
    return p ? { user: p.name, role: p.role, csrf: sessions.get(cookie(req)!)!.csrf } : reply;
  });
  const control =
    (method: 'GET' | 'POST', path: string, role: Role) => async (req: FastifyRequest, reply: FastifyReply) => {
      const p = await ctx.require(req, reply, role);
      if (!p) return reply;
      const r = await callDaemon(self.control, method, path, method === 'POST' ? req.body : undefined, 60_000);
      if (!r.ok) return reply.code(502).send({ code: 'TND_CTL_INTERNAL', message: r.message });
      if (method === 'POST') ctx.audit(p, path.slice(4), JSON.stringify(req.body), r.status < 300 ? 'ok' : 'refused');
      return reply.code(r.status).send(r.body);
    };
  app.get('/api/v1/status', control('GET', '/v1/status', 'viewer'));
  for (const route of ['standby', 'takeover', 'group', 'rs', 'reload'])
    app.post(`/api/v1/${route}`, control('POST', `/v1/${route}`, route === 'reload' ? 'admin' : 'operator'));
  app.get('/api/v1/cluster', async (req, reply) => {
    if (!(await ctx.require(req, reply, 'viewer'))) return reply;
    const nodes = await Promise.all(
      opts.nodes.map(async (n) => {
        const r = await callDaemon(n.control, 'GET', '/v1/status', undefined, 3_000);
        return r.ok
          ? { name: n.name, address: n.address, self: n.name === opts.self, status: r.body }
          : { name: n.name, address: n.address, self: n.name === opts.self, error: r.message };
      }),
    );
    return { nodes };
  });
  const streams = new Set<import('node:http').ServerResponse>();
  // The event stream: instance transitions seen by polling this node (the real API streams the daemon's events).
  let last = '';
  const poll = setInterval(async () => {
    const s = await ctx.status().catch(() => null);
    if (!s) return;
    const now = s.instances.map((i) => `${i.name}=${i.state}`).join(',');
    if (now !== last && last !== '')
      for (const i of s.instances)
        emit({ type: 'vrrp.transition', time: new Date().toISOString(), instance: i.name, state: i.state });
    last = now;
  }, 300);
  app.get('/api/v1/events', async (req, reply) => {
    if (!(await ctx.require(req, reply, 'viewer'))) return reply;
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    reply.raw.write(': hello\n\n');
    streams.add(reply.raw);
    const off = ctx.onEvent((e) => reply.raw.write(`data: ${JSON.stringify(e)}\n\n`));
    req.raw.on('close', () => {
      off();
      streams.delete(reply.raw);
    });
  });
  await app.register(async (a) => createConsolePlugin(opts.console)(a, ctx));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      clearInterval(poll);
      for (const s of streams) s.end();
      await app.close();
    },
  };
}
