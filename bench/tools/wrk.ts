/**
 * wrk (Debian's wrk 4.1) for bench/lb: the command line for one measurement and a parser for its report. Pure.
 * @see https://github.com/wg/wrk (src/wrk.c print_stats_latency, the "Socket errors" and "Non-2xx" lines)
 */

/** How the client uses connections: wrk's default keep-alive, or a new connection per request. */
export type ConnMode = 'keep-alive' | 'new-conn';

/** Options of one wrk run. */
export interface WrkOptions {
  url: string;
  mode: ConnMode;
  /** Open connections. @default 32 */
  connections?: number;
  /** wrk threads. @default 1 */
  threads?: number;
  /** Run time in whole seconds. */
  durationS: number;
  /** A request with no answer this long counts as a timeout error. @default 2 */
  timeoutS?: number;
}

/**
 * wrk's arguments for one run, latency distribution on. A new connection per request is `Connection: close`: the
 * server closes after its answer and wrk reconnects.
 * @example wrkArgs({ url: 'http://198.18.200.1/', mode: 'new-conn', durationS: 10 })
 *   // ['-t1', '-c32', '-d10s', '--timeout', '2s', '--latency', '-H', 'Connection: close', 'http://198.18.200.1/']
 */
export function wrkArgs(o: WrkOptions): string[] {
  const args = [
    `-t${o.threads ?? 1}`,
    `-c${o.connections ?? 32}`,
    `-d${o.durationS}s`,
    '--timeout',
    `${o.timeoutS ?? 2}s`,
    '--latency',
  ];
  if (o.mode === 'new-conn') args.push('-H', 'Connection: close');
  args.push(o.url);
  return args;
}

/** Errors wrk counted during a run. */
export interface WrkErrors {
  connect: number;
  read: number;
  write: number;
  timeout: number;
  /** Responses with a status other than 2xx/3xx. */
  status: number;
}

/** What bench/lb takes from one wrk report. */
export interface WrkResult {
  requests: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: WrkErrors;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function durationMs(value: string, unit: string): number {
  const f = UNIT_MS[unit];
  if (f === undefined) throw new Error(`wrk: unknown time unit ${JSON.stringify(unit)}`);
  return Number(value) * f;
}

/**
 * Parses wrk's report (`--latency` on). Returns `{ ok: false, reason }` when a figure is missing (wrk failed to
 * connect at all, say), never throws on odd input.
 */
export function parseWrk(text: string): { ok: true; result: WrkResult } | { ok: false; reason: string } {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(text);
  const total = /^\s*(\d+) requests in /m.exec(text);
  const p50 = /^\s+50(?:\.000)?%\s+([\d.]+)(us|ms|s|m|h)\s*$/m.exec(text);
  const p99 = /^\s+99(?:\.000)?%\s+([\d.]+)(us|ms|s|m|h)\s*$/m.exec(text);
  if (!rps || !total) return { ok: false, reason: 'no "Requests/sec" or "requests in" line' };
  if (!p50 || !p99) return { ok: false, reason: 'no latency distribution (was --latency given?)' };
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  try {
    return {
      ok: true,
      result: {
        requests: Number(total[1]),
        reqPerSec: Number(rps[1]),
        p50Ms: durationMs(p50[1]!, p50[2]!),
        p99Ms: durationMs(p99[1]!, p99[2]!),
        errors: {
          connect: Number(sock?.[1] ?? 0),
          read: Number(sock?.[2] ?? 0),
          write: Number(sock?.[3] ?? 0),
          timeout: Number(sock?.[4] ?? 0),
          status: Number(non2xx?.[1] ?? 0),
        },
      },
    };
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
}

/** All of a run's errors as one number. */
export function errorCount(e: WrkErrors): number {
  return e.connect + e.read + e.write + e.timeout + e.status;
}
