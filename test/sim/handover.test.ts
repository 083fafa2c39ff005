// Make-before-break planned handover (docs/handover.md) under simulated time: a client probing the VIP every 10 ms
// (src/sim/client.ts: its ARP entry follows gratuitous ARPs) sees no failed request when the master is put in
// standby, when the backup takes over, on a graceful stop (SIGTERM), and when a higher-priority master comes back;
// the same client does see failures with the old break-before-make release, so the model can tell them apart.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SimClient } from '../../src/sim/client.ts';
import { simCluster } from '../../src/sim/cluster.ts';
import { handoverDeadlineMs, handoverLingerMs } from '../../src/vrrp/machine.ts';
import { masterDownIntervalMs, skewTimeMs } from '../../src/vrrp/timers.ts';
import { node, VIP } from './nodes.ts';

const ADVERTS = [100, 20] as const;

function pair(advertIntervalMs: number, seed: number) {
  const c = simCluster({
    nodes: [
      node(1, { version: 3, advertIntervalMs, priority: 150 }),
      node(2, { version: 3, advertIntervalMs, priority: 100 }),
    ],
    seed,
  });
  c.runFor(5_000);
  assert.deepEqual(c.owners('VI_1'), ['d1']);
  return c;
}

const handovers = (c: ReturnType<typeof pair>, node: string) => {
  const out: { phase: string; reason?: string; newMaster?: string; elapsedMs: number }[] = [];
  c.events.on('handover', (e) => {
    if (e.node === node)
      out.push({
        phase: e.phase,
        elapsedMs: e.elapsedMs,
        ...(e.reason ? { reason: e.reason } : {}),
        ...(e.newMaster ? { newMaster: e.newMaster } : {}),
      });
  });
  return out;
};

for (const advert of ADVERTS) {
  test(`tandem standby at ${advert} ms adverts: 0 failed requests; d1 lets the VIP go the linger after d2's first advert`, () => {
    const c = pair(advert, 1);
    const h = handovers(c, 'd1');
    const client = new SimClient(c, VIP);
    const r = client.run(2_000, () => c.node('d1')!.standby('all'));
    assert.equal(r.failed, 0, JSON.stringify(r));
    assert.equal(r.noHolderMs, 0, 'some host held the VIP all the time');
    assert.deepEqual(c.owners('VI_1'), ['d2']);
    assert.deepEqual(c.vipHolders(VIP), ['d2']);
    assert.equal(client.target, 'd2', "the client's ARP entry moved with d2's gratuitous ARP");
    // d2 takes over after its Skew_Time (priority 0), d1 hears its advert 1 ms later and keeps the VIP for the linger.
    const skew = skewTimeMs({ version: 3, priority: 100, masterAdverIntervalMs: advert });
    assert.deepEqual(
      h.map((e) => e.phase),
      ['started', 'new-master', 'released'],
    );
    assert.equal(h[1]?.newMaster, '198.18.0.2');
    assert.ok(h[1]!.elapsedMs <= 1 + skew + 1, `${h[1]!.elapsedMs} ms`);
    assert.equal(h[2]?.reason, 'new-master');
    // Both held it from d2's takeover until the linger after its advert reached d1 (one 1 ms hop).
    assert.equal(r.twoHoldersMs, 1 + handoverLingerMs(advert));
    assert.equal(c.instance('d1', 'VI_1')?.state.state, 'BACKUP');
  });

  test(`tandem takeover at ${advert} ms adverts: 0 failed requests`, () => {
    const c = pair(advert, 2);
    const r = new SimClient(c, VIP).run(2_000, () => c.node('d2')!.takeover('all'));
    assert.equal(r.failed, 0, JSON.stringify(r));
    assert.equal(r.noHolderMs, 0);
    assert.deepEqual(c.owners('VI_1'), ['d2']);
    assert.deepEqual(c.vipHolders(VIP), ['d2']);
  });

  test(`graceful stop (SIGTERM) at ${advert} ms adverts: 0 failed requests; d1 stops once d2 has the VIP`, async () => {
    const c = pair(advert, 3);
    let stopped = false;
    const r = new SimClient(c, VIP).run(2_000, () => {
      void c.handOver('d1').then(() => {
        stopped = true;
      });
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(r.failed, 0, JSON.stringify(r));
    assert.equal(r.noHolderMs, 0);
    assert.ok(stopped, 'the stop finished');
    assert.equal(c.isUp('d1'), false);
    assert.deepEqual(c.vipHolders(VIP), ['d2']);
  });

  test(`preemption back at ${advert} ms adverts: the returning master takes over with 0 failed requests`, () => {
    const c = pair(advert, 4);
    c.kill('d1');
    c.runFor(5_000);
    assert.deepEqual(c.owners('VI_1'), ['d2']);
    const client = new SimClient(c, VIP);
    assert.equal(client.target, 'd2');
    const r = client.run(3_000, () => c.restart('d1'));
    assert.equal(r.failed, 0, JSON.stringify(r));
    assert.equal(r.noHolderMs, 0);
    assert.deepEqual(c.owners('VI_1'), ['d1']);
    assert.deepEqual(c.vipHolders(VIP), ['d1']);
    assert.deepEqual(Object.keys(r.who).sort(), ['d1', 'd2']);
  });
}

test('the client model fails requests when the old master lets go first (break-before-make, the plain priority-0 stop)', () => {
  const c = pair(100, 5);
  const r = new SimClient(c, VIP).run(2_000, () => c.stop('d1'));
  // No host holds the VIP from the stop until d2's Skew_Time has passed.
  const skew = skewTimeMs({ version: 3, priority: 100, masterAdverIntervalMs: 100 });
  assert.ok(r.failed >= Math.floor(skew / 10), JSON.stringify(r));
  assert.ok(r.noHolderMs >= skew);
});

test('a lost priority 0 costs one advert interval, not Master_Down_Interval: the leaving master repeats it', () => {
  const c = pair(100, 6);
  c.dropVrrp('d1', 'd2');
  const start = c.clock.now();
  c.node('d1')!.standby('all');
  c.runFor(50);
  c.restoreLinks();
  const r = new SimClient(c, VIP).run(2_000);
  assert.equal(r.failed, 0, JSON.stringify(r));
  const took = c.timeline.find((e) => e.node === 'd2' && e.to === 'MASTER')!;
  const skew = skewTimeMs({ version: 3, priority: 100, masterAdverIntervalMs: 100 });
  assert.ok(took.at - start <= 100 + 1 + skew, `${took.at - start} ms`);
  assert.ok(took.at - start < masterDownIntervalMs({ version: 3, priority: 100, masterAdverIntervalMs: 100 }));
});

test('no new master by the deadline: a lone master in standby releases anyway, then takes the VIP back', () => {
  const c = simCluster({ nodes: [node(1, { version: 3, advertIntervalMs: 100, priority: 150 })], seed: 7 });
  c.runFor(5_000);
  const h = handovers(c, 'd1');
  c.node('d1')!.standby('all');
  c.runFor(handoverDeadlineMs(c.instance('d1', 'VI_1')!.config) - 1);
  assert.deepEqual(c.vipHolders(VIP), ['d1'], 'held until the deadline');
  c.runFor(1);
  assert.deepEqual(c.vipHolders(VIP), []);
  assert.deepEqual(
    h.map((e) => [e.phase, e.reason]),
    [
      ['started', undefined],
      ['released', 'deadline'],
    ],
  );
  c.runFor(2_000);
  assert.deepEqual(c.vipHolders(VIP), ['d1'], 'alone, it is master again');
});
