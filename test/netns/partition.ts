/**
 * The partition suite's runner: one run of one cell (nemesis × mode × implementation) in a fresh lab, torn down
 * whatever happens, and the table of many runs. bench/partition.ts runs the whole table; partition.test.ts a CI
 * subset with assertions. The parts plug in through partition-types.ts.
 *
 * A run: build the lab (two directors with an HTTP responder each, a client, the mode's extra hosts); start the
 * directors; wait until the preferred master alone holds the VIP and says so; start the checker (ip -ts monitor in
 * every director) and the client (a request every 10 ms, test/netns/tools/probe.ts); once the client is answered,
 * apply the nemesis and heal it; observe for the settle time; compute the figures (partition-check.ts).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { masterDownIntervalMs } from '../../src/vrrp/timers.ts';
import { createLab } from './lab.ts';
import { faketimeEnv, NEMESES, writeClockOffset } from './nemesis.ts';
import { analyzeRun, OwnershipWatch, type RunFigures } from './partition-check.ts';
import { IMPLEMENTATIONS, MODES, priorityOf, topology } from './partition-modes.ts';
import type { Director, Implementation, Mode, Nemesis, SuiteParams, Topology } from './partition-types.ts';
import { eventually, startProbe, startResponder, workDir } from './tandem-lab.ts';

/** One cell of the table. */
export interface Cell {
  nemesis: Nemesis;
  mode: Mode;
  impl: Implementation;
}

/** The figures of one run, with the client's counts. */
export interface RunResult extends RunFigures {
  /** Client requests sent and failed (no answer within 200 ms, refused, reset). */
  sent: number;
  failed: number;
  /** Who answered the client, by director. */
  who: Record<string, number>;
}

/** A cell's label, e.g. `vrrp-1way plain/keepalived`. */
export const cellName = (c: Cell) => `${c.nemesis.name} ${c.mode.name}/${c.impl.name}`;

/** The backups' Master_Down_Interval in a mode's lab. */
export function masterDownMs(topo: Topology, p: SuiteParams): number {
  const priority = priorityOf(topo, topo.directors[1]!);
  return masterDownIntervalMs({ version: 3, priority, advertIntervalMs: p.advertMs });
}

/**
 * Every cell whose nemesis, mode and implementation pass `only` (names; a dimension none of the names matches is
 * not filtered), in table order: nemesis, then mode, then implementation (keepalived's anchor row beside tandem's).
 */
export function cells(only: readonly string[] = []): Cell[] {
  const pick = <T extends { name: string }>(xs: readonly T[]) => {
    const hit = xs.filter((x) => only.includes(x.name));
    return hit.length ? hit : xs;
  };
  const known = [...NEMESES, ...MODES, ...IMPLEMENTATIONS].map((x) => x.name);
  const unknown = only.filter((n) => !known.includes(n));
  if (unknown.length) throw new Error(`unknown names ${unknown.join(', ')} (have: ${known.join(', ')})`);
  const out: Cell[] = [];
  for (const nemesis of pick(NEMESES))
    for (const mode of pick(MODES))
      for (const impl of pick(IMPLEMENTATIONS))
        if (mode.implementations.includes(impl.name)) out.push({ nemesis, mode, impl });
  return out;
}

