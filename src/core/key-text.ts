/**
 * The text of a key file, as keepalived's auth_hmac writes one and tandem's cluster key uses it: `hex:` and pairs of
 * hex digits, or the text itself (a trailing newline dropped); 32..64 bytes (a 128-bit margin). Pure.
 */

/** Key length bounds. */
export const KEY_MIN_BYTES = 32;
export const KEY_MAX_BYTES = 64;

/**
 * Parses a key.
 * @example parseKeyText('hex:' + '00'.repeat(32))
 */
export function parseKeyText(text: string): { ok: true; key: Uint8Array } | { ok: false; reason: string } {
  const t = text.replace(/\r?\n$/, '');
  let key: Uint8Array;
  if (t.startsWith('hex:')) {
    const hex = t.slice(4).trim();
    if (!/^([0-9a-fA-F]{2})+$/.test(hex)) return { ok: false, reason: 'hex: must be followed by pairs of hex digits' };
    key = Uint8Array.from(hex.match(/../g)!.map((h) => Number.parseInt(h, 16)));
  } else key = new TextEncoder().encode(t);
  if (key.length < KEY_MIN_BYTES || key.length > KEY_MAX_BYTES)
    return { ok: false, reason: `a key is ${KEY_MIN_BYTES}..${KEY_MAX_BYTES} bytes, this one is ${key.length}` };
  return { ok: true, key };
}
