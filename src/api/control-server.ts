/**
 * The local control socket: HTTP/1.1 with JSON bodies over a unix socket (mode 0600, so only root — or the daemon's
 * user — can steer the node). The CLI's status/standby/takeover/reload go through it. No business logic here.
 */
import { chmodSync, lstatSync, mkdirSync, rmSync, type Stats } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { dirname } from 'node:path';
import { type Diagnostic, formatDiagnostic } from '../config/diagnostics.ts';
import { TandemError } from '../core/errors.ts';
import {
  type ControlError,
  type ControlErrorCode,
  type DaemonStatus,
  DEFAULT_CONTROL_SOCKET,
  ERROR_STATUS,
  type GroupAction,
  type InstanceSelector,
  type OrderReply,
  parseGroup,
  parseOrder,
  parseRs,
  type ReloadSummary,
  ROUTES,
  type RsOutcome,
  type RsVerb,
} from './contract.ts';

export { DEFAULT_CONTROL_SOCKET };

/** What the control socket can ask of the running daemon. */
export interface ControlHandlers {
  status(): DaemonStatus | Promise<DaemonStatus>;
  /**
   * `tandem group cleanup|maintenance|manage NAME`; throws TandemError TND_CTL_UNKNOWN_GROUP when this node runs no
   * such group. @default none: 404
   */
  group?(name: string, action: GroupAction): void;
  /** A `tandem rs` request. @default none: 404 */
  rs?(service: string, req: RsVerb): Promise<RsOutcome>;
  /** Throws TandemError TND_CTL_UNKNOWN_INSTANCE for an instance this node does not run. */
  standby(names: string[] | InstanceSelector, clear: boolean): string[];
  takeover(names: string[] | InstanceSelector, clear: boolean): string[];
  /** Reloads the config file; returns the summary or the diagnostics that made it refuse. */
  reload(): { ok: true; summary: ReloadSummary } | { ok: false; diagnostics: Diagnostic[] };
  /** issue 12, metrics: `GET /v1/metrics`, the Prometheus text format. @default none: 404 */
  metrics?(): Promise<string>;
  /**
   * The cluster's shared config (src/cluster/): `/v1/config…` and `/v1/cluster` requests, answered with a status and
   * a JSON body. @default none: 404
   */
  cluster?(
    method: string,
    url: string,
    body: Record<string, unknown> | undefined,
  ): Promise<{ status: number; body: unknown }>;
}

/** Options of {@link startControlServer}. */
export interface ControlServerOptions {
  /** Called after each request with its route, body and reply (the daemon audits the socket's actions with it). */
  onAction?(route: string, body: Record<string, unknown> | undefined, reply: DispatchReply): void;
}

/**
 * Why `path` cannot be the control socket, or null: an existing file that is not a socket is never deleted (a typo in
 * `--control` must not destroy a file). An existing socket is a dead daemon's leftover once the caller holds the
 * daemon lock (os/daemon-lock.ts), and is replaced.
 */
export function controlPathProblem(path: string): string | null {
  try {
    const st = lstatSync(path);
    if (!st.isSocket())
      return `${path} exists and is not a socket (a ${kindOf(st)}); tandem does not delete it: pass another --control PATH`;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') return `${path}: ${(e as Error).message}`;
  }
  return null;
}

function kindOf(st: Stats): string {
  if (st.isFile()) return 'regular file';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symbolic link';
  return 'special file';
}

/**
 * Starts the control server on `path`; resolves once it listens. The caller holds the daemon lock for `path`.
 * Rejects (a TandemError TND_DAEMON_CONTROL) when `path` is a file that is not a socket.
 */
