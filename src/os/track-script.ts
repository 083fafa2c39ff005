/**
 * keepalived `vrrp_script`: runs a command every `interval`, counts exit 0 as a pass and anything else (non-zero
 * exit, killed, timed out, could not start) as a failure, and turns results into UP/DOWN with one rise/fall counter
 * (`health/hysteresis`). Runs never overlap: a run still going at the next tick makes that tick skipped, as keepalived
 * does ("expect idle - skipping run"). Nothing here touches the VRRP advert path: results arrive as callbacks.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { applyCheck, initialHealth, isHealthy } from '../health/hysteresis.ts';
import { type CommandRunner, type RunResult, runCommand } from './process.ts';

/** A script tracker's state: `unknown` until its first result, unless it started with `init_fail`. */
export type ScriptState = 'unknown' | 'up' | 'down';

/** Options of a TrackScript (keepalived `vrrp_script` keywords in brackets). */
export interface TrackScriptOptions {
  /** Command line (split without a shell) or argv [script]. */
  command: string | readonly string[];
  /** Time between run starts [interval]. Clamped to at least 10 ms. @default 1000 */
  intervalMs?: number;
  /** Kill a run after this long; a timeout counts as a failure [timeout]. @default intervalMs */
  timeoutMs?: number;
  /** Passes needed to go UP [rise]. @default 1 */
  rise?: number;
  /** Failures needed to go DOWN [fall]. @default 1 */
  fall?: number;
  /** Start DOWN, needing `rise` passes, instead of unknown [init_fail]. @default false */
  initFail?: boolean;
  /** Run as this user id [user]; resolve names in the daemon. */
  uid?: number;
  /** Run with this group id [user … group]. */
  gid?: number;
  /** Environment of the script. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Stops the loop and kills a running check. */
  signal: AbortSignal;
  /** Called when the state becomes `up` or `down` (also the first time it becomes known), with the deciding run. */
  onChange: (up: boolean, result: RunResult) => void;
  /** Called after every run with the new counter, for logs and metrics. */
  onResult?: (result: RunResult, health: number) => void;
  /** Runs the command. @default runCommand */
  run?: CommandRunner;
}

/** The smallest interval: a zero interval must not turn the loop into a busy spin. */
const MIN_INTERVAL_MS = 10;

/**
 * One running vrrp_script. Call `start()` once; abort the signal to stop it (`stopped` resolves when the loop has
 * ended and no run is left).
 * @example const t = new TrackScript({ command: 'pidof nginx', intervalMs: 2_000, fall: 2, rise: 2, signal, onChange: (up) => machine.tracker('script:chk_nginx', up) }); t.start();
 */
export class TrackScript {
  readonly #opts: TrackScriptOptions;
  readonly #rise: number;
  readonly #fall: number;
  readonly #intervalMs: number;
  #health: number;
  #state: ScriptState;
  #stopped: Promise<void> | null = null;

  constructor(opts: TrackScriptOptions) {
    this.#opts = opts;
    this.#rise = Math.max(1, opts.rise ?? 1);
    this.#fall = Math.max(1, opts.fall ?? 1);
    this.#intervalMs = Math.max(MIN_INTERVAL_MS, opts.intervalMs ?? 1_000);
    this.#health = initialHealth(this.#rise, opts.initFail ?? false);
    this.#state = opts.initFail ? 'down' : 'unknown';
  }

  /** `unknown` before the first result (without init_fail), then `up` or `down`. */
  get state(): ScriptState {
    return this.#state;
  }

  /** The rise/fall counter, 0..rise+fall-1. */
  get health(): number {
    return this.#health;
  }

  /** Resolves once the loop has ended after an abort (immediately resolved if never started). */
  get stopped(): Promise<void> {
    return this.#stopped ?? Promise.resolve();
  }

  /** Starts the loop: the first run starts at once (keepalived runs a script first when it starts). Idempotent. */
  start(): void {
    this.#stopped ??= this.#loop();
  }

  async #loop(): Promise<void> {
    const { signal } = this.#opts;
    const run = this.#opts.run ?? runCommand;
    const timeoutMs = this.#opts.timeoutMs ?? this.#intervalMs;
    // Bounded by the abort signal; every pass waits at least until the next interval tick.
    while (!signal.aborted) {
      const startedAt = performance.now();
      const result = await run(this.#opts.command, {
        timeoutMs,
        signal,
        ...(this.#opts.env ? { env: this.#opts.env } : {}),
        ...(this.#opts.uid !== undefined ? { uid: this.#opts.uid } : {}),
        ...(this.#opts.gid !== undefined ? { gid: this.#opts.gid } : {}),
      });
      if (signal.aborted || result.outcome === 'aborted') break;
      this.#apply(result);
      // Next start on the interval grid from this start; ticks that passed while the run went on are skipped.
      const now = performance.now();
      const ticks = Math.max(1, Math.ceil((now - startedAt) / this.#intervalMs));
      const waitMs = Math.max(0, startedAt + ticks * this.#intervalMs - now);
      try {
        await sleep(waitMs, undefined, { signal });
      } catch {
        break; // aborted
      }
    }
  }

  #apply(result: RunResult): void {
    this.#health = applyCheck(this.#health, result.outcome === 'ok', this.#rise, this.#fall);
    const next: ScriptState = isHealthy(this.#health, this.#rise) ? 'up' : 'down';
    safely(() => this.#opts.onResult?.(result, this.#health));
    if (next === this.#state) return;
    this.#state = next;
    safely(() => this.#opts.onChange(next === 'up', result));
  }
}

/** Runs a subscriber callback; its bug must not stop the check loop. */
function safely(f: () => void): void {
  try {
    f();
  } catch {
    // ignored on purpose: see above
  }
}
