/**
 * What the TCP and HTTP sides of the proxy share: the run-time context of one service (its backends, its current
 * settings, where passive-health reports go), the listener contract, and the words for socket errors.
 */
import type { Server as NetServer, Socket as NetSocket } from 'node:net';
import { connectErrorCode, describeSocketError, errnoOf } from '../../core/socket-error.ts';

export { errnoOf };

import type { Ms } from '../../core/time.ts';
import type { PassiveFailure, ProxySettings } from '../../lb/dataplane.ts';
import { CLIENT_UNITS, type FdBudget } from './fd-budget.ts';
import type { BackendPool, ConnectFailureCode } from './pool.ts';
import type { ProxyStatsRecorder } from './stats.ts';

/** Proxy settings with every default filled in. */
export type ResolvedSettings = Required<ProxySettings>;

/** The default header timeout, unless the idle timeout is shorter (nginx client_header_timeout is 60 s). */
export const DEFAULT_CLIENT_HEADER_TIMEOUT_MS: Ms = 10_000;
/** The default of request header fields allowed (HAProxy's tune.http.maxhdr is 101). */
export const DEFAULT_MAX_HEADERS = 100;
/** The default of request line and header bytes allowed (node:http's and HAProxy's tune.bufsize: 16 KiB). */
export const DEFAULT_MAX_HEADER_BYTES = 16_384;

/**
 * `s` with its defaults: the client body and keep-alive timeouts and the response timeout default to the idle
 * timeout, the header timeout to 10 s or the idle timeout if shorter, `maxConnections` to half of what the process
 * budget holds (so that one service cannot take every file descriptor from the others).
 * @example resolveSettings({ ...s, idleTimeoutMs: 5_000 }, budget).clientHeaderTimeoutMs // 5000
 */
export function resolveSettings(s: ProxySettings, budget: FdBudget): ResolvedSettings {
  const idle = s.idleTimeoutMs;
  return {
    ...s,
    clientHeaderTimeoutMs: s.clientHeaderTimeoutMs ?? Math.min(DEFAULT_CLIENT_HEADER_TIMEOUT_MS, idle),
    clientBodyTimeoutMs: s.clientBodyTimeoutMs ?? idle,
    keepAliveTimeoutMs: s.keepAliveTimeoutMs ?? idle,
    responseTimeoutMs: s.responseTimeoutMs ?? idle,
    maxConnections: s.maxConnections ?? Math.max(1, Math.floor(budget.connections / 2)),
    maxHeaders: s.maxHeaders ?? DEFAULT_MAX_HEADERS,
    maxHeaderBytes: s.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES,
  };
}

/** One service as its listener sees it. Settings change in place on apply; the listener stays. */
export interface ServiceCtx {
  readonly id: string;
  readonly pool: BackendPool;
  settings: ResolvedSettings;
  /** The process-wide socket budget (fd-budget.ts). */
  readonly budget: FdBudget;
  /** The injected clock (persistence). */
  now(): Ms;
  /** Passes a passive-health report on (DataPlane.onPassiveFailure) and logs it; never throws. */
  report(f: PassiveFailure): void;
  log(line: string): void;
  /** issue 12, metrics: where requests, bytes and latencies are counted; none in tests that do not ask. */
  readonly stats?: ProxyStatsRecorder;
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

/** Why a new client connection was refused (closed set, Rule 5). */
export type Refusal = 'max-connections' | 'fd-budget';

/** Log a refusal at most this often per service (a flood must not flood the log). */
const REFUSAL_LOG_EVERY_MS: Ms = 10_000;

/**
 * Admission of client connections to one listener: at most `maxConnections` at once, and each takes its units of the
 * process budget; a refused connection is closed at once (never left waiting), and logged at most every 10 s.
 */
export class Admission {
  /** Client connections admitted and still open. */
  open = 0;
  private refused = 0;
  private loggedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly ctx: ServiceCtx) {}

  /** Admits `socket` (true) or destroys it (false); an admitted socket gives its units back when it closes. */
  admit(socket: NetSocket): boolean {
    const ctx = this.ctx;
    const why: Refusal | null =
      this.open >= ctx.settings.maxConnections
        ? 'max-connections'
        : ctx.budget.tryAcquire(CLIENT_UNITS)
          ? null
          : 'fd-budget';
    if (why) {
      socket.destroy();
      this.noteRefusal(why);
      return false;
    }
    this.open++;
    socket.on('close', this.closed);
    return true;
  }

  /** An admitted socket closed ('close' comes once): one function for all of them, nothing allocated per socket. */
  private readonly closed = (): void => {
    this.open--;
    this.ctx.budget.release(CLIENT_UNITS);
  };

  private noteRefusal(why: Refusal): void {
    this.refused++;
    const now = this.ctx.now();
    if (now - this.loggedAt < REFUSAL_LOG_EVERY_MS) return;
    this.loggedAt = now;
    const s = this.ctx.settings;
    const b = this.ctx.budget;
    const text =
      why === 'max-connections'
        ? `max_connections (${s.maxConnections}) reached`
        : `the proxy's file-descriptor budget is spent (${b.used} of ${b.units} sockets; RLIMIT_NOFILE ${b.nofile})`;
    this.ctx.log(`proxy: service ${this.ctx.id}: ${text}; refused ${this.refused} connection(s) since the last report`);
    this.refused = 0;
  }
}

/** How long a closing client connection is read and drained at most (nginx lingering_time is 30 s). */
export const LINGER_MS: Ms = 2_000;

/**
 * A lingering close (nginx `lingering_close`): ends the writing side (after `text`), then reads and drops what the
 * client still sends until it closes too, or {@link LINGER_MS} at most. Closing a socket with unread bytes makes the
 * kernel answer with a reset, and a reset can destroy the response still on its way to the client (a 400 for a
 * pipelined request, the end of an answer): the client would get nothing.
 */
export function lingeringClose(socket: NetSocket, text?: string): void {
  const s = socket as NetSocket & { lingering?: boolean };
  if (s.destroyed || s.lingering) return;
  s.lingering = true;
  const timer = setTimeout(() => s.destroy(), LINGER_MS);
  timer.unref();
  s.once('close', () => clearTimeout(timer));
  s.once('end', () => s.destroy());
  if (s.writable) {
    if (text) s.end(text, 'latin1');
    else s.end();
  }
  s.resume();
}
