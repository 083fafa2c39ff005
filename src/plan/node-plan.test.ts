import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../config/load.ts';
import { nodePlan } from './node-plan.ts';

const load = (text: string) => {
  const r = loadConfig('/t.yaml', { read: () => text, glob: () => [] });
  assert.deepEqual(r.diagnostics, []);
  return r.config!;
};

const CLUSTER = `
cluster:
  nodes: [{ name: d1, address: 198.18.0.11 }, { name: d2, address: 198.18.0.12 }, { name: d3, address: 198.18.0.13 }]
vrrp:
  scripts:
    chk: { command: /bin/true, weight: -20 }
  instances:
    - name: VI_1
      interface: eth0
      vrid: 51
      priority: { d1: 150, d2: 100 }
      vips: [198.18.0.100/24, { address: 198.18.0.101/24, dev: eth1, label: "eth1:1" }]
      unicast: { peers: [198.18.0.11, 198.18.0.12] }
      track: { scripts: [{ name: chk }] }
    - name: VI_2
      interface: eth0
      vrid: 52
      vips: ["2001:db8::1/64"]
      track: { scripts: [{ name: chk }], interfaces: [{ name: eth1, weight: 10 }] }
    - name: VI_3
      interface: eth0
      vrid: 53
      vips: [198.18.0.103]
      track: { scripts: [{ name: chk }] }
  sync_groups:
    - { name: G, members: [VI_2, VI_3] }
`;

test('one cluster file gives each node its own priority, and a per-node map limits where an instance runs', () => {
  const cfg = load(CLUSTER);
  const d1 = nodePlan(cfg, 'd1');
  const d3 = nodePlan(cfg, 'd3');
  assert.equal(d1.instances.find((i) => i.name === 'VI_1')?.priority, 150);
  assert.equal(nodePlan(cfg, 'd2').instances.find((i) => i.name === 'VI_1')?.priority, 100);
  assert.deepEqual(
    d3.instances.map((i) => i.name),
    ['VI_2', 'VI_3'],
  );
  assert.equal(d1.address, '198.18.0.11');
});

test('a node never lists itself among its unicast peers, and its unicast source defaults to its address', () => {
  const vi1 = nodePlan(load(CLUSTER), 'd1').instances[0]!;
  assert.deepEqual(vi1.unicastPeers, ['198.18.0.12']);
  assert.equal(vi1.unicastSrc, '198.18.0.11');
});

test('addresses keep prefix, device and label; the family follows the addresses', () => {
  const [vi1, vi2] = nodePlan(load(CLUSTER), 'd1').instances;
  assert.deepEqual(vi1!.vips, [
    { addr: '198.18.0.100', prefix: 24 },
    { addr: '198.18.0.101', prefix: 24, dev: 'eth1', label: 'eth1:1' },
  ]);
  assert.equal(vi1!.family, 4);
  assert.equal(vi2!.family, 6);
  assert.deepEqual(vi2!.vips, [{ addr: '2001:db8::1', prefix: 64 }]);
});

test('trackers take the script weight; keepalived: in a sync group weights are ignored unless tracking_weight', () => {
  const cfg = load(CLUSTER);
  const [vi1, vi2] = nodePlan(cfg, 'd1').instances;
  assert.deepEqual(vi1!.trackers, [
    { id: 'interface:eth0', weight: 0, reverse: false },
    { id: 'script:chk', weight: -20, reverse: false },
  ]);
  assert.deepEqual(
    vi2!.trackers.map((t) => [t.id, t.weight]),
    [
      ['interface:eth0', 0],
      ['interface:eth1', 0],
      ['script:chk', 0],
    ],
  );
  const weighted = load(
    CLUSTER.replace('{ name: G, members: [VI_2, VI_3] }', '{ name: G, members: [VI_2, VI_3], tracking_weight: true }'),
  );
  assert.deepEqual(
    nodePlan(weighted, 'd1').instances[1]!.trackers.map((t) => [t.id, t.weight]),
    [
      ['interface:eth0', 0],
      ['interface:eth1', 10],
      ['script:chk', -20],
    ],
  );
});

test('keepalived: an instance is FAULT while its own interface is down, unless track_primary is off', () => {
  const plan = nodePlan(load(CLUSTER), 'd1');
  assert.deepEqual(plan.interfaces, ['eth0', 'eth1']);
  assert.deepEqual(Object.keys(plan.scripts), ['chk']);
  const off = load(CLUSTER.replace('vrid: 53', 'vrid: 53\n      track_primary: false'));
  assert.deepEqual(
    nodePlan(off, 'd1').instances[2]!.trackers.map((t) => t.id),
    ['script:chk'],
  );
});
