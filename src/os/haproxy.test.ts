import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { TandemError } from '../core/errors.ts';
import { HaproxyProcess } from './haproxy.ts';

const cfg = (dir: string, port: number) => `global
    master-worker
    stats socket ${join(dir, 'api.sock')} mode 600 level admin expose-fd listeners
defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend f
    bind 127.0.15.2:${port}
    default_backend b
backend b
    server s1 127.0.0.1:9
`;

test('a config HAProxy refuses is TND_HAPROXY_CONFIG and the running HAProxy and its file are kept; stop leaves no process', {
  skip: !existsSync('/usr/sbin/haproxy'),
  timeout: 30_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), `t15p-${process.pid}-os-`));
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.15.2', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  const lines: string[] = [];
  const h = new HaproxyProcess({ dir, log: (_l, line) => lines.push(line) });
  let master: number | undefined;
  let worker: number | null = null;
  try {
    await h.writeConfig(cfg(dir, port), '1\n');
    await h.start();
    master = h.pid;
    worker = await h.workerPid();
    assert.ok(worker && worker !== master);
    const good = readFileSync(h.files.config, 'utf8');
    await assert.rejects(
      h.writeConfig(`${good}backend b2\n    balance nonsense\n`, '1\n'),
      (e: unknown) =>
        e instanceof TandemError && e.code === 'TND_HAPROXY_CONFIG' && /running one is kept/.test(e.message),
    );
    assert.equal(readFileSync(h.files.config, 'utf8'), good, 'the file HAProxy runs is unchanged');
    assert.equal(await h.workerPid(), worker, 'the same worker serves');
    // A refused runtime command is HAProxy's message, not a silent success.
    assert.match(await h.api('set server b/nope state drain'), /No such server/i);
  } finally {
    await h.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.ok(!existsSync(`/proc/${master}`), 'the master is gone');
  for (let i = 0; i < 100 && existsSync(`/proc/${worker}`); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(!existsSync(`/proc/${worker}`), 'the worker is gone');
});
