/**
 * The pure HTTP parts of the proxy: the checks a request passes before anything of it goes to a server, the request
 * head the proxy sends in its place, which headers stop at the proxy (hop-by-hop), the X-Forwarded-* headers it adds,
 * and which methods may be retried. Headers travel as Node's raw lists (`[name, value, name, value, …]`, names in
 * the sender's case) so the proxy copies them once per message and never builds a header object.
 *
 * The request is framed once, by node:http's parser (llhttp, strict) on receipt: it refuses what it cannot frame
 * unambiguously (Content-Length with Transfer-Encoding, chunked not last, duplicate or malformed Content-Length,
 * bare CR or LF, bad chunk sizes). What it lets through is checked here (duplicate or conflicting Host, transfer
 * codings other than chunked, HTTP/1.0 with Transfer-Encoding, header count), and the head sent upstream carries
 * the framing the proxy computed, never the client's own Content-Length or Transfer-Encoding fields. Hop-by-hop
 * handling (RFC 9110 §7.6.1) never removes framing or Host, whatever the Connection header names.
 * @see RFC 9110 §7.2 (Host), §7.6.1 (Connection), §9.2.2 (idempotent methods); RFC 9112 §3.2 (request target),
 *   §6.1 (Transfer-Encoding), §6.3 (message body length)
 */
import { STATUS_CODES } from 'node:http';

/** Methods RFC 9110 §9.2.2 calls idempotent: a request with one of them may be sent again after a failure. */
export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/**
 * Whether a request may be sent to another server after its connection failed: an idempotent method, and no byte
 * of its body was sent yet (the body cannot be replayed: it is streamed, not buffered).
 * @example mayRetry('GET', false) // true
 * @example mayRetry('POST', false) // false
 */
export function mayRetry(method: string, bodyStarted: boolean): boolean {
  return !bodyStarted && IDEMPOTENT_METHODS.has(method);
}

/**
 * Headers that belong to one connection, never forwarded (RFC 9110 §7.6.1 and RFC 2616 §13.5.1): Connection,
 * Keep-Alive, Proxy-Connection, TE, Trailer, Upgrade (carried again by the proxy itself for a WebSocket handshake).
 * Every name starting with `proxy-` (Proxy-Authorization, Proxy-Authenticate …) is dropped too: it is addressed to
 * the proxy. Transfer-Encoding and Content-Length are framing: the proxy writes its own.
 */
export const HOP_BY_HOP: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'te', 'trailer', 'upgrade']);

/** Names a Connection header can never make hop-by-hop: the framing and Host (the proxy keeps or rewrites them). */
const PROTECTED: ReadonlySet<string> = new Set(['host', 'content-length', 'transfer-encoding']);

/**
 * Why the proxy refuses a request before any of it goes to a server (closed set, Rule 5), with the status it answers:
 * `version` 505 (not HTTP/1.0 or 1.1); `target` 400 (not origin-form, `*` for OPTIONS, or an http(s) absolute URI);
 * `host-missing`, `host-duplicate`, `host-invalid` 400 (RFC 9112 §3.2); `host-conflict` 400 (an absolute-form target
 * naming another host than Host); `te-unsupported` 501 (a transfer coding other than chunked, RFC 9112 §6.1);
 * `te-malformed` 400; `te-http10` 400 (Transfer-Encoding in HTTP/1.0, RFC 9112 §6.1); `te-and-length` 400;
 * `length-malformed` 400; `framing-lookalike` 400 (Content_Length or Transfer_Encoding: a server that maps `_` to
 * `-`, as CGI-style frameworks do, would frame the body differently); `too-many-headers` 431; `upgrade-body` 400 (an
 * Upgrade request with a body).
 */
export type RequestRefusal =
  | 'version'
  | 'target'
  | 'host-missing'
  | 'host-duplicate'
  | 'host-invalid'
  | 'host-conflict'
  | 'te-unsupported'
  | 'te-malformed'
  | 'te-http10'
  | 'te-and-length'
  | 'length-malformed'
  | 'framing-lookalike'
  | 'too-many-headers'
  | 'upgrade-body';

