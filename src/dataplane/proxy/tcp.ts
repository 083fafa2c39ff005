/**
 * The TCP side of the proxy: a byte stream from each client to one backend, chosen per connection. The client's
 * bytes are not read until the backend has accepted, so a failed connect can move on to the next eligible backend
 * (up to `retries`) without losing anything. Half-close is passed through (a FIN from one side ends the other side's
 * writing, the other direction goes on); an error or an idle timeout on either side destroys both.
 */
import net from 'node:net';
import type { Ms } from '../../core/time.ts';
import type { ProxyBackend } from './pool.ts';
import {
  Admission,
  codedError,
  connectFailureCode,
  describeError,
  type Listener,
  listenOn,
  type ServiceCtx,
} from './service.ts';

/** One proxied connection: the client socket and the upstream socket of the current attempt. */
export interface TcpSession {
  client: net.Socket;
  up: net.Socket | null;
}

const noop = (): void => {};

/**
 * Proxies one accepted client connection (paused: `pauseOnConnect`). `done` runs once both sockets are closed.
 * @example net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (c) => proxyTcp(ctx, c, () => {}))
 */
export function proxyTcp(ctx: ServiceCtx, client: net.Socket, done: (s: TcpSession) => void): TcpSession {
  const session: TcpSession = { client, up: null };
  const who = ctx.pool.clientOf(client.remoteAddress ?? '');
  let tried: Set<ProxyBackend> | null = null;
  let attempts = 0;
  let clientClosed = false;
  let upOpen = false;
  // issue 12, metrics: one count per connection when both sides are closed (ctx.stats).
  const t0 = ctx.now();
  let lastKey = 'none';
  let connectedOnce = false;
  let counted = false;

  const finish = (): void => {
    if (!clientClosed || upOpen) return;
    if (!counted) {
      counted = true;
      const ms = connectedOnce ? ctx.now() - t0 : null;
      ctx.stats?.request(ctx.id, lastKey, connectedOnce ? 'ok' : 'error', ms, client.bytesRead, client.bytesWritten);
    }
    done(session);
  };

  client.on('error', noop);
  client.once('close', (hadError: boolean) => {
    clientClosed = true;
    const up = session.up;
    if (up && upOpen) {
      if (hadError || up.connecting) up.destroy();
      else up.end();
    }
    finish();
  });

  const attempt = (): void => {
    if (clientClosed) return;
    const b = ctx.pool.choose(who, ctx.now(), tried ?? undefined);
    if (!b) {
      client.destroy();
      return;
    }
    attempts++;
    b.active++;
    lastKey = b.key;
    const s = ctx.settings;
    const up = net.connect({ host: b.addr, port: b.port, allowHalfOpen: true, noDelay: true });
    session.up = up;
    upOpen = true;
    let connected = false;
    up.setTimeout(s.connectTimeoutMs);
    up.on('timeout', () => {
      if (connected) {
        up.destroy();
        client.destroy();
      } else {
        up.destroy(codedError('ETIMEDOUT', `no answer within ${s.connectTimeoutMs} ms`));
      }
    });
    up.on('error', (err: Error) => {
      if (connected) {
        client.destroy();
        return;
      }
      if (clientClosed) return;
      const code = connectFailureCode(err);
      const f = ctx.pool.recordFailure(b, code, `connect to ${b.key}: ${describeError(err)}`, s.passiveFailures);
      if (f) ctx.report(f);
      if (attempts <= s.retries) {
        if (!tried) tried = new Set();
        tried.add(b);
        // The next attempt starts after this socket has closed (its 'close' releases b first).
        up.once('close', attempt);
      } else {
        client.destroy();
      }
    });
    up.once('close', (hadError: boolean) => {
      upOpen = false;
      ctx.pool.release(b);
      if (connected) {
        if (hadError) client.destroy();
        else client.end();
      }
      finish();
    });
    up.once('connect', () => {
      connected = true;
      connectedOnce = true;
      ctx.pool.recordSuccess(b);
      if (clientClosed) {
        up.destroy();
        return;
      }
      up.setTimeout(s.idleTimeoutMs);
      client.setTimeout(s.idleTimeoutMs);
      client.on('timeout', () => {
        client.destroy();
        up.destroy();
      });
      client.pipe(up);
      up.pipe(client);
    });
  };

  attempt();
  return session;
}

/** The listener of one TCP service. */
class TcpListener implements Listener {
  private readonly server: net.Server;
  private readonly sessions = new Set<TcpSession>();
  private closed: Promise<void> | null = null;
  private graceTimer: NodeJS.Timeout | null = null;
  private emptied: (() => void) | null = null;
  private readonly admission: Admission;

  constructor(private readonly ctx: ServiceCtx) {
    this.admission = new Admission(ctx);
    this.server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (c) => this.accept(c));
  }

  get open(): number {
    return this.sessions.size;
  }

  reconfigure(): void {
    // Each new connection reads ctx.settings; open ones keep the timeouts they started with.
  }

  listen(host: string, port: number): Promise<void> {
    return listenOn(this.server, host, port, this.ctx);
  }

  drain(graceMs: Ms): Promise<void> {
    const closed = this.stop();
    if (this.sessions.size > 0 && !this.graceTimer) {
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

  private accept(client: net.Socket): void {
    if (this.closed) {
      client.destroy();
      return;
    }
    if (!this.admission.admit(client)) return;
    client.setNoDelay(true);
    const s = proxyTcp(this.ctx, client, (done) => {
      this.sessions.delete(done);
      if (this.sessions.size > 0) return;
      if (this.graceTimer) clearTimeout(this.graceTimer);
      this.graceTimer = null;
      this.emptied?.();
    });
    this.sessions.add(s);
  }

  /** Stops accepting; resolves once the server is closed and every session (both sockets) has ended. */
  private stop(): Promise<void> {
    if (!this.closed) {
      const serverClosed = new Promise<void>((resolve) => {
        if (this.server.listening) this.server.close(() => resolve());
        else resolve();
      });
      const empty = new Promise<void>((resolve) => {
        if (this.sessions.size === 0) resolve();
        else this.emptied = resolve;
      });
      this.closed = Promise.all([serverClosed, empty]).then(noop);
    }
    return this.closed;
  }

  private destroyAll(): void {
    for (const s of this.sessions) {
      s.client.destroy();
      s.up?.destroy();
    }
  }
}

/** A listener that proxies TCP connections of `ctx`'s service. */
export function createTcpListener(ctx: ServiceCtx): Listener {
  return new TcpListener(ctx);
}
