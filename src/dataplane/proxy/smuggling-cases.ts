/**
 * The request-smuggling and conformance cases, as exact bytes: what an attacker sends, what the proxy must answer
 * and what the backend must then see. Shared by smuggling.test.ts (against tandem's proxy) and
 * bench/tools/http-compare.ts (the same bytes against nginx and HAProxy, for the comparison table).
 * Every request of an attacker carries `X-Tag: attacker`, every request hidden in a body `X-Tag: smuggled`: a
 * backend that ever sees `smuggled`, or a client that ever gets an answer tagged with another client's tag, is a
 * smuggling. @see RFC 9112 §6.1, §6.3, §7.1; RFC 9110 §7.6.1
 */

/** A request as the backend must see it (after the proxy's normalisation). */
export interface ExpectedRequest {
  method: string;
  target: string;
  /** The body, decoded. @default '' */
  body?: string;
  /** The Host it must carry. @default 'a' */
  host?: string;
  /** The tag it must carry. @default 'attacker' */
  tag?: string;
}

/** One case of the suite. */
export interface SmugglingCase {
  /** Family: cl-te, te-cl, te-te, cl, hop-by-hop, bare-lf-cr, chunk, limits, host, version, pipelining, misc. */
  family: string;
  name: string;
  /** The attacker's bytes (latin1), written at once. */
  bytes: string;
  /** The statuses the attacker gets, in order (the proxy's own or the backend's). */
  statuses: number[];
  /** What the backend sees of the attacker: exactly these requests, in order ([] = none: refused). */
  backend: ExpectedRequest[];
  /** The attacker's connection must close after the answers (a refusal). @default true when backend is [] */
  closes?: boolean;
}

/** The innocent request sent after every case on a fresh connection (through the same pooled upstream). */
export const VICTIM = 'GET /victim HTTP/1.1\r\nHost: v\r\nX-Tag: victim\r\nCookie: session=victim-secret\r\n\r\n';

const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: evil\r\nX-Tag: smuggled\r\n\r\n';
const H = 'Host: a\r\nX-Tag: attacker\r\n';
/** A request whose declared body would swallow the next request on the connection (the victim's, with its cookie). */
const CAPTURE = 'POST /capture HTTP/1.1\r\nHost: a\r\nX-Tag: smuggled\r\nContent-Length: 120\r\n\r\nx=';
/** A chunked body holding the smuggled request, then its last chunk. */
const CHUNKED_SMUGGLED = `${SMUGGLED.length.toString(16)}\r\n${SMUGGLED}\r\n0\r\n\r\n`;

const post = (headers: string, body: string, target = '/a') => `POST ${target} HTTP/1.1\r\n${H}${headers}\r\n${body}`;
const refused = (family: string, name: string, bytes: string, status = 400): SmugglingCase => ({
  family,
  name,
  bytes,
  statuses: [status],
  backend: [],
});
const manyHeaders = (n: number) => Array.from({ length: n }, (_, i) => `X-H${i}: v\r\n`).join('');

