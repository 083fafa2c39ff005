/**
 * Runs external commands (vrrp_script checks, notify scripts, `ip`) with a deadline and an AbortSignal (Rule 10).
 * A command runs in a process group of its own, so a timeout or an abort kills everything it started, the way
 * keepalived does (`kill(-pid, SIGTERM)`, then SIGKILL). Expected outcomes are return values: `runCommand` never
 * rejects.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

/**
 * How a command ended: a closed set that flows unchanged to logs and events (Rule 5).
 * `ok` exit 0 · `failed` non-zero exit or killed by a signal we did not send · `timeout` we killed it at the deadline ·
 * `aborted` we killed it (or never started it) because the signal fired · `spawn-error` it could not be started.
 */
export type RunOutcome = 'ok' | 'failed' | 'timeout' | 'aborted' | 'spawn-error';

/** Every RunOutcome value, in a fixed order (for counters and tests). */
export const RUN_OUTCOMES: readonly RunOutcome[] = ['ok', 'failed', 'timeout', 'aborted', 'spawn-error'];

/** The result of one command run. */
export interface RunResult {
  outcome: RunOutcome;
  /** Exit code, or null when it was killed by a signal or never started. */
  code: number | null;
  /** The signal that ended the group leader, or null. */
  signal: NodeJS.Signals | null;
  /** Captured output, each at most `maxOutputBytes` (decoded as UTF-8). */
  stdout: string;
  stderr: string;
  /** True when stdout or stderr was cut at `maxOutputBytes`. */
  truncated: boolean;
  /** From the call to the end of the run. */
  durationMs: number;
  /** The leader's process id (= its process group id), when it started. */
  pid?: number;
  /** Why it could not be started (`spawn-error`), e.g. `ENOENT` or an unterminated quote. */
  error?: string;
}

/** Options of `runCommand`. */
export interface RunOptions {
  /** Kill the process group after this long. */
  timeoutMs: number;
  /** Kill the process group when this fires (daemon shutdown, tracker removed on reload). */
  signal: AbortSignal;
  /** Environment. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Run as this user id (keepalived `user`); needs privileges. */
  uid?: number;
  /** Run with this group id. */
  gid?: number;
  /** Working directory. @default the daemon's */
  cwd?: string;
  /** Bytes kept of each of stdout and stderr; the rest is read and discarded so the child never blocks. @default 65536 */
  maxOutputBytes?: number;
  /** Time between SIGTERM and SIGKILL to the group on timeout or abort. @default 2000 */
  killGraceMs?: number;
  /** Written to the command's stdin, which is then closed (fence agents read their options there). @default none */
  input?: string;
}

/** A function with runCommand's contract; track-script and notify take one so tests can inject a fake. */
export type CommandRunner = (command: readonly string[] | string, opts: RunOptions) => Promise<RunResult>;

/** Why a command line could not be split. */
export type SplitFailure = 'empty' | 'unterminated-quote';

/**
 * Splits a command line from a config into argv without a shell, like keepalived does for `script "cmd args"`:
 * words are separated by blanks; `'…'` quotes literally; `"…"` quotes with `\"` and `\\` escapes; outside quotes a
 * backslash takes the next character literally; quoted and unquoted text next to each other form one word
 * (`a"b c"` → `ab c`); `""` is an empty argument. No variables, globs or redirections.
 * @example splitCommandLine(`/usr/bin/check --name "web 1"`) // { ok: true, argv: ['/usr/bin/check', '--name', 'web 1'] }
 */
export function splitCommandLine(line: string): { ok: true; argv: string[] } | { ok: false; reason: SplitFailure } {
  const argv: string[] = [];
  let word = '';
  // A word exists once any of its characters (or an empty quote pair) has been seen.
  let inWord = false;
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) argv.push(word);
      word = '';
      inWord = false;
      i++;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) return { ok: false, reason: 'unterminated-quote' };
      word += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i++;
      let closed = false;
      while (i < line.length) {
        const d = line[i]!;
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) {
          word += line[i + 1];
          i += 2;
        } else {
          word += d;
          i++;
        }
      }
      if (!closed) return { ok: false, reason: 'unterminated-quote' };
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[i + 1];
      inWord = true;
      i += 2;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) argv.push(word);
  return argv.length === 0 ? { ok: false, reason: 'empty' } : { ok: true, argv };
}

/** Keeps the first `max` bytes of a stream and counts the rest. */
class Capture {
  readonly #chunks: Buffer[] = [];
  #kept = 0;
  truncated = false;
  constructor(readonly max: number) {}

  push(chunk: Buffer): void {
    const room = this.max - this.#kept;
    if (room <= 0) {
      if (chunk.length > 0) this.truncated = true;
      return;
    }
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    if (part.length < chunk.length) this.truncated = true;
    this.#chunks.push(part);
    this.#kept += part.length;
  }

