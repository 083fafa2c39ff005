/**
 * Test support for the VRRP reducer: a breadth-first walk over the states a machine can reach, for the tests that
 * check its tables (machine.test.ts: transitions; guard.test.ts: the guard's phases) against every input from every
 * reachable state.
 */
import type { Ms } from '../core/time.ts';
import { type InstanceState, type StepResult, step, type VrrpInput } from './machine.ts';
import type { InstanceConfig } from './types.ts';

/** How far and how finely to walk. */
export interface ExploreOptions {
  /** Inputs deep. */
  depth: number;
  /** Time between two inputs. */
  stepMs: Ms;
  /** The visited-set key: abstract time away (deadlines as "armed") so the walk stays finite. */
  key: (s: InstanceState) => string;
  /** The time of the first input. @default 0 */
  startMs?: Ms;
}

/**
 * Feeds every input of `inputs(state)` to every state reached from `start`, breadth first, and hands each step to
 * `visit` (which asserts).
 * @example exploreStates(cfg, initialState(cfg), () => allInputs(cfg), { depth: 6, stepMs: 700, key }, check)
 */
export function exploreStates(
  cfg: InstanceConfig,
  start: InstanceState,
  inputs: (s: InstanceState) => readonly VrrpInput[],
  opts: ExploreOptions,
  visit: (from: InstanceState, input: VrrpInput, r: StepResult) => void,
): void {
  const visited = new Set<string>();
  let frontier: { s: InstanceState; now: Ms }[] = [{ s: start, now: opts.startMs ?? 0 }];
  for (let depth = 0; depth < opts.depth && frontier.length > 0; depth++) {
    const next: typeof frontier = [];
    for (const { s, now } of frontier) {
      for (const input of inputs(s)) {
        const at = now + opts.stepMs;
        const r = step(cfg, s, input, at);
        visit(s, input, r);
        const key = opts.key(r.state);
        if (!visited.has(key)) {
          visited.add(key);
          next.push({ s: r.state, now: at });
        }
      }
    }
    frontier = next;
  }
}
