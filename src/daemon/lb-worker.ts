/**
 * The main thread's handle on the load balancer's worker thread (lb-host.ts). Requests are messages with an id;
 * log records from the worker go to the daemon's logger. If the worker dies, it is started again with the plan and
 * scope in force (runtime changes made since are lost, and the log says so).
 */

import { basename, dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { TandemError } from '../core/errors.ts';
import type { LbStatus, RsOutcome, RsVerb } from '../lb/status.ts';
import type { LbPort } from '../node/ports.ts';
import { workerUrl } from '../os/runtime-paths.ts';
import type { LbPlan } from '../plan/lb-plan.ts';
import type { LbCommand, LbMessage, LbWorkerData } from './lb-host.ts';
import type { Logger } from './log.ts';

/** A request to the worker, before its id is given. */
type LbRequest = LbCommand extends infer C ? (C extends { id: number } ? Omit<C, 'id'> : never) : never;

/** The managed HAProxy's directory (dataplane haproxy) for a daemon with this control socket: beside it, one per daemon. */
export function haproxyDir(controlPath: string): string {
  return join(dirname(controlPath), `haproxy-${basename(controlPath).replace(/\.sock$/, '')}`);
}

/** Runs the load balancer in a worker thread. */
export class LbWorker implements LbPort {
  readonly #log: Logger;
  readonly #nftTable: string;
  readonly #haproxyDir: string | undefined;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #plan: LbPlan;
  #scope: { may: string[]; active: string[] } = { may: [], active: [] };
  #worker: Worker | null = null;
  #next = 1;
  #closed = false;

  constructor(plan: LbPlan, log: Logger, opts: { nftTable?: string; haproxyDir?: string } = {}) {
    this.#plan = plan;
    this.#log = log;
    this.#nftTable = opts.nftTable ?? 'tandem';
    this.#haproxyDir = opts.haproxyDir;
  }

  /** Starts the worker (checks begin once the scope says which services are this node's). */
  start(): void {
    this.#ensure();
  }

  setScope(may: string[], active: string[]): void {
    this.#scope = { may, active };
    if (this.#closed) return;
    // A worker started now is given the scope in force by #ensure; a running one gets it here.
    if (this.#worker) this.#worker.postMessage({ t: 'scope', may, active } satisfies LbCommand);
    else this.#ensure();
  }

  async reload(plan: LbPlan): Promise<{ kept: string[]; changed: string[]; added: string[]; removed: string[] }> {
    this.#plan = plan;
    return (await this.#request({ t: 'reload', plan })) as Awaited<ReturnType<LbPort['reload']>>;
  }

  async rs(service: string, req: RsVerb, source: 'cli' | 'api'): Promise<RsOutcome> {
    return (await this.#request({ t: 'rs', service, req, source })) as RsOutcome;
  }

  async status(): Promise<LbStatus> {
    return (await this.#request({ t: 'status' })) as LbStatus;
  }

  /** Stops checks, removes what the data planes made, and ends the worker. */
  async stop(): Promise<void> {
    if (this.#closed) return;
    const w = this.#worker;
    try {
      if (w) await Promise.race([this.#request({ t: 'stop' }), new Promise((r) => setTimeout(r, 10_000))]);
    } finally {
      this.#closed = true;
      this.#worker = null;
      await w?.terminate();
    }
  }

  #request(cmd: LbRequest): Promise<unknown> {
    if (this.#closed) return Promise.reject(new TandemError('TND_LB_WORKER', 'the load balancer is stopped'));
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#post({ ...cmd, id } as LbCommand);
    });
  }

  #post(cmd: LbCommand): void {
    if (this.#closed) return;
    this.#ensure().postMessage(cmd);
  }

  #ensure(): Worker {
    if (this.#worker) return this.#worker;
    const data: LbWorkerData = {
      plan: this.#plan,
      nftTable: this.#nftTable,
      ...(this.#haproxyDir ? { haproxyDir: this.#haproxyDir } : {}),
    };
    const w = new Worker(workerUrl('lb-host'), { workerData: data });
    w.unref();
    w.on('message', (m: LbMessage) => {
      if (m.t === 'log') {
        this.#log.log(m.level, m.msg, m.fields);
        return;
      }
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(new TandemError('TND_LB_WORKER', m.error));
    });
    w.on('error', (e) => this.#log.log('error', `load balancer worker failed: ${e.message}`));
    w.on('exit', () => {
      if (this.#worker !== w || this.#closed) return;
      this.#worker = null;
      for (const p of this.#pending.values())
        p.reject(new TandemError('TND_LB_WORKER', 'the load balancer worker exited'));
      this.#pending.clear();
      this.#log.log('error', 'load balancer worker exited; restarting it (runtime changes since start are lost)');
      this.#ensure();
    });
    this.#worker = w;
    // The first message after a (re)start carries the scope in force.
    if (this.#scope.may.length) w.postMessage({ t: 'scope', ...this.#scope } satisfies LbCommand);
    return w;
  }
}
