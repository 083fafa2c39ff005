/**
 * Just enough address arithmetic for persistence granularity: parse IPv4/IPv6 text, keep the first `prefix` bits,
 * print the network back. Pure and total (parsers return `undefined`). lb/ may import only core/, hence this small
 * copy rather than vrrp/inet.ts.
 */

const DEC_OCTET = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** Parses dotted-quad IPv4 text into 4 bytes, or `undefined`. */
export function parseV4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => DEC_OCTET.test(p))) return undefined;
  return Uint8Array.from(parts, Number);
}

/** Parses IPv6 text (one `::`, optional dotted IPv4 tail, zone id ignored) into 16 bytes, or `undefined`. */
export function parseV6(text: string): Uint8Array | undefined {
  const bare = text.split('%')[0] ?? '';
  const halves = bare.split('::');
  if (halves.length > 2 || bare.length === 0) return undefined;
  const words = (part: string | undefined, mayEndInV4: boolean): number[] | undefined => {
    if (!part) return [];
    const out: number[] = [];
    const groups = part.split(':');
    for (const [i, g] of groups.entries()) {
      if (mayEndInV4 && i === groups.length - 1 && g.includes('.')) {
        const v4 = parseV4(g);
        if (!v4) return undefined;
        out.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
      } else if (HEX_GROUP.test(g)) out.push(Number.parseInt(g, 16));
      else return undefined;
    }
    return out;
  };
  const head = words(halves[0], halves.length === 1);
  const tail = halves.length === 2 ? words(halves[1], true) : [];
  if (!head || !tail) return undefined;
  const zeros = 8 - head.length - tail.length;
  if (halves.length === 2 ? zeros < 1 : zeros !== 0) return undefined;
  const all = [...head, ...new Array<number>(zeros).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

/** Parses IPv4 or IPv6 text into 4 or 16 bytes, or `undefined`. */
export function parseIp(text: string): Uint8Array | undefined {
  return text.includes(':') ? parseV6(text) : parseV4(text);
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

/** Formats 4 or 16 bytes as address text (IPv6 in RFC 5952 form: lower case, longest zero run as `::`). */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return bytes.join('.');
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push(((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0));
  let bestAt = -1;
  let bestLen = 1; // a single zero group is never compressed (RFC 5952 §4.2.2)
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) [bestAt, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = (ws: number[]): string => ws.map((x) => x.toString(16)).join(':');
  return bestAt < 0 ? hex(w) : `${hex(w.slice(0, bestAt))}::${hex(w.slice(bestAt + bestLen))}`;
}
