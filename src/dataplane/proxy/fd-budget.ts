/**
 * How many sockets the proxy may hold at once, for the whole process: the soft RLIMIT_NOFILE (read from
 * /proc/self/limits; Node raises the soft limit to the hard one at start) minus a reserve for everything else the
 * daemon needs a file descriptor for (its control socket, logs, VRRP sockets, health checks and their pipes, nft).
 * Each client connection takes two units (its own socket and the one server connection it may use at a time), each
 * idle pooled server connection one. A connection that would overdraw the budget is refused at once, so that slow
 * clients can exhaust neither the process (EMFILE on the control socket) nor, with `max_connections`, the other
 * services. HAProxy sizes its global `maxconn` from `ulimit -n` the same way.
 */
import { readFileSync } from 'node:fs';

/**
 * File descriptors kept out of the proxy's budget at least: 64 concurrent health checks with a socket and three
 * pipes each, plus the daemon's own (control socket, logs, VRRP, libuv).
 */
export const FD_RESERVE_MIN = 320;

/** Units a client connection takes: its socket and one server connection. */
export const CLIENT_UNITS = 2;

/**
 * The soft "Max open files" limit from the text of /proc/self/limits, or null when the line is missing or unlimited.
 * @example parseNofileLimit('Max open files            1024                 524288               files') // 1024
 */
export function parseNofileLimit(text: string): number | null {
  const m = /^Max open files\s+(\S+)\s+\S+/m.exec(text);
  if (!m || m[1] === 'unlimited') return null;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

/**
 * The proxy's share of `limit` file descriptors: the limit minus the reserve (10 % of it, at least
 * {@link FD_RESERVE_MIN}).
 * @example budgetUnits(1024) // 704
 */
export function budgetUnits(limit: number): number {
  return Math.max(0, limit - Math.max(FD_RESERVE_MIN, Math.ceil(limit / 10)));
}

/** A count of socket units against a fixed budget. */
export class FdBudget {
  /** Units held now. */
  used = 0;

  constructor(
    /** Units available in all. */
    readonly units: number,
    /** The file descriptor limit the budget came from (for messages). */
    readonly nofile: number,
  ) {}

  /** Takes `n` units if they are free; false = the budget is spent (refuse the connection). */
  tryAcquire(n: number): boolean {
    if (this.used + n > this.units) return false;
    this.used += n;
    return true;
  }

  /** Gives back `n` units. */
  release(n: number): void {
    this.used = Math.max(0, this.used - n);
  }

  /** Client connections the whole budget holds. */
  get connections(): number {
    return Math.floor(this.units / CLIENT_UNITS);
  }
}

/** Used when /proc/self/limits cannot be read: the usual soft limit. */
const FALLBACK_NOFILE = 1024;

let shared: FdBudget | null = null;

/** The budget of this process, shared by every proxy data plane in it (read once). */
export function processFdBudget(): FdBudget {
  if (!shared) {
    let limit: number | null = null;
    try {
      limit = parseNofileLimit(readFileSync('/proc/self/limits', 'utf8'));
    } catch {
      limit = null;
    }
    const nofile = limit ?? FALLBACK_NOFILE;
    shared = new FdBudget(budgetUnits(nofile), nofile);
  }
  return shared;
}
