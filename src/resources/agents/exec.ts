/**
 * Runs one agent command and turns how it ended into an AgentResult: the exit status through the caller's mapping,
 * and the ways a process can fail to give one (timeout, abort, not startable) into their own codes.
 */
import type { Ms } from '../../core/time.ts';
import { type AgentResult, type AgentResultCode, boundOutput } from '../types.ts';
import type { CommandResult, CommandRunner } from './deps.ts';

/** Output bytes kept per stream; the result keeps at most MAX_OUTPUT_CHARS of both. */
const KEEP_BYTES = 16_384;

/** A finished command: its exit status (null when none) and the result. */
export interface Executed {
  exit: number | null;
  result: AgentResult;
  /** stdout alone (status text, meta-data). */
  stdout: string;
}

/** Both streams, for the log. */
export function outputOf(r: Pick<CommandResult, 'stdout' | 'stderr'>): string {
  const parts = [r.stdout.trim(), r.stderr.trim()].filter((x) => x.length > 0);
  return boundOutput(parts.join('\n'));
}

/**
 * Runs `argv` and maps it: exit status → `mapExit`; killed at the deadline → `timeout`; aborted → `cancelled`;
 * not found → `not-installed`; not executable → `insufficient-privileges`; other spawn errors and deaths by a
 * signal → `generic-error`.
 * @example const { result } = await execute(run, ['/etc/init.d/nginx', 'start'], { timeoutMs, signal }, ocfResultOf)
 */
export async function execute(
  run: CommandRunner,
  argv: readonly string[] | string,
  opts: { timeoutMs: Ms; signal: AbortSignal; env?: Record<string, string | undefined> },
  mapExit: (exit: number, stdout: string) => AgentResultCode,
): Promise<Executed> {
  const r = await run(argv, {
    timeoutMs: Math.max(1, opts.timeoutMs),
    signal: opts.signal,
    maxOutputBytes: KEEP_BYTES,
    ...(opts.env ? { env: opts.env } : {}),
  });
  const output = outputOf(r);
  const base = { durationMs: r.durationMs, ...(output ? { output } : {}) };
  switch (r.outcome) {
    case 'ok':
    case 'failed': {
      if (r.code === null)
        return {
          exit: null,
          stdout: r.stdout,
          result: { ...base, code: 'generic-error', exitCode: null, detail: `killed by ${r.signal ?? 'a signal'}` },
        };
      const code = mapExit(r.code, r.stdout);
      return {
        exit: r.code,
        stdout: r.stdout,
        result: { ...base, code, exitCode: r.code, ...(r.code !== 0 ? { detail: `exit ${r.code}` } : {}) },
      };
    }
    case 'timeout':
      return {
        exit: null,
        stdout: r.stdout,
        result: { ...base, code: 'timeout', detail: `killed after ${opts.timeoutMs} ms` },
      };
    case 'aborted':
      return { exit: null, stdout: r.stdout, result: { ...base, code: 'cancelled', detail: 'aborted' } };
    case 'spawn-error': {
      const err = r.error ?? 'cannot start';
      const code: AgentResultCode = /ENOENT/.test(err)
        ? 'not-installed'
        : /EACCES|EPERM/.test(err)
          ? 'insufficient-privileges'
          : 'generic-error';
      return { exit: null, stdout: '', result: { ...base, code, detail: err } };
    }
  }
}

/** What is left of a time budget after a step that took `usedMs`, never below 1 ms. */
export function remaining(budgetMs: Ms, usedMs: Ms): Ms {
  return Math.max(1, budgetMs - usedMs);
}
