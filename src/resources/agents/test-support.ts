/** A fake command runner and host for agent tests: records every command, answers from a script. Test code only. */
import type { AgentDeps, CommandResult, CommandRunner } from './deps.ts';

/** One recorded command. */
export interface RecordedCommand {
  argv: readonly string[] | string;
  env: Record<string, string | undefined> | undefined;
  timeoutMs: number;
}

/** What the fake returns for a command: an exit code and output, or another outcome. */
export type FakeReply =
  | { exit: number; stdout?: string; stderr?: string }
  | { outcome: 'timeout' | 'aborted' }
  | { spawnError: string };

/**
 * A CommandRunner that answers from `reply` and records calls.
 * @example const f = fakeRunner((argv) => ({ exit: 0 })); await f.run(['x'], { timeoutMs: 1, signal })
 */
export function fakeRunner(reply: (argv: readonly string[], env: Record<string, string | undefined>) => FakeReply) {
  const calls: RecordedCommand[] = [];
  const run: CommandRunner = async (command, opts) => {
    calls.push({ argv: command, env: opts.env, timeoutMs: opts.timeoutMs });
    const argv = typeof command === 'string' ? command.split(/\s+/).filter(Boolean) : command;
    const r = reply(argv, opts.env ?? {});
    const base: CommandResult = {
      outcome: 'ok',
      code: 0,
      signal: null,
      stdout: '',
      stderr: '',
      truncated: false,
      durationMs: 3,
    };
    if ('spawnError' in r) return { ...base, outcome: 'spawn-error', code: null, error: r.spawnError };
    if ('outcome' in r) return { ...base, outcome: r.outcome, code: null, signal: 'SIGTERM' };
    return {
      ...base,
      outcome: r.exit === 0 ? 'ok' : 'failed',
      code: r.exit,
      stdout: r.stdout ?? '',
      stderr: r.stderr ?? '',
    };
  };
  /** The argv of every call, joined with spaces. */
  const lines = (): string[] => calls.map((c) => (typeof c.argv === 'string' ? c.argv : c.argv.join(' ')));
  return { run, calls, lines };
}

/** Agent deps over a fake runner; `files` exist, systemd as told. */
export function fakeDeps(
  run: CommandRunner,
  opts: { files?: readonly string[]; systemd?: boolean } & Partial<Omit<AgentDeps, 'systemd'>> = {},
): AgentDeps {
  const { files = [], systemd = false, ...rest } = opts;
  const present = new Set(files);
  return {
    exists: (p) => present.has(p),
    systemd: () => systemd,
    env: { PATH: '/usr/bin:/bin' },
    ...rest,
    run,
  };
}

/** A signal that never fires. */
export const NEVER = new AbortController().signal;
