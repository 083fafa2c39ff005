import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LinkMonitor, type LinkMonitorReport, linkLineUp, parseLinkLine } from './link-monitor.ts';

// Lines as iproute2 6.1 prints them (captured in a lab namespace).
const UP =
  '2: eth0@if3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default \\    link/ether 3a:f0:2e:e8:96:e3 brd ff:ff:ff:ff:ff:ff link-netns tnd-f4w0-sw';
const NO_CARRIER =
  '2: eth0@if3: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state DOWN group default \\    link/ether 3a:f0:2e:e8:96:e3 brd ff:ff:ff:ff:ff:ff';
const ADMIN_DOWN =
  '4: dum1@dpeer: <BROADCAST,MULTICAST> mtu 1500 qdisc noqueue state DOWN group default \\    link/ether 6e:31:29:df:95:02 brd ff:ff:ff:ff:ff:ff';
const DELETED =
  'Deleted 4: dum1@NONE: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default \\    link/ether 6e:31:29:df:95:02 brd ff:ff:ff:ff:ff:ff';
const LO =
  '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00';

test('parseLinkLine reads index, name (without @peer) and the UP / LOWER_UP flags', () => {
  assert.deepEqual(parseLinkLine(UP), { ifindex: 2, ifname: 'eth0', deleted: false, adminUp: true, lowerUp: true });
  assert.deepEqual(parseLinkLine(NO_CARRIER), {
    ifindex: 2,
    ifname: 'eth0',
    deleted: false,
    adminUp: true,
    lowerUp: false,
  });
  assert.deepEqual(parseLinkLine(DELETED), {
    ifindex: 4,
    ifname: 'dum1',
    deleted: true,
    adminUp: false,
    lowerUp: false,
  });
  assert.equal(parseLinkLine(LO)?.ifname, 'lo');
  assert.equal(parseLinkLine(`[LINK]${UP}`)?.ifname, 'eth0');
  assert.equal(parseLinkLine(''), null);
  assert.equal(parseLinkLine('    link/ether 3a:f0:2e:e8:96:e3'), null);
});

test('up means admin up AND lower up; a deleted link is down', () => {
  assert.equal(linkLineUp(parseLinkLine(UP)!), true);
  assert.equal(linkLineUp(parseLinkLine(NO_CARRIER)!), false);
  assert.equal(linkLineUp(parseLinkLine(ADMIN_DOWN)!), false);
  assert.equal(linkLineUp(parseLinkLine(DELETED)!), false);
  // LOWER_UP without UP cannot come from the kernel, but must not count as up either.
  assert.equal(linkLineUp({ ifindex: 1, ifname: 'x', deleted: false, adminUp: false, lowerUp: true }), false);
});

/**
 * A fake `ip`: `-o link show` prints the file `links`; `-o monitor link` prints the file `events` once, then exits
 * after a short while, so the monitor's restart path runs. Every monitor start is logged.
 */
function fakeIp(): {
  ip: string;
  setLinks: (lines: string[]) => void;
  setEvents: (l: string[]) => void;
  starts: () => number;
  done: () => void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-fakeip-'));
  const ip = join(dir, 'ip');
  writeFileSync(
    ip,
    `#!/bin/sh
case "$*" in
  *monitor*) echo start >> '${dir}/starts'; cat '${dir}/events' 2>/dev/null; : > '${dir}/events'; sleep 0.1; exit 1 ;;
  *) cat '${dir}/links' ;;
esac
`,
  );
  chmodSync(ip, 0o755);
  writeFileSync(join(dir, 'links'), '');
  return {
    ip,
    setLinks: (lines) => writeFileSync(join(dir, 'links'), `${lines.join('\n')}\n`),
    setEvents: (lines) => writeFileSync(join(dir, 'events'), `${lines.join('\n')}\n`),
    starts: () => {
      try {
        return readFileSync(join(dir, 'starts'), 'utf8').split('\n').filter(Boolean).length;
      } catch {
        return 0;
      }
    },
    done: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The next change a monitor reports, with a deadline. */
function nextChange(m: LinkMonitor, ms = 3_000): Promise<[string, boolean]> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      off();
      reject(new Error(`no link change within ${ms} ms`));
    }, ms);
    const off = m.onChange((name, up) => {
      clearTimeout(t);
      off();
      resolve([name, up]);
    });
  });
}

