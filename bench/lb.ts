// bench/lb: HTTP requests per second and p99 latency through each load balancer, as ratios to the real servers
// reached directly, all measured in the same invocation with the same real servers and the same placement: tandem's
// nft data plane (kernel DNAT), tandem's proxy (tcp and http), HAProxy (tcp and http) and nginx, with keep-alive and
// with a new connection per request. Every measurement gets a fresh network namespace (short connections through
// DNAT in a reused namespace collapse on TIME_WAIT / PAWS). Needs root, wrk, nginx, haproxy, nft. See bench/README.md.
//
//   node --import tsx bench/lb.ts                                  # 5 runs × 10 s per case and mode
//   BENCH_REPS=3 BENCH_DURATION_S=5 node --import tsx bench/lb.ts
//   BENCH_ONLY=direct,nft,nginx BENCH_MODES=keep-alive node --import tsx bench/lb.ts
import { type ChildProcess, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { canBuildLabs, createLab, type Lab } from '../test/netns/lab.ts';
import { eventually, Output } from '../test/netns/tandem-lab.ts';
import {
  benchServiceProgram,
  haproxyConf,
  minimalNftRuleset,
  nginxProxyConf,
  PLACEMENT,
  type Placement,
  realServerNginxConf,
} from './tools/configs.ts';
import { type ConnMode, errorCount, parseWrk, type WrkResult, wrkArgs } from './tools/wrk.ts';

const REPS = Number(process.env.BENCH_REPS ?? 5);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 1);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
/** CPU for wrk, and CPU for the load balancer and the real servers. */
const [WRK_CPU, LB_CPU] = (process.env.BENCH_CPUS ?? '0,1').split(',');

const root = new URL('../', import.meta.url).pathname;

const CASES = [
  'direct',
  'nft-raw',
  'nft',
  'proxy-tcp',
  'proxy-http',
  'haproxy-tcp',
  'haproxy-http',
  'nginx',
  // issue 15 item 5: tandem's managed HAProxy (dataplane haproxy, http), and plain HAProxy given the very config
  // tandem renders (started by hand, no runtime API use): the cost of management apart from the config's own.
  'tandem-haproxy',
  'haproxy-same',
] as const;
type CaseName = (typeof CASES)[number];
const MODES: readonly ConnMode[] = ['keep-alive', 'new-conn'];

const only = (env: string | undefined, all: readonly string[]) => {
  if (!env) return all;
  const picked = env.split(',').map((s) => s.trim());
  for (const p of picked) if (!all.includes(p)) throw new Error(`unknown ${p}; one of: ${all.join(', ')}`);
  return all.filter((a) => picked.includes(a));
};
const cases = only(process.env.BENCH_ONLY, CASES) as CaseName[];
const modes = only(process.env.BENCH_MODES, MODES) as ConnMode[];
// Every ratio is to `direct`: it always runs.
if (!cases.includes('direct')) cases.unshift('direct');

