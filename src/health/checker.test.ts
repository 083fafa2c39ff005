import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { runProbe } from './checker.ts';
import type { HttpProbe } from './types.ts';

const never = new AbortController().signal;

/** An HTTP server on 127.0.0.1 answering each path from `pages` (status and body); records the paths asked. */
async function site(pages: Record<string, { status: number; body: string }>) {
  const asked: string[] = [];
  const server = http.createServer((req, res) => {
    asked.push(req.url ?? '');
    const p = pages[req.url ?? ''] ?? { status: 404, body: 'not found' };
    res.writeHead(p.status, { 'content-type': 'text/plain' });
    res.end(p.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    asked,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

test('several url blocks: each url is asked in turn and all must pass (status or digest each)', async () => {
  const s = await site({
    '/': { status: 200, body: 'home' },
    '/health': { status: 204, body: '' },
    '/static/app.js': { status: 200, body: 'console.log(1)' },
    '/broken': { status: 500, body: 'oops' },
  });
  try {
    const spec: HttpProbe = {
      kind: 'http',
      tls: false,
      addr: '127.0.0.1',
      port: s.port,
      path: '/',
      statusCodes: [{ from: 200, to: 200 }],
      timeoutMs: 2_000,
      urls: [
        { path: '/health', statusCodes: [{ from: 204, to: 204 }] },
        { path: '/static/app.js', statusCodes: [], digest: md5('console.log(1)') },
      ],
    };
    const ok = await runProbe(spec, never);
    assert.equal(ok.code, 'L7OK', ok.detail);
    assert.match(ok.detail, /^3 urls/);
    assert.deepEqual(s.asked, ['/', '/health', '/static/app.js']);

    s.asked.length = 0;
    const bad = await runProbe({ ...spec, urls: [{ path: '/broken', statusCodes: [] }, ...spec.urls!] }, never);
    assert.equal(bad.code, 'L7STS');
    assert.match(bad.detail, /^\/broken: HTTP 500/);
    assert.deepEqual(s.asked, ['/', '/broken'], 'the urls after a failure are not asked');

    const digest = await runProbe(
      { ...spec, urls: [{ path: '/static/app.js', statusCodes: [], digest: md5('x') }] },
      never,
    );
    assert.equal(digest.code, 'L7RSP');
    assert.match(digest.detail, /^\/static\/app\.js: /);
  } finally {
    await s.close();
  }
});
