/**
 * IPv4/IPv6 address text ↔ bytes, prefixes, and the Internet checksum: the one address parser every module uses
 * (VRRP codec and machine, LB persistence, the nft renderer, the VRRP socket layer). Pure and total: parsers return
 * `undefined` instead of throwing, because they run on configuration text and on socket metadata alike.
 */

/** An IP address family. */
export type AddressFamily = 4 | 6;

/** Byte length of an address of each family. */
export const ADDR_LEN: Readonly<Record<AddressFamily, number>> = { 4: 4, 6: 16 };

const DEC_OCTET = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/**
 * Parses dotted-quad IPv4 text into 4 bytes, or `undefined`. Leading zeros are refused (like glibc `inet_pton` and
 * Node's `net.isIPv4`) because `010` means 8 to some tools and 10 to others.
 */
export function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i] ?? '';
    if (!DEC_OCTET.test(p)) return undefined;
    out[i] = Number(p);
  }
  return out;
}

/**
 * Parses IPv6 text (RFC 4291 §2.2: hex groups, one `::`, optional dotted IPv4 tail) into 16 bytes, or `undefined`.
 * Zone ids (`%eth0`) are refused here: an address in a packet has none; strip them with {@link stripZone} first.
 */
export function parseIpv6(text: string): Uint8Array | undefined {
  if (text.length === 0 || text.length > 45) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const groups: number[] = [];
  const readGroups = (parts: string[], last: boolean): number[] | undefined => {
    const words: number[] = [];
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i] ?? '';
      if (last && i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIpv4(p);
        if (!v4) return undefined;
        words.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
      } else {
        if (!HEX_GROUP.test(p)) return undefined;
        words.push(Number.parseInt(p, 16));
      }
    }
    return words;
  };
  const compressed = halves.length === 2;
  const headWords = readGroups(head, !compressed);
  const tailWords = readGroups(tail, true);
  if (!headWords || !tailWords) return undefined;
  if (compressed) {
    // '::' stands for at least one zero group (RFC 4291 §2.2 item 2).
    const zeros = 8 - headWords.length - tailWords.length;
    if (zeros < 1) return undefined;
    groups.push(...headWords, ...new Array<number>(zeros).fill(0), ...tailWords);
  } else {
    groups.push(...headWords);
  }
  if (groups.length !== 8) return undefined;
  const out = new Uint8Array(16);
  groups.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

/** Removes an IPv6 zone id (`fe80::1%eth0` → `fe80::1`); socket layers report link-local peers with one. */
export function stripZone(text: string): string {
  const at = text.indexOf('%');
  return at < 0 ? text : text.slice(0, at);
}

/** Parses address text of the given family into bytes, or `undefined` (also when the text is of the other family). */
export function parseAddr(text: string, family: AddressFamily): Uint8Array | undefined {
  if (typeof text !== 'string') return undefined;
  return family === 4 ? parseIpv4(text) : parseIpv6(text);
}

/**
 * Parses an address of either family, as sockets report them: an IPv6 zone id (`fe80::1%eth0`) is ignored. With
 * `family`, text of the other family is `undefined`.
 * @example parseIp('198.18.0.1') // Uint8Array [198, 18, 0, 1]
 */
export function parseIp(text: string, family?: AddressFamily): Uint8Array | undefined {
  if (typeof text !== 'string') return undefined;
  const f = family ?? (text.includes(':') ? 6 : 4);
  return parseAddr(f === 6 ? stripZone(text) : text, f);
}

/** A copy of `bytes` with every bit after the first `prefix` cleared (`prefix` is clamped to the address length). */
export function maskBytes(bytes: Uint8Array, prefix: number): Uint8Array {
  const bits = Math.min(bytes.length * 8, Math.max(0, Math.trunc(prefix)));
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.min(8, Math.max(0, bits - 8 * i));
    out[i] = (bytes[i] ?? 0) & ((0xff00 >> keep) & 0xff);
  }
  return out;
}

/** Formats 4 bytes as dotted-quad text. */
export function formatIpv4(b: Uint8Array): string {
  return `${b[0] ?? 0}.${b[1] ?? 0}.${b[2] ?? 0}.${b[3] ?? 0}`;
}

/**
 * Formats 16 bytes as canonical IPv6 text (RFC 5952 §4: lower case, no leading zeros, the longest run of two or more
 * zero groups — the first on a tie — as `::`; §5: IPv4-mapped addresses end in dotted quad).
 */
export function formatIpv6(b: Uint8Array): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push(((b[2 * i] ?? 0) << 8) | (b[2 * i + 1] ?? 0));
  if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0xffff) {
    return `::ffff:${formatIpv4(b.subarray(12, 16))}`;
  }
  let bestAt = -1;
  let bestLen = 1; // a single zero group is never compressed (RFC 5952 §4.2.2)
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]): string => ws.map((x) => x.toString(16)).join(':');
  if (bestAt < 0) return hex(w);
  return `${hex(w.slice(0, bestAt))}::${hex(w.slice(bestAt + bestLen))}`;
}

/** Formats address bytes (4 → IPv4, 16 → IPv6) as canonical text. */
export function formatAddr(b: Uint8Array): string {
  return b.length === 4 ? formatIpv4(b) : formatIpv6(b);
}

/**
 * The canonical text of an address of either family, or `undefined` if it is not one. Comparing canonical texts
 * compares addresses (`FE80:0::1` equals `fe80::1`).
 */
export function normaliseAddr(text: string): string | undefined {
  if (typeof text !== 'string') return undefined;
  const b = parseIpv4(text) ?? parseIpv6(text);
  return b ? formatAddr(b) : undefined;
}

/**
 * The one's complement sum of `bytes` as big-endian 16-bit words (a trailing odd byte is padded with zero), folded
 * to 16 bits and added to `initial`. Chain calls to sum several parts; every part but the last must be of even length.
 * @see RFC 1071
 */
export function onesComplementSum(bytes: Uint8Array, initial = 0): number {
  let sum = initial;
  const n = bytes.length - (bytes.length % 2);
  for (let i = 0; i < n; i += 2) sum += ((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0);
  if (n < bytes.length) sum += (bytes[n] ?? 0) << 8;
  // A number holds 2^53 exactly, so folding once at the end cannot lose carries for any packet size.
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** The Internet checksum of the concatenation of `parts`: the one's complement of their one's complement sum. */
export function internetChecksum(...parts: Uint8Array[]): number {
  let sum = 0;
  for (const p of parts) sum = onesComplementSum(p, sum);
  return ~sum & 0xffff;
}
