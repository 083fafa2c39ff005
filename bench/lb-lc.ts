// bench/lb-lc: least connections on a skewed workload, the spread of active connections per real server, for
// tandem's nft data plane with its lc feedback (nft-lc), the same nft service without feedback (nft-random: weighted
// random, what lc was in the kernel before), and the user-space proxy's exact lc (proxy-lc), all in one invocation
// with the same three real servers, one of them three times slower. The workload: LONG connections held for the whole
// run, opened over its first 40 %, plus short ones at RATE per second (each held SHORT_MS, three times longer on the
// slow server). Everything runs in one fresh network namespace (the client's connections to the VIP go through the
// nft output hook, as in bench/lb); each real server reports its open connections every 250 ms, sampled over the
// last 60 % of the run. Needs root and nft. See bench/README.md.
//
//   node --import tsx bench/lb-lc.ts
//   BENCH_DURATION_S=20 BENCH_RATE=150 BENCH_LONG=30 node --import tsx bench/lb-lc.ts
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServiceProgram } from '../src/lb/dataplane.ts';
import { serverKey } from '../src/lb/types.ts';
import { canBuildLabs, createLab, type Lab } from '../test/netns/lab.ts';
import { Output, workDir } from '../test/netns/tandem-lab.ts';
import { spreadOf } from './tools/lc-spread.ts';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 15);
const RATE = Number(process.env.BENCH_RATE ?? 100);
const LONG = Number(process.env.BENCH_LONG ?? 24);
const SHORT_MS = Number(process.env.BENCH_SHORT_MS ?? 100);
const VIP = '198.18.0.100';
const PORT = 8080;
const SERVERS = [
  { name: 'rs1', addr: '198.18.0.21', factor: 3 },
  { name: 'rs2', addr: '198.18.0.22', factor: 1 },
  { name: 'rs3', addr: '198.18.0.23', factor: 1 },
] as const;
const CASES = ['proxy-lc', 'nft-lc', 'nft-random'] as const;
type CaseName = (typeof CASES)[number];
const root = new URL('../', import.meta.url).pathname;

function program(kind: CaseName): ServiceProgram {
  const base: ServiceProgram = {
    id: 'lc',
    vip: VIP,
    port: PORT,
    protocol: 'tcp',
    family: 4,
    scheduler: 'lc',
    method: 'nat',
    persistence: null,
    quorum: 'up',
    backends: SERVERS.map((s) => ({
      addr: s.addr,
      port: PORT,
      key: serverKey(s.addr, PORT),
      weight: 1,
      op: 'up' as const,
      reason: 'up' as const,
    })),
    sorry: null,
  };
  if (kind !== 'proxy-lc') return { ...base, snat: { kind: 'none' } };
  return {
    ...base,
    proxy: {
      mode: 'tcp',
      listen: VIP,
      retries: 0,
      passiveFailures: 0,
      connectTimeoutMs: 3_000,
      idleTimeoutMs: 120_000,
      forwardedFor: false,
    },
  };
}

async function runCase(
  lab: Lab,
  dir: string,
  kind: CaseName,
  opens: Output[],
): Promise<ReturnType<typeof spreadOf> & { ok: number; failed: number }> {
  const file = join(dir, `${kind}.json`);
  writeFileSync(file, JSON.stringify([program(kind)]));
  const plane = lab.spawn(
    'lb',
    process.execPath,
    ['--import', 'tsx', join(root, 'bench/tools/run-dataplane.ts'), kind === 'proxy-lc' ? 'proxy' : 'nft', file],
    { cwd: root, env: { ...process.env, ...(kind === 'nft-random' ? { BENCH_FEEDBACK_MS: '0' } : {}) } },
  );
  const planeOut = new Output(plane);
  await planeOut.waitFor(/^ready /, 30_000);
  const durationMs = DURATION_S * 1000;
  const load = lab.spawn(
    'lb',
    process.execPath,
    [
      '--import',
      'tsx',
      join(root, 'bench/tools/lc-load.ts'),
      VIP,
      String(PORT),
      String(durationMs),
      String(RATE),
      String(LONG),
      String(durationMs + 2_000),
      String(SHORT_MS),
    ],
    { cwd: root },
  );
  const loadOut = new Output(load);
  const samples: number[][] = [];
  const t0 = Date.now();
  const from = opens.map((o) => o.lines.length);
  await new Promise((r) => setTimeout(r, durationMs));
  // Each server printed one {"open":N} every 250 ms; line k of each is one sample time.
  const series = opens.map((o, i) =>
    o.lines
      .slice(from[i])
      .filter((l) => l.startsWith('{"open"'))
      .map((l) => (JSON.parse(l) as { open: number }).open),
  );
  const n = Math.min(...series.map((s) => s.length));
  for (let k = Math.floor(n * 0.4); k < n; k++) samples.push(series.map((s) => s[k]!));
  const summary = JSON.parse(await loadOut.waitFor(/"done":true/, 60_000)) as { ok: number; failed: number };
  plane.kill('SIGTERM');
  await new Promise((r) => plane.once('exit', r));
  if (kind === 'nft-lc') {
    const steered = planeOut.lines.filter((l) => l.includes('imbalance')).length;
    process.stdout.write(`  nft-lc: ${steered} feedback transactions in ${Math.round((Date.now() - t0) / 1000)} s\n`);
  }
  return { ...spreadOf(samples), ...summary };
}

async function main(): Promise<void> {
  if (!canBuildLabs()) {
    console.error('bench/lb-lc needs root and ip netns');
    process.exit(2);
  }
  const dir = workDir('t15d-lc-');
  const lab = await createLab(['lb'], { lb: '198.18.0.10' });
  try {
    for (const a of [VIP, ...SERVERS.map((s) => s.addr)])
      await lab.run('lb', 'ip', ['addr', 'add', `${a}/32`, 'dev', 'lo']);
    const opens: Output[] = [];
    for (const s of SERVERS) {
      const c = lab.spawn(
        'lb',
        process.execPath,
        ['--import', 'tsx', join(root, 'bench/tools/lc-server.ts'), s.name, s.addr, String(PORT), String(s.factor)],
        { cwd: root },
      );
      const o = new Output(c);
      await o.waitFor(/listening/, 15_000);
      opens.push(o);
    }
    process.stdout.write(
      `bench/lb-lc: ${LONG} long + ${RATE}/s short (${SHORT_MS} ms; rs1 ×3 slower) for ${DURATION_S} s per case\n`,
    );
    const results = new Map<CaseName, Awaited<ReturnType<typeof runCase>>>();
    for (const kind of CASES) results.set(kind, await runCase(lab, dir, kind, opens));
    const exact = results.get('proxy-lc')!;
    process.stdout.write(
      'case        mean open per server (rs1 rs2 rs3)   spread max-min   relative   vs proxy-lc   ok/failed\n',
    );
    for (const [kind, r] of results) {
      process.stdout.write(
        `${kind.padEnd(11)} ${r.meanOpen
          .map((x) => x.toFixed(1).padStart(6))
          .join(' ')
          .padEnd(36)} ` +
          `${r.meanRange.toFixed(1).padStart(12)}   ${r.meanRelative.toFixed(2).padStart(8)}   ` +
          `${(r.meanRange / Math.max(0.1, exact.meanRange)).toFixed(2).padStart(10)}×   ${r.ok}/${r.failed}\n`,
      );
    }
  } finally {
    await lab.teardown();
  }
}

await main();
