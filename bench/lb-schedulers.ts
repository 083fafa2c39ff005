// bench/lb-schedulers: how long the slot tables the kernel data plane programs take to build, as ratios to a plain
// round-robin table of the same size built in the same run, and how much of a Maglev table moves when one backend
// leaves (the paper's linear walk against the cubic walk tandem uses). Pure CPU, no root, a few seconds.
// See bench/README.md.
//
//   node --import tsx bench/lb-schedulers.ts
//   BENCH_REPS=50 BENCH_BACKENDS=1000 node --import tsx bench/lb-schedulers.ts
import { seededRng } from '../src/core/rng.ts';
import { hashString, MAGLEV_SKIP_SEED } from '../src/lb/hash.ts';
import { MAGLEV_DEFAULT_SLOTS, type MaglevPermutation, maglevTable } from '../src/lb/schedulers/mh.ts';
import { rrSlotTable, slotTable } from '../src/lb/schedulers/slots.ts';

const REPS = Number(process.env.BENCH_REPS ?? 20);
const N = Number(process.env.BENCH_BACKENDS ?? 100);
const SETS = Number(process.env.BENCH_SETS ?? 200);
const M = MAGLEV_DEFAULT_SLOTS;

type B = { key: string; weight: number };
const rng = seededRng(1);
const randomKey = () =>
  `${rng.int(1, 223)}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}:${rng.int(1, 65_535)}`;

/** Median ms per call of `build` over REPS runs after two warm-up runs. */
function msPerBuild(build: () => unknown): number {
  build();
  build();
  const times: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    build();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? Number.NaN;
}

function buildTimes(): void {
  const equal: B[] = Array.from({ length: N }, () => ({ key: randomKey(), weight: 1 }));
  const weighted: B[] = equal.map((b) => ({ ...b, weight: rng.int(1, 10) }));
  const base = msPerBuild(() => rrSlotTable(equal, M));
  const rows: [string, number][] = [
    ['rr slot table (baseline)', base],
    ['weighted slot table (wrr, sh)', msPerBuild(() => slotTable(weighted, M))],
    ['Maglev, cubic walk, equal weights', msPerBuild(() => maglevTable(equal, M, 'cubic'))],
    ['Maglev, cubic walk, weights 1..10', msPerBuild(() => maglevTable(weighted, M, 'cubic'))],
    ['Maglev, linear walk (paper), equal weights', msPerBuild(() => maglevTable(equal, M, 'linear'))],
  ];
  console.log(`\n## table builds: M = ${M} slots, ${N} backends, median of ${REPS}`);
  console.log('table | ms per build | × rr baseline');
  for (const [name, ms] of rows) console.log(`${name} | ${ms.toFixed(2)} | ${(ms / base).toFixed(1)}`);
}

/** Share of the slots that change owner, and of those the leaver did not own, when backend `gone` leaves. */
function disruption(backends: B[], gone: number, perm: MaglevPermutation): { changed: number; others: number } {
  const before = maglevTable(backends, M, perm);
  const rest = backends.filter((_, i) => i !== gone);
  const after = maglevTable(rest, M, perm);
  const leaver = backends[gone]?.key;
  let changed = 0;
  let others = 0;
  for (let s = 0; s < M; s++) {
    const was = backends[before[s] ?? -1]?.key;
    if (was !== rest[after[s] ?? -1]?.key) {
      changed++;
      if (was !== leaver) others++;
    }
  }
  return { changed: changed / M, others: others / M };
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const summary = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
  return `${pct(at(0.5))} | ${pct(at(0.99))} | ${pct(s.at(-1) ?? Number.NaN)}`;
};

function disruptions(): void {
  const skip = (k: string) => hashString(k, MAGLEV_SKIP_SEED) % (M - 1);
  console.log(`\n## Maglev disruption: one of 10 equal backends leaves, M = ${M}`);
  console.log('walk | backend sets | changed p50 | p99 | max | others moved p50 | p99 | max');
  for (const collide of [false, true]) {
    const sets = collide ? Math.max(10, Math.floor(SETS / 5)) : SETS;
    const result: Record<MaglevPermutation, { changed: number[]; others: number[] }> = {
      cubic: { changed: [], others: [] },
      linear: { changed: [], others: [] },
    };
    for (let t = 0; t < sets; t++) {
      const backends: B[] = Array.from({ length: 10 }, () => ({ key: randomKey(), weight: 1 }));
      if (collide) {
        // Maglev's weak case: a second backend with the first one's skip; the first one leaves.
        const want = skip(backends[0]?.key ?? '');
        let k = randomKey();
        while (skip(k) !== want) k = randomKey();
        backends[1] = { key: k, weight: 1 };
      }
      const gone = collide ? 0 : rng.int(0, 9);
      for (const perm of ['cubic', 'linear'] as const) {
        const d = disruption(backends, gone, perm);
        result[perm].changed.push(d.changed);
        result[perm].others.push(d.others);
      }
    }
    for (const perm of ['cubic', 'linear'] as const) {
      const label = collide ? `${sets} with a skip collision` : `${sets} random`;
      console.log(`${perm} | ${label} | ${summary(result[perm].changed)} | ${summary(result[perm].others)}`);
    }
  }
}

console.log(`# bench/lb-schedulers (node ${process.version}, ${REPS} reps, ${N} backends)`);
buildTimes();
disruptions();
