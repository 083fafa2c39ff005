// Runs one tandem data plane in a process of its own, for bench/lb: applies the service programs of a JSON file,
// prints `ready <apply report>`, then carries traffic (proxy) or just keeps the kernel rules in place (nft) until
// SIGTERM or SIGINT, when it closes the data plane (removing what it made) and exits. The benchmark starts it inside
// its namespace (`ip netns exec NS taskset -c 1 node --import tsx bench/tools/run-dataplane.ts nft programs.json`),
// so `nft` acts on that namespace only.
import { readFileSync } from 'node:fs';
import type { DataPlane, ServiceProgram } from '../../src/lb/dataplane.ts';

const [kind, file] = process.argv.slice(2);
if ((kind !== 'nft' && kind !== 'proxy' && kind !== 'haproxy') || !file) {
  console.error('usage: run-dataplane.ts nft|proxy|haproxy PROGRAMS.json [HAPROXY_DIR]');
  process.exit(2);
}
const programs = JSON.parse(readFileSync(file, 'utf8')) as ServiceProgram[];
const log = (line: string) => console.error(`${kind}: ${line}`);

let plane: DataPlane;
if (kind === 'nft') {
  const { createNftDataPlane } = await import('../../src/dataplane/nft/index.ts');
  // BENCH_FEEDBACK_MS=0 turns the least-connections feedback off (bench/lb-lc's baseline: weighted random).
  const feedback = process.env.BENCH_FEEDBACK_MS;
  plane = createNftDataPlane({
    table: 'tandem_bench',
    log,
    ...(feedback !== undefined ? { feedbackIntervalMs: Number(feedback) } : {}),
  });
} else if (kind === 'haproxy') {
  // tandem's managed HAProxy (bench/lb tandem-haproxy): its files in the directory given.
  const { createHaproxyDataPlane } = await import('../../src/dataplane/haproxy/index.ts');
  plane = createHaproxyDataPlane({ dir: process.argv[4] ?? `${file}.haproxy`, log });
} else {
  const { createProxyDataPlane } = await import('../../src/dataplane/proxy/index.ts');
  plane = createProxyDataPlane({ log, closeGraceMs: 1_000 });
}

let closing = false;
const stop = (sig: string) => {
  if (closing) return;
  closing = true;
  // Bounded: a close that hangs must not keep the benchmark's teardown waiting.
  const t = setTimeout(() => process.exit(1), 5_000);
  plane.close().then(
    () => {
      clearTimeout(t);
      console.error(`${kind}: closed on ${sig}`);
      process.exit(0);
    },
    (e: unknown) => {
      console.error(`${kind}: close failed: ${String(e)}`);
      process.exit(1);
    },
  );
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));

const report = await plane.apply(programs, AbortSignal.timeout(30_000));
console.log(`ready ${JSON.stringify(report)}`);
// Stay alive until a signal: the proxy's listeners keep the loop busy, the nft plane has nothing pending.
setInterval(() => undefined, 1 << 30);
