/**
 * One daemon per control socket. keepalived refuses a second copy by its pid file; tandem takes an flock on
 * `<control>.lock` (the native addon's `lock`), which the kernel releases when the holder dies however it dies, so a
 * SIGKILLed daemon never blocks the next start and a recycled PID never passes for a live daemon. The holder's PID is
 * written into the file so that a refused start can name it.
 */
import { closeSync, constants, fstatSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { nativeAddon } from './native.ts';

/** The lock that guards a control socket path. */
export const lockPathOf = (control: string): string => `${control}.lock`;

/** A held lock; `release` closes it (the file stays: removing it would race with a starting daemon). */
export interface DaemonLock {
  readonly path: string;
  release(): void;
}

/** Why the lock could not be taken. */
export type LockRefusal =
  | { reason: 'held'; path: string; pid: number | null }
  | { reason: 'unusable'; path: string; message: string };

/**
 * Takes the lock for `control` without waiting: the lock, or who holds it.
 * @example const l = acquireDaemonLock('/run/tandem/tandem.sock'); if ('reason' in l) refuse(l.pid);
 */
export function acquireDaemonLock(control: string): DaemonLock | LockRefusal {
  const path = lockPathOf(control);
  let fd: number;
  try {
    // O_NOFOLLOW: a symlink planted at the lock path must not make root truncate its target.
    // (libuv opens every file O_CLOEXEC: a forked child does not inherit the lock.)
    fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  } catch (e) {
    return { reason: 'unusable', path, message: (e as Error).message };
  }
  try {
    if (!fstatSync(fd).isFile()) {
      closeSync(fd);
      return { reason: 'unusable', path, message: 'not a regular file' };
    }
    if (!nativeAddon().lock(fd)) {
      closeSync(fd);
      return { reason: 'held', path, pid: readPid(path) };
    }
    ftruncateSync(fd, 0);
    writeSync(fd, `${process.pid}\n`, 0);
  } catch (e) {
    closeSync(fd);
    return { reason: 'unusable', path, message: (e as Error).message };
  }
  let open = true;
  return {
    path,
    release() {
      if (!open) return;
      open = false;
      closeSync(fd);
    },
  };
}

function readPid(path: string): number | null {
  try {
    const n = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}
