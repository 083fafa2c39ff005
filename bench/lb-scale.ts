// bench/lb-scale: memory and CPU of `tandem run` with 1,000 virtual services health-checked every second, against the
// same daemon with no services, in the same invocation. Each run gets a fresh namespace holding a few TCP listeners
// that count the connections they accept (the checks); tandem's RSS (/proc/PID/status VmRSS) and CPU time
// (/proc/PID/stat utime+stime, all threads) are sampled for BENCH_SAMPLE_S after every real server is up and a
// warm-up. Needs root. See bench/README.md.
//
//   node --import tsx bench/lb-scale.ts                               # 1,000 services, 30 s sample, 1 run each
//   BENCH_REPS=3 BENCH_SERVICES=2000 BENCH_DATAPLANE=proxy node --import tsx bench/lb-scale.ts
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { callDaemon } from '../src/api/client.ts';
import type { DaemonStatus } from '../src/api/contract.ts';
import { canBuildLabs, createLab, type Lab } from '../test/netns/lab.ts';
import { eventually, Output, startTandem, type TandemProc, workDir } from '../test/netns/tandem-lab.ts';
import type { HostPort } from './tools/configs.ts';
import { type ProcSample, readProc } from './tools/proc.ts';
import { scaleCheckTargets, scaleConfig, scaleVip } from './tools/scale-config.ts';

const REPS = Number(process.env.BENCH_REPS ?? 1);
const SERVICES = Number(process.env.BENCH_SERVICES ?? 1000);
const SAMPLE_S = Number(process.env.BENCH_SAMPLE_S ?? 30);
const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 10);
const INTERVAL_MS = Number(process.env.BENCH_INTERVAL_MS ?? 1000);
const DATAPLANE = (process.env.BENCH_DATAPLANE ?? 'nft') as 'nft' | 'proxy';
const LISTENERS: HostPort[] = Array.from({ length: Number(process.env.BENCH_LISTENERS ?? 4) }, (_, i) => ({
  addr: `198.18.211.${i + 1}`,
  port: 9000,
}));

const root = new URL('../', import.meta.url).pathname;
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The accept counter in the lab: how many connections its listeners have accepted so far. */
async function startCounter(lab: Lab): Promise<() => Promise<number>> {
  const child = lab.spawn('lb', process.execPath, [
    '--import',
    'tsx',
    `${root}bench/tools/accept-counter.ts`,
    ...LISTENERS.map((l) => `${l.addr}:${l.port}`),
  ]);
  const out = new Output(child);
  await out.waitFor(/^listening/, 20_000);
  let seq = 0;
  return async () => {
    seq++;
    child.kill('SIGUSR2');
    const line = await out.waitFor(new RegExp(`^count seq=${seq} `), 5_000);
    return Number(/total=(\d+)/.exec(line)![1]);
  };
}

/** What one run measured. */
interface RunResult {
  services: number;
  targets: number;
  /** The daemon process (VRRP, control socket, the LB worker thread). */
  daemon: { rssMedianMiB: number; rssMaxMiB: number; hwmMiB: number; cpuPct: number };
  /** The supervisor process of `tandem run`. */
  supervisor: { rssMiB: number; cpuPct: number };
  /** Connections the listeners accepted per second during the sample. */
  acceptsPerS: number;
  /** Check runs per second the daemon counted during the sample (status lb.checks.runs). */
  runsPerS: number | null;
  /** How long the `tandem status` call at the end of the sample took. */
  statusMs: number;
}

/** `tandem status`, given time: with 1,000 services on a busy machine it takes longer than the lab helper waits. */
async function status(t: TandemProc): Promise<DaemonStatus> {
  const r = await callDaemon(t.control, 'GET', '/v1/status', undefined, 30_000);
  if (!r.ok) throw new Error(r.message);
  return r.body as DaemonStatus;
}

