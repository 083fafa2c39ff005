/**
 * The HTTP side of the proxy: an HTTP/1.1 reverse proxy that chooses a backend per request. Clients talk to node:http
 * (its parser checks what they send); each backend has a keep-alive pool of lean HTTP/1.1 connections (upstream.ts)
 * that requests reuse. Bodies stream both ways with back-pressure. A request whose connection fails before any
 * response byte goes to another backend when that is safe (an idempotent method whose body was not sent yet:
 * headers.ts `mayRetry`; a reused keep-alive connection the server had closed is retried on a fresh one without using
 * up `retries`); otherwise the client gets 502, 504 when the server goes quiet before answering (for the idle
 * timeout) or does not accept the connection in time, 503 when no backend takes new requests. Errors never escape:
 * every socket has its error handled.
 */
import http from 'node:http';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Ms } from '../../core/time.ts';
import { type Forwarded, mayRetry, type RequestHeadInfo, requestHeaders, responseHeaders } from './headers.ts';
import type { PoolClient, ProxyBackend } from './pool.ts';
import type { ResponseHead } from './response-parser.ts';
import { connectFailureCode, describeError, errnoOf, type Listener, listenOn, type ServiceCtx } from './service.ts';
import {
  type BodyFraming,
  DEFAULT_UPSTREAM_LIMITS,
  type UpstreamConn,
  type UpstreamFailure,
  type UpstreamLimits,
  UpstreamPool,
  type UpstreamUser,
} from './upstream.ts';

/** Retries of a request whose reused keep-alive connection turned out closed (not the server's fault, not counted). */
const STALE_RETRIES = 2;

/** Idle pooled connections of a backend (0 without a pool). */
export function idleConnections(b: ProxyBackend): number {
  return b.upstream instanceof UpstreamPool ? b.upstream.idleCount : 0;
}

/** Pool hook: a backend left the desired state; its idle connections close and it keeps no more. */
export function retireUpstream(b: ProxyBackend): void {
  if (b.upstream instanceof UpstreamPool) b.upstream.retire();
}

/** Pool hook: a retired backend is back in the desired state; its pool keeps idle connections again. */
export function reviveUpstream(b: ProxyBackend): void {
  if (b.upstream instanceof UpstreamPool) b.upstream.retired = false;
}

/** Pool hook: a retired backend has no request left; its pool goes. */
export function destroyUpstream(b: ProxyBackend): void {
  if (b.upstream instanceof UpstreamPool) b.upstream.destroy();
  b.upstream = undefined;
}

function upstreamFor(ctx: ServiceCtx, b: ProxyBackend, limits: UpstreamLimits): UpstreamPool {
  if (b.upstream instanceof UpstreamPool) return b.upstream;
  const p = new UpstreamPool(b.addr, b.port, limits, () => ctx.settings);
  b.upstream = p;
  return p;
}

/** What the proxy keeps per client connection. */
interface ClientInfo {
  client: PoolClient;
  fwd: Forwarded;
  gen: number;
  /** Requests of this connection still being answered. */
  busy: number;
}

const clients = new WeakMap<net.Socket, ClientInfo>();

/** Scratch for requestHeaders (one request is parsed at a time: the event loop is single-threaded). */
const head: RequestHeadInfo = { hasBody: false, chunked: false, host: '' };

const TEXT = 'text/plain; charset=utf-8';

/** One client request and its attempts at the backends. */
class Exchange implements UpstreamUser {
  private tried: Set<ProxyBackend> | null = null;
  private retriesLeft: number;
  private staleLeft = STALE_RETRIES;
  /** The backend of the current attempt (counted in its `active` until the attempt ends). */
  private held: ProxyBackend | null = null;
  private upstream: UpstreamPool | null = null;
  private conn: UpstreamConn | null = null;
  /** The connection the request body goes to (it may outlive `conn` when the server answers early). */
  private bodyConn: UpstreamConn | null = null;
  private responded = false;
  private bodyStarted = false;
  private clientGone = false;
  private finished = false;
  private first = true;
  /** The last body piece, held back so that the end goes out with it. */
  private pending: Buffer | null = null;
  private paused = false;

  constructor(
    private readonly ctx: ServiceCtx,
    private readonly limits: UpstreamLimits,
    private readonly req: http.IncomingMessage,
    private readonly res: http.ServerResponse,
    /** Request line and headers, without the blank line (and without Host when `needHost`). */
    private readonly headBase: string,
    private readonly body: BodyFraming,
    private readonly needHost: boolean,
    private readonly info: ClientInfo,
    private readonly listener: { readonly draining: boolean },
  ) {
    this.retriesLeft = ctx.settings.retries;
    info.busy++;
    res.once('close', () => {
      info.busy--;
      if (this.finished) return;
      this.clientGone = true;
      this.stop();
    });
  }

