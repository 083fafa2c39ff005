/**
 * Writing files that may hold secrets (an imported config with `auth_pass`, user and token stores, keys): created
 * 0600 with O_EXCL and O_NOFOLLOW under a temporary name in the target's directory, flushed, then renamed over the
 * target. Nobody can read the secret between create and chmod (there is no chmod), a symlink planted at the target is
 * refused instead of followed, and a crash leaves the old file or the new one, never half of one.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fsyncSync, lstatSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { TandemError } from '../core/errors.ts';

/** The mode of every file {@link writeSecretFile} creates. */
export const SECRET_MODE = 0o600;

/**
 * Replaces `path` with `text`, mode 0600. Throws a TandemError (TND_CLI_OUTPUT) naming the path and the reason when
 * the target is a symlink or a directory, or the directory cannot be written.
 * @example writeSecretFile('/etc/tandem/tandem.yaml', yaml)
 */
export function writeSecretFile(path: string, text: string | Uint8Array): void {
  let existing: ReturnType<typeof lstatSync> | undefined;
  try {
    existing = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw refuse(path, (e as Error).message);
  }
  if (existing?.isSymbolicLink()) throw refuse(path, 'it is a symbolic link; tandem does not write through links');
  if (existing && !existing.isFile()) throw refuse(path, 'it exists and is not a regular file');
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, SECRET_MODE);
  } catch (e) {
    throw refuse(path, (e as Error).message);
  }
  try {
    const bytes = typeof text === 'string' ? Buffer.from(text) : text;
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    rmSync(tmp, { force: true });
    throw refuse(path, (e as Error).message);
  }
}

function refuse(path: string, why: string): TandemError {
  return new TandemError('TND_CLI_OUTPUT', `cannot write ${path}: ${why}`);
}
