import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  connectionTokens,
  type ForwardHead,
  forwardRequest,
  mayRetry,
  REFUSAL_STATUS,
  type RequestRefusal,
  rawErrorResponse,
  rawResponseHead,
  responseHeaders,
  transferCodingRefusal,
} from './headers.ts';

const out = (): ForwardHead => ({ text: '', framing: 'none', length: 0, host: '' });
const GET = { method: 'GET', url: '/p?q=1', version: '1.1' };
const POST = { method: 'POST', url: '/p', version: '1.1' };

/** The head forwardRequest builds (or its refusal) for a request. */
function fwd(raw: string[], line = GET, opts: { xff?: string; upgrade?: boolean; maxHeaders?: number } = {}) {
  const o = out();
  const r = forwardRequest(
    line,
    raw,
    opts.xff ? { for: opts.xff } : null,
    { maxHeaders: opts.maxHeaders ?? 100, upgrade: opts.upgrade },
    o,
  );
  return r ?? o;
}

test('idempotent methods may be retried while no byte of their body was sent; others never', () => {
  for (const m of ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']) {
    assert.equal(mayRetry(m, false), true, m);
    assert.equal(mayRetry(m, true), false, `${m} after its body started`);
  }
  for (const m of ['POST', 'PATCH', 'CONNECT', 'get']) assert.equal(mayRetry(m, false), false, m);
});

test('hop-by-hop request headers stop at the proxy; the rest keep their order and case', () => {
  const raw = [
    'Host',
    'example.test',
    'Connection',
    'keep-alive, X-Trace',
    'Keep-Alive',
    'timeout=5',
    'TE',
    'trailers',
    'Trailer',
    'Expires',
    'Upgrade',
    'websocket',
    'Proxy-Authorization',
    'Basic eA==',
    'proxy-connection',
    'keep-alive',
    'X-Trace',
    'abc',
    'Accept',
    'text/plain',
    'x-custom',
    'one',
  ];
  assert.deepEqual(fwd(raw), {
    text: 'GET /p?q=1 HTTP/1.1\r\nHost: example.test\r\nAccept: text/plain\r\nx-custom: one\r\n',
    framing: 'none',
    length: 0,
    host: 'example.test',
  });
});

test('X-Forwarded-For appends the client to what earlier proxies wrote; Proto and Host are set by the proxy', () => {
  const raw = [
    'host',
    'shop.test:8080',
    'X-Forwarded-For',
    '203.0.113.9',
    'x-forwarded-for',
    '198.51.100.2',
    'X-Forwarded-Proto',
    'https',
    'X-Forwarded-Host',
    'evil.test',
  ];
  assert.equal(
    (fwd(raw, GET, { xff: '127.0.0.1' }) as ForwardHead).text,
    'GET /p?q=1 HTTP/1.1\r\nhost: shop.test:8080\r\n' +
      'X-Forwarded-For: 203.0.113.9, 198.51.100.2, 127.0.0.1\r\nX-Forwarded-Proto: http\r\n' +
      'X-Forwarded-Host: shop.test:8080\r\n',
  );
  // Without forwarded_for the client's own headers pass unchanged.
  assert.equal(
    (fwd(raw) as ForwardHead).text,
    'GET /p?q=1 HTTP/1.1\r\nhost: shop.test:8080\r\nX-Forwarded-For: 203.0.113.9\r\n' +
      'x-forwarded-for: 198.51.100.2\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: evil.test\r\n',
  );
  // HTTP/1.0 without Host: no X-Forwarded-Host, and the caller adds the server's address as Host.
  const r = fwd([], { method: 'GET', url: '/', version: '1.0' }, { xff: '::1' }) as ForwardHead;
  assert.deepEqual([r.text, r.host], ['GET / HTTP/1.1\r\nX-Forwarded-For: ::1\r\nX-Forwarded-Proto: http\r\n', '']);
});

test('the body framing is the proxy’s own: the client’s Content-Length and Transfer-Encoding are never copied', () => {
  assert.deepEqual(fwd(['Host', 'a', 'Content-Length', '005', 'X', 'y'], POST), {
    text: 'POST /p HTTP/1.1\r\nHost: a\r\nX: y\r\n',
    framing: 'length',
    length: 5,
    host: 'a',
  });
  assert.equal((fwd(['Host', 'a', 'Content-Length', '0'], POST) as ForwardHead).framing, 'none');
  assert.deepEqual(fwd(['Host', 'a', 'Transfer-Encoding', 'Chunked', 'A', 'b'], POST), {
    text: 'POST /p HTTP/1.1\r\nHost: a\r\nA: b\r\n',
    framing: 'chunked',
    length: 0,
    host: 'a',
  });
});

