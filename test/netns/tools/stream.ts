// A long download for labs, bounded in size, rate and time.
//   stream.ts serve PORT NAME BYTES BYTES_PER_S   each connection gets "NAME\n" then BYTES bytes (byte i = i mod 251)
//                                                  at about BYTES_PER_S, then the server closes it
//   stream.ts get ADDR PORT                        downloads once; prints {"progress":MB} at every MiB, then
//                                                  {"done":true,"who":…,"bytes":…,"corrupt":…,"error":…,"maxGapMs":…}
import { connect, createServer } from 'node:net';
import { performance } from 'node:perf_hooks';

const [mode, a1, a2, a3, a4] = process.argv.slice(2);
const CHUNK = 16_384;
const out = (o: unknown): void => {
  process.stdout.write(`${JSON.stringify(o)}\n`);
};

if (mode === 'serve') {
  const port = Number(a1);
  const name = a2 ?? 'stream';
  const total = Math.min(Number(a3 ?? 1 << 20), 64 << 20);
  const rate = Math.max(16_384, Number(a4 ?? 1 << 20));
  createServer((s) => {
    let sent = 0;
    s.on('error', (e: NodeJS.ErrnoException) => out({ serverError: e.code ?? e.message, sent }));
    s.on('close', () => out({ serverClosed: true, sent, total }));
    s.write(`${name}\n`);
    const t0 = performance.now();
    const step = (): void => {
      if (s.destroyed) return;
      if (sent >= total) return void s.end();
      const n = Math.min(CHUNK, total - sent);
      const buf = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) buf[i] = (sent + i) % 251;
      sent += n;
      const ok = s.write(buf);
      // Pace by the rate: the next chunk is due when sent / rate seconds have passed.
      const wait = Math.max(0, (sent / rate) * 1000 - (performance.now() - t0));
      if (ok) setTimeout(step, wait);
      else s.once('drain', () => setTimeout(step, wait));
    };
    step();
  }).listen(port, '0.0.0.0', () => process.stdout.write(`listening ${port}\n`));
} else if (mode === 'get') {
  const s = connect({ host: a1 ?? '198.18.0.100', port: Number(a2 ?? 9000) });
  const deadline = setTimeout(() => {
    out({ done: true, error: 'deadline', bytes });
    process.exit(2);
  }, 120_000);
  let head = '';
  let who: string | null = null;
  let bytes = 0;
  let corrupt = 0;
  let last = performance.now();
  let maxGapMs = 0;
  let nextMark = 1 << 20;
  s.on('data', (d: Buffer) => {
    const now = performance.now();
    maxGapMs = Math.max(maxGapMs, now - last);
    last = now;
    let body = d;
    if (who === null) {
      head += d.toString('latin1');
      const i = head.indexOf('\n');
      if (i < 0) return;
      who = head.slice(0, i);
      body = Buffer.from(head.slice(i + 1), 'latin1');
    }
    for (let i = 0; i < body.length; i++) if (body[i] !== (bytes + i) % 251) corrupt++;
    bytes += body.length;
    while (bytes >= nextMark) {
      out({ progress: nextMark >> 20 });
      nextMark += 1 << 20;
    }
  });
  let error: string | null = null;
  let ended = false;
  s.on('end', () => {
    ended = true;
  });
  s.on('error', (e: NodeJS.ErrnoException) => {
    error = e.code ?? e.message;
  });
  s.on('close', () => {
    clearTimeout(deadline);
    out({ done: true, who, bytes, corrupt, error, ended, maxGapMs: Math.round(maxGapMs) });
  });
} else {
  process.stderr.write('usage: stream.ts serve PORT NAME BYTES BYTES_PER_S | get ADDR PORT\n');
  process.exit(2);
}
