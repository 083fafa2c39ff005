import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type SimNodeSpec, simCluster } from '../../src/sim/cluster.ts';
import { instanceConfig } from '../../src/sim/fixtures.ts';
import { node, VIP } from './nodes.ts';

// The same scenarios with the codec on the wire: every advert is encoded, carried as bytes, decoded and matched.

test('on the wire (v2, PASS auth): failover and return through the codec', () => {
  const auth = { type: 'pass', password: 'tandem' } as const;
  const c = simCluster({
    nodes: [node(1, { priority: 150, auth }), node(2, { priority: 100, auth })],
    seed: 41,
    wire: 'bytes',
  });
  c.runFor(10_000);
  assert.deepEqual(c.owners('VI_1'), ['d1']);
  c.stop('d1');
  c.runFor(1000);
  assert.deepEqual(c.vipHolders(VIP), ['d2']);
  c.start('d1');
  c.runFor(10_000);
  assert.deepEqual(c.vipHolders(VIP), ['d1']);
});

test('on the wire: a password mismatch is dropped as auth-mismatch, so both sides become master', () => {
  const c = simCluster({
    nodes: [
      node(1, { priority: 150, auth: { type: 'pass', password: 'one' } }),
      node(2, { priority: 100, auth: { type: 'pass', password: 'two' } }),
    ],
    seed: 42,
    wire: 'bytes',
  });
  const drops: string[] = [];
  c.events.on('drop', (e) => drops.push(`${e.node} ${e.reason}`));
  c.runFor(10_000);
  assert.deepEqual(c.owners('VI_1'), ['d1', 'd2']);
  assert.ok(drops.includes('d2 auth-mismatch') && drops.includes('d1 auth-mismatch'));
});

test('on the wire (v3): a backup learns the master’s 100 ms interval and takes over in 3 × 100 ms + skew', () => {
  const c = simCluster({
    nodes: [
      node(1, { version: 3, advertIntervalMs: 100, priority: 150 }),
      node(2, { version: 3, advertIntervalMs: 1000, priority: 100 }),
    ],
    seed: 43,
    wire: 'bytes',
  });
  c.runFor(10_000);
  assert.equal(c.instance('d2', 'VI_1')?.state.masterAdverIntervalMs, 100);
  c.kill('d1');
  const r = c.runUntil(() => c.owners('VI_1').includes('d2'), 400);
  assert.ok(r.ok && r.elapsedMs <= 300 + 60, `${r.elapsedMs} ms`);
});

test('on the wire (v3, IPv6): equal priorities elect the numerically higher link-local address', () => {
  const v6 = (n: number, addr: string): SimNodeSpec => ({
    name: `d${n}`,
    primaryAddr: `198.18.0.${n}`,
    addresses: [addr],
    instances: [instanceConfig({ family: 6, priority: 100 })],
  });
  const c = simCluster({ nodes: [v6(1, 'fe80::9'), v6(2, 'fe80::10')], seed: 44, wire: 'bytes' });
  c.runFor(10_000);
  assert.deepEqual(c.owners('VI_1'), ['d2']);
  assert.deepEqual(c.vipHolders('2001:db8::100'), ['d2']);
});

test('on the wire (unicast peers): adverts go to each peer only', () => {
  const uni = (n: number, priority: number, peers: string[]) =>
    node(n, { priority, unicastPeers: peers.map((p) => `198.18.0.${p}`) });
  const c = simCluster({
    nodes: [uni(1, 200, ['2', '3']), uni(2, 150, ['1', '3']), uni(3, 100, ['1', '2'])],
    seed: 45,
    wire: 'bytes',
  });
  c.runFor(10_000);
  assert.deepEqual(c.owners('VI_1'), ['d1']);
  assert.equal(c.network.stats.unroutable, 0);
  c.kill('d1');
  c.runFor(10_000);
  assert.deepEqual(c.owners('VI_1'), ['d2']);
  // The host of the killed daemon is still there (it answers ICMP to the takeover guard), so adverts to it are
  // delivered and dropped there: each of d2's adverts goes to both its peers, d1 and d3, as keepalived does.
  const sent = () => c.node('d2')!.status().instances[0]!.counters.advertsSent;
  const [s0, d0] = [sent(), c.network.stats.delivered];
  c.runFor(5_000);
  assert.ok(sent() > s0);
  assert.equal(c.network.stats.delivered - d0, 2 * (sent() - s0), 'd2 keeps advertising to the dead d1 too');
});
