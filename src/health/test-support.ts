/**
 * Helpers for the health tests: loopback-only servers that refuse, hang, or never accept, and a way to drive a
 * SimClock when the code under test awaits promises. Test code only; nothing here sends traffic beyond 127.0.0.1/::1.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';

/** A port on `host` that nothing listens on (it was bound a moment ago, then closed): connecting is refused. */
export async function closedPort(host = '127.0.0.1'): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A listening socket that never accepts, with its accept queue full, so a new connection's SYN is dropped and the
 * connect hangs until the client gives up: a loopback stand-in for a blackholed server. A child process listens with
 * backlog 1 and blocks its event loop (at most 20 s); fillers take the queue's places.
 */
export async function blockedListener(host = '127.0.0.1'): Promise<{ port: number; close: () => void }> {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `const s = require('node:net').createServer();
       s.listen({ host: ${JSON.stringify(host)}, port: 0, backlog: 1 }, () => {
         process.stdout.write(s.address().port + '\\n');
         // Block before the event loop ever polls the listening socket, so not one connection is accepted.
         Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20000);
       });`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('blocked listener did not start')), 5_000);
    child.stdout.once('data', (d: Buffer) => {
      clearTimeout(t);
      resolve(Number(String(d).trim()));
    });
  });
  const fillers: net.Socket[] = [];
  const close = (): void => {
    for (const f of fillers) f.destroy();
    if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
  };
  // Bounded: backlog 1 holds two connections; the first filler that does not connect shows the queue is full.
  for (let i = 0; i < 8; i++) {
    const s = net.connect({ host, port });
    s.on('error', () => undefined);
    fillers.push(s);
    const connected = await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), 150);
      s.once('connect', () => {
        clearTimeout(t);
        resolve(true);
      });
    });
    if (!connected) return { port, close };
  }
  close();
  throw new Error('the accept queue never filled');
}

export { advance, flush, type SteppableClock } from '../sim/advance.ts';
