// Split brain under simulated time (docs/split-brain.md): two directors from one YAML file, the takeover guard on or
// off, and the nemeses of the partition suite — VRRP dropped one way or both, a full partition, a pause of the master
// (SIGSTOP), a real master death (power off) — with the time two nodes held the VIP measured from the fake hosts'
// address history.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/load.ts';
import type { FencePort } from '../../src/node/ports.ts';
import { nodePlan } from '../../src/plan/node-plan.ts';
import { type SimCluster, simCluster } from '../../src/sim/cluster.ts';
import { masterDownIntervalMs } from '../../src/vrrp/timers.ts';

const VIP = '198.18.0.100';
const KEY_FILE = '/etc/tandem/cluster.key';

/** The two-director file; `instance` adds keys to VI_1, `top` adds top-level sections. */
function yaml(instance = '', top = '', cluster = `  key_file: ${KEY_FILE}\n`): string {
  return `cluster:
${cluster}  nodes: [{ name: d1, address: 198.18.0.1 }, { name: d2, address: 198.18.0.2 }]
vrrp:
  instances:
    - name: VI_1
      interface: eth0
      vrid: 51
      version: 3
      priority: { d1: 150, d2: 100 }
      advert_interval: 100ms
      vips: [${VIP}/24]
${instance}${top}`;
}

function cluster(text: string, opts: { fence?: (node: string) => FencePort | undefined; openPorts?: number[] } = {}) {
  const r = loadConfig('/etc/tandem/tandem.yaml', {
    read: (p) => (p === KEY_FILE ? `hex:${'11'.repeat(32)}` : text),
    glob: () => [],
  });
  assert.deepEqual(r.diagnostics, []);
  const node = (name: string, n: number) => ({
    name,
    primaryAddr: `198.18.0.${n}`,
    instances: [],
    plan: nodePlan(r.config!, name),
    ...(opts.openPorts ? { openPorts: opts.openPorts } : {}),
  });
  const c = simCluster({
    nodes: [node('d1', 1), node('d2', 2)],
    seed: 14,
    ...(opts.fence ? { fence: opts.fence } : {}),
  });
  const up = c.runUntil(() => c.owners('VI_1').join() === 'd1' && c.states('VI_1').d2 === 'BACKUP', 5_000);
  assert.ok(up.ok, c.formatTimeline());
  c.runFor(1_000); // d2 has heard d1's adverts: it knows its master
  return c;
}

const MDI = masterDownIntervalMs({ version: 3, priority: 100, advertIntervalMs: 100 }); // 360 ms
const guard = (c: SimCluster) => c.node('d2')!.status().instances[0]!.guard!;

/** Runs a nemesis for `ms` and heals it; returns the time with two VIP holders during and after it. */
function nemesis(c: SimCluster, ms: number, apply: () => void, heal: () => void) {
  const from = c.clock.now();
  apply();
  c.runFor(ms);
  heal();
  c.runFor(3_000);
  return c.hosts.overlap(VIP, from, c.clock.now());
}

test('guard: VRRP dropped one way on the backup’s input for 10 s: 0 ms with two VIP holders, the backup says why', () => {
  const c = cluster(yaml());
  const from = c.clock.now();
  c.dropVrrp('d1', 'd2');
  c.runFor(2_000);
  assert.equal(c.states('VI_1').d2, 'BACKUP');
  const g = guard(c);
  assert.equal(g.state, 'held');
  assert.equal(g.message, 'master 198.18.0.1 alive via peer channel; adverts lost');
  assert.equal(g.counters.engaged, 1);
  assert.ok(g.rounds > 10, `rechecked every advert interval (${g.rounds} rounds)`);
  c.runFor(8_000);
  c.restoreLinks();
  c.runFor(3_000);
  assert.deepEqual(c.hosts.overlap(VIP, from, c.clock.now()), { twoHoldersMs: 0, noHolderMs: 0 });
  assert.equal(guard(c).state, 'idle', 'adverts resumed: the guard let go');
  assert.ok(c.controls('d2').log.some((l) => /guard released \(adverts-resumed\)/.test(l.msg)));
});

test('plain VRRP (guard off): the same one-way drop gives two VIP holders for all but Master_Down_Interval', () => {
  const c = cluster(yaml('      guard: { enabled: false }\n'));
  const w = nemesis(
    c,
    10_000,
    () => c.dropVrrp('d1', 'd2'),
    () => c.restoreLinks(),
  );
  assert.ok(w.twoHoldersMs > 10_000 - MDI - 50 && w.twoHoldersMs <= 10_000, `two holders for ${w.twoHoldersMs} ms`);
});

test('guard: VRRP dropped both ways: both stay put (each side asks the other), 0 ms with two holders', () => {
  const c = cluster(yaml());
  const w = nemesis(
    c,
    10_000,
    () => c.dropVrrp('d1', 'd2', false),
    () => c.restoreLinks(),
  );
  assert.deepEqual(w, { twoHoldersMs: 0, noHolderMs: 0 });
});

