/**
 * Connections from the HTTP proxy to one real server: a bounded keep-alive pool (at most `maxSockets` connections,
 * at most `maxFreeSockets` of them idle, idle ones closed after the idle timeout or the server's own Keep-Alive hint
 * minus a second) and a lean HTTP/1.1 client on each connection. Requests arrive already parsed and checked by
 * node:http on the client side, so a request head is written as one string; responses are parsed by
 * response-parser.ts. This replaces node:http's client (ClientRequest + Agent), which costs about three times what the
 * server side does per request: the proxy's throughput is bounded by it.
 */
import net from 'node:net';
import type { FdBudget } from './fd-budget.ts';
import { type ResponseHead, ResponseParser, type ResponseSink } from './response-parser.ts';
import { codedError } from './service.ts';

/** Limits of one real server's pool. */
export interface UpstreamLimits {
  /** Connections to one real server at once (busy, idle and connecting); more requests wait. @default 1024 */
  maxSockets: number;
  /** Idle keep-alive connections kept. @default 256 */
  maxFreeSockets: number;
}

/** The default {@link UpstreamLimits}. */
export const DEFAULT_UPSTREAM_LIMITS: Readonly<UpstreamLimits> = Object.freeze({
  maxSockets: 1024,
  maxFreeSockets: 256,
});

/** The timeouts a pool reads for each new connection and request. */
export interface UpstreamTimeouts {
  connectTimeoutMs: number;
  /** The longest silence after (a piece of) the request was sent, before the response head. */
  responseTimeoutMs: number;
  /** The longest silence during the response body; the life of an idle connection. */
  idleTimeoutMs: number;
}

/**
 * How a request failed once it had a connection (closed set, Rule 5):
 * `stale` a reused keep-alive connection closed before any response byte (the server had closed it: retry elsewhere);
 * `reset` a fresh connection closed or was reset before any response byte;
 * `timeout` no byte for the response timeout before the response head, or for the idle timeout during the body;
 * `protocol` the response was malformed;
 * `midway` the connection failed after the response had begun (closed early, reset, or timed out during the body).
 */
export type UpstreamFailure = 'stale' | 'reset' | 'timeout' | 'protocol' | 'midway';

/** The request side of an upstream connection: whoever waits for it and then uses it. */
export interface UpstreamUser {
  /** A connected connection is ready for this request. */
  onConnection(conn: UpstreamConn): void;
  /** Connecting failed (refused, timed out, our side); nothing was sent. */
  onConnectError(err: Error): void;
  onHead(head: ResponseHead): void;
  onBody(chunk: Buffer): void;
  onEnd(): void;
  onFailure(kind: UpstreamFailure, err: Error | null, detail: string): void;
  /** The request body may flow again (after {@link UpstreamConn.writeBody} returned false). */
  onDrain(): void;
}

/** How a request body is framed towards the server. */
export type BodyFraming = 'none' | 'length' | 'chunked';

const CHUNK_END = '0\r\n\r\n';

/** One connection to a real server. */
export class UpstreamConn implements ResponseSink {
  readonly socket: net.Socket;
  /** The request using this connection, or the one waiting for it to connect; null = idle. */
  user: UpstreamUser | null;
  connected = false;
  /** Responses this connection completed (0 = fresh). */
  served = 0;
  /** Idle in the pool, holding a unit of the file-descriptor budget. */
  holdsUnit = false;
  private readonly parser = new ResponseParser(this);
  private chunked = false;
  private bodyDone = true;
  private lastError: Error | null = null;
  private timedOut = false;
  private timeoutMs: number;
  private hintMs: number | null = null;

  constructor(
    private readonly pool: UpstreamPool,
    user: UpstreamUser | null,
  ) {
    this.user = user;
    const t = pool.timeouts();
    const s = net.connect({ host: pool.addr, port: pool.port, noDelay: true });
    this.socket = s;
    this.timeoutMs = t.connectTimeoutMs;
    s.setTimeout(t.connectTimeoutMs);
    s.on('connect', () => this.onConnect());
    s.on('data', (d: Buffer) => this.onData(d));
    s.on('timeout', () => this.onTimeout());
    s.on('error', (e: Error) => {
      this.lastError = e;
    });
    s.on('drain', () => this.user?.onDrain());
    s.on('close', () => this.onClose());
  }

