/**
 * What the TCP and HTTP sides of the proxy share: the run-time context of one service (its backends, its current
 * settings, where passive-health reports go), the listener contract, and the words for socket errors.
 */
import type { Server as NetServer } from 'node:net';
import { connectErrorCode, describeSocketError, errnoOf } from '../../core/socket-error.ts';

export { errnoOf };

import type { Ms } from '../../core/time.ts';
import type { PassiveFailure, ProxySettings } from '../../lb/dataplane.ts';
import type { BackendPool, ConnectFailureCode } from './pool.ts';

/** One service as its listener sees it. Settings change in place on apply; the listener stays. */
export interface ServiceCtx {
  readonly id: string;
  readonly pool: BackendPool;
  settings: ProxySettings;
  /** The injected clock (persistence). */
  now(): Ms;
  /** Passes a passive-health report on (DataPlane.onPassiveFailure) and logs it; never throws. */
  report(f: PassiveFailure): void;
  log(line: string): void;
}

/** A listening socket of one service and the connections it accepted. */
export interface Listener {
  /** Starts listening; rejects with the socket error (EADDRINUSE, EACCES, EADDRNOTAVAIL …). */
  listen(host: string, port: number): Promise<void>;
  /**
   * Stops accepting at once (the port is free when this returns); open connections may finish, the ones still open
   * after `graceMs` are destroyed. Resolves when the last one is gone.
   */
  drain(graceMs: Ms): Promise<void>;
  /** Stops accepting and destroys every connection now. Resolves when the last one is gone. */
  destroy(): Promise<void>;
  /** Open client connections. */
  readonly open: number;
  /** The service's settings changed in place (`ctx.settings`): take the new timeouts for what comes next. */
  reconfigure(): void;
}

/**
 * An error in plain words with its code: "connection refused (ECONNREFUSED)".
 * @example describeError(Object.assign(new Error('x'), { code: 'ECONNRESET' })) // 'connection reset (ECONNRESET)'
 */
export function describeError(e: unknown): string {
  // Our own errors (codedError) say more than the plain words for their code.
  if ((e as { own?: boolean } | null)?.own) {
    const code = errnoOf(e);
    const message = (e as Error).message;
    return code && !message.includes(code) ? `${message} (${code})` : message;
  }
  return describeSocketError(e);
}

/**
 * The code of a failed connect: SOCKERR for our side, L4TOUT for a timeout, else L4CON.
 * @example connectFailureCode(Object.assign(new Error(), { code: 'ECONNREFUSED' })) // 'L4CON'
 */
export function connectFailureCode(e: unknown): ConnectFailureCode {
  return connectErrorCode(e);
}

/** An Error with a code, as Node's own socket errors carry one (`own`: its message is ours, and precise). */
export function codedError(code: string, message: string): Error & { code: string; own: true } {
  return Object.assign(new Error(message), { code, own: true as const });
}

/**
 * Listens on host:port: rejects with the listen error (EADDRINUSE, EADDRNOTAVAIL, …); later server errors are logged.
 */
export function listenOn(
  server: NetServer,
  host: string,
  port: number,
  ctx: Pick<ServiceCtx, 'id' | 'log'>,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.once('error', onError);
    server.listen({ host, port }, () => {
      server.off('error', onError);
      server.on('error', (e) => ctx.log(`service ${ctx.id}: listener error: ${describeError(e)}`));
      resolve();
    });
  });
}
