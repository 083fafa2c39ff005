import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type ScriptVerdict, ScriptWorker } from './script-worker.ts';

const dir = mkdtempSync(join(tmpdir(), 'tandem-sw-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const next = (list: ScriptVerdict[], n: number, timeoutMs = 10_000) =>
  new Promise<void>((resolve, reject) => {
    const t0 = Date.now();
    const poll = setInterval(() => {
      if (list.length >= n) {
        clearInterval(poll);
        resolve();
      } else if (Date.now() - t0 > timeoutMs) {
        clearInterval(poll);
        reject(new Error(`only ${list.length} verdicts`));
      }
    }, 10);
  });

test('track scripts run in a worker thread and report their verdicts to the main thread', async () => {
  const flag = join(dir, 'flag');
  writeFileSync(flag, '0');
  const w = new ScriptWorker();
  const seen: ScriptVerdict[] = [];
  const stop = w.start(
    'chk',
    { command: `/bin/sh -c "exit $(cat ${flag})"`, intervalMs: 50, rise: 1, fall: 2, initFail: false },
    (v) => seen.push(v),
  );
  try {
    await next(seen, 1);
    assert.equal(seen[0]!.up, true);
    writeFileSync(flag, '1');
    await next(seen, 2);
    assert.deepEqual([seen[1]!.up, seen[1]!.outcome, seen[1]!.code], [false, 'failed', 1]);
    stop();
    writeFileSync(flag, '0');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(seen.length, 2, 'a stopped script reports nothing more');
  } finally {
    await w.close();
  }
});
