/**
 * `Upgrade` requests (WebSocket, RFC 6455; RFC 9110 §7.8) in HTTP mode: the request goes to a server on a connection
 * of its own (never a pooled one, never back to the pool), and the client's connection is not read meanwhile. Only a
 * real `101 Switching Protocols` from the server turns both connections into a byte tunnel: the 101 goes to the
 * client, then the bytes each side sent after its head, then everything both ways (half-close passed through, both
 * cut after the idle timeout). Any other answer is relayed to the client as it is (head and body, re-framed), and the
 * connection closes: no byte the client sent after its request ever reaches the server unless the server switched.
 * An HTTP/1.0 request naming Upgrade is answered the same way, as a plain request (RFC 9110 §7.8: the Upgrade is
 * ignored). Connect failures move on to the next backend like any idempotent request.
 */
import net from 'node:net';
import { rawErrorResponse, rawResponseHead, responseHeaders } from './headers.ts';
import type { PoolClient, ProxyBackend } from './pool.ts';
import { type ResponseHead, ResponseParser, type ResponseSink } from './response-parser.ts';
import { codedError, connectFailureCode, describeError, errnoOf, lingeringClose, type ServiceCtx } from './service.ts';

/** A running upgrade, as its listener tracks it (to cut it when the service goes). */
export interface Tunnel {
  destroy(): void;
}

/** What the upgrade sends upstream: the head from headers.ts (without the blank line) and its Host. */
export interface UpgradeHead {
  text: string;
  host: string;
}

type Phase = 'connecting' | 'waiting' | 'relaying' | 'tunnel' | 'done';

class Upgrade implements ResponseSink, Tunnel {
  private phase: Phase = 'connecting';
  private up: net.Socket | null = null;
  private held: ProxyBackend | null = null;
  private tried: Set<ProxyBackend> | null = null;
  private retriesLeft: number;
  private readonly parser = new ResponseParser(this);
  private chunked = false;
  private first = true;
  private piped = false;

  constructor(
    private readonly ctx: ServiceCtx,
    private readonly client: PoolClient,
    private readonly socket: net.Socket,
    private readonly request: UpgradeHead,
    private readonly early: Buffer,
    private readonly plain: boolean,
    private readonly headRequest: boolean,
    private readonly done: () => void,
  ) {
    this.retriesLeft = ctx.settings.retries;
    // Not read until the server switched protocols; its timeout is the upstream side's until then.
    socket.setTimeout(0);
    socket.once('close', () => {
      this.phase = 'done';
      this.up?.destroy();
      this.release();
      done();
    });
  }

  destroy(): void {
    this.socket.destroy();
    this.up?.destroy();
  }

  attempt(): void {
    const ctx = this.ctx;
    const b = ctx.pool.choose(this.client, ctx.now(), this.tried ?? undefined);
    if (!b) {
      this.fail(this.first ? 503 : 502, `no ${this.first ? '' : 'other '}server is available for this service`);
      return;
    }
    this.first = false;
    b.active++;
    this.held = b;
    const s = ctx.settings;
    const up = net.connect({ host: b.addr, port: b.port, noDelay: true, allowHalfOpen: true });
    this.up = up;
    this.phase = 'connecting';
    let connected = false;
    let lastError: Error | null = null;
    up.setTimeout(s.connectTimeoutMs);
    up.on('error', (e: Error) => {
      lastError = e;
    });
    up.on('timeout', () => {
      if (!connected) up.destroy(codedError('ETIMEDOUT', `no answer within ${s.connectTimeoutMs} ms`));
      else if (this.phase === 'waiting') this.fail(504, `the server did not answer within ${s.responseTimeoutMs} ms`);
      else this.destroy();
    });
    up.once('connect', () => {
      connected = true;
      if (this.phase === 'done') {
        up.destroy();
        return;
      }
      ctx.pool.recordSuccess(b);
      this.phase = 'waiting';
      up.setTimeout(s.responseTimeoutMs);
      this.parser.expect(this.headRequest, !this.plain);
      const host = this.request.host ? '' : `Host: ${b.key}\r\n`;
      up.write(`${this.request.text}${host}\r\n`, 'latin1');
    });
    up.on('data', (d: Buffer) => {
      if (this.piped) return;
      const err = this.parser.feed(d);
      if (err) this.broken(`the server sent a malformed response (${err})`);
      else if (this.phase === 'tunnel') this.tunnel();
    });
    up.once('close', () => {
      this.up = null;
      const was = this.phase;
      this.release();
      if (!connected) {
        if (was !== 'done') this.connectFailed(b, lastError ?? codedError('ECONNRESET', 'connection closed'));
        return;
      }
      if (was === 'waiting') this.fail(502, `the server closed the connection before answering`);
      else if (was === 'relaying') {
        if (this.parser.closeDelimited && !lastError) {
          this.parser.eof();
        } else if (!this.parser.done) {
          this.broken('the server closed the connection in the middle of its response');
        }
      } else if (was === 'tunnel' && lastError) {
        this.socket.destroy();
      }
    });
  }

