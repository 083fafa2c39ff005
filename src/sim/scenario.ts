/**
 * Scenario files for `tandem sim`: timed steps (partitions, crashes, tracker changes, loss) run against a simulated
 * cluster, and what a client would have seen: for each virtual address, the intervals when no node held it (gap)
 * and when two or more did (overlap).
 */
import { z } from 'zod';
import type { Diagnostic } from '../config/diagnostics.ts';
import { readYaml } from '../config/load.ts';
import { duration } from '../config/schema.ts';
import { validateWith } from '../config/validate.ts';
import { TandemError } from '../core/errors.ts';
import type { Ms } from '../core/time.ts';
import type { SimCluster } from './cluster.ts';

const nodeName = z.string().min(1);

const step = z
  .strictObject({
    at: duration('at').describe('when, from the start of the run'),
    isolate: nodeName.optional().describe('cut this node off from every other'),
    partition: z.array(z.array(nodeName).min(1)).min(1).optional().describe('split the network into these groups'),
    heal: z.literal(true).optional().describe('restore every link'),
    stop: nodeName.optional().describe('graceful stop: masters send priority 0'),
    kill: nodeName.optional().describe('crash: no goodbye, addresses stay on the host'),
    start: nodeName.optional().describe('start a stopped or killed node'),
    loss: z.number().min(0).max(1).optional().describe('packet loss on every link from now on'),
    track: z
      .strictObject({ node: nodeName, instance: z.string(), tracker: z.string(), up: z.boolean() })
      .optional()
      .describe('report a tracked object up or down'),
    priority: z
      .strictObject({ node: nodeName, instance: z.string(), priority: z.number().int().min(1).max(255).nullable() })
      .optional()
      .describe('set a runtime priority (null: back to the configured one)'),
  })
  .superRefine((s, ctx) => {
    const actions = ACTIONS.filter((a) => s[a] !== undefined);
    if (actions.length !== 1)
      ctx.addIssue({
        code: 'custom',
        message: `a step needs exactly one action of ${ACTIONS.join(', ')}; got ${actions.length ? actions.join(', ') : 'none'}`,
        params: { code: 'TND_SIM_SCENARIO' },
      });
  });

const ACTIONS = ['isolate', 'partition', 'heal', 'stop', 'kill', 'start', 'loss', 'track', 'priority'] as const;

/** A scenario file. */
export const scenarioSchema = z.strictObject({
  duration: duration('duration').default(30_000).describe('how long to run'),
  steps: z.array(step).default([]).describe('timed steps, in any order'),
});

/** A validated scenario. */
export type Scenario = z.output<typeof scenarioSchema>;
/** One step of a scenario. */
export type ScenarioStep = Scenario['steps'][number];

/** Parses a scenario YAML; diagnostics point into the file like `tandem check`'s. */
export function parseScenario(file: string, text: string): { scenario?: Scenario; diagnostics: Diagnostic[] } {
  const y = readYaml(file, text);
  if (y.diagnostics.length) return { diagnostics: y.diagnostics };
  const r = validateWith(scenarioSchema, y.raw ?? {}, y.locator);
  return r.value ? { scenario: r.value, diagnostics: [] } : { diagnostics: r.diagnostics };
}

/** The default scenario: cut the master off at 5 s (its link goes down), heal at 15 s, run 25 s. */
export function defaultScenario(master: string): Scenario {
  return {
    duration: 25_000,
    steps: [
      { at: 5_000, isolate: master },
      { at: 15_000, heal: true },
    ],
  };
}

/** Applies one step to the cluster now. Throws TandemError (TND_SIM_SCENARIO) when it names an unknown node. */
export function applyStep(c: SimCluster, s: ScenarioStep): void {
  if (s.isolate !== undefined) c.isolate(s.isolate);
  else if (s.partition !== undefined) {
    // The client may stand in a group too; every other name must be a node of the cluster.
    for (const n of s.partition.flat())
      if (n !== CLIENT && !c.nodeNames.includes(n))
        throw new TandemError('TND_SIM_SCENARIO', `no node ${n} in this cluster`);
    c.network.partition(...s.partition);
  } else if (s.heal) c.heal();
  else if (s.stop !== undefined) c.stop(s.stop);
  else if (s.kill !== undefined) c.kill(s.kill);
  else if (s.start !== undefined) c.start(s.start);
  else if (s.loss !== undefined) c.network.setAllLinks({ loss: s.loss });
  else if (s.track) c.setTracker(s.track.node, s.track.instance, s.track.tracker, s.track.up);
  else if (s.priority) c.setPriority(s.priority.node, s.priority.instance, s.priority.priority);
}

/** The name a scenario uses for the client that talks to the virtual addresses (it may appear in partitions). */
export const CLIENT = 'client';

/** Runs the scenario's steps at their times, then to its end, watching what the client sees of each VIP. */
export function runScenario(c: SimCluster, sc: Scenario, vips: readonly string[] = []): VipCoverage[] {
  const watch = new VipWatch(vips);
  const steps = [...sc.steps].sort((a, b) => a.at - b.at);
  const advanceTo = (t: Ms): void => {
    // 1 ms steps: the simulation's resolution, so gaps and overlaps are exact to the millisecond.
    while (c.clock.now() < t) {
      c.runFor(1);
      watch.observe(c);
    }
  };
  watch.observe(c);
  for (const s of steps) {
    advanceTo(s.at);
    applyStep(c, s);
    watch.observe(c);
  }
  advanceTo(sc.duration);
  return watch.finish(c.clock.now());
}

/** One interval of a run. */
export interface Interval {
  from: Ms;
  to: Ms;
}

/** What a client of one virtual address saw. */
export interface VipCoverage {
  vip: string;
  /** When no node that holds it was reachable from the client, after one first was. */
  gaps: Interval[];
  /** When two or more nodes held it at once (whether or not the client could reach them). */
  overlaps: Interval[];
}

/** Follows, millisecond by millisecond, who holds each VIP and who the client can reach. */
class VipWatch {
  readonly #state = new Map<string, { seen: boolean; gapFrom?: Ms; overlapFrom?: Ms; cov: VipCoverage }>();

  constructor(vips: readonly string[]) {
    for (const vip of vips) this.#state.set(vip, { seen: false, cov: { vip, gaps: [], overlaps: [] } });
  }

  observe(c: SimCluster): void {
    const now = c.clock.now();
    for (const [vip, st] of this.#state) {
      const holders = c.hosts.holders(vip);
      const served = holders.some((n) => c.network.canReach(CLIENT, n));
      if (served) st.seen = true;
      if (!served && st.seen && st.gapFrom === undefined) st.gapFrom = now;
      if (served && st.gapFrom !== undefined) {
        st.cov.gaps.push({ from: st.gapFrom, to: now });
        st.gapFrom = undefined;
      }
      if (holders.length > 1 && st.overlapFrom === undefined) st.overlapFrom = now;
      if (holders.length <= 1 && st.overlapFrom !== undefined) {
        st.cov.overlaps.push({ from: st.overlapFrom, to: now });
        st.overlapFrom = undefined;
      }
    }
  }

  finish(end: Ms): VipCoverage[] {
    return [...this.#state.values()].map((st) => ({
      vip: st.cov.vip,
      gaps: st.gapFrom === undefined ? st.cov.gaps : [...st.cov.gaps, { from: st.gapFrom, to: end }],
      overlaps:
        st.overlapFrom === undefined ? st.cov.overlaps : [...st.cov.overlaps, { from: st.overlapFrom, to: end }],
    }));
  }
}
