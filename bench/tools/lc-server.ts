// A real server for bench/lb-lc: each connection sends "hold MS\n" (a request: answered after MS × FACTOR ms, FACTOR
// > 1 is a slower server) or "long MS\n" (a long-lived connection: answered after MS, whatever the factor); the answer
// is "ok NAME\n", then the server closes. Prints {"open":N} every 250 ms: the connections it holds now.
// Usage: lc-server.ts NAME ADDR PORT FACTOR
import { createServer } from 'node:net';

const [name = 'rs', addr = '127.0.0.1', portText = '8080', factorText = '1'] = process.argv.slice(2);
const factor = Number(factorText);
let open = 0;
createServer((s) => {
  open++;
  s.setEncoding('utf8');
  let buf = '';
  let timer: NodeJS.Timeout | null = null;
  s.on('data', (d: string) => {
    buf += d;
    const m = /^(hold|long) (\d+)\n/.exec(buf);
    if (!m || timer) return;
    const ms = Number(m[2]) * (m[1] === 'hold' ? factor : 1);
    timer = setTimeout(() => s.end(`ok ${name}\n`), Math.min(120_000, ms));
  });
  s.on('error', () => undefined);
  s.on('close', () => {
    open--;
    if (timer) clearTimeout(timer);
  });
}).listen(Number(portText), addr, () => process.stdout.write('listening\n'));
setInterval(() => process.stdout.write(`${JSON.stringify({ open })}\n`), 250);
