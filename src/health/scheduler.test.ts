import assert from 'node:assert/strict';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { TandemError } from '../core/errors.ts';
import { seededRng } from '../core/rng.ts';
import type { Clock } from '../core/time.ts';
import { SimClock } from '../sim/sim-clock.ts';
import type { Checker } from './checker.ts';
import { type HealthChange, type HealthResultEvent, HealthScheduler, type HealthTarget } from './scheduler.ts';
import { advance } from './test-support.ts';
import type { CheckResultCode, CheckSpec, CheckTiming } from './types.ts';

/** What a fake check of target `port` returns on its n-th run (0-based), and how long it takes. */
type Plan = (port: number, n: number) => { code: CheckResultCode; ms?: number; weight?: number };

/** A checker driven by a SimClock: it records starts, counts runs in flight, and honours aborts. */
function fakeChecker(clock: SimClock, plan: Plan) {
  const starts: { port: number; at: number }[] = [];
  const aborted: number[] = [];
  const runsOf = new Map<number, number>();
  const inFlightOf = new Map<number, number>();
  let inFlight = 0;
  let maxInFlight = 0;
  let maxPerTarget = 0;
  const run: Checker = (spec, signal) => {
    const port = spec.kind === 'tcp' ? spec.port : -1;
    const n = runsOf.get(port) ?? 0;
    runsOf.set(port, n + 1);
    starts.push({ port, at: clock.now() });
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    inFlightOf.set(port, (inFlightOf.get(port) ?? 0) + 1);
    maxPerTarget = Math.max(maxPerTarget, inFlightOf.get(port) ?? 0);
    const p = plan(port, n);
    const ms = p.ms ?? 10;
    return new Promise((resolve) => {
      const end = (code: CheckResultCode, detail: string): void => {
        inFlight--;
        inFlightOf.set(port, (inFlightOf.get(port) ?? 1) - 1);
        resolve({ code, detail, durationMs: ms, ...(p.weight !== undefined ? { weight: p.weight } : {}) });
      };
      const cancel = clock.at(clock.now() + ms, () => end(p.code, `planned ${p.code}`));
      signal.addEventListener('abort', () => {
        cancel();
        aborted.push(port);
        end('L4CON', 'aborted');
      });
    });
  };
  return {
    run,
    starts,
    aborted,
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    get maxPerTarget() {
      return maxPerTarget;
    },
  };
}

function timing(extra: Partial<CheckTiming> = {}): CheckTiming {
  return { intervalMs: 1_000, rise: 1, fall: 1, retries: 0, delayBeforeRetryMs: 1_000, warmupMs: 0, ...extra };
}

function target(port: number, extra: Partial<CheckTiming> = {}, probe: Partial<CheckSpec> = {}): HealthTarget {
  const check = { kind: 'tcp', addr: '127.0.0.1', port, connectTimeoutMs: 1_000, ...timing(extra), ...probe };
  return { id: `rs${port}`, check: check as CheckSpec };
}

/** A scheduler on a SimClock with a fake checker, collecting its events. */
function harness(plan: Plan, opts: { maxConcurrent?: number; seed?: number } = {}) {
  const clock = new SimClock();
  const fake = fakeChecker(clock, plan);
  const changes: (HealthChange & { at: number })[] = [];
  const results: (HealthResultEvent & { at: number })[] = [];
  const weights: { id: string; weight: number | undefined }[] = [];
  const hs = new HealthScheduler({
    clock,
    rng: seededRng(opts.seed ?? 1),
    run: fake.run,
    ...(opts.maxConcurrent !== undefined ? { maxConcurrent: opts.maxConcurrent } : {}),
    onChange: (c) => changes.push({ ...c, at: clock.now() }),
    onResult: (r) => results.push({ ...r, at: clock.now() }),
    onWeight: (id, weight) => weights.push({ id, weight }),
  });
  const ac = new AbortController();
  return { clock, fake, hs, changes, results, weights, ac, start: () => hs.start(ac.signal) };
}

