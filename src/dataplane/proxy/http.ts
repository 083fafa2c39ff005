/**
 * The HTTP side of the proxy: an HTTP/1.1 reverse proxy that chooses a backend per request. Clients talk to node:http
 * (its parser, llhttp in strict mode, frames each request once, on receipt); headers.ts checks what it lets through
 * and builds the head sent upstream with the framing the proxy computed. Each backend has a keep-alive pool of lean
 * HTTP/1.1 connections (upstream.ts) that requests reuse, one request at a time per connection.
 *
 * Requests of one client connection are answered one after the other (pipelined ones wait their turn, so one client
 * holds at most one server connection). A request the proxy refuses is answered (400, 431, 501, 505) before any of
 * it goes to a server, and the client connection closes after it: nothing the client sent after it is read as a
 * request. A chunked request body of up to {@link BODY_BUFFER_BYTES} is read whole first (so a malformed one never
 * reaches a server) and sent with a Content-Length; a longer one streams chunked. Bodies stream both ways with
 * back-pressure. A request whose connection fails before any response byte goes to another backend when that is safe
 * (an idempotent method whose body was not sent yet: headers.ts `mayRetry`; a reused keep-alive connection the server
 * had closed is retried on a fresh one without using up `retries`); otherwise the client gets 502, 504 when the
 * server goes quiet before answering or does not accept the connection in time, 503 when no backend takes new
 * requests. A server that fails in the middle of a response gives the client the head and the body so far, then the
 * connection closes without the end of the message (never a clean end that would make a cut body look whole).
 * `Upgrade` requests (WebSocket) become byte tunnels after the server's 101 (upgrade.ts). Errors never escape: every
 * socket has its error handled.
 *
 * Client timeouts: the head of each request within `clientHeaderTimeoutMs` (node:http's headersTimeout, checked
 * every {@link TIMEOUT_CHECK_MS}: the slowloris cut), gaps in a request body up to `clientBodyTimeoutMs` (408),
 * idle keep-alive connections close after `keepAliveTimeoutMs`. Server timeouts live in upstream.ts.
 */
import http from 'node:http';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Ms } from '../../core/time.ts';
import {
  type Forwarded,
  type ForwardHead,
  forwardRequest,
  mayRetry,
  REFUSAL_STATUS,
  REFUSAL_TEXT,
  type RequestFraming,
  type RequestLine,
  type RequestRefusal,
  rawErrorResponse,
  responseHeaders,
} from './headers.ts';
import type { PoolClient, ProxyBackend } from './pool.ts';
import type { ResponseHead } from './response-parser.ts';
import {
  Admission,
  connectFailureCode,
  describeError,
  errnoOf,
  type Listener,
  lingeringClose,
  listenOn,
  type ServiceCtx,
} from './service.ts';
import { startUpgrade, type Tunnel } from './upgrade.ts';
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

/** A chunked request body up to this size is read whole before it goes upstream (sent with a Content-Length). */
export const BODY_BUFFER_BYTES = 65_536;

/** Requests of one client connection waiting their turn before the proxy stops reading more of them. */
const MAX_PIPELINED = 32;

/** How often node:http looks for requests whose head is late (the header timeout's resolution). */
export const TIMEOUT_CHECK_MS: Ms = 250;

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
  const p = new UpstreamPool(b.addr, b.port, limits, () => ctx.settings, ctx.budget);
  b.upstream = p;
  return p;
}

const TEXT = 'text/plain; charset=utf-8';

/** The answer to a request node:http's parser refused (clientError), by its error code. */
function clientErrorStatus(code: string | undefined): number {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return 431;
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return 413;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return 408;
    default:
      return 400;
  }
}

function clientErrorText(status: number, e: Error & { reason?: string }): string {
  if (status === 408) return 'the request head did not arrive in time';
  if (status === 431) return 'the request head is too large';
  return `malformed request: ${e.reason ?? e.message}`;
}

