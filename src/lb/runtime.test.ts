import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configSchema } from '../config/schema.ts';
import { seededRng } from '../core/rng.ts';
import { memoryLogger } from '../daemon/log.ts';
import type { Checker } from '../health/checker.ts';
import { advance } from '../health/test-support.ts';
import type { CheckResultCode } from '../health/types.ts';
import { lbPlan } from '../plan/lb-plan.ts';
import { SimClock } from '../sim/sim-clock.ts';
import type { ConnCounts, DataPlane, DataPlaneKind, ServiceProgram } from './dataplane.ts';
import { LbRuntime, PASSIVE_HOLD_MS } from './runtime.ts';

/** A data plane that records what it was asked to program, with connection counts the test sets. */
function fakePlane(kind: DataPlaneKind) {
  const applied: ServiceProgram[][] = [];
  const conns: ConnCounts = new Map();
  let closed = false;
  const plane: DataPlane & { applied: typeof applied; conns: ConnCounts; closed: () => boolean } = {
    kind,
    applied,
    conns,
    closed: () => closed,
    async apply(services) {
      applied.push(structuredClone([...services]));
      return { added: [], changed: services.map((s) => s.id), removed: [], tookMs: 0 };
    },
    async connections() {
      return conns;
    },
    async close() {
      closed = true;
    },
  };
  return plane;
}

function setup(yamlLb: unknown, codes: Map<string, CheckResultCode> = new Map()) {
  const cfg = configSchema.parse({ lb: yamlLb });
  const clock = new SimClock();
  const log = memoryLogger();
  const planes = { nft: fakePlane('nft'), proxy: fakePlane('proxy'), haproxy: fakePlane('haproxy') };
  const commands: string[] = [];
  const check: Checker = async (spec) => {
    const key = spec.kind === 'tcp' || spec.kind === 'http' ? `${spec.addr}:${spec.port}` : 'script';
    return { code: codes.get(key) ?? 'L4OK', detail: 'fake', durationMs: 1 };
  };
  const rt = new LbRuntime(lbPlan(cfg), {
    clock,
    rng: seededRng(1),
    log,
    dataplane: (k) => planes[k],
    check,
    command: (c) => commands.push(c),
    drainPollMs: 100,
  });
  return { rt, clock, log, planes, commands, codes };
}

const web = (extra: Record<string, unknown> = {}) => ({
  services: [
    {
      name: 'web',
      vip: '198.18.0.100',
      port: 80,
      scheduler: 'rr',
      check: { type: 'tcp', interval: '1s', rise: 2, fall: 2, warmup: 0 },
      real_servers: [{ address: '198.18.1.11' }, { address: '198.18.1.12' }, { address: '198.18.1.13' }],
      ...extra,
    },
  ],
});

const lastBackends = (p: { applied: ServiceProgram[][] }, svc = 'web') =>
  p.applied
    .at(-1)
    ?.find((s) => s.id === svc)
    ?.backends.map((b) => `${b.key}=${b.weight}`) ?? null;

test('a service is programmed only while its owner is master here, and health moves servers in and out', async () => {
  const { rt, clock, planes, codes, log } = setup(web());
  rt.start();
  rt.setScope(['web'], []);
  await advance(clock, 3_000);
  assert.equal(planes.nft.applied.length, 0, 'nothing programmed while not serving');
  rt.setScope(['web'], ['web']);
  await advance(clock, 10);
  assert.deepEqual(lastBackends(planes.nft), ['198.18.1.11:80=1', '198.18.1.12:80=1', '198.18.1.13:80=1']);
  codes.set('198.18.1.12:80', 'L4CON');
  await advance(clock, 2_100);
  assert.deepEqual(lastBackends(planes.nft), ['198.18.1.11:80=1', '198.18.1.13:80=1'], 'out after fall=2 checks');
  assert.ok(log.records.some((r) => /real server 198\.18\.1\.12:80 \(VS web .*\) down: L4CON/.test(r.msg)));
  codes.delete('198.18.1.12:80');
  await advance(clock, 2_100);
  assert.deepEqual(lastBackends(planes.nft)?.length, 3, 'back after rise=2 checks');
  rt.setScope(['web'], []);
  await advance(clock, 10);
  assert.deepEqual(planes.nft.applied.at(-1), [], 'a lost master unprograms the service');
  await rt.stop();
  assert.ok(planes.nft.closed());
});

