/**
 * The pure HTTP parts of the proxy: which methods may be retried, which headers stop at the proxy (hop-by-hop), and
 * the X-Forwarded-* headers it adds. Headers travel as Node's raw lists (`[name, value, name, value, …]`, names in
 * the sender's case) so the proxy copies them once per message and never builds a header object.
 * @see RFC 9110 §7.6.1 (Connection), §9.2.2 (idempotent methods); RFC 9112 §6.1 (Transfer-Encoding)
 */

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
 * Keep-Alive, Proxy-Connection, TE, Trailer, Transfer-Encoding (Node frames each side itself), Upgrade. Every name
 * starting with `proxy-` (Proxy-Authorization, Proxy-Authenticate …) is dropped too: it is addressed to the proxy.
 */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** What {@link requestHeaders} learnt about the request while copying its headers. */
export interface RequestHeadInfo {
  /** The request carries a body: a Content-Length above 0, or a Transfer-Encoding. */
  hasBody: boolean;
  /** The body is chunked (Transfer-Encoding present): the upstream request must be chunked too. */
  chunked: boolean;
  /** The Host header, or '' when the client sent none. */
  host: string;
}

/** The X-Forwarded-* values of one request (`forwarded_for`). */
export interface Forwarded {
  /** The client's address, appended to X-Forwarded-For. */
  for: string;
  /** The scheme the client used towards the proxy. @default 'http' */
  proto?: string;
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

function kindOf(name: string): number {
  // 'p' or 'P': Proxy-Connection, Proxy-Authorization, … (any length)
  if ((name.charCodeAt(0) | 0x20) === 0x70 && name.length > 6 && name.slice(0, 6).toLowerCase() === 'proxy-') {
    return K_HOP;
  }
  switch (name.length) {
    case 2:
    case 7:
      return HOP_BY_HOP.has(name.toLowerCase()) ? K_HOP : K_OTHER;
    case 4:
      return name.toLowerCase() === 'host' ? K_HOST : K_OTHER;
    case 10: {
      const lower = name.toLowerCase();
      if (lower === 'connection') return K_CONNECTION;
      return lower === 'keep-alive' ? K_HOP : K_OTHER;
    }
    case 14:
      return name.toLowerCase() === 'content-length' ? K_CLEN : K_OTHER;
    case 15:
      return name.toLowerCase() === 'x-forwarded-for' ? K_XFF : K_OTHER;
    case 16:
      return name.toLowerCase() === 'x-forwarded-host' ? K_XFHOST : K_OTHER;
    case 17: {
      const lower = name.toLowerCase();
      if (lower === 'transfer-encoding') return K_TE;
      return lower === 'x-forwarded-proto' ? K_XFPROTO : K_OTHER;
    }
    default:
      return K_OTHER;
  }
}

/**
 * Extra hop-by-hop names a Connection header lists (`Connection: close, X-Trace` drops X-Trace), lower-cased;
 * `close` and `keep-alive` are left out (they name no header worth a lookup).
 */
export function connectionTokens(value: string): string[] {
  const out: string[] = [];
  for (const t of value.split(',')) {
    const tok = t.trim().toLowerCase();
    if (tok && tok !== 'close' && tok !== 'keep-alive') out.push(tok);
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

/**
 * The headers to send upstream for a client request: hop-by-hop headers removed (with any the Connection header
 * names), and with `fwd` the client appended to X-Forwarded-For (earlier values kept, joined into one header) and
 * X-Forwarded-Proto / X-Forwarded-Host set by the proxy (a client's own values are replaced: the proxy knows them
 * first hand). A chunked body gets `Transfer-Encoding: chunked` back, since Node re-frames it. `info` is filled in.
 * @example requestHeaders(['Host', 'a', 'Connection', 'keep-alive'], { for: '198.51.100.7' }, info)
 *   // ['Host', 'a', 'X-Forwarded-For', '198.51.100.7', 'X-Forwarded-Proto', 'http', 'X-Forwarded-Host', 'a']
 */
export function requestHeaders(raw: readonly string[], fwd: Forwarded | null, info: RequestHeadInfo): string[] {
  const out: string[] = [];
  let xff = '';
  let extra: string[] | null = null;
  info.hasBody = false;
  info.chunked = false;
  info.host = '';
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    switch (kindOf(name)) {
      case K_OTHER:
        out.push(name, value);
        break;
      case K_HOST:
        if (!info.host) info.host = value;
        out.push(name, value);
        break;
      case K_CLEN:
        if (value !== '0') info.hasBody = true;
        out.push(name, value);
        break;
      case K_TE:
        info.hasBody = true;
        info.chunked = true;
        break;
      case K_CONNECTION: {
        const t = connectionTokens(value);
        if (t.length > 0) extra = extra ? extra.concat(t) : t;
        break;
      }
      case K_XFF:
        if (fwd) xff = xff ? `${xff}, ${value}` : value;
        else out.push(name, value);
        break;
      case K_XFPROTO:
      case K_XFHOST:
        if (!fwd) out.push(name, value);
        break;
      default:
        break;
    }
  }
  const headers = extra ? dropNamed(out, extra) : out;
  if (info.chunked) headers.push('Transfer-Encoding', 'chunked');
  if (fwd) {
    headers.push('X-Forwarded-For', xff ? `${xff}, ${fwd.for}` : fwd.for);
    headers.push('X-Forwarded-Proto', fwd.proto ?? 'http');
    if (info.host) headers.push('X-Forwarded-Host', info.host);
  }
  return headers;
}

/**
 * The headers to send to the client for a server's response: hop-by-hop headers removed (with any the Connection
 * header names). Transfer-Encoding goes too: Node frames the response for the client (chunked, or close-delimited
 * for an HTTP/1.0 client) when there is no Content-Length.
 * @example responseHeaders(['Content-Type', 'text/plain', 'Keep-Alive', 'timeout=5']) // ['Content-Type', 'text/plain']
 */
export function responseHeaders(raw: readonly string[]): string[] {
  const out: string[] = [];
  let extra: string[] | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    const k = kindOf(name);
    if (k === K_HOP || k === K_TE) continue;
    if (k === K_CONNECTION) {
      const t = connectionTokens(value);
      if (t.length > 0) extra = extra ? extra.concat(t) : t;
      continue;
    }
    out.push(name, value);
  }
  return extra ? dropNamed(out, extra) : out;
}
