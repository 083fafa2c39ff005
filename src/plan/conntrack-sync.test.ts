import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../config/load.ts';
import { conntrackSyncPlan } from './conntrack-sync.ts';

const yaml = (sync: string) => `
cluster:
  nodes: [{ name: d1, address: 198.18.0.11 }, { name: d2, address: 198.18.0.12 }]
vrrp:
  instances:
    - { name: VI_1, interface: eth0, vrid: 1, priority: { d1: 150, d2: 100 }, vips: [198.18.0.100/24] }
lb:
${sync}
  services:
    - { name: web, vip: 198.18.0.100, port: 80, real_servers: [{ address: 198.18.3.21 }] }
`;

function load(text: string) {
  const r = loadConfig('/t.yaml', { read: () => text, glob: () => [] });
  return r;
}

test('conntrack_sync: each node syncs with the other; the owner is the first nft service owner', () => {
  const r = load(yaml('  conntrack_sync: { interface: sync0, addresses: { d1: 198.18.1.11, d2: 198.18.1.12 } }'));
  assert.deepEqual(r.diagnostics, []);
  const p = conntrackSyncPlan(r.config!, 'd2');
  assert.deepEqual(p, {
    interface: 'sync0',
    address: '198.18.1.12',
    peer: '198.18.1.11',
    port: 3780,
    ignore: ['198.18.0.11', '198.18.0.12'],
    owner: { kind: 'instance', name: 'VI_1' },
    binary: '/usr/sbin/conntrackd',
  });
  assert.equal(conntrackSyncPlan(r.config!, 'd3'), undefined);
});

test('conntrack_sync: three addresses, an unknown node or owner are errors at their path', () => {
  const r = load(
    yaml(
      '  conntrack_sync: { interface: sync0, owner: VI_9, addresses: { d1: 198.18.1.11, d2: 198.18.1.12, d9: 198.18.1.19 } }',
    ),
  );
  assert.deepEqual(
    r.diagnostics.map((d) => `${d.severity} ${d.code} ${d.path}`),
    [
      'error TND_CFG_UNKNOWN_REF lb.conntrack_sync.owner',
      'error TND_CFG_RANGE lb.conntrack_sync.addresses',
      'error TND_CFG_UNKNOWN_REF lb.conntrack_sync.addresses.d9',
    ],
  );
});