  /** Whether an idle connection can take a request. */
  get usable(): boolean {
    const s = this.socket;
    return this.connected && !s.destroyed && s.readable && s.writable;
  }

  /**
   * Sends a request head (`METHOD target HTTP/1.1\r\n…\r\n\r\n`, latin1 as node:http decoded it); the body follows
   * with {@link writeBody} / {@link endBody} unless `body` is 'none'.
   */
  send(user: UpstreamUser, head: string, body: BodyFraming, headRequest: boolean): void {
    this.user = user;
    this.parser.expect(headRequest);
    this.chunked = body === 'chunked';
    this.bodyDone = body === 'none';
    this.setTimeoutMs(this.pool.timeouts().responseTimeoutMs);
    this.socket.write(head, 'latin1');
  }

  /** Writes a piece of the request body; false = wait for onDrain. */
  writeBody(chunk: Buffer): boolean {
    const s = this.socket;
    if (s.destroyed || this.bodyDone) return true;
    if (!this.chunked) return s.write(chunk);
    if (chunk.length === 0) return true;
    s.cork();
    s.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
    s.write(chunk);
    const ok = s.write('\r\n', 'latin1');
    s.uncork();
    return ok;
  }

  /** Ends the request body. */
  endBody(): void {
    if (this.bodyDone) return;
    this.bodyDone = true;
    if (this.chunked && !this.socket.destroyed) this.socket.write(CHUNK_END, 'latin1');
    // The server may have answered before the body ended: only now can the connection go back to the pool.
    if (this.user === null && this.parser.done) this.recycle();
  }

  /** Gives up on the current request: the connection closes and its user hears nothing more. */
  abort(): void {
    this.user = null;
    this.socket.destroy();
  }

  head(h: ResponseHead): void {
    this.hintMs = h.keepAliveTimeoutMs;
    this.setTimeoutMs(this.pool.timeouts().idleTimeoutMs);
    this.user?.onHead(h);
  }

  body(chunk: Buffer): void {
    this.user?.onBody(chunk);
  }

  end(): void {
    const u = this.user;
    this.user = null;
    this.served++;
    u?.onEnd();
    // Bytes of a body still on their way mean the server answered early; the connection waits for endBody.
    if (this.bodyDone) this.recycle();
  }

  /** Pauses / resumes reading the response (the client is slower than the server). */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  /** Sets the socket timeout unless it already has that value. */
  setTimeoutMs(ms: number): void {
    if (ms === this.timeoutMs) return;
    this.timeoutMs = ms;
    this.socket.setTimeout(ms);
  }

  /** How long this connection may stay idle: the idle timeout, or the server's hint minus a second if shorter. */
  idleMs(): number {
    const idle = this.pool.timeouts().idleTimeoutMs;
    return this.hintMs === null ? idle : Math.min(idle, this.hintMs - 1_000);
  }

  private recycle(): void {
    if (this.parser.reusable && !this.socket.destroyed) {
      this.socket.resume();
      this.pool.recycle(this);
    } else {
      this.socket.destroy();
    }
  }

  private onConnect(): void {
    this.connected = true;
    this.setTimeoutMs(this.pool.timeouts().idleTimeoutMs);
    const u = this.user;
    if (u) u.onConnection(this);
    else this.pool.recycle(this);
  }

  private onData(d: Buffer): void {
    if (!this.user) {
      // An idle connection has nothing to receive: the server broke the protocol, or we stopped listening.
      this.socket.destroy();
      return;
    }
    const err = this.parser.feed(d);
    if (err) {
      const u = this.user;
      this.user = null;
      this.socket.destroy();
      u?.onFailure(this.parser.started && err === 'incomplete' ? 'midway' : 'protocol', null, `bad response: ${err}`);
    }
  }

  private onTimeout(): void {
    if (!this.connected) {
      this.socket.destroy(codedError('ETIMEDOUT', `no answer within ${this.timeoutMs} ms`));
      return;
    }
    if (this.user) this.timedOut = true;
    this.socket.destroy();
  }

