// bench/failover: what a client sees when the master fails, tandem against keepalived in the same run with the same
// settings. A client requests the VIP over a fresh TCP connection every 10 ms; for each case we report the min /
// median / max of the longest gap the client saw and of the time two hosts held the VIP at once (from `ip monitor`
// timestamps). Then advert-interval jitter while the daemon runs 200 track scripts on a busy machine, and a soak at
// 20 ms adverts under CPU load counting false failovers. Needs root. See bench/README.md.
//
//   node --import tsx bench/failover.ts                 # everything, 3 runs per case
//   BENCH_REPS=5 BENCH_SOAK_MS=600000 node --import tsx bench/failover.ts
//   BENCH_ONLY=failover|jitter|soak node --import tsx bench/failover.ts   (BENCH_CASE=sigkill: one failure case)
//   BENCH_ONLY=failover BENCH_CASE=standby,sigterm,preempt BENCH_ADVERTS=100,20 node --import tsx bench/failover.ts
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { canBuildLabs, createLab, type Lab } from '../test/netns/lab.ts';
import {
  eventually,
  KEEPALIVED,
  probe,
  startKeepalived,
  startResponder,
  startTandem,
  TANDEM,
  untilState,
  VipWatch,
  workDir,
} from '../test/netns/tandem-lab.ts';

const REPS = Number(process.env.BENCH_REPS ?? 3);
const SOAK_MS = Number(process.env.BENCH_SOAK_MS ?? 60_000);
const ONLY = process.env.BENCH_ONLY;
/** Run some failure cases only (link-down, sigterm, sigkill, standby, preempt; comma-separated). */
const ONLY_CASES = process.env.BENCH_CASE?.split(',').filter(Boolean);
/** Run some advert intervals only (ms, comma-separated: 1000, 100, 20). */
const ONLY_ADVERTS = process.env.BENCH_ADVERTS?.split(',').filter(Boolean).map(Number);
const VIP = '198.18.0.100';

type Impl = 'tandem' | 'keepalived';
/** preempt: d1 (the higher priority) was stopped and d2 is master; d1 starts again and takes over. */
type Failure = 'link-down' | 'sigterm' | 'sigkill' | 'standby' | 'preempt';
interface Setting {
  version: 2 | 3;
  advertMs: number;
}

function keepalivedConf(s: Setting, priority: number, routerId: string, extra = ''): string {
  return `global_defs {
    router_id ${routerId}
    vrrp_garp_master_delay 5
}
${extra}vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority ${priority}
    advert_int ${s.advertMs / 1000}
    version ${s.version}
${s.version === 2 ? '    authentication {\n        auth_type PASS\n        auth_pass secret12\n    }\n' : ''}    virtual_ipaddress {
        ${VIP}/24
    }
${extra ? `    track_script {\n${[...extra.matchAll(/vrrp_script (\S+)/g)].map((m) => `        ${m[1]}\n`).join('')}    }\n` : ''}}
`;
}

/** Starts one director; returns how to make it fail and the PID of its VRRP process. */
async function director(lab: Lab, impl: Impl, host: string, s: Setting, priority: number, dir: string) {
  const conf = keepalivedConf(s, priority, host);
  if (impl === 'tandem') {
    const t = await startTandem(lab, host, conf, { dir, ext: 'conf' });
    const line = await t.out.waitFor(/Supervisor: started daemon pid \d+/);
    const vrrpPid = Number(/pid (\d+)/.exec(line)![1]);
    const standby = () =>
      spawnSync(process.execPath, [TANDEM, 'standby', '--all', '--control', t.control], { encoding: 'utf8' });
    // Stops (SIGTERM, waiting for the exit), then starts a fresh daemon with the same config: the preempt case.
    let current = t;
    const stopped = async () => {
      const exit = new Promise((r) => current.child.once('exit', r));
      current.child.kill('SIGTERM');
      await exit;
    };
    const restart = async () => {
      current = await startTandem(lab, host, conf, { dir, ext: 'conf' });
    };
    const master = async () => (await current.status()).instances[0]?.state === 'MASTER';
    return {
      stop: () => current.child.kill('SIGTERM'),
      kill: () => process.kill(vrrpPid, 'SIGKILL'),
      isMaster: master,
      standby,
      stopped,
      restart,
    };
  }
  let k = await startKeepalived(lab, host, conf, dir);
  // keepalived -P: a parent and a VRRP child; the child runs the protocol and holds the VIP (its pid file: -r).
  const vrrpPid = await eventually(
    'keepalived vrrp pid',
    () => Number(readFileSync(join(dir, `${host}-v.pid`), 'utf8')),
    (p) => p > 0,
  );
  const isMaster = async () => {
    const master = k.out.lines.findLastIndex((l) => /Entering MASTER STATE/.test(l));
    const other = k.out.lines.findLastIndex((l) => /Entering (BACKUP|FAULT) STATE/.test(l));
    return master > other;
  };
  const stopped = async () => {
    const exit = new Promise((r) => k.child.once('exit', r));
    k.child.kill('SIGTERM');
    await exit;
  };
  const restart = async () => {
    k = await startKeepalived(lab, host, conf, dir);
  };
  return {
    stop: () => k.child.kill('SIGTERM'),
    kill: () => process.kill(vrrpPid, 'SIGKILL'),
    isMaster,
    standby: undefined,
    stopped,
    restart,
  };
}

