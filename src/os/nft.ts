/**
 * nftables through the `nft` command: a script goes in as **text on stdin** (`nft -f -`), which nft applies as one
 * atomic transaction — all of it or, on any error, none of it. Text because Node's child stdin is a socketpair and
 * `nft -j -f -` cannot open it, and nft 1.0.6's JSON cannot create the maps the data plane needs
 * (reference/ecosystem.md §3). Every run has a deadline and an AbortSignal (Rule 10); a timed-out or aborted run is
 * killed with its process group. The daemon runs inside the namespace it manages; tests and benchmarks pass
 * `wrap: ['ip', 'netns', 'exec', NS]` and never touch the host's own ruleset.
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { TandemError } from '../core/errors.ts';
import { errorText } from './process.ts';

/** Options of one nft call. */
export interface NftCallOptions {
  signal?: AbortSignal;
  /** Overrides the runner's deadline for this call. */
  timeoutMs?: number;
}

/** Runs nft scripts and the two table commands the data plane needs. */
export interface NftRunner {
  /**
   * Applies `script` (nft text) as one transaction. Rejects with a `TND_NFT_APPLY` TandemError carrying nft's own
   * message (it names the line) when nft refuses it, fails, times out or is aborted.
   */
  apply(script: string, opts?: NftCallOptions): Promise<void>;
  /** Deletes `table inet NAME`; true when it existed, false when it did not (absent is fine). */
  deleteTable(table: string, opts?: NftCallOptions): Promise<boolean>;
  /** `nft list table inet NAME` (or FAMILY NAME) text, or null when the table does not exist. */
  listTable(table: string, opts?: NftCallOptions & { family?: 'inet' | 'netdev' }): Promise<string | null>;
}

/** Options of {@link createNftRunner}. */
export interface NftRunnerOptions {
  /** Argv put before the nft command, e.g. `['ip', 'netns', 'exec', 'ns1']` (tests, benchmarks). @default [] */
  wrap?: readonly string[];
  /** The nft binary. @default 'nft' */
  nftPath?: string;
  /** Deadline of each call; a 10,000-element map loads in well under a second. @default 10000 */
  timeoutMs?: number;
  /** Time between SIGTERM and SIGKILL to the process group on timeout or abort. @default 1000 */
  killGraceMs?: number;
}

/** How one child run ended (a subset of process.ts RunOutcome, with the captured output). */
export interface InputRunResult {
  outcome: 'ok' | 'failed' | 'timeout' | 'aborted' | 'spawn-error';
  code: number | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  error?: string;
}

/**
 * Runs argv with `input` written to its stdin, in a process group of its own (so a timeout or abort kills all of it),
 * and resolves with how it ended; never rejects. os/process.ts `runCommand` has no stdin, hence this small sibling.
 * @example await runWithInput(['nft', '-f', '-'], 'add table inet t\n', { timeoutMs: 5_000 })
 */
export function runWithInput(
  argv: readonly string[],
  input: string,
  opts: { timeoutMs: number; signal?: AbortSignal; killGraceMs?: number; maxOutputBytes?: number },
): Promise<InputRunResult> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  const [file, ...args] = argv;
  if (!file) return Promise.resolve({ outcome: 'spawn-error', code: null, stdout: '', stderr: '', durationMs: 0 });
  if (opts.signal?.aborted) {
    return Promise.resolve({ outcome: 'aborted', code: null, stdout: '', stderr: '', durationMs: 0 });
  }
  const max = opts.maxOutputBytes ?? 1 << 20;
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    let killedFor: 'timeout' | 'aborted' | null = null;
    let settled = false;
    let grace: NodeJS.Timeout | undefined;
    const child = spawn(file, args, { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    const killGroup = (sig: NodeJS.Signals): void => {
      if (!child.pid) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        // ESRCH: already gone
      }
    };
    const stop = (why: 'timeout' | 'aborted'): void => {
      if (killedFor || settled) return;
      killedFor = why;
      killGroup('SIGTERM');
      grace = setTimeout(() => killGroup('SIGKILL'), opts.killGraceMs ?? 1_000);
    };
    const onAbort = (): void => stop('aborted');
    const deadline = setTimeout(() => stop('timeout'), Math.max(0, opts.timeoutMs));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const finish = (r: Omit<InputRunResult, 'stdout' | 'stderr' | 'durationMs'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      clearTimeout(grace);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve({
        ...r,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        durationMs: elapsed(),
      });
    };
    child.stdout.on('data', (c: Buffer) => {
      if (outBytes < max) out.push(c);
      outBytes += c.length;
    });
    child.stderr.on('data', (c: Buffer) => {
      if (errBytes < max) err.push(c);
      errBytes += c.length;
    });
    // EPIPE when the child exits before reading all its input: the exit status tells the story.
    child.stdin.on('error', () => undefined);
    child.on('error', (e) => {
      if (!child.pid) finish({ outcome: 'spawn-error', code: null, error: errorText(e) });
    });
    child.on('close', (code) => {
      if (killedFor) killGroup('SIGKILL');
      finish({ outcome: killedFor ?? (code === 0 ? 'ok' : 'failed'), code });
    });
    child.stdin.end(input);
  });
}