test('drain takes a server to weight 0, waits for its connections to end, and reports done', async () => {
  const { rt, clock, planes } = setup(web());
  rt.start();
  rt.setScope(['web'], ['web']);
  await advance(clock, 10);
  planes.nft.conns.set('web', new Map([['198.18.1.12:80', { active: 2, inactive: 1 }]]));
  const pending = rt.rs('web', { verb: 'drain', server: '198.18.1.12:80', wait: true }, 'cli');
  await advance(clock, 10);
  assert.deepEqual(lastBackends(planes.nft), ['198.18.1.11:80=1', '198.18.1.12:80=0', '198.18.1.13:80=1']);
  await advance(clock, 1_000);
  planes.nft.conns.set('web', new Map([['198.18.1.12:80', { active: 0, inactive: 3 }]]));
  await advance(clock, 200);
  const r = await pending;
  assert.ok(r.ok && r.drain?.done);
  assert.ok(r.ok && r.drain && r.drain.waitedMs >= 1_000 && r.drain.waitedMs < 1_400, JSON.stringify(r));
  await rt.stop();
});

test('a drain that outlives drain_timeout reports what is left', async () => {
  const { rt, clock, planes } = setup(web({ drain_timeout: '2s' }));
  rt.start();
  rt.setScope(['web'], ['web']);
  await advance(clock, 10);
  planes.nft.conns.set('web', new Map([['198.18.1.11:80', { active: 5, inactive: 0 }]]));
  const pending = rt.rs('web', { verb: 'drain', server: '198.18.1.11:80', wait: true }, 'cli');
  await advance(clock, 2_500);
  const r = await pending;
  assert.ok(r.ok && r.drain && !r.drain.done && r.drain.active === 5, JSON.stringify(r));
  await rt.stop();
});

test('rs refuses unknown services and servers with a reason', async () => {
  const { rt } = setup(web());
  assert.deepEqual(
    await rt.rs('nope', { verb: 'enable', server: '198.18.1.11:80' }, 'cli').then((r) => !r.ok && r.reason),
    'unknown-service',
  );
  assert.equal(
    await rt.rs('web', { verb: 'enable', server: '198.18.1.99:80' }, 'cli').then((r) => !r.ok && r.reason),
    'unknown-server',
  );
  assert.equal(
    await rt.rs('web', { verb: 'enable', server: 'bogus' }, 'cli').then((r) => !r.ok && r.reason),
    'bad-server',
  );
  await rt.stop();
});

test('runtime changes survive a reload unless the config changed that server', async () => {
  const { rt, clock, planes } = setup(web());
  rt.start();
  rt.setScope(['web'], ['web']);
  await advance(clock, 10);
  await rt.rs('web', { verb: 'drain', server: '198.18.1.11:80', wait: false }, 'cli');
  await rt.rs('web', { verb: 'weight', server: '198.18.1.12:80', weight: 5 }, 'cli');
  await rt.rs('web', { verb: 'add', server: '198.18.1.14:80', weight: 2 }, 'cli');
  await advance(clock, 2_100);
  assert.deepEqual(lastBackends(planes.nft), [
    '198.18.1.11:80=0',
    '198.18.1.12:80=5',
    '198.18.1.13:80=1',
    '198.18.1.14:80=2',
  ]);
  // Same file: everything stays.
  rt.reload(lbPlan(configSchema.parse({ lb: web() })));
  await advance(clock, 10);
  assert.deepEqual(lastBackends(planes.nft), [
    '198.18.1.11:80=0',
    '198.18.1.12:80=5',
    '198.18.1.13:80=1',
    '198.18.1.14:80=2',
  ]);
  // The config changes .12's weight: the runtime weight is gone, the others stay.
  const changed = web();
  changed.services[0]!.real_servers[1] = { address: '198.18.1.12', weight: 3 } as never;
  rt.reload(lbPlan(configSchema.parse({ lb: changed })));
  await advance(clock, 10);
  assert.deepEqual(lastBackends(planes.nft), [
    '198.18.1.11:80=0',
    '198.18.1.12:80=3',
    '198.18.1.13:80=1',
    '198.18.1.14:80=2',
  ]);
  await rt.stop();
});

