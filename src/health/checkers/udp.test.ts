import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { test } from 'node:test';
import type { UdpProbe } from '../types.ts';
import { replyProblem, runUdpCheck } from './udp.ts';

const never = new AbortController().signal;

/** A UDP server on 127.0.0.1 that answers each datagram with `answer(received)` (undefined: stays silent). */
async function udpServer(answer: (msg: Buffer) => Buffer | undefined) {
  const got: Buffer[] = [];
  const s = dgram.createSocket('udp4');
  s.on('message', (msg, rinfo) => {
    got.push(msg);
    const a = answer(msg);
    if (a) s.send(a, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  return { port: s.address().port, got, close: () => new Promise<void>((resolve) => s.close(() => resolve())) };
}

async function closedUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

const probe = (port: number, more: Partial<UdpProbe> = {}): UdpProbe => ({
  kind: 'udp',
  addr: '127.0.0.1',
  port,
  payload: Buffer.from('ping'),
  requireReply: false,
  minReplyLength: 0,
  maxReplyLength: 255,
  timeoutMs: 400,
  ...more,
});

test('without require_reply a silent open port passes after the timeout, and the payload was sent', async () => {
  const s = await udpServer(() => undefined);
  try {
    const r = await runUdpCheck(probe(s.port), never);
    assert.equal(r.code, 'L4OK');
    assert.deepEqual(s.got.map(String), ['ping']);
  } finally {
    await s.close();
  }
});

test('a closed port answers with ICMP port unreachable: L4CON (ECONNREFUSED), require_reply or not', async () => {
  const port = await closedUdpPort();
  for (const requireReply of [false, true]) {
    const r = await runUdpCheck(probe(port, { requireReply, timeoutMs: 2_000 }), never);
    assert.equal(r.code, 'L4CON', r.detail);
    assert.match(r.detail, /ECONNREFUSED/);
  }
});

test('require_reply: no reply in time is L4TOUT; a reply passes', async () => {
  const silent = await udpServer(() => undefined);
  const echo = await udpServer((m) => m);
  try {
    assert.equal((await runUdpCheck(probe(silent.port, { requireReply: true }), never)).code, 'L4TOUT');
    const r = await runUdpCheck(probe(echo.port, { requireReply: true }), never);
    assert.equal(r.code, 'L4OK');
    assert.equal(r.detail, 'reply of 4 bytes');
  } finally {
    await silent.close();
    await echo.close();
  }
});

test('require_reply with reply bytes and lengths: a mismatch or a reply too long is L7RSP; wildcards match', async () => {
  const s = await udpServer(() => Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x01]));
  try {
    const bad = await runUdpCheck(probe(s.port, { requireReply: true, reply: Buffer.from([0xde, 0xaf]) }), never);
    assert.equal(bad.code, 'L7RSP');
    assert.match(bad.detail, /byte 1 is ad, expected af/);
    const masked = await runUdpCheck(
      probe(s.port, { requireReply: true, reply: Buffer.from([0xde, 0xa0]), replyMask: Buffer.from([0x00, 0x0f]) }),
      never,
    );
    assert.equal(masked.code, 'L4OK');
    const long = await runUdpCheck(probe(s.port, { requireReply: true, maxReplyLength: 4 }), never);
    assert.equal(long.code, 'L7RSP');
    assert.match(long.detail, /5 bytes, expected 0\.\.4/);
  } finally {
    await s.close();
  }
});

test('replyProblem compares only the bytes both have, as keepalived', () => {
  const spec = { minReplyLength: 0, maxReplyLength: 255, reply: Buffer.from([1, 2, 3]) };
  assert.equal(replyProblem(Buffer.from([1, 2]), spec), undefined);
  assert.equal(replyProblem(Buffer.from([1, 2, 3, 4]), spec), undefined);
  assert.match(replyProblem(Buffer.from([1, 9]), spec)!, /byte 1/);
  assert.match(replyProblem(Buffer.from([]), { ...spec, minReplyLength: 1 })!, /0 bytes/);
});

test('an abort ends the check at once', async () => {
  const s = await udpServer(() => undefined);
  try {
    const ac = new AbortController();
    const p = runUdpCheck(probe(s.port, { requireReply: true, timeoutMs: 10_000 }), ac.signal);
    ac.abort();
    assert.equal((await p).detail, 'aborted');
  } finally {
    await s.close();
  }
});
