import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../config/load.ts';
import { nodePlan } from '../plan/node-plan.ts';
import { type SimClusterOptions, simCluster } from '../sim/cluster.ts';
import type { GroupPort } from './ports.ts';

const CONFIG = `
cluster:
  nodes: [{ name: d1, address: 198.18.0.11 }, { name: d2, address: 198.18.0.12 }]
vrrp:
  scripts:
    chk: { command: /bin/true, weight: -60 }
  instances:
    - name: VI_1
      interface: eth0
      vrid: 51
      priority: { d1: 150, d2: 100 }
      vips: [198.18.0.100/24]
      track: { scripts: [{ name: chk }] }
      notify: { master: /etc/tandem/up.sh }
    - name: VI_2
      interface: eth0
      vrid: 52
      priority: { d1: 150, d2: 100 }
      vips: [198.18.0.101/24]
`;

const plan = (text: string, node: string) => {
  const r = loadConfig('/t.yaml', { read: () => text, glob: () => [] });
  assert.deepEqual(
    r.diagnostics.filter((d) => d.severity === 'error'),
    [],
  );
  return nodePlan(r.config!, node);
};

/** Two nodes d1 and d2 running `text`, on the one cluster harness (sim/cluster.ts). */
function cluster(text = CONFIG, extra: Partial<Pick<SimClusterOptions, 'groupRunner'>> = {}) {
  const c = simCluster({
    nodes: (['d1', 'd2'] as const).map((name, i) => ({
      name,
      primaryAddr: `198.18.0.${11 + i}`,
      instances: [],
      plan: plan(text, name),
    })),
    seed: 1,
    ...extra,
  });
  const handle = (name: 'd1' | 'd2') => ({
    name,
    daemon: c.node(name)!,
    deps: { log: { records: c.controls(name).log } },
    controls: c.controls(name),
  });
  return { clock: c.clock, network: c.network, hosts: c.hosts, d1: handle('d1'), d2: handle('d2') };
}

test('two daemons elect the higher priority; status tells state, priority, master and counters', () => {
  const c = cluster();
  c.clock.runFor(5_000);
  assert.deepEqual(c.hosts.holders('198.18.0.100'), ['d1']);
  const s2 = c.d2.daemon.status().instances.find((i) => i.name === 'VI_1')!;
  assert.equal(s2.state, 'BACKUP');
  assert.deepEqual(s2.master, { self: false, addr: '198.18.0.11', priority: 150 });
  assert.equal(s2.priority.effective, 100);
  assert.ok(s2.counters.advertsReceived >= 1);
  const s1 = c.d1.daemon.status().instances[0]!;
  assert.equal(s1.state, 'MASTER');
  assert.equal(s1.lastTransition?.cause, 'master-down');
  assert.ok(s1.counters.advertsSent >= 1);
  assert.ok(c.d1.deps.log.records.some((r) => r.msg === '(VI_1) Entering MASTER STATE (master-down, priority 150)'));
  assert.deepEqual(
    c.d1.controls.notifications.map((n) => `${n.name} ${n.state}`),
    ['VI_1 BACKUP', 'VI_1 MASTER'],
    'keepalived notifies every state, the startup BACKUP included; VI_2 has no notify script',
  );
});

test('a failing tracked script lowers the priority by its weight and the backup preempts; status says why', () => {
  const c = cluster();
  c.clock.runFor(5_000);
  c.d1.controls.setScript('chk', false);
  c.clock.runFor(5_000);
  assert.deepEqual(c.hosts.holders('198.18.0.100'), ['d2']);
  const t = c.d1.daemon.status().instances[0]!.priority;
  assert.equal(t.effective, 90);
  assert.deepEqual(
    t.trackers.find((x) => x.id === 'script:chk'),
    { id: 'script:chk', up: false, weight: -60, effect: 'subtracts' },
  );
  // The untracked VI_2 stays on d1.
  assert.deepEqual(c.hosts.holders('198.18.0.101'), ['d1']);
});

test('keepalived: the instance interface going down is FAULT; the backup takes over', () => {
  const c = cluster();
  c.clock.runFor(5_000);
  c.d1.controls.setLink('eth0', false);
  assert.equal(c.d1.daemon.status().instances[0]!.state, 'FAULT');
  c.clock.runFor(1_000);
  assert.deepEqual(c.hosts.holders('198.18.0.100'), ['d2']);
});

test('tandem standby hands over within Skew_Time and stays out; standby --clear lets the master preempt back', () => {
  const c = cluster();
  c.clock.runFor(5_000);
  const at = c.clock.now();
  assert.deepEqual(c.d1.daemon.standby('all'), ['VI_1', 'VI_2']);
  // d2 (priority 100) takes over after Skew_Time = (256 - 100) / 256 s.
  c.clock.runFor(700);
  // Make-before-break (docs/handover.md): d1 keeps the VIP for the linger after it hears d2's first advert.
  assert.deepEqual(c.hosts.holders('198.18.0.100'), ['d1', 'd2']);
  c.clock.runFor(500);
  assert.deepEqual(c.hosts.holders('198.18.0.100'), ['d2']);
  const took = c.d2.daemon.status().instances[0]!.lastTransition!;
  assert.equal(took.cause, 'master-down');
  assert.ok(Date.parse(took.at) - (1_800_000_000_000 + at) <= 610);
  c.clock.runFor(10_000);
  assert.deepEqual(c.hosts.holders('198.18.0.100'), ['d2'], 'standby sticks');
  c.d1.daemon.standby('all', true);
  c.clock.runFor(5_000);
  assert.deepEqual(c.hosts.holders('198.18.0.100'), ['d1']);
});

