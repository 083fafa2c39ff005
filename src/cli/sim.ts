/** `tandem sim`: runs a cluster from real config files under simulated time and prints what happened. */
import { basename } from 'node:path';
import { formatDiagnostic } from '../config/diagnostics.ts';
import { type ConfigFs, loadConfig } from '../config/load.ts';
import type { TandemConfig } from '../config/schema.ts';
import { TandemError } from '../core/errors.ts';
import type { Ms } from '../core/time.ts';
import { nodePlan } from '../plan/node-plan.ts';
import { type SimNodeSpec, simCluster } from '../sim/cluster.ts';
import { defaultScenario, parseScenario, runScenario, type Scenario, type VipCoverage } from '../sim/scenario.ts';
import type { CliIo } from './io.ts';

/** Options of `tandem sim`. */
export interface SimOptions {
  /** Scenario YAML; default: isolate the master at 5 s, heal at 15 s. */
  scenario?: string;
  /** @default 1 */
  seed: number;
  /** Print the timeline as JSON lines. @default false */
  json?: boolean;
  /** keepalived's config id (`-i`) for every file. */
  configId?: string;
}

/** Runs the simulation; returns the exit code (0 ok, 1 bad config or scenario). */
export function runSim(files: readonly string[], opts: SimOptions, fs: ConfigFs, io: CliIo): number {
  const loaded: { file: string; config: TandemConfig }[] = [];
  let bad = false;
  for (const file of files) {
    const r = loadConfig(file, fs, undefined, opts.configId === undefined ? {} : { configId: opts.configId });
    for (const d of r.diagnostics) if (d.severity === 'error') io.err(formatDiagnostic(d));
    if (r.config) loaded.push({ file, config: r.config });
    else bad = true;
  }
  if (bad) return 1;

  let scenario: Scenario | undefined;
  if (opts.scenario) {
    const text = fs.read(opts.scenario);
    if (text === undefined) {
      io.err(`${opts.scenario}:1:1 error TND_CFG_IO (file): cannot read the file`);
      return 1;
    }
    const p = parseScenario(opts.scenario, text);
    for (const d of p.diagnostics) io.err(formatDiagnostic(d));
    if (!p.scenario) return 1;
    scenario = p.scenario;
  }

  let nodes: SimNodeSpec[];
  try {
    nodes = simNodes(loaded);
  } catch (e) {
    if (e instanceof TandemError) {
      io.err(`tandem sim: ${e.message}`);
      return 1;
    }
    throw e;
  }
  const first = nodes.flatMap((n) => n.instances)[0];
  if (!first) {
    io.err('tandem sim: the config has no VRRP instance to simulate');
    return 1;
  }

  const vips = [...new Set(nodes.flatMap((n) => n.instances.flatMap((i) => i.vips.map((v) => v.addr))))];
  const c = simCluster({ nodes, seed: opts.seed, wire: 'bytes' });
  let coverage: VipCoverage[];
  try {
    if (!scenario) {
      // The default story: whoever is master after start-up is cut off, then the network heals. A dry run of the
      // same seed finds that master, so the real run's observation starts at time 0.
      const probe = simCluster({ nodes, seed: opts.seed, wire: 'bytes' });
      probe.runFor(5_000);
      scenario = defaultScenario(probe.owners(first.name)[0] ?? nodes[0]!.name);
    }
    coverage = runScenario(c, scenario, vips);
  } catch (e) {
    if (e instanceof TandemError) {
      io.err(`tandem sim: scenario step failed: ${e.message}`);
      return 1;
    }
    throw e;
  }

  if (opts.json) {
    for (const t of c.timeline) io.out(JSON.stringify(t));
    return 0;
  }
  const nw = Math.max(4, ...nodes.map((n) => n.name.length));
  const iw = Math.max(8, ...nodes.flatMap((n) => n.instances.map((i) => i.name.length)));
  io.out(
    `simulated ${nodes.length} nodes for ${seconds(scenario.duration)} (seed ${opts.seed}); adverts go through the real codec`,
  );
  for (const n of nodes)
    io.out(
      `  ${n.name.padEnd(nw)}  ${n.instances.map((i) => `${i.name} v${i.version} prio ${i.priority}`).join(', ')}`,
    );
  io.out('');
  const events = [
    ...c.timeline.map((t) => ({
      at: t.at,
      text: `${t.node.padEnd(nw)}  ${t.instance.padEnd(iw)}  ${t.from.padEnd(6)} -> ${t.to.padEnd(6)}  (${t.cause}, priority ${t.priority})`,
    })),
    ...scenario.steps.map((s) => ({ at: s.at, text: `${'*'.padEnd(nw)}  ${describeStep(s)}` })),
  ].sort((a, b) => a.at - b.at);
  for (const e of events) io.out(`${seconds(e.at).padStart(9)}  ${e.text}`);
  io.out('');
  for (const cov of coverage) {
    const vip = cov.vip;
    const gap = cov.gaps.reduce((s, g) => s + g.to - g.from, 0);
    const overlap = cov.overlaps.reduce((s, g) => s + g.to - g.from, 0);
    io.out(
      `${vip}: client-visible gap ${seconds(gap)}${cov.gaps.length ? ` (${cov.gaps.map(span).join(', ')})` : ''}; ` +
        `held by two or more nodes ${seconds(overlap)}${cov.overlaps.length ? ` (${cov.overlaps.map(span).join(', ')})` : ''}`,
    );
  }
  return 0;
}

