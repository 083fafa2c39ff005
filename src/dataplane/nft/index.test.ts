import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TandemError } from '../../core/errors.ts';
import type { ServiceProgram } from '../../lb/dataplane.ts';
import type { DesiredBackend } from '../../lb/types.ts';
import type { ConntrackEntry } from '../../os/conntrack.ts';
import { FakeConntrackReader, FakeNftRunner } from './fakes.ts';
import { createNftDataPlane } from './index.ts';

function be(addr: string, port: number, weight = 1): DesiredBackend {
  const key = addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
  return { key, addr, port, weight, op: 'up', reason: 'up' };
}

function svc(over: Partial<ServiceProgram> & { id: string }): ServiceProgram {
  return {
    vip: '198.18.0.100',
    port: 80,
    protocol: 'tcp',
    family: 4,
    scheduler: 'rr',
    method: 'nat',
    persistence: null,
    quorum: 'up',
    backends: [be('198.18.1.21', 80), be('198.18.1.22', 80)],
    sorry: null,
    ...over,
  };
}

function ct(
  protocol: string,
  state: string | null,
  client: string,
  vip: string,
  vport: number,
  backend: string,
  bport: number,
): ConntrackEntry {
  const family = vip.includes(':') ? 6 : 4;
  return {
    family,
    protocol,
    state,
    orig: { src: client, dst: vip, sport: 40_000, dport: vport },
    reply: { src: backend, dst: client, sport: bport, dport: 40_000 },
  };
}

test('the first apply replaces any stale table in one transaction and reports every service as added', async () => {
  const nft = new FakeNftRunner();
  const dp = createNftDataPlane({ table: 'tnd', nft, conntrack: new FakeConntrackReader() });
  const r = await dp.apply([svc({ id: 'b', vip: '198.18.0.101' }), svc({ id: 'a' })]);
  assert.deepEqual([r.added, r.changed, r.removed], [['a', 'b'], [], []]);
  assert.equal(nft.scripts.length, 1);
  assert.ok(nft.scripts[0]!.startsWith('add table inet tnd\ndelete table inet tnd\ntable inet tnd {\n'));
  assert.ok(nft.tables.has('tnd'));
  assert.equal(dp.kind, 'nft');
});

test('later applies send only the update; an unchanged desired state runs nothing', async () => {
  const nft = new FakeNftRunner();
  const dp = createNftDataPlane({ table: 'tnd', nft, conntrack: new FakeConntrackReader() });
  const a = svc({ id: 'a' });
  await dp.apply([a]);
  const r = await dp.apply([{ ...a, backends: [be('198.18.1.22', 80), be('198.18.1.23', 80)] }]);
  assert.deepEqual([r.added, r.changed, r.removed], [[], ['a'], []]);
  assert.equal(
    nft.scripts[1],
    'flush map inet tnd svc_a_slots\nadd element inet tnd svc_a_slots { 0 : 198.18.1.22 . 80, 1 : 198.18.1.23 . 80 }\n',
  );
  const same = await dp.apply([{ ...a, backends: [be('198.18.1.22', 80), be('198.18.1.23', 80)] }]);
  assert.deepEqual([same.added, same.changed, same.removed], [[], [], []]);
  assert.equal(nft.scripts.length, 2, 'nothing to send');
  const gone = await dp.apply([]);
  assert.deepEqual(gone.removed, ['a']);
  assert.match(nft.scripts[2]!, /^delete element inet tnd dispatch4 \{ tcp \. 198\.18\.0\.100 \. 80 \}$/m);
});

test('a failed apply leaves the table unknown: the next apply replaces the whole table', async () => {
  const nft = new FakeNftRunner();
  const logs: string[] = [];
  const dp = createNftDataPlane({ table: 'tnd', nft, conntrack: new FakeConntrackReader(), log: (l) => logs.push(l) });
  const a = svc({ id: 'a' });
  await dp.apply([a]);
  nft.failNext('line 1:1-5: Error: Could not process rule: No such file or directory');
  const next = [{ ...a, scheduler: 'lc' as const }];
  await assert.rejects(dp.apply(next), (e: unknown) => e instanceof TandemError && e.code === 'TND_NFT_APPLY');
  assert.ok(logs.some((l) => /apply failed, the next apply reloads the whole table/.test(l)));
  const r = await dp.apply(next);
  assert.ok(nft.scripts[2]!.startsWith('add table inet tnd\ndelete table inet tnd\n'));
  assert.deepEqual(r.added, ['a']);
});