test('guard: a keepalived-style master (no peer channel) is alive while its service port answers', () => {
  const c = cluster(yaml('      guard: { peer_channel: false, icmp: false, peer_probe: [80] }\n'), { openPorts: [80] });
  c.dropVrrp('d1', 'd2');
  c.runFor(2_000);
  assert.equal(guard(c).message, 'master 198.18.0.1 alive via tcp:80; adverts lost');
  assert.deepEqual(c.vipHolders(VIP), ['d1']);
});

test('guard: a real master death (power off) fails over at Master_Down_Interval, as plain VRRP does', () => {
  const times: Record<string, number> = {};
  for (const mode of ['plain', 'guard'] as const) {
    const c = cluster(yaml(mode === 'plain' ? '      guard: { enabled: false }\n' : ''));
    const t0 = c.clock.now();
    c.powerOff('d1');
    const r = c.runUntil(() => c.vipHolders(VIP).join() === 'd2', 5_000);
    assert.ok(r.ok);
    times[mode] = c.clock.now() - t0;
  }
  // The guard asks one deadline before Master_Down_Interval, so an unanswered round ends when plain VRRP takes over.
  assert.ok(times.plain! <= MDI + 5, JSON.stringify(times));
  assert.ok(times.guard! <= times.plain! + 5, JSON.stringify(times));
});

test('guard: a full partition cannot be told from a death: the backup takes over after the deadline (no fencing)', () => {
  const c = cluster(yaml());
  c.partition(['d1'], ['d2']);
  c.runFor(2_000);
  assert.deepEqual(c.owners('VI_1'), ['d1', 'd2']);
  assert.equal(guard(c).counters.takeovers, 1);
  assert.equal(c.node('d2')!.status().instances[0]!.lastTransition?.cause, 'master-down');
});

test('fencing: an unconfirmed death is fenced first; success powers the old master off, then the takeover', () => {
  const fenced: string[] = [];
  let c: SimCluster;
  const fence: FencePort = {
    run: (req, done) => {
      fenced.push(`${req.device}:${req.params.plug}`);
      c.powerOff('d1');
      done({ outcome: 'ok', code: 0, durationMs: 5, detail: 'Success: Powered OFF' });
    },
  };
  const devices = `fencing:\n  devices:\n    virsh: { agent: fence_virsh, params: { plug: { d1: vm-d1, d2: vm-d2 } } }\n`;
  c = cluster(yaml('      guard: { fence: virsh }\n', devices), { fence: () => fence });
  const from = c.clock.now();
  c.partition(['d1'], ['d2']);
  const r = c.runUntil(() => c.owners('VI_1').join() === 'd2', 5_000);
  assert.ok(r.ok, c.formatTimeline());
  assert.deepEqual(fenced, ['virsh:vm-d1']);
  assert.equal(c.node('d2')!.status().instances[0]!.lastTransition?.cause, 'fenced');
  c.runFor(1_000);
  assert.equal(c.hosts.overlap(VIP, from, c.clock.now()).twoHoldersMs, 0);
});

test('fencing: a failed fence means no takeover, a clear status and an error in the log; it retries later', () => {
  let runs = 0;
  const fence: FencePort = {
    run: (_req, done) => {
      runs++;
      done({ outcome: 'failed', code: 1, durationMs: 5, detail: 'exit 1: Failed: Unable to connect' });
    },
  };
  const devices = `fencing:\n  devices:\n    ipmi: { agent: fence_ipmilan, retry: 2s }\n`;
  const c = cluster(yaml('      guard: { fence: ipmi }\n', devices), { fence: () => fence });
  c.partition(['d1'], ['d2']);
  c.runFor(1_500);
  assert.equal(c.states('VI_1').d2, 'BACKUP');
  const g = guard(c);
  assert.equal(g.state, 'fence-failed', 'between retries too, while it rechecks');
  assert.equal(g.message, 'fencing 198.18.0.1 with ipmi failed (exit 1: Failed: Unable to connect); not taking over');
  assert.ok(c.controls('d2').log.some((l) => l.level === 'error' && /fence ipmi → d1: failed/.test(l.msg)));
  assert.equal(runs, 1);
  c.runFor(2_500);
  assert.equal(runs, 2, 'tried again after retry (2 s)');
  assert.equal(c.states('VI_1').d2, 'BACKUP');
});