test('HAProxy rise/fall on a flapping target: the first result decides, then rise passes / fall failures', async () => {
  // rise 2, fall 3; one run a second; pass (P) or fail (F) per run.
  const script = 'PFFPFFFPPFPP';
  const h = harness((_port, n) => ({ code: script[n] === 'P' ? 'L4OK' : 'L4CON' }));
  h.hs.add(target(1, { rise: 2, fall: 3 }));
  h.start();
  await advance(h.clock, 11_500);
  assert.deepEqual(
    h.changes.map((c) => [c.at, c.from, c.up]),
    [
      [10, 'unknown', true], // keepalived: "one success is enough" for the first state
      [6_010, 'up', false], // the third failure in a row; the pass at 3 s reset the count
      [8_010, 'down', true], // two passes in a row
    ],
  );
  assert.equal(h.changes[1]?.result.code, 'L4CON');
  assert.equal(h.changes[1]?.health, 0);
  assert.equal(h.hs.get('rs1')?.state, 'up');
  h.ac.abort();
});

test('alpha: a target starts DOWN and needs rise passes', async () => {
  const h = harness(() => ({ code: 'L4OK' }));
  h.hs.add(target(1, { rise: 3, fall: 1, alpha: true }));
  assert.equal(h.hs.get('rs1')?.state, 'down');
  h.start();
  await advance(h.clock, 3_000);
  assert.deepEqual(
    h.changes.map((c) => [c.at, c.from, c.up]),
    [[2_010, 'down', true]],
  );
  h.ac.abort();
});

test('keepalived retry: a failure of an up target is retried delay_before_retry apart before it counts', async () => {
  // Passes for runs 0..1, then fails at every attempt.
  const h = harness((_port, n) => ({ code: n < 2 ? 'L4OK' : 'L4CON' }));
  h.hs.add(target(1, { retries: 2, delayBeforeRetryMs: 200 }));
  h.start();
  await advance(h.clock, 2_500);
  // Runs: 0 s pass (up), 1 s pass, 2 s fail → retry at 2.21 s fail → retry at 2.42 s fail → counts: down.
  assert.deepEqual(
    h.fake.starts.map((s) => s.at),
    [0, 1_000, 2_000, 2_210, 2_420],
  );
  assert.deepEqual(
    h.results.map((r) => [r.attempt, r.counted]),
    [
      [0, true],
      [0, true],
      [0, false],
      [1, false],
      [2, true],
    ],
  );
  assert.deepEqual(
    h.changes.map((c) => [c.at, c.up]),
    [
      [10, true],
      [2_430, false],
    ],
  );
  h.ac.abort();
});

test('keepalived retry: a pass on a retry ends the retries and nothing changes', async () => {
  const plan = 'PPFP';
  const h = harness((_port, n) => ({ code: (plan[n] ?? 'P') === 'P' ? 'L4OK' : 'L4CON' }));
  h.hs.add(target(1, { retries: 3, delayBeforeRetryMs: 100 }));
  h.start();
  await advance(h.clock, 2_200);
  assert.deepEqual(
    h.fake.starts.map((s) => s.at),
    [0, 1_000, 2_000, 2_110],
  );
  assert.deepEqual(
    h.changes.map((c) => c.up),
    [true],
  );
  assert.equal(h.hs.get('rs1')?.state, 'up');
  h.ac.abort();
});

test('keepalived retry: the first check of an unknown target is retried; a target already down is not', async () => {
  const h = harness(() => ({ code: 'L4CON' }));
  h.hs.add(target(1, { retries: 1, delayBeforeRetryMs: 300 }));
  h.start();
  await advance(h.clock, 2_500);
  // 0 s fail (unknown: retry) → 0.31 s fail → down; 1 s and 2 s fail and count at once.
  assert.deepEqual(
    h.fake.starts.map((s) => s.at),
    [0, 310, 1_000, 2_000],
  );
  assert.deepEqual(
    h.changes.map((c) => [c.at, c.from, c.up]),
    [[320, 'unknown', false]],
  );
  h.ac.abort();
});