test('a program the renderer refuses throws before nft runs, and the kernel state stays known', async () => {
  const nft = new FakeNftRunner();
  const dp = createNftDataPlane({ table: 'tnd', nft, conntrack: new FakeConntrackReader() });
  const a = svc({ id: 'a' });
  await dp.apply([a]);
  await assert.rejects(dp.apply([{ ...a, method: 'dr' }]), /method dr needs the director's interface/);
  assert.equal(nft.scripts.length, 1);
  await dp.apply([{ ...a, backends: [be('198.18.1.21', 80)] }]);
  assert.ok(nft.scripts[1]!.startsWith('flush chain inet tnd svc_a'), 'still an update, not a replace');
});

test('applies run one at a time in call order, even when called together', async () => {
  const nft = new FakeNftRunner();
  const dp = createNftDataPlane({ table: 'tnd', nft, conntrack: new FakeConntrackReader() });
  const a = svc({ id: 'a' });
  const b = svc({ id: 'b', vip: '198.18.0.101' });
  const [r1, r2, r3] = await Promise.all([dp.apply([a]), dp.apply([a, b]), dp.apply([b])]);
  assert.deepEqual(r1.added, ['a']);
  assert.deepEqual(r2.added, ['b']);
  assert.deepEqual(r3.removed, ['a']);
});

test('the caller changing its array after apply does not change what the data plane believes is applied', async () => {
  const nft = new FakeNftRunner();
  const dp = createNftDataPlane({ table: 'tnd', nft, conntrack: new FakeConntrackReader() });
  const list = [svc({ id: 'a' })];
  await dp.apply(list);
  (list[0]!.backends as DesiredBackend[]).push(be('198.18.1.29', 80));
  const r = await dp.apply(list);
  assert.deepEqual(r.changed, ['a']);
});

test('connections: established = active, other TCP states inactive, UDP active; per service and backend', async () => {
  const reader = new FakeConntrackReader();
  const dp = createNftDataPlane({ table: 'tnd', nft: new FakeNftRunner(), conntrack: reader });
  await dp.apply([
    svc({ id: 'web' }),
    svc({ id: 'dns', protocol: 'udp', port: 53, backends: [be('198.18.1.21', 53)] }),
    svc({ id: 'all', vip: '198.18.0.101', port: 0, backends: [be('198.18.1.23', 0)] }),
    svc({ id: 'v6', family: 6, vip: '2001:db8::100', port: 443, backends: [be('2001:db8::21', 443)] }),
    svc({
      id: 'sorry',
      vip: '198.18.0.102',
      backends: [be('198.18.1.21', 80, 0)],
      sorry: { addr: '198.18.1.30', port: 0 },
    }),
  ]);
  reader.list = [
    ct('tcp', 'ESTABLISHED', '198.18.2.10', '198.18.0.100', 80, '198.18.1.21', 80),
    ct('tcp', 'ESTABLISHED', '198.18.2.11', '198.18.0.100', 80, '198.18.1.21', 80),
    ct('tcp', 'TIME_WAIT', '198.18.2.10', '198.18.0.100', 80, '198.18.1.22', 80),
    ct('tcp', 'SYN_SENT', '198.18.2.10', '198.18.0.100', 80, '198.18.1.22', 80),
    // A backend that has left the pool but still carries a draining connection.
    ct('tcp', 'ESTABLISHED', '198.18.2.10', '198.18.0.100', 80, '198.18.1.29', 80),
    ct('udp', null, '198.18.2.10', '198.18.0.100', 53, '198.18.1.21', 53),
    ct('tcp', 'ESTABLISHED', '198.18.2.10', '198.18.0.101', 2222, '198.18.1.23', 2222),
    ct('tcp', 'ESTABLISHED', '2001:db8:2::10', '2001:db8:0::100', 443, '2001:db8::21', 443),
    ct('tcp', 'ESTABLISHED', '198.18.2.10', '198.18.0.102', 80, '198.18.1.30', 80),
    // Not ours: another address, a connection to the VIP that was never translated, icmp.
    ct('tcp', 'ESTABLISHED', '198.18.2.10', '198.18.9.9', 80, '198.18.1.21', 80),
    ct('tcp', 'ESTABLISHED', '198.18.2.10', '198.18.0.100', 80, '198.18.0.100', 80),
    ct('icmp', null, '198.18.2.10', '198.18.0.100', 0, '198.18.1.21', 0),
  ];
  const c = await dp.connections();
  const plain = Object.fromEntries([...c].map(([id, m]) => [id, Object.fromEntries(m)]));
  assert.deepEqual(plain, {
    web: {
      '198.18.1.21:80': { active: 2, inactive: 0 },
      '198.18.1.22:80': { active: 0, inactive: 2 },
      '198.18.1.29:80': { active: 1, inactive: 0 },
    },
    dns: { '198.18.1.21:53': { active: 1, inactive: 0 } },
    all: { '198.18.1.23:0': { active: 1, inactive: 0 } },
    v6: { '[2001:db8::21]:443': { active: 1, inactive: 0 } },
    sorry: { '198.18.1.30:0': { active: 1, inactive: 0 } },
  });
});

test('close deletes the table; a later apply builds it again from scratch', async () => {
  const nft = new FakeNftRunner();
  const dp = createNftDataPlane({ table: 'tnd', nft, conntrack: new FakeConntrackReader() });
  await dp.apply([svc({ id: 'a' })]);
  await dp.close();
  assert.equal(nft.tables.has('tnd'), false);
  assert.deepEqual((await dp.connections()).size, 0);
  await dp.close();
  await dp.apply([svc({ id: 'a' })]);
  assert.ok(nft.scripts[1]!.startsWith('add table inet tnd\ndelete table inet tnd\n'));
});

test('direct routing: DR services go to a netdev table in the same transaction; an update keeps the flow sets; close deletes both tables', async () => {
  const nft = new FakeNftRunner();
  const dp = createNftDataPlane({ table: 'tnd', nft, conntrack: new FakeConntrackReader() });
  const a = svc({ id: 'a' });
  const d = svc({ id: 'd', vip: '198.18.0.101', method: 'dr', device: 'eth0' });
  const r1 = await dp.apply([a, d]);
  assert.deepEqual(r1.added, ['a', 'd']);
  assert.equal(nft.scripts.length, 1);
  assert.match(nft.scripts[0]!, /^table inet tnd \{$/m);
  assert.match(nft.scripts[0]!, /^add table netdev tnd\ndelete table netdev tnd\nadd table netdev tnd$/m);
  assert.ok(nft.tables.has('netdev tnd'));
  const r2 = await dp.apply([a, { ...d, backends: [d.backends[0]!, { ...d.backends[1]!, weight: 0 }] }]);
  assert.deepEqual(r2.changed, ['d']);
  assert.doesNotMatch(nft.scripts[1]!, /_fl_|inet tnd/, 'a drain touches neither the flow sets nor the NAT table');
  const r3 = await dp.apply([a]);
  assert.deepEqual(r3.removed, ['d']);
  assert.match(nft.scripts[2]!, /^delete table netdev tnd$/m);
  await dp.apply([a, d]);
  await dp.close();
  assert.equal(nft.tables.size, 0);
});

test('a data plane without DR services never touches a netdev table', async () => {
  const nft = new FakeNftRunner();
  const dp = createNftDataPlane({ table: 'tnd', nft, conntrack: new FakeConntrackReader() });
  await dp.apply([svc({ id: 'a' })]);
  await dp.apply([]);
  await dp.close();
  assert.ok(nft.scripts.every((s) => !s.includes('netdev')));
});

test('lc: the feedback step steers the slot weights from the service connections, in one transaction, and back once balanced', async () => {
  const nft = new FakeNftRunner();
  const conntrack = new FakeConntrackReader();
  const dp = createNftDataPlane({ table: 'tnd', nft, conntrack, feedbackIntervalMs: 0 });
  const a = svc({ id: 'a', scheduler: 'lc', backends: [be('198.18.1.21', 80), be('198.18.1.22', 80)] });
  await dp.apply([a]);
  const conns = (backend: string, n: number, from: number) =>
    Array.from({ length: n }, (_, i) => ({
      ...ct('tcp', 'ESTABLISHED', `198.18.2.${from + i}`, '198.18.0.100', 80, backend, 80),
    }));
  // 30 established on .21, 2 on .22: new connections go to .22.
  conntrack.list = [...conns('198.18.1.21', 30, 1), ...conns('198.18.1.22', 2, 100)];
  assert.deepEqual(await dp.rebalance(), ['a']);
  const script = nft.scripts.at(-1)!;
  assert.match(script, /^flush map inet tnd svc_a_slots$/m);
  const to21 = (script.match(/198\.18\.1\.21 \. 80/g) ?? []).length;
  const to22 = (script.match(/198\.18\.1\.22 \. 80/g) ?? []).length;
  assert.ok(to22 > 2 * to21, `slots: .21 ${to21}, .22 ${to22}`);
  // Unchanged counts: the horizon settles (no new arrivals), then no more transactions.
  let steps = 0;
  while ((await dp.rebalance()).length > 0) assert.ok(++steps < 30, 'the steering settles');
  const n = nft.scripts.length;
  assert.deepEqual(await dp.rebalance(), []);
  assert.equal(nft.scripts.length, n);
  // Balanced counts: back to the configured weights.
  conntrack.list = [...conns('198.18.1.21', 16, 1), ...conns('198.18.1.22', 16, 100)];
  for (steps = 0; !/numgen random mod 2 /.test(nft.scripts.at(-1)!); steps++) {
    assert.ok(steps < 60, 'back to the configured weights');
    await dp.rebalance();
  }
  // A service that is not lc/wlc is never steered.
  await dp.apply([{ ...a, scheduler: 'wrr' }]);
  conntrack.list = [...conns('198.18.1.21', 30, 1)];
  assert.deepEqual(await dp.rebalance(), []);
  await dp.close();
});
