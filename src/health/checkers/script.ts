/**
 * MISC_CHECK: runs a command in a process group of its own (killed whole at the timeout). Exit 0 → PROCOK; any other
 * exit, a signal, or a command that cannot start → PROCERR; no exit within `timeoutMs` → PROCTOUT. With
 * `misc_dynamic`, exit 1 fails and 2..255 pass with weight code − 2.
 * @see keepalived.conf(5) MISC_CHECK misc_dynamic; keepalived check_misc.c misc_check_child_thread
 */
import { type CommandRunner, type RunResult, runCommand } from '../../os/process.ts';
import type { CheckResult, ScriptProbe } from '../types.ts';

/** How much of the command's output a detail line quotes. @default 120 */
export const SCRIPT_DETAIL_CHARS = 120;

/**
 * Runs one script check. Never rejects; an abort kills the command and resolves with detail "aborted".
 * @example await runScriptCheck({ kind: 'script', command: '/usr/local/bin/check_db', timeoutMs: 5_000, dynamic: false }, signal)
 */
export async function runScriptCheck(
  spec: ScriptProbe,
  signal: AbortSignal,
  run: CommandRunner = runCommand,
): Promise<CheckResult> {
  if (spec.refuse !== undefined) return { code: 'PROCERR', detail: spec.refuse, durationMs: 0 };
  const r = await run(spec.command, {
    timeoutMs: spec.timeoutMs,
    signal,
    ...(spec.env ? { env: { ...spec.env } } : {}),
    ...(spec.uid !== undefined ? { uid: spec.uid } : {}),
    ...(spec.gid !== undefined ? { gid: spec.gid } : {}),
  });
  const durationMs = r.durationMs;
  const result = (x: CheckResult): CheckResult => ({ ...x, process: { outcome: r.outcome, exitCode: r.code } });
  switch (r.outcome) {
    case 'ok':
      return result({ code: 'PROCOK', detail: 'exit 0', durationMs });
    case 'timeout':
      return result({ code: 'PROCTOUT', detail: `no exit within ${spec.timeoutMs} ms, killed`, durationMs });
    case 'aborted':
      return result({ code: 'PROCERR', detail: 'aborted', durationMs });
    case 'spawn-error':
      return result({ code: 'PROCERR', detail: `cannot start: ${r.error ?? 'unknown error'}`, durationMs });
    case 'failed':
      return result(failedRun(spec, r, durationMs));
  }
}

/** A non-zero exit or a death by signal. */
function failedRun(spec: ScriptProbe, r: RunResult, durationMs: number): CheckResult {
  if (r.code === null) return { code: 'PROCERR', detail: `killed by ${r.signal ?? 'a signal'}${said(r)}`, durationMs };
  // keepalived: "exit status 2-255: svc check success, then the RS weight is set to exit status - 2".
  if (spec.dynamic && r.code >= 2 && r.code <= 255) {
    return { code: 'PROCOK', detail: `exit ${r.code}, weight ${r.code - 2}`, durationMs, weight: r.code - 2 };
  }
  return { code: 'PROCERR', detail: `exit ${r.code}${said(r)}`, durationMs };
}

/** ": first line of stderr (or stdout)", cut to SCRIPT_DETAIL_CHARS, or nothing. */
function said(r: RunResult): string {
  const line = (r.stderr.trim() || r.stdout.trim()).split('\n', 1)[0]?.trim() ?? '';
  if (!line) return '';
  return `: ${line.length > SCRIPT_DETAIL_CHARS ? `${line.slice(0, SCRIPT_DETAIL_CHARS)}…` : line}`;
}