test('tandem takeover makes a backup master at once', () => {
  const c = cluster();
  c.clock.runFor(5_000);
  c.d2.daemon.takeover(['VI_2']);
  c.clock.runFor(50);
  // d1 keeps VI_2's VIP for the linger after it hears d2's advert at 255 (make-before-break), then lets it go.
  assert.deepEqual(c.hosts.holders('198.18.0.101'), ['d1', 'd2']);
  c.clock.runFor(500);
  assert.deepEqual(c.hosts.holders('198.18.0.101'), ['d2']);
  assert.deepEqual(c.hosts.holders('198.18.0.100'), ['d1']);
  assert.throws(() => c.d2.daemon.takeover(['VI_9']), /no instance VI_9 on this node \(running: VI_1, VI_2\)/);
});

test('reload: unchanged instances keep their state and VIPs untouched; changed restart; removed hand over', () => {
  const c = cluster();
  c.clock.runFor(5_000);
  const before = c.hosts.history.length;
  const same = c.d1.daemon.reload(plan(CONFIG, 'd1'));
  assert.deepEqual(same, { kept: ['VI_1', 'VI_2'], restarted: [], started: [], stopped: [] });
  c.clock.runFor(3_000);
  assert.equal(c.hosts.history.length, before, 'no address was touched');
  assert.equal(c.d1.daemon.status().instances[0]!.state, 'MASTER');

  const changed = CONFIG.replace('vips: [198.18.0.101/24]', 'vips: [198.18.0.102/24]').replace(
    / {4}- name: VI_1[\s\S]*?notify: \{ master: \/etc\/tandem\/up.sh \}\n/,
    '',
  );
  const s = c.d1.daemon.reload(plan(changed, 'd1'));
  assert.deepEqual(s, { kept: [], restarted: ['VI_2'], started: [], stopped: ['VI_1'] });
  c.clock.runFor(700);
  // VI_1 is gone from d1: it sent priority 0, so d2 (still on the old config) took over within Skew_Time.
  assert.deepEqual(c.hosts.holders('198.18.0.100'), ['d2']);
  const d2 = c.d2.daemon.reload(plan(changed, 'd2'));
  assert.deepEqual(d2.stopped, ['VI_1']);
  c.clock.runFor(5_000);
  // With both on the new config, VI_1 runs nowhere and VI_2 serves its new address from d1.
  assert.deepEqual(c.hosts.holders('198.18.0.100'), []);
  assert.deepEqual(c.hosts.holders('198.18.0.101'), []);
  assert.deepEqual(c.hosts.holders('198.18.0.102'), ['d1']);
});

test('stop: masters send priority 0 and remove their VIPs; the peer takes over within Skew_Time', () => {
  const c = cluster();
  c.clock.runFor(5_000);
  c.d1.daemon.stop();
  assert.deepEqual(c.hosts.held('d1'), []);
  c.clock.runFor(610);
  assert.deepEqual(c.hosts.holders('198.18.0.100'), ['d2']);
});

test('a resource group runs on its owner: owned on the MASTER only; a give-up faults the owner and the peer takes over', async () => {
  const text = `${CONFIG}
groups:
  - name: web
    owner: VI_1
    resources: [{ type: script, start: /bin/true, stop: /bin/true }]
`;
  const owners: Record<string, boolean[]> = { d1: [], d2: [] };
  const hooks: Record<string, { onGiveUp(g: string, r: string): void; onReclaim?(g: string, c: string): void }> = {};
  const c = cluster(text, {
    groupRunner:
      (name) =>
      (def, ctx): GroupPort => {
        hooks[name] = ctx.owner as (typeof hooks)[string];
        return {
          start: () => {},
          setOwner: (owned: boolean) => void owners[name]!.push(owned),
          shutdown: async () => {},
          abandon: () => {},
          status: () => ({ name: def.name }) as never,
          setMaintenance: () => {},
          cleanup: () => {},
        };
      },
  });
  const { clock, hosts } = c;
  const nodes = [c.d1.daemon, c.d2.daemon];
  clock.runFor(5_000);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(owners, { d1: [true], d2: [] });
  hooks.d1!.onGiveUp('web', 'start-failed');
  clock.runFor(5_000);
  await new Promise((r) => setImmediate(r));
  assert.equal(nodes[0]!.status().instances.find((i) => i.name === 'VI_1')!.state, 'FAULT');
  assert.deepEqual(hosts.holders('198.18.0.100'), ['d2']);
  assert.deepEqual(owners, { d1: [true, false], d2: [true] });
  hooks.d1!.onReclaim?.('web', 'failure-timeout');
  clock.runFor(5_000);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(hosts.holders('198.18.0.100'), ['d1'], 'reclaimed, the preferred node preempts again');
});

test("standby and takeover local|foreign pick instances by their preferred node, like hb_standby's", () => {
  const c = cluster();
  c.clock.runFor(5_000);
  assert.deepEqual(c.d1.daemon.standby('foreign'), []);
  assert.deepEqual(c.d2.daemon.standby('local'), []);
  assert.deepEqual(c.d2.daemon.takeover('foreign'), ['VI_1', 'VI_2']);
  c.clock.runFor(5_000);
  assert.deepEqual(c.hosts.holders('198.18.0.100'), ['d2']);
  assert.deepEqual(c.d1.daemon.standby('local', true), ['VI_1', 'VI_2']);
});
