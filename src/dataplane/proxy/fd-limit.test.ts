// File-descriptor exhaustion by slow clients, for real: the proxy runs in a child process whose RLIMIT_NOFILE is 400
// (prlimit), with its default budget read from /proc/self/limits (400 less the 320 reserved: 80 sockets, 40 client
// connections) and a control socket of its own standing for the daemon's. Slow clients that never finish a request
// head are refused at once beyond the limits; the control socket and the other service keep answering, and nothing
// in the child runs out of descriptors (no EMFILE).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { rawRequest, recordingBackend } from './raw-http.ts';
import { freePort, program } from './test-support.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const skip = spawnSync('sh', ['-c', 'command -v prlimit'], { stdio: 'ignore' }).status === 0 ? false : 'needs prlimit';

/** Runs the proxy for the programs in argv[1]; prints `log …` lines and `ready CONTROL_PORT NOFILE`. */
const CHILD = `
import net from 'node:net';
import { readFileSync } from 'node:fs';
const { createProxyDataPlane } = await import(${JSON.stringify(join(here, 'index.ts'))});
process.on('uncaughtException', (e) => { process.stdout.write('crash ' + e.message + '\\n'); process.exit(1); });
const dp = createProxyDataPlane({ log: (l) => process.stdout.write('log ' + l + '\\n') });
await dp.apply(JSON.parse(process.argv[1]));
const control = net.createServer((s) => { s.on('error', () => {}); s.end('pong\\n'); });
control.on('error', (e) => process.stdout.write('log control: ' + e.message + '\\n'));
const nofile = /^Max open files\\s+(\\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1];
control.listen(0, '127.0.0.1', () => process.stdout.write('ready ' + control.address().port + ' ' + nofile + '\\n'));
process.on('SIGTERM', () => dp.close().then(() => process.exit(0)));`;

/** Opens a connection that sends one byte of a request head and then nothing; resolves once open or refused. */
function slowClient(port: number): Promise<{ socket: net.Socket; refused: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.on('error', () => {});
    socket.once('connect', () => {
      socket.write('G');
      // A refused connection is closed at once; one the proxy keeps stays open.
      const t = setTimeout(() => resolve({ socket, refused: false }), 300);
      socket.once('close', () => {
        clearTimeout(t);
        resolve({ socket, refused: true });
      });
    });
    socket.once('close', () => resolve({ socket, refused: true }));
  });
}

function ping(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let got = '';
    s.on('data', (d: Buffer) => {
      got += d.toString();
    });
    s.on('close', () => resolve(got));
    s.on('error', reject);
    setTimeout(() => s.destroy(), 5_000).unref();
  });
}

test('regression: slow clients exhausting file descriptors break neither the control socket nor the other service', {
  skip,
}, async () => {
  const backend = await recordingBackend('127.0.0.2');
  const [pa, pb, pc] = [await freePort(), await freePort(), await freePort()];
  const http = { mode: 'http' as const, clientHeaderTimeoutMs: 60_000, idleTimeoutMs: 60_000 };
  const programs = [
    program('a', pa, [backend], {}, http),
    program('b', pb, [backend], {}, http),
    // A service allowed more than the whole budget: only the process-wide budget stops it.
    program('c', pc, [backend], {}, { ...http, maxConnections: 1_000 }),
  ];
  const child: ChildProcess = spawn(
    'prlimit',
    [
      '--nofile=400:400',
      '--',
      process.execPath,
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      CHILD,
      JSON.stringify(programs),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines: string[] = [];
  let ready: (l: string) => void = () => {};
  const readyLine = new Promise<string>((r) => {
    ready = r;
  });
  child.stdout?.on('data', (d: Buffer) => {
    for (const l of d.toString().split('\n').filter(Boolean)) {
      lines.push(l);
      if (l.startsWith('ready ')) ready(l);
    }
  });
  const held: net.Socket[] = [];
  try {
    const [, controlPort, nofile] = (await readyLine).split(' ');
    assert.equal(nofile, '400');
    // Service a: its default max_connections is half the budget, 20.
    const a = await Promise.all(Array.from({ length: 60 }, () => slowClient(pa)));
    held.push(...a.map((x) => x.socket));
    assert.equal(a.filter((x) => !x.refused).length, 20);
    assert.equal(await ping(Number(controlPort)), 'pong\n', 'the control socket answers');
    const b = await rawRequest(pb, ['GET /b HTTP/1.1\r\nHost: a\r\n\r\n'], { expect: 1 });
    assert.deepEqual(
      b.responses.map((r) => r.status),
      [200],
      'the other service answers',
    );
    // Service c may take what is left of the 40 client connections, and no more: the budget holds.
    const c = await Promise.all(Array.from({ length: 60 }, () => slowClient(pc)));
    held.push(...c.map((x) => x.socket));
    const kept = c.filter((x) => !x.refused).length;
    assert.ok(kept >= 18 && kept <= 20, `service c kept ${kept}`);
    assert.equal(await ping(Number(controlPort)), 'pong\n', 'the control socket still answers');
    assert.ok(
      lines.some((l) => /service a: max_connections \(20\) reached/.test(l)),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => /service c: the proxy's file-descriptor budget is spent/.test(l)),
      lines.join('\n'),
    );
    // The slow clients go: service b (refused while the budget was spent) answers again.
    for (const s of held) s.destroy();
    const deadline = Date.now() + 10_000;
    let again = 0;
    while (again !== 200 && Date.now() < deadline) {
      again = (await rawRequest(pb, ['GET /b HTTP/1.1\r\nHost: a\r\n\r\n'], { expect: 1 })).responses[0]?.status ?? 0;
    }
    assert.equal(again, 200);
    assert.ok(!lines.some((l) => /EMFILE|crash/.test(l)), lines.join('\n'));
  } finally {
    for (const s of held) s.destroy();
    if (child.pid && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      process.kill(child.pid, 'SIGTERM');
      const t = setTimeout(() => child.pid && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 5_000);
      await exited;
      clearTimeout(t);
    }
    await backend.close();
  }
});