export async function startControlServer(
  path: string,
  h: ControlHandlers,
  opts: ControlServerOptions = {},
): Promise<{ close(): Promise<void> }> {
  const problem = controlPathProblem(path);
  if (problem) throw new TandemError('TND_DAEMON_CONTROL', problem);
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  // A socket left by a crashed daemon would make listen fail with EADDRINUSE; the lock says nobody serves it.
  rmSync(path, { force: true });
  const server: Server = createServer((req, res) => {
    handle(req, res, h, opts.onAction).catch((e: unknown) => fail(res, failure(e)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  chmodSync(path, 0o600);
  const ino = lstatSync(path).ino;
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        // Only our own socket: a daemon started after this one lost its lock (its supervisor died) owns the path now.
        try {
          if (lstatSync(path).ino === ino) rmSync(path, { force: true });
        } catch {
          // already gone
        }
      }),
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  h: ControlHandlers,
  onAction?: ControlServerOptions['onAction'],
): Promise<void> {
  const route = `${req.method} ${req.url}`;
  // issue 12, metrics: the one text route (Prometheus' format), served before the JSON dispatcher
  if (route === ROUTES.metrics && h.metrics) {
    const text = await h.metrics();
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
    res.end(text);
    return;
  }
  // the cluster's shared config (src/cluster/control-routes.ts): config texts may be larger than other bodies
  if (h.cluster && /^\/v1\/(config|cluster)(\/|\?|$)/.test(req.url ?? '')) {
    const body = req.method === 'POST' ? await readJson(req, CLUSTER_BODY_LIMIT) : undefined;
    if (req.method === 'POST' && !body)
      return fail(res, { code: 'TND_CTL_BAD_REQUEST', message: 'the body must be a JSON object (at most 4 MiB)' });
    const r = await h.cluster(req.method ?? 'GET', req.url ?? '/', body);
    return send(res, r.status, r.body);
  }
  const body = req.method === 'POST' ? await readJson(req) : undefined;
  const r = await dispatchControl(route, body, h);
  onAction?.(route, body, r);
  send(res, r.status, r.body);
}

/** A reply of {@link dispatchControl}: the HTTP status and the JSON body (a ControlError when status ≥ 400). */
export interface DispatchReply {
  status: number;
  body: unknown;
}

/**
 * Runs one control request — `route` is `METHOD /v1/…` as in ROUTES, `body` the parsed JSON — against the handlers
 * and returns the reply. The control socket and the HTTP API (api/http/) both serve through this, so the two answer
 * alike. Never throws: a handler's failure is its ControlError.
 */
export async function dispatchControl(
  route: string,
  body: Record<string, unknown> | undefined,
  h: ControlHandlers,
): Promise<DispatchReply> {
  try {
    return await dispatch(route, body, h);
  } catch (e) {
    return error(failure(e));
  }
}

const ok = (body: unknown): DispatchReply => ({ status: 200, body });
const error = (e: ControlError): DispatchReply => ({ status: ERROR_STATUS[e.code], body: e });

async function dispatch(
  route: string,
  body: Record<string, unknown> | undefined,
  h: ControlHandlers,
): Promise<DispatchReply> {
  switch (route) {
    case ROUTES.status:
      return ok(await h.status());
    case ROUTES.group: {
      if (!h.group) break;
      const p = parseGroup(body);
      if (!p.ok) return error({ code: 'TND_CTL_BAD_REQUEST', message: p.message });
      h.group(p.value.name, p.value.action);
      return ok({ group: p.value.name, action: p.value.action });
    }
    case ROUTES.rs: {
      if (!h.rs) break;
      const p = parseRs(body);
      if (!p.ok) return error({ code: 'TND_CTL_BAD_REQUEST', message: p.message });
      const r = await h.rs(p.value.service, p.value.req);
      return r.ok ? ok(r) : error({ code: 'TND_CTL_RS_REFUSED', message: r.message, reason: r.reason });
    }
    case ROUTES.reload: {
      const r = h.reload();
      if (r.ok) return ok(r.summary);
      const errors = r.diagnostics.filter((d) => d.severity === 'error');
      return error({
        code: 'TND_CTL_RELOAD_REFUSED',
        message: `the new config has errors; the running config is kept\n${errors.map(formatDiagnostic).join('\n')}`,
        diagnostics: r.diagnostics,
      });
    }
    case ROUTES.standby:
    case ROUTES.takeover: {
      const p = parseOrder(body);
      if (!p.ok) return error({ code: 'TND_CTL_BAD_REQUEST', message: p.message });
      const { instances, clear } = p.value;
      const done = route === ROUTES.standby ? h.standby(instances, clear) : h.takeover(instances, clear);
      return ok({ instances: done } satisfies OrderReply);
    }
  }
  return error({ code: 'TND_CTL_NOT_FOUND', message: `no route ${route}` });
}

/** Largest body of a cluster config request (a config text). */
const CLUSTER_BODY_LIMIT = 4 * 1024 * 1024 + 65_536;

/**
 * A failure of a handler as an error reply: a TandemError with a control code keeps it (unknown instance or group);
 * anything else is TND_CTL_INTERNAL — a bug, never blamed on the request.
 */
function failure(e: unknown): ControlError {
  if (e instanceof TandemError && e.code in ERROR_STATUS)
    return { code: e.code as ControlErrorCode, message: e.message };
  return { code: 'TND_CTL_INTERNAL', message: `internal error: ${e instanceof Error ? e.message : String(e)}` };
}

function fail(res: ServerResponse, e: ControlError): void {
  send(res, ERROR_STATUS[e.code], e);
}

async function readJson(req: IncomingMessage, limit = 65_536): Promise<Record<string, unknown> | undefined> {
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > limit) return undefined;
  }
  try {
    const v = JSON.parse(text || '{}');
    return v && typeof v === 'object' ? v : undefined;
  } catch {
    return undefined;
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