const seconds = (ms: Ms): string => `${(ms / 1000).toFixed(3)}s`;
const span = (i: { from: Ms; to: Ms }): string => `${seconds(i.from)} -> ${seconds(i.to)}`;

function describeStep(s: Scenario['steps'][number]): string {
  if (s.isolate !== undefined) return `isolate ${s.isolate}`;
  if (s.partition) return `partition ${s.partition.map((g) => `[${g.join(' ')}]`).join(' ')}`;
  if (s.heal) return 'heal the network';
  if (s.stop !== undefined) return `stop ${s.stop} (graceful)`;
  if (s.kill !== undefined) return `kill ${s.kill} (crash)`;
  if (s.start !== undefined) return `start ${s.start}`;
  if (s.loss !== undefined) return `packet loss ${Math.round(s.loss * 100)}%`;
  if (s.track) return `${s.track.node} ${s.track.instance} tracker ${s.track.tracker} ${s.track.up ? 'up' : 'down'}`;
  if (s.priority) return `${s.priority.node} ${s.priority.instance} priority ${s.priority.priority ?? 'as configured'}`;
  return 'step';
}

/**
 * One YAML file describes the whole cluster (its cluster.nodes); several files are one node each (keepalived.conf
 * style, named by router_id, or by file name when two share one).
 */
export function simNodes(loaded: readonly { file: string; config: TandemConfig }[]): SimNodeSpec[] {
  const specs: SimNodeSpec[] = [];
  const fallback = (i: number): string => `198.18.0.${11 + i}`;
  if (loaded.length === 1 && loaded[0]!.config.cluster.nodes.length > 1) {
    const cfg = loaded[0]!.config;
    cfg.cluster.nodes.forEach((n, i) => {
      const plan = nodePlan(cfg, n.name);
      specs.push({
        name: n.name,
        primaryAddr: n.address ?? fallback(i),
        instances: plan.instances,
        syncGroups: plan.syncGroups,
      });
    });
    return specs;
  }
  const names = new Set<string>();
  loaded.forEach(({ file, config }, i) => {
    let name = config.cluster.nodes[0]?.name ?? basename(file).replace(/\.[^.]*$/, '');
    if (names.has(name)) name = basename(file).replace(/\.[^.]*$/, '');
    if (names.has(name)) name = `node${i + 1}`;
    names.add(name);
    const plan = nodePlan(config, config.cluster.nodes[0]?.name ?? name);
    const own = plan.instances.find((x) => x.unicastSrc ?? x.mcastSrc);
    specs.push({
      name,
      primaryAddr: plan.address ?? own?.unicastSrc ?? own?.mcastSrc ?? fallback(i),
      instances: plan.instances,
      syncGroups: plan.syncGroups,
    });
  });
  if (specs.length < 2)
    throw new TandemError(
      'TND_SIM_SCENARIO',
      'a simulation needs two or more nodes: one YAML file with cluster.nodes, or one keepalived.conf per node',
    );
  return specs;
}
