/**
 * Reading the cluster key and auth_hmac key files (docs/split-brain.md): `hex:…` or text, 32..64 bytes, owned by the
 * daemon's user and not readable by group or others (heartbeat refuses a readable authkeys; a readable key lets any
 * local user forge adverts and peer channel answers). The key never reaches a log line.
 */
import { readFileSync, statSync } from 'node:fs';
import { parseHmacKey } from '../vrrp/codec-hmac.ts';

/** A key, or why the file cannot be one. */
export type KeyFileResult = { ok: true; key: Uint8Array } | { ok: false; reason: string };

/**
 * Reads and checks a key file.
 * @example const k = readKeyFile('/etc/tandem/cluster.key'); if (!k.ok) refuse(k.reason)
 */
export function readKeyFile(path: string): KeyFileResult {
  let mode: number;
  let text: string;
  try {
    mode = statSync(path).mode & 0o777;
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return { ok: false, reason: `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
  }
  if (mode & 0o077)
    return {
      ok: false,
      reason: `${path} is mode ${mode.toString(8).padStart(4, '0')}: a key file must not be readable by group or others (chmod 600)`,
    };
  const k = parseHmacKey(text);
  return k.ok ? k : { ok: false, reason: `${path}: ${k.reason}` };
}