  private onClose(): void {
    this.pool.closed(this);
    const u = this.user;
    if (!u) return;
    if (!this.connected) {
      this.user = null;
      u.onConnectError(this.lastError ?? codedError('ECONNRESET', 'connection closed while connecting'));
      return;
    }
    if (this.parser.closeDelimited && !this.lastError && !this.timedOut) {
      // The body ran until the close: that is its end (a reset or a timeout is not: the body was cut).
      this.parser.eof();
      return;
    }
    this.user = null;
    if (this.timedOut) {
      u.onFailure('timeout', null, `no answer within ${this.timeoutMs} ms`);
      return;
    }
    const err = this.lastError;
    const why = err ? (err.message ?? String(err)) : 'connection closed';
    if (!this.parser.started) u.onFailure(this.served > 0 ? 'stale' : 'reset', err, why);
    else u.onFailure('midway', err, why);
  }
}

/** The keep-alive pool of one real server. */
export class UpstreamPool {
  private readonly idle: UpstreamConn[] = [];
  private readonly waiting: UpstreamUser[] = [];
  private readonly all = new Set<UpstreamConn>();
  /** A retired pool keeps no idle connection (the server left the desired state). */
  retired = false;

  constructor(
    readonly addr: string,
    readonly port: number,
    private readonly limits: UpstreamLimits,
    readonly timeouts: () => UpstreamTimeouts,
    /** Idle connections each hold a unit of it; none is kept idle when it is spent. */
    private readonly budget: FdBudget | null = null,
  ) {}

  /** Idle connections. */
  get idleCount(): number {
    return this.idle.length;
  }

  /** Open or connecting connections. */
  get size(): number {
    return this.all.size;
  }

  /**
   * A connection for `u`: an idle one at once (most recently used first), a new one once connected, or the next one
   * free when the pool is full.
   */
  acquire(u: UpstreamUser): void {
    for (let c = this.idle.pop(); c; c = this.idle.pop()) {
      this.giveBack(c);
      if (c.usable) {
        c.user = u;
        u.onConnection(c);
        return;
      }
      c.socket.destroy();
    }
    if (this.all.size < this.limits.maxSockets) this.open(u);
    else this.waiting.push(u);
  }

  /** `u` no longer wants a connection (its client left). */
  cancel(u: UpstreamUser): void {
    const i = this.waiting.indexOf(u);
    if (i >= 0) this.waiting.splice(i, 1);
    for (const c of this.all) if (c.user === u && !c.connected) c.user = null;
  }

  /** A connection finished its response cleanly: it serves a waiting request, waits idle, or closes. */
  recycle(c: UpstreamConn): void {
    c.user = null;
    if (c.socket.destroyed) return;
    const w = this.waiting.shift();
    if (w) {
      c.user = w;
      w.onConnection(c);
      return;
    }
    const ms = c.idleMs();
    if (this.retired || this.idle.length >= this.limits.maxFreeSockets || ms <= 0 || !this.takeUnit(c)) {
      c.socket.destroy();
      return;
    }
    c.setTimeoutMs(ms);
    this.idle.push(c);
  }

  /** A connection closed: forget it, and open one for a waiting request if there is room now. */
  closed(c: UpstreamConn): void {
    this.giveBack(c);
    this.all.delete(c);
    const i = this.idle.indexOf(c);
    if (i >= 0) this.idle.splice(i, 1);
    const w = this.waiting.length > 0 && this.all.size < this.limits.maxSockets ? this.waiting.shift() : undefined;
    if (w) this.open(w);
  }

  /** Closes the idle connections now and keeps none from here on; busy ones close after their response. */
  retire(): void {
    this.retired = true;
    for (const c of this.idle.splice(0)) c.socket.destroy();
  }

  /** Closes every connection now. */
  destroy(): void {
    this.retired = true;
    this.waiting.length = 0;
    for (const c of this.all) c.abort();
  }

  private takeUnit(c: UpstreamConn): boolean {
    if (c.holdsUnit || !this.budget) return true;
    if (!this.budget.tryAcquire(1)) return false;
    c.holdsUnit = true;
    return true;
  }

  private giveBack(c: UpstreamConn): void {
    if (!c.holdsUnit) return;
    c.holdsUnit = false;
    this.budget?.release(1);
  }

  private open(u: UpstreamUser): void {
    this.all.add(new UpstreamConn(this, u));
  }
}
