// A client for labs: requests http://ADDR:PORT/ over a fresh TCP connection every INTERVAL ms for DURATION ms and
// prints one JSON line per result ({ t, ok, who | error }) plus a final summary line. Bounded in count and time.
// Usage: probe.ts ADDR PORT INTERVAL_MS DURATION_MS
import { request } from 'node:http';
import { performance } from 'node:perf_hooks';

const [addr = '198.18.0.100', portText = '80', intervalText = '10', durationText = '10000'] = process.argv.slice(2);
const port = Number(portText);
const intervalMs = Number(intervalText);
const durationMs = Math.min(Number(durationText), 600_000);
const maxProbes = Math.ceil(durationMs / intervalMs) + 1;
const t0 = performance.now();

function once(): Promise<{ ok: boolean; who?: string; error?: string }> {
  return new Promise((resolve) => {
    const req = request({ host: addr, port, path: '/', agent: false, timeout: 100 }, (res) => {
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

let sent = 0;
let ok = 0;
let lastOk: number | null = null;
let maxGap = 0;
const who: Record<string, number> = {};
while (performance.now() - t0 < durationMs && sent < maxProbes) {
  const start = performance.now();
  const r = await once();
  sent++;
  const t = Math.round(start - t0);
  process.stdout.write(`${JSON.stringify({ t, ...r })}\n`);
  if (r.ok) {
    ok++;
    if (r.who) who[r.who] = (who[r.who] ?? 0) + 1;
    if (lastOk !== null) maxGap = Math.max(maxGap, t - lastOk);
    lastOk = t;
  }
  const wait = intervalMs - (performance.now() - start);
  if (wait > 0) await new Promise((r2) => setTimeout(r2, wait));
}
process.stdout.write(`${JSON.stringify({ summary: true, sent, ok, failed: sent - ok, maxGapMs: maxGap, who })}\n`);
