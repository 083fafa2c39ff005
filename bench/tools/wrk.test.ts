import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorCount, parseWrk, wrkArgs } from './wrk.ts';

// Debian wrk 4.1.0 output, as captured on this machine kind.
const KEEP_ALIVE = `Running 3s test @ http://198.18.201.1:8080/
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   257.00us  306.57us   6.73ms   97.93%
    Req/Sec    97.02k    12.50k  112.61k    54.84%
  Latency Distribution
     50%  184.00us
     75%  325.00us
     90%  384.00us
     99%    1.36ms
  299008 requests in 3.10s, 46.48MB read
Requests/sec:  96509.45
Transfer/sec:     15.00MB
`;

const WITH_ERRORS = `Running 10s test @ http://198.18.200.1/
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    15.20ms   80.11ms    1.99s    98.12%
    Req/Sec     0.60k   100.00      0.90k    70.00%
  Latency Distribution
     50%    1.02ms
     75%    2.00ms
     90%    4.00ms
     99%    1.01s
  6012 requests in 10.01s, 0.91MB read
  Socket errors: connect 3, read 12, write 0, timeout 40
  Non-2xx or 3xx responses: 7
Requests/sec:    600.60
Transfer/sec:     92.80KB
`;

test('a keep-alive report gives req/s and the 50th and 99th percentiles in milliseconds', () => {
  const r = parseWrk(KEEP_ALIVE);
  assert.ok(r.ok);
  assert.equal(r.result.reqPerSec, 96509.45);
  assert.equal(r.result.requests, 299008);
  assert.equal(r.result.p50Ms, 0.184);
  assert.equal(r.result.p99Ms, 1.36);
  assert.equal(errorCount(r.result.errors), 0);
});

test('socket errors, timeouts and non-2xx responses are all counted, and seconds become milliseconds', () => {
  const r = parseWrk(WITH_ERRORS);
  assert.ok(r.ok);
  assert.equal(r.result.p99Ms, 1010);
  assert.deepEqual(r.result.errors, { connect: 3, read: 12, write: 0, timeout: 40, status: 7 });
  assert.equal(errorCount(r.result.errors), 62);
});

test('a report without figures (wrk could not connect) is a reason, not a throw', () => {
  const r = parseWrk('unable to connect to 198.18.200.1:http Connection refused\n');
  assert.equal(r.ok, false);
  const noLatency = parseWrk(KEEP_ALIVE.replace(/ {2}Latency Distribution[\s\S]*?99%.*\n/, ''));
  assert.equal(noLatency.ok, false);
});

test('a new connection per request is asked for with Connection: close; keep-alive adds no header', () => {
  assert.deepEqual(wrkArgs({ url: 'http://198.18.200.1/', mode: 'new-conn', durationS: 10 }), [
    '-t1',
    '-c32',
    '-d10s',
    '--timeout',
    '2s',
    '--latency',
    '-H',
    'Connection: close',
    'http://198.18.200.1/',
  ]);
  assert.ok(!wrkArgs({ url: 'http://x/', mode: 'keep-alive', durationS: 1 }).includes('-H'));
});
