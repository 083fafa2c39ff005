// The skewed workload of bench/lb-lc: LONG connections held LONG_MS each, opened evenly over the first 40 % of the
// run, and short ones (held SHORT_MS) at RATE per second for DURATION_MS. Bounded in count (≤ LONG + RATE × duration,
// at most 5,000) and time; prints {"done":true,"ok":…,"failed":…,"errors":{…}} at the end.
// Usage: lc-load.ts ADDR PORT DURATION_MS RATE LONG LONG_MS SHORT_MS
import { connect } from 'node:net';

const [
  addr = '127.0.0.1',
  portText = '80',
  durText = '12000',
  rateText = '100',
  longText = '24',
  longMs = '20000',
  shortMs = '100',
] = process.argv.slice(2);
const port = Number(portText);
const duration = Math.min(Number(durText), 60_000);
const rate = Number(rateText);
const longs = Number(longText);
let ok = 0;
let failed = 0;
const errors: Record<string, number> = {};
const pending: Promise<void>[] = [];

function one(holdMs: number, verb: 'hold' | 'long'): Promise<void> {
  return new Promise((resolve) => {
    const s = connect({ host: addr, port });
    const t = setTimeout(() => s.destroy(new Error('timeout')), holdMs * 4 + 10_000);
    let got = '';
    s.setEncoding('utf8');
    s.on('connect', () => s.write(`${verb} ${holdMs}\n`));
    s.on('data', (d: string) => {
      got += d;
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      errors[e.code ?? e.message] = (errors[e.code ?? e.message] ?? 0) + 1;
    });
    s.on('close', () => {
      clearTimeout(t);
      if (got.startsWith('ok ')) ok++;
      else failed++;
      resolve();
    });
  });
}

const t0 = Date.now();
const shorts = Math.min(5_000, Math.floor((rate * duration) / 1000));
const events: { at: number; hold: number; verb: 'hold' | 'long' }[] = [];
for (let i = 0; i < longs; i++)
  events.push({ at: (i * 0.4 * duration) / Math.max(1, longs), hold: Number(longMs), verb: 'long' });
for (let i = 0; i < shorts; i++) events.push({ at: (i * 1000) / rate, hold: Number(shortMs), verb: 'hold' });
events.sort((a, b) => a.at - b.at);
for (const e of events) {
  const wait = e.at - (Date.now() - t0);
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  pending.push(one(e.hold, e.verb));
}
await Promise.all(pending);
process.stdout.write(`${JSON.stringify({ done: true, ok, failed, errors })}\n`);
