/**
 * keepalived 2.4's `auth_hmac` advert trailer (draft-cassen-vrrp-auth-hmac; docs/split-brain.md §6): 28 bytes after
 * the VRRP message that authenticate it with HMAC-SHA256 truncated to 128 bits and make it fresh with a 64-bit
 * time-based sequence. Pure and total: verifying never throws on wire input, it names a drop reason (Rule 3). The
 * clock reading and the per-sender replay state come in as arguments and go out as results.
 *
 * Trailer: ext_type (1 = HMAC-SHA256-128), key_id, reserved (2, zero), sec (4, UTC seconds), subsec (2, 1/65536 s),
 * ctr (2), hmac (16). The MAC covers a 20-byte pseudo-header {family 4|6, version, vrid, 0, source address (16 bytes,
 * IPv4 in the first 4)}, the VRRP message with its checksum read as zero, and the trailer with its MAC read as zero.
 * The VRRP checksum covers the message alone (IPv6: the kernel's, over the whole payload), as keepalived has it.
 * @see keepalived vrrp_auth_hmac.c, test/auth_hmac_test.c (the draft's appendix vectors)
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { parseAddr, stripZone } from '../core/inet.ts';
import { parseKeyText } from '../core/key-text.ts';
import type { AddressFamily, VrrpVersion } from './types.ts';

/** Bytes the trailer adds to an advert. */
export const HMAC_TRAILER_LEN = 28;
/** ext_type of HMAC-SHA256 truncated to 128 bits, the one scheme defined. */
export const HMAC_SHA256_128 = 1;
const MAC_LEN = 16;
const MAC_OFFSET = 12;
const PSEUDO_LEN = 20;

/** A signing key, by id (rotation: several ids may verify, one signs). */
export interface HmacKey {
  id: number;
  key: Uint8Array;
}

/** What the MAC binds besides the bytes: the instance and the claimed sender. */
export interface HmacBinding {
  family: AddressFamily;
  version: VrrpVersion;
  vrid: number;
  /** The advert's IP source address. */
  src: string;
}

/** The receiver's per-sender high-water mark (keepalived's replay slot). */
export type ReplayMark = { seq: bigint } | null;

/** How a receiver verifies. */
export interface HmacVerifyOptions {
  mode: 'enforce' | 'permissive' | 'receive-only';
  antiReplay: 'time' | 'monotonic';
  /** Freshness window in `time` mode, whole seconds 1..300. */
  windowS: number;
  /** The receiver's wall clock, ms since 1970. */
  wallMs: number;
}

/** What {@link verifyHmac} returns. */
export type HmacVerifyResult =
  | { ok: true; signed: boolean; mark: ReplayMark }
  | { ok: false; reason: 'hmac' | 'stale' | 'replay'; detail: string };

const U64 = (1n << 64n) - 1n;

/** Parses a key as keepalived writes one (core/key-text.ts). */
export const parseHmacKey = parseKeyText;

/** keepalived's clock_seq: UTC seconds in the high 32 bits, a 1/65536 s fraction in the next 16, counter 0. */
export function clockSeq(wallMs: number): bigint {
  const ms = Math.max(0, Math.floor(wallMs));
  const sec = BigInt(Math.floor(ms / 1000)) & 0xffffffffn;
  const subsec = BigInt(Math.floor(((ms % 1000) * 65536) / 1000));
  return (sec << 32n) | (subsec << 16n);
}

const after = (a: bigint, b: bigint): boolean => BigInt.asIntN(64, (a - b) & U64) > 0n;

/**
 * keepalived's next_seq: the clock, or the last sequence plus one when the clock has not moved past it; in `time`
 * mode a sequence stranded more than the window ahead of the clock (a clock stepped back) restarts from the clock.
 */
export function nextSeq(last: bigint, wallMs: number, antiReplay: 'time' | 'monotonic', windowS: number): bigint {
  const clk = clockSeq(wallMs);
  if (after(clk, last)) return clk;
  const ahead = BigInt.asIntN(32, ((last >> 32n) - (clk >> 32n)) & 0xffffffffn);
  if (antiReplay === 'time' && ahead > BigInt(windowS)) return clk;
  return (last + 1n) & U64;
}

function pseudoHeader(b: HmacBinding): Uint8Array | undefined {
  const src = parseAddr(stripZone(b.src), b.family);
  if (!src) return undefined;
  const out = new Uint8Array(PSEUDO_LEN);
  out[0] = b.family;
  out[1] = b.version;
  out[2] = b.vrid;
  out.set(src, 4);
  return out;
}

