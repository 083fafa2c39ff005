import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeEtcd } from '../sim/fake-etcd.ts';
import { SimClock } from '../sim/sim-clock.ts';
import type { OwnerRef } from './elector.ts';
import { checkEtcdOptions, ETCD_DEFAULTS, type EtcdElectionOptions, initialEtcdState, step } from './etcd.ts';
import { EtcdElector } from './etcd-elector.ts';

const G: OwnerRef = { kind: 'lease', name: 'web' };
const KEY = '/t/owners/lease:web';

/** Simulated time with the promise callbacks of the fake flushed between steps. */
async function run(clock: SimClock, ms: number, each?: () => void): Promise<void> {
  const end = clock.now() + ms;
  while (clock.now() < end) {
    clock.runFor(Math.min(5, end - clock.now()));
    for (let i = 0; i < 5; i++) await Promise.resolve();
    each?.();
  }
}

function cluster(n: number, opts: Partial<EtcdElectionOptions> = {}) {
  const clock = new SimClock(1_000);
  const etcd = new FakeEtcd(clock);
  const options = { ...ETCD_DEFAULTS, ...opts };
  const nodes = Array.from({ length: n }, (_, i) => {
    const name = `d${i + 1}`;
    const e = new EtcdElector({ clock, port: etcd.client(name), options, node: name, prefix: '/t' });
    e.setGroups([{ owner: G, delayMs: i * options.renewMs }]);
    return { name, e };
  });
  const owners = () => nodes.filter((x) => x.e.ownership(G)?.owned).map((x) => x.name);
  return { clock, etcd, nodes, owners, options };
}

test('a node owns a group only after its campaign txn won; the token is the key create revision', async () => {
  const c = cluster(1);
  assert.deepEqual(c.owners(), []);
  c.nodes[0]!.e.start();
  await run(c.clock, 50);
  assert.deepEqual(c.owners(), ['d1']);
  assert.equal(c.etcd.holder(KEY), 'd1');
  const o = c.nodes[0]!.e.ownership(G)!;
  assert.ok(o.token > 0);
  assert.equal(o.cause, 'campaign-won');
});

test('three nodes: one owner; the preferred one (no delay) wins', async () => {
  const c = cluster(3);
  for (const n of c.nodes) n.e.start();
  await run(c.clock, 2_000);
  assert.deepEqual(c.owners(), ['d1']);
});

test('the owner killed: another owns within TTL + one renew period, never two at once', async () => {
  const c = cluster(3);
  for (const n of c.nodes) n.e.start();
  await run(c.clock, 1_000);
  const first = c.nodes[0]!.e.ownership(G)!.token;
  c.nodes[0]!.e.kill();
  const killedAt = c.clock.now();
  let tookMs = -1;
  await run(c.clock, 6_000, () => {
    const live = c.nodes.slice(1).filter((x) => x.e.ownership(G)?.owned);
    assert.ok(live.length <= 1);
    if (live.length && tookMs < 0) tookMs = c.clock.now() - killedAt;
  });
  assert.ok(tookMs > 0 && tookMs <= c.options.ttlMs + c.options.renewMs, `took ${tookMs} ms`);
  const next = c.nodes
    .slice(1)
    .find((x) => x.e.ownership(G)?.owned)!
    .e.ownership(G)!;
  assert.ok(next.token > first, 'the new owner has a larger fencing token');
});

