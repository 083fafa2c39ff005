import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeVrrp, encodeVrrp } from './codec.ts';
import {
  clockSeq,
  defaultHmacWindowS,
  HMAC_TRAILER_LEN,
  type HmacBinding,
  type HmacKey,
  type HmacVerifyOptions,
  nextSeq,
  parseHmacKey,
  signHmac,
  verifyHmac,
} from './codec-hmac.ts';
import type { VrrpPacket } from './types.ts';

// The draft's appendix vectors, as keepalived's test/auth_hmac_test.c carries them: key 00..1f, VRID 51, priority 200,
// sequence 0x6800000080000000. IPv4: source 198.51.100.10, VIP 192.0.2.100, RFC 9568 message-only checksum. IPv6:
// source fe80::10, VIP fe80::100, the kernel's transport checksum for destination fe80::20 over the trailer too.
const KEY: HmacKey = { id: 1, key: Uint8Array.from({ length: 32 }, (_, i) => i) };
const SEQ = 0x6800000080000000n;
const IPV4_VEC = '3133c80100644402c0000264' + '010100006800000080000000' + '1b84bc4e8e43892dc6d98448f8ee2265';
const IPV6_VEC =
  '3133c8010064a2e9' +
  'fe800000000000000000000000000100' +
  '010100006800000080000000' +
  'c8c56146ebfd66ee10ec4d8186461b78';
const B4: HmacBinding = { family: 4, version: 3, vrid: 51, src: '198.51.100.10' };
const B6: HmacBinding = { family: 6, version: 3, vrid: 51, src: 'fe80::10' };
const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
/** keepalived's own vector check uses monotonic mode: the fixed timestamps lie outside any live window. */
const MONO: HmacVerifyOptions = { mode: 'enforce', antiReplay: 'monotonic', windowS: 5, wallMs: 0 };

test('auth_hmac: the draft appendix IPv4 vector verifies, and signing the same advert reproduces it byte for byte', () => {
  const buf = hex(IPV4_VEC);
  const d = decodeVrrp(buf, { ttl: 255, family: 4, src: B4.src, dst: '224.0.0.18' });
  assert.ok(d.ok, JSON.stringify(d));
  assert.equal(d.checksumForm, 'message');
  assert.deepEqual(verifyHmac(buf, 12, B4, [KEY], MONO, null), { ok: true, signed: true, mark: { seq: SEQ } });
  const p: VrrpPacket = d.packet;
  const message = encodeVrrp(p, { src: B4.src, dst: '224.0.0.18', v3Checksum: 'message' });
  assert.equal(toHex(signHmac(message, B4, KEY, SEQ)), IPV4_VEC);
});

test('auth_hmac: the draft appendix IPv6 vector verifies; its kernel checksum covers the trailer', () => {
  const buf = hex(IPV6_VEC);
  const d = decodeVrrp(buf, { ttl: 255, family: 6, src: B6.src, dst: 'fe80::20' });
  assert.ok(d.ok, JSON.stringify(d));
  assert.deepEqual(verifyHmac(buf, 24, B6, [KEY], MONO, null), { ok: true, signed: true, mark: { seq: SEQ } });
  // Our message's checksum is the message-only pseudo-header one (the kernel replaces it); the trailer is the same.
  const message = encodeVrrp(d.packet, { src: B6.src, dst: 'fe80::20' });
  assert.equal(toHex(signHmac(message, B6, KEY, SEQ).subarray(24)), IPV6_VEC.slice(48));
});

test('auth_hmac: one flipped byte per field, as keepalived tests them (the checksum is not covered)', () => {
  const img = hex(IPV6_VEC);
  const cases: [string, number, 'ok' | 'hmac'][] = [
    ['priority', 2, 'hmac'],
    ['advert interval', 5, 'hmac'],
    ['checksum', 6, 'ok'],
    ['vip', 8 + 15, 'hmac'],
    ['ext type', 24, 'hmac'],
    ['key id', 25, 'hmac'],
    ['reserved', 26, 'hmac'],
    ['seconds', 28, 'hmac'],
    ['counter', 34, 'hmac'],
    ['hmac', 36, 'hmac'],
  ];
  for (const [what, off, want] of cases) {
    const buf = Uint8Array.from(img);
    buf[off]! ^= 0x01;
    const r = verifyHmac(buf, 24, B6, [KEY], MONO, null);
    assert.equal(r.ok ? 'ok' : r.reason, want, what);
  }
  const other = verifyHmac(img, 24, { ...B6, src: 'fe80::20' }, [KEY], MONO, null);
  assert.equal(other.ok ? 'ok' : other.reason, 'hmac', 'the source address is bound');
  const vrid = verifyHmac(img, 24, { ...B6, vrid: 52 }, [KEY], MONO, null);
  assert.equal(vrid.ok ? 'ok' : vrid.reason, 'hmac', 'the VRID is bound');
});

