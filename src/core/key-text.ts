/**
 * The text of a key file, as keepalived's auth_hmac writes one and tandem's cluster key uses it: `hex:` and pairs of
 * hex digits, or the text itself (a trailing newline dropped); 32..64 bytes (a 128-bit margin). heartbeat's authkeys
 * (`auth N`, then `N sha1|md5 SECRET`) is read as-is too, so an imported cluster keeps the secret its operators
 * already guard: the key is SHA-256 of the active entry's secret (its strength is the secret's). Pure.
 */
import { createHash } from 'node:crypto';

/** Key length bounds. */
export const KEY_MIN_BYTES = 32;
export const KEY_MAX_BYTES = 64;

/**
 * Parses a key.
 * @example parseKeyText('hex:' + '00'.repeat(32))
 */
export function parseKeyText(text: string): { ok: true; key: Uint8Array } | { ok: false; reason: string } {
  const authkeys = parseAuthkeys(text);
  if (authkeys) return authkeys;
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

/** heartbeat's authkeys text as a key, or undefined when the text is not authkeys. */
function parseAuthkeys(text: string): { ok: true; key: Uint8Array } | { ok: false; reason: string } | undefined {
  const lines = text
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean);
  const auth = lines.map((l) => /^auth\s+(\d+)$/.exec(l)).find(Boolean);
  if (!auth) return undefined;
  const entry = lines.map((l) => /^(\d+)\s+(\S+)(?:\s+(\S.*))?$/.exec(l)).find((m) => m?.[1] === auth[1]);
  if (!entry) return { ok: false, reason: `authkeys: "auth ${auth[1]}" names no key line ${auth[1]}` };
  if (entry[2] === 'crc' || entry[3] === undefined)
    return { ok: false, reason: `authkeys: key ${auth[1]} (${entry[2]}) carries no secret; use sha1 with a secret` };
  return { ok: true, key: new Uint8Array(createHash('sha256').update(entry[3]).digest()) };
}
