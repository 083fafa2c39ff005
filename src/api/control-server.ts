/**
 * The local control socket: HTTP/1.1 with JSON bodies over a unix socket (mode 0600, so only root — or the daemon's
 * user — can steer the node). The CLI's status/standby/takeover/reload go through it. No business logic here.
 */
import { chmodSync, lstatSync, mkdirSync, rmSync, type Stats } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { dirname } from 'node:path';
import { TandemError } from '../core/errors.ts';
import type { RsOutcome, RsVerb } from '../lb/runtime.ts';
import type { DaemonStatus, ReloadSummary } from '../node/node.ts';
import { type InstanceSelector, UnknownInstanceError } from '../node/node.ts';

/** Where the control socket lives by default. */
export const DEFAULT_CONTROL_SOCKET = '/run/tandem/tandem.sock';

/** What the control socket can ask of the running daemon. */
export interface ControlHandlers {
  status(): DaemonStatus | Promise<DaemonStatus>;
  /** `tandem group cleanup|maintenance|manage NAME`: false when this node runs no such group. @default none: 404 */
  group?(name: string, action: 'cleanup' | 'maintenance' | 'manage'): boolean;
  /** A `tandem rs` request. @default none: 404 */
  rs?(service: string, req: RsVerb): Promise<RsOutcome>;
  standby(names: string[] | InstanceSelector, clear: boolean): string[];
  takeover(names: string[] | InstanceSelector, clear: boolean): string[];
  /** Reloads the config file; returns the summary or the diagnostics that made it refuse. */
  reload(): { ok: true; summary: ReloadSummary } | { ok: false; diagnostics: string[] };
}

/** A JSON error body: a stable code and a sentence. */
export interface ControlError {
  code:
    | 'TND_CTL_NOT_FOUND'
    | 'TND_CTL_BAD_REQUEST'
    | 'TND_CTL_UNKNOWN_INSTANCE'
    | 'TND_CTL_RELOAD_REFUSED'
    | 'TND_CTL_RS_REFUSED';
  message: string;
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
export async function startControlServer(path: string, h: ControlHandlers): Promise<{ close(): Promise<void> }> {
  const problem = controlPathProblem(path);
  if (problem) throw new TandemError('TND_DAEMON_CONTROL', problem);
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  // A socket left by a crashed daemon would make listen fail with EADDRINUSE; the lock says nobody serves it.
  rmSync(path, { force: true });
  const server: Server = createServer((req, res) => {
    handle(req, res, h).catch((e: unknown) => send(res, 500, { code: 'TND_CTL_BAD_REQUEST', message: String(e) }));
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

async function handle(req: IncomingMessage, res: ServerResponse, h: ControlHandlers): Promise<void> {
  const route = `${req.method} ${req.url}`;
  if (route === 'GET /v1/status') return send(res, 200, await h.status());
  if (route === 'POST /v1/group' && h.group) {
    const body = await readJson(req);
    const name = body?.name;
    const action = body?.action;
    if (typeof name !== 'string' || (action !== 'cleanup' && action !== 'maintenance' && action !== 'manage'))
      return send(res, 400, {
        code: 'TND_CTL_BAD_REQUEST',
        message: 'name must be a group name and action one of cleanup, maintenance, manage',
      });
    if (!h.group(name, action))
      return send(res, 404, { code: 'TND_CTL_UNKNOWN_INSTANCE', message: `this node runs no group ${name}` });
    return send(res, 200, { group: name, action });
  }
  if (route === 'POST /v1/rs' && h.rs) {
    const body = await readJson(req);
    const parsed = parseRs(body);
    if (typeof parsed === 'string') return send(res, 400, { code: 'TND_CTL_BAD_REQUEST', message: parsed });
    const r = await h.rs(parsed.service, parsed.req);
    return r.ok
      ? send(res, 200, r)
      : send(res, 409, { code: 'TND_CTL_RS_REFUSED', message: r.message, reason: r.reason });
  }
  if (route === 'POST /v1/reload') {
    const r = h.reload();
    return r.ok
      ? send(res, 200, r.summary)
      : send(res, 409, {
          code: 'TND_CTL_RELOAD_REFUSED',
          message: `the new config has errors; the running config is kept\n${r.diagnostics.join('\n')}`,
        });
  }
  if (route === 'POST /v1/standby' || route === 'POST /v1/takeover') {
    const body = await readJson(req);
    const names = body?.instances;
    if (
      names !== 'all' &&
      names !== 'local' &&
      names !== 'foreign' &&
      !(Array.isArray(names) && names.every((n) => typeof n === 'string'))
    )
      return send(res, 400, {
        code: 'TND_CTL_BAD_REQUEST',
        message: 'instances must be "all", "local", "foreign" or a list of names',
      });
    const clear = body?.clear === true;
    try {
      const done = route === 'POST /v1/standby' ? h.standby(names, clear) : h.takeover(names, clear);
      return send(res, 200, { instances: done });
    } catch (e) {
      if (e instanceof UnknownInstanceError)
        return send(res, 404, { code: 'TND_CTL_UNKNOWN_INSTANCE', message: e.message });
      throw e;
    }
  }
  return send(res, 404, { code: 'TND_CTL_NOT_FOUND', message: `no route ${route}` });
}

/** Checks a `tandem rs` body: `{ service, verb, server, weight?, wait? }`. */
function parseRs(body: Record<string, unknown> | undefined): { service: string; req: RsVerb } | string {
  const service = body?.service;
  const server = body?.server;
  const verb = body?.verb;
  if (typeof service !== 'string' || typeof server !== 'string') return 'service and server must be strings';
  const weight = body?.weight;
  switch (verb) {
    case 'drain':
      return { service, req: { verb, server, wait: body?.wait !== false } };
    case 'enable':
    case 'maint':
    case 'remove':
      return { service, req: { verb, server } };
    case 'weight':
      if (weight !== null && typeof weight !== 'number') return 'weight must be a number, or null to reset';
      return { service, req: { verb, server, weight } };
    case 'add':
      if (weight !== undefined && typeof weight !== 'number') return 'weight must be a number';
      return { service, req: { verb, server, weight: weight ?? 1 } };
    default:
      return 'verb must be one of drain, enable, maint, weight, add, remove';
  }
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > 65_536) return undefined;
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
