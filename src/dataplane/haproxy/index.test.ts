/**
 * The HAProxy data plane with a real HAProxy (Debian's) on 127.0.15.x, driven by tandem's load-balancer runtime
 * with real TCP health checks: traffic through it, a drain under load that fails nothing, maint and weight over the
 * runtime API seen in `show servers state` without a reload, a pool change reloaded hitlessly under load, a health
 * failure taking a server to maint, and no HAProxy process left after stop.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { configSchema } from '../../config/schema.ts';
import { seededRng } from '../../core/rng.ts';
import { LbRuntime } from '../../lb/runtime.ts';
import { wallClock } from '../../os/clock.ts';
import { lbPlan } from '../../plan/lb-plan.ts';
import { createHaproxyDataPlane, type HaproxyDataPlane } from './index.ts';
import { adminOf, parseServersState } from './render.ts';

const HAPROXY = '/usr/sbin/haproxy';
const VIP = '127.0.15.1';

interface Backend {
  port: number;
  hits: number;
  server: http.Server;
}

async function backend(): Promise<Backend> {
  const b: Backend = { port: 0, hits: 0, server: http.createServer() };
  b.server.on('request', (_req, res) => {
    b.hits++;
    res.end(String(b.port));
  });
  b.server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => b.server.listen(0, '127.0.0.1', r));
  b.port = (b.server.address() as AddressInfo).port;
  return b;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, VIP, r));
  const p = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return p;
}

function get(port: number, agent: http.Agent | false): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: VIP, port, path: '/', agent, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** A bounded client load: `workers` keep-alive loops and as many new-connection loops, until stopped or 60 s. */
function load(port: number, workers = 3) {
  const ka = new http.Agent({ keepAlive: true, maxSockets: workers });
  let stop = false;
  let ok = 0;
  const failures: string[] = [];
  const deadline = Date.now() + 60_000;
  const loop = async (agent: http.Agent | false) => {
    while (!stop && Date.now() < deadline && ok + failures.length < 200_000) {
      try {
        await get(port, agent);
        ok++;
      } catch (e) {
        failures.push((e as Error).message);
      }
    }
  };
  const done = Promise.all([
    ...Array.from({ length: workers }, () => loop(ka)),
    ...Array.from({ length: workers }, () => loop(false)),
  ]);
  return {
    get ok() {
      return ok;
    },
    failures,
    async stop() {
      stop = true;
      await done;
      ka.destroy();
    },
  };
}

