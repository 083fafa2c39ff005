/**
 * Test helpers for the proxy: real servers on loopback addresses (127.0.0.2, 127.0.0.3 … tell them apart), clients
 * with deadlines, and service programs with defaults. Loopback only (network-safety rule).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before } from 'node:test';
import type { DataPlane, ProxySettings, ServiceProgram } from '../../lb/dataplane.ts';
import type { DesiredBackend, Endpoint } from '../../lb/types.ts';
import { serverKey } from '../../lb/types.ts';
import { createProxyDataPlane } from './index.ts';
import { type RecordingBackend, recordingBackend } from './raw-http.ts';

/** Ports handed out by {@link freePort} in this process: the kernel may offer a just-closed port again. */
const handedOut = new Set<number>();

/**
 * A port that was free a moment ago on `host` (the proxy refuses port 0), never one this process was given before
 * (two calls in a row could otherwise return the same port).
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (;;) {
    const s = net.createServer();
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(0, host, resolve);
    });
    const port = (s.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => s.close(() => resolve()));
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

/** A real server under test. */
export interface TestServer {
  addr: string;
  port: number;
  key: string;
  /** TCP connections accepted so far. */
  accepted(): number;
  /** Connections open now. */
  open(): number;
  close(): Promise<void>;
}

function track(
  server: net.Server,
  addr: string,
): Omit<TestServer, 'port' | 'key' | 'close'> & { sockets: Set<net.Socket> } {
  let accepted = 0;
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    accepted++;
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  return { addr, accepted: () => accepted, open: () => sockets.size, sockets };
}

async function start(server: net.Server, addr: string, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, addr, resolve);
  });
  return (server.address() as net.AddressInfo).port;
}

function finish(server: net.Server, sockets: Set<net.Socket>): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      if (!server.listening) resolve();
      else server.close(() => resolve());
    });
}

/**
 * A TCP server that greets each connection with `<addr>:<port>\n`, then echoes what it receives; it ends its side
 * when the client ends (half-close).
 */
export async function tcpBackend(addr: string, port = 0): Promise<TestServer> {
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => {});
    s.write(`${addr}:${(server.address() as net.AddressInfo).port}\n`);
    s.pipe(s);
  });
  const t = track(server, addr);
  const p = await start(server, addr, port);
  return { ...t, port: p, key: serverKey(addr, p), close: finish(server, t.sockets) };
}

/** An HTTP server under test, with what it saw. */
export interface HttpTestServer extends TestServer {
  /** Requests served. */
  requests(): number;
  /** The headers of the last request (Node's lower-cased object). */
  lastHeaders(): http.IncomingHttpHeaders;
  server: http.Server;
}

/**
 * An HTTP server that answers every request with `<addr>:<port>` (its key), or with what `handler` does. The body of
 * a request is read and its length returned in `x-body-length`.
 */
export async function httpBackend(
  addr: string,
  handler?: (req: http.IncomingMessage, res: http.ServerResponse) => void,
  port = 0,
): Promise<HttpTestServer> {
  let requests = 0;
  let last: http.IncomingHttpHeaders = {};
  let key = '';
  const server = http.createServer((req, res) => {
    requests++;
    last = req.headers;
    if (handler) {
      handler(req, res);
      return;
    }
    let n = 0;
    req.on('data', (d: Buffer) => {
      n += d.length;
    });
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain', 'x-body-length': String(n) });
      res.end(key);
    });
  });
  server.keepAliveTimeout = 30_000;
  const t = track(server, addr);
  const p = await start(server, addr, port);
  key = serverKey(addr, p);
  return {
    ...t,
    port: p,
    key,
    server,
    requests: () => requests,
    lastHeaders: () => last,
    close: finish(server, t.sockets),
  };
}

/** A port on `addr` that refuses connections (bound, then closed). */
export async function refusingPort(addr: string): Promise<number> {
  return freePort(addr);
}

/** Proxy settings for tests: short timeouts so that failures show quickly. */
export function settings(over: Partial<ProxySettings> = {}): ProxySettings {
  return {
    mode: 'tcp',
    listen: '127.0.0.1',
    retries: 1,
    passiveFailures: 0,
    connectTimeoutMs: 2_000,
    idleTimeoutMs: 10_000,
    forwardedFor: true,
    ...over,
  };
}

/** A desired backend with weight `weight` (default 1). */
export function backend(e: Endpoint, weight = 1): DesiredBackend {
  return {
    addr: e.addr,
    port: e.port,
    key: serverKey(e.addr, e.port),
    weight,
    op: weight > 0 ? 'up' : 'draining',
    reason: weight > 0 ? 'up' : 'draining',
  };
}

/** A service program for the proxy; backends are endpoints or desired backends. */
export function program(
  id: string,
  port: number,
  backends: readonly (Endpoint | DesiredBackend)[],
  over: Partial<ServiceProgram> = {},
  proxy: Partial<ProxySettings> = {},
): ServiceProgram {
  return {
    id,
    vip: '127.0.0.1',
    port,
    protocol: 'tcp',
    family: 4,
    scheduler: 'rr',
    method: 'nat',
    persistence: null,
    quorum: 'up',
    backends: backends.map((b) => ('weight' in b && 'reason' in b ? b : backend(b))),
    sorry: null,
    proxy: settings(proxy),
    ...over,
  };
}

