import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ensureTrackFile, parseTrackFileValue, readTrackFile, TrackFileWatcher } from './track-file.ts';

function tempDir(): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-tfile-'));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Values from onChange, awaitable one at a time with a deadline. */
function values(): { onChange: (v: number) => void; next: (ms?: number) => Promise<number> } {
  const queued: number[] = [];
  let waiter: ((v: number) => void) | null = null;
  return {
    onChange: (v) => {
      if (waiter) {
        const w = waiter;
        waiter = null;
        w(v);
      } else queued.push(v);
    },
    next: (ms = 3_000) => {
      if (queued.length > 0) return Promise.resolve(queued.shift()!);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no value within ${ms} ms`)), ms);
        waiter = (v) => {
          clearTimeout(t);
          resolve(v);
        };
      });
    },
  };
}

test('keepalived reads the value with strtol(…, 0): decimal, hex, octal, sign, blanks, trailing text', () => {
  const cases: [string, number | undefined][] = [
    ['0', 0],
    ['1\n', 1],
    ['  -5\n', -5],
    ['+7', 7],
    ['0x10', 16],
    ['010', 8],
    ['08', 0],
    ['12abc', 12],
    ['999', 254],
    ['-999', -254],
    ['', undefined],
    ['abc', undefined],
    ['-', undefined],
    ['-0', 0],
  ];
  for (const [text, v] of cases) assert.equal(parseTrackFileValue(text), v, JSON.stringify(text));
});

test('readTrackFile: the value, or undefined when the file is missing', async () => {
  const t = tempDir();
  try {
    const p = join(t.dir, 'prio');
    assert.equal(await readTrackFile(p), undefined);
    writeFileSync(p, '42\n');
    assert.equal(await readTrackFile(p), 42);
  } finally {
    t.done();
  }
});

test('init_file: ensureTrackFile writes a missing file once, and overwrites only when asked', async () => {
  const t = tempDir();
  try {
    const p = join(t.dir, 'prio');
    assert.equal(await ensureTrackFile(p, 5), true);
    assert.equal(await ensureTrackFile(p, 7), false);
    assert.equal(await readTrackFile(p), 5);
    assert.equal(await ensureTrackFile(p, 7, true), true);
    assert.equal(await readTrackFile(p), 7);
  } finally {
    t.done();
  }
});

test('the watcher reports each new value once: writes, an atomic rename, and removal (0)', async () => {
  const t = tempDir();
  const ac = new AbortController();
  try {
    const p = join(t.dir, 'prio');
    writeFileSync(p, '3\n');
    const v = values();
    // A long poll: the changes must come through fs.watch.
    const w = new TrackFileWatcher({ path: p, signal: ac.signal, onChange: v.onChange, pollMs: 60_000 });
    assert.equal(await w.start(), 3);
    writeFileSync(p, '5\n');
    assert.equal(await v.next(), 5);
    writeFileSync(join(t.dir, 'prio.tmp'), '0x10\n');
    renameSync(join(t.dir, 'prio.tmp'), p);
    assert.equal(await v.next(), 16);
    unlinkSync(p);
    assert.equal(await v.next(), 0);
    assert.equal(w.value, 0);
  } finally {
    ac.abort();
    t.done();
  }
});

test('the poll finds a file in a directory that did not exist when watching started', async () => {
  const t = tempDir();
  const ac = new AbortController();
  try {
    const sub = join(t.dir, 'later');
    const p = join(sub, 'prio');
    const v = values();
    const w = new TrackFileWatcher({ path: p, signal: ac.signal, onChange: v.onChange, pollMs: 50 });
    assert.equal(await w.start(), 0);
    mkdirSync(sub);
    writeFileSync(p, '2');
    assert.equal(await v.next(), 2);
    // Once the directory exists, the watch is armed as well.
    writeFileSync(p, '4');
    assert.equal(await v.next(), 4);
  } finally {
    ac.abort();
    t.done();
  }
});

test('after abort no value is reported', async () => {
  const t = tempDir();
  const ac = new AbortController();
  try {
    const p = join(t.dir, 'prio');
    writeFileSync(p, '1');
    const seen: number[] = [];
    const w = new TrackFileWatcher({ path: p, signal: ac.signal, onChange: (x) => seen.push(x), pollMs: 20 });
    await w.start();
    ac.abort();
    writeFileSync(p, '9');
    // Three poll periods would have been enough for a live watcher to read it.
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(seen, []);
  } finally {
    t.done();
  }
});