/** One turn in a client connection's queue: a request, a refusal, or an upgrade. */
export interface Turn {
  /** Its turn came: answer it. */
  start(): void;
  /** The request body is still arriving (a client timeout now is a body timeout). */
  readingBody(): boolean;
  /** The client let the body timeout pass without sending. */
  bodyTimedOut(): void;
  /** The client sent something malformed within this request's body (node:http's parser gave up). */
  bodyFailed(status: number, text: string): void;
}

/** A client connection: who it is, and the requests it is answered for, in order. */
export class ClientConn {
  /** Requests in arrival order; [0] is being answered. */
  readonly queue: Turn[] = [];
  /** No more requests are taken: the queue is answered, then the connection closes. */
  closing = false;
  private lingers = false;
  /** A raw response to send once the queue is done (after a client error), then close. */
  private finalText: string | null = null;
  private paused = false;
  client: PoolClient;
  fwd: Forwarded;
  gen: number;

  constructor(
    readonly socket: net.Socket,
    private readonly ctx: ServiceCtx,
  ) {
    this.client = ctx.pool.clientOf(socket.remoteAddress ?? '');
    this.fwd = { for: this.client.addr };
    this.gen = ctx.pool.generation;
  }

  /**
   * The client may have sent bytes that were never read (pipelined requests, an unread body): node:http's graceful
   * close (after a `Connection: close` answer) lingers from now on (nginx's `lingering_close auto`), so that those
   * bytes cannot make the kernel reset the answer away.
   */
  mustLinger(): void {
    if (this.lingers) return;
    this.lingers = true;
    const socket = this.socket;
    socket.destroySoon = () => {
      this.closing = true;
      lingeringClose(socket);
    };
  }

  /** Refreshes the pool's view of the client after its persistence granularity changed. */
  refresh(): void {
    if (this.gen === this.ctx.pool.generation) return;
    this.client = this.ctx.pool.clientOf(this.socket.remoteAddress ?? '');
    this.fwd = { for: this.client.addr };
    this.gen = this.ctx.pool.generation;
  }

  push(t: Turn): void {
    this.queue.push(t);
    if (this.queue.length === 1) {
      t.start();
      return;
    }
    this.mustLinger();
    if (this.queue.length > MAX_PIPELINED && !this.paused) {
      // A client that pipelines faster than it is answered: stop reading it until the queue shrinks.
      this.paused = true;
      this.socket.pause();
    }
  }

  /** `t` is answered (or its client left): the next request gets its turn. */
  done(t: Turn): void {
    const i = this.queue.indexOf(t);
    if (i < 0) return;
    this.queue.splice(i, 1);
    if (i !== 0) return;
    if (this.paused && this.queue.length <= MAX_PIPELINED / 2) {
      this.paused = false;
      if (!this.closing) this.socket.resume();
    }
    const next = this.queue[0];
    if (next) next.start();
    else if (this.finalText !== null) this.finish();
  }

  /**
   * A request is refused before any of it went upstream: the requests before it get their answers, then the refusal,
   * then the connection closes; nothing after it is read as a request.
   */
  refuse(status: number, text: string): void {
    if (this.finalText !== null) return;
    this.closing = true;
    this.socket.pause();
    this.finalText = rawErrorResponse(status, text);
  }

  /**
   * node:http's parser refused what the client sent (or its head was late): the request it was parsing is answered
   * with `status` (or cut, if its response had begun), the ones before it still get their answers, and then the
   * connection closes.
   */
  fail(status: number, text: string): void {
    if (this.finalText !== null) return;
    this.closing = true;
    this.socket.pause();
    this.finalText = rawErrorResponse(status, text);
    const last = this.queue[this.queue.length - 1];
    if (last?.readingBody()) {
      // The error is in the body of the request being read: that request is the one refused.
      this.finalText = '';
      last.bodyFailed(status, text);
    }
    if (this.queue.length === 0) this.finish();
  }

  private finish(): void {
    const text = this.finalText;
    this.finalText = '';
    lingeringClose(this.socket, text ?? '');
  }
}

