/**
 * Ready-made simulation runs whose numbers tests assert and reports quote: how long a healed partition takes to
 * get back to one master, and a seeded random walk of partitions and loss that checks VRRP's convergence promise.
 */
import { seededRng } from '../core/rng.ts';
import type { Ms } from '../core/time.ts';
import { handoverLingerMs } from '../vrrp/machine.ts';
import { masterDownIntervalMs } from '../vrrp/timers.ts';
import { type SimCluster, type SimNodeSpec, simCluster } from './cluster.ts';
import type { LinkOptions } from './sim-network.ts';

/** What {@link measureHealToOneMaster} found. */
export interface HealMeasurement {
  /** Masters of the instance just before the heal (a split brain has two or more). */
  mastersBeforeHeal: string[];
  /** From the heal to the first instant with exactly one master and one holder of each VIP; null if not reached. */
  elapsedMs: Ms | null;
  /** The one master after convergence. */
  master: string | null;
}

/** How to run {@link measureHealToOneMaster}. */
export interface HealOptions {
  nodes: readonly SimNodeSpec[];
  instance: string;
  seed: number;
  /** The split: nodes in one group reach each other only. */
  groups: readonly (readonly string[])[];
  link?: Partial<LinkOptions>;
  /** Time before the split, for the cluster to settle. @default 10_000 */
  settleMs?: Ms;
  /** How long the split lasts (long enough for each side to elect a master). @default 10_000 */
  splitMs?: Ms;
  /** Give up after this long. @default 60_000 */
  limitMs?: Ms;
}

/** Exactly one master of `instance`, and exactly one holder of each of its VIPs. */
export function oneMaster(c: SimCluster, instance: string): boolean {
  const owners = c.owners(instance);
  if (owners.length !== 1) return false;
  const cfg = c.nodeNames.map((n) => c.instance(n, instance)?.config).find((x) => x !== undefined);
  return (cfg?.vips ?? []).every((v) => c.vipHolders(v.addr).length === 1);
}

/**
 * Splits a settled cluster, lets each side elect its own master, heals, and measures how long until there is one
 * master again.
 * @example measureHealToOneMaster({ nodes, instance: 'VI_1', seed: 1, groups: [['d1'], ['d2']] }).elapsedMs
 */
export function measureHealToOneMaster(opts: HealOptions): HealMeasurement {
  const c = simCluster({ nodes: opts.nodes, seed: opts.seed, ...(opts.link ? { link: opts.link } : {}) });
  c.runFor(opts.settleMs ?? 10_000);
  c.partition(...opts.groups);
  c.runFor(opts.splitMs ?? 10_000);
  const mastersBeforeHeal = c.owners(opts.instance);
  c.heal();
  const r = c.runUntil(() => oneMaster(c, opts.instance), opts.limitMs ?? 60_000);
  return {
    mastersBeforeHeal,
    elapsedMs: r.ok ? r.elapsedMs : null,
    master: r.ok ? (c.owners(opts.instance)[0] ?? null) : null,
  };
}

/** How to run {@link chaosRun}. */
export interface ChaosOptions {
  nodes: readonly SimNodeSpec[];
  seed: number;
  /** Random actions to take. */
  steps: number;
  /** Link options for healthy links (delay, jitter, duplication); loss comes and goes with the walk. */
  link?: Partial<LinkOptions>;
  /** How often the invariant is checked while time runs. @default 50 */
  checkEveryMs?: Ms;
  /** Longest wait between two actions. @default 3_000 */
  maxWaitMs?: Ms;
  /**
   * Events (timers, deliveries) allowed in one check interval before the run is stopped as a packet storm — a
   * regression in the election (two masters answering each other forever) must fail the test, not hang it.
   * @default 100_000
   */
  stormEvents?: number;
}

/** A moment the network had been healthy long enough and there was not exactly one master. */
export interface ChaosViolation {
  at: Ms;
  healthySinceMs: Ms;
  instance: string;
  masters: string[];
  vipHolders: Record<string, string[]>;
}

/** What {@link chaosRun} saw. */
export interface ChaosReport {
  /** Invariant checks made while the network had been healthy for longer than the grace period. */
  checks: number;
  violations: ChaosViolation[];
  /** The grace period: the largest Master_Down_Interval plus three one-way delays (see {@link convergenceGraceMs}). */
  graceMs: Ms;
  /** Healthy periods that lasted past the grace period. */
  healthyWindows: number;
  /** The longest time from the network becoming healthy to one master per instance, over those windows. */
  longestConvergenceMs: Ms;
  simulatedMs: Ms;
  actions: Record<string, number>;
  /** Why the run stopped early, if it did. */
  aborted?: string;
}

