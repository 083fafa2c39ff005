// bench/startup: wall time of the commands operators run in loops and from monitoring — `tandem --help`,
// `tandem check FILE`, `tandem status` against a running daemon — as ratios to a bare `node -e 0` measured in the same
// run (the cost of starting Node at all). Goal: --help ≤ 1.5×. No root: the daemon is a proxy-only node on 127.0.0.1.
// See bench/README.md.
//
//   npm run build && node --import tsx bench/startup.ts
//   BENCH_REPS=21 node --import tsx bench/startup.ts
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REPS = Number(process.env.BENCH_REPS ?? 11);
const root = new URL('..', import.meta.url).pathname;
const TANDEM = join(root, 'bin/tandem');

if (!existsSync(join(root, 'dist/tandem.js'))) {
  console.error('bench/startup: dist/ is missing; run `npm run build` first');
  process.exit(1);
}

/** Median wall ms of running argv REPS times (after one warm-up run that fills the page cache). */
function median(argv: string[]): { ms: number; status: number | null } {
  const run = () => spawnSync(argv[0]!, argv.slice(1), { cwd: root, stdio: 'ignore' });
  const first = run();
  const times: number[] = [];
  for (let i = 0; i < REPS; i++) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)]!, status: first.status };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'tandem-bench-startup-'));
let daemon: ChildProcess | undefined;
try {
  const port = await freePort();
  const config = join(dir, 'proxy.yaml');
  writeFileSync(
    config,
    `lb:\n  services:\n    - { name: web, vip: 127.0.0.1, port: ${port}, dataplane: proxy, real_servers: [{ address: 127.0.0.2, port: 9 }] }\n`,
  );
  const control = join(dir, 'tandem.sock');
  daemon = spawn(process.execPath, [TANDEM, 'run', '-c', config, '--control', control, '--node', 'bench'], {
    stdio: 'ignore',
  });
  // The status command needs the daemon's control socket: wait for it (bounded).
  const deadline = Date.now() + 20_000;
  while (!existsSync(control)) {
    if (Date.now() > deadline) throw new Error('the daemon did not open its control socket within 20 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  const base = median([process.execPath, '-e', '0']);
  const cases: [string, string[]][] = [
    ['tandem --help', [process.execPath, TANDEM, '--help']],
    ['tandem check examples/two-directors.yaml', [process.execPath, TANDEM, 'check', 'examples/two-directors.yaml']],
    ['tandem status', [process.execPath, TANDEM, 'status', '--control', control]],
  ];
  console.log(`bench/startup: median of ${REPS} runs each (one warm-up), Node ${process.version}`);
  console.log(`${'command'.padEnd(44)} ${'ms'.padStart(7)} ${'× node -e 0'.padStart(12)} exit`);
  console.log(`${'node -e 0 (baseline)'.padEnd(44)} ${base.ms.toFixed(1).padStart(7)} ${'1.00'.padStart(12)}`);
  for (const [name, argv] of cases) {
    const r = median(argv);
    console.log(
      `${name.padEnd(44)} ${r.ms.toFixed(1).padStart(7)} ${(r.ms / base.ms).toFixed(2).padStart(12)} ${r.status}`,
    );
  }
} finally {
  daemon?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