  private connectFailed(b: ProxyBackend, err: Error): void {
    const ctx = this.ctx;
    const s = ctx.settings;
    const code = connectFailureCode(err);
    const f = ctx.pool.recordFailure(b, code, `connect to ${b.key}: ${describeError(err)}`, s.passiveFailures);
    if (f) ctx.report(f);
    if (this.retriesLeft > 0) {
      this.retriesLeft--;
      if (!this.tried) this.tried = new Set();
      this.tried.add(b);
      this.attempt();
      return;
    }
    if (errnoOf(err) === 'ETIMEDOUT') {
      this.fail(504, `the server did not accept the connection within ${s.connectTimeoutMs} ms`);
    } else {
      this.fail(502, `cannot connect to the server: ${describeError(err)}`);
    }
  }

  head(h: ResponseHead): void {
    const client = this.socket;
    if (h.status === 101) {
      this.phase = 'tunnel';
      client.write(rawResponseHead(101, h.reason, responseHeaders(h.headers, true)), 'latin1');
      return;
    }
    this.phase = 'relaying';
    const headers = responseHeaders(h.headers);
    // A chunked body is re-chunked (this connection ends after it anyway, but a cut body must stay visible).
    this.chunked = h.framing === 'chunked' && !this.plain;
    if (this.chunked) headers.push('Transfer-Encoding', 'chunked');
    headers.push('Connection', 'close');
    client.write(rawResponseHead(h.status, h.reason, headers), 'latin1');
  }

  body(chunk: Buffer): void {
    const client = this.socket;
    if (this.phase === 'tunnel') {
      // The first bytes of the new protocol, from the same read as the 101.
      if (chunk.length > 0) client.write(chunk);
      return;
    }
    if (chunk.length === 0) return;
    if (this.chunked) client.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
    client.write(chunk);
    if (this.chunked) client.write('\r\n', 'latin1');
  }

  end(): void {
    if (this.phase === 'tunnel') return;
    const client = this.socket;
    this.phase = 'done';
    if (this.chunked) client.write('0\r\n\r\n', 'latin1');
    lingeringClose(client);
    this.up?.destroy();
  }

  /** After feed() delivered the 101 head and the bytes after it: the tunnel starts. */
  private tunnel(): void {
    const up = this.up;
    const client = this.socket;
    if (!up || this.piped) return;
    this.piped = true;
    const idle = this.ctx.settings.idleTimeoutMs;
    up.setTimeout(idle);
    client.setTimeout(idle);
    client.on('timeout', () => this.destroy());
    if (this.early.length > 0) up.write(this.early);
    client.pipe(up);
    up.pipe(client);
    client.resume();
  }

  /** The response cannot be completed after its head: cut the client off so that the cut stays visible. */
  private broken(why: string): void {
    if (this.phase === 'waiting') {
      this.fail(502, why);
      return;
    }
    this.phase = 'done';
    this.up?.destroy();
    lingeringClose(this.socket);
  }

  /** Answers the client with an error and closes (no response had begun). */
  private fail(status: number, text: string): void {
    this.phase = 'done';
    this.up?.destroy();
    lingeringClose(this.socket, rawErrorResponse(status, text));
  }

  private release(): void {
    const b = this.held;
    if (b) {
      this.held = null;
      this.ctx.pool.release(b);
    }
  }
}

/**
 * Answers an upgrade request on `socket` (node:http gave it up after the request head; `early` are the bytes that
 * came after it). `done` runs once the client connection has closed.
 */
export function startUpgrade(
  ctx: ServiceCtx,
  client: PoolClient,
  socket: net.Socket,
  head: UpgradeHead,
  early: Buffer,
  plain: boolean,
  headRequest: boolean,
  done: () => void,
): Tunnel {
  const u = new Upgrade(ctx, client, socket, head, early, plain, headRequest, done);
  u.attempt();
  return u;
}
