// TCP listeners that count the connections they accept, for bench/lb-scale: the real servers the health checks of
// 1,000 virtual services connect to. Each accepted connection is closed at once (a TCP check only needs the
// handshake). Prints `listening` when every listener is up, and `count seq=N total=T` on each SIGUSR2 (N counts the
// signals, so the caller can wait for the answer to its own request). Runs until SIGTERM.
//
//   node --import tsx bench/tools/accept-counter.ts 198.18.211.1:9000 198.18.211.2:9000
import { createServer } from 'node:net';

const endpoints = process.argv.slice(2).map((s) => {
  const m = /^(.+):(\d+)$/.exec(s);
  if (!m) throw new Error(`not ADDRESS:PORT: ${s}`);
  return { host: m[1]!, port: Number(m[2]) };
});
if (endpoints.length === 0) {
  console.error('usage: accept-counter.ts ADDRESS:PORT…');
  process.exit(2);
}

let total = 0;
let seq = 0;
await Promise.all(
  endpoints.map(
    (ep) =>
      new Promise<void>((resolve, reject) => {
        const server = createServer((sock) => {
          total++;
          sock.on('error', () => undefined);
          sock.destroy();
        });
        server.on('error', reject);
        server.listen({ ...ep, backlog: 4096 }, () => resolve());
      }),
  ),
);
process.on('SIGUSR2', () => {
  seq++;
  console.log(`count seq=${seq} total=${total}`);
});
process.on('SIGTERM', () => process.exit(0));
console.log(`listening on ${endpoints.length} endpoint(s)`);
