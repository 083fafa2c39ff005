/**
 * Test support for the conformance and smuggling suites: raw-socket HTTP on loopback, parsed independently of the
 * proxy and strictly. A recording backend parses every byte the proxy sends it with its own strict HTTP/1.1 request
 * parser (CRLF only, one Host, at most one framing header, `chunked` alone, no chunk extensions, no look-alike
 * framing headers: what a proxy sends must leave a server no room to frame it differently) and answers each request with a response naming it (its `X-Tag`, method, target and body
 * length), so that a client can tell whose answer it got. A raw client writes exact bytes and reads the responses
 * with its own strict parser. Loopback only (network-safety rule).
 */
import net from 'node:net';

/** A request as the recording backend parsed it. */
export interface SeenRequest {
  /** Which backend connection it came on (1, 2, …). */
  conn: number;
  /** Its number among all requests this backend saw (1, 2, …), sent back as X-Seq. */
  seq: number;
  method: string;
  target: string;
  /** Header fields in order, names as sent. */
  headers: [string, string][];
  body: string;
  /** Trailer fields of a chunked body. */
  trailers: [string, string][];
  /** The X-Tag header, or ''. */
  tag: string;
}

/** The first value of header `name` (case-insensitive), or undefined. */
export function headerOf(headers: readonly [string, string][], name: string): string | undefined {
  const lower = name.toLowerCase();
  return headers.find(([n]) => n.toLowerCase() === lower)?.[1];
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) ([^\s]+) HTTP\/1\.[01]$/;
const FIELD_VALUE = /^[\x21-\x7e\x80-\xff]?(?:[\t\x20-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?$/;

/** Header (or trailer) field lines, strictly: a token name, a colon, a value of visible characters. */
function fields(lines: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (const l of lines) {
    const c = l.indexOf(':');
    if (c <= 0) throw new Error(`header line without a name: ${JSON.stringify(l)}`);
    const name = l.slice(0, c);
    const value = l.slice(c + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (!TOKEN.test(name)) throw new Error(`bad header name ${JSON.stringify(name)}`);
    if (!FIELD_VALUE.test(value)) throw new Error(`bad header value ${JSON.stringify(value)}`);
    out.push([name, value]);
  }
  return out;
}

/**
 * A strict incremental parser of the requests the proxy forwards. `feed` returns the requests completed by the bytes,
 * or throws an Error naming the first violation (the connection is then unusable).
 */
export class StrictRequestParser {
  private buf: Buffer = Buffer.alloc(0);

  constructor(
    private readonly conn: number,
    private readonly nextSeq: () => number = () => 0,
  ) {}

  /** Whether bytes of an unfinished request are buffered. */
  get partial(): boolean {
    return this.buf.length > 0;
  }

  feed(d: Buffer): SeenRequest[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    const out: SeenRequest[] = [];
    for (;;) {
      const r = this.one();
      if (!r) return out;
      out.push(r);
    }
  }

  private one(): SeenRequest | null {
    const b = this.buf;
    const end = b.indexOf('\r\n\r\n');
    if (end < 0) {
      if (b.includes('\n\n') || /(^|[^\r])\n/.test(b.toString('latin1'))) throw new Error('bare LF in a head');
      return null;
    }
    const headText = b.toString('latin1', 0, end);
    if (/\r(?!\n)|(?<!\r)\n/.test(headText)) throw new Error(`bare CR or LF in ${JSON.stringify(headText)}`);
    const lines = headText.split('\r\n');
    const m = REQUEST_LINE.exec(lines[0] ?? '');
    if (!m) throw new Error(`bad request line ${JSON.stringify(lines[0])}`);
    const headers = fields(lines.slice(1));
    const all = (n: string) => headers.filter(([k]) => k.toLowerCase() === n);
    const hosts = all('host');
    if (hosts.length !== 1 || hosts[0]?.[1] === '') throw new Error(`Host must be sent once, got ${hosts.length}`);
    const cls = all('content-length');
    const tes = all('transfer-encoding');
    if (cls.length + tes.length > 1) throw new Error('more than one framing header');
    for (const [n] of headers) {
      if (/^(content|transfer)[_-]?(length|encoding)$/i.test(n) && n.includes('_')) {
        throw new Error(`a look-alike framing header ${n}`);
      }
    }
    let at = end + 4;
    let body: Buffer;
    let trailers: [string, string][] = [];
    if (tes.length === 1) {
      if (tes[0]?.[1].toLowerCase() !== 'chunked') throw new Error(`Transfer-Encoding ${JSON.stringify(tes[0]?.[1])}`);
      const parts: Buffer[] = [];
      for (;;) {
        const nl = b.indexOf('\r\n', at);
        if (nl < 0) return null;
        const size = b.toString('latin1', at, nl);
        if (!/^[0-9a-fA-F]{1,8}$/.test(size)) throw new Error(`bad chunk size ${JSON.stringify(size)}`);
        const n = Number.parseInt(size, 16);
        if (n === 0) {
          if (b.toString('latin1', nl, nl + 4) === '\r\n\r\n') {
            at = nl + 4;
          } else {
            const t = b.indexOf('\r\n\r\n', nl);
            if (t < 0) return null;
            trailers = fields(b.toString('latin1', nl + 2, t).split('\r\n'));
            at = t + 4;
          }
          break;
        }
        if (b.length < nl + 2 + n + 2) return null;
        parts.push(b.subarray(nl + 2, nl + 2 + n));
        if (b.toString('latin1', nl + 2 + n, nl + 4 + n) !== '\r\n') throw new Error('chunk data without CRLF');
        at = nl + 4 + n;
      }
      body = Buffer.concat(parts);
    } else {
      const cl = cls[0]?.[1];
      let n = 0;
      if (cl !== undefined) {
        if (!/^[0-9]{1,16}$/.test(cl)) throw new Error(`Content-Length ${JSON.stringify(cl)}`);
        n = Number(cl);
      }
      if (b.length < at + n) return null;
      body = b.subarray(at, at + n);
      at += n;
    }
    this.buf = b.subarray(at);
    return {
      conn: this.conn,
      seq: this.nextSeq(),
      method: m[1] as string,
      target: m[2] as string,
      headers,
      body: body.toString('latin1'),
      trailers,
      tag: headerOf(headers, 'x-tag') ?? '',
    };
  }
}

/**
 * How the recording backend answers one request: a response text, `null` for the default answer naming the request,
 * `handled` when the responder wrote to the socket itself, `tunnel` when it switched protocols (it wrote its 101):
 * every later byte on that connection is echoed back after `echo:`, unparsed.
 */
export type Responder = (r: SeenRequest, socket: net.Socket) => string | null | 'handled' | 'tunnel';

/** The default answer: a response naming the request it answers. */
export function namingResponse(r: SeenRequest): string {
  const body = JSON.stringify({ tag: r.tag, method: r.method, target: r.target, bodyLength: r.body.length });
  return `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nX-Tag: ${
    r.tag || '-'
  }\r\nX-Seq: ${r.seq}\r\n\r\n${body}`;
}

/** A backend that records what the proxy sent it. */
export interface RecordingBackend {
  addr: string;
  port: number;
  requests: SeenRequest[];
  /** Protocol violations in what the proxy sent (each closed its connection). */
  violations: string[];
  /** Connections accepted so far. */
  accepted(): number;
  /** Forget what was seen (between cases). */
  reset(): void;
  /** Waits until no backend connection holds half a request (or the deadline). */
  settled(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** A recording backend on `addr` (127.0.0.x); `respond` may answer differently. */
export async function recordingBackend(addr: string, respond?: Responder): Promise<RecordingBackend> {
  const requests: SeenRequest[] = [];
  const violations: string[] = [];
  const sockets = new Set<net.Socket>();
  const parsers = new Map<net.Socket, StrictRequestParser>();
  let accepted = 0;
  let seq = 0;
  const server = net.createServer((s) => {
    const conn = ++accepted;
    const p = new StrictRequestParser(conn, () => ++seq);
    sockets.add(s);
    parsers.set(s, p);
    s.on('error', () => {});
    s.on('close', () => {
      sockets.delete(s);
      parsers.delete(s);
    });
    let tunnel = false;
    s.on('data', (d: Buffer) => {
      if (tunnel) {
        s.write(Buffer.concat([Buffer.from('echo:'), d]));
        return;
      }
      let got: SeenRequest[];
      try {
        got = p.feed(d);
      } catch (e) {
        violations.push(`conn ${conn}: ${(e as Error).message}`);
        s.destroy();
        return;
      }
      for (const r of got) {
        requests.push(r);
        const answer = respond?.(r, s) ?? null;
        if (answer === 'tunnel') {
          tunnel = true;
          break;
        }
        if (answer === 'handled') continue;
        s.write(answer ?? namingResponse(r), 'latin1');
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, addr, resolve);
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    addr,
    port,
    requests,
    violations,
    accepted: () => accepted,
    reset: () => {
      requests.length = 0;
      violations.length = 0;
    },
    settled: async (timeoutMs = 2_000) => {
      const deadline = Date.now() + timeoutMs;
      while ([...parsers.values()].some((p) => p.partial) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A response as a raw client parsed it. */
export interface SeenResponse {
  status: number;
  headers: [string, string][];
  body: string;
  /** X-Tag of the request the backend answered ('' for the proxy's own answers). */
  tag: string;
  /** X-Seq: which backend request it answers (0 for the proxy's own answers). */
  seq: number;
}

/**
 * Strictly parses the responses in `data` (1xx interim responses skipped). Returns the complete ones and whether
 * the bytes ended cleanly between responses (false: a cut or malformed response at the end).
 */
export function parseResponses(data: Buffer, headRequests = 0): { responses: SeenResponse[]; clean: boolean } {
  const responses: SeenResponse[] = [];
  let at = 0;
  let heads = headRequests;
  while (at < data.length) {
    const end = data.indexOf('\r\n\r\n', at);
    if (end < 0) return { responses, clean: false };
    const lines = data.toString('latin1', at, end).split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0] ?? '');
    if (!m) return { responses, clean: false };
    const status = Number(m[1]);
    const headers: [string, string][] = [];
    for (const l of lines.slice(1)) {
      const c = l.indexOf(':');
      if (c <= 0) return { responses, clean: false };
      headers.push([l.slice(0, c), l.slice(c + 1).trim()]);
    }
    at = end + 4;
    if (status < 200 && status !== 101) continue;
    const cl = headerOf(headers, 'content-length');
    const te = headerOf(headers, 'transfer-encoding');
    let body = '';
    if (status === 101 || status === 204 || status === 304 || heads-- > 0) {
      body = '';
    } else if (te) {
      if (te.toLowerCase() !== 'chunked') return { responses, clean: false };
      const parts: string[] = [];
      for (;;) {
        const nl = data.indexOf('\r\n', at);
        if (nl < 0) return { responses, clean: false };
        const n = Number.parseInt(data.toString('latin1', at, nl).split(';')[0] ?? '', 16);
        if (!Number.isFinite(n)) return { responses, clean: false };
        if (n === 0) {
          const t = data.indexOf('\r\n\r\n', nl);
          if (t < 0 && data.toString('latin1', nl, nl + 4) !== '\r\n\r\n') return { responses, clean: false };
          at = (t < 0 ? nl : t) + 4;
          break;
        }
        if (data.length < nl + 2 + n + 2) return { responses, clean: false };
        parts.push(data.toString('latin1', nl + 2, nl + 2 + n));
        at = nl + 4 + n;
      }
      body = parts.join('');
    } else if (cl !== undefined) {
      const n = Number(cl);
      if (data.length < at + n) return { responses, clean: false };
      body = data.toString('latin1', at, at + n);
      at += n;
    } else {
      body = data.toString('latin1', at);
      at = data.length;
    }
    responses.push({
      status,
      headers,
      body,
      tag: headerOf(headers, 'x-tag') ?? '',
      seq: Number(headerOf(headers, 'x-seq') ?? 0),
    });
  }
  return { responses, clean: true };
}

/** What a raw client saw. */
export interface RawResult {
  responses: SeenResponse[];
  /** The bytes ended cleanly between responses. */
  clean: boolean;
  /** The proxy closed the connection (rather than the client giving up after `expect` responses). */
  closed: boolean;
  raw: Buffer;
}

/**
 * Connects to the proxy, writes `chunks` (with `gapMs` between them), and reads until the proxy closes, or until
 * `expect` complete final responses arrived and the connection stayed open `settleMs` more, or `timeoutMs` passed.
 * `halfClose` ends the client's side after its last write.
 */
export function rawRequest(
  port: number,
  chunks: readonly (string | Buffer)[],
  opts: {
    host?: string;
    expect?: number;
    timeoutMs?: number;
    settleMs?: number;
    gapMs?: number;
    halfClose?: boolean;
    headRequests?: number;
  } = {},
): Promise<RawResult> {
  return new Promise((resolve) => {
    const s = net.connect({ host: opts.host ?? '127.0.0.1', port });
    const got: Buffer[] = [];
    let done = false;
    let settle: NodeJS.Timeout | null = null;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      if (settle) clearTimeout(settle);
      s.destroy();
      const raw = Buffer.concat(got);
      const { responses, clean } = parseResponses(raw, opts.headRequests);
      resolve({ responses, clean, closed, raw });
    };
    const deadline = setTimeout(() => finish(false), opts.timeoutMs ?? 5_000);
    s.on('error', () => {});
    s.on('data', (d: Buffer) => {
      got.push(d);
      if (opts.expect === undefined) return;
      const n = parseResponses(Buffer.concat(got), opts.headRequests).responses.length;
      if (n >= opts.expect) {
        if (settle) clearTimeout(settle);
        settle = setTimeout(() => finish(false), opts.settleMs ?? 30);
      }
    });
    s.on('close', () => finish(true));
    s.once('connect', async () => {
      for (let i = 0; i < chunks.length; i++) {
        if (done) return;
        const c = chunks[i] as string | Buffer;
        s.write(typeof c === 'string' ? Buffer.from(c, 'latin1') : c);
        if (opts.gapMs && i < chunks.length - 1) await new Promise((r) => setTimeout(r, opts.gapMs));
      }
      if (opts.halfClose) s.end();
    });
  });
}
