import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectionTokens, mayRetry, type RequestHeadInfo, requestHeaders, responseHeaders } from './headers.ts';

const info = (): RequestHeadInfo => ({ hasBody: false, chunked: false, host: '' });

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
  const i = info();
  assert.deepEqual(requestHeaders(raw, null, i), ['Host', 'example.test', 'Accept', 'text/plain', 'x-custom', 'one']);
  assert.deepEqual(i, { hasBody: false, chunked: false, host: 'example.test' });
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
  assert.deepEqual(requestHeaders(raw, { for: '127.0.0.1' }, info()), [
    'host',
    'shop.test:8080',
    'X-Forwarded-For',
    '203.0.113.9, 198.51.100.2, 127.0.0.1',
    'X-Forwarded-Proto',
    'http',
    'X-Forwarded-Host',
    'shop.test:8080',
  ]);
  // Without forwarded_for the client's own headers pass unchanged.
  assert.deepEqual(requestHeaders(raw, null, info()), raw);
  // No Host: no X-Forwarded-Host.
  assert.deepEqual(requestHeaders([], { for: '::1' }, info()), ['X-Forwarded-For', '::1', 'X-Forwarded-Proto', 'http']);
});

test('a request body is noticed: Content-Length above 0, or chunked (re-announced to the server)', () => {
  let i = info();
  assert.deepEqual(requestHeaders(['Content-Length', '5'], null, i), ['Content-Length', '5']);
  assert.equal(i.hasBody, true);
  i = info();
  requestHeaders(['Content-Length', '0'], null, i);
  assert.equal(i.hasBody, false);
  i = info();
  assert.deepEqual(requestHeaders(['Transfer-Encoding', 'chunked', 'A', 'b'], null, i), [
    'A',
    'b',
    'Transfer-Encoding',
    'chunked',
  ]);
  assert.deepEqual(i, { hasBody: true, chunked: true, host: '' });
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
    'Set-Cookie',
    'a=1',
    'Set-Cookie',
    'b=2',
  ];
  assert.deepEqual(responseHeaders(raw), ['Content-Type', 'text/plain', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2']);
});

test('Connection tokens name extra hop-by-hop headers; close and keep-alive name none', () => {
  assert.deepEqual(connectionTokens('close'), []);
  assert.deepEqual(connectionTokens(' Keep-Alive , X-A,x-b ,'), ['x-a', 'x-b']);
});
