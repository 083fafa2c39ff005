import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodePeer, encodePeer, NonceWindow, PEER_MAX_BYTES, type PeerMessage, peerKey } from './peer-codec.ts';

// Golden vectors computed independently (Python's hmac/struct, in the commit that added this file) from the format in
// docs/split-brain.md: cluster key 00..1f, query d2 → VI_1 at 1800000000123 ms with nonce 0x0123456789abcdef, and d1's
// answer MASTER priority 150 with its VIPs held.
const CLUSTER_KEY = Uint8Array.from({ length: 32 }, (_, i) => i);
const KEY = peerKey(CLUSTER_KEY);
const QUERY_HEX =
  '5444504301010040000001a3185c507b0123456789abcdef0264320456495f31' +
  '042726e64c0a66b2bcac36eb1a3b7303eb903ca927be15b1e86fb2e0133f94e4';
const ANSWER_HEX =
  '5444504301020043000001a3185c507d0123456789abcdef0264310456495f31029601' +
  'c200877388bb12a9de6d97db8cc2c555d703fdd9b255742d0f8f4c942ab31b81';
const QUERY: PeerMessage = {
  type: 'query',
  node: 'd2',
  instance: 'VI_1',
  timestampMs: 1_800_000_000_123,
  nonce: 0x0123456789abcdefn,
};
const ANSWER: PeerMessage = {
  type: 'answer',
  node: 'd1',
  instance: 'VI_1',
  timestampMs: 1_800_000_000_125,
  nonce: 0x0123456789abcdefn,
  state: 'MASTER',
  priority: 150,
  vipsHeld: true,
};
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));

test('peer channel: query and answer encode to the golden vectors and decode back', () => {
  assert.equal(hex(encodePeer(QUERY, KEY)), QUERY_HEX);
  assert.equal(hex(encodePeer(ANSWER, KEY)), ANSWER_HEX);
  assert.deepEqual(decodePeer(bytes(QUERY_HEX), KEY), { ok: true, msg: QUERY });
  assert.deepEqual(decodePeer(bytes(ANSWER_HEX), KEY), { ok: true, msg: ANSWER });
});

test('peer channel: another key, or any flipped byte, fails before a field is believed', () => {
  const other = decodePeer(bytes(ANSWER_HEX), peerKey(new Uint8Array(32)));
  assert.deepEqual(other.ok ? null : other.reason, 'mac');
  const img = bytes(ANSWER_HEX);
  for (let i = 8; i < img.length; i++) {
    const b = Uint8Array.from(img);
    b[i]! ^= 0x10;
    const r = decodePeer(b, KEY);
    assert.equal(r.ok, false, `byte ${i}`);
  }
});

test('peer channel: size is bounded and malformed input names its reason', () => {
  const long = decodePeer(new Uint8Array(PEER_MAX_BYTES + 1), KEY);
  assert.deepEqual(long.ok ? null : long.reason, 'long');
  const r = decodePeer(bytes('5444504302'), KEY);
  assert.deepEqual(r.ok ? null : r.reason, 'short');
  assert.throws(() => encodePeer({ ...QUERY, node: 'x'.repeat(65) }, KEY), RangeError);
});

test('peer channel: decoding is total', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
      const r = decodePeer(b, KEY);
      assert.equal(typeof r.ok, 'boolean');
    }),
    { numRuns: 1000 },
  );
  fc.assert(
    fc.property(
      fc.constantFrom('INIT', 'BACKUP', 'MASTER', 'FAULT', 'absent' as const),
      fc.integer({ min: 0, max: 255 }),
      fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      fc.string({ minLength: 1, maxLength: 20 }),
      (state, priority, nonce, instance) => {
        const m: PeerMessage = { ...ANSWER, state, priority, nonce, instance };
        assert.deepEqual(decodePeer(encodePeer(m, KEY), KEY), { ok: true, msg: m });
      },
    ),
  );
});

test('anti-replay: a query outside the window is stale, a nonce seen twice within it is a replay, memory is bounded', () => {
  const w = new NonceWindow(30_000, 3);
  const now = 1_800_000_000_000;
  assert.equal(w.admit('d2', now - 31_000, 1n, now), 'stale');
  assert.equal(w.admit('d2', now + 31_000, 1n, now), 'stale');
  assert.equal(w.admit('d2', now, 1n, now), 'ok');
  assert.equal(w.admit('d2', now, 1n, now + 10), 'replay');
  assert.equal(w.admit('d3', now, 1n, now + 10), 'ok', 'nonces are per sender');
  w.admit('d2', now, 2n, now);
  w.admit('d2', now, 3n, now);
  // full (3): the oldest nonce is forgotten, but the window still refuses it once it is old
  assert.equal(w.admit('d2', now - 40_000, 1n, now), 'stale');
});
