/**
 * The VRRP ADVERTISEMENT codec: v2 (RFC 3768, with keepalived's legacy PASS authentication) and v3 (RFC 5798 /
 * RFC 9568) for IPv4 and IPv6. Pure and total: decoding never throws on wire input, it names a drop reason (Rule 3).
 * Centiseconds and whole seconds exist only in here; everything outside speaks milliseconds (Rule 2).
 *
 * The buffer is the VRRP message only, from the Version/Type byte on: the socket layer strips the IP header and
 * hands over the TTL and addresses as {@link RxMeta}.
 */
import { TandemError } from '../core/errors.ts';
import { ADDR_LEN, formatAddr, internetChecksum, normaliseAddr, parseAddr, stripZone } from '../core/inet.ts';
import type { AddressFamily, InstanceConfig, RxMeta, TxMeta, V3ChecksumForm, VrrpDrop, VrrpPacket } from './types.ts';

/** IP protocol number of VRRP, used as the next header in checksum pseudo-headers. */
export const IPPROTO_VRRP = 112;
/** The TTL / hop limit every advert is sent with and, by default, must arrive with. @see RFC 3768 §7.1, RFC 5798 §7.1 */
export const VRRP_TTL = 255;
/** Fixed header length, both versions. */
export const VRRP_HEADER_LEN = 8;
/** v2 Authentication Data length. @see RFC 3768 §5.3.10 */
export const VRRP_AUTH_LEN = 8;
/** The largest Count IP Addrs a packet can carry (8 bits). */
export const VRRP_MAX_ADDRS = 255;

/** The single packet type. @see RFC 3768 §5.3.2 */
const TYPE_ADVERTISEMENT = 1;
/** v2 Auth Type values; 2 (IP AH) is keepalived's legacy IPsec mode, which tandem does not speak. */
const AUTH_NONE = 0;
const AUTH_PASS = 1;
const AUTH_AH = 2;
/** v3 Max Adver Int is 12 bits; the top 4 bits of that word are reserved. @see RFC 5798 §5.2.6 */
const V3_INTERVAL_MASK = 0x0fff;

/** What {@link decodeVrrp} returns: the packet and which checksum form verified it, or a drop reason. */
export type VrrpDecodeResult =
  | { ok: true; packet: VrrpPacket; checksumForm: V3ChecksumForm }
  | { ok: false; reason: VrrpDrop; detail: string };

/** What {@link matchAdvert} returns: accept, or a drop reason. */
export type VrrpMatchResult = { ok: true } | { ok: false; reason: VrrpDrop; detail: string };

/** The instance fields {@link matchAdvert} looks at. */
export type MatchableInstance = Pick<
  InstanceConfig,
  'version' | 'family' | 'vrid' | 'priority' | 'auth' | 'advertIntervalMs' | 'vips'
>;

const utf8 = new TextEncoder();
// fatal: a password that is not UTF-8 cannot equal any configured (JS string) password, and a lenient decode would
// map different byte strings to the same U+FFFD text. ignoreBOM keeps a leading EF BB BF as U+FEFF instead of
// silently dropping it, so that different bytes never decode to the same password.
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const hex16 = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;
const drop = (reason: VrrpDrop, detail: string): { ok: false; reason: VrrpDrop; detail: string } => ({
  ok: false,
  reason,
  detail,
});

/**
 * The checksum pseudo-header for a VRRP message of `length` bytes: IPv4 `{src, dst, 0, 112, length(2)}` as keepalived
 * and Wireshark use it, IPv6 `{src, dst, length(4), 0, 0, 0, 112}`.
 * @see RFC 5798 §5.2.8, RFC 8200 §8.1
 */
export function pseudoHeader(src: Uint8Array, dst: Uint8Array, length: number): Uint8Array {
  if (src.length === 4) {
    const ph = new Uint8Array(12);
    ph.set(src, 0);
    ph.set(dst, 4);
    ph[9] = IPPROTO_VRRP;
    ph[10] = (length >> 8) & 0xff;
    ph[11] = length & 0xff;
    return ph;
  }
  const ph = new Uint8Array(40);
  ph.set(src, 0);
  ph.set(dst, 16);
  ph[34] = (length >> 8) & 0xff;
  ph[35] = length & 0xff;
  ph[39] = IPPROTO_VRRP;
  return ph;
}