/** The status code the proxy answers for each refusal. */
export const REFUSAL_STATUS: Readonly<Record<RequestRefusal, number>> = Object.freeze({
  version: 505,
  target: 400,
  'host-missing': 400,
  'host-duplicate': 400,
  'host-invalid': 400,
  'host-conflict': 400,
  'te-unsupported': 501,
  'te-malformed': 400,
  'te-http10': 400,
  'te-and-length': 400,
  'length-malformed': 400,
  'framing-lookalike': 400,
  'too-many-headers': 431,
  'upgrade-body': 400,
});

/** What the client is told for each refusal (the response body). */
export const REFUSAL_TEXT: Readonly<Record<RequestRefusal, string>> = Object.freeze({
  version: 'only HTTP/1.0 and HTTP/1.1 are supported',
  target: 'the request target must be a path, * for OPTIONS, or an http(s) URI',
  'host-missing': 'an HTTP/1.1 request needs a Host header',
  'host-duplicate': 'the request has more than one Host header',
  'host-invalid': 'the Host header is not a valid host[:port]',
  'host-conflict': 'the Host header names another host than the request target',
  'te-unsupported': 'only the chunked transfer coding is supported',
  'te-malformed': 'the Transfer-Encoding header is malformed',
  'te-http10': 'Transfer-Encoding is not allowed in an HTTP/1.0 request',
  'te-and-length': 'Content-Length and Transfer-Encoding must not both be present',
  'length-malformed': 'the Content-Length header is malformed',
  'framing-lookalike': 'Content_Length and Transfer_Encoding are not allowed (did you mean a hyphen?)',
  'too-many-headers': 'the request has too many header fields',
  'upgrade-body': 'an Upgrade request must not carry a body',
});

/** How the body of a request is framed. */
export type RequestFraming = 'none' | 'length' | 'chunked';

/** The request as the proxy forwards it, filled in by {@link forwardRequest}. */
export interface ForwardHead {
  /**
   * The request line and header fields to send upstream, each line ended by CRLF, without framing, without the
   * blank line, and without Host when {@link host} is '' (the caller adds the server's address).
   */
  text: string;
  /** How the client framed its body (the caller writes Content-Length or Transfer-Encoding: chunked for it). */
  framing: RequestFraming;
  /** The body length, for framing `length`. */
  length: number;
  /** The Host sent upstream, or '' for an HTTP/1.0 request without one. */
  host: string;
}

/** The X-Forwarded-* values of one request (`forwarded_for`). */
export interface Forwarded {
  /** The client's address, appended to X-Forwarded-For. */
  for: string;
  /** The scheme the client used towards the proxy. @default 'http' */
  proto?: string;
}

/** What {@link forwardRequest} needs of the request besides its headers. */
export interface RequestLine {
  method: string;
  /** The request target as received. */
  url: string;
  /** `1.1`, `1.0` (node:http's httpVersion). */
  version: string;
}

/** Options of {@link forwardRequest}. */
export interface ForwardOptions {
  /** Header fields allowed at most (more is `too-many-headers`). */
  maxHeaders: number;
  /** The request asks for a protocol switch (WebSocket): Upgrade is kept and `Connection: Upgrade` sent. */
  upgrade?: boolean;
}

// Header kinds, decided from the name's length first so that most names are never lower-cased.
const K_OTHER = 0;
const K_HOP = 1;
const K_CONNECTION = 2;
const K_TE = 3;
const K_XFF = 4;
const K_XFPROTO = 5;
const K_XFHOST = 6;
const K_HOST = 7;
const K_CLEN = 8;
const K_UPGRADE = 9;
const K_LOOKALIKE = 10;