test('no overlap: a tick that comes while the previous run (or its retries) is still going is skipped, not stacked', async () => {
  const h = harness(() => ({ code: 'L4OK', ms: 2_500 }));
  h.hs.add(target(1));
  h.start();
  await advance(h.clock, 6_100);
  assert.equal(h.fake.maxPerTarget, 1);
  // Runs at 0 s and 3 s and 6 s; the ticks at 1, 2, 4, 5 s found a run going.
  assert.deepEqual(
    h.fake.starts.map((s) => s.at),
    [0, 3_000, 6_000],
  );
  assert.equal(h.hs.get('rs1')?.skipped, 4);
  assert.equal(h.hs.stats().skipped, 4);

  const r = harness(() => ({ code: 'L4CON' }));
  r.hs.add(target(1, { retries: 2, delayBeforeRetryMs: 700 }));
  r.start();
  await advance(r.clock, 1_500);
  // 0 s fail → retry 0.71 s → retry 1.42 s: the tick at 1 s fell between retries and was skipped.
  assert.deepEqual(
    r.fake.starts.map((s) => s.at),
    [0, 710, 1_420],
  );
  assert.equal(r.hs.get('rs1')?.skipped, 1);
  h.ac.abort();
  r.ac.abort();
});

test('bounded concurrency: never more than maxConcurrent runs in flight, and every target still gets its turn', async () => {
  const h = harness(() => ({ code: 'L4OK', ms: 100 }), { maxConcurrent: 16 });
  for (let port = 1; port <= 300; port++) h.hs.add(target(port, { warmupMs: 1_000 }));
  h.start();
  let peakQueued = 0;
  for (let i = 0; i < 50; i++) {
    await advance(h.clock, 100);
    peakQueued = Math.max(peakQueued, h.hs.stats().queued);
    assert.ok(h.fake.inFlight <= 16);
  }
  assert.equal(h.fake.maxInFlight, 16);
  assert.equal(h.hs.stats().maxInFlight, 16);
  assert.ok(peakQueued > 0, 'the queue was used');
  const ran = new Set(h.fake.starts.map((s) => s.port));
  assert.equal(ran.size, 300);
  assert.ok(h.hs.stats().skipped > 0, 'ticks of queued targets were skipped, not stacked');
  assert.equal(h.fake.maxPerTarget, 1);
  h.ac.abort();
});

test('warmup spreads the first runs of 1,000 targets over the warmup instead of firing them at once', async () => {
  const h = harness(() => ({ code: 'L4OK', ms: 1 }), { maxConcurrent: 1_000, seed: 7 });
  for (let port = 1; port <= 1_000; port++) h.hs.add(target(port, { intervalMs: 10_000, warmupMs: 10_000 }));
  h.start();
  await advance(h.clock, 9_999);
  const firsts = h.fake.starts.map((s) => s.at);
  assert.ok(firsts.length > 950, `only ${firsts.length} first runs`);
  const perSecond = Array.from({ length: 10 }, (_, s) => firsts.filter((t) => t >= s * 1_000 && t < (s + 1) * 1_000));
  for (const bucket of perSecond) assert.ok(bucket.length > 60 && bucket.length < 140, `${bucket.length} in a second`);
  assert.ok(h.fake.maxInFlight < 20, `${h.fake.maxInFlight} at once`);
  h.ac.abort();
});

test('reload: unchanged targets keep their state, a retimed one keeps it too, a new probe starts over', async () => {
  const failing = new Set([2]);
  const h = harness((port) => ({ code: failing.has(port) ? 'L4CON' : 'L4OK' }));
  h.hs.update([target(1), target(2), target(3)]);
  h.start();
  await advance(h.clock, 1_500);
  assert.deepEqual(
    h.hs.list().map((s) => [s.id, s.state]),
    [
      ['rs1', 'up'],
      ['rs2', 'down'],
      ['rs3', 'up'],
    ],
  );
  const before = h.changes.length;
  const report = h.hs.update([
    target(1),
    target(2, { intervalMs: 500, rise: 3, fall: 2 }),
    target(3, {}, { connectTimeoutMs: 2_000 }),
    target(4),
  ]);
  assert.deepEqual(report, { added: ['rs4'], kept: ['rs1'], retimed: ['rs2'], replaced: ['rs3'], removed: [] });
  assert.equal(h.hs.get('rs1')?.state, 'up');
  assert.equal(h.hs.get('rs2')?.state, 'down');
  assert.equal(h.hs.get('rs3')?.state, 'unknown');
  assert.equal(h.changes.length, before, 'a reload itself reports no change');

  const removed = h.hs.update([
    target(2, { intervalMs: 500, rise: 3, fall: 2 }),
    target(3, {}, { connectTimeoutMs: 2_000 }),
  ]);
  assert.deepEqual(removed.removed, ['rs1', 'rs4']);
  assert.deepEqual(removed.kept, ['rs2', 'rs3']);
  const runsAfter = h.fake.starts.length;
  failing.clear();
  await advance(h.clock, 2_000);
  // rs2 now runs every 500 ms and needs its new rise of 3: up after the third pass.
  assert.equal(h.hs.get('rs2')?.state, 'up');
  assert.deepEqual(
    h.changes.slice(before).map((c) => [c.id, c.up]),
    [
      ['rs3', true],
      ['rs2', true],
    ],
  );
  assert.ok(!h.fake.starts.slice(runsAfter).some((s) => s.port === 1 || s.port === 4), 'removed targets stop');
  h.ac.abort();
});