/**
 * How long after the network becomes healthy VRRP must have exactly one master: the longest Master_Down_Interval
 * (the lowest priority's, with the longest interval) plus the handover linger a beaten master keeps its VIPs for
 * (docs/handover.md) plus three one-way delays — one for an advert sent just before
 * the heal to land, one for the new master's first advert, and one for the RFC 9568 reply of a higher master that
 * hears it.
 */
export function convergenceGraceMs(nodes: readonly SimNodeSpec[], maxDelayMs: Ms): Ms {
  let mdi = 0;
  for (const n of nodes) {
    for (const cfg of n.instances) {
      // A master beaten at the heal keeps its VIPs for the handover linger (make-before-break, docs/handover.md).
      const linger = handoverLingerMs(cfg.advertIntervalMs);
      mdi = Math.max(
        mdi,
        linger +
          masterDownIntervalMs({
            version: cfg.version,
            priority: Math.min(cfg.priority, 254),
            advertIntervalMs: cfg.advertIntervalMs,
            downTimerAdverts: cfg.downTimerAdverts,
          }),
      );
    }
  }
  return mdi + 3 * maxDelayMs;
}

/**
 * A seeded random walk: isolate nodes, split the network, add and remove loss, heal — and whenever the network has
 * been healthy (no partition, no loss) for longer than the grace period, check that every instance has exactly one
 * master and each VIP exactly one holder.
 */
export function chaosRun(opts: ChaosOptions): ChaosReport {
  const c = simCluster({ nodes: opts.nodes, seed: opts.seed, ...(opts.link ? { link: opts.link } : {}) });
  const rng = seededRng(opts.seed * 7919 + 17);
  const names = c.nodeNames;
  const instances = [...new Set(opts.nodes.flatMap((n) => n.instances.map((i) => i.name)))];
  const every = opts.checkEveryMs ?? 50;
  const maxWait = opts.maxWaitMs ?? 3000;
  const storm = opts.stormEvents ?? 100_000;
  const healthyLink = { loss: 0, ...opts.link };
  const report: ChaosReport = {
    checks: 0,
    violations: [],
    graceMs: convergenceGraceMs(opts.nodes, c.network.maxDelayMs()),
    healthyWindows: 0,
    longestConvergenceMs: 0,
    simulatedMs: 0,
    actions: {},
  };
  let healthySince: Ms | null = 0;
  let converged = false;
  let windowCounted = false;
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(0, xs.length - 1)] as T;

  const act = (): string => {
    const r = rng.next();
    if (r < 0.3) {
      c.heal();
      c.network.setAllLinks(healthyLink);
      return 'heal';
    }
    if (r < 0.4) {
      c.isolate(pick(names));
      return 'isolate';
    }
    if (r < 0.5) {
      const side = names.filter(() => rng.next() < 0.5);
      c.partition(side);
      return 'partition';
    }
    if (r < 0.6) {
      const a = pick(names);
      const b = pick(names.filter((n) => n !== a));
      c.network.setLink(a, b, { loss: 0.1 + 0.8 * rng.next() }, rng.next() < 0.5);
      return 'link-loss';
    }
    if (r < 0.65) {
      c.network.setAllLinks({ ...healthyLink, loss: 0.05 + 0.5 * rng.next() });
      return 'loss-everywhere';
    }
    return 'wait';
  };

  const check = (): void => {
    const now = c.clock.now();
    if (healthySince === null) return;
    const ok = instances.every((i) => oneMaster(c, i));
    if (!converged && ok) {
      converged = true;
      report.longestConvergenceMs = Math.max(report.longestConvergenceMs, now - healthySince);
    }
    if (now - healthySince <= report.graceMs) return;
    if (!windowCounted) {
      windowCounted = true;
      report.healthyWindows++;
    }
    report.checks++;
    for (const i of instances) {
      if (oneMaster(c, i)) continue;
      const cfg = opts.nodes.flatMap((n) => n.instances).find((x) => x.name === i);
      const vipHolders: Record<string, string[]> = {};
      for (const v of cfg?.vips ?? []) vipHolders[v.addr] = c.vipHolders(v.addr);
      report.violations.push({ at: now, healthySinceMs: healthySince, instance: i, masters: c.owners(i), vipHolders });
    }
  };

  for (let s = 0; s < opts.steps; s++) {
    const action = act();
    report.actions[action] = (report.actions[action] ?? 0) + 1;
    if (!c.network.healthy) healthySince = null;
    else if (healthySince === null) {
      healthySince = c.clock.now();
      converged = false;
      windowCounted = false;
    }
    const wait = rng.int(every, maxWait);
    for (let t = 0; t < wait; t += every) {
      const fired = c.clock.runFor(Math.min(every, wait - t));
      if (fired > storm) {
        report.aborted = `packet storm: ${fired} events in ${every} ms at ${c.clock.now()} ms (step ${s})`;
        report.simulatedMs = c.clock.now();
        return report;
      }
      check();
    }
  }
  report.simulatedMs = c.clock.now();
  return report;
}
