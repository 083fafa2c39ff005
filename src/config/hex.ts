/**
 * keepalived's hex strings (UDP_CHECK `payload` and `require_reply`): pairs of hex digits, blanks between octets
 * allowed, a lone digit before a blank is one octet; in a reply `x`/`X` is a wildcard nibble. Pure.
 * @see keepalived lib/parser.c read_hex_str
 * @example parseHexString('de ad be ef') // { data: Uint8Array [0xde, 0xad, 0xbe, 0xef] }
 */

/** The octets of a hex string, and the mask of wildcard bits (set = any value) when it has wildcards. */
export interface HexBytes {
  data: Uint8Array;
  mask?: Uint8Array;
}

/** Parses a hex string; undefined when it is empty or holds anything else (wildcards only when allowed). */
export function parseHexString(text: string, wildcards = false): HexBytes | undefined {
  const data: number[] = [];
  const mask: number[] = [];
  let masked = false;
  const nibble = (c: string): { v: number; m: number } | undefined => {
    if (/^[0-9a-fA-F]$/.test(c)) return { v: Number.parseInt(c, 16), m: 0 };
    if (wildcards && (c === 'x' || c === 'X')) return { v: 0, m: 0xf };
    return undefined;
  };
  let i = 0;
  for (;;) {
    while (text[i] === ' ' || text[i] === '\t') i++;
    if (i >= text.length) break;
    const hi = nibble(text[i++]!);
    if (!hi) return undefined;
    let v = hi.v;
    let m = hi.m;
    if (i < text.length && text[i] !== ' ' && text[i] !== '\t') {
      const lo = nibble(text[i++]!);
      if (!lo) return undefined;
      v = (v << 4) | lo.v;
      m = (m << 4) | lo.m;
    }
    if (m) masked = true;
    data.push(v);
    mask.push(m);
  }
  if (data.length === 0) return undefined;
  return masked ? { data: Uint8Array.from(data), mask: Uint8Array.from(mask) } : { data: Uint8Array.from(data) };
}