/** The cases, in families. */
export const SMUGGLING_CASES: readonly SmugglingCase[] = [
  // CL.TE and TE.CL: both framings in one request (RFC 9112 §6.3: refuse, the framing is ambiguous).
  refused(
    'cl-te',
    'Content-Length then Transfer-Encoding: chunked',
    post(
      `Content-Length: ${'0\r\n\r\n'.length + SMUGGLED.length}\r\nTransfer-Encoding: chunked\r\n`,
      `0\r\n\r\n${SMUGGLED}`,
    ),
  ),
  refused(
    'te-cl',
    'Transfer-Encoding: chunked then Content-Length',
    post('Transfer-Encoding: chunked\r\nContent-Length: 4\r\n', CHUNKED_SMUGGLED),
  ),
  refused(
    'te-cl',
    'Transfer-Encoding: chunked with Content-Length: 0',
    post('Transfer-Encoding: chunked\r\nContent-Length: 0\r\n', CHUNKED_SMUGGLED),
  ),
  // TE.TE: an obfuscated Transfer-Encoding that one hop may read as chunked and the other not.
  refused(
    'te-te',
    'Transfer-Encoding: xchunked with Content-Length',
    post(`Transfer-Encoding: xchunked\r\nContent-Length: ${CHUNKED_SMUGGLED.length}\r\n`, CHUNKED_SMUGGLED),
  ),
  refused('te-te', 'Transfer-Encoding: xchunked alone', post('Transfer-Encoding: xchunked\r\n', CHUNKED_SMUGGLED)),
  {
    family: 'te-te',
    name: 'Transfer-Encoding:  chunked (extra space) is chunked',
    bytes: post('Transfer-Encoding:  chunked\r\n', CHUNKED_SMUGGLED),
    statuses: [200],
    backend: [{ method: 'POST', target: '/a', body: SMUGGLED }],
  },
  {
    family: 'te-te',
    name: 'Transfer-Encoding:\\tchunked (tab) is chunked',
    bytes: post('Transfer-Encoding:\tchunked\r\n', CHUNKED_SMUGGLED),
    statuses: [200],
    backend: [{ method: 'POST', target: '/a', body: SMUGGLED }],
  },
  {
    family: 'te-te',
    name: 'Transfer-Encoding: CHUNKED (case) is chunked',
    bytes: post('Transfer-Encoding: CHUNKED\r\n', CHUNKED_SMUGGLED),
    statuses: [200],
    backend: [{ method: 'POST', target: '/a', body: SMUGGLED }],
  },
  refused(
    'te-te',
    'Transfer-Encoding: chunked, identity',
    post('Transfer-Encoding: chunked, identity\r\n', CHUNKED_SMUGGLED),
  ),
  refused(
    'te-te',
    'Transfer-Encoding: identity, chunked (unknown coding: 501)',
    post('Transfer-Encoding: identity, chunked\r\n', CHUNKED_SMUGGLED),
    501,
  ),
  refused(
    'te-te',
    'Transfer-Encoding: gzip, chunked (unknown coding: 501)',
    post('Transfer-Encoding: gzip, chunked\r\n', CHUNKED_SMUGGLED),
    501,
  ),
  refused(
    'te-te',
    'two Transfer-Encoding: chunked lines',
    post('Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n', CHUNKED_SMUGGLED),
  ),
  refused(
    'te-te',
    'Transfer-Encoding: chunked and Transfer-Encoding: x',
    post('Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n', CHUNKED_SMUGGLED),
  ),
  refused(
    'te-te',
    'Transfer-Encoding : chunked (space before the colon)',
    post(`Transfer-Encoding : chunked\r\nContent-Length: ${CHUNKED_SMUGGLED.length}\r\n`, CHUNKED_SMUGGLED),
  ),
  refused(
    'te-te',
    ' Transfer-Encoding: chunked (leading space: obs-fold)',
    post(`Content-Length: ${CHUNKED_SMUGGLED.length}\r\n Transfer-Encoding: chunked\r\n`, CHUNKED_SMUGGLED),
  ),
  refused(
    'te-te',
    'Transfer-Encoding folded onto the next line',
    post('Transfer-Encoding:\r\n chunked\r\n', CHUNKED_SMUGGLED),
  ),
  refused('te-te', 'Transfer-Encoding: "chunked" (quoted)', post('Transfer-Encoding: "chunked"\r\n', CHUNKED_SMUGGLED)),
  refused(
    'te-te',
    'Transfer-Encoding: chunked;x=1 (parameter)',
    post('Transfer-Encoding: chunked;x=1\r\n', CHUNKED_SMUGGLED),
  ),
  refused(
    'te-te',
    'Transfer-Encoding: chunked\\v (vertical tab)',
    post('Transfer-Encoding: chunked\x0b\r\n', CHUNKED_SMUGGLED),
  ),
  refused('te-te', 'empty Transfer-Encoding', post('Transfer-Encoding: \r\n', CHUNKED_SMUGGLED)),
  refused(
    'te-te',
    'Transfer_Encoding (underscore) with Content-Length',
    post(`Transfer_Encoding: chunked\r\nContent-Length: ${CHUNKED_SMUGGLED.length}\r\n`, CHUNKED_SMUGGLED),
  ),
  refused(
    'te-te',
    'Transfer-Encoding: chunked in HTTP/1.0',
    `POST /a HTTP/1.0\r\n${H}Transfer-Encoding: chunked\r\n\r\n${CHUNKED_SMUGGLED}`,
  ),
  // Content-Length: duplicates, lists, signs and bases.
  refused('cl', 'two equal Content-Length', post('Content-Length: 5\r\nContent-Length: 5\r\n', 'hello')),
  refused(
    'cl',
    'two different Content-Length',
    post(`Content-Length: 5\r\nContent-Length: ${5 + SMUGGLED.length}\r\n`, `hello${SMUGGLED}`),
  ),
  refused('cl', 'Content-Length: 5, 5 (a list)', post('Content-Length: 5, 5\r\n', 'hello')),
  refused('cl', 'Content-Length: +5', post('Content-Length: +5\r\n', 'hello')),
  refused('cl', 'Content-Length: -1', post('Content-Length: -1\r\n', 'hello')),
  refused('cl', 'Content-Length: 0x5', post('Content-Length: 0x5\r\n', 'hello')),
  refused('cl', 'Content-Length: 5 5 (inner space)', post('Content-Length: 5 5\r\n', 'hello')),
  refused('cl', 'Content-Length: 2^64 + 1', post('Content-Length: 18446744073709551617\r\n', 'hello')),
  refused('cl', 'Content_Length (underscore)', post('Content_Length: 5\r\n', 'hello')),
  {
    family: 'cl',
    name: 'Content-Length: 005 is 5',
    bytes: post('Content-Length: 005\r\n', 'hello'),
    statuses: [200],
    backend: [{ method: 'POST', target: '/a', body: 'hello' }],
  },
  {
    family: 'cl',
    name: 'bytes after the Content-Length are the next request (pipelined, both answered in order)',
    bytes: post('Content-Length: 5\r\n', `hello GET /second HTTP/1.1\r\n${H}\r\n`.replace(' GET', 'GET')),
    statuses: [200, 200],
    backend: [
      { method: 'POST', target: '/a', body: 'hello' },
      { method: 'GET', target: '/second' },
    ],
    closes: false,
  },
  {
    family: 'cl',
    name: 'a GET with a body',
    bytes: `GET /a HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\nhello`,
    statuses: [200],
    backend: [{ method: 'GET', target: '/a', body: 'hello' }],
    closes: false,
  },
  // Hop-by-hop abuse: a Connection header naming framing, Host or the proxy's own headers.
  {
    family: 'hop-by-hop',
    name: 'regression: Connection: Content-Length does not smuggle the body as a second request',
    bytes: post(`Content-Length: ${SMUGGLED.length}\r\nConnection: Content-Length\r\n`, SMUGGLED, '/x'),
    statuses: [200],
    backend: [{ method: 'POST', target: '/x', body: SMUGGLED }],
    closes: false,
  },
  {
    family: 'hop-by-hop',
    name: "regression: Connection: Content-Length cannot capture the next client's request as a body",
    bytes: post(`Content-Length: ${CAPTURE.length}\r\nConnection: Content-Length\r\n`, CAPTURE, '/x'),
    statuses: [200],
    backend: [{ method: 'POST', target: '/x', body: CAPTURE }],
    closes: false,
  },
  {
    family: 'hop-by-hop',
    name: 'Connection: close, Content-Length',
    bytes: post(`Content-Length: ${SMUGGLED.length}\r\nConnection: close, Content-Length\r\n`, SMUGGLED),
    statuses: [200],
    backend: [{ method: 'POST', target: '/a', body: SMUGGLED }],
    closes: true,
  },
  {
    family: 'hop-by-hop',
    name: 'Connection: Transfer-Encoding keeps the chunked framing',
    bytes: post('Transfer-Encoding: chunked\r\nConnection: Transfer-Encoding\r\n', CHUNKED_SMUGGLED),
    statuses: [200],
    backend: [{ method: 'POST', target: '/a', body: SMUGGLED }],
    closes: false,
  },
  {
    family: 'hop-by-hop',
    name: 'regression: Connection: Host does not send the request upstream without Host',
    bytes: `GET /h HTTP/1.1\r\nHost: a\r\nX-Tag: attacker\r\nConnection: Host\r\n\r\n`,
    statuses: [200],
    backend: [{ method: 'GET', target: '/h', host: 'a' }],
    closes: false,
  },
  {
    family: 'hop-by-hop',
    name: 'Connection: X-Forwarded-For, Keep-Alive, TE',
    bytes: `GET /f HTTP/1.1\r\nHost: a\r\nX-Tag: attacker\r\nX-Forwarded-For: 6.6.6.6\r\nConnection: X-Forwarded-For, Keep-Alive, TE\r\nTE: trailers\r\n\r\n`,
    statuses: [200],
    backend: [{ method: 'GET', target: '/f' }],
    closes: false,
  },
  {
    family: 'hop-by-hop',
    name: 'Connection: Upgrade without an Upgrade header is a plain request',
    bytes: `GET /u HTTP/1.1\r\nHost: a\r\nX-Tag: attacker\r\nConnection: Upgrade\r\n\r\n`,
    statuses: [200],
    backend: [{ method: 'GET', target: '/u' }],
    closes: false,
  },
  // Bare LF and bare CR: line ends other than CRLF (RFC 9112 §2.2: a recipient may accept LF; a proxy must not
  // forward what its server may read differently).
  refused('bare-lf-cr', 'bare LF after the request line', `GET / HTTP/1.1\n${H}\r\n`),
  refused('bare-lf-cr', 'bare LF after a header', `GET / HTTP/1.1\r\nHost: a\nX-Tag: attacker\r\n\r\n`),
  refused('bare-lf-cr', 'bare LF ends the head', `GET / HTTP/1.1\r\n${H}\n${SMUGGLED}`),
  refused(
    'bare-lf-cr',
    'bare CR inside a header value',
    `GET / HTTP/1.1\r\n${H}X-A: 1\rTransfer-Encoding: chunked\r\n\r\n`,
  ),
  refused('bare-lf-cr', 'bare CR as a line end', `GET / HTTP/1.1\r${H}\r\n`),
  refused('bare-lf-cr', 'NUL in a header value', `GET / HTTP/1.1\r\n${H}X-A: a\x00b\r\n\r\n`),
  refused('bare-lf-cr', 'bare LF after a chunk size', post('Transfer-Encoding: chunked\r\n', `5\nhello\r\n0\r\n\r\n`)),
  refused('bare-lf-cr', 'bare LF after chunk data', post('Transfer-Encoding: chunked\r\n', `5\r\nhello\n0\r\n\r\n`)),
  // Chunk sizes: overflow, prefixes, signs, extensions.
  refused(
    'chunk',
    'chunk size 2^68 (overflow)',
    post('Transfer-Encoding: chunked\r\n', `100000000000000005\r\nhello\r\n0\r\n\r\n`),
  ),
  refused(
    'chunk',
    'chunk size FFFFFFFFFFFFFFFFF',
    post('Transfer-Encoding: chunked\r\n', `FFFFFFFFFFFFFFFFF\r\nhello\r\n0\r\n\r\n`),
  ),
  refused('chunk', 'chunk size 0x5', post('Transfer-Encoding: chunked\r\n', `0x5\r\nhello\r\n0\r\n\r\n`)),
  refused('chunk', 'chunk size -5', post('Transfer-Encoding: chunked\r\n', `-5\r\nhello\r\n0\r\n\r\n`)),
  refused('chunk', 'chunk size +5', post('Transfer-Encoding: chunked\r\n', `+5\r\nhello\r\n0\r\n\r\n`)),
  refused(
    'chunk',
    'chunk size with a trailing space',
    post('Transfer-Encoding: chunked\r\n', `5 \r\nhello\r\n0\r\n\r\n`),
  ),
  refused(
    'chunk',
    'more chunk data than its size',
    post('Transfer-Encoding: chunked\r\n', `5\r\nhello!!\r\n0\r\n\r\n`),
  ),
  refused(
    'chunk',
    'a request where the last chunk should be',
    post('Transfer-Encoding: chunked\r\n', `5\r\nhello\r\n${SMUGGLED}`),
  ),
  {
    family: 'chunk',
    name: 'chunk extensions are dropped',
    bytes: post('Transfer-Encoding: chunked\r\n', `5;ext=1;q="a;b"\r\nhello\r\n0;last\r\n\r\n`),
    statuses: [200],
    backend: [{ method: 'POST', target: '/a', body: 'hello' }],
    closes: false,
  },
  {
    family: 'chunk',
    name: 'chunk size with leading zeros',
    bytes: post('Transfer-Encoding: chunked\r\n', `0000000005\r\nhello\r\n0\r\n\r\n`),
    statuses: [200],
    backend: [{ method: 'POST', target: '/a', body: 'hello' }],
    closes: false,
  },
  {
    family: 'chunk',
    name: 'trailer fields are not forwarded',
    bytes: post('Transfer-Encoding: chunked\r\n', `5\r\nhello\r\n0\r\nX-Trailer: 1\r\nX-Tag: smuggled\r\n\r\n`),
    statuses: [200],
    backend: [{ method: 'POST', target: '/a', body: 'hello' }],
    closes: false,
  },
  refused(
    'chunk',
    'a Transfer-Encoding trailer field',
    post('Transfer-Encoding: chunked\r\n', `5\r\nhello\r\n0\r\nTransfer-Encoding: x\r\n\r\n`),
  ),
  // Header count and size: refused with 431, never silently cut.
  refused('limits', '2,500 header fields', `GET / HTTP/1.1\r\n${H}${manyHeaders(2_500)}\r\n`, 431),
  refused('limits', '101 header fields (over max_headers 100)', `GET / HTTP/1.1\r\n${H}${manyHeaders(99)}\r\n`, 431),
  {
    family: 'limits',
    name: '100 header fields',
    bytes: `GET /100 HTTP/1.1\r\n${H}${manyHeaders(98)}\r\n`,
    statuses: [200],
    backend: [{ method: 'GET', target: '/100' }],
    closes: false,
  },
  refused('limits', 'one header of 20 KiB', `GET / HTTP/1.1\r\n${H}X-Big: ${'b'.repeat(20_480)}\r\n\r\n`, 431),
  refused('limits', 'a request line of 17 KiB', `GET /${'p'.repeat(17_408)} HTTP/1.1\r\n${H}\r\n`, 431),
  // Host: RFC 9112 §3.2 (exactly one, valid) and §3.2.2 (absolute-form).
  refused('host', 'two Host headers', `GET / HTTP/1.1\r\nHost: a\r\nHost: evil\r\nX-Tag: attacker\r\n\r\n`),
  refused('host', 'absolute-form naming another host than Host', `GET http://evil/x HTTP/1.1\r\n${H}\r\n`),
  {
    family: 'host',
    name: 'absolute-form naming the Host goes upstream in origin-form',
    bytes: `GET http://a/abs?q HTTP/1.1\r\n${H}\r\n`,
    statuses: [200],
    backend: [{ method: 'GET', target: '/abs?q' }],
    closes: false,
  },
  refused('host', 'no Host in HTTP/1.1', `GET / HTTP/1.1\r\nX-Tag: attacker\r\n\r\n`),
  refused('host', 'empty Host in HTTP/1.1', `GET / HTTP/1.1\r\nHost:\r\nX-Tag: attacker\r\n\r\n`),
  refused('host', 'Host with a space', `GET / HTTP/1.1\r\nHost: a b\r\nX-Tag: attacker\r\n\r\n`),
  refused('host', 'Host with userinfo', `GET / HTTP/1.1\r\nHost: user@evil\r\nX-Tag: attacker\r\n\r\n`),
  // Versions.
  refused('version', 'HTTP/2.0 in text', `GET / HTTP/2.0\r\n${H}\r\n`, 505),
  refused('version', 'HTTP/1.2', `GET / HTTP/1.2\r\n${H}\r\n`),
  refused('version', 'HTTP/0.9 (no version)', 'GET /\r\n\r\n', 505),
  // Pipelining: several requests in one write, answered in order, each once.
  {
    family: 'pipelining',
    name: 'two GETs in one write',
    bytes: `GET /1 HTTP/1.1\r\n${H}\r\nGET /2 HTTP/1.1\r\n${H}\r\n`,
    statuses: [200, 200],
    backend: [
      { method: 'GET', target: '/1' },
      { method: 'GET', target: '/2' },
    ],
    closes: false,
  },
  {
    family: 'pipelining',
    name: 'GET, POST with a body, chunked POST, GET in one write',
    bytes:
      `GET /1 HTTP/1.1\r\n${H}\r\n` +
      post('Content-Length: 5\r\n', 'hello', '/2') +
      post('Transfer-Encoding: chunked\r\n', '3\r\nabc\r\n0\r\n\r\n', '/3') +
      `GET /4 HTTP/1.1\r\n${H}\r\n`,
    statuses: [200, 200, 200, 200],
    backend: [
      { method: 'GET', target: '/1' },
      { method: 'POST', target: '/2', body: 'hello' },
      { method: 'POST', target: '/3', body: 'abc' },
      { method: 'GET', target: '/4' },
    ],
    closes: false,
  },
  {
    family: 'pipelining',
    name: '50 pipelined GETs',
    bytes: Array.from({ length: 50 }, (_, i) => `GET /${i} HTTP/1.1\r\n${H}\r\n`).join(''),
    statuses: Array.from({ length: 50 }, () => 200),
    backend: Array.from({ length: 50 }, (_, i) => ({ method: 'GET', target: `/${i}` })),
    closes: false,
  },
  {
    family: 'pipelining',
    name: 'a valid request, then a malformed one: the first is answered, then 400 and close',
    bytes: `GET /ok HTTP/1.1\r\n${H}\r\nGET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n`,
    statuses: [200, 400],
    backend: [{ method: 'GET', target: '/ok' }],
    closes: true,
  },
  {
    family: 'pipelining',
    name: 'a refused request, then a valid one: nothing after the refusal is read as a request',
    bytes: post('Transfer-Encoding: gzip, chunked\r\n', `0\r\n\r\nGET /after HTTP/1.1\r\n${H}\r\n`),
    statuses: [501],
    backend: [],
  },
  {
    family: 'pipelining',
    name: 'regression: a GET then CONNECT in one write: the GET is answered first, then 405',
    bytes: `GET /1 HTTP/1.1\r\n${H}\r\nCONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n`,
    statuses: [200, 405],
    backend: [{ method: 'GET', target: '/1' }],
    closes: true,
  },
  {
    family: 'pipelining',
    name: 'a GET then an Upgrade request the server does not take: both answered in order, then close',
    bytes: `GET /1 HTTP/1.1\r\n${H}\r\nGET /ws HTTP/1.1\r\n${H}Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n${SMUGGLED}`,
    statuses: [200, 200],
    backend: [
      { method: 'GET', target: '/1' },
      { method: 'GET', target: '/ws' },
    ],
    closes: true,
  },
  {
    family: 'pipelining',
    name: 'regression: a GET, a refused request, then an Upgrade request: the GET and the refusal are answered',
    bytes:
      `GET /1 HTTP/1.1\r\n${H}\r\nGET http://evil/x HTTP/1.1\r\n${H}\r\n` +
      `GET /ws HTTP/1.1\r\n${H}Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n`,
    statuses: [200, 400],
    backend: [{ method: 'GET', target: '/1' }],
    closes: true,
  },
  // Other methods and shapes.
  refused('misc', 'CONNECT', 'CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\nX-Tag: attacker\r\n\r\n', 405),
  refused(
    'misc',
    'an Upgrade request with a body',
    post(`Connection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: ${SMUGGLED.length}\r\n`, SMUGGLED),
  ),
  refused('misc', 'a lower-case method', `get / HTTP/1.1\r\n${H}\r\n`),
  refused('misc', 'a space in the target', `GET /a b HTTP/1.1\r\n${H}\r\n`),
  refused('misc', 'a header line without a colon', `GET / HTTP/1.1\r\n${H}Transfer-Encoding chunked\r\n\r\n`),
  refused('misc', 'obs-fold in a header', `GET / HTTP/1.1\r\n${H}X-A: 1\r\n 2\r\n\r\n`),
  refused('misc', 'a space before a header colon', `GET / HTTP/1.1\r\n${H}Content-Length : 0\r\n\r\n`),
  {
    family: 'misc',
    name: 'Expect: 100-continue gets 100, then the answer',
    bytes: post('Content-Length: 5\r\nExpect: 100-continue\r\n', 'hello'),
    statuses: [200],
    backend: [{ method: 'POST', target: '/a', body: 'hello' }],
    closes: false,
  },
];