/** Why a cell cannot run here, or null. */
export function cellUnavailable(c: Cell, p: SuiteParams): string | null {
  const topo = topology(c.mode);
  return (
    c.impl.unavailable() ??
    c.mode.unavailable(c.impl.name, { topo, params: p }) ??
    c.nemesis.unavailable?.(c.mode, c.impl.name) ??
    c.mode.declines?.(c.nemesis.name) ??
    null
  );
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs one cell once in a fresh lab; the lab and the run's files are removed also when it fails. */
export async function runCell(c: Cell, p: SuiteParams): Promise<RunResult> {
  const topo = topology(c.mode);
  const mdi = masterDownMs(topo, p);
  const dir = workDir('t14s-run-');
  const hosts = [...topo.directors, 'client', ...Object.keys(c.mode.extraHosts)];
  const lab = await createLab(hosts, topo.addrs, { prefix: 't14s' });
  const clockFile = (h: string) => join(dir, `t14s-clock-${h}`);
  try {
    await c.mode.setup?.(lab, dir);
    await Promise.all(topo.directors.map((h) => startResponder(lab, h)));
    const directors: Director[] = await Promise.all(
      topo.directors.map((h) => {
        let env: Record<string, string> | undefined;
        if (c.nemesis.needsClock) {
          writeClockOffset(clockFile(h), 0);
          env = faketimeEnv(clockFile(h));
        }
        return c.impl.start(lab, h, c.mode.config(c.impl.name, h, { topo, params: p, dir }), { dir, env });
      }),
    );
    const [master, ...backups] = directors as [Director, ...Director[]];
    const watch = new OwnershipWatch(lab, topo.directors, topo.vip);
    await steady(master, backups, watch, 20_000);
    await watch.start();
    if (watch.initial.join() !== master.host)
      throw new Error(
        `${cellName(c)}: the VIP moved before the fault (holders: ${watch.initial.join(', ') || 'none'})`,
      );
    const client = startProbe(lab, 'client', topo.vip, 10, 1_000 + c.nemesis.durationMs(p, mdi) + p.settleMs);
    await client.answered(50);
    const faultAt = Date.now();
    const faults = await c.nemesis.run({
      lab,
      topo,
      params: p,
      master,
      backups,
      masterDownMs: mdi,
      file: (name) => join(dir, `t14s-${name}`),
      setClock: (h, s) => writeClockOffset(clockFile(h), s),
      clockEnv: (h) => faketimeEnv(clockFile(h)),
    });
    const healed = Date.now();
    const [probe] = await Promise.all([client.done, sleep(Math.max(0, healed + p.settleMs - Date.now()))]);
    const to = Date.now();
    watch.stop();
    const figures = analyzeRun({
      initial: watch.initial,
      events: watch.events,
      from: watch.startedAt,
      to,
      master: master.host,
      faults,
      faultAt,
      graceMs: 3 * mdi + 500,
    });
    return { ...figures, sent: probe.sent, failed: probe.failed, who: probe.who };
  } finally {
    await lab.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Waits until the master alone says it is master and alone holds the VIP. */
async function steady(master: Director, backups: readonly Director[], watch: OwnershipWatch, timeoutMs: number) {
  await eventually(
    `${master.host} master, alone with the VIP`,
    async () => {
      const says = await Promise.all([master, ...backups].map((d) => d.isMaster()));
      const holds = await Promise.all([master, ...backups].map((d) => watch.holds(d.host)));
      return says.every((s, i) => s === (i === 0)) && holds.every((h, i) => h === (i === 0));
    },
    (ok) => ok,
    timeoutMs,
  ).catch((e: unknown) => {
    throw new Error(
      `${e instanceof Error ? e.message : e}\n${master.host}:\n${master.log().split('\n').slice(-20).join('\n')}`,
    );
  });
}

/** min / median / max. */
export interface Spread {
  min: number;
  median: number;
  max: number;
}

/** The spread of some numbers (median: the lower middle of an even count). */
export function spread(xs: readonly number[]): Spread {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0] ?? 0, median: s[Math.floor((s.length - 1) / 2)] ?? 0, max: s[s.length - 1] ?? 0 };
}

const fmt = (s: Spread) => {
  const [lo, mid, hi] = [s.min, s.median, s.max].map(Math.round);
  return lo === hi ? `${lo}` : `${lo}/${mid}/${hi}`;
};

/** The runs of one cell, or why it did not run. */
export interface CellRuns {
  cell: Cell;
  runs: RunResult[];
  /** Runs that threw (the lab could not be brought up, …), with the message. */
  errors: string[];
  skipped?: string;
}

/** The header of {@link tableRow}'s table. */
export const TABLE_HEADER = [
  '| nemesis | mode / impl | runs | two holders ms | no holder ms | false failovers | failed requests | takeover ms |',
  '|---|---|---|---|---|---|---|---|',
].join('\n');

/**
 * One row of the table: min/median/max over the runs (one number when they agree). A skipped cell names its reason
 * by number in `reasons` (each reason once, listed under the table by {@link skipReasons}).
 */
export function tableRow(r: CellRuns, reasons: string[] = []): string {
  const head = `| ${r.cell.nemesis.name} | ${r.cell.mode.name} / ${r.cell.impl.name}`;
  if (r.skipped) {
    if (!reasons.includes(r.skipped)) reasons.push(r.skipped);
    return `${head} | 0 | skipped [${reasons.indexOf(r.skipped) + 1}] | | | | |`;
  }
  const n = r.runs.length;
  const errs = r.errors.length ? ` (+${r.errors.length} failed)` : '';
  if (n === 0) return `${head} | 0${errs} | - | - | - | - | - |`;
  const took = r.runs.map((x) => x.takeoverMs).filter((x): x is number => x !== null);
  const takeover =
    took.length === 0 ? 'none' : `${fmt(spread(took))}${took.length < n ? ` (${took.length}/${n})` : ''}`;
  const failed = spread(r.runs.map((x) => x.failed));
  const sent = Math.round(spread(r.runs.map((x) => x.sent)).median);
  return `${head} | ${n}${errs} | ${fmt(spread(r.runs.map((x) => x.twoHoldersMs)))} | ${fmt(spread(r.runs.map((x) => x.noneMs)))} | ${fmt(spread(r.runs.map((x) => x.falseFailovers)))} | ${fmt(failed)} of ${sent} | ${takeover} |`;
}

/** The numbered reasons of the skipped rows. */
export function skipReasons(reasons: readonly string[]): string {
  return reasons.map((why, i) => `[${i + 1}] ${why}`).join('\n');
}

/**
 * The same results as a matrix: a row per nemesis, a column per mode / implementation (the etcd issue's modes
 * become more columns), each cell `two holders / no holder / failed requests`, medians in ms and counts.
 */
export function matrix(results: readonly CellRuns[]): string {
  const cols = [...new Set(results.map((r) => `${r.cell.mode.name} / ${r.cell.impl.name}`))];
  const rows = [...new Set(results.map((r) => r.cell.nemesis.name))];
  const cell = (n: string, col: string) => {
    const r = results.find((x) => x.cell.nemesis.name === n && `${x.cell.mode.name} / ${x.cell.impl.name}` === col);
    if (!r) return '';
    if (r.skipped) return 'skipped';
    if (r.runs.length === 0) return 'failed';
    const med = (f: (x: RunResult) => number) => Math.round(spread(r.runs.map(f)).median);
    return `${med((x) => x.twoHoldersMs)} / ${med((x) => x.noneMs)} / ${med((x) => x.failed)}`;
  };
  return [
    `| nemesis | ${cols.join(' | ')} |`,
    `|---|${cols.map(() => '---').join('|')}|`,
    ...rows.map((n) => `| ${n} | ${cols.map((c) => cell(n, c)).join(' | ')} |`),
  ].join('\n');
}

/** The legend: what each nemesis and mode does, and the timing. */
export function legend(p: SuiteParams, nemeses: readonly Nemesis[], modes: readonly Mode[]): string {
  const mdi = masterDownMs(topology(modes[0] ?? MODES[0]!), p);
  return [
    `VRRPv3, ${p.advertMs} ms adverts, priorities 150 (d1, master) / 100 (d2): Master_Down_Interval ${mdi} ms; faults last ${p.faultMs} ms (pauses: multiples of the interval), then ${p.settleMs} ms to settle.`,
    'Figures: min/median/max over the runs (one number when all agree). two holders / no holder: from ip -ts monitor in every director;',
    'false failovers: a backup taking the VIP while the master was healthy; failed requests: of the client probes every 10 ms;',
    'takeover: from the fault to the first backup holding the VIP (none: no backup took it).',
    ...nemeses.map((n) => `- ${n.name}: ${n.describe}`),
    ...modes.map((m) => `- mode ${m.name}: ${m.describe}`),
  ].join('\n');
}
