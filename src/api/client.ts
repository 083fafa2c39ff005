/** The CLI side of the control socket, and of a remote node's HTTP API (`--node URL`, issue 12). */
import { readFileSync, statSync } from 'node:fs';
import { type ClientRequest, type IncomingMessage, request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { DEFAULT_CONTROL_SOCKET } from './contract.ts';

/** A remote node's HTTP API: its base URL, the bearer token and the CA to trust; or why it cannot be used. */
export interface RemoteTarget {
  url: string;
  token?: string;
  ca?: Buffer;
  problem?: string;
}

/** Where a control command goes: `--node URL` (token from $TANDEM_TOKEN or --token-file, CA from --cacert), else the socket. */
export function controlTarget(o: {
  control?: string;
  node?: string;
  tokenFile?: string;
  cacert?: string;
}): string | RemoteTarget {
  if (!o.node) return controlPath(o.control);
  const t: RemoteTarget = { url: o.node };
  try {
    const u = new URL(o.node);
    if (u.protocol !== 'http:' && u.protocol !== 'https:')
      t.problem = `--node ${o.node}: must be an http:// or https:// URL`;
  } catch {
    t.problem = `--node ${o.node}: not a URL (e.g. https://d1.example:8443)`;
  }
  try {
    if (o.tokenFile) {
      if ((statSync(o.tokenFile).mode & 0o077) !== 0)
        t.problem = `--token-file ${o.tokenFile} is readable by group or others; chmod 600 it`;
      t.token = readFileSync(o.tokenFile, 'utf8').trim();
    } else if (process.env.TANDEM_TOKEN) t.token = process.env.TANDEM_TOKEN.trim();
    if (o.cacert) t.ca = readFileSync(o.cacert);
  } catch (e) {
    t.problem = (e as Error).message;
  }
  return t;
}

/** The socket to talk to: --control, then $TANDEM_CONTROL, then the default. */
export function controlPath(flag?: string): string {
  return flag ?? process.env.TANDEM_CONTROL ?? DEFAULT_CONTROL_SOCKET;
}

/** A reply from the daemon, or why there is none. */
export type ControlReply =
  | { ok: true; status: number; body: unknown }
  | { ok: false; error: 'no-daemon' | 'timeout' | 'bad-reply'; message: string };

/** Sends one request to the daemon (its socket, or a remote node's API under /api). Never throws. */
export function callDaemon(
  target: string | RemoteTarget,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  timeoutMs = 10_000,
): Promise<ControlReply> {
  if (typeof target !== 'string' && target.problem)
    return Promise.resolve({ ok: false, error: 'no-daemon', message: target.problem });
  const socketPath = typeof target === 'string' ? target : target.url;
  return new Promise((resolve) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string | number> = payload
      ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
      : {};
    let req: ClientRequest;
    const onReply = (res: IncomingMessage) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        text += c;
      });
      res.on('end', () => {
        try {
          resolve({ ok: true, status: res.statusCode ?? 0, body: JSON.parse(text) });
        } catch {
          resolve({
            ok: false,
            error: 'bad-reply',
            message: `the daemon answered something that is not JSON: ${text.slice(0, 200)}`,
          });
        }
      });
    };
    if (typeof target === 'string') req = request({ socketPath, method, path, headers, timeout: timeoutMs }, onReply);
    else {
      const u = new URL(target.url);
      u.pathname = `${u.pathname.replace(/\/$/, '')}/api${path}`;
      if (target.token) headers.authorization = `Bearer ${target.token}`;
      const send = u.protocol === 'https:' ? httpsRequest : request;
      req = send(u, { method, headers, timeout: timeoutMs, ...(target.ca ? { ca: target.ca } : {}) }, onReply);
    }
    req.on('timeout', () => {
      req.destroy();
      resolve({
        ok: false,
        error: 'timeout',
        message: `the daemon at ${socketPath} did not answer within ${timeoutMs} ms`,
      });
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      const why =
        e.code === 'ENOENT' || e.code === 'ECONNREFUSED'
          ? typeof target === 'string'
            ? 'is tandem running?'
            : 'is tandem running there with --api / api.listen?'
          : e.message;
      resolve({
        ok: false,
        error: 'no-daemon',
        message: `cannot reach the daemon at ${socketPath} (${e.code ?? 'error'}): ${why}`,
      });
    });
    if (payload) req.write(payload);
    req.end();
  });
}
