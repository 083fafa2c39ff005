/**
 * An incremental parser of HTTP/1.1 responses from a real server: the status line and headers, then the body by its
 * framing (Content-Length, chunked, or until the connection closes). The proxy's upstream connections feed it bytes
 * as they arrive; it calls its sink with the head, the body's bytes (chunk framing removed) and the end. Interim 1xx
 * responses are skipped. Pure and total: no I/O, and malformed input becomes a {@link ResponseParseError}, never an
 * exception.
 * @see RFC 9112 §4 (status line), §5 (fields), §6.3 (message body length), §7.1 (chunked)
 */

/** Why a response could not be parsed (closed set, Rule 5). */
export type ResponseParseError =
  /** The head is longer than {@link MAX_HEAD_BYTES}. */
  | 'head-too-large'
  /** The status line is not `HTTP/1.x NNN reason`. */
  | 'bad-status-line'
  /** A header line is malformed (no colon, a bad name, a bare CR, obs-fold). */
  | 'bad-header'
  /** Content-Length is not a number, or several disagree. */
  | 'bad-content-length'
  /** The chunked framing is malformed. */
  | 'bad-chunk'
  /** 101 Switching Protocols to a request that did not ask for an upgrade. */
  | 'unexpected-upgrade'
  /** The connection closed before the response was complete. */
  | 'incomplete';

/** How the body of a response is delimited. */
export type Framing = 'none' | 'length' | 'chunked' | 'close';

/** The head of a response. */
export interface ResponseHead {
  status: number;
  reason: string;
  /** Every header as `[name, value, name, value, …]`, names in the server's case. */
  headers: string[];
  framing: Framing;
  /** Content-Length, for framing `length`. */
  contentLength: number;
  /** The connection may carry another request after this response. */
  keepAlive: boolean;
  /** The server's `Keep-Alive: timeout=N` hint in ms, or null. */
  keepAliveTimeoutMs: number | null;
}

/** Where a parser delivers what it parsed. */
export interface ResponseSink {
  head(h: ResponseHead): void;
  body(chunk: Buffer): void;
  end(): void;
}

/** The longest head accepted (status line and headers). */
export const MAX_HEAD_BYTES = 65_536;
/** The longest chunk-size or trailer line accepted. */
const MAX_LINE = 4_096;

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/;
const DIGITS = /^\d{1,15}$/;
const HEX = /^[0-9a-fA-F]{1,12}$/;
/** What a field value or reason phrase may hold (RFC 9110 §5.5: VCHAR, obs-text, SP, HTAB), as Node also requires. */
const FIELD_TEXT = /^[\t\x20-\x7e\x80-\xff]*$/;

type State =
  | 'idle'
  | 'head'
  | 'length'
  | 'chunk-size'
  | 'chunk-data'
  | 'chunk-crlf'
  | 'trailers'
  | 'close'
  | 'upgraded'
  | 'done';

/**
 * One response at a time on one connection: `expect` before each request, then `feed` the bytes, `eof` when the
 * connection closes.
 * @example
 *   const p = new ResponseParser(sink);
 *   p.expect(false);
 *   p.feed(Buffer.from('HTTP/1.1 204 No Content\r\n\r\n')); // sink.head(…), sink.end()
 */
export class ResponseParser {
  private state: State = 'idle';
  private headRequest = false;
  private upgrade = false;
  private headBuf: Buffer | null = null;
  private remaining = 0;
  private line = '';
  private crlfSeen = 0;
  private keepAlive = false;
  /** The response ended inside the current feed; the sink hears of it once the feed knows what follows. */
  private ended = false;
  /** Some byte of the current response arrived. */
  started = false;
  /** Bytes arrived after the response ended (the connection cannot be reused). */
  trailing = false;

  constructor(private readonly sink: ResponseSink) {}

  /**
   * Prepares for the response to a new request; `headRequest` = the request was HEAD (no body follows); `upgrade` =
   * the request asked for a protocol switch: a 101 answer is its head, and every byte after it goes to the sink's
   * `body` as the new protocol's (the connection is a tunnel from then on).
   */
  expect(headRequest: boolean, upgrade = false): void {
    this.state = 'head';
    this.headRequest = headRequest;
    this.upgrade = upgrade;
    this.headBuf = null;
    this.started = false;
    this.trailing = false;
    this.line = '';
  }

  /** The response ended (or none is expected). */
  get done(): boolean {
    return this.state === 'done' || this.state === 'idle';
  }