test('regression: Connection: Content-Length, Transfer-Encoding or Host removes neither the framing nor Host', () => {
  const cl = fwd(['Host', 'a', 'Content-Length', '24', 'Connection', 'Content-Length'], POST) as ForwardHead;
  assert.deepEqual([cl.framing, cl.length, cl.text], ['length', 24, 'POST /p HTTP/1.1\r\nHost: a\r\n']);
  const te = fwd(['Host', 'a', 'Transfer-Encoding', 'chunked', 'Connection', 'close, transfer-encoding'], POST);
  assert.equal((te as ForwardHead).framing, 'chunked');
  const host = fwd(['Host', 'shop.test', 'Connection', 'Host', 'X-A', '1', 'Connection', 'x-a']) as ForwardHead;
  assert.deepEqual([host.text, host.host], ['GET /p?q=1 HTTP/1.1\r\nHost: shop.test\r\n', 'shop.test']);
  // The proxy's own X-Forwarded-* cannot be named away either (the client's X-Forwarded-For can).
  const xff = fwd(['Host', 'a', 'X-Forwarded-For', '6.6.6.6', 'Connection', 'X-Forwarded-For'], GET, {
    xff: '127.0.0.9',
  }) as ForwardHead;
  assert.match(xff.text, /\r\nX-Forwarded-For: 127\.0\.0\.9\r\n/);
  assert.deepEqual(connectionTokens('Content-Length, HOST, transfer-encoding, upgrade, x-b'), ['x-b']);
});

test('requests the proxy refuses, with the status each gets', () => {
  const cases: [string, string[], typeof GET, RequestRefusal][] = [
    ['HTTP/2.0 in text', ['Host', 'a'], { ...GET, version: '2.0' }, 'version'],
    ['HTTP/0.9', [], { ...GET, version: '0.9' }, 'version'],
    ['duplicate Host', ['Host', 'a', 'host', 'b'], GET, 'host-duplicate'],
    ['duplicate identical Host', ['Host', 'a', 'Host', 'a'], GET, 'host-duplicate'],
    ['no Host in HTTP/1.1', ['X', 'y'], GET, 'host-missing'],
    ['empty Host in HTTP/1.1', ['Host', ''], GET, 'host-invalid'],
    ['Host with a space', ['Host', 'a b'], GET, 'host-invalid'],
    ['Host with userinfo', ['Host', 'u@a'], GET, 'host-invalid'],
    ['absolute-form naming another host', ['Host', 'a.test'], { ...GET, url: 'http://b.test/x' }, 'host-conflict'],
    ['absolute-form with userinfo', ['Host', 'a'], { ...GET, url: 'http://u@a/x' }, 'target'],
    ['absolute-form of another scheme', ['Host', 'a'], { ...GET, url: 'ftp://a/x' }, 'target'],
    ['a target that is not a path', ['Host', 'a'], { ...GET, url: 'x/y' }, 'target'],
    ['* with GET', ['Host', 'a'], { ...GET, url: '*' }, 'target'],
    ['gzip, chunked', ['Host', 'a', 'Transfer-Encoding', 'gzip, chunked'], POST, 'te-unsupported'],
    [
      'two TE lines gzip + chunked',
      ['Host', 'a', 'Transfer-Encoding', 'gzip', 'Transfer-Encoding', 'chunked'],
      POST,
      'te-unsupported',
    ],
    ['empty Transfer-Encoding', ['Host', 'a', 'Transfer-Encoding', ''], POST, 'te-malformed'],
    ['chunked, identity', ['Host', 'a', 'Transfer-Encoding', 'chunked, identity'], POST, 'te-malformed'],
    ['"chunked"', ['Host', 'a', 'Transfer-Encoding', '"chunked"'], POST, 'te-malformed'],
    ['chunked;x=1', ['Host', 'a', 'Transfer-Encoding', 'chunked;x=1'], POST, 'te-malformed'],
    ['TE in HTTP/1.0', ['Host', 'a', 'Transfer-Encoding', 'chunked'], { ...POST, version: '1.0' }, 'te-http10'],
    ['TE with CL', ['Host', 'a', 'Transfer-Encoding', 'chunked', 'Content-Length', '3'], POST, 'te-and-length'],
    ['two Content-Length', ['Host', 'a', 'Content-Length', '3', 'Content-Length', '3'], POST, 'length-malformed'],
    ['Content-Length beyond 2^53', ['Host', 'a', 'Content-Length', '99999999999999999'], POST, 'length-malformed'],
    [
      '101 headers',
      ['Host', 'a', ...Array.from({ length: 100 }, (_, i) => [`X-${i}`, 'v']).flat()],
      GET,
      'too-many-headers',
    ],
  ];
  for (const [what, raw, line, want] of cases) assert.equal(fwd(raw, line), want, what);
  assert.equal(fwd(['Host', 'a', 'Content-Length', '5'], GET, { upgrade: true }), 'upgrade-body');
  assert.deepEqual(
    [REFUSAL_STATUS.version, REFUSAL_STATUS['te-unsupported'], REFUSAL_STATUS['too-many-headers']],
    [505, 501, 431],
  );
  // 100 headers are fine.
  const hundred = ['Host', 'a', ...Array.from({ length: 99 }, (_, i) => [`X-${i}`, 'v']).flat()];
  assert.equal(typeof fwd(hundred), 'object');
});

