/**
 * The HTTP API listener on TCP (`tandem run --api ADDR:PORT`, `api.listen`): TLS with the cert/key files of `api.tls`,
 * plain HTTP only on a loopback address. Anything else refuses to start with TND_API_TLS_REQUIRED naming the key, and
 * a bad address, a port in use or an unreadable TLS file with TND_API_LISTEN naming the file: before any VIP moves.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { type ApiConfig, isLoopback, parseListen } from '../../config/schema-api.ts';
import { TandemError } from '../../core/errors.ts';
import { type ApiAppOptions, buildApiApp } from './app.ts';

/** A listening API. */
export interface ApiServer {
  app: FastifyInstance;
  /** The bound address and port (port 0 resolved). */
  address: { host: string; port: number };
  url: string;
  close(): Promise<void>;
}

/** Where a listen setting came from, for the error messages. */
export type ListenSource = '--api' | 'api.listen';

/** Checks the listen address against TLS: the reason it may not start, or null. */
export function listenProblem(listen: string, cfg: ApiConfig, source: ListenSource): TandemError | null {
  const l = parseListen(listen);
  if (!l)
    return new TandemError(
      'TND_API_LISTEN',
      `${source} ${listen}: must be ADDRESS:PORT or [IPv6]:PORT (port 1..65535)`,
    );
  if (!cfg.tls && !isLoopback(l.host))
    return new TandemError(
      'TND_API_TLS_REQUIRED',
      `${source} ${listen} is not a loopback address: set api.tls.cert and api.tls.key (HTTPS), or listen on 127.0.0.1 or [::1]; plain HTTP is refused`,
    );
  return null;
}

/** Starts the listener; rejects with a TandemError when it cannot. */
export async function startApiServer(
  listen: string,
  source: ListenSource,
  opts: Omit<ApiAppOptions, 'https'>,
): Promise<ApiServer> {
  const problem = listenProblem(listen, opts.config, source);
  if (problem) throw problem;
  const l = parseListen(listen)!;
  let https: { key: Buffer; cert: Buffer } | undefined;
  const tls = opts.config.tls;
  if (tls) {
    const read = (key: string, path: string): Buffer => {
      try {
        return readFileSync(path);
      } catch (e) {
        throw new TandemError('TND_API_LISTEN', `api.tls.${key} ${path}: ${(e as Error).message}`);
      }
    };
    https = { cert: read('cert', tls.cert), key: read('key', tls.key) };
  }
  let app: FastifyInstance;
  try {
    app = await buildApiApp({ ...opts, ...(https ? { https } : {}) });
  } catch (e) {
    if (e instanceof TandemError) throw e;
    throw new TandemError('TND_API_LISTEN', `api.tls: the certificate or key cannot be used: ${(e as Error).message}`);
  }
  try {
    await app.listen({ host: l.host, port: l.port });
  } catch (e) {
    await app.close().catch(() => {});
    throw new TandemError('TND_API_LISTEN', `${source} ${listen}: cannot listen: ${(e as Error).message}`);
  }
  const a = app.server.address() as AddressInfo;
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return {
    app,
    address: { host: a.address, port: a.port },
    url: `${https ? 'https' : 'http'}://${host}:${a.port}`,
    close: () => app.close(),
  };
}
