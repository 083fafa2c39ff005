import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Notifier, type NotifyReport, type NotifyTransition, notifyCommands } from './notify.ts';
import type { CommandRunner, RunResult } from './process.ts';

/** A temp dir with `rec.sh`, which appends its arguments as one line to `log`. */
function fixture(): { rec: string; log: () => string[]; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-notify-'));
  const log = join(dir, 'log');
  const rec = join(dir, 'rec.sh');
  writeFileSync(rec, `#!/bin/sh\necho "$*" >> '${log}'\n`);
  chmodSync(rec, 0o755);
  return {
    rec,
    log: () => {
      try {
        return readFileSync(log, 'utf8').trimEnd().split('\n');
      } catch {
        return [];
      }
    },
    done: () => rmSync(dir, { recursive: true, force: true }),
  };
}

const vi1 = (state: NotifyTransition['state'], priority = 100): NotifyTransition => ({
  subject: 'INSTANCE',
  name: 'VI_1',
  state,
  priority,
});

const okResult: RunResult = {
  outcome: 'ok',
  code: 0,
  signal: null,
  stdout: '',
  stderr: '',
  truncated: false,
  durationMs: 0,
};

test('keepalived notify contract: the state script gets no arguments, notify gets INSTANCE NAME STATE PRIORITY', () => {
  assert.deepEqual(notifyCommands({ master: '/bin/m --x', any: `/bin/n "a b"` }, vi1('MASTER', 150)), [
    { script: 'master', command: '/bin/m --x' },
    { script: 'any', command: ['/bin/n', 'a b', 'INSTANCE', 'VI_1', 'MASTER', '150'] },
  ]);
  assert.deepEqual(notifyCommands({ master: '/bin/m' }, vi1('BACKUP')), []);
  assert.deepEqual(notifyCommands({ any: '/bin/n' }, { subject: 'GROUP', name: 'G1', state: 'FAULT', priority: 0 }), [
    { script: 'any', command: ['/bin/n', 'GROUP', 'G1', 'FAULT', '0'] },
  ]);
  assert.deepEqual(notifyCommands({ stop: '/bin/s', deleted: '/bin/d' }, vi1('DELETED')), [
    { script: 'deleted', command: '/bin/d' },
  ]);
});

test('transitions run in order, each state script before the generic one', async () => {
  const f = fixture();
  const ac = new AbortController();
  try {
    const reports: NotifyReport[] = [];
    const n = new Notifier({
      scripts: { master: `${f.rec} master-script`, fault: `${f.rec} fault-script`, any: `${f.rec} "generic one"` },
      report: (r) => reports.push(r),
      signal: ac.signal,
    });
    n.notify(vi1('BACKUP', 100));
    n.notify(vi1('MASTER', 100));
    n.notify(vi1('FAULT', 90));
    n.notify(vi1('BACKUP', 90));
    await n.idle();
    assert.deepEqual(f.log(), [
      'generic one INSTANCE VI_1 BACKUP 100',
      'master-script',
      'generic one INSTANCE VI_1 MASTER 100',
      'fault-script',
      'generic one INSTANCE VI_1 FAULT 90',
      'generic one INSTANCE VI_1 BACKUP 90',
    ]);
    assert.equal(reports.length, 6);
    assert.ok(reports.every((r) => r.kind === 'ran' && r.result.outcome === 'ok'));
  } finally {
    ac.abort();
    f.done();
  }
});

test('notify never blocks the caller, even while a script runs', async () => {
  const ac = new AbortController();
  const reports: NotifyReport[] = [];
  try {
    const n = new Notifier({
      scripts: { any: `sh -c 'sleep 0.3'` },
      report: (r) => reports.push(r),
      signal: ac.signal,
    });
    const t0 = performance.now();
    for (let i = 0; i < 3; i++) n.notify(vi1('MASTER'));
    assert.ok(performance.now() - t0 < 50, 'notify returned at once');
    assert.equal(reports.length, 0);
    assert.equal(n.pending, 2);
  } finally {
    ac.abort();
  }
});

test('a hanging script times out and the queue goes on', async () => {
  const f = fixture();
  const ac = new AbortController();
  try {
    const reports: NotifyReport[] = [];
    const n = new Notifier({
      scripts: { master: 'sleep 30', any: f.rec },
      timeoutMs: 100,
      report: (r) => reports.push(r),
      signal: ac.signal,
    });
    n.notify(vi1('MASTER'));
    await n.idle();
    const outcomes = reports.map((r) => (r.kind === 'ran' ? `${r.script}:${r.result.outcome}` : r.kind));
    assert.deepEqual(outcomes, ['master:timeout', 'any:ok']);
    assert.deepEqual(f.log(), ['INSTANCE VI_1 MASTER 100']);
  } finally {
    ac.abort();
    f.done();
  }
});

test('the queue is bounded: beyond maxPending the oldest waiting transition is dropped with a report', async () => {
  const ac = new AbortController();
  const ran: string[] = [];
  const gates: (() => void)[] = [];
  const run: CommandRunner = (command) => {
    ran.push((command as readonly string[]).slice(-2).join(' '));
    return new Promise((resolve) => gates.push(() => resolve(okResult)));
  };
  const reports: NotifyReport[] = [];
  const n = new Notifier({
    scripts: { any: '/bin/n' },
    maxPending: 3,
    report: (r) => reports.push(r),
    signal: ac.signal,
    run,
  });
  try {
    for (const p of [1, 2, 3, 4, 5, 6]) n.notify(vi1('MASTER', p));
    // 1 runs; 2..6 queued in a queue of 3: 2 and 3 dropped.
    const dropped = reports.filter((r) => r.kind === 'dropped').map((r) => r.transition.priority);
    assert.deepEqual(dropped, [2, 3]);
    assert.equal(n.pending, 3);
    // Release runs one by one until the queue is empty (bounded: at most 6 runs).
    for (let i = 0; i < 6 && (n.pending > 0 || gates.length > 0); i++) {
      while (gates.length === 0) await new Promise((r) => setImmediate(r));
      gates.shift()!();
    }
    await n.idle();
    assert.deepEqual(ran, ['MASTER 1', 'MASTER 4', 'MASTER 5', 'MASTER 6']);
  } finally {
    ac.abort();
  }
});

test('an abort kills the running script and drops what waits', async () => {
  const ac = new AbortController();
  const reports: NotifyReport[] = [];
  const n = new Notifier({ scripts: { any: `sh -c 'sleep 30'` }, report: (r) => reports.push(r), signal: ac.signal });
  n.notify(vi1('MASTER'));
  n.notify(vi1('BACKUP'));
  setTimeout(() => ac.abort(), 50);
  await n.idle();
  assert.deepEqual(
    reports.map((r) => (r.kind === 'ran' ? r.result.outcome : r.kind)),
    ['aborted'],
  );
  assert.equal(n.pending, 0);
  n.notify(vi1('FAULT'));
  assert.equal(n.pending, 0, 'nothing is queued after abort');
});

test('a transition with no script for its state and no generic script is not queued', () => {
  const ac = new AbortController();
  const n = new Notifier({ scripts: { master: '/bin/true' }, report: () => undefined, signal: ac.signal });
  n.notify(vi1('BACKUP'));
  assert.equal(n.pending, 0);
  ac.abort();
});
