/**
 * The HTTP API as a fastify app (docs/api.md): the control routes of api/contract.ts under `/api` served through the
 * control socket's own dispatcher (control-server.ts `dispatchControl`), login/logout/whoami with server-side
 * sessions, roles, CSRF for cookie-authenticated changes, the login limiter, the event stream (SSE), the OpenAPI
 * document, and every ApiPlugin the daemon passes in. No business logic: the handlers are the daemon's.
 */
import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { ApiConfig } from '../../config/schema-api.ts';
import { type ControlError, type ControlErrorCode, ERROR_STATUS, ROUTES } from '../contract.ts';
import { type ControlHandlers, dispatchControl } from '../control-server.ts';
import type { ApiContext, ApiEvent, ApiPlugin, AuditResult, Principal, Role } from '../http-plugin.ts';
import type { AuditLog } from './audit.ts';
import { LoginLimiter, parseCookies, Sessions } from './auth.ts';
import { describeAction, resultOf } from './control-audit.ts';
import type { EventHub } from './events.ts';
import { openApiDocument } from './openapi.ts';
import { roleAllows, type UserStore, verifyPassword } from './users.ts';

/** The session cookie's name. */
export const SESSION_COOKIE = 'tandem_session';
/** The header a cookie-authenticated change must carry. */
export const CSRF_HEADER = 'x-csrf-token';
/** The most event-stream clients at once. */
export const MAX_STREAMS = 64;
/** A stream client that falls this far behind is dropped (a slow reader cannot make the daemon buffer without end). */
export const MAX_STREAM_BACKLOG = 1024 * 1024;

/** What the app needs. */
export interface ApiAppOptions {
  handlers: ControlHandlers;
  users: UserStore;
  audit: AuditLog;
  hub: EventHub;
  config: ApiConfig;
  /** HTTPS: key and cert (PEM); also makes the session cookie Secure. */
  https?: { key: Buffer; cert: Buffer };
  plugins?: readonly ApiPlugin[];
  /** Wall clock. @default Date.now */
  now?: () => number;
  log?: (level: 'info' | 'warn' | 'error', msg: string) => void;
  /** Heartbeat of the event stream. @default 15000 */
  streamHeartbeatMs?: number;
}

/** The control routes under `/api`, with the role each needs. */
const CONTROL: ReadonlyArray<{ route: string; role: Role }> = [
  { route: ROUTES.status, role: 'viewer' },
  { route: ROUTES.standby, role: 'operator' },
  { route: ROUTES.takeover, role: 'operator' },
  { route: ROUTES.group, role: 'operator' },
  { route: ROUTES.rs, role: 'operator' },
  { route: ROUTES.reload, role: 'admin' },
];

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const sameText = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

function sendError(reply: FastifyReply, e: ControlError): FastifyReply {
  if (e.retryAfterS !== undefined) reply.header('retry-after', String(e.retryAfterS));
  return reply.code(ERROR_STATUS[e.code]).type('application/json').send(e);
}

