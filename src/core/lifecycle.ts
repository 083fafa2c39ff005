/**
 * A small lifecycle: components start in the order they were added and stop in reverse, each awaited with an
 * AbortSignal that fires at its deadline (fastify's and the OCF agents' discipline). A start that fails stops what had
 * started, in reverse, and rethrows; a stop that fails or overruns is reported and the others still stop. Time is the
 * injected Clock, so the daemon and the simulator share it.
 */
import type { Logger } from './log.ts';
import type { Clock, Ms } from './time.ts';

/** One part of a running whole. Both steps are optional; either may be synchronous. */
export interface Component {
  readonly name: string;
  /** Starts; should finish (or fail) before `signal` aborts. */
  start?(signal: AbortSignal): void | Promise<void>;
  /** Stops and resolves when what it made is gone (sockets closed, VIPs removed); must honour `signal`. */
  stop?(signal: AbortSignal): void | Promise<void>;
}

/** Deadlines of one lifecycle. */
export interface LifecycleOptions {
  clock: Clock;
  log?: Logger;
  /** Each component's start must end within this. @default 30000 */
  startDeadlineMs?: Ms;
  /** Each component's stop must end within this; then the next one stops regardless. @default 15000 */
  stopDeadlineMs?: Ms;
}

/** Outcome of one component's stop. */
export type StopOutcome = 'stopped' | 'failed' | 'overran';

/**
 * Starts and stops components in order.
 * @example const lc = new Lifecycle({ clock }); lc.add(control).add(node); await lc.start(); … await lc.stop();
 */
export class Lifecycle {
  readonly #o: LifecycleOptions;
  readonly #all: Component[] = [];
  readonly #started: Component[] = [];
  #stopping: Promise<Record<string, StopOutcome>> | null = null;

  constructor(opts: LifecycleOptions) {
    this.#o = opts;
  }

  /** Adds a component (started after those added before it, stopped before them). */
  add(c: Component): this {
    this.#all.push(c);
    return this;
  }

  /** Starts every component in order; on a failure, stops the started ones in reverse and rethrows. */
  async start(): Promise<void> {
    for (const c of this.#all) {
      if (this.#started.includes(c)) continue;
      try {
        await this.#within(this.#o.startDeadlineMs ?? 30_000, `${c.name} did not start in time`, (s) => c.start?.(s));
        this.#started.push(c);
      } catch (e) {
        await this.stop();
        throw e;
      }
    }
  }

  /** Stops the started components in reverse order; resolves with each one's outcome. Idempotent. */
  stop(): Promise<Record<string, StopOutcome>> {
    this.#stopping ??= (async () => {
      const out: Record<string, StopOutcome> = {};
      for (const c of this.#started.splice(0).reverse()) {
        try {
          await this.#within(this.#o.stopDeadlineMs ?? 15_000, 'overran', (s) => c.stop?.(s));
          out[c.name] = 'stopped';
        } catch (e) {
          const overran = e instanceof DeadlineError;
          out[c.name] = overran ? 'overran' : 'failed';
          this.#o.log?.log(
            'error',
            overran ? `${c.name} did not stop within its deadline; going on` : `${c.name} failed to stop: ${String(e)}`,
          );
        }
      }
      return out;
    })();
    return this.#stopping;
  }

  #within(ms: Ms, what: string, run: (s: AbortSignal) => void | Promise<void>): Promise<void> {
    const ctl = new AbortController();
    return new Promise<void>((resolve, reject) => {
      const cancel = this.#o.clock.at(this.#o.clock.now() + ms, () => {
        ctl.abort();
        reject(new DeadlineError(what));
      });
      Promise.resolve()
        .then(() => run(ctl.signal))
        .then(
          () => {
            cancel();
            resolve();
          },
          (e: unknown) => {
            cancel();
            reject(e);
          },
        );
    });
  }
}

class DeadlineError extends Error {}