async function until<T>(what: string, pred: () => Promise<T | null | undefined | false> | T, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await pred();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const alive = (pid: number | null | undefined) => pid != null && existsSync(`/proc/${pid}`);

test('tandem runs HAProxy: traffic, drain under load with 0 failures, maint/weight via the runtime API, hitless reload, teardown', {
  skip: !existsSync(HAPROXY),
  timeout: 90_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), `t15p-${process.pid}-`));
  const bs = await Promise.all([backend(), backend(), backend(), backend()]);
  const [b1, b2, b3, b4] = bs as [Backend, Backend, Backend, Backend];
  const port = await freePort();
  const cfg = configSchema.parse({
    lb: {
      services: [
        {
          name: 'web',
          vip: VIP,
          port,
          scheduler: 'rr',
          dataplane: 'haproxy',
          proxy: { mode: 'http' },
          check: { type: 'tcp', interval: '200ms', rise: 1, fall: 1, warmup: 0, connect_timeout: '1s' },
          real_servers: [b1, b2, b3].map((b) => ({ address: '127.0.0.1', port: b.port })),
        },
      ],
    },
  });
  let plane: HaproxyDataPlane | null = null;
  const lines: string[] = [];
  const rt = new LbRuntime(lbPlan(cfg), {
    clock: wallClock(),
    rng: seededRng(7),
    log: { log: (level, msg) => lines.push(`${level} ${msg}`) },
    dataplane: () => {
      plane ??= createHaproxyDataPlane({ dir, log: (l) => lines.push(`haproxy ${l}`) });
      return plane;
    },
    command: () => undefined,
    drainPollMs: 100,
  });
  const key = (b: Backend) => `127.0.0.1:${b.port}`;
  const name = (b: Backend) => `svc_web/rs_127.0.0.1_${b.port}`;
  const state = async () => {
    const rows = parseServersState(await plane!.process.api('show servers state'));
    return new Map(rows.map((r) => [`${r.backend}/${r.server}`, r]));
  };
  let masterPid: number | undefined;
  const workerPids: number[] = [];
  try {
    rt.start();
    rt.setScope(['web'], ['web']);
    // Traffic reaches all three servers through HAProxy.
    await until('HAProxy serving all three', async () => {
      await get(port, false).catch(() => '');
      return b1.hits > 0 && b2.hits > 0 && b3.hits > 0;
    });
    const p = plane as unknown as HaproxyDataPlane;
    masterPid = p.process.pid;
    workerPids.push((await p.process.workerPid())!);
    assert.ok(alive(masterPid), 'the master runs');
    assert.equal(statSync(p.process.files.apiSocket).mode & 0o777, 0o600, 'the runtime API socket is 0600');
    assert.equal(statSync(p.process.files.masterSocket).mode & 0o777, 0o600, 'the master socket is 0600');

    // Drain under load: 0 failed requests, and the drained server takes no new requests.
    const l = load(port);
    await until('load running', () => l.ok > 200);
    const drain = await rt.rs('web', { verb: 'drain', server: key(b2), wait: false }, 'cli');
    assert.ok(drain.ok, JSON.stringify(drain));
    await until('drain in show servers state', async () => {
      const r = (await state()).get(name(b2));
      return r && adminOf(r) === 'drain';
    });
    const okAtDrain = l.ok;
    // Keep-alive server connections opened before the drain may carry a request already on its way; after that, none.
    await until('load after drain', () => l.ok > okAtDrain + 100);
    const b2Settled = b2.hits;
    const okSettled = l.ok;
    await until('more load after drain', () => l.ok > okSettled + 1_000);
    assert.equal(b2.hits, b2Settled, 'a drained server gets no new requests');
    assert.equal(p.reloads, 0, 'drain is a runtime change, not a reload');

    // Maint and weight through the runtime API, seen in show servers state.
    assert.ok((await rt.rs('web', { verb: 'maint', server: key(b3) }, 'cli')).ok);
    assert.ok((await rt.rs('web', { verb: 'weight', server: key(b1), weight: 7 }, 'cli')).ok);
    await until('maint and weight in show servers state', async () => {
      const s = await state();
      const r3 = s.get(name(b3));
      const r1 = s.get(name(b1));
      return r3 && adminOf(r3) === 'maint' && r1 && r1.weight === 7 && adminOf(r1) === 'ready';
    });
    assert.ok((await rt.rs('web', { verb: 'enable', server: key(b2) }, 'cli')).ok);
    assert.ok((await rt.rs('web', { verb: 'enable', server: key(b3) }, 'cli')).ok);
    await until('enabled again', async () => {
      const s = await state();
      return [b2, b3].every((b) => adminOf(s.get(name(b))!) === 'ready');
    });
    assert.equal(p.reloads, 0, 'maint, weight and enable are runtime changes');

    // A config change (a server added) is a reload under load that fails nothing; the states carry over.
    assert.ok((await rt.rs('web', { verb: 'maint', server: key(b3) }, 'cli')).ok);
    assert.ok((await rt.rs('web', { verb: 'add', server: key(b4), weight: 1 }, 'cli')).ok);
    await until('reloaded with the new server', () => p.reloads === 1);
    workerPids.push((await p.process.workerPid())!);
    assert.notEqual(workerPids[1], workerPids[0], 'a new worker answers after the reload');
    await until('the added server takes traffic', () => b4.hits > 20);
    const s = await state();
    assert.equal(adminOf(s.get(name(b3))!), 'maint', 'maint survives the reload (server-state file)');
    assert.equal(s.get(name(b1))!.weight, 7, 'the runtime weight survives the reload');
    await until('more load after reload', () => l.ok > okSettled + 3_000);
    await l.stop();
    assert.deepEqual(l.failures, [], `${l.failures.length} failed of ${l.ok + l.failures.length}`);
    console.log(`requests: ${l.ok} ok, 0 failed (drain, maint, weight, a reload under load)`);
    assert.equal(p.process.pid, masterPid, 'one master throughout');

    // A health failure (the server stops) takes it to maint; the rest keep serving.
    await new Promise((r) => b1.server.close(r));
    b1.server.closeAllConnections();
    await until('health failure → maint', async () => adminOf((await state()).get(name(b1))!) === 'maint');
    assert.equal(await get(port, false).then(() => 'ok'), 'ok');
  } finally {
    await rt.stop();
    await until('no HAProxy process left', () => !alive(masterPid) && workerPids.every((w) => !alive(w)), 10_000);
    for (const b of bs) {
      b.server.closeAllConnections();
      b.server.close();
    }
    rmSync(dir, { recursive: true, force: true });
  }
  assert.ok(!lines.some((l) => /^error/.test(l)), lines.filter((l) => /^error/.test(l)).join('\n'));
});