function kindOf(name: string): number {
  // 'p' or 'P': Proxy-Connection, Proxy-Authorization, … (any length)
  if ((name.charCodeAt(0) | 0x20) === 0x70 && name.length > 6 && name.slice(0, 6).toLowerCase() === 'proxy-') {
    return K_HOP;
  }
  switch (name.length) {
    case 2:
      return name.toLowerCase() === 'te' ? K_HOP : K_OTHER;
    case 4:
      return name.toLowerCase() === 'host' ? K_HOST : K_OTHER;
    case 7: {
      const lower = name.toLowerCase();
      if (lower === 'upgrade') return K_UPGRADE;
      return lower === 'trailer' ? K_HOP : K_OTHER;
    }
    case 10: {
      const lower = name.toLowerCase();
      if (lower === 'connection') return K_CONNECTION;
      return lower === 'keep-alive' ? K_HOP : K_OTHER;
    }
    case 14: {
      const lower = name.toLowerCase();
      if (lower === 'content-length') return K_CLEN;
      return lower === 'content_length' ? K_LOOKALIKE : K_OTHER;
    }
    case 15:
      return name.toLowerCase() === 'x-forwarded-for' ? K_XFF : K_OTHER;
    case 16:
      return name.toLowerCase() === 'x-forwarded-host' ? K_XFHOST : K_OTHER;
    case 17: {
      const lower = name.toLowerCase();
      if (lower === 'transfer-encoding') return K_TE;
      if (lower === 'transfer_encoding') return K_LOOKALIKE;
      return lower === 'x-forwarded-proto' ? K_XFPROTO : K_OTHER;
    }
    default:
      return K_OTHER;
  }
}

/**
 * Extra hop-by-hop names a Connection header lists (`Connection: close, X-Trace` drops X-Trace), lower-cased;
 * `close`, `keep-alive` and `upgrade` are left out (they name no header worth a lookup, or one handled apart), and so
 * are Host, Content-Length and Transfer-Encoding: RFC 9110 §7.6.1 lets no sender make framing or Host hop-by-hop.
 */
export function connectionTokens(value: string): string[] {
  const out: string[] = [];
  // The usual values name no header: no split, no lower-casing.
  if (value === 'close' || value === 'keep-alive' || value === 'Keep-Alive' || value === 'Close') return out;
  for (const t of value.split(',')) {
    const tok = t.trim().toLowerCase();
    if (tok && tok !== 'close' && tok !== 'keep-alive' && tok !== 'upgrade' && !PROTECTED.has(tok)) out.push(tok);
  }
  return out;
}

function dropNamed(out: string[], names: readonly string[]): string[] {
  const drop = new Set(names);
  const kept: string[] = [];
  for (let i = 0; i < out.length; i += 2) {
    const n = out[i] as string;
    if (!drop.has(n.toLowerCase())) kept.push(n, out[i + 1] as string);
  }
  return kept;
}

/** A transfer coding or other token (RFC 9110 §5.6.2). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** host [":" port] (RFC 3986 §3.2.2): an IP literal, or a reg-name / IPv4 of unreserved, pct-encoded, sub-delims. */
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]+)(?::[0-9]*)?$/;
const DIGITS = /^[0-9]+$/;
/** The last Host that passed {@link HOST}: most requests name the same one (a check per request saved). */
let lastValidHost = '';

/**
 * Checks the transfer codings of a request (every Transfer-Encoding value, in order): null when they are `chunked`
 * alone, else the refusal. RFC 9112 §6.1: chunked must be last and only once (else 400, as llhttp also finds);
 * another coding the proxy does not implement is 501.
 * @example transferCodingRefusal(['gzip, chunked']) // 'te-unsupported'
 */
export function transferCodingRefusal(values: readonly string[]): RequestRefusal | null {
  let chunked = 0;
  let other = false;
  let last = '';
  for (const v of values) {
    for (const part of v.split(',')) {
      const c = part.trim().toLowerCase();
      if (!TOKEN.test(c)) return 'te-malformed';
      if (c === 'chunked') chunked++;
      else other = true;
      last = c;
    }
  }
  if (chunked !== 1 || last !== 'chunked') return 'te-malformed';
  return other ? 'te-unsupported' : null;
}

/** `host[:port]` with the scheme's default port removed and lower-cased, for comparing two authorities. */
function normalAuthority(a: string, https: boolean): string {
  const lower = a.toLowerCase();
  const dflt = https ? ':443' : ':80';
  if (lower.endsWith(dflt)) return lower.slice(0, -dflt.length);
  return lower.endsWith(':') ? lower.slice(0, -1) : lower;
}