/** One client request and its attempts at the backends. */
class Exchange implements UpstreamUser, Turn {
  private tried: Set<ProxyBackend> | null = null;
  private retriesLeft: number;
  private staleLeft = STALE_RETRIES;
  /** The backend of the current attempt (counted in its `active` until the attempt ends). */
  private held: ProxyBackend | null = null;
  private upstream: UpstreamPool | null = null;
  private conn: UpstreamConn | null = null;
  /** The connection the request body goes to (it may outlive `conn` when the server answers early). */
  private bodyConn: UpstreamConn | null = null;
  private started = false;
  private dispatched = false;
  private responded = false;
  private bodyStarted = false;
  private clientGone = false;
  private finished = false;
  private first = true;
  /** The last response body piece, held back so that the end goes out with it. */
  private pending: Buffer | null = null;
  private paused = false;
  /** Request body bytes read but not yet written upstream. */
  private bodyHeld: Buffer[] | null = null;
  private heldBytes = 0;
  private reqEnded = false;
  /** How the body goes upstream: as the client framed it, or `length` once a chunked body was read whole. */
  private framing: RequestFraming;
  private length: number;
  // issue 12, metrics: counted once per request when it ends (ctx.stats).
  private readonly t0: number;
  private lastKey = 'none';
  private counted = false;
  private inBytes = 0;
  private outBytes = 0;

  constructor(
    private readonly ctx: ServiceCtx,
    private readonly limits: UpstreamLimits,
    private readonly req: http.IncomingMessage,
    private readonly res: http.ServerResponse,
    /** The request line and headers (headers.ts ForwardHead.text). */
    private readonly headBase: string,
    framing: RequestFraming,
    length: number,
    /** The Host sent upstream, '' = the server's address. */
    private readonly host: string,
    private readonly cc: ClientConn,
    private readonly listener: { readonly draining: boolean },
    /** Refused before anything goes upstream: the answer. */
    private readonly refusal: RequestRefusal | null,
  ) {
    this.framing = framing;
    this.length = length;
    this.retriesLeft = ctx.settings.retries;
    this.t0 = ctx.now();
    res.once('close', () => {
      if (!this.counted) this.count('aborted', false);
      ctx.stats?.bytes(ctx.id, this.lastKey, this.inBytes, this.outBytes);
      if (!this.finished) {
        this.clientGone = true;
        this.stop();
      }
      cc.done(this);
    });
  }

  start(): void {
    if (this.started || this.finished) return;
    this.started = true;
    if (this.refusal) {
      // Answered on the raw connection, which then closes (lingering): node:http's own answer would not linger.
      this.finished = true;
      this.count(REFUSAL_STATUS[this.refusal], true);
      this.cc.refuse(REFUSAL_STATUS[this.refusal], REFUSAL_TEXT[this.refusal]);
      this.cc.done(this);
      return;
    }
    if (this.framing === 'none') {
      this.dispatch();
      return;
    }
    const req = this.req;
    req.on('data', (d: Buffer) => this.onRequestData(d));
    req.on('end', () => this.onRequestEnd());
    // A body with a length streams at once; a chunked one is read up to BODY_BUFFER_BYTES first.
    if (this.framing === 'length') this.dispatch();
  }

  readingBody(): boolean {
    return this.framing !== 'none' && !this.req.complete && !this.finished;
  }

  bodyTimedOut(): void {
    this.bodyFailed(408, `the request body paused for longer than ${this.ctx.settings.clientBodyTimeoutMs} ms`);
  }

  bodyFailed(status: number, text: string): void {
    // The body will not be whole: whatever went upstream of it must never be completed by other bytes.
    this.stop();
    this.res.shouldKeepAlive = false;
    this.reply(status, `${text}\n`);
  }

  private onRequestData(d: Buffer): void {
    this.inBytes += d.length;
    const bc = this.bodyConn;
    if (bc && this.dispatched) {
      if (!bc.writeBody(d)) this.req.pause();
      return;
    }
    if (this.bodyHeld) this.bodyHeld.push(d);
    else this.bodyHeld = [d];
    this.heldBytes += d.length;
    if (this.heldBytes > BODY_BUFFER_BYTES) {
      if (!this.dispatched) this.dispatch();
      // Waiting for the connection: hold no more than this.
      if (!this.bodyConn) this.req.pause();
    }
  }