async function oneRun(
  impl: Impl,
  s: Setting,
  failure: Failure,
): Promise<{
  gapMs: number;
  overlapMs: number;
  holderGapMs: number;
  tookOver: boolean;
  failed: number;
  sent: number;
}> {
  const dir = workDir('tandem-bench-');
  const lab = await createLab(['d1', 'd2', 'client'], { d1: '198.18.0.11', d2: '198.18.0.12', client: '198.18.0.50' });
  try {
    await startResponder(lab, 'd1');
    await startResponder(lab, 'd2');
    const d1 = await director(lab, impl, 'd1', s, 150, dir);
    const d2 = await director(lab, impl, 'd2', s, 100, dir);
    await eventually(`${impl} d1 master`, d1.isMaster, (m) => m, 20_000);
    if (failure === 'preempt') {
      // d1 leaves (SIGTERM) and d2 serves; the case is d1's return.
      await d1.stopped();
      await eventually(`${impl} d2 master`, d2.isMaster, (m) => m, 20_000);
    }
    await new Promise((r) => setTimeout(r, 3 * s.advertMs + 200));
    const watch = new VipWatch(lab, ['d1', 'd2'], VIP);
    await watch.start();
    // The preempt case also waits for the returning daemon to start and for its Master_Down_Interval.
    const window = Math.max(2_000, 3 * s.advertMs + 1_500) + 1_000 + (failure === 'preempt' ? 5_000 : 0);
    const client = probe(lab, 'client', VIP, 10, window);
    await new Promise((r) => setTimeout(r, 700));
    if (failure === 'preempt') await d1.restart();
    else {
      // Fail right after an advert from d1 is seen: the same phase for every run and implementation, so the gap
      // measures detection and takeover, not where in the advert interval the failure happened to fall.
      await nextAdvert(lab, 'client', '198.18.0.11');
      if (failure === 'link-down') await lab.setLink('d1', false);
      else if (failure === 'sigterm') d1.stop();
      else if (failure === 'standby') d1.standby?.();
      else d1.kill();
    }
    const r = await client;
    await new Promise((res) => setTimeout(res, 200));
    watch.stop();
    const w = watch.report([failure === 'preempt' ? 'd2' : 'd1']);
    // keepalived's parent respawns a SIGKILLed VRRP child, which may take the VIP back before we look: not an error.
    // preempt: "took over" means d1 is master again.
    const tookOver = failure === 'preempt' ? await d1.isMaster() : (await d2.isMaster()) || r.who.d2 !== undefined;
    return {
      gapMs: r.maxGapMs,
      overlapMs: w.overlapMs,
      holderGapMs: w.gapMs,
      tookOver,
      failed: r.failed,
      sent: r.sent,
    };
  } finally {
    await lab.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Resolves when `host` sees the next VRRP advert from `src` (tcpdump exits after one packet). */
function nextAdvert(lab: Lab, host: string, src: string): Promise<void> {
  const child = lab.spawn(host, 'tcpdump', ['-i', 'eth0', '-n', '-c', '1', '-l', `ip proto 112 and src ${src}`]);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no advert from ${src} within 10 s`));
    }, 10_000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

type Stats = { min: number; median: number; max: number };
const stats = (xs: number[]): Stats => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0] ?? 0, median: s[Math.floor((s.length - 1) / 2)] ?? 0, max: s[s.length - 1] ?? 0 };
};
const fmt = (x: { min: number; median: number; max: number }) =>
  `${Math.round(x.min)}/${Math.round(x.median)}/${Math.round(x.max)}`;
const ratio = (a: number, b: number) => (b === 0 ? (a === 0 ? '1.00' : 'inf') : (a / b).toFixed(2));

async function failoverBench(): Promise<void> {
  console.log(`\n## failover (client probes every 10 ms, fresh TCP connection; ${REPS} runs per case)`);
  console.log(
    'case | impl | failed requests min/median/max (of ~sent) | client gap ms min/median/max | two hosts held VIP ms | no host held VIP ms | backup took over | client gap tandem/keepalived (median) | failed tandem/keepalived (median)',
  );
  const settings: (Setting & { impls: Impl[] })[] = [
    { version: 2, advertMs: 1000, impls: ['tandem', 'keepalived'] },
    { version: 3, advertMs: 100, impls: ['tandem', 'keepalived'] },
    { version: 3, advertMs: 20, impls: ['tandem', 'keepalived'] },
  ];
  for (const s of settings)
    for (const failure of ['link-down', 'sigterm', 'sigkill', 'standby', 'preempt'] as Failure[]) {
      if (ONLY_CASES && !ONLY_CASES.includes(failure)) continue;
      if (ONLY_ADVERTS && !ONLY_ADVERTS.includes(s.advertMs)) continue;
      const impls = failure === 'standby' ? s.impls.filter((i) => i === 'tandem') : s.impls;
      const res: Partial<
        Record<Impl, { gap: Stats; overlap: Stats; holderGap: Stats; tookOver: number; failed: Stats; sent: number }>
      > = {};
      for (const impl of impls) {
        const runs: Awaited<ReturnType<typeof oneRun>>[] = [];
        for (let i = 0; i < REPS; i++) runs.push(await oneRun(impl, s, failure));
        res[impl] = {
          gap: stats(runs.map((r) => r.gapMs)),
          overlap: stats(runs.map((r) => r.overlapMs)),
          holderGap: stats(runs.map((r) => r.holderGapMs)),
          tookOver: runs.filter((r) => r.tookOver).length,
          failed: stats(runs.map((r) => r.failed)),
          sent: stats(runs.map((r) => r.sent)).median,
        };
      }
      for (const impl of impls) {
        const r = res[impl]!;
        const k = res.keepalived;
        console.log(
          `v${s.version} ${s.advertMs}ms ${failure} | ${impl} | ${fmt(r.failed)} (of ${r.sent}) | ${fmt(r.gap)} | ${fmt(r.overlap)} | ${fmt(r.holderGap)} | ${r.tookOver}/${REPS} | ${
            impl === 'tandem' && k ? ratio(r.gap.median, k.gap.median) : '-'
          } | ${impl === 'tandem' && k ? ratio(r.failed.median, k.failed.median) : '-'}`,
        );
      }
    }
}

/** Starts `n` busy loops (bounded by `ms`) to load the CPUs. */
function burnCpus(n: number, ms: number): ChildProcess[] {
  return Array.from({ length: n }, () =>
    spawn(process.execPath, ['-e', `const end = Date.now() + ${ms}; while (Date.now() < end) {}`], { stdio: 'ignore' }),
  );
}

/** Advert arrival times (ms) seen by tcpdump in `host`, for `ms`. */
async function captureAdverts(lab: Lab, host: string, ms: number): Promise<number[]> {
  const child = lab.spawn(host, 'tcpdump', ['-i', 'eth0', '-n', '-tt', '-l', 'ip proto 112']);
  const times: number[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => {
    const m = /^(\d+\.\d+) IP 198\.18\.0\.11 > 224\.0\.0\.18/.exec(l);
    if (m) times.push(Number(m[1]) * 1000);
  });
  await new Promise((r) => setTimeout(r, ms));
  child.kill('SIGTERM');
  return times;
}

async function jitterRun(
  impl: Impl,
  advertMs: number,
  scripts: number,
  ms: number,
): Promise<{ p50: number; p99: number; max: number; n: number }> {
  const dir = workDir('tandem-bench-');
  const lab = await createLab(['d1', 'd2']);
  const burners = burnCpus(2, ms + 20_000);
  try {
    const checks = Array.from({ length: scripts }, (_, i) =>
      impl === 'tandem' ? '' : `vrrp_script chk_${i} {\n    script "/bin/true"\n    interval 1\n    weight 2\n}\n`,
    ).join('');
    let conf = keepalivedConf({ version: 3, advertMs }, 150, 'd1', impl === 'keepalived' ? checks : '');
    if (impl === 'tandem') {
      // The same 200 scripts in tandem's YAML, each tracked by the instance.
      const lines = Array.from(
        { length: scripts },
        (_, i) => `    chk_${i}: { command: /bin/true, interval: 1s, weight: 2 }`,
      ).join('\n');
      const refs = Array.from({ length: scripts }, (_, i) => `{ name: chk_${i} }`).join(', ');
      conf = `cluster: { nodes: [{ name: d1 }] }\nvrrp:\n  scripts:\n${lines}\n  instances:\n    - { name: VI_1, interface: eth0, vrid: 51, version: 3, priority: 150, advert_interval: ${advertMs}ms, vips: [${VIP}/24], track: { scripts: [${refs}] } }\n`;
      await startTandem(lab, 'd1', conf, { dir });
    } else {
      // keepalived runs only the scripts an instance tracks: track all 200, as tandem does.
      await startKeepalived(lab, 'd1', conf, dir);
    }
    await new Promise((r) => setTimeout(r, 4 * advertMs + 2_000));
    const times = await captureAdverts(lab, 'd2', ms);
    const dev = times.slice(1).map((t, i) => Math.abs(t - times[i]! - advertMs));
    dev.sort((a, b) => a - b);
    const q = (p: number) => dev[Math.min(dev.length - 1, Math.floor(p * dev.length))] ?? 0;
    return { p50: q(0.5), p99: q(0.99), max: dev[dev.length - 1] ?? 0, n: times.length };
  } finally {
    for (const b of burners) b.kill('SIGKILL');
    await lab.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function jitterBench(): Promise<void> {
  console.log('\n## advert interval jitter: 200 track scripts (/bin/true every 1 s), 2 busy loops on the 2 CPUs, 20 s');
  console.log('impl | advert | adverts seen | deviation ms p50 / p99 / max | p99 ratio tandem/keepalived');
  for (const advertMs of [100, 20]) {
    const t = await jitterRun('tandem', advertMs, 200, 20_000);
    const k = await jitterRun('keepalived', advertMs, 200, 20_000);
    const line = (impl: string, r: typeof t, rat: string) =>
      console.log(
        `${impl} | ${advertMs} ms | ${r.n} | ${r.p50.toFixed(2)} / ${r.p99.toFixed(2)} / ${r.max.toFixed(2)} | ${rat}`,
      );
    line('tandem', t, ratio(t.p99, k.p99));
    line('keepalived', k, '-');
  }
}

async function soakBench(): Promise<void> {
  console.log(`\n## soak: tandem at 20 ms adverts, both CPUs busy, ${SOAK_MS / 1000} s: transitions after start-up`);
  const dir = workDir('tandem-bench-');
  const lab = await createLab(['d1', 'd2']);
  const burners = burnCpus(2, SOAK_MS + 30_000);
  try {
    const conf = `cluster:\n  nodes: [{ name: d1 }, { name: d2 }]\nvrrp:\n  instances:\n    - { name: VI_1, interface: eth0, vrid: 51, version: 3, priority: { d1: 150, d2: 100 }, advert_interval: 20ms, vips: [${VIP}/24] }\n`;
    const d1 = await startTandem(lab, 'd1', conf, { dir });
    const d2 = await startTandem(lab, 'd2', conf, { dir });
    await untilState(d1, 'MASTER');
    const count = (p: typeof d1) => p.out.lines.filter((l) => /Entering (MASTER|BACKUP|FAULT) STATE/.test(l)).length;
    const [c1, c2] = [count(d1), count(d2)];
    await new Promise((r) => setTimeout(r, SOAK_MS));
    const extra = count(d1) - c1 + (count(d2) - c2);
    console.log(
      `false failovers (transitions after start-up): ${extra}; d1 ${(await d1.status()).instances[0]?.state}, d2 ${(await d2.status()).instances[0]?.state}`,
    );
  } finally {
    for (const b of burners) b.kill('SIGKILL');
    await lab.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (!canBuildLabs()) {
  console.error('bench/failover needs root and ip netns');
  process.exit(2);
}
if (!(await import('node:fs')).existsSync(KEEPALIVED)) {
  console.error('bench/failover needs keepalived (apt-get install keepalived)');
  process.exit(2);
}
console.log(`# bench/failover ${new Date().toISOString()} (${REPS} runs per case)`);
if (!ONLY || ONLY === 'failover') await failoverBench();
if (!ONLY || ONLY === 'jitter') await jitterBench();
if (!ONLY || ONLY === 'soak') await soakBench();
