/**
 * Helpers for resource tests: fake agents on a simulated clock that record what runs where, and a way to advance a
 * SimClock while letting the runner's promise continuations run. Test code only.
 */
import type { Ms } from '../core/time.ts';
import type { AgentResult, AgentResultCode, ResourceAgent } from './types.ts';

/** The part of sim/'s SimClock the helpers use. */
export interface SteppableClock {
  now(): Ms;
  at(deadline: Ms, fire: () => void): () => void;
  nextDeadline(): Ms | null;
  runTo(deadline: Ms): number;
}

import { flush } from '../sim/advance.ts';

export { advance, flush } from '../sim/advance.ts';

/** Advances until `pred()` holds or `limitMs` pass; returns whether it held. */
export async function advanceUntil(clock: SteppableClock, pred: () => boolean, limitMs: Ms): Promise<boolean> {
  const end = clock.now() + limitMs;
  for (let i = 0; i < 1_000_000; i++) {
    await flush();
    if (pred()) return true;
    const next = clock.nextDeadline();
    if (next === null || next > end) break;
    clock.runTo(next);
  }
  clock.runTo(end);
  await flush();
  return pred();
}

/** What a fake resource does on a call: its result and how long it takes; undefined = the default, idempotent one. */
export type FakeBehaviour = (
  action: 'start' | 'stop' | 'monitor',
  n: number,
) => { code: AgentResultCode; ms?: Ms; detail?: string; output?: string } | 'hang' | undefined;

/** One fake call, for assertions. */
export interface FakeCall {
  at: Ms;
  node: string;
  resource: string;
  action: 'start' | 'stop' | 'monitor';
  code: AgentResultCode | 'aborted';
}

/**
 * A world of fake resources shared by simulated nodes: which node runs which resource, every call in order.
 * A fake resource is idempotent like a real agent: start on a running one and stop on a stopped one succeed, and a
 * monitor says `ok` when it runs on that node, `not-running` when not, unless its behaviour says otherwise.
 * @example const w = new FakeWorld(clock); const a = w.agent('d1', 'vip'); w.runningOn('vip') // ['d1']
 */
export class FakeWorld {
  readonly calls: FakeCall[] = [];
  readonly #clock: SteppableClock;
  readonly #running = new Map<string, Set<string>>();
  readonly #counts = new Map<string, number>();

  constructor(clock: SteppableClock) {
    this.#clock = clock;
  }

  /** Nodes where `resource` runs now, sorted. */
  runningOn(resource: string): string[] {
    return [...(this.#running.get(resource) ?? [])].sort();
  }

  /** Makes `resource` stop on `node` behind the agent's back (a crash). */
  crash(node: string, resource: string): void {
    this.#running.get(resource)?.delete(node);
  }

  /** Marks `resource` as running on `node` (a leftover from before the daemon started). */
  leave(node: string, resource: string): void {
    const set = this.#running.get(resource) ?? new Set<string>();
    set.add(node);
    this.#running.set(resource, set);
  }

  /** Calls as `node action resource code`, for compact assertions. */
  trail(filter: (c: FakeCall) => boolean = () => true): string[] {
    return this.calls
      .filter(filter)
      .map((c) => `${c.node} ${c.action} ${c.resource}${c.code === 'ok' ? '' : ` ${c.code}`}`);
  }

  /** An agent for `resource` on `node`. `behaviour` overrides the default idempotent one per call. */
  agent(node: string, resource: string, behaviour?: FakeBehaviour, latencyMs: Ms = 10): ResourceAgent {
    const call = (action: 'start' | 'stop' | 'monitor', signal: AbortSignal): Promise<AgentResult> => {
      const key = `${node}/${resource}/${action}`;
      const n = this.#counts.get(key) ?? 0;
      this.#counts.set(key, n + 1);
      const planned = behaviour?.(action, n);
      return new Promise((resolve) => {
        const record = (code: AgentResultCode | 'aborted'): void => {
          this.calls.push({ at: this.#clock.now(), node, resource, action, code });
        };
        if (planned === 'hang') {
          signal.addEventListener('abort', () => {
            record('aborted');
            resolve({ code: 'cancelled', detail: 'aborted' });
          });
          return;
        }
        const ms = planned?.ms ?? latencyMs;
        const cancel = this.#clock.at(this.#clock.now() + ms, () => {
          let code: AgentResultCode;
          if (planned) code = planned.code;
          else if (action === 'monitor') code = this.runningOn(resource).includes(node) ? 'ok' : 'not-running';
          else code = 'ok';
          if (code === 'ok' && action === 'start') this.leave(node, resource);
          if (code === 'ok' && action === 'stop') this.crash(node, resource);
          record(code);
          resolve({
            code,
            ...(planned?.detail ? { detail: planned.detail } : {}),
            ...(planned?.output ? { output: planned.output } : {}),
          });
        });
        signal.addEventListener('abort', () => {
          cancel();
          record('aborted');
          resolve({ code: 'cancelled', detail: 'aborted' });
        });
      });
    };
    return {
      describe: () => `fake:${resource}`,
      canMonitor: true,
      start: (signal) => call('start', signal),
      stop: (signal) => call('stop', signal),
      monitor: (signal) => call('monitor', signal),
    };
  }
}

/** A logger that keeps lines in memory. */
export function memoryLog(): {
  lines: string[];
  records: { level: string; msg: string; fields: Record<string, unknown> }[];
  log(level: 'error' | 'warn' | 'info' | 'debug', msg: string, fields?: Record<string, unknown>): void;
} {
  const lines: string[] = [];
  const records: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  return {
    lines,
    records,
    log(level, msg, fields = {}) {
      lines.push(msg);
      records.push({ level, msg, fields });
    },
  };
}