/**
 * nft's complaint in a few lines: its `Error:` lines with the offending statement and caret that follow each,
 * at most `maxLines`, with stdin's pseudo-path shortened.
 * @example nftErrorSummary('/dev/stdin:3:1-5: Error: Could not process rule: No such file or directory\n…')
 */
export function nftErrorSummary(stderr: string, maxLines = 12): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.replace(/^\/dev\/stdin:/, 'line ').trimEnd())
    .filter((l) => l.length > 0);
  const kept = lines.slice(0, maxLines);
  if (lines.length > maxLines) kept.push(`… (${lines.length - maxLines} more lines)`);
  return kept.join('\n');
}

const NO_SUCH = /No such file or directory/;

/**
 * The real nft runner.
 * @example const nft = createNftRunner({ wrap: ['ip', 'netns', 'exec', 'lab-d1'] }); await nft.apply(script)
 */
export function createNftRunner(opts: NftRunnerOptions = {}): NftRunner {
  const base = [...(opts.wrap ?? []), opts.nftPath ?? 'nft'];
  const deadlineOf = (call: NftCallOptions = {}): number => call.timeoutMs ?? opts.timeoutMs ?? 10_000;
  const run = (args: string[], input: string, call: NftCallOptions = {}): Promise<InputRunResult> =>
    runWithInput([...base, ...args], input, {
      timeoutMs: deadlineOf(call),
      ...(call.signal ? { signal: call.signal } : {}),
      ...(opts.killGraceMs !== undefined ? { killGraceMs: opts.killGraceMs } : {}),
      maxOutputBytes: 256 << 20,
    });
  const failure = (what: string, r: InputRunResult, call?: NftCallOptions): TandemError => {
    const why =
      r.outcome === 'failed'
        ? `exit ${r.code}`
        : r.outcome === 'spawn-error'
          ? `cannot start ${base.join(' ')}: ${r.error ?? 'unknown error'}`
          : r.outcome === 'timeout'
            ? `no answer within ${deadlineOf(call)} ms, killed`
            : 'aborted';
    const detail = nftErrorSummary(r.stderr);
    return new TandemError('TND_NFT_APPLY', `${what} failed (${why})${detail ? `:\n${detail}` : ''}`);
  };
  return {
    async apply(script, callOpts) {
      const r = await run(['-f', '-'], script, callOpts);
      if (r.outcome !== 'ok') throw failure('nft -f -', r, callOpts);
    },
    async deleteTable(table, callOpts) {
      const r = await run(['delete', 'table', 'inet', table], '', callOpts);
      if (r.outcome === 'ok') return true;
      if (r.outcome === 'failed' && NO_SUCH.test(r.stderr)) return false;
      throw failure(`nft delete table inet ${table}`, r, callOpts);
    },
    async listTable(table, callOpts) {
      const family = callOpts?.family ?? 'inet';
      const r = await run(['list', 'table', family, table], '', callOpts);
      if (r.outcome === 'ok') return r.stdout;
      if (r.outcome === 'failed' && NO_SUCH.test(r.stderr)) return null;
      throw failure(`nft list table ${family} ${table}`, r, callOpts);
    },
  };
}
