import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DesiredBackend, DesiredService, SchedulerName } from '../../lb/types.ts';
import { BackendPool, type ProxyBackend } from './pool.ts';

const be = (n: number, weight = 1): DesiredBackend => ({
  key: `10.0.0.${n}:80`,
  addr: `10.0.0.${n}`,
  port: 80,
  weight,
  op: weight > 0 ? 'up' : 'draining',
  reason: weight > 0 ? 'up' : 'draining',
});

function svc(backends: DesiredBackend[], over: Partial<DesiredService> = {}): DesiredService {
  return {
    id: 'web',
    vip: '198.18.0.10',
    port: 80,
    protocol: 'tcp',
    family: 4,
    scheduler: 'rr',
    method: 'nat',
    persistence: null,
    quorum: 'up',
    backends,
    sorry: null,
    ...over,
  };
}

function poolOf(backends: DesiredBackend[], over: Partial<DesiredService> = {}): BackendPool {
  const p = new BackendPool('web');
  p.update(svc(backends, over));
  return p;
}

/** The addresses' last octets chosen for `n` connections from one client. */
function picks(p: BackendPool, n: number, client = '198.51.100.7', now = 0): string {
  const c = p.clientOf(client);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(p.choose(c, now)?.addr.split('.')[3] ?? '-');
  return out.join(' ');
}

test('rr: each new connection goes to the next backend in turn', () => {
  assert.equal(picks(poolOf([be(1), be(2), be(3)]), 7), '1 2 3 1 2 3 1');
});

test('wrr: the connections follow the weights, spread through the cycle', () => {
  assert.equal(picks(poolOf([be(1, 3), be(2, 1)], { scheduler: 'wrr' }), 8), '1 1 1 2 1 1 1 2');
});

test('lc and wlc see the proxy’s own live counts: the least busy backend takes the next connection', () => {
  for (const scheduler of ['lc', 'wlc'] as SchedulerName[]) {
    const p = poolOf([be(1), be(2), be(3)], { scheduler });
    const c = p.clientOf('198.51.100.7');
    const [a, b] = p.backends as [ProxyBackend, ProxyBackend, ProxyBackend];
    a.active = 2;
    b.active = 1;
    assert.equal(p.choose(c, 0)?.addr, '10.0.0.3', scheduler);
    (p.backends[2] as ProxyBackend).active = 5;
    assert.equal(p.choose(c, 0)?.addr, '10.0.0.2', scheduler);
  }
});

test('sh: one client always gets one backend; other clients spread', () => {
  const p = poolOf([be(1), be(2), be(3)], { scheduler: 'sh' });
  const seen = new Set<string>();
  for (let i = 0; i < 30; i++) {
    const client = `198.51.100.${i}`;
    const first = picks(p, 1, client);
    assert.equal(picks(p, 5, client), [first, first, first, first, first].join(' '));
    seen.add(first);
  }
  assert.equal(seen.size, 3);
});

test('weight 0 takes no new connection; with every weight 0 there is no choice', () => {
  assert.equal(picks(poolOf([be(1), be(2, 0), be(3)]), 4), '1 3 1 3');
  assert.equal(picks(poolOf([be(1, 0)]), 1), '-');
  assert.equal(picks(poolOf([]), 1), '-');
});

test('persistence: a client network keeps its backend while the affinity is young, then goes where the scheduler says', () => {
  const p = poolOf([be(1), be(2), be(3)], { persistence: { timeoutMs: 1_000, netmaskPrefix: 24 } });
  assert.equal(picks(p, 3, '198.51.100.7', 0), '1 1 1');
  assert.equal(picks(p, 1, '198.51.100.99', 500), '1', 'same /24, same backend');
  assert.equal(picks(p, 1, '203.0.113.5', 500), '2', 'another network: the scheduler');
  // Each connection renews the affinity; 1 s after the last one it lapses.
  assert.equal(picks(p, 1, '198.51.100.7', 1_499), '1');
  assert.equal(picks(p, 1, '198.51.100.7', 2_499), '3');
});

test('persistence does not hold a client on a backend that takes no new connections (drain completes)', () => {
  const p = poolOf([be(1), be(2)], { persistence: { timeoutMs: 60_000, netmaskPrefix: 32 } });
  assert.equal(picks(p, 1), '1');
  p.update(svc([be(1, 0), be(2)], { persistence: { timeoutMs: 60_000, netmaskPrefix: 32 } }));
  assert.equal(picks(p, 2), '2 2');
});

test('the sorry server takes every new connection while the desired state names it', () => {
  const p = poolOf([be(1, 0)], { sorry: { addr: '10.9.9.9', port: 8080 } });
  assert.equal(picks(p, 2), '9 9');
  assert.equal(p.choose(p.clientOf('x'), 0, new Set([p.sorryBackend as ProxyBackend])), null, 'no retry elsewhere');
  p.update(svc([be(1)]));
  assert.equal(picks(p, 1), '1');
  assert.equal(p.sorryBackend, null);
});

