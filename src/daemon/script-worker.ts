/**
 * Runs track scripts off the main thread (see script-host.ts for why): the daemon starts and stops scripts here
 * and gets their UP/DOWN verdicts back as callbacks. One worker thread for all scripts; if it dies, it is started
 * again with every script that was running.
 */
import { Worker } from 'node:worker_threads';
import { workerUrl } from '../os/runtime-paths.ts';
import type { HostCommand, HostEvent, HostedScript } from './script-host.ts';

/** A verdict of one script. */
export type ScriptVerdict = Omit<HostEvent, 'id'>;

/** The track-script worker. */
export class ScriptWorker {
  readonly #scripts = new Map<string, { spec: HostedScript; onChange: (v: ScriptVerdict) => void }>();
  readonly #onError: (e: Error) => void;
  #worker: Worker | null = null;
  #closed = false;

  /** `onError` hears about a crashed worker (it is restarted). */
  constructor(onError: (e: Error) => void = () => {}) {
    this.#onError = onError;
  }

  /** Starts (or restarts) script `id`; returns the function that stops it. */
  start(id: string, spec: HostedScript, onChange: (v: ScriptVerdict) => void): () => void {
    this.#scripts.set(id, { spec, onChange });
    this.#post({ op: 'start', id, spec });
    return () => {
      if (!this.#scripts.delete(id)) return;
      this.#post({ op: 'stop', id });
    };
  }

  /** Stops every script and the worker. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#scripts.clear();
    const w = this.#worker;
    this.#worker = null;
    await w?.terminate();
  }

  #post(cmd: HostCommand): void {
    if (this.#closed) return;
    this.#ensure().postMessage(cmd);
  }

  #ensure(): Worker {
    if (this.#worker) return this.#worker;
    const w = new Worker(workerUrl('script-host'));
    // The daemon's sockets keep the process alive; the worker alone must not.
    w.unref();
    w.on('message', (ev: HostEvent) => this.#scripts.get(ev.id)?.onChange(ev));
    w.on('error', (e) => this.#onError(e));
    w.on('exit', () => {
      if (this.#worker !== w || this.#closed) return;
      this.#worker = null;
      // Start again with what was running: a tracker must not silently stop reporting.
      for (const [id, s] of this.#scripts) this.#post({ op: 'start', id, spec: s.spec });
    });
    this.#worker = w;
    return w;
  }
}
