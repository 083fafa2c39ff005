// Runs inside a lab namespace: listens on a Unix socket (a file, so reachable from the root namespace) and forwards
// each connection to HOST:PORT inside the namespace (the daemon's API on the namespace's own loopback). Prints
// `listening` when ready. Bounded: at most 64 connections at a time, each idle at most 120 s.
// Usage: unix-forward.ts SOCKET HOST PORT
import { rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';

const [socket = '', host = '127.0.0.1', port = '8080'] = process.argv.slice(2);
rmSync(socket, { force: true });
const server = createServer((client) => {
  const upstream = connect({ host, port: Number(port) });
  for (const s of [client, upstream]) {
    s.setTimeout(120_000, () => s.destroy());
    s.on('error', () => {
      client.destroy();
      upstream.destroy();
    });
  }
  client.pipe(upstream).pipe(client);
});
server.maxConnections = 64;
server.listen(socket, () => process.stdout.write('listening\n'));
for (const sig of ['SIGTERM', 'SIGINT'] as const)
  process.on(sig, () => {
    server.close();
    rmSync(socket, { force: true });
    process.exit(0);
  });