  dispatch(): void {
    const ctx = this.ctx;
    const b = ctx.pool.choose(this.info.client, ctx.now(), this.tried ?? undefined);
    if (!b) {
      if (this.first) this.reply(503, 'no server is available for this service\n');
      else this.reply(502, 'no other server is available for this service\n');
      return;
    }
    this.first = false;
    b.active++;
    this.held = b;
    const up = upstreamFor(ctx, b, this.limits);
    this.upstream = up;
    up.acquire(this);
  }

  onConnection(conn: UpstreamConn): void {
    const b = this.held;
    if (this.clientGone || !b) {
      this.upstream?.recycle(conn);
      return;
    }
    this.conn = conn;
    const text = this.needHost ? `${this.headBase}Host: ${b.key}\r\n\r\n` : `${this.headBase}\r\n`;
    conn.send(this, text, this.body, this.req.method === 'HEAD');
    if (this.body !== 'none' && !this.bodyStarted) this.startBody(conn);
  }

  onConnectError(err: Error): void {
    const b = this.release();
    if (this.clientGone || !b) return;
    const s = this.ctx.settings;
    const code = connectFailureCode(err);
    const f = this.ctx.pool.recordFailure(b, code, `connect to ${b.key}: ${describeError(err)}`, s.passiveFailures);
    if (f) this.ctx.report(f);
    if (this.retry(b)) return;
    if (errnoOf(err) === 'ETIMEDOUT')
      this.reply(504, `the server did not accept the connection within ${s.connectTimeoutMs} ms\n`);
    else this.reply(502, `cannot connect to the server: ${describeError(err)}\n`);
  }

  onHead(h: ResponseHead): void {
    const b = this.held;
    if (b) this.ctx.pool.recordSuccess(b);
    this.responded = true;
    const res = this.res;
    if (this.clientGone || res.destroyed) return;
    if (this.listener.draining) res.shouldKeepAlive = false;
    const headers = responseHeaders(h.headers);
    try {
      if (h.reason) res.writeHead(h.status, h.reason, headers);
      else res.writeHead(h.status, headers);
    } catch (e) {
      // Node refused the head (a character it does not allow): the response cannot be passed on.
      this.responded = false;
      this.conn?.abort();
      this.conn = null;
      this.release();
      this.reply(502, `the server sent a response head that cannot be forwarded: ${describeError(e)}\n`);
    }
  }

  onBody(chunk: Buffer): void {
    if (this.clientGone || !this.res.headersSent) return;
    const prev = this.pending;
    this.pending = chunk;
    if (prev && !this.res.write(prev) && !this.paused) {
      // The client reads slower than the server sends: stop reading the server until the client catches up.
      const conn = this.conn;
      this.paused = true;
      conn?.pause();
      this.res.once('drain', () => {
        this.paused = false;
        conn?.resume();
      });
    }
  }

  onEnd(): void {
    this.release();
    this.conn = null;
    this.finished = true;
    const last = this.pending;
    this.pending = null;
    const res = this.res;
    if (this.clientGone || res.destroyed || !res.headersSent) return;
    if (last) res.end(last);
    else res.end();
  }

  onFailure(kind: UpstreamFailure, err: Error | null, detail: string): void {
    const b = this.release();
    this.conn = null;
    if (this.responded) {
      // The response had begun: the client cannot be told, only cut off.
      this.finished = true;
      this.res.destroy();
      return;
    }
    if (this.clientGone || !b) return;
    const s = this.ctx.settings;
    if (kind === 'timeout') {
      this.reply(504, `the server did not answer within ${s.idleTimeoutMs} ms\n`);
      return;
    }
    if (kind === 'protocol') {
      this.reply(502, `the server sent a malformed response (${detail})\n`);
      return;
    }
    const why = err ? describeError(err) : detail;
    if (kind === 'stale') {
      // The server had closed this idle connection: not its fault, and nothing was processed.
      if (mayRetry(this.req.method ?? '', this.bodyStarted) && this.staleLeft > 0) {
        this.staleLeft--;
        this.dispatch();
        return;
      }
    } else {
      const f = this.ctx.pool.recordFailure(b, 'L4CON', `${b.key}: ${why} before the response`, s.passiveFailures);
      if (f) this.ctx.report(f);
    }
    if (this.retry(b)) return;
    this.reply(502, `the server failed: ${why}\n`);
  }

  onDrain(): void {
    this.req.resume();
  }

  /** Tries another backend if the request allows it; true = a new attempt started. */
  private retry(failed: ProxyBackend): boolean {
    if (!mayRetry(this.req.method ?? '', this.bodyStarted) || this.retriesLeft <= 0) return false;
    this.retriesLeft--;
    if (!this.tried) this.tried = new Set();
    this.tried.add(failed);
    this.dispatch();
    return true;
  }

