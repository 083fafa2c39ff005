import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IcmpPinger, type NativeIcmpSocket } from './icmp.ts';

const root = process.getuid?.() === 0;

test('ICMP echo to 127.0.0.1 and ::1 gets a reply through the addon', {
  skip: !root && 'needs CAP_NET_RAW',
}, async () => {
  const p = new IcmpPinger();
  try {
    const [v4, v6] = await Promise.all([
      p.echo('127.0.0.1', { timeoutMs: 2_000 }),
      p.echo('::1', { timeoutMs: 2_000 }),
    ]);
    assert.equal(v4.outcome, 'reply', v4.detail);
    assert.equal(v6.outcome, 'reply', v6.detail);
    assert.ok((v4.rttMs ?? -1) >= 0);
    // many at once, each matched to its own reply
    const many = await Promise.all(Array.from({ length: 20 }, () => p.echo('127.0.0.1', { timeoutMs: 2_000 })));
    assert.deepEqual(new Set(many.map((r) => r.outcome)), new Set(['reply']));
  } finally {
    p.close();
  }
});

/** A socket that records what is sent and delivers only what the test says. */
function fakeSocket(kind: 'dgram' | 'raw' = 'raw') {
  const sent: Uint8Array[] = [];
  let deliver: ((err: Error | null, msg?: { data: Uint8Array; src: string }) => void) | undefined;
  const sock: NativeIcmpSocket = {
    kind,
    send: (b) => {
      sent.push(Uint8Array.from(b));
      return b.length;
    },
    start: (cb) => {
      deliver = cb;
    },
    close: () => {},
  };
  return { sock, sent, reply: (data: Uint8Array) => deliver?.(null, { data, src: '198.18.0.11' }) };
}

test('an echo with no reply times out; a reply with another token or identifier does not resolve it', async () => {
  const f = fakeSocket();
  const p = new IcmpPinger({ open: () => f.sock });
  const pending = p.echo('198.18.0.11', { timeoutMs: 50 });
  const req = f.sent[0]!;
  const wrong = Uint8Array.from(req);
  wrong[0] = 0;
  wrong[15]! ^= 1; // another token
  f.reply(wrong);
  const other = Uint8Array.from(req);
  other[0] = 0;
  other[4]! ^= 1; // another identifier (another process's ping on a raw socket)
  f.reply(other);
  const r = await pending;
  assert.equal(r.outcome, 'timeout');
  assert.match(r.detail, /no reply from 198\.18\.0\.11 within 50 ms/);
  p.close();
});

test('an ICMP destination unreachable quoting our echo ends it as unreachable; a bad address is an error', async () => {
  const f = fakeSocket();
  const p = new IcmpPinger({ open: () => f.sock });
  const pending = p.echo('198.18.0.11', { timeoutMs: 5_000 });
  const req = f.sent[0]!;
  const err = new Uint8Array(8 + 20 + 8);
  err[0] = 3;
  err[1] = 1;
  err[8] = 0x45; // the quoted IPv4 header, ihl 5
  err.set(req.subarray(0, 8), 28);
  f.reply(err);
  const r = await pending;
  assert.equal(r.outcome, 'unreachable');
  assert.match(r.detail, /code 1/);
  assert.equal((await p.echo('nonsense', { timeoutMs: 10 })).outcome, 'error');
  p.close();
});

test('an abort ends the echo at once; close ends every echo in flight', async () => {
  const f = fakeSocket('dgram');
  const p = new IcmpPinger({ open: () => f.sock });
  const ctl = new AbortController();
  const a = p.echo('198.18.0.11', { timeoutMs: 60_000, signal: ctl.signal });
  ctl.abort();
  assert.equal((await a).detail, 'aborted');
  const b = p.echo('198.18.0.11', { timeoutMs: 60_000 });
  p.close();
  assert.equal((await b).outcome, 'error');
});
