/**
 * The audit log: one JSON line per action (time, who, via, from, action, target, result, detail), appended to a file
 * created 0600 and never followed through a symlink, and published on the event stream as an `audit` event. A write
 * that fails is reported through `onError` and never fails the action itself (the event stream still carries it).
 */
import { closeSync, constants, fstatSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { TandemError } from '../../core/errors.ts';
import type { AuditResult, Principal } from '../http-plugin.ts';
import type { EventHub } from './events.ts';

/** One audit line. */
export interface AuditLine {
  time: string;
  who: string;
  role: Principal['role'];
  via: Principal['via'];
  from: string;
  action: string;
  target: string;
  result: AuditResult;
  detail?: string;
}

/** Writes audit lines. */
export class AuditLog {
  #fd: number | undefined;
  readonly #path: string | null;
  readonly #hub: EventHub | undefined;
  readonly #now: () => number;
  readonly #onError: (message: string) => void;

  /** Opens (creates 0600) `path` for appending; `null` = no file (tests, or the event stream only). */
  constructor(
    path: string | null,
    opts: { hub?: EventHub; now?: () => number; onError?: (message: string) => void } = {},
  ) {
    this.#hub = opts.hub;
    this.#now = opts.now ?? Date.now;
    this.#onError = opts.onError ?? (() => {});
    this.#path = path;
    if (path === null) return;
    this.#fd = openAudit(path);
  }

  /** Opens the file anew (after logrotate moved it: SIGHUP); a failure keeps the old one and is reported. */
  reopen(): void {
    if (this.#path === null) return;
    try {
      const fd = openAudit(this.#path);
      if (this.#fd !== undefined) closeSync(this.#fd);
      this.#fd = fd;
    } catch (e) {
      this.#onError((e as Error).message);
    }
  }

  write(who: Principal, action: string, target: string, result: AuditResult, detail?: string): AuditLine {
    const line: AuditLine = {
      time: new Date(this.#now()).toISOString(),
      who: who.name,
      role: who.role,
      via: who.via,
      from: who.from,
      action,
      target,
      result,
      ...(detail !== undefined ? { detail: detail.slice(0, 2000) } : {}),
    };
    if (this.#fd !== undefined) {
      try {
        writeSync(this.#fd, `${JSON.stringify(line)}\n`);
      } catch (e) {
        this.#onError(`audit log write failed: ${(e as Error).message}`);
      }
    }
    this.#hub?.publish({ type: 'audit', ...line });
    return line;
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}

/** Opens (creates 0600) the audit log for appending; refuses a symlink, a non-file, or a file others may read. */
function openAudit(path: string): number {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const fd = openSync(
      path,
      constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
      0o600,
    );
    const st = fstatSync(fd);
    if (!st.isFile() || (st.mode & 0o077) !== 0) {
      closeSync(fd);
      throw new Error(
        st.isFile()
          ? `it is mode ${(st.mode & 0o777).toString(8)}; the audit log must be 0600 (chmod 600 ${path})`
          : 'it is not a regular file',
      );
    }
    return fd;
  } catch (e) {
    throw new TandemError('TND_API_LISTEN', `cannot open the audit log ${path}: ${(e as Error).message}`);
  }
}