  private startBody(conn: UpstreamConn): void {
    this.bodyStarted = true;
    this.bodyConn = conn;
    const req = this.req;
    req.on('data', (d: Buffer) => {
      if (!this.bodyConn?.writeBody(d)) req.pause();
    });
    req.on('end', () => this.bodyConn?.endBody());
  }

  /** Ends the current attempt: the backend's count goes down. Returns that backend. */
  private release(): ProxyBackend | null {
    const b = this.held;
    if (b) {
      this.held = null;
      this.ctx.pool.release(b);
    }
    return b;
  }

  /** The client left: drop the attempt. */
  private stop(): void {
    const conn = this.conn;
    this.conn = null;
    if (conn) conn.abort();
    else this.upstream?.cancel(this);
    this.release();
  }

  private reply(status: number, text: string): void {
    this.finished = true;
    const res = this.res;
    if (this.clientGone || res.destroyed) return;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // The request body may be unread: close the connection rather than read an unknown amount.
    if (this.body !== 'none' && !this.req.complete) res.shouldKeepAlive = false;
    res.writeHead(status, ['Content-Type', TEXT, 'Content-Length', String(Buffer.byteLength(text))]);
    res.end(text);
  }
}

class HttpListener implements Listener {
  private readonly server: http.Server;
  /** Stopped accepting: responses from now on close their connection. */
  draining = false;
  private closed: Promise<void> | null = null;
  private graceTimer: NodeJS.Timeout | null = null;
  private connections = 0;

  constructor(
    private readonly ctx: ServiceCtx,
    private readonly limits: UpstreamLimits,
  ) {
    const idle = ctx.settings.idleTimeoutMs;
    this.server = http.createServer({ keepAliveTimeout: idle, requestTimeout: 0, noDelay: true }, (req, res) =>
      this.onRequest(req, res),
    );
    // A client connection idle this long closes, unless a request of it waits for its server: the upstream side
    // times that wait (504), so that the client's own timer does not cut it first.
    this.server.timeout = idle;
    this.server.on('timeout', (socket: net.Socket) => {
      if ((clients.get(socket)?.busy ?? 0) === 0) socket.destroy();
    });
    this.server.on('connection', (socket: net.Socket) => {
      this.connections++;
      socket.once('close', () => this.connections--);
    });
    this.server.on('clientError', (_e, socket: Duplex) => {
      if (socket.writable && !(socket as net.Socket).connecting) {
        socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      }
      socket.destroy();
    });
  }

  get open(): number {
    return this.connections;
  }

  reconfigure(): void {
    const idle = this.ctx.settings.idleTimeoutMs;
    this.server.timeout = idle;
    this.server.keepAliveTimeout = idle;
  }

  listen(host: string, port: number): Promise<void> {
    return listenOn(this.server, host, port, this.ctx);
  }

  drain(graceMs: Ms): Promise<void> {
    const closed = this.stop();
    if (!this.graceTimer) {
      this.graceTimer = setTimeout(() => this.server.closeAllConnections(), graceMs);
      this.graceTimer.unref();
    }
    return closed;
  }

  destroy(): Promise<void> {
    const closed = this.stop();
    this.server.closeAllConnections();
    return closed;
  }

  private stop(): Promise<void> {
    if (!this.closed) {
      this.draining = true;
      this.closed = new Promise<void>((resolve) => {
        if (!this.server.listening) {
          resolve();
          return;
        }
        // Node 20 closes the idle keep-alive connections here; busy ones close after their response (draining).
        this.server.close(() => {
          if (this.graceTimer) clearTimeout(this.graceTimer);
          resolve();
        });
      });
    }
    return this.closed;
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const ctx = this.ctx;
    if (this.draining) res.shouldKeepAlive = false;
    const socket = req.socket;
    let info = clients.get(socket);
    if (!info || info.gen !== ctx.pool.generation) {
      const client = ctx.pool.clientOf(socket.remoteAddress ?? '');
      info = { client, fwd: { for: client.addr }, gen: ctx.pool.generation, busy: 0 };
      clients.set(socket, info);
    }
    const headers = requestHeaders(req.rawHeaders, ctx.settings.forwardedFor ? info.fwd : null, head);
    let text = `${req.method} ${req.url} HTTP/1.1\r\n`;
    for (let i = 0; i < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`;
    const body: BodyFraming = head.chunked ? 'chunked' : head.hasBody ? 'length' : 'none';
    new Exchange(ctx, this.limits, req, res, text, body, head.host === '', info, this).dispatch();
  }
}

/** A listener that reverse-proxies HTTP/1.1 requests of `ctx`'s service. */
export function createHttpListener(ctx: ServiceCtx, limits: UpstreamLimits = DEFAULT_UPSTREAM_LIMITS): Listener {
  return new HttpListener(ctx, limits);
}