  /** The body runs until the connection closes. */
  get closeDelimited(): boolean {
    return this.state === 'close';
  }

  /** Whether the finished response allows another request on the connection. */
  get reusable(): boolean {
    return this.state === 'done' && this.keepAlive && !this.trailing;
  }

  /** Parses `buf`; returns an error, or null. */
  feed(buf: Buffer): ResponseParseError | null {
    if (buf.length === 0) return null;
    if (this.state === 'idle' || this.state === 'done') {
      this.trailing = true;
      return null;
    }
    this.started = true;
    let at = 0;
    while (at < buf.length && !this.ended) {
      switch (this.state) {
        case 'head': {
          const r = this.parseHead(buf, at);
          if (typeof r === 'string') return r;
          if (r < 0) return null;
          at = r;
          break;
        }
        case 'length': {
          const n = Math.min(this.remaining, buf.length - at);
          this.remaining -= n;
          const chunk = at === 0 && n === buf.length ? buf : buf.subarray(at, at + n);
          at += n;
          if (this.remaining === 0) {
            this.state = 'done';
            this.ended = true;
          }
          this.sink.body(chunk);
          break;
        }
        case 'close':
        case 'upgraded':
          this.sink.body(at === 0 ? buf : buf.subarray(at));
          return null;
        case 'chunk-size':
        case 'trailers': {
          const nl = buf.indexOf(10, at);
          const end = nl < 0 ? buf.length : nl + 1;
          this.line += buf.toString('latin1', at, end);
          at = end;
          if (this.line.length > MAX_LINE) return 'bad-chunk';
          if (nl < 0) break;
          const err = this.state === 'chunk-size' ? this.chunkSizeLine() : this.trailerLine();
          if (err) return err;
          break;
        }
        case 'chunk-data': {
          const n = Math.min(this.remaining, buf.length - at);
          this.remaining -= n;
          const chunk = buf.subarray(at, at + n);
          at += n;
          if (this.remaining === 0) {
            this.state = 'chunk-crlf';
            this.crlfSeen = 0;
          }
          this.sink.body(chunk);
          break;
        }
        case 'chunk-crlf': {
          const want = this.crlfSeen === 0 ? 13 : 10;
          if (buf[at] !== want) return 'bad-chunk';
          at++;
          if (++this.crlfSeen === 2) this.state = 'chunk-size';
          break;
        }
        default:
          this.ended = this.state === 'done';
          break;
      }
    }
    if (this.ended) {
      this.ended = false;
      // What follows the response does not belong to it: the connection cannot be trusted with another request.
      if (at < buf.length) this.trailing = true;
      this.sink.end();
    }
    return null;
  }

  /** The connection closed: ends a close-delimited body; anything else unfinished is `incomplete`. */
  eof(): ResponseParseError | null {
    if (this.state === 'close') {
      this.state = 'done';
      this.keepAlive = false;
      this.sink.end();
      return null;
    }
    if (this.state === 'idle' || this.state === 'done') return null;
    return 'incomplete';
  }

  /** Returns the offset after the head, -1 = need more bytes, or an error. */
  private parseHead(buf: Buffer, at: number): number | ResponseParseError {
    const fresh = at > 0 ? buf.subarray(at) : buf;
    const prevLen = this.headBuf ? this.headBuf.length : 0;
    const all = this.headBuf ? Buffer.concat([this.headBuf, fresh]) : fresh;
    const end = all.indexOf('\r\n\r\n', Math.max(0, prevLen - 3), 'latin1');
    if (end < 0) {
      if (all.length > MAX_HEAD_BYTES) return 'head-too-large';
      // Keep a copy: the caller's buffer may be reused once we return.
      this.headBuf = Buffer.from(all);
      return -1;
    }
    if (end > MAX_HEAD_BYTES) return 'head-too-large';
    this.headBuf = null;
    const r = this.head(all.toString('latin1', 0, end));
    if (typeof r === 'string') return r;
    // Offset in `buf` just after the blank line.
    return at + (end + 4 - prevLen);
  }

