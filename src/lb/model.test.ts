import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { CheckResultCode } from '../core/check-codes.ts';
import type { Ms } from '../core/time.ts';
import {
  type AdminAction,
  applyAdmin,
  applyHealth,
  deriveOp,
  desiredState,
  effectiveWeight,
  initialServiceState,
  type LbEffect,
  type LbStep,
  nextQuorum,
  OP_RULES,
  rampWeight,
  reloadServiceState,
  tick,
} from './model.ts';
import type { AdminSource, HealthState, RealServerState, ServiceState, VirtualService } from './types.ts';
import { DEFAULT_QUORUM } from './types.ts';

const A = '10.0.0.1:80';
const B = '10.0.0.2:80';
const C = '10.0.0.3:80';

function service(over: Partial<VirtualService> = {}): VirtualService {
  return {
    id: 'web',
    vip: '192.0.2.10',
    port: 80,
    protocol: 'tcp',
    family: 4,
    scheduler: 'wlc',
    method: 'nat',
    persistence: null,
    sorry: null,
    inhibitOnFailure: false,
    slowStartMs: 0,
    quorum: DEFAULT_QUORUM,
    realServers: [
      { addr: '10.0.0.1', port: 80, weight: 1 },
      { addr: '10.0.0.2', port: 80, weight: 1 },
      { addr: '10.0.0.3', port: 80, weight: 1 },
    ],
    ...over,
  };
}

type Effect<K extends LbEffect['kind']> = Extract<LbEffect, { kind: K }>;
const only = <K extends LbEffect['kind']>(fx: readonly LbEffect[], kind: K): Effect<K>[] =>
  fx.filter((e): e is Effect<K> => e.kind === kind);