test('the owner cut off from etcd steps down before its lease can expire: never two owners', async () => {
  const c = cluster(3);
  for (const n of c.nodes) n.e.start();
  await run(c.clock, 1_000);
  c.etcd.cut('d1');
  const cutAt = c.clock.now();
  let steppedDownMs = -1;
  let takenMs = -1;
  await run(c.clock, 6_000, () => {
    // The cut-off d1 is still "owner" in its own view until it steps down: count it.
    assert.ok(c.owners().length <= 1, `two owners at ${c.clock.now() - cutAt} ms: ${c.owners()}`);
    if (steppedDownMs < 0 && !c.nodes[0]!.e.ownership(G)!.owned) steppedDownMs = c.clock.now() - cutAt;
    if (takenMs < 0 && c.owners().length === 1 && c.owners()[0] !== 'd1') takenMs = c.clock.now() - cutAt;
  });
  assert.ok(steppedDownMs > 0 && steppedDownMs <= c.options.ttlMs - c.options.marginMs + 10, `${steppedDownMs}`);
  assert.ok(takenMs > steppedDownMs + c.options.marginMs / 2, `taken ${takenMs}, stepped down ${steppedDownMs}`);
  assert.equal(c.nodes[0]!.e.ownership(G)!.cause, 'lease-unrenewed');
  // Healed: d1 finds its lease gone and sees the new owner; it does not take the group back.
  c.etcd.cut('d1', false);
  await run(c.clock, 3_000, () => assert.ok(c.owners().length <= 1));
  assert.equal(c.owners().length, 1);
  assert.notEqual(c.owners()[0], 'd1');
});

test('no_quorum_policy stop: etcd down, the owner steps down; back up, the lease is renewed and it owns again', async () => {
  const c = cluster(2);
  for (const n of c.nodes) n.e.start();
  await run(c.clock, 1_000);
  c.etcd.setDown(true);
  await run(c.clock, c.options.ttlMs);
  assert.deepEqual(c.owners(), []);
  assert.equal(c.nodes[0]!.e.quorum(), false);
  c.etcd.setDown(false);
  await run(c.clock, 1_000);
  assert.deepEqual(c.owners(), ['d1']);
});

test('no_quorum_policy freeze: etcd down, the owner keeps the group; nobody else takes it', async () => {
  const c = cluster(2, { policy: 'freeze' });
  for (const n of c.nodes) n.e.start();
  await run(c.clock, 1_000);
  c.etcd.setDown(true);
  await run(c.clock, 2 * c.options.ttlMs);
  assert.deepEqual(c.owners(), ['d1']);
  assert.equal(c.nodes[0]!.e.quorum(), false);
});

test('graceful stop (planned move) releases at once: the next node owns within one renew period', async () => {
  const c = cluster(2);
  for (const n of c.nodes) n.e.start();
  await run(c.clock, 1_000);
  void c.nodes[0]!.e.stop();
  const t0 = c.clock.now();
  await run(c.clock, 1_000, () => assert.ok(c.owners().length <= 1));
  assert.deepEqual(c.owners(), ['d2']);
  assert.ok(c.clock.now() - t0 <= 1_000);
});

test('an ineligible node resigns its group and the next one campaigns', async () => {
  const c = cluster(2);
  for (const n of c.nodes) n.e.start();
  await run(c.clock, 1_000);
  c.nodes[0]!.e.setEligible(G, false);
  await run(c.clock, 1_000);
  assert.deepEqual(c.owners(), ['d2']);
});

test('step: a node with no lease asks for one and campaigns for nothing', () => {
  const r = step(initialEtcdState(), { kind: 'groups', groups: [{ key: 'lease:a', delayMs: 0 }] }, 0, ETCD_DEFAULTS);
  assert.deepEqual(
    r.effects.filter((e) => e.kind !== 'arm').map((e) => e.kind),
    ['grant'],
  );
});

test('checkEtcdOptions: renewals must fit before the margin', () => {
  assert.equal(checkEtcdOptions(ETCD_DEFAULTS), null);
  assert.match(checkEtcdOptions({ ...ETCD_DEFAULTS, renewMs: 2_000 })!, /renew_interval/);
  assert.match(checkEtcdOptions({ ...ETCD_DEFAULTS, ttlMs: 2_500 })!, /whole seconds/);
  assert.match(checkEtcdOptions({ ...ETCD_DEFAULTS, marginMs: 0 })!, /safety_margin/);
});
