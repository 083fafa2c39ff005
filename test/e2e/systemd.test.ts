// systemd Type=notify (issue 12 item 7): a real `tandem run` (supervised, as the unit runs it; a user-space proxy on
// 127.0.0.1, so no namespace) with NOTIFY_SOCKET pointing at a unix datagram socket a python3 helper bound, and
// WATCHDOG_USEC set. The helper receives READY=1 once the daemon serves, WATCHDOG=1 at half the interval, and
// STOPPING=1 on SIGTERM, all from the unit's main PID. With JOURNAL_STREAM naming its stderr, lines carry <N>.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, fstatSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { callDaemon } from '../../src/api/client.ts';
import { eventually, Output } from '../netns/tandem-lab.ts';

const root = new URL('../../', import.meta.url).pathname;
const TANDEM = join(root, 'bin/tandem');

const HELPER = `
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("bound", flush=True)
while True:
    data, _ = s.recvfrom(4096)
    print(json.dumps(data.decode()), flush=True)
`;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

test('tandem run under systemd: READY=1 when serving, WATCHDOG=1 at half WATCHDOG_USEC, STOPPING=1 on SIGTERM', {
  timeout: 60_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), `t12s-${process.pid}-sd-`));
  const children: ChildProcess[] = [];
  const backend = createServer((s) => s.end());
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', () => r()));
  try {
    const sock = join(dir, 'notify.sock');
    const helper = spawn('python3', ['-c', HELPER, sock], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(helper);
    const got = new Output(helper);
    await got.waitFor(/^bound$/, 10_000);
    const messages = () => got.lines.filter((l) => l.startsWith('"')).map((l) => JSON.parse(l) as string);

    const port = await freePort();
    const config = join(dir, 't12s.yaml');
    writeFileSync(
      config,
      `cluster:
  nodes: [{ name: t12s }]
lb:
  services:
    - name: web
      vip: 127.0.0.1
      port: ${port}
      dataplane: proxy
      real_servers:
        - { address: 127.0.0.1, port: ${(backend.address() as AddressInfo).port} }
`,
    );
    const control = join(dir, 't12s.sock');
    const logFile = join(dir, 'stderr.log');
    const errFd = openSync(logFile, 'w');
    const st = fstatSync(errFd);
    const daemon = spawn(process.execPath, [TANDEM, 'run', '-c', config, '--control', control], {
      cwd: root,
      stdio: ['ignore', 'ignore', errFd],
      env: {
        ...process.env,
        NOTIFY_SOCKET: sock,
        WATCHDOG_USEC: '400000',
        JOURNAL_STREAM: `${st.dev}:${st.ino}`,
      },
    });
    closeSync(errFd);
    children.push(daemon);

    const ready = await eventually('READY=1', messages, (m) => m.some((x) => x.startsWith('READY=1')), 30_000);
    // READY means served: the control socket answers at once.
    const status = await callDaemon(control, 'GET', '/v1/status', undefined, 5_000);
    assert.ok(status.ok, 'the control socket answers once READY=1 was sent');
    assert.match(ready.find((x) => x.startsWith('READY=1'))!, /^READY=1\nSTATUS=0 VRRP instance\(s\) on node t12s$/);
    await eventually('3 watchdog pings', messages, (m) => m.filter((x) => x === 'WATCHDOG=1').length >= 3, 10_000);

    daemon.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => daemon.once('exit', (c) => r(c)));
    assert.equal(code, 0);
    const all = await eventually('STOPPING=1', messages, (m) => m.includes('STOPPING=1'), 10_000);
    assert.ok(all.indexOf('STOPPING=1') > all.findIndex((x) => x.startsWith('READY=1')));
    assert.equal(all.filter((x) => x === 'STOPPING=1').length, 1, 'STOPPING=1 once');

    const lines = readFileSync(logFile, 'utf8').trim().split('\n');
    assert.ok(lines.length > 3);
    for (const l of lines) assert.match(l, /^<[3467]>/, `journald priority prefix: ${l}`);
    assert.ok(
      lines.some((l) => l === '<6>Stopping on SIGTERM'),
      lines.join('\n'),
    );
    assert.ok(!lines.some((l) => /^<\d>\d{4}-\d\d-\d\dT/.test(l)), 'no timestamp: journald adds its own');
    process.stdout.write(
      `# notify messages: ${JSON.stringify(all)}\n# first log lines: ${JSON.stringify(lines.slice(0, 3))}\n`,
    );
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    await Promise.all(
      children.map((c) =>
        c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : undefined,
      ),
    );
    backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
