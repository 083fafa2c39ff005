// bench/partition: the partition suite's whole table. Every nemesis (VRRP-only drops one and two way, a full
// partition, a flapping link, 20 % and 50 % loss, SIGSTOP of the master for 2 × and 10 × Master_Down_Interval,
// SIGKILL, a wall-clock jump, an isolated master) × every mode (plain VRRP, guard, guard + ping targets) × every
// implementation that mode has (tandem; keepalived for the plain anchor rows), BENCH_REPS runs per cell, each in a
// fresh namespace lab. Reports per cell: time with two holders, time with none, false failovers, failed client
// requests (min/median/max over the runs). Cells this build cannot run are listed with the reason. Needs root.
// See bench/README.md.
//
//   node --import tsx bench/partition.ts
//   BENCH_REPS=1 BENCH_ONLY=vrrp-1way,sigkill,plain node --import tsx bench/partition.ts
import { canBuildLabs } from '../test/netns/lab.ts';
import { NEMESES } from '../test/netns/nemesis.ts';
import {
  type CellRuns,
  cellName,
  cells,
  cellUnavailable,
  legend,
  matrix,
  type RunResult,
  runCell,
  skipReasons,
  TABLE_HEADER,
  tableRow,
} from '../test/netns/partition.ts';
import { DEFAULT_PARAMS, MODES } from '../test/netns/partition-modes.ts';
import type { SuiteParams } from '../test/netns/partition-types.ts';

const num = (name: string, dflt: number, min: number, max: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min || v > max) {
    console.error(`${name}=${raw}: must be a number in ${min}..${max}`);
    process.exit(2);
  }
  return v;
};

const REPS = num('BENCH_REPS', 3, 1, 20);
const ONLY = (process.env.BENCH_ONLY ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const params: SuiteParams = {
  advertMs: num('BENCH_ADVERT_MS', DEFAULT_PARAMS.advertMs, 20, 1_000),
  faultMs: num('BENCH_FAULT_MS', DEFAULT_PARAMS.faultMs, 1_000, 60_000),
  settleMs: num('BENCH_SETTLE_MS', DEFAULT_PARAMS.settleMs, 500, 30_000),
};

if (!canBuildLabs()) {
  console.error('bench/partition needs root and ip netns');
  process.exit(2);
}
let selected: ReturnType<typeof cells>;
try {
  selected = cells(ONLY);
} catch (e) {
  console.error(`BENCH_ONLY: ${(e as Error).message}`);
  process.exit(2);
}

console.log(`# bench/partition ${new Date().toISOString()} (${REPS} runs per cell, ${selected.length} cells)`);
const results: CellRuns[] = [];
for (const cell of selected) {
  const skipped = cellUnavailable(cell, params);
  if (skipped) {
    results.push({ cell, runs: [], errors: [], skipped });
    continue;
  }
  const runs: RunResult[] = [];
  const errors: string[] = [];
  for (let i = 0; i < REPS; i++) {
    try {
      const r = await runCell(cell, params);
      runs.push(r);
      console.error(`${cellName(cell)} run ${i + 1}: ${JSON.stringify(r)}`);
    } catch (e) {
      errors.push((e as Error).message);
      console.error(`${cellName(cell)} run ${i + 1} failed: ${(e as Error).message}`);
    }
  }
  results.push({ cell, runs, errors });
}

const usedNemeses = NEMESES.filter((n) => selected.some((c) => c.nemesis === n));
const usedModes = MODES.filter((m) => selected.some((c) => c.mode === m));
console.log(`\n${legend(params, usedNemeses, usedModes)}\n`);
console.log(TABLE_HEADER);
const reasons: string[] = [];
for (const r of results) console.log(tableRow(r, reasons));
if (reasons.length) console.log(`\nskipped:\n${skipReasons(reasons)}`);
console.log('\nmedians, two holders ms / no holder ms / failed requests:\n');
console.log(matrix(results));
const failedRuns = results.flatMap((r) => r.errors.map((e) => `${cellName(r.cell)}: ${e.split('\n')[0]}`));
if (failedRuns.length) console.log(`\nruns that failed:\n${failedRuns.map((l) => `- ${l}`).join('\n')}`);