/** A service under test: feeds inputs at given times and keeps the last effects. */
class Harness {
  state: ServiceState;
  fx: LbEffect[];
  constructor(
    readonly svc: VirtualService,
    now: Ms = 0,
    alpha = false,
  ) {
    const r = initialServiceState(svc, now, { alpha });
    this.state = r.state;
    this.fx = r.effects;
  }
  private take(r: LbStep): LbEffect[] {
    this.state = r.state;
    this.fx = r.effects;
    return r.effects;
  }
  health(server: string, health: HealthState, now: Ms, check?: CheckResultCode): LbEffect[] {
    return this.take(applyHealth(this.svc, this.state, { server, health, ...(check ? { check } : {}) }, now));
  }
  admin(action: AdminAction, now: Ms): LbEffect[] {
    const r = applyAdmin(this.svc, this.state, action, now);
    assert.ok(r.ok, `refused: ${!r.ok && r.reason}`);
    return this.take(r);
  }
  tick(now: Ms): LbEffect[] {
    return this.take(tick(this.svc, this.state, now));
  }
  server(key: string): RealServerState {
    const s = this.state.servers.find((x) => x.key === key);
    assert.ok(s, `no server ${key}`);
    return s;
  }
  desired(now: Ms) {
    const d = desiredState([this.svc], { [this.svc.id]: this.state }, now)[0];
    assert.ok(d);
    return d;
  }
  weights(now: Ms): Record<string, number> {
    return Object.fromEntries(this.desired(now).backends.map((b) => [b.key, b.weight]));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The op-state table

/** The <op-rules> block of model.ts's module comment, as rows. */
function rulesInComment() {
  const src = readFileSync(new URL('./model.ts', import.meta.url), 'utf8');
  const block = /<op-rules>([\s\S]*?)<\/op-rules>/.exec(src)?.[1] ?? '';
  const cell = (v: string | undefined) => (v === '-' ? null : v === 'yes');
  return block
    .split('\n')
    .map((l) =>
      l
        .replace(/^\s*\*/, '')
        .trim()
        .split(/\s+/),
    )
    .filter((w) => w.length === 5 && w[0] !== 'health')
    .map(([health, maint, drain, ramping, op]) => ({
      health,
      maint: cell(maint),
      drain: cell(drain),
      ramping: cell(ramping),
      op,
    }));
}

test('the op-state table in the module comment is OP_RULES, row for row', () => {
  assert.deepEqual(rulesInComment(), OP_RULES);
});

test('every combination of health, maint, drain and ramp matches the table, and deriveOp takes its first row', () => {
  const svc = service({ slowStartMs: 1_000 });
  for (const health of ['up', 'down'] as const)
    for (const maint of [false, true])
      for (const drain of [false, true])
        for (const ramping of [false, true]) {
          const s: RealServerState = {
            ...initialServiceState(svc, 0).state.servers[0]!,
            health,
            admin: { ...(maint ? { maint: 'cli' as const } : {}), ...(drain ? { drain: 'api' as const } : {}) },
            rampFromMs: ramping ? 0 : null,
          };
          const matches = OP_RULES.filter(
            (r) =>
              r.health === health &&
              (r.maint === null || r.maint === maint) &&
              (r.drain === null || r.drain === drain) &&
              (r.ramping === null || r.ramping === ramping),
          );
          assert.ok(matches.length >= 1, `${health} ${maint} ${drain} ${ramping} matches no row`);
          assert.equal(deriveOp(svc, s, 500), matches[0]?.op);
        }
});

// ---------------------------------------------------------------------------------------------------------------
// Health

test('a health verdict down takes a server out with cause health and the checker’s code; up brings it back', () => {
  const h = new Harness(service());
  assert.equal(h.server(A).op, 'up');
  const down = h.health(A, 'down', 1_000, 'L4CON');
  assert.deepEqual(only(down, 'op'), [
    {
      kind: 'op',
      service: 'web',
      server: A,
      from: 'up',
      to: 'down',
      cause: 'health',
      detail: 'health-down',
      check: 'L4CON',
    },
  ]);
  assert.deepEqual(h.server(A).changed, { at: 1_000, cause: 'health', detail: 'health-down', check: 'L4CON' });
  assert.deepEqual(Object.keys(h.weights(1_000)), [B, C], 'a down server is removed');
  const up = h.health(A, 'up', 5_000, 'L4OK');
  assert.deepEqual(
    only(up, 'op').map((e) => `${e.from}→${e.to}:${e.cause}/${e.detail}`),
    ['down→up:health/health-up'],
  );
  assert.deepEqual(h.weights(5_000), { [A]: 1, [B]: 1, [C]: 1 });
});

test('a repeated verdict, or one for a server not in the pool, changes nothing', () => {
  const h = new Harness(service());
  const before = h.state;
  assert.deepEqual(h.health(A, 'up', 10), []);
  assert.equal(h.state, before);
  assert.deepEqual(h.health('10.9.9.9:80', 'down', 10), []);
});

test('keepalived alpha: every server starts down until its checker says up', () => {
  const h = new Harness(service(), 0, true);
  assert.deepEqual(
    h.state.servers.map((s) => s.op),
    ['down', 'down', 'down'],
  );
  assert.equal(h.state.quorum, 'down');
});

// ---------------------------------------------------------------------------------------------------------------
// Admin state, with its source

test('drain stops new connections but keeps the existing ones: weight 0 in the desired state, with who drained it', () => {
  const h = new Harness(service({ realServers: [{ addr: '10.0.0.1', port: 80, weight: 5 }] }));
  const fx = h.admin({ kind: 'drain', server: A, source: 'cli' }, 2_000);
  assert.deepEqual(only(fx, 'admin'), [{ kind: 'admin', service: 'web', server: A, detail: 'drain', source: 'cli' }]);
  assert.deepEqual(
    only(fx, 'op').map((e) => [e.to, e.cause]),
    [['draining', 'cli']],
  );
  assert.deepEqual(h.server(A).admin, { drain: 'cli' });
  assert.deepEqual(h.server(A).changed, { at: 2_000, cause: 'cli', detail: 'drain' });
  const [b] = h.desired(2_000).backends;
  assert.deepEqual([b?.key, b?.weight, b?.reason], [A, 0, 'draining'], 'still listed: existing connections continue');
});

test('enable restores a drained server to its weight, recording the source that enabled it', () => {
  const h = new Harness(service({ realServers: [{ addr: '10.0.0.1', port: 80, weight: 5 }] }));
  h.admin({ kind: 'drain', server: A, source: 'cli' }, 1_000);
  h.admin({ kind: 'enable', server: A, source: 'api' }, 3_000);
  assert.deepEqual(h.server(A).admin, {});
  assert.equal(h.server(A).op, 'up');
  assert.deepEqual(h.server(A).changed, { at: 3_000, cause: 'api', detail: 'enable' });
  assert.deepEqual(h.weights(3_000), { [A]: 5 });
});

test('maint takes a healthy server out of the pool; enable brings it back', () => {
  const h = new Harness(service());
  h.admin({ kind: 'maint', server: B, source: 'api' }, 1_000);
  assert.equal(h.server(B).op, 'down');
  assert.deepEqual(h.server(B).admin, { maint: 'api' });
  assert.deepEqual(Object.keys(h.weights(1_000)), [A, C]);
  h.admin({ kind: 'enable', server: B, source: 'cli' }, 2_000);
  assert.deepEqual(Object.keys(h.weights(2_000)), [A, B, C]);
});

test('a runtime weight overrides the configured one until reset, and carries its source', () => {
  const h = new Harness(service());
  const fx = h.admin({ kind: 'weight', server: C, weight: 7, source: 'api' }, 1_000);
  assert.deepEqual(only(fx, 'admin'), [
    { kind: 'admin', service: 'web', server: C, detail: 'weight', source: 'api', weight: 7 },
  ]);
  assert.deepEqual(h.server(C).weightOverride, { weight: 7, source: 'api' });
  assert.deepEqual(h.server(C).changed, { at: 1_000, cause: 'api', detail: 'weight' });
  assert.equal(h.weights(1_000)[C], 7);
  h.admin({ kind: 'weight', server: C, weight: null, source: 'cli' }, 2_000);
  assert.equal(h.server(C).weightOverride, null);
  assert.equal(h.weights(2_000)[C], 1);
});

test('add and remove change the pool at runtime; an added server records who added it and waits for its checker', () => {
  const h = new Harness(service());
  const add = h.admin({ kind: 'add', server: { addr: '10.0.0.4', port: 80, weight: 2 }, source: 'cli' }, 1_000);
  assert.deepEqual(only(add, 'admin'), [
    { kind: 'admin', service: 'web', server: '10.0.0.4:80', detail: 'added', source: 'cli' },
  ]);
  const added = h.server('10.0.0.4:80');
  assert.deepEqual([added.origin, added.health, added.op, added.changed.cause], ['cli', 'down', 'down', 'cli']);
  h.health('10.0.0.4:80', 'up', 2_000);
  assert.equal(h.weights(2_000)['10.0.0.4:80'], 2);
  const rm = h.admin({ kind: 'remove', server: A, source: 'api' }, 3_000);
  assert.deepEqual(only(rm, 'admin'), [{ kind: 'admin', service: 'web', server: A, detail: 'removed', source: 'api' }]);
  assert.deepEqual(Object.keys(h.weights(3_000)), [B, C, '10.0.0.4:80']);
});

test('admin refusals are return values: unknown server, duplicate, bad weight, bad port, wrong family', () => {
  const svc = service();
  const s = initialServiceState(svc, 0).state;
  const refuse = (a: AdminAction) => {
    const r = applyAdmin(svc, s, a, 0);
    return r.ok ? 'ok' : r.reason;
  };
  const src: AdminSource = 'api';
  assert.equal(refuse({ kind: 'drain', server: '10.9.9.9:80', source: src }), 'unknown-server');
  assert.equal(
    refuse({ kind: 'add', server: { addr: '10.0.0.1', port: 80, weight: 1 }, source: src }),
    'already-present',
  );
  assert.equal(refuse({ kind: 'weight', server: A, weight: -1, source: src }), 'bad-weight');
  assert.equal(refuse({ kind: 'weight', server: A, weight: 70_000, source: src }), 'bad-weight');
  assert.equal(refuse({ kind: 'weight', server: A, weight: 1.5, source: src }), 'bad-weight');
  assert.equal(refuse({ kind: 'add', server: { addr: '10.0.0.9', port: 70_000, weight: 1 }, source: src }), 'bad-port');
  assert.equal(
    refuse({ kind: 'add', server: { addr: '2001:db8::1', port: 80, weight: 1 }, source: src }),
    'bad-address',
  );
});

test('an admin action that changes nothing returns no effects and keeps the state', () => {
  const h = new Harness(service());
  h.admin({ kind: 'drain', server: A, source: 'cli' }, 1);
  const before = h.state;
  assert.deepEqual(h.admin({ kind: 'drain', server: A, source: 'cli' }, 2), []);
  assert.deepEqual(h.admin({ kind: 'enable', server: B, source: 'cli' }, 2), []);
  assert.equal(h.state, before);
});

// ---------------------------------------------------------------------------------------------------------------
// Slow start

test('slow start: after coming up, the weight ramps linearly from 1 at t=0 to half-way at t=½ to full at t=slowStartMs', () => {
  const h = new Harness(service({ slowStartMs: 10_000, realServers: [{ addr: '10.0.0.1', port: 80, weight: 11 }] }));
  assert.equal(h.server(A).op, 'up', 'no ramp at start-up');
  h.health(A, 'down', 1_000);
  h.health(A, 'up', 2_000);
  assert.equal(h.server(A).op, 'starting');
  assert.deepEqual(h.weights(2_000), { [A]: 1 });
  assert.deepEqual(h.weights(7_000), { [A]: 6 });
  assert.deepEqual(h.weights(11_999), { [A]: 10 });
  assert.deepEqual(h.weights(12_000), { [A]: 11 });
  assert.equal(h.desired(7_000).backends[0]?.reason, 'starting');
  assert.equal(h.desired(12_000).backends[0]?.reason, 'up');
});

test('slow start arms a tick at each weight step, and the tick at the end reports starting → up with the ramp’s cause', () => {
  const h = new Harness(service({ slowStartMs: 3_000, realServers: [{ addr: '10.0.0.1', port: 80, weight: 4 }] }));
  h.admin({ kind: 'maint', server: A, source: 'cli' }, 0);
  const fx = h.admin({ kind: 'enable', server: A, source: 'cli' }, 1_000);
  // weight 1 at 1000, 2 at 2000, 3 at 3000, 4 (and up) at 4000
  assert.deepEqual(only(fx, 'arm'), [{ kind: 'arm', service: 'web', at: 2_000 }]);
  assert.deepEqual(only(h.tick(2_000), 'arm'), [{ kind: 'arm', service: 'web', at: 3_000 }]);
  assert.deepEqual(only(h.tick(3_000), 'arm'), [{ kind: 'arm', service: 'web', at: 4_000 }]);
  const end = h.tick(4_000);
  assert.deepEqual(only(end, 'op'), [
    { kind: 'op', service: 'web', server: A, from: 'starting', to: 'up', cause: 'cli', detail: 'slow-start-done' },
  ]);
  assert.deepEqual(only(end, 'arm'), []);
  assert.equal(h.server(A).op, 'up');
});

test('rampWeight and effectiveWeight: 0 for weight 0, never above the target, full weight without slow start', () => {
  assert.equal(rampWeight(0, 1_000, 10), 0);
  assert.equal(rampWeight(1, 1_000, 0), 1);
  assert.equal(rampWeight(100, 1_000, 5_000), 100);
  assert.equal(rampWeight(100, 0, 0), 100);
  const svc = service();
  const s = initialServiceState(svc, 0).state.servers[0]!;
  assert.equal(effectiveWeight(svc, s, 0), 1);
  assert.equal(effectiveWeight(svc, { ...s, health: 'down' }, 0), 0);
});

// ---------------------------------------------------------------------------------------------------------------
// inhibit_on_failure

test('keepalived inhibit_on_failure: a server that fails its checks stays in the pool with weight 0 instead of being removed', () => {
  const h = new Harness(service({ inhibitOnFailure: true }));
  h.health(B, 'down', 1_000, 'L7STS');
  const b = h.desired(1_000).backends.find((x) => x.key === B);
  assert.deepEqual([b?.weight, b?.reason, b?.op], [0, 'inhibited', 'down']);
  const plain = new Harness(service({ inhibitOnFailure: false }));
  plain.health(B, 'down', 1_000);
  assert.equal(
    plain.desired(1_000).backends.find((x) => x.key === B),
    undefined,
  );
  h.admin({ kind: 'maint', server: B, source: 'cli' }, 2_000);
  assert.equal(
    h.desired(2_000).backends.find((x) => x.key === B),
    undefined,
    'maint removes even when inhibited',
  );
});

// ---------------------------------------------------------------------------------------------------------------
// Quorum with hysteresis

test('keepalived.conf(5) hysteresis: "Tolerate this much weight units compared to the nominal quorum, when considering quorum gain or loss"', () => {
  // quorum 3, hysteresis 1: lost below 3 − 1 = 2, gained again at 3 + 1 = 4
  const servers = [1, 2, 3, 4, 5].map((i) => ({ addr: `10.0.0.${i}`, port: 80, weight: 1 }));
  const h = new Harness(service({ quorum: { min: 3, hysteresis: 1 }, realServers: servers }));
  assert.equal(h.state.quorum, 'up');
  assert.deepEqual(only(h.fx, 'quorum'), [
    { kind: 'quorum', service: 'web', to: 'up', weightSum: 5, threshold: 4, init: true },
  ]);
  const seq: string[] = [];
  const step = (i: number, health: HealthState, now: Ms) => {
    const q = only(h.health(`10.0.0.${i}:80`, health, now), 'quorum')[0];
    seq.push(`${h.state.quorum}${q ? `(${q.to}:${q.weightSum}/${q.threshold})` : ''}`);
  };
  step(1, 'down', 1); // 4
  step(2, 'down', 2); // 3
  step(3, 'down', 3); // 2: not below 2
  step(4, 'down', 4); // 1: lost
  step(1, 'up', 5); // 2
  step(2, 'up', 6); // 3: not yet 4
  step(3, 'up', 7); // 4: gained
  assert.deepEqual(seq, ['up', 'up', 'up', 'down(down:1/2)', 'down', 'down', 'up(up:4/4)']);
});

test('keepalived quorum: "Minimum total weight of all live servers": weights count, not servers, and drained servers do not', () => {
  const h = new Harness(
    service({
      quorum: { min: 5, hysteresis: 0 },
      realServers: [
        { addr: '10.0.0.1', port: 80, weight: 4 },
        { addr: '10.0.0.2', port: 80, weight: 1 },
      ],
    }),
  );
  assert.equal(h.state.quorum, 'up');
  const fx = h.admin({ kind: 'drain', server: B, source: 'cli' }, 1);
  assert.deepEqual(only(fx, 'quorum'), [
    { kind: 'quorum', service: 'web', to: 'down', weightSum: 4, threshold: 5, init: false },
  ]);
});

test('keepalived quorum is lost when the weight sum reaches 0 even if quorum − hysteresis ≤ 0', () => {
  assert.equal(nextQuorum({ min: 1, hysteresis: 1 }, 'up', 0), 'down');
  assert.equal(nextQuorum({ min: 1, hysteresis: 1 }, 'up', 1), 'up');
  assert.equal(nextQuorum({ min: 1, hysteresis: 1 }, 'down', 1), 'down');
  assert.equal(nextQuorum({ min: 1, hysteresis: 1 }, 'down', 2), 'up');
});

test('at start-up keepalived runs quorum_up when it starts with the quorum, and quorum_down only with a sorry server', () => {
  const alpha = (over: Partial<VirtualService>) => new Harness(service(over), 0, true).fx;
  assert.deepEqual(
    only(new Harness(service()).fx, 'quorum').map((e) => [e.to, e.init]),
    [['up', true]],
  );
  assert.deepEqual(only(alpha({}), 'quorum'), []);
  const sorry = { addr: '10.0.9.9', port: 8080 };
  assert.deepEqual(
    only(alpha({ sorry }), 'quorum').map((e) => [e.to, e.init]),
    [['down', true]],
  );
  assert.deepEqual(only(alpha({ sorry }), 'sorry'), [{ kind: 'sorry', service: 'web', active: true, sorry }]);
});

// ---------------------------------------------------------------------------------------------------------------
// Sorry server

test('sorry_server takes new connections when no real server is eligible, and hands back when one returns', () => {
  const sorry = { addr: '10.0.9.9', port: 8080 };
  const h = new Harness(service({ sorry }));
  assert.equal(h.desired(0).sorry, null);
  h.health(A, 'down', 1);
  h.health(B, 'down', 2);
  const last = h.health(C, 'down', 3);
  assert.deepEqual(only(last, 'sorry'), [{ kind: 'sorry', service: 'web', active: true, sorry }]);
  assert.deepEqual(
    only(last, 'quorum').map((e) => e.to),
    ['down'],
  );
  assert.deepEqual(h.desired(3).sorry, sorry);
  assert.deepEqual(h.desired(3).backends, []);
  const back = h.health(B, 'up', 4);
  assert.deepEqual(only(back, 'sorry'), [{ kind: 'sorry', service: 'web', active: false, sorry }]);
  assert.equal(h.desired(4).sorry, null);
  assert.deepEqual(h.weights(4), { [B]: 1 });
});

test('keepalived sorry_server: "all real servers will be brought down when the quorum is not achieved and be replaced with the sorry server"', () => {
  const sorry = { addr: '10.0.9.9', port: 8080 };
  const h = new Harness(service({ sorry, quorum: { min: 2, hysteresis: 0 } }));
  h.health(A, 'down', 1);
  h.health(B, 'down', 2);
  const d = h.desired(2);
  assert.deepEqual(d.sorry, sorry);
  assert.deepEqual(
    d.backends.map((b) => [b.key, b.weight, b.reason]),
    [[C, 0, 'quorum']],
    'the healthy server keeps its existing connections but takes no new ones',
  );
});

test('without a sorry server, losing the quorum leaves the pool as it is (keepalived only runs quorum_down)', () => {
  const h = new Harness(service({ quorum: { min: 2, hysteresis: 0 } }));
  h.health(A, 'down', 1);
  const fx = h.health(B, 'down', 2);
  assert.deepEqual(
    only(fx, 'quorum').map((e) => e.to),
    ['down'],
  );
  assert.deepEqual(h.weights(2), { [C]: 1 });
  assert.equal(h.desired(2).sorry, null);
});

// ---------------------------------------------------------------------------------------------------------------
// Desired state

test('desiredState carries the service settings a data plane needs, and leaves out services that have no state', () => {
  const svc = service({ persistence: { timeoutMs: 360_000, netmaskPrefix: 24 }, scheduler: 'mh', method: 'dr' });
  const other = service({ id: 'other' });
  const state = initialServiceState(svc, 0).state;
  const out = desiredState([svc, other], { web: state }, 0);
  assert.equal(out.length, 1);
  const [d] = out;
  assert.deepEqual(
    { ...d, backends: d?.backends.length },
    {
      id: 'web',
      vip: '192.0.2.10',
      port: 80,
      protocol: 'tcp',
      family: 4,
      scheduler: 'mh',
      method: 'dr',
      persistence: { timeoutMs: 360_000, netmaskPrefix: 24 },
      quorum: 'up',
      backends: 3,
      sorry: null,
    },
  );
  assert.deepEqual(d?.backends[0], { key: A, addr: '10.0.0.1', port: 80, weight: 1, op: 'up', reason: 'up' });
});

test('IPv6 real servers get bracketed keys', () => {
  const svc = service({ family: 6, vip: '2001:db8::10', realServers: [{ addr: '2001:db8::1', port: 443, weight: 1 }] });
  assert.equal(initialServiceState(svc, 0).state.servers[0]?.key, '[2001:db8::1]:443');
});

test('a reload keeps runtime changes of servers the config did not change, and drops them where it did', () => {
  const svc = service();
  let st = initialServiceState(svc, 0).state;
  const act = (a: AdminAction) => {
    const r = applyAdmin(svc, st, a, 10);
    assert.ok(r.ok);
    st = r.state;
  };
  act({ kind: 'drain', server: A, source: 'cli' });
  act({ kind: 'weight', server: B, weight: 7, source: 'cli' });
  act({ kind: 'remove', server: C, source: 'cli' });
  act({ kind: 'add', server: { addr: '10.0.0.4', port: 80, weight: 2 }, source: 'api', health: 'up' });
  st = applyHealth(svc, st, { server: B, health: 'down', check: 'L4CON' }, 20).state;

  const same = reloadServiceState(svc, svc, st, 30).state;
  assert.deepEqual(
    same.servers.map((s) => `${s.key} ${s.op} ${s.admin.drain ?? '-'} ${s.weightOverride?.weight ?? '-'} ${s.health}`),
    [`${A} draining cli - up`, `${B} down - 7 down`, '10.0.0.4:80 up - - up'],
    'drain, runtime weight, runtime remove and add all survive; health is kept',
  );

  const changed = service({
    realServers: [
      { addr: '10.0.0.1', port: 80, weight: 5 },
      { addr: '10.0.0.2', port: 80, weight: 1 },
      { addr: '10.0.0.3', port: 80, weight: 1 },
    ],
  });
  const after = reloadServiceState(changed, svc, st, 40).state;
  assert.deepEqual(
    after.servers.map((s) => `${s.key} ${s.op} ${s.admin.drain ?? '-'} ${s.weightOverride?.weight ?? '-'}`),
    [`${A} up - -`, `${B} down - 7`, '10.0.0.4:80 up - -'],
    'the config changed A: its drain is gone; B and C unchanged keep their runtime state',
  );
});