/** Scratch for an absolute-form target: its authority and its path. */
const absolute = { authority: '', path: '', https: false };

/** Splits an http(s) absolute-form target into {@link absolute}; false when it is not one or carries userinfo. */
function splitAbsolute(url: string): boolean {
  const colon = url.indexOf('://');
  if (colon < 0) return false;
  const scheme = url.slice(0, colon).toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') return false;
  const from = colon + 3;
  let end = url.length;
  for (let i = from; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 0x2f || c === 0x3f || c === 0x23) {
      end = i;
      break;
    }
  }
  const authority = url.slice(from, end);
  if (!HOST.test(authority)) return false;
  const rest = url.slice(end);
  absolute.authority = authority;
  absolute.https = scheme === 'https';
  absolute.path = rest === '' ? '/' : rest.charCodeAt(0) === 0x2f ? rest : `/${rest}`;
  return true;
}

/**
 * Checks a request and builds the head the proxy sends upstream in its place, or returns why it is refused.
 * The head gets: the request line in origin-form (an absolute-form target becomes its path, its authority the Host,
 * RFC 9112 §3.2.2), the client's headers without hop-by-hop ones and without its framing fields, and with `fwd` the
 * client appended to X-Forwarded-For (earlier values kept, joined into one header) and X-Forwarded-Proto /
 * X-Forwarded-Host set by the proxy (a client's own values are replaced: the proxy knows them first hand).
 * @example
 *   forwardRequest({ method: 'GET', url: '/', version: '1.1' }, ['Host', 'a', 'Connection', 'Content-Length'],
 *     null, { maxHeaders: 100 }, out) // null; out.text === 'GET / HTTP/1.1\r\nHost: a\r\n'
 */
export function forwardRequest(
  line: RequestLine,
  raw: readonly string[],
  fwd: Forwarded | null,
  opts: ForwardOptions,
  out: ForwardHead,
): RequestRefusal | null {
  const { version } = line;
  if (version !== '1.1' && version !== '1.0') return 'version';
  if (raw.length > opts.maxHeaders * 2) return 'too-many-headers';
  const headers: string[] = [];
  let xff = '';
  let extra: string[] | null = null;
  let host: string | null = null;
  let hosts = 0;
  let length: string | null = null;
  let te: string[] | null = null;
  let upgrade: string | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    switch (kindOf(name)) {
      case K_OTHER:
        headers.push(name, value);
        break;
      case K_HOST:
        hosts++;
        host = value;
        headers.push(name, value);
        break;
      case K_CLEN:
        // llhttp refused a second one and anything but digits; kept as a check of our own all the same.
        if (length !== null) return 'length-malformed';
        length = value;
        break;
      case K_TE:
        if (te) te.push(value);
        else te = [value];
        break;
      case K_CONNECTION: {
        const t = connectionTokens(value);
        if (t.length > 0) extra = extra ? extra.concat(t) : t;
        break;
      }
      case K_UPGRADE:
        upgrade = upgrade === null ? value : `${upgrade}, ${value}`;
        break;
      case K_XFF:
        if (fwd) xff = xff ? `${xff}, ${value}` : value;
        else headers.push(name, value);
        break;
      case K_XFPROTO:
      case K_XFHOST:
        if (!fwd) headers.push(name, value);
        break;
      case K_LOOKALIKE:
        return 'framing-lookalike';
      default:
        break;
    }
  }
  if (hosts > 1) return 'host-duplicate';
  if (host !== null && host !== '' && host !== lastValidHost) {
    if (!HOST.test(host)) return 'host-invalid';
    lastValidHost = host;
  }
  let url = line.url;
  if (url.charCodeAt(0) !== 0x2f) {
    if (url === '*') {
      if (line.method !== 'OPTIONS') return 'target';
    } else {
      if (!splitAbsolute(url)) return 'target';
      const a = absolute.authority;
      if (host !== null && normalAuthority(host, absolute.https) !== normalAuthority(a, absolute.https)) {
        return 'host-conflict';
      }
      url = absolute.path;
      if (host === null) {
        host = a;
        headers.push('Host', a);
      }
    }
  }
  if (host === null || host === '') {
    if (version === '1.1') return host === null ? 'host-missing' : 'host-invalid';
    host = '';
  }
  let framing: RequestFraming = 'none';
  let n = 0;
  if (te) {
    if (version === '1.0') return 'te-http10';
    if (length !== null) return 'te-and-length';
    const r = transferCodingRefusal(te);
    if (r) return r;
    framing = 'chunked';
  } else if (length !== null) {
    if (!DIGITS.test(length)) return 'length-malformed';
    n = Number(length);
    if (!Number.isSafeInteger(n)) return 'length-malformed';
    if (n > 0) framing = 'length';
  }
  if (opts.upgrade && framing !== 'none') return 'upgrade-body';
  const kept = extra ? dropNamed(headers, extra) : headers;
  // The client's X-Forwarded-For named in its Connection header is hop-by-hop too; the proxy's own entry stays.
  if (extra && xff && extra.includes('x-forwarded-for')) xff = '';
  let text = `${line.method} ${url} HTTP/1.1\r\n`;
  for (let i = 0; i < kept.length; i += 2) text += `${kept[i]}: ${kept[i + 1]}\r\n`;
  if (opts.upgrade && upgrade !== null) text += `Connection: Upgrade\r\nUpgrade: ${upgrade}\r\n`;
  if (fwd) {
    text += `X-Forwarded-For: ${xff ? `${xff}, ${fwd.for}` : fwd.for}\r\nX-Forwarded-Proto: ${fwd.proto ?? 'http'}\r\n`;
    if (host) text += `X-Forwarded-Host: ${host}\r\n`;
  }
  out.text = text;
  out.framing = framing;
  out.length = n;
  out.host = host;
  return null;
}

