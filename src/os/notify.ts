/**
 * keepalived notify scripts. On a transition keepalived runs the state's own script (`notify_master`, `notify_backup`,
 * `notify_fault`, `notify_stop`, `notify_deleted`) with no extra arguments, and the generic `notify` script with four:
 * `INSTANCE|GROUP NAME STATE PRIORITY`. keepalived forks both and never waits; here they run one at a time from a
 * queue (per Notifier, so one per instance or group), the state's own script first, so a script never sees BACKUP
 * after MASTER when they happened the other way round. The caller never waits: `notify` only enqueues.
 * @see anchors.md §5.1 "Notify contract"; keepalived vrrp_notify.c
 */
import { type CommandRunner, type RunResult, runCommand, splitCommandLine } from './process.ts';

/** The STATE argument: keepalived's names. */
export type NotifyState = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP' | 'DELETED';

/** The first argument of the generic script: a single instance or a sync group. */
export type NotifySubject = 'INSTANCE' | 'GROUP';

/** One transition to report. */
export interface NotifyTransition {
  subject: NotifySubject;
  /** Instance or group name (VI_1). */
  name: string;
  state: NotifyState;
  /** Effective priority after the transition; keepalived passes 0 for groups. */
  priority: number;
}

/** Which script of a NotifyScripts ran. */
export type NotifyScriptKind = 'master' | 'backup' | 'fault' | 'stop' | 'deleted' | 'any';

/** The scripts, as command lines from the config (`notify_*`, and `notify` as `any`; schema `notify`). */
export interface NotifyScripts {
  master?: string;
  backup?: string;
  fault?: string;
  stop?: string;
  deleted?: string;
  /** keepalived's generic `notify`: gets `INSTANCE|GROUP NAME STATE PRIORITY` appended. */
  any?: string;
}

/** What the Notifier tells its owner, for logs: a finished run, or a transition dropped from a full queue. */
export type NotifyReport =
  | { kind: 'ran'; transition: NotifyTransition; script: NotifyScriptKind; argv: readonly string[]; result: RunResult }
  | { kind: 'dropped'; transition: NotifyTransition; pending: number };

/** Options of a Notifier. */
export interface NotifierOptions {
  scripts: NotifyScripts;
  /** Receives every report; must not throw (a throw is ignored). */
  report: (r: NotifyReport) => void;
  /**
   * Kills a running script and stops the queue. Keep it alive until `idle()` after the last (STOP) transition on
   * shutdown, or notify_stop never runs.
   */
  signal: AbortSignal;
  /** Per-script deadline; a hanging script would otherwise hold every later notification. @default 30000 */
  timeoutMs?: number;
  /** Transitions waiting beyond this drop the oldest, with a `dropped` report. @default 100 */
  maxPending?: number;
  /** Run scripts as this user id (keepalived `notify … user`, `script_user`); resolve names in the daemon. */
  uid?: number;
  /** Run scripts with this group id. */
  gid?: number;
  /** Environment of the scripts. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Runs a command. @default runCommand */
  run?: CommandRunner;
}

const SCRIPT_OF: Record<NotifyState, Exclude<NotifyScriptKind, 'any'>> = {
  MASTER: 'master',
  BACKUP: 'backup',
  FAULT: 'fault',
  STOP: 'stop',
  DELETED: 'deleted',
};

/**
 * The argv lists one transition runs, in order: the state's own script, then the generic one with its four arguments.
 * Pure. A command line that cannot be split becomes a `spawn-error` at run time, with the reason.
 * @example notifyCommands({ any: '/bin/n' }, { subject: 'INSTANCE', name: 'VI_1', state: 'MASTER', priority: 100 })
 *   // [{ script: 'any', command: ['/bin/n', 'INSTANCE', 'VI_1', 'MASTER', '100'] }]
 */
export function notifyCommands(
  scripts: NotifyScripts,
  t: NotifyTransition,
): { script: NotifyScriptKind; command: readonly string[] | string }[] {
  const out: { script: NotifyScriptKind; command: readonly string[] | string }[] = [];
  const own = SCRIPT_OF[t.state];
  const ownLine = scripts[own];
  if (ownLine) out.push({ script: own, command: ownLine });
  if (scripts.any) {
    const split = splitCommandLine(scripts.any);
    // Left as the raw line when it does not split, so runCommand reports why.
    const command = split.ok ? [...split.argv, t.subject, t.name, t.state, String(t.priority)] : scripts.any;
    out.push({ script: 'any', command });
  }
  return out;
}

/**
 * Runs notify scripts for one instance or group, in transition order, one at a time, never blocking the caller.
 * @example const n = new Notifier({ scripts: cfg.notify, report: log, signal }); instance.events.on('transition', (e) => n.notify({ subject: 'INSTANCE', name: e.instance, state: e.to, priority: e.priority }));
 */
export class Notifier {
  readonly #opts: NotifierOptions;
  readonly #queue: NotifyTransition[] = [];
  #running: Promise<void> | null = null;

  constructor(opts: NotifierOptions) {
    this.#opts = opts;
  }

  /** Transitions waiting (not counting the one running). */
  get pending(): number {
    return this.#queue.length;
  }

  /** Enqueues a transition and returns at once. Does nothing when no script is configured or after abort. */
  notify(t: NotifyTransition): void {
    if (this.#opts.signal.aborted) return;
    if (!this.#opts.scripts.any && !this.#opts.scripts[SCRIPT_OF[t.state]]) return;
    const max = Math.max(1, this.#opts.maxPending ?? 100);
    while (this.#queue.length >= max) {
      const dropped = this.#queue.shift()!;
      this.#report({ kind: 'dropped', transition: dropped, pending: this.#queue.length });
    }
    this.#queue.push({ ...t });
    this.#kick();
  }

  /** Resolves when the queue is empty and no script runs (for shutdown and tests). */
  async idle(): Promise<void> {
    // Bounded: each pass awaits a drain that empties the queue or stops on abort.
    while (this.#running) await this.#running;
  }

  /** Starts draining unless a drain runs; a drain that ends re-checks, so a transition queued as it ended still runs. */
  #kick(): void {
    if (this.#running || this.#queue.length === 0 || this.#opts.signal.aborted) return;
    this.#running = this.#drain().finally(() => {
      this.#running = null;
      this.#kick();
    });
  }

  async #drain(): Promise<void> {
    const { signal } = this.#opts;
    const run = this.#opts.run ?? runCommand;
    try {
      for (let t = this.#queue.shift(); t && !signal.aborted; t = this.#queue.shift()) {
        for (const { script, command } of notifyCommands(this.#opts.scripts, t)) {
          if (signal.aborted) break;
          const result = await run(command, {
            timeoutMs: this.#opts.timeoutMs ?? 30_000,
            signal,
            ...(this.#opts.env ? { env: this.#opts.env } : {}),
            ...(this.#opts.uid !== undefined ? { uid: this.#opts.uid } : {}),
            ...(this.#opts.gid !== undefined ? { gid: this.#opts.gid } : {}),
          });
          const argv = typeof command === 'string' ? [command] : command;
          this.#report({ kind: 'ran', transition: t, script, argv, result });
        }
      }
    } finally {
      if (signal.aborted) this.#queue.length = 0;
    }
  }

  #report(r: NotifyReport): void {
    try {
      this.#opts.report(r);
    } catch {
      // a logger's bug must not stop notifications
    }
  }
}
