import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { seededRng } from '../core/rng.ts';
import { wallClock } from '../os/clock.ts';
import type { CommandRunner } from '../os/process.ts';
import { runScriptCheck } from './checkers/script.ts';
import { type HealthResultEvent, HealthScheduler } from './scheduler.ts';
import type { CheckResult } from './types.ts';
import { type VrrpScriptSpec, vrrpScriptTarget } from './vrrp-script.ts';

/** The run that decided a change, as keepalived logs a vrrp_script's: outcome and exit code. */
type RunResult = { outcome: string; code: number | null };
const runOf = (r: CheckResult): RunResult => ({
  outcome: r.process?.outcome ?? '?',
  code: r.process?.exitCode ?? null,
});

/**
 * One vrrp_script on a health scheduler with the real clock, as the script host runs it: `state` and `health` read
 * the scheduler's view of the target, `stopped` waits for its runs to end after an abort.
 */
function trackScript(
  opts: Partial<VrrpScriptSpec> & {
    command: VrrpScriptSpec['command'];
    signal: AbortSignal;
    onChange: (up: boolean, r: RunResult) => void;
    onResult?: (r: RunResult, health: number) => void;
    run?: CommandRunner;
  },
) {
  const hs = new HealthScheduler({
    clock: wallClock(),
    rng: seededRng(1),
    ...(opts.run ? { run: (spec, signal) => runScriptCheck(spec as never, signal, opts.run) } : {}),
    onChange: (c) => opts.onChange(c.up, runOf(c.result)),
    onResult: (e: HealthResultEvent) => opts.onResult?.(runOf(e.result), e.health),
  });
  const target = vrrpScriptTarget('chk', {
    command: opts.command,
    intervalMs: opts.intervalMs ?? 1_000,
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    rise: opts.rise ?? 1,
    fall: opts.fall ?? 1,
    initFail: opts.initFail ?? false,
  });
  // The tests look at the first run at once: no spread.
  hs.add({ ...target, firstDelayMs: 0 });
  return {
    start: () => hs.start(opts.signal),
    get state() {
      return hs.get('chk')!.state;
    },
    get health() {
      return hs.get('chk')!.health;
    },
    get stopped() {
      return hs.stopped;
    },
  };
}

/**
 * A temp dir with `check.sh`, which passes while `state` holds "ok". The tests run it as `/bin/sh check.sh`: exec'ing
 * a file written a moment ago fails with ETXTBSY while another thread of this process is between fork and exec.
 */