test('removing or replacing a target aborts its run in flight and ignores its result', async () => {
  const h = harness(() => ({ code: 'L4CON', ms: 500 }));
  h.hs.add(target(1));
  h.hs.add(target(2));
  h.start();
  await advance(h.clock, 100);
  assert.equal(h.fake.inFlight, 2);
  assert.equal(h.hs.remove('rs1'), true);
  assert.equal(h.hs.add(target(2, {}, { addr: '127.0.0.2' })), 'replaced');
  await advance(h.clock, 1);
  assert.deepEqual(h.fake.aborted.sort(), [1, 2]);
  assert.equal(h.hs.get('rs1'), undefined);
  assert.equal(h.hs.get('rs2')?.state, 'unknown');
  assert.equal(h.changes.length, 0);
  assert.equal(h.hs.remove('rs1'), false);
  h.ac.abort();
});

test('misc_dynamic: a new weight is reported once, and exit 0 returns to the configured weight', async () => {
  const weights = [10, 10, 20, undefined];
  const h = harness((_port, n) => {
    const w = weights[n];
    return w === undefined ? { code: 'PROCOK' } : { code: 'PROCOK', weight: w };
  });
  h.hs.add({
    id: 'db',
    check: { kind: 'script', command: 'check', timeoutMs: 500, dynamic: true, ...timing() },
  });
  h.start();
  await advance(h.clock, 3_500);
  assert.deepEqual(h.weights, [
    { id: 'db', weight: 10 },
    { id: 'db', weight: 20 },
    { id: 'db', weight: undefined },
  ]);
  assert.equal(h.changes[0]?.weight, 10);
  h.ac.abort();
});

test('a run that outlives its probe timeout plus the guard is aborted and counted as a timeout', async () => {
  const h = harness(() => ({ code: 'L4OK', ms: 60_000 }));
  h.hs.add(target(1, { intervalMs: 10_000 }));
  h.start();
  await advance(h.clock, 1_000 + 2_500);
  assert.deepEqual(h.fake.aborted, [1]);
  assert.equal(h.changes[0]?.up, false);
  assert.deepEqual([h.changes[0]?.result.code, h.changes[0]?.result.detail], ['L4TOUT', 'no result within 3500 ms']);
  h.ac.abort();
});

test('stop: the abort cancels every timer and run in flight; stopped resolves; nothing is reported after', async () => {
  const h = harness(() => ({ code: 'L4OK', ms: 300 }));
  for (let port = 1; port <= 5; port++) h.hs.add(target(port));
  h.start();
  await advance(h.clock, 100);
  assert.equal(h.fake.inFlight, 5);
  h.ac.abort();
  await h.hs.stopped;
  assert.equal(h.fake.inFlight, 0);
  assert.equal(h.fake.aborted.length, 5);
  const starts = h.fake.starts.length;
  await advance(h.clock, 5_000);
  assert.equal(h.fake.starts.length, starts);
  assert.equal(h.results.length, 0);
  assert.equal(h.clock.pending, 0);
});

test('a checker that throws or rejects is a failed result, not a crash', async () => {
  const clock = new SimClock();
  const changes: HealthChange[] = [];
  let n = 0;
  const hs = new HealthScheduler({
    clock,
    rng: seededRng(1),
    run: () => {
      n++;
      if (n === 1) throw new Error('boom');
      return Promise.reject(new Error('bang'));
    },
    onChange: (c) => changes.push(c),
  });
  hs.add(target(1));
  const ac = new AbortController();
  hs.start(ac.signal);
  await advance(clock, 1_500);
  assert.deepEqual(
    changes.map((c) => [c.up, c.result.code, c.result.detail]),
    [[false, 'SOCKERR', 'checker failed: boom']],
  );
  assert.equal(hs.get('rs1')?.last?.detail, 'checker failed: bang');
  ac.abort();
});