test('a retry skips the backends that already failed: rr moves on, sh goes to the next eligible in pool order', () => {
  const rr = poolOf([be(1), be(2), be(3)]);
  const c = rr.clientOf('198.51.100.7');
  const first = rr.choose(c, 0) as ProxyBackend;
  assert.equal(rr.choose(c, 0, new Set([first, rr.backends[1] as ProxyBackend]))?.addr, '10.0.0.3');
  assert.equal(rr.choose(c, 0, new Set(rr.backends)), null);
  const sh = poolOf([be(1), be(2), be(3)], { scheduler: 'sh' });
  const sc = sh.clientOf('198.51.100.7');
  const home = sh.choose(sc, 0) as ProxyBackend;
  const i = sh.backends.indexOf(home);
  assert.equal(sh.choose(sc, 0, new Set([home])), sh.backends[(i + 1) % 3]);
});

test('passive health: the N-th consecutive failure reports once and excludes the backend; a success resets the count', () => {
  const p = poolOf([be(1), be(2)]);
  const [a] = p.backends as [ProxyBackend, ProxyBackend];
  assert.equal(p.recordFailure(a, 'L4CON', 'refused', 3), null);
  p.recordSuccess(a);
  assert.equal(p.recordFailure(a, 'L4CON', 'refused', 3), null);
  assert.equal(p.recordFailure(a, 'L4CON', 'refused', 3), null);
  assert.deepEqual(p.recordFailure(a, 'L4TOUT', 'timed out', 3), {
    service: 'web',
    backend: '10.0.0.1:80',
    failures: 3,
    code: 'L4TOUT',
    detail: 'timed out',
  });
  assert.equal(p.recordFailure(a, 'L4CON', 'refused', 3), null, 'reported once');
  assert.equal(picks(p, 3), '2 2 2');
});

test('passive health: our own socket errors and the sorry server are never counted; 0 turns it off', () => {
  const p = poolOf([be(1)]);
  const a = p.backends[0] as ProxyBackend;
  for (let i = 0; i < 5; i++) assert.equal(p.recordFailure(a, 'SOCKERR', 'EMFILE', 1), null);
  for (let i = 0; i < 5; i++) assert.equal(p.recordFailure(a, 'L4CON', 'refused', 0), null);
  assert.equal(a.passiveDown, false);
});

test('passive health: an apply that keeps the backend unchanged keeps it out; one that brings it back clears it', () => {
  const p = poolOf([be(1), be(2)]);
  const a = p.backends[0] as ProxyBackend;
  assert.ok(p.recordFailure(a, 'L4CON', 'refused', 1));
  p.update(svc([be(1), be(2)]));
  assert.equal(picks(p, 2), '2 2', 'the daemon has not acted yet');
  p.update(svc([be(2)]));
  p.update(svc([be(1), be(2)]));
  assert.equal(picks(p, 2), '1 2', 'back after its check passed');
  // inhibit_on_failure keeps it listed with weight 0; its return with a weight clears it too.
  const b = p.backends[0] as ProxyBackend;
  assert.ok(p.recordFailure(b, 'L4CON', 'refused', 1));
  p.update(svc([{ ...be(1, 0), reason: 'inhibited', op: 'down' }, be(2)]));
  p.update(svc([be(1), be(2)]));
  assert.equal(b.passiveDown, false);
});

test('a backend that leaves the desired state stays counted until its last connection ends', () => {
  const gone: string[] = [];
  const retired: string[] = [];
  const p = new BackendPool('web');
  p.setHooks({ retire: (b) => retired.push(b.key), gone: (b) => gone.push(b.key) });
  p.update(svc([be(1), be(2)]));
  const a = p.choose(p.clientOf('x'), 0) as ProxyBackend;
  a.active++;
  p.update(svc([be(2)]));
  assert.deepEqual([retired, gone], [['10.0.0.1:80'], []]);
  assert.deepEqual(
    [...p.all()].map((b) => b.key),
    ['10.0.0.2:80', '10.0.0.1:80'],
  );
  p.release(a);
  assert.deepEqual(gone, ['10.0.0.1:80']);
  assert.deepEqual(
    [...p.all()].map((b) => b.key),
    ['10.0.0.2:80'],
  );
});

test('a backend that comes back while its old connections still run keeps counting them', () => {
  const revived: string[] = [];
  const p = new BackendPool('web');
  p.setHooks({ revive: (b) => revived.push(b.key) });
  p.update(svc([be(1)]));
  const a = p.backends[0] as ProxyBackend;
  a.active = 2;
  p.update(svc([]));
  p.update(svc([be(1, 3)]));
  assert.equal(p.backends[0], a);
  assert.equal(a.active, 2);
  assert.equal(a.weight, 3);
  assert.equal(p.retired.size, 0);
  assert.deepEqual(revived, ['10.0.0.1:80']);
});