/**
 * The checksum a VRRP message should carry: computed over `message` with its checksum field (bytes 6–7) taken as
 * zero, preceded by `pseudo` when given (see {@link pseudoHeader}). Without `pseudo` this is the v2 form, and the
 * RFC 9568 / keepalived `v3_checksum_as_v2` form for v3 over IPv4.
 * @see RFC 3768 §5.3.8, RFC 5798 §5.2.8, RFC 9568 §1.2
 */
export function vrrpChecksum(message: Uint8Array, pseudo?: Uint8Array): number {
  const parts = [message.subarray(0, 6), message.subarray(8)];
  return pseudo ? internetChecksum(pseudo, ...parts) : internetChecksum(...parts);
}

/**
 * Decodes a VRRP ADVERTISEMENT. Total: any bytes yield a packet or a {@link VrrpDrop} with a one-line detail.
 * v3 over IPv4 verifies with either checksum form (keepalived's pseudo-header default or RFC 9568's message-only
 * form) and reports which one matched; bytes after the message (e.g. a newer peer's trailer) are ignored.
 * @see RFC 3768 §7.1, RFC 5798 §7.1
 */
export function decodeVrrp(buf: Uint8Array, rx: RxMeta): VrrpDecodeResult {
  // RFC order: TTL, version, length, checksum; then the fields that need a valid packet to mean anything.
  if (rx.checkTtl !== false && rx.ttl !== VRRP_TTL) return drop('ttl', `TTL ${rx.ttl}, expected ${VRRP_TTL}`);
  const family = rx.family;
  if (family !== 4 && family !== 6) return drop('family', `address family ${String(family)} is neither 4 nor 6`);
  const src = typeof rx.src === 'string' ? parseAddr(stripZone(rx.src), family) : undefined;
  const dst = typeof rx.dst === 'string' ? parseAddr(stripZone(rx.dst), family) : undefined;
  if (!src || !dst) {
    const which = src ? `destination ${String(rx.dst)}` : `source ${String(rx.src)}`;
    return drop('family', `${which} is not an IPv${family} address`);
  }
  if (buf.length < VRRP_HEADER_LEN) return drop('short', `${buf.length} bytes, shorter than the 8-byte header`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const b0 = view.getUint8(0);
  const version = b0 >> 4;
  const type = b0 & 0x0f;
  if (version !== 2 && version !== 3) return drop('version', `version ${version}; VRRP is 2 or 3`);
  if (version === 2 && family === 6) return drop('version', 'VRRPv2 over IPv6; RFC 3768 is IPv4 only');
  if (type !== TYPE_ADVERTISEMENT) return drop('type', `type ${type}; only 1 (ADVERTISEMENT) exists`);

  const vrid = view.getUint8(1);
  const priority = view.getUint8(2);
  const count = view.getUint8(3);
  const addrLen = ADDR_LEN[family];
  const length = VRRP_HEADER_LEN + count * addrLen + (version === 2 ? VRRP_AUTH_LEN : 0);
  if (buf.length < length) {
    const what = version === 2 ? `${count} addresses and auth data` : `${count} addresses`;
    return drop('short', `${buf.length} bytes, need ${length} for ${what}`);
  }
  const message = buf.subarray(0, length);
  const got = view.getUint16(6);

  let checksumForm: V3ChecksumForm;
  const plain = vrrpChecksum(message);
  if (version === 2) {
    if (got !== plain) return drop('checksum', `checksum ${hex16(got)}, expected ${hex16(plain)}`);
    checksumForm = 'message';
  } else {
    const withPh = vrrpChecksum(message, pseudoHeader(src, dst, length));
    // If both forms match (the pseudo-header sums to one's complement zero), report keepalived's default.
    if (got === withPh) {
      checksumForm = 'pseudo-header';
    } else if (family === 4 && got === plain) {
      checksumForm = 'message';
    } else if (family === 6 && buf.length > length && got === vrrpChecksum(buf, pseudoHeader(src, dst, buf.length))) {
      // The kernel's IPv6 checksum (IPV6_CHECKSUM) covers the whole payload: an auth_hmac trailer (codec-hmac.ts)
      // is inside it.
      checksumForm = 'pseudo-header';
    } else {
      // IPv6 has only the pseudo-header form; the kernel usually verifies it before we see the packet.
      const alt = family === 4 ? ` (pseudo-header) or ${hex16(plain)} (message only)` : ' (pseudo-header)';
      return drop('checksum', `checksum ${hex16(got)}, expected ${hex16(withPh)}${alt}`);
    }
  }

  // VRID 0 is reserved: no instance can have it, and a packet carrying it could not be re-encoded.
  if (vrid === 0) return drop('vrid', 'VRID 0 is reserved');
  if (count === 0) return drop('addr-count', 'Count IP Addrs is 0');

  let auth: VrrpPacket['auth'] = { type: 'none' };
  let advertIntervalMs: number;
  if (version === 2) {
    const authType = view.getUint8(4);
    if (authType === AUTH_PASS) {
      const data = message.subarray(length - VRRP_AUTH_LEN);
      const nul = data.indexOf(0);
      const raw = nul < 0 ? data : data.subarray(0, nul);
      let password: string;
      try {
        password = utf8Strict.decode(raw);
      } catch {
        return drop('auth', 'PASS password is not UTF-8, so it can match no configured password');
      }
      auth = { type: 'pass', password };
    } else if (authType === AUTH_AH) {
      return drop('auth', "auth type 2 (IP AH, keepalived's legacy IPsec mode) is not supported");
    } else if (authType !== AUTH_NONE) {
      return drop('auth', `auth type ${authType} is unknown`);
    }
    // Auth type 0: RFC 3768 §5.3.10 says the data is ignored on receipt.
    const seconds = view.getUint8(5);
    if (seconds === 0) return drop('interval', 'Adver Int is 0 seconds');
    advertIntervalMs = seconds * 1000;
  } else {
    // Reserved bits are ignored on receipt (RFC 5798 §5.2.6), as keepalived's `& 0xFFF` does.
    const centis = view.getUint16(4) & V3_INTERVAL_MASK;
    if (centis === 0) return drop('interval', 'Max Adver Int is 0 centiseconds');
    advertIntervalMs = centis * 10;
  }

  const addrs: string[] = [];
  for (let i = 0; i < count; i++) {
    const at = VRRP_HEADER_LEN + i * addrLen;
    addrs.push(formatAddr(message.subarray(at, at + addrLen)));
  }
  return { ok: true, packet: { version, family, vrid, priority, advertIntervalMs, addrs, auth }, checksumForm };
}

const encodeError = (message: string): TandemError => new TandemError('TND_VRRP_ENCODE', message);

const roundTripsUtf8 = (bytes: Uint8Array, text: string): boolean => {
  try {
    return utf8Strict.decode(bytes) === text;
  } catch {
    return false;
  }
};

const isIntIn = (n: unknown, lo: number, hi: number): n is number =>
  typeof n === 'number' && Number.isInteger(n) && n >= lo && n <= hi;

/** Parses tx/rx metadata addresses, which may carry an IPv6 zone id. */
function metaAddr(text: string, family: AddressFamily, role: string): Uint8Array {
  const b = typeof text === 'string' ? parseAddr(stripZone(text), family) : undefined;
  if (!b) throw encodeError(`${role} address ${String(text)} is not an IPv${family} address`);
  return b;
}

/**
 * Encodes a VRRP ADVERTISEMENT (VRRP message only, checksum filled in). Throws `TND_VRRP_ENCODE` when a field does
 * not fit the wire: that is a programming or config-validation error, never a network condition.
 * @see RFC 3768 §5.1, RFC 5798 §5.1
 */
export function encodeVrrp(packet: VrrpPacket, tx: TxMeta): Uint8Array {
  const { version, family, vrid, priority, advertIntervalMs, addrs, auth } = packet;
  if (version !== 2 && version !== 3) throw encodeError(`version ${String(version)}; VRRP is 2 or 3`);
  if (family !== 4 && family !== 6) throw encodeError(`address family ${String(family)} is neither 4 nor 6`);
  if (version === 2 && family === 6) throw encodeError('VRRPv2 cannot carry IPv6 addresses (RFC 3768 is IPv4 only)');
  if (!isIntIn(vrid, 1, 255)) throw encodeError(`VRID ${String(vrid)} is outside 1..255`);
  if (!isIntIn(priority, 0, 255)) throw encodeError(`priority ${String(priority)} is outside 0..255`);
  if (!Array.isArray(addrs) || addrs.length === 0 || addrs.length > VRRP_MAX_ADDRS) {
    const n = Array.isArray(addrs) ? addrs.length : String(addrs);
    throw encodeError(`${n} addresses; an advert carries 1..${VRRP_MAX_ADDRS}`);
  }

  let intervalField: number;
  if (version === 2) {
    if (!isIntIn(advertIntervalMs, 1000, 255_000) || advertIntervalMs % 1000 !== 0) {
      throw encodeError(`advert interval ${String(advertIntervalMs)} ms is not whole seconds in 1..255 (VRRPv2)`);
    }
    intervalField = advertIntervalMs / 1000;
  } else {
    if (!isIntIn(advertIntervalMs, 10, 40_950) || advertIntervalMs % 10 !== 0) {
      throw encodeError(`advert interval ${String(advertIntervalMs)} ms is not a multiple of 10 in 10..40950 (VRRPv3)`);
    }
    intervalField = advertIntervalMs / 10;
  }

  let authType = AUTH_NONE;
  let authData = new Uint8Array(VRRP_AUTH_LEN);
  if (auth?.type === 'pass') {
    if (version === 3) throw encodeError('VRRPv3 has no authentication; auth must be { type: none }');
    const pw = typeof auth.password === 'string' ? utf8.encode(auth.password) : undefined;
    // A NUL would end the password early on the receiving side, and a lone surrogate would be sent as U+FFFD:
    // either way the peer would see a different password than the one configured.
    if (!pw || pw.length > VRRP_AUTH_LEN || pw.includes(0) || !roundTripsUtf8(pw, auth.password)) {
      throw encodeError(`PASS password must be 0..8 bytes of UTF-8 without NUL, got ${pw ? pw.length : 'none'} bytes`);
    }
    authType = AUTH_PASS;
    authData = new Uint8Array(VRRP_AUTH_LEN);
    authData.set(pw);
  } else if (auth?.type !== 'none') {
    throw encodeError(`auth type ${String((auth as { type?: unknown } | undefined)?.type)} is not none or pass`);
  }

  const addrLen = ADDR_LEN[family];
  const length = VRRP_HEADER_LEN + addrs.length * addrLen + (version === 2 ? VRRP_AUTH_LEN : 0);
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  view.setUint8(0, (version << 4) | TYPE_ADVERTISEMENT);
  view.setUint8(1, vrid);
  view.setUint8(2, priority);
  view.setUint8(3, addrs.length);
  if (version === 2) {
    view.setUint8(4, authType);
    view.setUint8(5, intervalField);
    out.set(authData, length - VRRP_AUTH_LEN);
  } else {
    view.setUint16(4, intervalField); // reserved bits stay 0 (RFC 5798 §5.2.6)
  }
  addrs.forEach((text, i) => {
    const b = parseAddr(text, family);
    if (!b) throw encodeError(`virtual address ${String(text)} is not an IPv${family} address`);
    out.set(b, VRRP_HEADER_LEN + i * addrLen);
  });

  // Validate both even when v2 does not need them, so a wrong-family peer is caught on the first send, not later.
  const src = metaAddr(tx.src, family, 'source');
  const dst = metaAddr(tx.dst, family, 'destination');
  const form = tx.v3Checksum ?? 'pseudo-header';
  if (form !== 'pseudo-header' && form !== 'message') throw encodeError(`v3Checksum ${String(form)} is unknown`);
  // IPv6 always uses the pseudo-header (RFC 8200 §8.1); the choice exists only for v3 over IPv4.
  const usePseudo = version === 3 && (family === 6 || form === 'pseudo-header');
  view.setUint16(6, vrrpChecksum(out, usePseudo ? pseudoHeader(src, dst, length) : undefined));
  return out;
}

/** Canonical texts of a list of addresses; text that is no address is kept as is, so it can only equal itself. */
const addrSet = (list: readonly string[]): Set<string> => new Set(list.map((a) => normaliseAddr(a) ?? a));

/**
 * The instance-level receive checks: is this advert, already decoded, one for `inst`? keepalived behaviour where the
 * RFCs leave room: v3 backups adopt a different interval instead of dropping, and the address list is compared as a
 * set and enforced only for non-owner senders.
 * @see RFC 3768 §7.1, RFC 5798 §7.1
 */
export function matchAdvert(
  packet: VrrpPacket,
  inst: MatchableInstance,
  opts: { skipAddrList?: boolean } = {},
): VrrpMatchResult {
  if (packet.vrid !== inst.vrid) return drop('vrid', `VRID ${packet.vrid}, this instance is ${inst.vrid}`);
  if (packet.family !== inst.family) {
    return drop('family', `an IPv${packet.family} advert for an IPv${inst.family} instance`);
  }
  if (packet.version !== inst.version) {
    return drop('version-mismatch', `VRRPv${packet.version} advert for a VRRPv${inst.version} instance`);
  }
  // RFC 3768/5798 §7.1: the address owner never listens; it is master by definition.
  if (inst.priority === 255) return drop('owner', 'this instance owns the addresses (priority 255)');
  if (inst.version === 2) {
    const got = packet.auth;
    const want = inst.auth;
    if (got.type !== want.type) return drop('auth-mismatch', `auth type ${got.type}, this instance uses ${want.type}`);
    // The password itself never goes to logs.
    if (got.type === 'pass' && want.type === 'pass' && got.password !== want.password) {
      return drop('auth-mismatch', 'PASS password differs');
    }
    if (packet.advertIntervalMs !== inst.advertIntervalMs) {
      return drop(
        'interval-mismatch',
        `advert interval ${packet.advertIntervalMs} ms, this instance uses ${inst.advertIntervalMs} ms`,
      );
    }
  }
  // keepalived skip_check_adv_addr: the caller skips the list of the master it already follows.
  if (packet.priority !== 255 && !opts.skipAddrList) {
    const got = addrSet(packet.addrs);
    const want = addrSet(inst.vips.map((v) => v.addr));
    const missing = [...want].filter((a) => !got.has(a));
    const extra = [...got].filter((a) => !want.has(a));
    if (missing.length > 0 || extra.length > 0) {
      const parts = [
        missing.length ? `missing ${missing.join(', ')}` : '',
        extra.length ? `unexpected ${extra.join(', ')}` : '',
      ];
      return drop('addr-list', `address list differs: ${parts.filter(Boolean).join('; ')}`);
    }
  }
  return { ok: true };
}

/**
 * The source check of a unicast instance: an advert must come from one of its `unicastPeers` (compared as
 * addresses, so spelling does not matter). A multicast instance (no peers) accepts any source.
 */
export function matchSource(src: string, inst: Pick<InstanceConfig, 'unicastPeers'>): VrrpMatchResult {
  if (inst.unicastPeers.length === 0) return { ok: true };
  const text = stripZone(src);
  if (addrSet(inst.unicastPeers).has(normaliseAddr(text) ?? text)) return { ok: true };
  return drop('unicast-peer', `source ${src} is not a configured unicast peer`);
}