test('malformed targets are refused with TND_HEALTH_TARGET', () => {
  const hs = new HealthScheduler({ clock: new SimClock(), rng: seededRng(1), onChange: () => undefined });
  const refused = (f: () => unknown): void =>
    assert.throws(f, (e) => e instanceof TandemError && e.code === 'TND_HEALTH_TARGET');
  refused(() => hs.add(target(1, { rise: 0 })));
  refused(() => hs.add(target(1, { fall: 1.5 })));
  refused(() => hs.add(target(1, { intervalMs: 0 })));
  refused(() => hs.add({ ...target(1), id: '' }));
  refused(() => hs.update([target(1), target(1)]));
  refused(() => new HealthScheduler({ clock: new SimClock(), rng: seededRng(1), maxConcurrent: 0, onChange: () => 0 }));
});

test('real time, real TCP: a server that goes away is DOWN after fall checks and UP again after rise', async () => {
  const clock: Clock = {
    now: () => Math.floor(performance.now()),
    at(deadline, fire) {
      const t = setTimeout(fire, Math.max(0, deadline - Math.floor(performance.now())));
      return () => clearTimeout(t);
    },
  };
  const listen = (port: number): Promise<net.Server> =>
    new Promise((resolve) => {
      const s = net.createServer((c) => c.destroy());
      s.listen(port, '127.0.0.1', () => resolve(s));
    });
  let server = await listen(0);
  const port = (server.address() as net.AddressInfo).port;
  const waiters: ((c: HealthChange) => void)[] = [];
  const next = (): Promise<HealthChange> =>
    new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no change within 3 s')), 3_000);
      waiters.push((c) => {
        clearTimeout(t);
        resolve(c);
      });
    });
  const hs = new HealthScheduler({ clock, rng: seededRng(3), onChange: (c) => waiters.shift()?.(c) });
  const ac = new AbortController();
  hs.add({
    id: 'web',
    check: {
      kind: 'tcp',
      addr: '127.0.0.1',
      port,
      connectTimeoutMs: 500,
      ...timing({ intervalMs: 20, rise: 2, fall: 2 }),
    },
  });
  try {
    let change = next();
    hs.start(ac.signal);
    assert.equal((await change).up, true);
    change = next();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const down = await change;
    assert.deepEqual([down.up, down.result.code], [false, 'L4CON']);
    change = next();
    server = await listen(port);
    const up = await change;
    assert.deepEqual([up.up, up.result.code, up.health], [true, 'L4OK', 3]);
  } finally {
    ac.abort();
    await hs.stopped;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('markDown forces a target down (passive health) and rise passing checks bring it back', async () => {
  const clock = new SimClock();
  const changes: HealthChange[] = [];
  const hs = new HealthScheduler({
    clock,
    rng: seededRng(3),
    run: async () => ({ code: 'L4OK', detail: 'ok', durationMs: 1 }),
    onChange: (c) => changes.push(c),
  });
  const check: CheckSpec = {
    kind: 'tcp',
    addr: '127.0.0.1',
    port: 1,
    connectTimeoutMs: 100,
    intervalMs: 1_000,
    rise: 2,
    fall: 3,
    retries: 0,
    delayBeforeRetryMs: 0,
    warmupMs: 0,
  };
  hs.add({ id: 'a', check });
  const ctl = new AbortController();
  hs.start(ctl.signal);
  await advance(clock, 10);
  assert.deepEqual(
    changes.map((c) => c.up),
    [true],
  );
  assert.equal(hs.markDown('a', { code: 'L4CON', detail: 'passive', durationMs: 0 }), true);
  assert.equal(hs.markDown('missing', { code: 'L4CON', detail: 'passive', durationMs: 0 }), false);
  assert.deepEqual(
    changes.map((c) => `${c.up} ${c.result.code}`),
    ['true L4OK', 'false L4CON'],
  );
  await advance(clock, 1_000);
  assert.equal(changes.length, 2, 'one pass is not enough with rise 2');
  await advance(clock, 1_000);
  assert.deepEqual(
    changes.map((c) => c.up),
    [true, false, true],
  );
  ctl.abort();
});
