/**
 * The running config's identity: `sha256:` and the hex digest of the config file's bytes, as read when it was loaded.
 * `DaemonStatus.configHash`, `tandem_config_info{hash}` and `tandem nagios config` use it (so does the cluster part).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** The hash of some bytes. */
export function configHashOf(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** The hash of a file's bytes now, or `sha256:unreadable` when it cannot be read (the load reports why). */
export function configFileHash(file: string): string {
  try {
    return configHashOf(readFileSync(file));
  } catch {
    return 'sha256:unreadable';
  }
}