test('real HAProxy: the sorry server takes over when no server is eligible, persistence sticks a client to one server', {
  skip: !existsSync(HAPROXY),
  timeout: 60_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), `t15p-${process.pid}-sorry-`));
  const bs = await Promise.all([backend(), backend(), backend()]);
  const [b1, b2, sorry] = bs as [Backend, Backend, Backend];
  const port = await freePort();
  const cfg = configSchema.parse({
    lb: {
      services: [
        {
          name: 'web',
          vip: VIP,
          port,
          scheduler: 'wlc',
          dataplane: 'haproxy',
          proxy: { mode: 'http' },
          persistence: { timeout: '60s' },
          sorry_server: `127.0.0.1:${sorry.port}`,
          real_servers: [b1, b2].map((b) => ({ address: '127.0.0.1', port: b.port })),
        },
      ],
    },
  });
  let plane: HaproxyDataPlane | null = null;
  const rt = new LbRuntime(lbPlan(cfg), {
    clock: wallClock(),
    rng: seededRng(7),
    log: { log: () => undefined },
    dataplane: () => {
      plane ??= createHaproxyDataPlane({ dir });
      return plane;
    },
    command: () => undefined,
  });
  let masterPid: number | undefined;
  try {
    rt.start();
    rt.setScope(['web'], ['web']);
    const first = await until('served', () => get(port, false).catch(() => null));
    masterPid = (plane as unknown as HaproxyDataPlane).process.pid;
    assert.notEqual(first, String(sorry.port), 'the sorry server is not used while servers are up');
    // Persistence: every new connection from this client goes to the same server.
    const answers = new Set<string>();
    for (let i = 0; i < 10; i++) answers.add(await get(port, false));
    assert.deepEqual([...answers], [first], 'stuck to one server');
    // No server eligible: the sorry server (HAProxy backup) takes new connections; back when one returns.
    for (const b of [b1, b2])
      assert.ok((await rt.rs('web', { verb: 'maint', server: `127.0.0.1:${b.port}` }, 'cli')).ok);
    await until('sorry server answers', async () => (await get(port, false)) === String(sorry.port));
    assert.ok((await rt.rs('web', { verb: 'enable', server: `127.0.0.1:${b2.port}` }, 'cli')).ok);
    await until('a real server answers again', async () => (await get(port, false)) === String(b2.port));
    assert.equal((plane as unknown as HaproxyDataPlane).reloads, 0);
  } finally {
    await rt.stop();
    await until('no HAProxy left', () => !alive(masterPid), 10_000);
    for (const b of bs) {
      b.server.closeAllConnections();
      b.server.close();
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
