/**
 * Runs configured regexes (keepalived `url { regex }`) against response bodies on a worker thread, one at a time,
 * each with a time budget. A pattern with catastrophic backtracking on someone else's megabyte of output must not
 * stall the event loop that sends VRRP adverts (Rule 10): on the worker it costs only that check; past the budget
 * the worker is terminated (which interrupts the match) and a fresh one takes the next job.
 */
import { Worker } from 'node:worker_threads';

/** How a match ended: matched or not, a pattern that does not compile, or out of budget. */
export type MatchOutcome = boolean | 'invalid' | 'too-slow';

/**
 * The most wall time one match may take on the worker. Generous, because it blocks nothing but the check itself,
 * and a busy machine must not turn a cheap match into a false failure.
 * @default 250
 */
export const REGEX_BUDGET_MS = 250;

// CommonJS, evaluated by the Worker: no file to resolve, with or without tsx.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', ({ source, subject }) => {
  let re;
  try {
    re = new RegExp(source);
  } catch {
    parentPort.postMessage('invalid');
    return;
  }
  parentPort.postMessage(re.test(subject));
});
`;

interface Job {
  source: string;
  subject: string;
  budgetMs: number;
  signal: AbortSignal | undefined;
  resolve: (outcome: MatchOutcome | 'aborted') => void;
}

/**
 * A queue of regex matches served by one lazily started worker thread, unref'd while idle.
 * @example const m = new RegexMatcher(); await m.match('status: ok', body) // true
 */
export class RegexMatcher {
  readonly #budgetMs: number;
  readonly #queue: Job[] = [];
  #worker: Worker | null = null;
  #online = false;
  #current: Job | null = null;
  #timer: NodeJS.Timeout | undefined;

  /** `budgetMs`: see REGEX_BUDGET_MS. @default 250 */
  constructor(budgetMs = REGEX_BUDGET_MS) {
    this.#budgetMs = budgetMs;
  }

  /** The budget of one match, in ms. */
  get budgetMs(): number {
    return this.#budgetMs;
  }

  /** Whether `source` matches `subject`. Never rejects; a job whose signal fired before its turn is skipped. */
  match(source: string, subject: string, signal?: AbortSignal): Promise<MatchOutcome | 'aborted'> {
    return new Promise((resolve) => {
      this.#queue.push({ source, subject, budgetMs: this.#budgetMs, signal, resolve });
      this.#next();
    });
  }

  /** Stops the worker (tests; the daemon lets the idle, unref'd worker die with the process). */
  async close(): Promise<void> {
    const w = this.#worker;
    this.#worker = null;
    this.#online = false;
    await w?.terminate();
  }

  #next(): void {
    if (this.#current) return;
    let job = this.#queue.shift();
    while (job?.signal?.aborted) {
      job.resolve('aborted');
      job = this.#queue.shift();
    }
    if (!job) return;
    this.#current = job;
    const w = this.#ensureWorker();
    // Held while a job runs (a pending check keeps the process up), let go when idle.
    w.ref();
    // The budget runs from when the worker can start, so its own start-up is not charged to the first job.
    if (this.#online) this.#dispatch(w, job);
  }

  #dispatch(w: Worker, job: Job): void {
    this.#timer = setTimeout(() => {
      // Terminating interrupts the match; the next job gets a fresh worker.
      this.#worker = null;
      this.#online = false;
      void w.terminate();
      this.#settle('too-slow');
    }, job.budgetMs);
    w.postMessage({ source: job.source, subject: job.subject });
  }

  #settle(outcome: MatchOutcome): void {
    clearTimeout(this.#timer);
    const job = this.#current;
    this.#current = null;
    job?.resolve(outcome);
    this.#next();
    if (!this.#current) this.#worker?.unref();
  }

  #ensureWorker(): Worker {
    if (this.#worker) return this.#worker;
    const w = new Worker(WORKER_SOURCE, { eval: true });
    this.#worker = w;
    this.#online = false;
    w.once('online', () => {
      if (this.#worker !== w) return;
      this.#online = true;
      if (this.#current) this.#dispatch(w, this.#current);
    });
    w.on('message', (outcome: MatchOutcome) => {
      if (this.#worker === w) this.#settle(outcome);
    });
    const lost = (): void => {
      if (this.#worker !== w) return;
      // The worker died on its own (out of memory on a huge subject): this job fails, the next gets a new worker.
      this.#worker = null;
      this.#online = false;
      this.#settle('too-slow');
    };
    w.on('error', lost);
    w.on('exit', lost);
    // After the listeners: adding a 'message' listener refs the worker again.
    w.unref();
    return w;
  }
}

/** The matcher the HTTP checker uses. */
export const regexMatcher = new RegexMatcher();
