/**
 * The daemon's log: plain lines an operator of keepalived recognises (`(VI_1) Entering MASTER STATE`), or JSON lines
 * with the same fields. A tiny writer instead of pino for now: the daemon logs a few lines per transition, and the
 * plain format must match keepalived's wording, which a structured logger's pretty-printer would not give.
 */

import type { Logger, LogLevel } from '../core/log.ts';
import { printable } from '../core/text.ts';

export type { Logger, LogLevel } from '../core/log.ts';
export { memoryLogger } from '../core/log.ts';

/** Output format of the daemon's log. */
export type LogFormat = 'plain' | 'json';

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };
/** syslog priorities (sd-daemon(3) `<N>` prefixes). */
const SYSLOG: Record<LogLevel, number> = { error: 3, warn: 4, info: 6, debug: 7 };

/**
 * A logger writing one line per record to `write`.
 * @example const log = lineLogger({ format: 'plain', write: (l) => process.stderr.write(l) })
 */
export function lineLogger(opts: {
  format: LogFormat;
  write: (line: string) => void;
  /** @default 'info' */
  level?: LogLevel;
  /** Wall-clock time for the timestamp. @default Date.now */
  now?: () => number;
  /** @default 'tandem' */
  name?: string;
  /**
   * stderr is the journal (JOURNAL_STREAM): plain lines start with the syslog priority `<3>` error, `<4>` warn,
   * `<6>` info, `<7>` debug, and carry no timestamp or name (journald records both). @default false
   */
  journal?: boolean;
}): Logger {
  const max = RANK[opts.level ?? 'info'];
  const now = opts.now ?? Date.now;
  const name = `${opts.name ?? 'tandem'}[${process.pid}]`;
  return {
    log(level, msg, fields = {}) {
      if (RANK[level] > max) return;
      const time = new Date(now()).toISOString();
      if (opts.format === 'json') {
        opts.write(`${JSON.stringify({ time, level, pid: process.pid, msg, ...fields })}\n`);
        return;
      }
      const tag = level === 'info' ? '' : ` ${level.toUpperCase()}:`;
      if (opts.journal) {
        opts.write(`<${SYSLOG[level]}>${tag.trimStart()}${tag ? ' ' : ''}${printable(msg)}\n`);
        return;
      }
      // One record, one line: names from config files and peers cannot forge lines or drive a terminal.
      opts.write(`${time} ${name}:${tag} ${printable(msg)}\n`);
    },
  };
}