/** What a TCP client got: the greeting line, or null when the proxy closed the connection first. */
export async function tcpGreeting(
  port: number,
  opts: { host?: string; localAddress?: string; timeoutMs?: number } = {},
): Promise<string | null> {
  const s = net.connect({ host: opts.host ?? '127.0.0.1', port, localAddress: opts.localAddress });
  try {
    return await readLine(s, opts.timeoutMs ?? 5_000);
  } finally {
    s.destroy();
  }
}

/** What a socket sent after the last line read from it. */
const leftovers = new WeakMap<net.Socket, string>();

/** Reads one line from `s`; null when it closes first; throws at the deadline. */
export function readLine(s: net.Socket, timeoutMs = 5_000): Promise<string | null> {
  return new Promise((resolve, reject) => {
    let buf = leftovers.get(s) ?? '';
    const early = buf.indexOf('\n');
    if (early >= 0) {
      leftovers.set(s, buf.slice(early + 1));
      resolve(buf.slice(0, early));
      return;
    }
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no line within ${timeoutMs} ms`));
    }, timeoutMs);
    const onData = (d: Buffer): void => {
      buf += d.toString();
      const i = buf.indexOf('\n');
      if (i >= 0) {
        cleanup();
        leftovers.set(s, buf.slice(i + 1));
        resolve(buf.slice(0, i));
      }
    };
    const onEnd = (): void => {
      cleanup();
      resolve(null);
    };
    const onError = (e: Error): void => {
      cleanup();
      if ((e as { code?: string }).code === 'ECONNRESET') resolve(null);
      else reject(e);
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      s.off('data', onData);
      s.off('end', onEnd);
      s.off('close', onEnd);
      s.off('error', onError);
    };
    s.on('data', onData);
    s.once('end', onEnd);
    s.once('close', onEnd);
    s.once('error', onError);
  });
}

/** An open TCP connection through the proxy that has read its greeting. */
export async function tcpOpen(port: number, localAddress?: string): Promise<{ socket: net.Socket; greeting: string }> {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress });
  socket.on('error', () => {});
  const greeting = await readLine(socket);
  assert.ok(greeting, 'the proxy closed the connection');
  return { socket, greeting };
}

/** Sends `text` on an open echo connection and waits for it to come back. */
export async function echo(socket: net.Socket, text: string, timeoutMs = 5_000): Promise<string | null> {
  socket.write(`${text}\n`);
  return readLine(socket, timeoutMs);
}

/** A response as the tests look at it. */
export interface Got {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
  reused: boolean;
}

/** One HTTP request with a deadline; `agent` false = a fresh connection. */
export function httpRequest(
  port: number,
  opts: {
    method?: string;
    path?: string;
    headers?: http.OutgoingHttpHeaders;
    body?: string | Buffer;
    agent?: http.Agent | false;
    timeoutMs?: number;
    host?: string;
  } = {},
): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: opts.host ?? '127.0.0.1',
        port,
        method: opts.method ?? 'GET',
        path: opts.path ?? '/',
        headers: opts.headers,
        agent: opts.agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          clearTimeout(timer);
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString(),
            headers: res.headers,
            reused: req.reusedSocket,
          });
        });
        res.on('error', reject);
      },
    );
    const timer = setTimeout(() => req.destroy(new Error('request deadline')), opts.timeoutMs ?? 10_000);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end(opts.body);
  });
}

/** Waits until `cond()` holds, polling every 10 ms; throws after `timeoutMs`. */
export async function until(
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 5_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A listener whose SYNs are dropped (connects hang): the health checkers' loopback blackhole. */
export { blockedListener as blackhole } from '../../health/test-support.ts';

/** A proxied HTTP service in front of a strict recording backend (raw-http.ts), for the raw-socket suites. */
export interface RecordingLab {
  backend: RecordingBackend;
  dp: DataPlane;
  /** The service's port on 127.0.0.1. */
  port: number;
  close(): Promise<void>;
}

/** Starts a {@link RecordingLab}: backend on 127.0.0.2, service `web` in http mode without retries. */
export async function recordingLab(proxy: Partial<ProxySettings> = {}): Promise<RecordingLab> {
  const backend = await recordingBackend('127.0.0.2');
  const port = await freePort();
  const dp = createProxyDataPlane();
  await dp.apply([program('web', port, [backend], {}, { mode: 'http', retries: 0, idleTimeoutMs: 10_000, ...proxy })]);
  return {
    backend,
    dp,
    port,
    close: async () => {
      await dp.close();
      await backend.close();
    },
  };
}

/** One {@link RecordingLab} for a whole test file: started before its tests, closed after them. */
export function sharedRecordingLab(proxy: Partial<ProxySettings> = {}): () => RecordingLab {
  let lab: RecordingLab | null = null;
  before(async () => {
    lab = await recordingLab(proxy);
  });
  after(() => lab?.close());
  return () => {
    if (!lab) throw new Error('the recording lab starts before the tests');
    return lab;
  };
}