/**
 * The headers to send to the client for a server's response: hop-by-hop headers removed (with any the Connection
 * header names), Transfer-Encoding too (Node frames the response for the client: chunked, or close-delimited for an
 * HTTP/1.0 client, when there is no Content-Length). With `upgrade` (a 101 answer) Upgrade stays and
 * `Connection: Upgrade` is added back.
 * @example responseHeaders(['Content-Type', 'text/plain', 'Keep-Alive', 'timeout=5']) // ['Content-Type', 'text/plain']
 */
export function responseHeaders(raw: readonly string[], upgrade = false): string[] {
  const out: string[] = [];
  let extra: string[] | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    const k = kindOf(name);
    if (k === K_HOP || k === K_TE) continue;
    if (k === K_UPGRADE) {
      if (upgrade) out.push(name, value);
      continue;
    }
    if (k === K_CONNECTION) {
      const t = connectionTokens(value);
      if (t.length > 0) extra = extra ? extra.concat(t) : t;
      continue;
    }
    out.push(name, value);
  }
  const kept = extra ? dropNamed(out, extra) : out;
  if (upgrade) kept.push('Connection', 'Upgrade');
  return kept;
}

/**
 * A response head as raw text (for connections node:http no longer frames: an upgrade's answer), with `headers`
 * already filtered by {@link responseHeaders}.
 * @example rawResponseHead(101, 'Switching Protocols', ['Upgrade', 'websocket', 'Connection', 'Upgrade'])
 */
export function rawResponseHead(status: number, reason: string, headers: readonly string[]): string {
  let text = `HTTP/1.1 ${status}${reason ? ` ${reason}` : ''}\r\n`;
  for (let i = 0; i < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return `${text}\r\n`;
}

/**
 * A whole error response as raw text, for a connection node:http no longer answers on (its parser gave up, or an
 * upgrade); the connection closes after it.
 * @example rawErrorResponse(400, 'malformed request') // 'HTTP/1.1 400 Bad Request\r\n…Connection: close…'
 */
export function rawErrorResponse(status: number, text: string): string {
  const body = `${text}\n`;
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}