/** The MAC over message + trailer prefix (checksum and MAC read as zero). */
function mac(key: Uint8Array, pseudo: Uint8Array, message: Uint8Array, prefix: Uint8Array): Uint8Array {
  const h = createHmac('sha256', key);
  h.update(pseudo);
  h.update(message.subarray(0, 6));
  h.update(new Uint8Array(2));
  h.update(message.subarray(8));
  h.update(prefix);
  h.update(new Uint8Array(MAC_LEN));
  return new Uint8Array(h.digest()).subarray(0, MAC_LEN);
}

/**
 * Appends a signed trailer to an encoded advert (the VRRP message, checksum already filled in). Throws on a binding
 * that cannot be an advert's (an address of the other family): a programming error, never wire input.
 * @example signHmac(encodeVrrp(p, tx), { family: 4, version: 3, vrid: 51, src: '198.51.100.10' }, key, seq)
 */
export function signHmac(message: Uint8Array, b: HmacBinding, key: HmacKey, seq: bigint): Uint8Array {
  const pseudo = pseudoHeader(b);
  if (!pseudo) throw new RangeError(`${b.src} is not an IPv${b.family} address`);
  const out = new Uint8Array(message.length + HMAC_TRAILER_LEN);
  out.set(message);
  const t = new DataView(out.buffer, message.length, HMAC_TRAILER_LEN);
  t.setUint8(0, HMAC_SHA256_128);
  t.setUint8(1, key.id);
  t.setUint16(2, 0);
  t.setBigUint64(4, seq & U64);
  out.set(
    mac(key.key, pseudo, message, out.subarray(message.length, message.length + MAC_OFFSET)),
    message.length + 12,
  );
  return out;
}

/**
 * Verifies the trailer of an advert whose VRRP message is `messageLen` bytes (decodeVrrp's length): a buffer exactly
 * 28 bytes longer carries one. Order as keepalived: the window check before the MAC (it only rejects), the replay
 * mark after it (it must never move on forged data). Returns the sender's new mark when accepted.
 */
export function verifyHmac(
  buf: Uint8Array,
  messageLen: number,
  b: HmacBinding,
  keys: readonly HmacKey[],
  opts: HmacVerifyOptions,
  mark: ReplayMark,
): HmacVerifyResult {
  if (buf.length !== messageLen + HMAC_TRAILER_LEN) {
    if (opts.mode === 'enforce') return { ok: false, reason: 'hmac', detail: 'no authentication trailer' };
    return { ok: true, signed: false, mark };
  }
  const t = new DataView(buf.buffer, buf.byteOffset + messageLen, HMAC_TRAILER_LEN);
  if (t.getUint8(0) !== HMAC_SHA256_128 || t.getUint16(2) !== 0)
    return {
      ok: false,
      reason: 'hmac',
      detail: `malformed trailer (scheme ${t.getUint8(0)}, reserved ${t.getUint16(2)})`,
    };
  const seq = t.getBigUint64(4);
  const nowSec = Math.floor(opts.wallMs / 1000);
  if (opts.antiReplay === 'time') {
    const delta = Number(BigInt.asIntN(32, (BigInt(nowSec) - (seq >> 32n)) & 0xffffffffn));
    if (delta > opts.windowS || delta < -opts.windowS)
      return { ok: false, reason: 'stale', detail: `clock skew ${delta} s exceeds the window of ${opts.windowS} s` };
  }
  const keyId = t.getUint8(1);
  const key = keys.find((k) => k.id === keyId);
  if (!key) return { ok: false, reason: 'hmac', detail: `unknown key id ${keyId}` };
  const pseudo = pseudoHeader(b);
  if (!pseudo) return { ok: false, reason: 'hmac', detail: `source ${b.src} is not an IPv${b.family} address` };
  const message = buf.subarray(0, messageLen);
  const want = mac(key.key, pseudo, message, buf.subarray(messageLen, messageLen + MAC_OFFSET));
  const got = buf.subarray(messageLen + MAC_OFFSET, messageLen + HMAC_TRAILER_LEN);
  if (!timingSafeEqual(want, got)) return { ok: false, reason: 'hmac', detail: 'invalid HMAC' };
  let prev = mark;
  if (prev && opts.antiReplay === 'time') {
    // A mark outside the window orders only packets the window rejects; expiring it recovers a sender reset by a
    // clock step (keepalived replay_ok).
    const age = Number(BigInt.asIntN(32, (BigInt(nowSec) - (prev.seq >> 32n)) & 0xffffffffn));
    if (age > opts.windowS || age < -opts.windowS) prev = null;
  }
  if (prev && !after(seq, prev.seq)) return { ok: false, reason: 'replay', detail: 'sequence not newer than the last' };
  return { ok: true, signed: true, mark: { seq } };
}

/** keepalived's default window: 3 × the advert interval in whole seconds, within 5..300. */
export function defaultHmacWindowS(advertIntervalMs: number): number {
  return Math.min(300, Math.max(5, 3 * Math.floor(advertIntervalMs / 1000)));
}
