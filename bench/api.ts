// bench/api: latency of `GET /api/v1/status` on the HTTP API of a node with 1,000 virtual services (generated here: a
// proxy-only node on 127.0.0.0/8, no root), next to the same status read over the local control socket and the CLI's
// `tandem status` in the same run. Reports p50/p99 and ratios to the socket read (the same handler without HTTP auth,
// JSON over a unix socket). See bench/README.md.
//
//   npm run build && node --import tsx bench/api.ts
//   BENCH_SERVICES=1000 BENCH_REQS=300 BENCH_CLI_REPS=21 node --import tsx bench/api.ts
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callDaemon } from '../src/api/client.ts';

const SERVICES = Number(process.env.BENCH_SERVICES ?? 1000);
const REQS = Number(process.env.BENCH_REQS ?? 300);
const CLI_REPS = Number(process.env.BENCH_CLI_REPS ?? 21);
const root = new URL('..', import.meta.url).pathname;
const TANDEM = join(root, 'bin/tandem');

if (!existsSync(join(root, 'dist/tandem.js'))) {
  console.error('bench/api: dist/ is missing; run `npm run build` first');
  process.exit(1);
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

async function timeAll(n: number, one: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < 5; i++) await one(); // warm-up
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await one();
    out.push(performance.now() - t0);
  }
  return out;
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });
function httpGet(port: number, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent, timeout: 30_000 }, (res) => {
      // Read and parse as the CLI's client does (api/client.ts), so that the two rows differ only in the transport.
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () => {
        JSON.parse(text);
        if (res.statusCode === 200) resolve(Buffer.byteLength(text));
        else reject(new Error(`HTTP ${res.statusCode}`));
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const dir = mkdtempSync(join(tmpdir(), `t12a-bench-api-${process.pid}-`));
let daemon: ChildProcess | undefined;
try {
  const [svcPort, apiPort] = [await freePort(), await freePort()];
  // 1,000 services on distinct loopback addresses (127.1.x.y), one real server each; no health checks, so the
  // status is the full DTO of every service and server without check traffic.
  const services = Array.from({ length: SERVICES }, (_, i) => {
    const vip = `127.1.${Math.floor(i / 250)}.${(i % 250) + 1}`;
    return `    - { name: vs${i}, vip: ${vip}, port: ${svcPort}, dataplane: proxy, real_servers: [{ address: 127.0.0.2, port: 9 }, { address: 127.0.0.3, port: 9 }] }`;
  });
  const config = join(dir, 'bench.yaml');
  const users = join(dir, 'users.json');
  writeFileSync(
    config,
    `lb:\n  services:\n${services.join('\n')}\napi:\n  users_file: ${users}\n  audit_log: ${join(dir, 'audit.log')}\n`,
  );
  const token = spawnSync(
    process.execPath,
    [TANDEM, 'token', 'create', '--role', 'viewer', '--name', 'bench', '--users-file', users],
    { encoding: 'utf8' },
  ).stdout.trim();
  const control = join(dir, 't12a-bench.sock');
  daemon = spawn(
    process.execPath,
    [TANDEM, 'run', '-c', config, '--control', control, '--node', 'bench', '--api', `127.0.0.1:${apiPort}`],
    { stdio: 'ignore' },
  );
  const deadline = Date.now() + 60_000;
  for (;;) {
    const r = await callDaemon(control, 'GET', '/v1/status', undefined, 5_000);
    const n = r.ok ? ((r.body as { lb?: { services: unknown[] } }).lb?.services.length ?? 0) : 0;
    if (n === SERVICES) break;
    if (Date.now() > deadline) throw new Error(`the daemon did not serve ${SERVICES} services within 60 s (${n})`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const auth = { authorization: `Bearer ${token}` };
  const bytes = await httpGet(apiPort, '/api/v1/status', auth);

  const socket = await timeAll(REQS, () => callDaemon(control, 'GET', '/v1/status', undefined, 30_000));
  const api = await timeAll(REQS, () => httpGet(apiPort, '/api/v1/status', auth));
  const cli = (args: string[], env: Record<string, string> = {}) =>
    timeAll(CLI_REPS, async () => {
      const r = spawnSync(process.execPath, [TANDEM, ...args], {
        stdio: 'ignore',
        env: { ...process.env, ...env },
        timeout: 60_000,
      });
      if (r.status !== 0) throw new Error(`tandem ${args.join(' ')}: exit ${r.status}`);
    });
  const cliLocal = await cli(['status', '--json', '--control', control]);
  const cliRemote = await cli(['status', '--json', '--node', `http://127.0.0.1:${apiPort}`], { TANDEM_TOKEN: token });

  const base = pct(socket, 50);
  console.log(
    `bench/api: ${SERVICES} virtual services x 2 real servers, status ${(bytes / 1024).toFixed(0)} KiB; Node ${process.version}`,
  );
  console.log(
    `${'read of the status'.padEnd(52)} ${'n'.padStart(4)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'p50 ×socket'.padStart(12)}`,
  );
  for (const [name, xs] of [
    ['control socket, in-process client (baseline)', socket],
    ['GET /api/v1/status, bearer token, keep-alive', api],
    ['tandem status --json (CLI over the socket)', cliLocal],
    ['tandem status --json --node URL (CLI over HTTP)', cliRemote],
  ] as const)
    console.log(
      `${name.padEnd(52)} ${String(xs.length).padStart(4)} ${pct(xs, 50).toFixed(1).padStart(8)} ${pct(xs, 99).toFixed(1).padStart(8)} ${(pct(xs, 50) / base).toFixed(2).padStart(12)}`,
    );
} finally {
  agent.destroy();
  daemon?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