test('an absolute-form target goes upstream as its path, with its authority as Host (RFC 9112 §3.2.2)', () => {
  const abs = (url: string, raw: string[], version = '1.1') => fwd(raw, { method: 'GET', url, version });
  assert.deepEqual(abs('http://Shop.test/a?b', ['Host', 'shop.test:80']), {
    text: 'GET /a?b HTTP/1.1\r\nHost: shop.test:80\r\n',
    framing: 'none',
    length: 0,
    host: 'shop.test:80',
  });
  assert.equal((abs('https://a:443', ['Host', 'a']) as ForwardHead).text, 'GET / HTTP/1.1\r\nHost: a\r\n');
  assert.equal((abs('http://a?x', ['Host', 'a']) as ForwardHead).text, 'GET /?x HTTP/1.1\r\nHost: a\r\n');
  // HTTP/1.0 without Host: the authority becomes the Host.
  const r = abs('http://[::1]:8080/x', [], '1.0') as ForwardHead;
  assert.deepEqual([r.text, r.host], ['GET /x HTTP/1.1\r\nHost: [::1]:8080\r\n', '[::1]:8080']);
  assert.equal(abs('http://a:8080/', ['Host', 'a']), 'host-conflict');
  assert.equal(
    (fwd(['Host', 'a'], { method: 'OPTIONS', url: '*', version: '1.1' }) as ForwardHead).text,
    'OPTIONS * HTTP/1.1\r\nHost: a\r\n',
  );
});

test('transfer codings: chunked alone passes; another coding is 501; chunked not last, twice or malformed is 400', () => {
  assert.equal(transferCodingRefusal(['chunked']), null);
  assert.equal(transferCodingRefusal([' CHUNKED ']), null);
  assert.equal(transferCodingRefusal(['x-custom, chunked']), 'te-unsupported');
  for (const v of [['chunked', 'chunked'], ['chunked, gzip'], [''], ['chunked,'], [', chunked'], ['ch unked']]) {
    assert.equal(transferCodingRefusal(v), 'te-malformed', JSON.stringify(v));
  }
});

test('an upgrade request keeps Upgrade and says Connection: Upgrade; anything else drops both', () => {
  const raw = ['Host', 'a', 'Connection', 'keep-alive, Upgrade', 'Upgrade', 'websocket', 'Sec-WebSocket-Key', 'k'];
  assert.equal(
    (fwd(raw, GET, { upgrade: true }) as ForwardHead).text,
    'GET /p?q=1 HTTP/1.1\r\nHost: a\r\nSec-WebSocket-Key: k\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n',
  );
  assert.equal((fwd(raw) as ForwardHead).text, 'GET /p?q=1 HTTP/1.1\r\nHost: a\r\nSec-WebSocket-Key: k\r\n');
});

test('hop-by-hop response headers stop at the proxy, Transfer-Encoding too (Node frames the response itself)', () => {
  const raw = [
    'Content-Type',
    'text/plain',
    'Connection',
    'keep-alive, X-Internal',
    'Keep-Alive',
    'timeout=5',
    'Transfer-Encoding',
    'chunked',
    'X-Internal',
    'secret',
    'Proxy-Authenticate',
    'Basic',
    'Upgrade',
    'h2c',
    'Set-Cookie',
    'a=1',
    'Set-Cookie',
    'b=2',
  ];
  assert.deepEqual(responseHeaders(raw), ['Content-Type', 'text/plain', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2']);
  assert.deepEqual(
    responseHeaders(['Upgrade', 'websocket', 'Connection', 'Upgrade', 'Sec-WebSocket-Accept', 'x'], true),
    ['Upgrade', 'websocket', 'Sec-WebSocket-Accept', 'x', 'Connection', 'Upgrade'],
  );
});

test('raw response heads and error responses are whole HTTP/1.1 messages', () => {
  assert.equal(
    rawResponseHead(101, 'Switching Protocols', ['Upgrade', 'ws']),
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: ws\r\n\r\n',
  );
  assert.equal(rawResponseHead(200, '', []), 'HTTP/1.1 200\r\n\r\n');
  assert.equal(
    rawErrorResponse(400, 'bad'),
    'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbad\n',
  );
});

test('Connection tokens name extra hop-by-hop headers; close and keep-alive name none', () => {
  assert.deepEqual(connectionTokens('close'), []);
  assert.deepEqual(connectionTokens(' Keep-Alive , X-A,x-b ,'), ['x-a', 'x-b']);
});