test('initial state from a snapshot; a missing interface is down; no change is announced for it', async () => {
  const f = fakeIp();
  const ac = new AbortController();
  try {
    f.setLinks([LO, UP]);
    const m = new LinkMonitor({ interfaces: ['eth0', 'eth9'], signal: ac.signal, ipPath: f.ip, restartMinMs: 50 });
    const seen: [string, boolean][] = [];
    m.onChange((n, up) => seen.push([n, up]));
    await m.start();
    assert.equal(m.isUp('eth0'), true);
    assert.equal(m.isUp('eth9'), false);
    assert.equal(m.isUp('not-watched'), false);
    assert.deepEqual(seen, []);
  } finally {
    ac.abort();
    f.done();
  }
});

test('a monitor event changes the state, and only real changes are announced', async () => {
  const f = fakeIp();
  const ac = new AbortController();
  try {
    f.setLinks([UP]);
    // The first monitor run prints: a repeat of the current state (no change), then carrier loss.
    f.setEvents([UP, NO_CARRIER]);
    const m = new LinkMonitor({ interfaces: ['eth0'], signal: ac.signal, ipPath: f.ip, settleMs: 60_000 });
    await m.start();
    // The fake's events may arrive during start (then the snapshot, older, must not undo them) or after.
    if (m.isUp('eth0')) assert.deepEqual(await nextChange(m), ['eth0', false]);
    assert.equal(m.isUp('eth0'), false);
  } finally {
    ac.abort();
    f.done();
  }
});

test('a monitor that dies is restarted with backoff, and the state is re-read after the restart', async () => {
  const f = fakeIp();
  const ac = new AbortController();
  const reports: LinkMonitorReport[] = [];
  try {
    f.setLinks([UP]);
    const m = new LinkMonitor({
      interfaces: ['eth0'],
      signal: ac.signal,
      ipPath: f.ip,
      restartMinMs: 30,
      restartMaxMs: 120,
      settleMs: 60_000,
      report: (r) => reports.push(r),
    });
    await m.start();
    assert.equal(m.isUp('eth0'), true);
    // The link went down while no monitor ran: only the snapshot after a restart can see it.
    f.setLinks([NO_CARRIER]);
    assert.deepEqual(await nextChange(m), ['eth0', false]);
    const exits = reports.filter((r) => r.kind === 'monitor-exited');
    assert.ok(exits.length >= 1);
    assert.ok(f.starts() >= 2);
    const delays = exits.map((r) => (r.kind === 'monitor-exited' ? r.restartInMs : 0));
    assert.equal(delays[0], 30);
    for (let i = 1; i < delays.length; i++) assert.equal(delays[i], Math.min(120, delays[i - 1]! * 2));
  } finally {
    ac.abort();
    f.done();
  }
});

test('a renamed interface: the old name goes down, the new name comes up', async () => {
  const f = fakeIp();
  const ac = new AbortController();
  try {
    f.setLinks([UP]);
    const m = new LinkMonitor({
      interfaces: ['eth0', 'lan0'],
      signal: ac.signal,
      ipPath: f.ip,
      settleMs: 60_000,
      restartMinMs: 30,
      restartMaxMs: 60,
    });
    await m.start();
    const changes: [string, boolean][] = [];
    const two = new Promise<void>((resolve) => {
      m.onChange((n, up) => {
        changes.push([n, up]);
        if (changes.length === 2) resolve();
      });
    });
    f.setLinks([UP.replace('eth0@', 'lan0@')]);
    f.setEvents([UP.replace('eth0@', 'lan0@')]);
    await Promise.race([two, new Promise((_, rej) => setTimeout(() => rej(new Error('no rename seen')), 3_000))]);
    assert.deepEqual(changes, [
      ['eth0', false],
      ['lan0', true],
    ]);
  } finally {
    ac.abort();
    f.done();
  }
});

test('abort stops the monitor process and its restarts', async () => {
  const f = fakeIp();
  const ac = new AbortController();
  try {
    f.setLinks([UP]);
    const m = new LinkMonitor({ interfaces: ['eth0'], signal: ac.signal, ipPath: f.ip, restartMinMs: 20 });
    await m.start();
    ac.abort();
    await m.closed;
    const starts = f.starts();
    // Ten restart periods: a live monitor would have restarted by now.
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(f.starts(), starts);
  } finally {
    f.done();
  }
});