/** Temp directories to remove at exit (the lab removes its own namespaces and processes). */
const dirs = new Set<string>();
process.on('exit', () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A process pinned to the load balancer's CPU, inside the namespace. */
function spawnPinned(lab: Lab, cmd: string, args: readonly string[], cwd = root): { child: ChildProcess; out: Output } {
  const child = lab.spawn('lb', 'taskset', ['-c', LB_CPU!, cmd, ...args], { cwd });
  return { child, out: new Output(child) };
}

/** Resolves once `url` answers HTTP 200 from inside the namespace. */
async function untilAnswers(lab: Lab, url: string, what: string, proc?: { child: ChildProcess; out: Output }) {
  await eventually(
    `${what} answers ${url}`,
    async () => {
      if (proc && proc.child.exitCode !== null) throw new Error(`${what} exited: ${proc.out.text()}`);
      return (await lab.exec('lb', 'curl', ['-s', '-m', '1', '-o', '/dev/null', '-w', '%{http_code}', url])).stdout;
    },
    (code) => code === '200',
    20_000,
  ).catch((e: Error) => {
    throw new Error(`${e.message}${proc ? `\n${proc.out.text()}` : ''}`);
  });
}

function startNginx(lab: Lab, dir: string, name: string, conf: string) {
  const file = join(dir, `${name}.conf`);
  writeFileSync(file, conf);
  return spawnPinned(lab, 'nginx', ['-e', join(dir, `${name}.err`), '-p', dir, '-c', file]);
}

/** The namespace: loopback up with the VIP and the real servers' addresses, a wide ephemeral port range. */
async function prepare(lab: Lab, pl: Placement): Promise<void> {
  for (const a of [pl.vip.addr, ...pl.realServers.map((r) => r.addr)])
    await lab.run('lb', 'ip', ['addr', 'add', `${a}/32`, 'dev', 'lo']);
  // Per-namespace setting: 10 s of new connections at 10k+/s must not run out of source ports in any case.
  await lab.run('lb', 'sysctl', ['-q', '-w', 'net.ipv4.ip_local_port_range=1024 65535']);
}

async function startRealServers(lab: Lab, dir: string, pl: Placement): Promise<void> {
  await Promise.all(
    pl.realServers.map(async (r, i) => {
      const name = `rs${i + 1}`;
      const p = startNginx(lab, dir, name, realServerNginxConf(i + 1, r, { dir, name }));
      await untilAnswers(lab, `http://${r.addr}:${r.port}/`, name, p);
    }),
  );
}

/** Where wrk sends its requests for a case, after starting that case's load balancer. */
async function startCase(c: CaseName, lab: Lab, dir: string, pl: Placement): Promise<string> {
  const vipUrl = `http://${pl.vip.addr}${pl.vip.port === 80 ? '' : `:${pl.vip.port}`}/`;
  switch (c) {
    case 'direct': {
      const r = pl.realServers[0]!;
      return `http://${r.addr}:${r.port}/`;
    }
    case 'haproxy-tcp':
    case 'haproxy-http': {
      const file = join(dir, `${c}.cfg`);
      writeFileSync(file, haproxyConf(pl, c === 'haproxy-tcp' ? 'tcp' : 'http'));
      const p = spawnPinned(lab, 'haproxy', ['-db', '-f', file]);
      await untilAnswers(lab, vipUrl, c, p);
      return vipUrl;
    }
    case 'nginx': {
      const p = startNginx(lab, dir, 'lb', nginxProxyConf(pl, { dir, name: 'lb' }));
      await untilAnswers(lab, vipUrl, c, p);
      return vipUrl;
    }
    case 'nft-raw': {
      const file = join(dir, 'raw.nft');
      writeFileSync(file, minimalNftRuleset(pl));
      await lab.run('lb', 'nft', ['-f', file]);
      await untilAnswers(lab, vipUrl, c);
      return vipUrl;
    }
    case 'haproxy-same': {
      const { renderHaproxyConfig, renderServerState } = await import('../src/dataplane/haproxy/render.ts');
      const prog = [benchServiceProgram(pl, 'tandem-haproxy')];
      const paths = { apiSocket: join(dir, 'same-api.sock'), stateFile: join(dir, 'same.state') };
      const file = join(dir, `${c}.cfg`);
      writeFileSync(file, renderHaproxyConfig(prog, { paths }));
      writeFileSync(paths.stateFile, renderServerState(prog));
      const p = spawnPinned(lab, 'haproxy', ['-W', '-db', '-f', file]);
      await untilAnswers(lab, vipUrl, c, p);
      return vipUrl;
    }
    case 'nft':
    case 'proxy-tcp':
    case 'proxy-http':
    case 'tandem-haproxy': {
      const missing = tandemMissing(c);
      if (missing) throw new Unavailable(missing);
      const file = join(dir, `${c}.json`);
      writeFileSync(file, JSON.stringify([benchServiceProgram(pl, c)]));
      // BENCH_NODE_ARGS: extra node flags for tandem's data plane process (`--cpu-prof --cpu-prof-dir=DIR`).
      const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
      const p = spawnPinned(lab, process.execPath, [
        ...nodeArgs,
        '--import',
        'tsx',
        join(root, 'bench/tools/run-dataplane.ts'),
        c === 'nft' ? 'nft' : c === 'tandem-haproxy' ? 'haproxy' : 'proxy',
        file,
        join(dir, 'haproxy'),
      ]);
      const exited = new Promise<never>((_, reject) =>
        p.child.once('exit', (code) => reject(new Error(`exited ${code}:\n${p.out.text()}`))),
      );
      exited.catch(() => undefined); // it exits at teardown too: not an error then
      await Promise.race([p.out.waitFor(/^ready /, 30_000), exited]).catch((e: Error) => {
        throw new Error(`${c}: the data plane did not come up: ${e.message}`);
      });
      await untilAnswers(lab, vipUrl, c, p);
      return vipUrl;
    }
  }
}

/** A case that cannot run here (its data plane is not in the tree): a row that says so, not a failure. */
class Unavailable extends Error {}

/** Why a tandem data plane case cannot run, or undefined when it can. */
function tandemMissing(c: 'nft' | 'proxy-tcp' | 'proxy-http' | 'tandem-haproxy'): string | undefined {
  const file =
    c === 'nft'
      ? 'src/dataplane/nft/index.ts'
      : c === 'tandem-haproxy'
        ? 'src/dataplane/haproxy/index.ts'
        : 'src/dataplane/proxy/index.ts';
  return existsSync(join(root, file)) ? undefined : `not available: ${file} is not in the tree`;
}

/** Which real servers answered 9 requests, each on a new connection (the placement check). */
async function backendsSeen(lab: Lab, url: string): Promise<number> {
  const r = await lab.exec('lb', 'sh', ['-c', `for i in 1 2 3 4 5 6 7 8 9; do curl -s -m 2 ${url}; done`]);
  return new Set(r.stdout.match(/rs\d+/g) ?? []).size;
}

async function runWrk(lab: Lab, url: string, mode: ConnMode, durationS: number): Promise<WrkResult> {
  const args = wrkArgs({ url, mode, connections: CONNECTIONS, durationS });
  const r = await lab.exec('lb', 'taskset', ['-c', WRK_CPU!, 'wrk', ...args], (durationS + 30) * 1000);
  const parsed = parseWrk(r.stdout);
  if (!parsed.ok) throw new Error(`wrk ${args.join(' ')}: ${parsed.reason}\n${r.stdout}${r.stderr}`);
  return parsed.result;
}

/** One measurement: a fresh namespace, the real servers, the case's load balancer, a warm-up, then wrk. */
interface Sample extends WrkResult {
  seen: number;
  rep: number;
}

async function measure(c: CaseName, mode: ConnMode, rep: number): Promise<Sample> {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-bench-lb-'));
  dirs.add(dir);
  const lab = await createLab(['lb']);
  try {
    await prepare(lab, PLACEMENT);
    await startRealServers(lab, dir, PLACEMENT);
    const url = await startCase(c, lab, dir, PLACEMENT);
    const seen = await backendsSeen(lab, url);
    // Warm-up with keep-alive whatever the mode: JITs, pools and caches, without leaving TIME_WAITs behind.
    if (WARMUP_S > 0) await runWrk(lab, url, 'keep-alive', WARMUP_S);
    const r = await runWrk(lab, url, mode, DURATION_S);
    return { ...r, seen, rep };
  } finally {
    await lab.teardown();
    rmSync(dir, { recursive: true, force: true });
    dirs.delete(dir);
  }
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return Number.NaN;
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
};
const ratio = (a: number, b: number) => (Number.isFinite(a) && b > 0 ? (a / b).toFixed(2) : '-');

type Results = Map<string, { samples: Sample[]; failures: string[]; unavailable?: string }>;
const key = (c: CaseName, m: ConnMode) => `${c}|${m}`;

async function main(): Promise<void> {
  const results: Results = new Map();
  for (const c of cases) for (const m of modes) results.set(key(c, m), { samples: [], failures: [] });
  const t0 = Date.now();
  // Interleaved: each rep runs every case and mode once, so drift on this shared machine hits all cases alike; the
  // order rotates from rep to rep, so no case always runs right after direct.
  for (let rep = 1; rep <= REPS; rep++)
    for (const m of modes)
      for (const c of rotate(cases, rep - 1)) {
        const slot = results.get(key(c, m))!;
        if (slot.unavailable) continue;
        try {
          const s = await measure(c, m, rep);
          slot.samples.push(s);
          console.error(
            `[${Math.round((Date.now() - t0) / 1000)}s] rep ${rep} ${m} ${c}: ${Math.round(s.reqPerSec)} req/s, p99 ${s.p99Ms.toFixed(2)} ms, errors ${errorCount(s.errors)}, backends seen ${s.seen}`,
          );
        } catch (e) {
          if (e instanceof Unavailable) slot.unavailable = e.message;
          else {
            slot.failures.push((e as Error).message.split('\n')[0]!);
            console.error(`rep ${rep} ${m} ${c}: FAILED ${(e as Error).message}`);
          }
        }
      }
  report(results);
}

const rotate = <T>(xs: readonly T[], by: number): T[] => xs.map((_, i) => xs[(i + by) % xs.length]!);

/** The median over reps of `a`'s req/s ÷ `b`'s in the same rep and mode: pairs close in time, less drift. */
function pairedRatio(results: Results, a: CaseName, b: CaseName, m: ConnMode): number {
  const base = new Map((results.get(key(b, m))?.samples ?? []).map((s) => [s.rep, s.reqPerSec]));
  const ratios = (results.get(key(a, m))?.samples ?? [])
    .filter((s) => base.has(s.rep))
    .map((s) => s.reqPerSec / base.get(s.rep)!);
  return median(ratios);
}

const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

function report(results: Results): void {
  const cpuNote = `wrk -t1 -c${CONNECTIONS} -d${DURATION_S}s on CPU ${WRK_CPU}; load balancer and real servers on CPU ${LB_CPU}`;
  console.log(`\n## bench/lb: ${cpuNote}; median of ${REPS} runs, each in a fresh namespace`);
  console.log(
    `direct = wrk against real server 1 (${PLACEMENT.realServers[0]!.addr}:${PLACEMENT.realServers[0]!.port}); every other case balances round robin over the 3 real servers behind ${PLACEMENT.vip.addr}:${PLACEMENT.vip.port}`,
  );
  console.log(
    'case | mode | req/s median | p99 ms median | req/s ÷ direct | p99 ÷ direct | req/s ÷ direct, paired | req/s min–max | errors (all runs) | real servers seen',
  );
  const med = (c: CaseName, m: ConnMode) => {
    const s = results.get(key(c, m))?.samples ?? [];
    return { rps: median(s.map((x) => x.reqPerSec)), p99: median(s.map((x) => x.p99Ms)), n: s.length };
  };
  for (const m of modes)
    for (const c of cases) {
      const slot = results.get(key(c, m))!;
      const label = m === 'keep-alive' ? 'keep-alive' : 'new conn';
      if (slot.unavailable) {
        console.log(`${c} | ${label} | ${slot.unavailable} | - | - | - | - | - | - | -`);
        continue;
      }
      if (slot.samples.length === 0) {
        console.log(`${c} | ${label} | FAILED in every run: ${slot.failures[0] ?? '?'} | - | - | - | - | - | - | -`);
        continue;
      }
      const d = med('direct', m);
      const x = med(c, m);
      const rps = slot.samples.map((s) => s.reqPerSec);
      const errors = slot.samples.reduce((n, s) => n + errorCount(s.errors), 0);
      const seen = [...new Set(slot.samples.map((s) => s.seen))].join('/');
      const partial = slot.samples.length < REPS ? ` (${slot.samples.length} of ${REPS} runs)` : '';
      console.log(
        `${c} | ${label} | ${Math.round(x.rps)}${partial} | ${x.p99.toFixed(2)} | ${ratio(x.rps, d.rps)} | ${ratio(x.p99, d.p99)} | ${pairedRatio(results, c, 'direct', m).toFixed(2)} | ${Math.round(Math.min(...rps))}–${Math.round(Math.max(...rps))} | ${errors} | ${seen}`,
      );
    }
  const line = (what: string, a: CaseName, b: CaseName, goal: string) => {
    const parts = modes.map((m) => {
      const x = med(a, m);
      const y = med(b, m);
      if (!x.n || !y.n) return `${m === 'keep-alive' ? 'keep-alive' : 'new conn'} n/a`;
      const paired = pairedRatio(results, a, b, m);
      return `${m === 'keep-alive' ? 'keep-alive' : 'new conn'} ${ratio(x.rps, y.rps)} (paired ${paired.toFixed(2)})`;
    });
    console.log(`${what}: ${parts.join(', ')} (goal ${goal})`);
  };
  console.log('');
  if (cases.includes('nft')) line('tandem nft req/s ÷ direct', 'nft', 'direct', '≥ 0.9');
  if (cases.includes('nft') && cases.includes('nft-raw'))
    line('tandem nft req/s ÷ one-rule DNAT (nft-raw)', 'nft', 'nft-raw', 'none; the cost of the ruleset itself');
  if (cases.includes('proxy-http') && cases.includes('nginx'))
    line('tandem proxy-http req/s ÷ nginx', 'proxy-http', 'nginx', '≥ 0.5');
  if (cases.includes('tandem-haproxy') && cases.includes('haproxy-http'))
    line('tandem-haproxy req/s ÷ plain haproxy-http', 'tandem-haproxy', 'haproxy-http', '≥ 0.95');
  if (cases.includes('tandem-haproxy') && cases.includes('haproxy-same'))
    line('tandem-haproxy req/s ÷ plain HAProxy on the same config', 'tandem-haproxy', 'haproxy-same', '≥ 0.95');
  if (cases.includes('proxy-tcp') && cases.includes('haproxy-tcp'))
    line('tandem proxy-tcp req/s ÷ haproxy-tcp', 'proxy-tcp', 'haproxy-tcp', 'none; for reference');
}

const need = ['wrk', 'nginx', 'haproxy', 'nft', 'curl', 'taskset'].filter(
  (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status !== 0,
);
if (!canBuildLabs()) {
  console.error('bench/lb needs root and ip netns');
  process.exit(2);
}
if (need.length) {
  console.error(`bench/lb needs ${need.join(', ')} (scripts/setup.sh installs them)`);
  process.exit(2);
}
if (availableParallelism() < 2) console.error('warning: one CPU only; wrk and the load balancer share it');
console.log(
  `# bench/lb ${new Date().toISOString()} (${REPS} runs per case and mode, ${DURATION_S} s each); load average ${loadavg()}`,
);
await main();
console.log(`load average at the end: ${loadavg()} (this machine has ${availableParallelism()} CPUs)`);
