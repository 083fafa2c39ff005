import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { test } from 'node:test';
import type { DnsProbe } from '../types.ts';
import { dnsQuery, judgeDnsResponse, runDnsCheck } from './dns.ts';

const never = new AbortController().signal;

/** A DNS responder on 127.0.0.1: answers each query with `respond(query)` (a list of datagrams to send back). */
async function responder(respond: (q: Buffer) => Buffer[]) {
  const queries: Buffer[] = [];
  const s = dgram.createSocket('udp4');
  s.on('message', (q, rinfo) => {
    queries.push(q);
    for (const a of respond(q)) s.send(a, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  return { port: s.address().port, queries, close: () => new Promise<void>((resolve) => s.close(() => resolve())) };
}

/** A response header to `q` with `rcode`, QR set, the question echoed. */
function answer(q: Buffer, rcode: number, idDelta = 0): Buffer {
  const r = Buffer.from(q);
  r.writeUInt16BE((q.readUInt16BE(0) + idDelta) & 0xffff, 0);
  r.writeUInt16BE(0x8180 | rcode, 2);
  return r;
}

const probe = (port: number, more: Partial<DnsProbe> = {}): DnsProbe => ({
  kind: 'dns',
  addr: '127.0.0.1',
  port,
  type: 'SOA',
  name: '',
  timeoutMs: 600,
  ...more,
});

test('the query is one question of class IN with RD set, the name in labels', () => {
  const q = Buffer.from(dnsQuery(0x1234, 'www.example.org.', 'A'));
  assert.equal(q.readUInt16BE(0), 0x1234);
  assert.equal(q.readUInt16BE(2), 0x0100);
  assert.equal(q.readUInt16BE(4), 1);
  assert.deepEqual(
    [...q.subarray(12, 29)],
    [3, ...Buffer.from('www'), 7, ...Buffer.from('example'), 3, ...Buffer.from('org'), 0],
  );
  assert.equal(q.readUInt16BE(29), 1);
  assert.equal(q.readUInt16BE(31), 1);
  // keepalived's default: SOA of the root
  assert.deepEqual([...dnsQuery(1, '', 'SOA').subarray(12)], [0, 0, 6, 0, 1]);
});

test('NOERROR passes (L7OK); a response with another id is ignored first, as keepalived does', async () => {
  const s = await responder((q) => [answer(q, 0, 1), answer(q, 0)]);
  try {
    const r = await runDnsCheck(probe(s.port, { type: 'A', name: 'www.example.org' }), never);
    assert.equal(r.code, 'L7OK', r.detail);
    assert.equal(s.queries.length, 1);
    assert.equal(s.queries[0]!.readUInt16BE(s.queries[0]!.length - 4), 1);
  } finally {
    await s.close();
  }
});

test('SERVFAIL or REFUSED is L7STS naming the RCODE; silence is L7TOUT; a closed port is L4CON', async () => {
  const fail = await responder((q) => [answer(q, 2)]);
  const refused = await responder((q) => [answer(q, 5)]);
  const silent = await responder(() => []);
  try {
    const r = await runDnsCheck(probe(fail.port), never);
    assert.equal(r.code, 'L7STS');
    assert.match(r.detail, /SERVFAIL/);
    assert.match((await runDnsCheck(probe(refused.port), never)).detail, /REFUSED/);
    assert.equal((await runDnsCheck(probe(silent.port), never)).code, 'L7TOUT');
  } finally {
    await Promise.all([fail.close(), refused.close(), silent.close()]);
  }
  const closed = await runDnsCheck(probe(fail.port, { timeoutMs: 2_000 }), never);
  assert.equal(closed.code, 'L4CON', closed.detail);
});

test('judgeDnsResponse ignores short datagrams, other ids and queries', () => {
  const q = Buffer.from(dnsQuery(7, 'a', 'A'));
  assert.equal(judgeDnsResponse(q.subarray(0, 5), 7), 'ignore');
  assert.equal(judgeDnsResponse(q, 7), 'ignore'); // QR clear: a query
  assert.equal(judgeDnsResponse(answer(q, 3), 7), 3);
  assert.equal(judgeDnsResponse(answer(q, 0), 8), 'ignore');
});