test('auth_hmac: a replayed advert is refused; another receiver (a second peer) accepts the same copy once', () => {
  const buf = hex(IPV4_VEC);
  const first = verifyHmac(buf, 12, B4, [KEY], MONO, null);
  assert.ok(first.ok);
  const again = verifyHmac(buf, 12, B4, [KEY], MONO, first.mark);
  assert.deepEqual(again.ok ? null : again.reason, 'replay');
  assert.ok(verifyHmac(buf, 12, B4, [KEY], MONO, null).ok);
});

test('auth_hmac: time mode refuses a stamp outside the window before computing the MAC', () => {
  const now = 1_800_000_000_000;
  const msg = encodeVrrp(packet(), { src: B4.src, dst: '224.0.0.18' });
  const opts: HmacVerifyOptions = { mode: 'enforce', antiReplay: 'time', windowS: 5, wallMs: now };
  const fresh = signHmac(msg, B4, KEY, clockSeq(now - 2_000));
  assert.ok(verifyHmac(fresh, msg.length, B4, [KEY], opts, null).ok);
  for (const skew of [-100_000, 100_000]) {
    const r = verifyHmac(signHmac(msg, B4, KEY, clockSeq(now + skew)), msg.length, B4, [KEY], opts, null);
    assert.equal(r.ok ? 'ok' : r.reason, 'stale');
  }
  // A mark stranded far in the future (a sender whose clock was stepped back) expires instead of blocking forever.
  const stranded = { seq: clockSeq(now + 3_600_000) };
  assert.ok(verifyHmac(fresh, msg.length, B4, [KEY], opts, stranded).ok);
});

test('auth_hmac: modes — enforce needs a trailer; permissive and receive-only accept an unsigned advert', () => {
  const msg = encodeVrrp(packet(), { src: B4.src, dst: '224.0.0.18' });
  const r = verifyHmac(msg, msg.length, B4, [KEY], MONO, null);
  assert.deepEqual(r.ok ? null : r.reason, 'hmac');
  for (const mode of ['permissive', 'receive-only'] as const)
    assert.deepEqual(verifyHmac(msg, msg.length, B4, [KEY], { ...MONO, mode }, null), {
      ok: true,
      signed: false,
      mark: null,
    });
  // but a trailer that is present must be valid in every mode
  const bad = signHmac(msg, B4, { id: 1, key: new Uint8Array(32) }, 5n);
  const rb = verifyHmac(bad, msg.length, B4, [KEY], { ...MONO, mode: 'permissive' }, null);
  assert.equal(rb.ok ? 'ok' : rb.reason, 'hmac');
});

test('auth_hmac: the sender sequence grows even when the clock does not, and restarts after a clock step back', () => {
  const t = 1_800_000_000_000;
  const a = nextSeq(0n, t, 'time', 5);
  assert.equal(a, clockSeq(t));
  assert.equal(nextSeq(a, t, 'time', 5), a + 1n, 'same clock reading: counter + 1');
  const ahead = clockSeq(t + 3_600_000);
  assert.equal(nextSeq(ahead, t, 'time', 5), clockSeq(t), 'time mode: back to the clock past the window');
  assert.equal(nextSeq(ahead, t, 'monotonic', 5), ahead + 1n, 'monotonic mode: strict growth');
  assert.equal(clockSeq(1_000_500), (1000n << 32n) | (32768n << 16n));
  assert.equal(defaultHmacWindowS(100), 5);
  assert.equal(defaultHmacWindowS(3_000), 9);
});

test('auth_hmac keys: hex: or text, 32..64 bytes, with a reason otherwise', () => {
  const h = parseHmacKey(`hex:${'0a'.repeat(32)}\n`);
  assert.ok(h.ok && h.key.length === 32 && h.key[0] === 10);
  assert.ok(parseHmacKey('x'.repeat(40)).ok);
  const short = parseHmacKey('secret');
  assert.ok(!short.ok && /32\.\.64 bytes, this one is 6/.test(short.reason));
  assert.ok(!parseHmacKey('hex:zz').ok);
});

test('auth_hmac: verify is total: any bytes give a verdict, never an exception', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), fc.integer({ min: 0, max: 80 }), (buf, len) => {
      const r = verifyHmac(buf, len, B4, [KEY], MONO, null);
      assert.equal(typeof r.ok, 'boolean');
    }),
    { numRuns: 500 },
  );
  assert.equal(HMAC_TRAILER_LEN, 28);
});

function packet(): VrrpPacket {
  return {
    version: 3,
    family: 4,
    vrid: 51,
    priority: 200,
    advertIntervalMs: 1000,
    addrs: ['192.0.2.100'],
    auth: { type: 'none' },
  };
}
