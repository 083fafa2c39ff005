// The proxy's counters for metrics (issue 12), through real sockets: HTTP requests by status class and backend, body
// bytes, the latency histogram; TCP connections and bytes; a request no backend could take.
import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import { createProxyDataPlane } from './index.ts';
import { LATENCY_BOUNDS_MS, ProxyStatsRecorder } from './stats.ts';
import {
  echo,
  freePort,
  httpBackend,
  httpRequest,
  program,
  refusingPort,
  tcpBackend,
  tcpOpen,
  until,
} from './test-support.ts';

test('http: requests by class per backend, body bytes both ways, time to the response head', async () => {
  const ok = await httpBackend('127.0.0.2');
  const bad = await httpBackend('127.0.0.3', (_req, res) => {
    res.writeHead(503, { 'content-type': 'text/plain' });
    res.end('busy');
  });
  const dp = createProxyDataPlane();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const port = await freePort();
    await dp.apply([program('web', port, [ok, bad], {}, { mode: 'http' })]);
    for (let i = 0; i < 6; i++) await httpRequest(port, { agent, method: 'POST', body: 'x'.repeat(10) });
    await until(() => (dp.stats?.().servers.reduce((n, r) => n + (r.requests['2xx'] ?? 0), 0) ?? 0) === 3);
    agent.destroy();
    // Bytes are reported when each exchange's response closes.
    await until(() => dp.stats?.().servers.find((r) => r.server === ok.key)?.bytesOut === 3 * ok.key.length);
    const s = dp.stats!();
    const row = (key: string) => s.servers.find((r) => r.service === 'web' && r.server === key);
    assert.deepEqual(row(ok.key)?.requests, { '2xx': 3 });
    assert.deepEqual(row(bad.key)?.requests, { '5xx': 3 });
    assert.equal(row(ok.key)?.bytesIn, 30);
    assert.equal(row(bad.key)?.bytesOut, 3 * 'busy'.length);
    const h = s.durations.find((d) => d.service === 'web')!;
    assert.equal(h.count, 6);
    assert.deepEqual(h.boundsMs, LATENCY_BOUNDS_MS);
    assert.equal(h.cumulative.at(-1), 6, 'every request is under the largest bound');
    assert.ok(h.sumMs > 0);
  } finally {
    agent.destroy();
    await dp.close();
    await ok.close();
    await bad.close();
  }
});

test('http: a request no backend takes is counted against none (503) or the backend that failed (502)', async () => {
  const dp = createProxyDataPlane();
  try {
    const port = await freePort();
    const dead = await refusingPort('127.0.0.4');
    await dp.apply([program('web', port, [{ addr: '127.0.0.4', port: dead }], {}, { mode: 'http', retries: 0 })]);
    const r = await httpRequest(port);
    assert.equal(r.status, 502);
    await until(() => (dp.stats?.().servers.length ?? 0) > 0);
    assert.deepEqual(dp.stats!().servers.find((x) => x.server === `127.0.0.4:${dead}`)?.requests, { '5xx': 1 });
    await dp.apply([program('web', port, [], {}, { mode: 'http' })]);
    assert.equal((await httpRequest(port)).status, 503);
    await until(() => dp.stats!().servers.some((x) => x.server === 'none'));
    assert.deepEqual(dp.stats!().servers.find((x) => x.server === 'none')?.requests, { '5xx': 1 });
  } finally {
    await dp.close();
  }
});

test('tcp: one count per connection (ok), bytes from and to the client, the session length', async () => {
  const rs = await tcpBackend('127.0.0.2');
  const dp = createProxyDataPlane();
  try {
    const port = await freePort();
    await dp.apply([program('echo', port, [rs])]);
    const { socket } = await tcpOpen(port);
    assert.equal(await echo(socket, 'hello'), 'hello');
    socket.end();
    await until(() => (dp.stats?.().servers[0]?.requests.ok ?? 0) === 1);
    const row = dp.stats!().servers[0]!;
    assert.equal(row.server, rs.key);
    assert.ok(row.bytesIn >= 'hello\n'.length, JSON.stringify(row));
    assert.ok(row.bytesOut > row.bytesIn, 'the greeting and the echo went to the client');
    assert.equal(dp.stats!().durations[0]?.count, 1);
  } finally {
    await dp.close();
    await rs.close();
  }
});

test('the recorder: classes, the histogram is cumulative, an unanswered request is not timed', () => {
  const r = new ProxyStatsRecorder();
  r.request('a', 's', 200, 0.5);
  r.request('a', 's', 204, 7);
  r.request('a', 's', 'aborted', null);
  r.request('a', 's', 404, 400_000);
  const s = r.snapshot();
  assert.deepEqual(s.servers[0]?.requests, { '2xx': 2, aborted: 1, '4xx': 1 });
  const h = s.durations[0]!;
  assert.equal(h.count, 3);
  assert.equal(h.cumulative[0], 1); // ≤ 1 ms
  assert.equal(h.cumulative[3], 2); // ≤ 10 ms
  assert.equal(h.cumulative.at(-1), 2, 'above the largest bound: only in +Inf (count)');
});