function fixture(): { dir: string; script: string; set: (s: 'ok' | 'bad') => void; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-track-'));
  const state = join(dir, 'state');
  const script = join(dir, 'check.sh');
  writeFileSync(script, `#!/bin/sh\n[ "$(cat '${state}' 2>/dev/null)" = ok ]\n`);
  chmodSync(script, 0o755);
  const set = (s: 'ok' | 'bad'): void => writeFileSync(state, s);
  return { dir, script, set, done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Collects onChange calls and lets a test await the next one, with a deadline. */
function changes(): {
  onChange: (up: boolean, r: RunResult) => void;
  next: (ms?: number) => Promise<{ up: boolean; result: RunResult }>;
  all: boolean[];
} {
  const all: boolean[] = [];
  const queued: { up: boolean; result: RunResult }[] = [];
  let waiter: ((v: { up: boolean; result: RunResult }) => void) | null = null;
  return {
    all,
    onChange: (up, result) => {
      all.push(up);
      if (waiter) {
        const w = waiter;
        waiter = null;
        w({ up, result });
      } else queued.push({ up, result });
    },
    next: (ms = 3_000) => {
      const q = queued.shift();
      if (q) return Promise.resolve(q);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no change within ${ms} ms`)), ms);
        waiter = (v) => {
          clearTimeout(t);
          resolve(v);
        };
      });
    },
  };
}

test('without init_fail the state is unknown until the first result, which alone decides it', async () => {
  const f = fixture();
  const ac = new AbortController();
  try {
    f.set('ok');
    const c = changes();
    const t = trackScript({
      command: ['/bin/sh', f.script],
      intervalMs: 50,
      rise: 3,
      fall: 3,
      signal: ac.signal,
      ...c,
    });
    assert.equal(t.state, 'unknown');
    t.start();
    const first = await c.next();
    assert.equal(first.up, true);
    assert.equal(first.result.outcome, 'ok');
    assert.equal(t.state, 'up');
    assert.equal(t.health, 5);
  } finally {
    ac.abort();
    f.done();
  }
});

test('fall consecutive failures bring it down and rise consecutive passes bring it back', async () => {
  const f = fixture();
  const ac = new AbortController();
  try {
    f.set('ok');
    const c = changes();
    const healths: number[] = [];
    const t = trackScript({
      command: ['/bin/sh', f.script],
      intervalMs: 50,
      rise: 2,
      fall: 2,
      signal: ac.signal,
      onChange: c.onChange,
      onResult: (_r, h) => healths.push(h),
    });
    t.start();
    assert.equal((await c.next()).up, true);
    f.set('bad');
    const down = await c.next();
    assert.equal(down.up, false);
    assert.equal(down.result.outcome, 'failed');
    f.set('ok');
    assert.equal((await c.next()).up, true);
    // One counter: top 3 when up, stepping 3 → 2 → 0 on failures, 0 → 1 → 3 on passes.
    const path = healths.filter((h, i) => i === 0 || h !== healths[i - 1]);
    assert.deepEqual(path, [3, 2, 0, 1, 3]);
    assert.deepEqual(c.all, [true, false, true]);
  } finally {
    ac.abort();
    f.done();
  }
});

test('init_fail starts down and needs rise passes', async () => {
  const f = fixture();
  const ac = new AbortController();
  try {
    f.set('ok');
    const c = changes();
    let runs = 0;
    const t = trackScript({
      command: ['/bin/sh', f.script],
      intervalMs: 50,
      rise: 2,
      initFail: true,
      signal: ac.signal,
      onChange: c.onChange,
      onResult: () => runs++,
    });
    assert.equal(t.state, 'down');
    t.start();
    assert.equal((await c.next()).up, true);
    assert.equal(runs, 2);
  } finally {
    ac.abort();
    f.done();
  }
});

test('a run that times out counts as a failure', async () => {
  const ac = new AbortController();
  try {
    const c = changes();
    const t = trackScript({ command: ['sleep', '5'], intervalMs: 100, timeoutMs: 100, signal: ac.signal, ...c });
    t.start();
    const down = await c.next();
    assert.equal(down.up, false);
    assert.equal(down.result.outcome, 'timeout');
  } finally {
    ac.abort();
  }
});

test('a script that cannot start counts as a failure', async () => {
  const ac = new AbortController();
  try {
    const c = changes();
    trackScript({ command: '/nonexistent/check', intervalMs: 50, signal: ac.signal, ...c }).start();
    const down = await c.next();
    assert.equal(down.result.outcome, 'spawn-error');
  } finally {
    ac.abort();
  }
});

test('runs never overlap: a run longer than the interval makes the next ticks skipped', async () => {
  const ac = new AbortController();
  let running = 0;
  let maxRunning = 0;
  const starts: number[] = [];
  let finished: () => void = () => undefined;
  const enough = new Promise<void>((r) => {
    finished = r;
  });
  const run: CommandRunner = async () => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    starts.push(performance.now());
    await new Promise((r) => setTimeout(r, 70));
    running--;
    if (starts.length === 4) finished();
    return { outcome: 'ok' as const, code: 0, signal: null, stdout: '', stderr: '', truncated: false, durationMs: 70 };
  };
  try {
    trackScript({ command: 'x', intervalMs: 30, signal: ac.signal, onChange: () => undefined, run }).start();
    await Promise.race([enough, new Promise((_, rej) => setTimeout(() => rej(new Error('too slow')), 3_000))]);
    assert.equal(maxRunning, 1);
    // 70 ms runs on a 30 ms grid: each next start lands on the grid tick after the run ended (90 ms later).
    for (let i = 1; i < starts.length; i++) {
      const gap = starts[i]! - starts[i - 1]!;
      assert.ok(gap >= 85, `gap ${gap.toFixed(1)} ms`);
    }
  } finally {
    ac.abort();
  }
});

test('an abort stops the loop and kills the running check', async () => {
  const ac = new AbortController();
  let runs = 0;
  const c = changes();
  const t = trackScript({
    command: ['sleep', '30'],
    intervalMs: 50,
    timeoutMs: 30_000,
    signal: ac.signal,
    onChange: c.onChange,
    onResult: () => runs++,
  });
  t.start();
  setTimeout(() => ac.abort(), 50);
  const started = performance.now();
  await t.stopped;
  assert.ok(performance.now() - started < 3_000);
  assert.equal(runs, 0, 'an aborted run is not a result');
  assert.deepEqual(c.all, []);
});

test('a throwing onChange does not stop the loop', async () => {
  const f = fixture();
  const ac = new AbortController();
  try {
    f.set('ok');
    let calls = 0;
    const c = changes();
    trackScript({
      command: ['/bin/sh', f.script],
      intervalMs: 50,
      signal: ac.signal,
      onChange: (up, r) => {
        calls++;
        c.onChange(up, r);
        throw new Error('subscriber bug');
      },
    }).start();
    await c.next();
    f.set('bad');
    await c.next();
    assert.equal(calls, 2);
  } finally {
    ac.abort();
    f.done();
  }
});
