/**
 * A process's memory and CPU time from /proc, for bench/lb-scale. The parsers are pure; `readProc` reads the files.
 * @see proc(5): /proc/pid/stat fields 14 utime and 15 stime (clock ticks, all threads), /proc/pid/status VmRSS, VmHWM
 */
import { readFileSync } from 'node:fs';

/** One reading of a process. */
export interface ProcSample {
  /** User + system CPU time of all its threads, in clock ticks. */
  cpuTicks: number;
  /** Resident set size, bytes. */
  rssBytes: number;
  /** Peak resident set size so far, bytes. */
  hwmBytes: number;
}

/**
 * utime + stime from the text of /proc/PID/stat. The command name (field 2) may hold spaces and parentheses, so the
 * fields are counted from its last `)`.
 */
export function parseStatCpuTicks(stat: string): number {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state): utime is field 14, stime field 15.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`not a /proc/PID/stat line: ${stat}`);
  return utime + stime;
}

/** A `kB` field (VmRSS, VmHWM) of /proc/PID/status, in bytes. */
export function parseStatusKb(status: string, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  if (!m) throw new Error(`no ${field} in /proc/PID/status`);
  return Number(m[1]) * 1024;
}

/** Reads a live process. Throws if it is gone. */
export function readProc(pid: number): ProcSample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return {
    cpuTicks: parseStatCpuTicks(readFileSync(`/proc/${pid}/stat`, 'utf8')),
    rssBytes: parseStatusKb(status, 'VmRSS'),
    hwmBytes: parseStatusKb(status, 'VmHWM'),
  };
}