/** The daemon's count of check runs, and when (the middle of the status call: with 1,000 services it takes a while). */
async function checkRuns(t: TandemProc): Promise<{ runs: number | null; atMs: number; tookMs: number }> {
  const before = performance.now();
  const s = await status(t);
  const after = performance.now();
  return { runs: s.lb?.checks.runs ?? null, atMs: (before + after) / 2, tookMs: after - before };
}

async function oneRun(services: number): Promise<RunResult> {
  const dir = workDir('tandem-bench-scale-');
  const lab = await createLab(['lb']);
  try {
    const addrs = new Set(LISTENERS.map((l) => l.addr));
    // The proxy listens on its VIPs: they must be local. The nft data plane DNATs them, wherever they are.
    if (DATAPLANE === 'proxy') for (let i = 0; i < services; i++) addrs.add(scaleVip(i).addr);
    for (const a of addrs) await lab.run('lb', 'ip', ['addr', 'add', `${a}/32`, 'dev', 'lo']);
    const count = await startCounter(lab);
    const config = scaleConfig({ services, listeners: LISTENERS, dataplane: DATAPLANE, intervalMs: INTERVAL_MS });
    const t = await startTandem(lab, 'lb', config, { dir });
    const line = await t.out.waitFor(/Supervisor: started daemon pid \d+/);
    const daemonPid = Number(/pid (\d+)/.exec(line)![1]);
    const supervisorPid = t.child.pid!;
    const targets = scaleCheckTargets(services, LISTENERS);
    if (services > 0) {
      await eventually(
        `all ${targets} real servers up`,
        async () => {
          const s = await status(t);
          if (s.lb?.error) throw new Error(s.lb.error);
          return (s.lb?.services ?? []).flatMap((x) => x.servers).filter((r) => r.health === 'up' && r.programmed)
            .length;
        },
        (up) => up === targets,
        120_000,
      ).catch((e: Error) => {
        throw new Error(`${e.message}\n${t.out.lines.slice(-20).join('\n')}`);
      });
    }
    await sleep(WARMUP_S * 1000);

    const runs0 = await checkRuns(t);
    const acc0 = await count();
    const d0 = readProc(daemonPid);
    const s0 = readProc(supervisorPid);
    const t0 = performance.now();
    const rss: number[] = [];
    let last: ProcSample = d0;
    for (let i = 0; i < SAMPLE_S; i++) {
      await sleep(1000);
      last = readProc(daemonPid);
      rss.push(last.rssBytes);
    }
    const d1 = readProc(daemonPid);
    const s1 = readProc(supervisorPid);
    const wallS = (performance.now() - t0) / 1000;
    const acc1 = await count();
    const runs1 = await checkRuns(t);
    rss.sort((a, b) => a - b);
    const cpuPct = (a: ProcSample, b: ProcSample) => ((b.cpuTicks - a.cpuTicks) / CLK_TCK / wallS) * 100;
    return {
      services,
      targets,
      daemon: {
        rssMedianMiB: rss[Math.floor(rss.length / 2)]! / MiB,
        rssMaxMiB: rss[rss.length - 1]! / MiB,
        hwmMiB: last.hwmBytes / MiB,
        cpuPct: cpuPct(d0, d1),
      },
      supervisor: { rssMiB: s1.rssBytes / MiB, cpuPct: cpuPct(s0, s1) },
      acceptsPerS: (acc1 - acc0) / wallS,
      runsPerS:
        runs0.runs !== null && runs1.runs !== null
          ? (runs1.runs - runs0.runs) / ((runs1.atMs - runs0.atMs) / 1000)
          : null,
      statusMs: runs1.tookMs,
    };
  } finally {
    await lab.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
};

async function main(): Promise<void> {
  console.log(
    `# bench/lb-scale ${new Date().toISOString()}: ${SERVICES} services (${DATAPLANE}), TCP check every ${INTERVAL_MS} ms, ` +
      `${WARMUP_S} s warm-up after all up, ${SAMPLE_S} s sample, ${REPS} run(s) each, ${LISTENERS.length} listeners`,
  );
  // 0 services: the daemon alone (no LB worker thread). 1 service: plus the LB worker and its data plane, the fixed
  // cost. SERVICES: the cost that grows with the number of checked real servers is the difference to 1.
  const base: RunResult[] = [];
  const one: RunResult[] = [];
  const scale: RunResult[] = [];
  // Alternated, so drift on this shared machine hits all alike.
  for (let rep = 1; rep <= REPS; rep++) {
    for (const [n, into] of [
      [0, base],
      [1, one],
      [SERVICES, scale],
    ] as const) {
      const r = await oneRun(n);
      into.push(r);
      console.error(`rep ${rep} services ${n}: ${JSON.stringify(r)}`);
    }
  }
  const row = (label: string, rs: RunResult[]) => {
    const m = (f: (r: RunResult) => number) => median(rs.map(f));
    const runs = rs.map((r) => r.runsPerS).filter((x): x is number => x !== null);
    const expected = (rs[0]!.targets * 1000) / INTERVAL_MS;
    return {
      label,
      services: rs[0]!.services,
      targets: rs[0]!.targets,
      rss: m((r) => r.daemon.rssMedianMiB),
      rssMax: Math.max(...rs.map((r) => r.daemon.rssMaxMiB)),
      hwm: Math.max(...rs.map((r) => r.daemon.hwmMiB)),
      cpu: m((r) => r.daemon.cpuPct),
      supRss: m((r) => r.supervisor.rssMiB),
      supCpu: m((r) => r.supervisor.cpuPct),
      accepts: m((r) => r.acceptsPerS),
      runs: runs.length ? median(runs) : null,
      expected,
      statusMs: m((r) => r.statusMs),
    };
  };
  const b = row('no services', base);
  const o = row('1 service', one);
  const s = row(`${SERVICES} services`, scale);
  console.log(
    '\nrun | services | check targets | daemon RSS MiB median (max, peak) | daemon CPU % of one core | supervisor RSS MiB | supervisor CPU % | checks/s accepted (daemon runs/s; expected) | tandem status ms',
  );
  for (const r of [b, o, s])
    console.log(
      `${r.label} | ${r.services} | ${r.targets} | ${r.rss.toFixed(1)} (${r.rssMax.toFixed(1)}, ${r.hwm.toFixed(1)}) | ${r.cpu.toFixed(1)} | ${r.supRss.toFixed(1)} | ${r.supCpu.toFixed(1)} | ${r.accepts.toFixed(0)} (${r.runs === null ? '-' : r.runs.toFixed(0)}; ${r.expected.toFixed(0)}) | ${r.statusMs.toFixed(0)}`,
    );
  const pct = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;
  console.log(
    `\n${SERVICES} services ÷ no services: RSS ${(s.rss / b.rss).toFixed(2)}× (${pct(s.rss - b.rss)} MiB), ` +
      `CPU ${pct(s.cpu - b.cpu)} % of one core`,
  );
  console.log(
    `fixed cost of the load balancer (1 service − no services): ${pct(o.rss - b.rss)} MiB, ${pct(o.cpu - b.cpu)} % CPU`,
  );
  const perTargets = s.targets - o.targets;
  const perChecks = s.accepts - o.accepts;
  console.log(
    `growing cost (${SERVICES} services − 1 service): ${(((s.rss - o.rss) * 1000) / Math.max(1, perTargets)).toFixed(1)} MiB ` +
      `per 1,000 checked real servers, ${(((s.cpu - o.cpu) * 1000) / Math.max(1, perChecks)).toFixed(1)} % of one core ` +
      `per 1,000 checks/s`,
  );
}

if (!canBuildLabs()) {
  console.error('bench/lb-scale needs root and ip netns');
  process.exit(2);
}
await main();