  text(): string {
    return Buffer.concat(this.#chunks).toString('utf8');
  }
}

/**
 * After the leader exits, how long to keep reading output that its background children may still hold open. Bounded
 * so a script that leaves a daemon behind (a notify script starting a service) does not hold up the result.
 */
const DRAIN_MS = 100;

/**
 * Runs a command (argv, or a command line split by `splitCommandLine`) in a new process group and resolves when it has
 * ended. On timeout or abort the whole group gets SIGTERM, then SIGKILL after `killGraceMs`; once the leader is gone
 * the group gets SIGKILL at once, as keepalived does, so no grandchild survives a killed run. A command that exits
 * on its own keeps any background children it started (they may be services a notify script launched).
 * Never rejects: every way of ending is a `RunOutcome`.
 * @example const r = await runCommand('/usr/local/bin/check_web', { timeoutMs: 2_000, signal }); if (r.outcome === 'ok') …
 */
export function runCommand(command: readonly string[] | string, opts: RunOptions): Promise<RunResult> {
  const started = performance.now();
  const base = { code: null, signal: null, stdout: '', stderr: '', truncated: false };
  const elapsed = (): number => Math.round(performance.now() - started);
  let argv: string[];
  if (typeof command === 'string') {
    const split = splitCommandLine(command);
    if (!split.ok) {
      return Promise.resolve({ ...base, outcome: 'spawn-error', durationMs: elapsed(), error: split.reason });
    }
    argv = split.argv;
  } else {
    argv = [...command];
  }
  const file = argv[0];
  if (!file) return Promise.resolve({ ...base, outcome: 'spawn-error', durationMs: elapsed(), error: 'empty' });
  if (opts.signal.aborted) return Promise.resolve({ ...base, outcome: 'aborted', durationMs: elapsed() });

  return new Promise<RunResult>((resolve) => {
    const max = opts.maxOutputBytes ?? 65_536;
    const out = new Capture(max);
    const err = new Capture(max);
    const graceMs = opts.killGraceMs ?? 2_000;
    let killedFor: 'timeout' | 'aborted' | null = null;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    let spawnError: string | null = null;
    let settled = false;
    let deadline: NodeJS.Timeout | undefined;
    let grace: NodeJS.Timeout | undefined;
    let drain: NodeJS.Timeout | undefined;
    let child: ChildProcess;

    const killGroup = (sig: NodeJS.Signals): void => {
      if (!child.pid) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        // ESRCH: the whole group is already gone.
      }
    };
    const onAbort = (): void => stop('aborted');
    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      clearTimeout(grace);
      clearTimeout(drain);
      opts.signal.removeEventListener('abort', onAbort);
      const common = {
        stdout: out.text(),
        stderr: err.text(),
        truncated: out.truncated || err.truncated,
        durationMs: elapsed(),
        ...(child.pid ? { pid: child.pid } : {}),
      };
      if (spawnError !== null) {
        resolve({ ...common, outcome: 'spawn-error', code: null, signal: null, error: spawnError });
        return;
      }
      const code = exit?.code ?? null;
      const signal = exit?.signal ?? null;
      const outcome: RunOutcome = killedFor ?? (code === 0 ? 'ok' : 'failed');
      resolve({ ...common, outcome, code, signal });
    };
    const stop = (why: 'timeout' | 'aborted'): void => {
      if (killedFor || exit || settled) return;
      killedFor = why;
      killGroup('SIGTERM');
      grace = setTimeout(() => killGroup('SIGKILL'), graceMs);
    };

    try {
      child = spawn(file, argv.slice(1), {
        // detached = setsid(): the child leads a new process group we can kill as a whole.
        detached: true,
        stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        env: opts.env ?? process.env,
        ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
        ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
        ...(opts.gid !== undefined ? { gid: opts.gid } : {}),
      });
    } catch (e) {
      resolve({ ...base, outcome: 'spawn-error', durationMs: elapsed(), error: errorText(e) });
      return;
    }

    if (opts.input !== undefined && child.stdin) {
      // A child that exits without reading its stdin must not turn into an EPIPE exception here.
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.input);
    }
    child.stdout?.on('data', (c: Buffer) => out.push(c));
    child.stderr?.on('data', (c: Buffer) => err.push(c));
    // Stream errors (EPIPE after we destroy a pipe) must not become uncaught exceptions.
    child.stdout?.on('error', () => undefined);
    child.stderr?.on('error', () => undefined);
    child.on('error', (e) => {
      // Only a failed spawn arrives here: we signal the group with process.kill, never child.kill.
      if (child.pid) return;
      spawnError = errorText(e);
      finish();
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      clearTimeout(deadline);
      if (killedFor) {
        // keepalived: once the leader died of our signal, make sure nothing it started lives on.
        clearTimeout(grace);
        killGroup('SIGKILL');
      }
      drain = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish();
      }, DRAIN_MS);
    });
    child.on('close', () => {
      if (exit === null && child.pid) return; // 'exit' always comes first for a started child
      finish();
    });

    deadline = setTimeout(() => stop('timeout'), Math.max(0, opts.timeoutMs));
    opts.signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** An error's message (with its code when it has one) for logs. */
export function errorText(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    return code && !e.message.includes(code) ? `${code}: ${e.message}` : e.message;
  }
  return String(e);
}
