import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { test } from 'node:test';
import { encodePeer, peerKey } from '../election/peer-codec.ts';
import { PeerChannelServer, peerQuery } from './peer-channel.ts';
import { tcpProbe } from './tcp-probe.ts';

const KEY = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const OTHER = new Uint8Array(32).fill(9);
// A port per test run: parallel test files (and other sessions) must never collide.
const port = () => 20_000 + Math.floor(Math.random() * 20_000);

async function server(p: number, rejects: string[] = []) {
  return PeerChannelServer.listen({
    node: 'd1',
    clusterKey: KEY,
    port: p,
    windowMs: 30_000,
    bind: ['127.0.0.1', '::1'],
    answer: (instance) => (instance === 'VI_1' ? { state: 'MASTER', priority: 150, vipsHeld: true } : undefined),
    onReject: (_src, reason) => rejects.push(reason),
  });
}

test('peer channel over loopback: MASTER at priority 150 for VI_1, absent for an instance it does not run, IPv4 and IPv6', async () => {
  const p = port();
  const s = await server(p);
  try {
    const client = { node: 'd2', clusterKey: KEY, port: p };
    assert.deepEqual(await peerQuery(client, '127.0.0.1', 'VI_1', 2_000), {
      outcome: 'answer',
      answer: { state: 'MASTER', priority: 150, vipsHeld: true, node: 'd1' },
    });
    const absent = await peerQuery(client, '::1', 'VI_9', 2_000);
    assert.equal(absent.outcome === 'answer' && absent.answer.state, 'absent');
    assert.equal(s.stats().answered, 2);
  } finally {
    s.close();
  }
});

test('peer channel: a client without the key gets nothing back; the server counts the forgery', async () => {
  const p = port();
  const rejects: string[] = [];
  const s = await server(p, rejects);
  try {
    const r = await peerQuery({ node: 'evil', clusterKey: OTHER, port: p }, '127.0.0.1', 'VI_1', 300);
    assert.equal(r.outcome, 'timeout');
    assert.deepEqual(rejects, ['mac']);
  } finally {
    s.close();
  }
});

test('peer channel: a replayed query gets no second answer; a stale one none at all', async () => {
  const p = port();
  const rejects: string[] = [];
  const s = await server(p, rejects);
  const sock = dgram.createSocket('udp4');
  try {
    const answers: Buffer[] = [];
    sock.on('message', (b) => answers.push(b));
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const q = encodePeer(
      { type: 'query', node: 'd2', instance: 'VI_1', timestampMs: Date.now(), nonce: 42n },
      peerKey(KEY),
    );
    const old = encodePeer(
      { type: 'query', node: 'd2', instance: 'VI_1', timestampMs: Date.now() - 60_000, nonce: 43n },
      peerKey(KEY),
    );
    for (const m of [q, q, old]) await new Promise<void>((r) => sock.send(m, p, '127.0.0.1', () => r()));
    // one round trip on loopback is enough for all three to have been handled
    await peerQuery({ node: 'd2', clusterKey: KEY, port: p }, '127.0.0.1', 'VI_1', 2_000);
    assert.equal(answers.length, 1);
    assert.deepEqual(rejects.sort(), ['replay', 'stale']);
  } finally {
    sock.close();
    s.close();
  }
});

test('peer channel: nothing listening is refused (ICMP port unreachable), not a timeout', async () => {
  const r = await peerQuery({ node: 'd2', clusterKey: KEY, port: port() }, '127.0.0.1', 'VI_1', 2_000);
  assert.equal(r.outcome, 'refused');
});

test('peer channel: a port in use is TND_PEER_LISTEN', async () => {
  const p = port();
  const s = await server(p);
  try {
    await assert.rejects(server(p), /TND_PEER_LISTEN|cannot listen on UDP port/);
  } finally {
    s.close();
  }
});

test('tcp probe: open, refused', async () => {
  const net = await import('node:net');
  const srv = net.createServer((c) => c.destroy());
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const p = (srv.address() as { port: number }).port;
  try {
    assert.equal((await tcpProbe('127.0.0.1', p, 2_000)).outcome, 'open');
  } finally {
    srv.close();
  }
  assert.equal((await tcpProbe('127.0.0.1', p, 2_000)).outcome, 'refused');
});
