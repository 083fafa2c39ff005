/**
 * keepalived's `vrrp_script` as a health target: the same periodic probe with one rise/fall counter that checks real
 * servers (scheduler.ts), with vrrp_script's rules — exit 0 passes, anything else (non-zero exit, killed, timed out,
 * could not start) fails; no retries; `init_fail` starts DOWN; a run still going at the next tick makes that tick
 * skipped ("expect idle - skipping run"); first runs spread over the interval by a hash of the name. One
 * implementation of periodic probes, two users. The daemon runs it in the script worker thread (os/script-host.ts),
 * so process starts never delay adverts.
 * @see keepalived.conf(5) vrrp_script; keepalived vrrp_track.c
 */
import type { Ms } from '../core/time.ts';
import type { HealthTarget } from './scheduler.ts';

/** A vrrp_script as the daemon runs it (keepalived keywords in brackets). */
export interface VrrpScriptSpec {
  /** Command line (split without a shell) or argv [script]. */
  command: string | readonly string[];
  /** Time between run starts [interval]; at least 10 ms. */
  intervalMs: Ms;
  /** Kill a run after this long; a timeout fails [timeout]. @default intervalMs */
  timeoutMs?: Ms;
  /** Passes needed to go UP [rise]. */
  rise: number;
  /** Failures needed to go DOWN [fall]. */
  fall: number;
  /** Start DOWN, needing `rise` passes, instead of unknown [init_fail]. */
  initFail: boolean;
  /** Run as this user and group (resolved from the script's `user` by the daemon). */
  uid?: number;
  gid?: number;
}

/** The smallest interval: a zero interval must not turn the loop into a busy spin. */
export const MIN_SCRIPT_INTERVAL_MS = 10;

/** The longest first-run spread: a slow interval must not postpone the first verdict by as much. */
const MAX_SPREAD_MS = 1_000;

/**
 * A stable offset in [0, intervalMs) for `id` (FNV-1a): 200 scripts with one interval would otherwise start 200
 * processes in the same millisecond, every interval, and each start forks the whole process (measured: 60 ms advert
 * stalls in bench/failover's jitter run).
 */
export function spreadMs(id: string, intervalMs: Ms): Ms {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193) >>> 0;
  return intervalMs > 0 ? h % intervalMs : 0;
}

/**
 * The health target of vrrp_script `id`.
 * @example scheduler.add(vrrpScriptTarget('chk_nginx', { command: 'pidof nginx', intervalMs: 2_000, rise: 2, fall: 2, initFail: false }))
 */
export function vrrpScriptTarget(id: string, spec: VrrpScriptSpec): HealthTarget {
  const intervalMs = Math.max(MIN_SCRIPT_INTERVAL_MS, spec.intervalMs);
  return {
    id,
    check: {
      kind: 'script',
      command: spec.command,
      timeoutMs: spec.timeoutMs ?? intervalMs,
      dynamic: false,
      ...(spec.uid !== undefined ? { uid: spec.uid } : {}),
      ...(spec.gid !== undefined ? { gid: spec.gid } : {}),
      intervalMs,
      rise: Math.max(1, spec.rise),
      fall: Math.max(1, spec.fall),
      retries: 0,
      delayBeforeRetryMs: 0,
      warmupMs: 0,
      alpha: spec.initFail,
    },
    firstDelayMs: spreadMs(id, Math.min(intervalMs, MAX_SPREAD_MS)),
  };
}