  private onRequestEnd(): void {
    this.reqEnded = true;
    if (!this.dispatched) {
      // The chunked body arrived whole: it goes with a Content-Length.
      this.framing = 'length';
      this.length = this.heldBytes;
      if (this.length === 0) this.framing = 'none';
      this.dispatch();
      return;
    }
    this.bodyConn?.endBody();
  }

  private dispatch(): void {
    this.dispatched = true;
    if (this.finished) return;
    const ctx = this.ctx;
    const b = ctx.pool.choose(this.cc.client, ctx.now(), this.tried ?? undefined);
    if (!b) {
      if (this.first) this.reply(503, 'no server is available for this service\n');
      else this.reply(502, 'no other server is available for this service\n');
      return;
    }
    this.first = false;
    b.active++;
    this.held = b;
    this.lastKey = b.key;
    const up = upstreamFor(ctx, b, this.limits);
    this.upstream = up;
    up.acquire(this);
  }

  onConnection(conn: UpstreamConn): void {
    const b = this.held;
    if (this.clientGone || this.finished || !b) {
      this.upstream?.recycle(conn);
      return;
    }
    this.conn = conn;
    let text = this.headBase;
    if (!this.host) text += `Host: ${b.key}\r\n`;
    const framing: BodyFraming = this.framing;
    if (framing === 'length') text += `Content-Length: ${this.length}\r\n\r\n`;
    else if (framing === 'chunked') text += 'Transfer-Encoding: chunked\r\n\r\n';
    else text += '\r\n';
    conn.send(this, text, framing, this.req.method === 'HEAD');
    if (framing === 'none') return;
    this.bodyStarted = true;
    this.bodyConn = conn;
    const held = this.bodyHeld ?? [];
    this.bodyHeld = null;
    this.heldBytes = 0;
    let ok = true;
    for (const d of held) ok = conn.writeBody(d);
    if (this.reqEnded) conn.endBody();
    else if (ok) this.req.resume();
    else this.req.pause();
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
    this.count(h.status, true);
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
    this.outBytes += chunk.length;
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
      // The response had begun: the client gets what came, then a close without the message's end.
      this.finished = true;
      this.cutOff();
      return;
    }
    if (this.clientGone || !b) return;
    const s = this.ctx.settings;
    if (kind === 'timeout') {
      this.reply(504, `the server did not answer within ${s.responseTimeoutMs} ms\n`);
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

  /**
   * The server failed after the response head: the head and the body so far go to the client, then the connection
   * closes without the end of the message (fewer bytes than the Content-Length, or no last chunk), so that the cut
   * body cannot pass for the whole one. (Only a body delimited by the close itself, to an HTTP/1.0 client, cannot
   * show the cut: HTTP/1.0 has no way to; a reset would not help, Linux reports one after data as an end.)
   */
  private cutOff(): void {
    const res = this.res;
    const socket = res.socket;
    if (this.clientGone || res.destroyed || !socket || socket.destroyed) {
      res.destroy();
      return;
    }
    this.cc.closing = true;
    const last = this.pending;
    this.pending = null;
    const close = (): void => lingeringClose(socket);
    if (last) {
      res.write(last, close);
    } else {
      res.flushHeaders();
      socket.write('', close);
    }
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

  /** Ends the current attempt: the backend's count goes down. Returns that backend. */
  private release(): ProxyBackend | null {
    const b = this.held;
    if (b) {
      this.held = null;
      this.ctx.pool.release(b);
    }
    return b;
  }

  /** The request is given up: drop the attempt, and the request body's connection if it is still being written. */
  private stop(): void {
    const conn = this.conn;
    this.conn = null;
    if (conn) conn.abort();
    else this.upstream?.cancel(this);
    const bc = this.bodyConn;
    this.bodyConn = null;
    if (bc && bc !== conn && !this.req.complete) bc.abort();
    this.release();
  }

  /** issue 12, metrics: how the request ended, once; `timed` puts its time to the answer in the histogram. */
  private count(outcome: number | 'aborted', timed: boolean): void {
    if (this.counted) return;
    this.counted = true;
    this.ctx.stats?.request(this.ctx.id, this.lastKey, outcome, timed ? this.ctx.now() - this.t0 : null);
  }

  private reply(status: number, text: string): void {
    this.count(status, true);
    this.finished = true;
    const res = this.res;
    if (this.clientGone || res.destroyed) return;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // A request whose body may be unread: close the connection rather than read on.
    if (this.framing !== 'none' && !this.req.complete) {
      res.shouldKeepAlive = false;
      this.cc.mustLinger();
    }
    res.writeHead(status, ['Content-Type', TEXT, 'Content-Length', String(Buffer.byteLength(text))]);
    res.end(text);
  }
}

/** A turn that only answers with an error and closes (a refused upgrade). */
class RawRefusal implements Turn {
  constructor(
    private readonly cc: ClientConn,
    private readonly status: number,
    private readonly text: string,
  ) {}

  start(): void {
    this.cc.refuse(this.status, this.text);
    this.cc.done(this);
  }

  readingBody(): boolean {
    return false;
  }

  bodyTimedOut(): void {}

  bodyFailed(): void {}
}

/** Scratch for forwardRequest (one request is parsed at a time: the event loop is single-threaded). */
const fh: ForwardHead = { text: '', framing: 'none', length: 0, host: '' };
const line: RequestLine = { method: '', url: '', version: '' };

class HttpListener implements Listener {
  private readonly server: http.Server;
  /** Stopped accepting: responses from now on close their connection. */
  draining = false;
  private closed: Promise<void> | null = null;
  private graceTimer: NodeJS.Timeout | null = null;
  private readonly conns = new WeakMap<net.Socket, ClientConn>();
  private readonly tunnels = new Set<Tunnel>();
  private readonly admission: Admission;

  constructor(
    private readonly ctx: ServiceCtx,
    private readonly limits: UpstreamLimits,
  ) {
    const s = ctx.settings;
    this.admission = new Admission(ctx);
    this.server = http.createServer(
      {
        keepAliveTimeout: s.keepAliveTimeoutMs,
        headersTimeout: s.clientHeaderTimeoutMs,
        // The whole request is not timed (uploads may be long); its head and the gaps in its body are.
        requestTimeout: 0,
        // headers.ts answers a missing Host itself (node:http's answer would close without lingering).
        requireHostHeader: false,
        connectionsCheckingInterval: TIMEOUT_CHECK_MS,
        maxHeaderSize: s.maxHeaderBytes,
        noDelay: true,
      },
      (req, res) => this.onRequest(req, res),
    );
    // Every header reaches the checks (node:http would silently drop those past 2,000 lines).
    this.server.maxHeadersCount = 0;
    // A client that half-closes after its request still gets its answer.
    (this.server as unknown as { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
    // A client connection silent this long while it sends a request body gets 408; between requests the keep-alive
    // timeout applies; while a request waits for its server, the upstream side times the wait (504).
    this.server.timeout = s.clientBodyTimeoutMs;
    this.server.on('timeout', (socket: net.Socket) => {
      const x = this.conns.get(socket)?.queue[0];
      if (!x) socket.destroy();
      else if (x.readingBody()) x.bodyTimedOut();
    });
    this.server.prependListener('connection', (socket: net.Socket) => {
      if (this.admission.admit(socket)) this.conns.set(socket, new ClientConn(socket, ctx));
    });
    this.server.on('clientError', (e: Error & { code?: string }, socket: Duplex) => {
      const status = clientErrorStatus(e.code);
      const text = clientErrorText(status, e);
      const cc = this.conns.get(socket as net.Socket);
      if (cc) {
        cc.fail(status, text);
        return;
      }
      if (socket.writable && !(socket as net.Socket).connecting) socket.end(rawErrorResponse(status, text));
      socket.destroy();
    });
    this.server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, early: Buffer) =>
      this.onUpgrade(req, socket, early),
    );
    this.server.on('connect', (_req: http.IncomingMessage, socket: net.Socket) => {
      socket.on('error', () => {});
      const cc = this.conns.get(socket);
      const text = 'CONNECT is not supported by this reverse proxy';
      // After the answers to the requests before it.
      if (cc && !cc.closing) {
        cc.closing = true;
        cc.push(new RawRefusal(cc, 405, text));
      } else if (!cc) {
        lingeringClose(socket, rawErrorResponse(405, text));
      }
    });
  }

  get open(): number {
    return this.admission.open;
  }

  reconfigure(): void {
    const s = this.ctx.settings;
    const server = this.server;
    server.timeout = s.clientBodyTimeoutMs;
    server.keepAliveTimeout = s.keepAliveTimeoutMs;
    server.headersTimeout = s.clientHeaderTimeoutMs;
    // Read by node:http for each new connection's parser.
    (server as unknown as { maxHeaderSize: number }).maxHeaderSize = s.maxHeaderBytes;
  }

  listen(host: string, port: number): Promise<void> {
    return listenOn(this.server, host, port, this.ctx);
  }

  drain(graceMs: Ms): Promise<void> {
    const closed = this.stop();
    if (!this.graceTimer) {
      this.graceTimer = setTimeout(() => this.destroyAll(), graceMs);
      this.graceTimer.unref();
    }
    return closed;
  }

  destroy(): Promise<void> {
    const closed = this.stop();
    this.destroyAll();
    return closed;
  }

  private destroyAll(): void {
    this.server.closeAllConnections();
    for (const t of this.tunnels) t.destroy();
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

  private connOf(socket: net.Socket): ClientConn | null {
    const cc = this.conns.get(socket);
    if (!cc) return null;
    cc.refresh();
    return cc;
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const cc = this.connOf(req.socket);
    // A connection that refused a request reads nothing after it as a request.
    if (!cc || cc.closing) return;
    const ctx = this.ctx;
    const s = ctx.settings;
    if (this.draining) res.shouldKeepAlive = false;
    line.method = req.method ?? '';
    line.url = req.url ?? '';
    line.version = req.httpVersion;
    const refusal = forwardRequest(
      line,
      req.rawHeaders,
      s.forwardedFor ? cc.fwd : null,
      { maxHeaders: s.maxHeaders },
      fh,
    );
    if (refusal) {
      cc.closing = true;
      req.socket.pause();
    }
    cc.push(new Exchange(ctx, this.limits, req, res, fh.text, fh.framing, fh.length, fh.host, cc, this, refusal));
  }

  private onUpgrade(req: http.IncomingMessage, socket: net.Socket, early: Buffer): void {
    socket.on('error', () => {});
    const cc = this.connOf(socket);
    if (!cc) {
      socket.destroy();
      return;
    }
    // After a refusal nothing is read as a request: the queue is answered, then the connection closes.
    if (cc.closing) return;
    cc.closing = true;
    const ctx = this.ctx;
    const s = ctx.settings;
    // RFC 9110 §7.8: an Upgrade in HTTP/1.0 is ignored; the request is answered as a plain one (on this connection,
    // which node:http no longer parses, so it closes afterwards).
    const plain = req.httpVersion === '1.0';
    const refusal = forwardRequest(
      { method: req.method ?? '', url: req.url ?? '', version: req.httpVersion },
      req.rawHeaders,
      s.forwardedFor ? cc.fwd : null,
      { maxHeaders: s.maxHeaders, upgrade: !plain },
      fh,
    );
    if (refusal) {
      cc.push(new RawRefusal(cc, REFUSAL_STATUS[refusal], REFUSAL_TEXT[refusal]));
      return;
    }
    const head = { text: fh.text, host: fh.host };
    let turn: Turn | null = null;
    turn = {
      start: () => {
        const t = startUpgrade(ctx, cc.client, socket, head, early, plain, req.method === 'HEAD', () => {
          this.tunnels.delete(t);
          if (turn) cc.done(turn);
        });
        this.tunnels.add(t);
      },
      readingBody: () => false,
      bodyTimedOut: () => {},
      bodyFailed: () => {},
    };
    cc.push(turn);
  }
}

/** A listener that reverse-proxies HTTP/1.1 requests of `ctx`'s service. */
export function createHttpListener(ctx: ServiceCtx, limits: UpstreamLimits = DEFAULT_UPSTREAM_LIMITS): Listener {
  return new HttpListener(ctx, limits);
}