test('pause: the master SIGSTOPped for 10 × Master_Down_Interval — guarded: nobody else takes the VIP; on waking it rejoins as BACKUP first', () => {
  const c = cluster(yaml());
  const from = c.clock.now();
  c.pause('d1');
  c.runFor(10 * MDI);
  assert.equal(c.states('VI_1').d2, 'BACKUP', 'the frozen host still answers ping: alive');
  assert.match(guard(c).message, /alive via icmp/);
  c.resume('d1');
  const d1 = c.timeline.filter((e) => e.node === 'd1' && e.at >= from);
  assert.equal(d1[0]?.cause, 'paused', c.formatTimeline());
  assert.ok(c.controls('d1').log.some((l) => /rejoining as BACKUP before acting as master/.test(l.msg)));
  c.runFor(3_000);
  assert.deepEqual(c.owners('VI_1'), ['d1'], 'd1 (priority 150) is master again, once it has heard the cluster');
  assert.equal(c.hosts.overlap(VIP, from, c.clock.now()).twoHoldersMs, 0);
});

test('pause: plain VRRP — the backup takes over during the pause; the woken master steps down instead of fighting', () => {
  const c = cluster(yaml('      guard: { enabled: false }\n'));
  const from = c.clock.now();
  c.pause('d1');
  c.runFor(2 * MDI);
  assert.deepEqual(c.owners('VI_1'), ['d1', 'd2'], 'd2 took over; the frozen d1 still thinks it is master');
  const during = c.hosts.overlap(VIP, from, c.clock.now()).twoHoldersMs;
  assert.ok(during > 0, 'the frozen master still holds its address: two holders while it sleeps');
  c.resume('d1');
  assert.deepEqual(c.vipHolders(VIP), ['d2'], 'on waking it drops the VIP before anything else');
  c.runFor(3_000);
  assert.deepEqual(c.owners('VI_1'), ['d1'], 'then preempts as a backup would');
});

test('a wall-clock step moves no VRRP timer', () => {
  const c = cluster(yaml());
  const before = c.timeline.length;
  c.stepWallClock('d1', -3_600_000);
  c.stepWallClock('d2', 86_400_000);
  c.runFor(5_000);
  assert.equal(c.timeline.length, before);
});

test('ping targets: a master that loses its weight-0 ping target cannot stay master; the backup takes over at once', () => {
  const top = `  track_pings:\n    gw: { targets: [198.18.0.254] }\n`;
  const text = yaml('      track: { pings: [{ name: gw }] }\n').replace('  instances:\n', `${top}  instances:\n`);
  const c = cluster(text);
  c.controls('d1').setPing('gw', false);
  const r = c.runUntil(() => c.owners('VI_1').join() === 'd2', 2_000);
  assert.ok(r.ok && r.elapsedMs < MDI, `priority 0 from the faulted master: a Skew_Time takeover (${r.elapsedMs} ms)`);
  assert.equal(c.states('VI_1').d1, 'FAULT');
  assert.ok(c.controls('d1').log.some((l) => /track_ping gw down/.test(l.msg)));
  c.controls('d1').setPing('gw', true);
  assert.ok(c.runUntil(() => c.owners('VI_1').join() === 'd1', 5_000).ok);
});

test('ping targets with a weight (ipfail): the node that reaches more targets holds the VIP', () => {
  const top = `  track_pings:\n    a: { targets: [198.18.0.253], weight: 51 }\n    b: { targets: [198.18.0.254], weight: 51 }\n`;
  const text = yaml('      track: { pings: [{ name: a }, { name: b }] }\n').replace(
    '  instances:\n',
    `${top}  instances:\n`,
  );
  const c = cluster(text);
  c.controls('d1').setPing('a', false); // d1 reaches one of two, d2 both: 150 + 51 < 100 + 102
  assert.ok(c.runUntil(() => c.owners('VI_1').join() === 'd2', 5_000).ok, c.formatTimeline());
  c.controls('d2').setPing('a', false); // equal connectivity: the preferred node wins again
  assert.ok(c.runUntil(() => c.owners('VI_1').join() === 'd1', 5_000).ok, c.formatTimeline());
});

test('guard: a master that still pings but dropped the VIP (its priority 0 was lost) does not hold the backup back', () => {
  // A keepalived-style master (no peer channel): ICMP says the host is up; the VIP probe says nobody holds the address.
  const c = cluster(yaml('      guard: { peer_channel: false }\n      track: { interfaces: [{ name: eth1 }] }\n'));
  c.dropVrrp('d1', 'd2');
  c.controls('d1').setLink('eth1', false); // d1 goes FAULT, sends priority 0 (lost), removes the VIP
  const r = c.runUntil(() => c.owners('VI_1').join() === 'd2', 2_000);
  assert.ok(r.ok, c.formatTimeline());
  assert.ok(r.elapsedMs <= MDI + 5, `within Master_Down_Interval (${r.elapsedMs} ms)`);
  assert.ok(
    c.controls('d2').log.some((l) => /nobody answers for 198\.18\.0\.100: the old master does not hold it/.test(l.msg)),
  );
});