/** Builds the app (not listening: `listen` it, or drive it with `inject`). */
export async function buildApiApp(o: ApiAppOptions): Promise<FastifyInstance> {
  const now = o.now ?? Date.now;
  const log = o.log ?? (() => {});
  const cfg = o.config;
  const sessions = new Sessions(cfg.session_ttl);
  const limiter = new LoginLimiter({
    maxFailures: cfg.login.max_failures,
    windowMs: cfg.login.window,
    lockoutMs: cfg.login.lockout,
    perAddressPerMinute: cfg.login.per_address_per_minute,
  });
  const app = Fastify({
    logger: false,
    bodyLimit: cfg.body_limit,
    requestTimeout: cfg.request_timeout,
    connectionTimeout: cfg.connection_timeout,
    keepAliveTimeout: cfg.keep_alive_timeout,
    forceCloseConnections: true,
    return503OnClosing: true,
    ...(o.https ? { https: o.https } : {}),
  }) as unknown as FastifyInstance;

  // No stack traces, no framework wording: every error is a ControlError; a 5xx is logged here with its stack.
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const status = err.statusCode ?? 500;
    if (status === 413)
      return sendError(reply, {
        code: 'TND_API_TOO_LARGE',
        message: `the request body is larger than ${cfg.body_limit} bytes (api.body_limit)`,
      });
    if (status < 500) return sendError(reply, { code: 'TND_CTL_BAD_REQUEST', message: err.message });
    log('error', `API ${req.method} ${req.url}: ${err.stack ?? err.message}`);
    return sendError(reply, { code: 'TND_CTL_INTERNAL', message: 'internal error; the daemon log has the details' });
  });
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, { code: 'TND_CTL_NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` }),
  );
  app.addHook('onSend', async (req, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    if (req.url.startsWith('/api/')) reply.header('cache-control', 'no-store');
    return payload;
  });

  const refuse = (reply: FastifyReply, code: ControlErrorCode, message: string): undefined => {
    sendError(reply, { code, message });
    return undefined;
  };

  const audit = (who: Principal, action: string, target: string, result: AuditResult, detail?: string): void => {
    o.audit.write(who, action, target, result, detail);
  };

  /** Who is calling, or undefined when the request carries no valid credentials (nothing sent yet). */
  const authenticate = (
    req: FastifyRequest,
  ): { principal: Principal; csrf?: string; sessionId?: string } | { error: ControlErrorCode; message: string } => {
    const from = req.ip;
    const authz = req.headers.authorization;
    if (authz !== undefined) {
      const m = /^Bearer\s+(\S+)$/i.exec(authz);
      const t = m ? o.users.token(m[1]!) : undefined;
      if (!t)
        return { error: 'TND_API_UNAUTHENTICATED', message: 'the bearer token is not valid (revoked or mistyped)' };
      return { principal: { name: t.name, role: t.role, via: 'token', from } };
    }
    const id = parseCookies(req.headers.cookie).get(SESSION_COOKIE);
    const s = id ? sessions.get(id, now()) : undefined;
    if (!s)
      return {
        error: 'TND_API_UNAUTHENTICATED',
        message: id
          ? 'the session has expired or ended; log in again'
          : 'log in (POST /api/v1/login) or send a bearer token',
      };
    // The users file is the authority: a deleted user's sessions end, a changed role applies at once.
    const u = o.users.user(s.user);
    if (!u) {
      sessions.dropUser(s.user);
      return { error: 'TND_API_UNAUTHENTICATED', message: `user ${s.user} no longer exists` };
    }
    s.role = u.role;
    return { principal: { name: s.user, role: u.role, via: 'session', from }, csrf: s.csrf, sessionId: s.id };
  };

  /** Authenticates, checks CSRF and the role; replies and audits a refusal. */
  const authorize = async (
    req: FastifyRequest,
    reply: FastifyReply,
    role: Role,
    what?: { action: string; target: string },
  ): Promise<Principal | undefined> => {
    const a = authenticate(req);
    if ('error' in a) return refuse(reply, a.error, a.message);
    const action = what?.action ?? `${req.method} ${req.routeOptions.url ?? req.url}`;
    const target = what?.target ?? '';
    if (a.principal.via === 'session' && !SAFE_METHODS.has(req.method)) {
      const sent = req.headers[CSRF_HEADER];
      if (typeof sent !== 'string' || !a.csrf || !sameText(sent, a.csrf)) {
        audit(a.principal, action, target, 'refused', 'TND_API_CSRF missing or wrong X-CSRF-Token');
        return refuse(
          reply,
          'TND_API_CSRF',
          `a change with a session cookie needs the ${CSRF_HEADER} header the login returned`,
        );
      }
    }
    if (!roleAllows(a.principal.role, role)) {
      audit(a.principal, action, target, 'refused', `TND_API_FORBIDDEN needs role ${role}`);
      return refuse(
        reply,
        'TND_API_FORBIDDEN',
        `${a.principal.name} has role ${a.principal.role}; ${action} needs ${role} or above`,
      );
    }
    return a.principal;
  };

  const ctx: ApiContext = {
    require: (req, reply, role) => authorize(req, reply, role),
    audit,
    status: async () => await o.handlers.status(),
    onEvent: (h) => o.hub.subscribe(h),
  };

  // Control routes: the same dispatcher as the local socket.
  for (const { route, role } of CONTROL) {
    const [method, path] = route.split(' ') as ['GET' | 'POST', string];
    app.route({
      method,
      url: `/api${path}`,
      handler: async (req, reply) => {
        const body = (req.body ?? undefined) as Record<string, unknown> | undefined;
        if (body !== undefined && (typeof body !== 'object' || Array.isArray(body)))
          return sendError(reply, { code: 'TND_CTL_BAD_REQUEST', message: 'the body must be a JSON object' });
        const what = describeAction(route, body);
        const who = await authorize(req, reply, role, what);
        if (!who) return reply;
        const r = await dispatchControl(route, body, o.handlers);
        if (what) {
          const { result, detail } = resultOf(r);
          audit(who, what.action, what.target, result, detail);
        }
        return reply.code(r.status).type('application/json').send(r.body);
      },
    });
  }

  app.post('/api/v1/login', async (req, reply) => {
    const b = req.body as { user?: unknown; password?: unknown } | undefined;
    const user = b?.user;
    const password = b?.password;
    if (typeof user !== 'string' || typeof password !== 'string' || user.length > 256 || password.length > 4096)
      return sendError(reply, {
        code: 'TND_CTL_BAD_REQUEST',
        message: 'the body must be {"user": "...", "password": "..."}',
      });
    const from = req.ip;
    const who: Principal = { name: user, role: 'viewer', via: 'session', from };
    const gate = limiter.check(user, from, now());
    if (!gate.ok) {
      const retryAfterS = Math.max(1, Math.ceil(gate.retryAfterMs / 1000));
      const message =
        gate.code === 'TND_API_RATE_LIMITED'
          ? `too many login attempts from ${from}; try again in ${retryAfterS} s`
          : `${gate.who === 'user' ? `user ${user}` : `address ${from}`} is locked out after repeated failed logins; try again in ${retryAfterS} s`;
      audit(who, 'login', user, 'refused', `${gate.code} ${message}`);
      return sendError(reply, { code: gate.code, message, retryAfterS });
    }
    const u = o.users.user(user);
    if (!(await verifyPassword(password, u?.hash)) || !u) {
      const locked = limiter.fail(user, from, now());
      audit(who, 'login', user, 'refused', 'TND_API_UNAUTHENTICATED wrong user or password');
      for (const w of locked) {
        const what = w === 'user' ? `user ${user}` : `address ${from}`;
        log(
          'warn',
          `API login: ${what} locked out for ${cfg.login.lockout} ms after ${cfg.login.max_failures} failed logins`,
        );
        audit(
          who,
          'lockout',
          w === 'user' ? user : from,
          'refused',
          `TND_API_LOCKED_OUT ${what} for ${cfg.login.lockout} ms`,
        );
      }
      return sendError(reply, { code: 'TND_API_UNAUTHENTICATED', message: 'wrong user or password' });
    }
    limiter.succeed(user);
    const s = sessions.create(u.name, u.role, now());
    audit({ ...who, role: u.role }, 'login', user, 'ok');
    const cookie = [
      `${SESSION_COOKIE}=${s.id}`,
      'Path=/',
      'HttpOnly',
      'SameSite=Strict',
      `Max-Age=${Math.floor(cfg.session_ttl / 1000)}`,
      ...(o.https ? ['Secure'] : []),
    ].join('; ');
    reply.header('set-cookie', cookie);
    return reply.send({ user: u.name, role: u.role, csrf: s.csrf });
  });

  app.post('/api/v1/logout', async (req, reply) => {
    const who = await authorize(req, reply, 'viewer', { action: 'logout', target: '' });
    if (!who) return reply;
    const id = parseCookies(req.headers.cookie).get(SESSION_COOKIE);
    if (id) sessions.delete(id);
    audit(who, 'logout', who.name, 'ok');
    reply.header(
      'set-cookie',
      `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${o.https ? '; Secure' : ''}`,
    );
    return reply.send({ user: who.name });
  });

  app.get('/api/v1/whoami', async (req, reply) => {
    const a = authenticate(req);
    if ('error' in a) return sendError(reply, { code: a.error, message: a.message });
    const p = a.principal;
    return reply.send({ user: p.name, role: p.role, via: p.via, from: p.from, ...(a.csrf ? { csrf: a.csrf } : {}) });
  });

  app.get('/api/v1/openapi.json', async (_req, reply) => reply.send(openApiDocument()));

  // The event stream: Server-Sent Events, one `event: TYPE` / `data: JSON` block per event.
  const streams = new Set<() => void>();
  app.get('/api/v1/events', async (req, reply) => {
    const who = await authorize(req, reply, 'viewer');
    if (!who) return reply;
    if (streams.size >= MAX_STREAMS)
      return sendError(reply, {
        code: 'TND_API_RATE_LIMITED',
        message: `at most ${MAX_STREAMS} event streams at once`,
        retryAfterS: 5,
      });
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-content-type-options': 'nosniff',
    });
    res.write(`retry: 3000\n: tandem event stream for ${who.name} (${who.role})\n\n`);
    const send = (e: ApiEvent): void => {
      if (res.writableLength > MAX_STREAM_BACKLOG) {
        end();
        return;
      }
      res.write(`event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
    };
    const off = o.hub.subscribe(send);
    const beat = setInterval(() => res.write(': keep-alive\n\n'), o.streamHeartbeatMs ?? 15_000);
    beat.unref();
    const end = (): void => {
      off();
      clearInterval(beat);
      streams.delete(end);
      res.end();
    };
    streams.add(end);
    req.raw.on('close', end);
    res.on('error', end);
  });
  app.addHook('onClose', async () => {
    for (const end of [...streams]) end();
  });

  for (const plugin of o.plugins ?? []) await app.register(async (scope) => plugin(scope, ctx));
  await app.ready();
  return app;
}
