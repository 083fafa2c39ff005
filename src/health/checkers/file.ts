/**
 * FILE_CHECK: the number in a track file decides, read through the same parser as the VRRP track files (leading
 * blanks, a sign, decimal, 0x hex or 0 octal; a missing, unreadable or unparsable file is 0, as keepalived).
 * With weight 0 any value but 0 is a fault (FILEERR). Otherwise the value times the weight — negated by `reverse` —
 * is the server's weight change: at or below −254 it is a fault; else the check passes (FILEOK) with the server's
 * weight set to its configured weight plus the change, never below 0 (the scheduler applies it as it does a
 * misc_dynamic weight).
 * @see keepalived check_file.c, track_file.c process_update_checker_track_file_status; keepalived.conf(5) FILE_CHECK
 */
import { performance } from 'node:perf_hooks';
import { readTrackFile } from '../../os/track-file.ts';
import type { CheckResult, FileProbe } from '../types.ts';

/** keepalived's IPVS_WEIGHT_FAULT: a weight change at or below this takes the server down. */
export const FILE_WEIGHT_FAULT = -254;

/** What a value in the file means for a server checked with `spec`. Pure. */
export function judgeFileValue(
  value: number,
  spec: Pick<FileProbe, 'weight' | 'reverse' | 'baseWeight' | 'path'>,
): Omit<CheckResult, 'durationMs'> {
  if (spec.weight === 0) {
    return value === 0
      ? { code: 'FILEOK', detail: `${spec.path}: 0` }
      : { code: 'FILEERR', detail: `${spec.path}: ${value} (weight 0: any value but 0 is a fault)` };
  }
  const change = value * spec.weight * (spec.reverse ? -1 : 1);
  if (change <= FILE_WEIGHT_FAULT)
    return { code: 'FILEERR', detail: `${spec.path}: ${value}, weight change ${change} (≤ ${FILE_WEIGHT_FAULT})` };
  const weight = Math.max(0, spec.baseWeight + change);
  return { code: 'FILEOK', detail: `${spec.path}: ${value}, weight ${weight}`, weight };
}

/**
 * Runs one file check. Never rejects.
 * @example await runFileCheck({ kind: 'file', path: '/run/lb/web1', weight: 0, reverse: false, baseWeight: 1 }, signal)
 */
export async function runFileCheck(spec: FileProbe, signal: AbortSignal): Promise<CheckResult> {
  const started = performance.now();
  if (signal.aborted) return { code: 'FILEERR', detail: 'aborted', durationMs: 0 };
  let value: number;
  try {
    value = (await readTrackFile(spec.path)) ?? 0;
  } catch {
    value = 0;
  }
  return { ...judgeFileValue(value, spec), durationMs: Math.round(performance.now() - started) };
}
