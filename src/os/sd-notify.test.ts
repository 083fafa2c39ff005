import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, fstatSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { isJournalStream, sdNotifier, watchdogIntervalMs } from './sd-notify.ts';

test('WATCHDOG=1 at half of WATCHDOG_USEC, only for the PID WATCHDOG_PID names (sd_watchdog_enabled)', () => {
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '20000000' }, 7), 10_000);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '20000000', WATCHDOG_PID: '7' }, 7), 10_000);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '20000000', WATCHDOG_PID: '8' }, 7), undefined);
  assert.equal(watchdogIntervalMs({}, 7), undefined);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: 'x' }, 7), undefined);
});

test('without NOTIFY_SOCKET nothing is sent; a failing send is reported, not thrown', () => {
  let calls = 0;
  const off = sdNotifier({}, () => calls++);
  assert.equal(off.enabled, false);
  assert.equal(off.send('READY=1'), undefined);
  assert.equal(calls, 0);
  const bad = sdNotifier({ NOTIFY_SOCKET: '/nonexistent/t12s.sock' });
  assert.match(bad.send('READY=1') ?? '', /NOTIFY_SOCKET|ENOENT|No such file/);
});

test('the addon sends one datagram to a path and to an abstract socket', async () => {
  const dir = mkdtempSync(join(tmpdir(), `t12s-${process.pid}-sdn-`));
  const helper = (addr: string) =>
    spawn('python3', [
      '-c',
      'import socket,sys\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\na=sys.argv[1]\ns.bind("\\0"+a[1:] if a[0]=="@" else a)\nprint("bound",flush=True)\nprint(s.recv(4096).decode().replace("\\n","|"),flush=True)',
      addr,
    ]);
  try {
    for (const addr of [join(dir, 'n.sock'), `@t12s-${process.pid}-notify`]) {
      const h = helper(addr);
      const lines = createInterface({ input: h.stdout! });
      const it = lines[Symbol.asyncIterator]();
      assert.equal((await it.next()).value, 'bound');
      assert.equal(sdNotifier({ NOTIFY_SOCKET: addr }).send('READY=1\nSTATUS=t12s'), undefined);
      assert.equal((await it.next()).value, 'READY=1|STATUS=t12s');
      h.kill();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('JOURNAL_STREAM is believed only when it names the fd', () => {
  const dir = mkdtempSync(join(tmpdir(), `t12s-${process.pid}-js-`));
  const fd = openSync(join(dir, 'f'), 'w');
  try {
    const st = fstatSync(fd);
    assert.equal(isJournalStream({ JOURNAL_STREAM: `${st.dev}:${st.ino}` }, fd), true);
    assert.equal(isJournalStream({ JOURNAL_STREAM: `${st.dev}:${st.ino + 1}` }, fd), false);
    assert.equal(isJournalStream({}, fd), false);
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
});
