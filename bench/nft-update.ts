// bench/nft-update: how long the nft data plane takes to program the kernel — the initial load of 1,000 virtual
// services × 10 real servers, a backend change in one of them, in all of them, and the flush + add transaction of
// one service with 10,000 real servers — as ratios to a bare `nft -f -` of a no-op transaction measured in the same
// run (the cost of starting nft at all). Median of BENCH_REPS runs each. Everything runs inside a network namespace
// this benchmark creates and deletes; no traffic is sent. Needs root. See bench/README.md.
//
//   node --import tsx bench/nft-update.ts
//   BENCH_REPS=9 BENCH_SERVICES=1000 BENCH_SERVERS=10 BENCH_BIG=10000 node --import tsx bench/nft-update.ts
import { performance } from 'node:perf_hooks';
import { createNftDataPlane } from '../src/dataplane/nft/index.ts';
import { compilePrograms, renderReplace, renderTransition } from '../src/dataplane/nft/render.ts';
import type { DataPlane, ServiceProgram } from '../src/lb/dataplane.ts';
import type { DesiredBackend } from '../src/lb/types.ts';
import { createConntrackReader } from '../src/os/conntrack.ts';
import { createNftRunner, type NftRunner } from '../src/os/nft.ts';
import { canBuildLabs, createLab } from '../test/netns/lab.ts';

const REPS = Number(process.env.BENCH_REPS ?? 5);
const SERVICES = Number(process.env.BENCH_SERVICES ?? 1000);
const SERVERS = Number(process.env.BENCH_SERVERS ?? 10);
const BIG = Number(process.env.BENCH_BIG ?? 10_000);
const TABLE = 'tndbench';

/** The n-th address of 198.18.0.0/15 from an offset: room for 131,072 addresses, all inside the lab namespace. */
function addr(n: number): string {
  return `198.${18 + ((n >> 16) & 1)}.${(n >> 8) & 255}.${n & 255}`;
}

function backend(n: number, weight = 1): DesiredBackend {
  const a = addr(n);
  return { key: `${a}:80`, addr: a, port: 80, weight, op: 'up', reason: 'up' };
}

/** Service i: VIP 198.18.0.0/22-ish range offset, `servers` backends from a pool after the VIPs; `variant` shifts one. */
function service(i: number, servers: number, variant: number): ServiceProgram {
  const base = 4096 + i * (servers + 1);
  const backends = Array.from({ length: servers }, (_, k) => backend(base + k));
  // A variant replaces the last backend by a spare one: a real change of the slot map, same slot count.
  if (variant % 2 === 1) backends[servers - 1] = backend(base + servers);
  return {
    id: `svc${i}`,
    vip: addr(1 + i),
    port: 80,
    protocol: 'tcp',
    family: 4,
    scheduler: 'rr',
    method: 'nat',
    persistence: null,
    quorum: 'up',
    backends,
    sorry: null,
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] ?? Number.NaN;
};

async function timeIt(run: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await run();
  return performance.now() - t0;
}

async function main(): Promise<void> {
  if (!canBuildLabs()) {
    console.error('bench/nft-update needs root and ip netns');
    process.exit(1);
  }
  const lab = await createLab(['nft']);
  try {
    const wrap = ['ip', 'netns', 'exec', lab.host('nft').ns];
    const nft: NftRunner = createNftRunner({ wrap, timeoutMs: 120_000 });
    const fresh = (): DataPlane =>
      createNftDataPlane({ table: TABLE, nft, conntrack: createConntrackReader({ wrap }), applyTimeoutMs: 120_000 });
    await nft.apply('add table inet tndbase\n');

    const rows: { name: string; ms: number; renderMs?: number; bytes?: number }[] = [];
    const baseline: number[] = [];
    for (let r = 0; r < Math.max(REPS, 5); r++)
      baseline.push(await timeIt(() => nft.apply('add table inet tndbase\n')));
    const base = median(baseline);
    rows.push({ name: 'baseline: nft -f - of a no-op transaction', ms: base });

    const many = (variant: number, changed: (i: number) => boolean): ServiceProgram[] =>
      Array.from({ length: SERVICES }, (_, i) => service(i, SERVERS, changed(i) ? variant : 0));

    // Initial load: a fresh data plane replaces the table whole (the render time is measured apart, pure CPU).
    {
      const desired = many(0, () => false);
      const t: number[] = [];
      const rt: number[] = [];
      let bytes = 0;
      for (let r = 0; r < REPS; r++) {
        const t0 = performance.now();
        bytes = renderReplace(TABLE, compilePrograms(desired)).length;
        rt.push(performance.now() - t0);
        const dp = fresh();
        t.push(await timeIt(() => dp.apply(desired)));
      }
      rows.push({
        name: `initial load: ${SERVICES} services × ${SERVERS} servers`,
        ms: median(t),
        renderMs: median(rt),
        bytes,
      });
    }

    // One service changed, then all of them, against the loaded table (variants alternate so every run changes).
    for (const [label, pick] of [
      ['one service changed', (r: number) => (i: number) => i === (r * 37) % SERVICES],
      ['all services changed', () => () => true],
    ] as const) {
      const dp = fresh();
      let prev = compilePrograms(many(0, () => false));
      await dp.apply(prev.services);
      const t: number[] = [];
      const rt: number[] = [];
      let bytes = 0;
      for (let r = 0; r < REPS; r++) {
        const list = many(r + 1, pick(r));
        // The data plane's own steps, timed apart: compile (reusing unchanged plans) and render the transaction.
        const t0 = performance.now();
        const next = compilePrograms(list, prev);
        bytes = renderTransition(TABLE, prev, next).script.length;
        rt.push(performance.now() - t0);
        const rep = await dp.apply(list);
        if (rep.changed.length === 0) throw new Error(`${label}: nothing changed`);
        t.push(rep.tookMs);
        prev = next;
      }
      rows.push({ name: `${label} (of ${SERVICES} × ${SERVERS})`, ms: median(t), renderMs: median(rt), bytes });
    }

    // One service with BIG real servers: the initial load, then flush map + add element of all BIG slots.
    {
      const dp = fresh();
      const t0 = performance.now();
      let prev = compilePrograms([service(0, BIG, 0)]);
      await dp.apply(prev.services);
      rows.push({ name: `initial load: 1 service × ${BIG} servers`, ms: performance.now() - t0 });
      const t: number[] = [];
      const rt: number[] = [];
      let bytes = 0;
      for (let r = 0; r < REPS; r++) {
        const list = [service(0, BIG, r + 1)];
        const r0 = performance.now();
        const next = compilePrograms(list, prev);
        bytes = renderTransition(TABLE, prev, next).script.length;
        rt.push(performance.now() - r0);
        t.push((await dp.apply(list)).tookMs);
        prev = next;
      }
      rows.push({ name: `flush + add of ${BIG} slots (1 service)`, ms: median(t), renderMs: median(rt), bytes });
      await dp.close();
    }

    console.log(`\n## nft-update: median of ${REPS} runs (baseline of ${Math.max(REPS, 5)}), in a lab namespace`);
    console.log('case | ms (render + nft) | × baseline | of which render ms | script KiB');
    for (const row of rows) {
      console.log(
        `${row.name} | ${row.ms.toFixed(1)} | ${(row.ms / base).toFixed(1)} | ${
          row.renderMs === undefined ? '-' : row.renderMs.toFixed(1)
        } | ${row.bytes === undefined ? '-' : (row.bytes / 1024).toFixed(1)}`,
      );
    }
  } finally {
    await lab.teardown();
  }
}

await main();