test('a passive failure report takes a checked server out until rise checks pass', async () => {
  const { rt, clock, planes } = setup(web({ dataplane: 'proxy' }));
  rt.start();
  rt.setScope(['web'], ['web']);
  await advance(clock, 2_100);
  assert.equal(lastBackends(planes.proxy)?.length, 3);
  planes.proxy.onPassiveFailure?.({
    service: 'web',
    backend: '198.18.1.13:80',
    failures: 3,
    code: 'L4CON',
    detail: 'ECONNREFUSED',
  });
  await advance(clock, 10);
  assert.deepEqual(lastBackends(planes.proxy), ['198.18.1.11:80=1', '198.18.1.12:80=1']);
  await advance(clock, 2_100);
  assert.equal(lastBackends(planes.proxy)?.length, 3, 'two passing checks bring it back');
  await rt.stop();
});

test('quorum lost and gained runs quorum.down and quorum.up', async () => {
  const { rt, clock, commands, codes } = setup(web({ quorum: { min: 2, up: '/bin/echo up', down: '/bin/echo down' } }));
  rt.start();
  rt.setScope(['web'], ['web']);
  await advance(clock, 10);
  assert.deepEqual(commands, ['/bin/echo up']);
  codes.set('198.18.1.11:80', 'L4CON');
  codes.set('198.18.1.12:80', 'L4CON');
  await advance(clock, 3_000);
  assert.deepEqual(commands, ['/bin/echo up', '/bin/echo down']);
  await rt.stop();
});

test('a passive failure of a server without an active check takes it out for the hold time, then tries it again', async () => {
  const noCheck = web({ dataplane: 'proxy' });
  delete (noCheck.services[0] as Record<string, unknown>).check;
  const { rt, clock, planes } = setup(noCheck);
  rt.start();
  rt.setScope(['web'], ['web']);
  await advance(clock, 10);
  planes.proxy.onPassiveFailure?.({
    service: 'web',
    backend: '198.18.1.11:80',
    failures: 3,
    code: 'L4CON',
    detail: 'x',
  });
  await advance(clock, 10);
  assert.deepEqual(lastBackends(planes.proxy), ['198.18.1.12:80=1', '198.18.1.13:80=1']);
  await advance(clock, PASSIVE_HOLD_MS);
  assert.equal(lastBackends(planes.proxy)?.length, 3);
  await rt.stop();
});

test('haproxy: a service goes to the haproxy plane with its whole pool (down servers too) and its sorry server', async () => {
  const { rt, clock, planes, codes } = setup(
    web({ dataplane: 'haproxy', proxy: { mode: 'http' }, sorry_server: '198.18.1.99:80' }),
  );
  codes.set('198.18.1.12:80', 'L4CON');
  rt.start();
  rt.setScope(['web'], ['web']);
  await advance(clock, 4_000);
  const p = planes.haproxy.applied.at(-1)?.find((s) => s.id === 'web');
  assert.deepEqual(lastBackends(planes.haproxy), ['198.18.1.11:80=1', '198.18.1.13:80=1']);
  assert.deepEqual(
    p?.pool?.map((s) => s.key),
    ['198.18.1.11:80', '198.18.1.12:80', '198.18.1.13:80'],
  );
  assert.deepEqual(p?.sorryServer, { addr: '198.18.1.99', port: 80 });
  assert.equal(p?.proxy?.mode, 'http');
  assert.equal(planes.nft.applied.length, 0);
  await rt.stop();
});
