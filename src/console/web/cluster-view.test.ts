import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InstanceStatus } from '../../api/contract.ts';
import { mastersOf, namesByAddress, normalizeCluster, priorityWhy } from './cluster-view.ts';

const status = (node: string, state: string) => ({ node, instances: [{ name: 'VI_1', state }] });

test('the cluster reply, as a list or as {nodes}, becomes one view per node; an unreachable node keeps its error', () => {
  const body = [
    { name: 'd1', url: 'https://198.18.0.11:7946', self: true, reachable: true, status: status('d1', 'MASTER') },
    { name: 'd2', url: 'https://[2001:db8::12]:7946', self: false, reachable: false, error: 'ECONNREFUSED' },
  ];
  for (const reply of [body, { nodes: body }]) {
    const v = normalizeCluster(reply, null);
    assert.deepEqual(
      v.map((n) => [n.name, n.address, n.reachable, n.self, n.error]),
      [
        ['d1', '198.18.0.11', true, true, null],
        ['d2', '2001:db8::12', false, false, 'ECONNREFUSED'],
      ],
    );
    assert.deepEqual(mastersOf(v, 'VI_1'), ['d1']);
    assert.deepEqual(namesByAddress(v), { '198.18.0.11': 'd1', '2001:db8::12': 'd2' });
  }
});

test('why a priority is what it is: the override and every tracker that counts', () => {
  const i = {
    priority: {
      configured: 150,
      override: 1,
      effective: 1,
      trackers: [
        { id: 'eth1', up: false, weight: -20, effect: 'subtracts' },
        { id: 'chk', up: true, weight: 0, effect: 'none' },
      ],
    },
  } as unknown as InstanceStatus;
  assert.equal(priorityWhy(i), 'configured 150, standby → 1, eth1 down −20');
});