  private head(text: string): ResponseParseError | null {
    const lines = text.split('\r\n');
    const m = STATUS_LINE.exec(lines[0] ?? '');
    if (!m || !FIELD_TEXT.test(m[3] ?? '')) return 'bad-status-line';
    const minor = m[1] === '1' ? 1 : 0;
    const status = Number(m[2]);
    const headers: string[] = [];
    let contentLength = -1;
    let chunked = false;
    let te = false;
    let close = false;
    let keepAliveToken = false;
    let keepAliveTimeoutMs: number | null = null;
    for (let i = 1; i < lines.length; i++) {
      const l = lines[i] as string;
      const c = l.indexOf(':');
      if (c <= 0) return 'bad-header';
      const name = l.slice(0, c);
      if (!TOKEN.test(name)) return 'bad-header';
      const value = l.slice(c + 1).trim();
      if (!FIELD_TEXT.test(value)) return 'bad-header';
      headers.push(name, value);
      switch (name.length) {
        case 10: {
          const lower = name.toLowerCase();
          if (lower === 'connection') {
            for (const t of value.toLowerCase().split(',')) {
              const tok = t.trim();
              if (tok === 'close') close = true;
              else if (tok === 'keep-alive') keepAliveToken = true;
            }
          } else if (lower === 'keep-alive') {
            const t = /(?:^|[,;\s])timeout=(\d+)/i.exec(value);
            if (t) keepAliveTimeoutMs = Number(t[1]) * 1_000;
          }
          break;
        }
        case 14:
          if (name.toLowerCase() === 'content-length') {
            for (const part of value.split(',')) {
              const v = part.trim();
              if (!DIGITS.test(v)) return 'bad-content-length';
              const n = Number(v);
              if (contentLength >= 0 && n !== contentLength) return 'bad-content-length';
              contentLength = n;
            }
          }
          break;
        case 17:
          if (name.toLowerCase() === 'transfer-encoding') {
            te = true;
            const codings = value.toLowerCase().split(',');
            chunked = (codings[codings.length - 1] ?? '').trim() === 'chunked';
          }
          break;
        default:
          break;
      }
    }
    if (status === 101 && this.upgrade) {
      this.keepAlive = false;
      this.state = 'upgraded';
      this.sink.head({
        status,
        reason: m[3] ?? '',
        headers,
        framing: 'none',
        contentLength: 0,
        keepAlive: false,
        keepAliveTimeoutMs: null,
      });
      return null;
    }
    if (status < 200) {
      if (status === 101) return 'unexpected-upgrade';
      // Interim (100 Continue, 103 Early Hints): the final response follows.
      this.state = 'head';
      return null;
    }
    let framing: Framing;
    if (this.headRequest || status === 204 || status === 304) framing = 'none';
    else if (te) framing = chunked ? 'chunked' : 'close';
    else if (contentLength >= 0) framing = contentLength === 0 ? 'none' : 'length';
    else framing = 'close';
    // A Transfer-Encoding with a Content-Length may be a smuggling attempt: serve it, then close (RFC 9112 §6.3).
    const keepAlive = framing !== 'close' && !(te && contentLength >= 0) && (minor === 1 ? !close : keepAliveToken);
    this.keepAlive = keepAlive;
    const h: ResponseHead = {
      status,
      reason: m[3] ?? '',
      headers,
      framing,
      contentLength: Math.max(0, contentLength),
      keepAlive,
      keepAliveTimeoutMs,
    };
    switch (framing) {
      case 'none':
        this.state = 'done';
        break;
      case 'length':
        this.state = 'length';
        this.remaining = contentLength;
        break;
      case 'chunked':
        this.state = 'chunk-size';
        this.line = '';
        break;
      case 'close':
        this.state = 'close';
        break;
    }
    this.sink.head(h);
    if (this.state === 'done') this.ended = true;
    return null;
  }

  private chunkSizeLine(): ResponseParseError | null {
    const line = this.line;
    this.line = '';
    if (!line.endsWith('\r\n')) return 'bad-chunk';
    const semi = line.indexOf(';');
    const hex = (semi >= 0 ? line.slice(0, semi) : line.slice(0, -2)).trim();
    if (!HEX.test(hex)) return 'bad-chunk';
    const size = Number.parseInt(hex, 16);
    if (size === 0) {
      this.state = 'trailers';
    } else {
      this.state = 'chunk-data';
      this.remaining = size;
    }
    return null;
  }

  private trailerLine(): ResponseParseError | null {
    const line = this.line;
    this.line = '';
    if (!line.endsWith('\r\n')) return 'bad-chunk';
    // Trailer fields are dropped (Trailer is hop-by-hop here); the blank line ends the message.
    if (line.length === 2) {
      this.state = 'done';
      this.ended = true;
    }
    return null;
  }
}
