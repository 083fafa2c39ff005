// A client for labs: starts a request to http://ADDR:PORT/ over a fresh TCP connection every INTERVAL ms for
// DURATION ms, without waiting for earlier ones (each has its own 200 ms timeout), so a request that hangs on a dead
// host does not delay the next. Prints `{"answered":N}` when the N-th request is answered (N in 1, 10, 20, 30, 50, 80,
// 100), then a summary line: the longest gap between the start times of two answered requests, counts, and who
// answered. Bounded in count, concurrency and time.
// Usage: probe.ts ADDR PORT INTERVAL_MS DURATION_MS
import { request } from 'node:http';
import { performance } from 'node:perf_hooks';

const [addr = '198.18.0.100', portText = '80', intervalText = '10', durationText = '10000'] = process.argv.slice(2);
const port = Number(portText);
const intervalMs = Math.max(1, Number(intervalText));
const durationMs = Math.min(Number(durationText), 600_000);
const maxProbes = Math.ceil(durationMs / intervalMs) + 1;
const TIMEOUT_MS = 200;
const t0 = performance.now();

function once(): Promise<{ ok: boolean; who?: string; error?: string }> {
  return new Promise((resolve) => {
    const req = request({ host: addr, port, path: '/', agent: false, timeout: TIMEOUT_MS }, (res) => {
      let body = '';
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolve({ ok: res.statusCode === 200, who: body.trim() }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ ok: false, error: e.code ?? e.message }));
    req.end();
  });
}

const results: { t: number; ok: boolean; who?: string; error?: string }[] = [];
const inflight: Promise<void>[] = [];
// Progress marks, so a test can wait until the client is being answered before it breaks something.
const MARKS = new Set([1, 10, 20, 30, 50, 80, 100]);
let answered = 0;
const mark = (r: { ok: boolean }): void => {
  if (r.ok && MARKS.has(++answered)) process.stdout.write(`${JSON.stringify({ answered })}\n`);
};
for (let i = 0; i < maxProbes; i++) {
  const due = i * intervalMs;
  if (due > durationMs) break;
  const wait = due - (performance.now() - t0);
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const t = Math.round(performance.now() - t0);
  inflight.push(
    once().then((r) => {
      results.push({ t, ...r });
      mark(r);
    }),
  );
}
await Promise.all(inflight);
results.sort((a, b) => a.t - b.t);
let maxGap = 0;
let lastOk: number | null = null;
const who: Record<string, number> = {};
for (const r of results) {
  if (!r.ok) continue;
  if (r.who) who[r.who] = (who[r.who] ?? 0) + 1;
  if (lastOk !== null) maxGap = Math.max(maxGap, r.t - lastOk);
  lastOk = r.t;
}
const ok = results.filter((r) => r.ok).length;
// What failed, when (ms since the start, and the start as wall-clock ms) and why: for reading a failure against
// packet captures and `ip monitor` timestamps.
const failures = results.filter((r) => !r.ok).map((r) => ({ t: r.t, error: r.error ?? 'status' }));
const startedAt = Math.round(performance.timeOrigin + t0);
process.stdout.write(
  `${JSON.stringify({ summary: true, sent: results.length, ok, failed: results.length - ok, maxGapMs: maxGap, who, startedAt, failures })}\n`,
);
