import assert from 'node:assert/strict';
import { test } from 'node:test';
import { groupSchema } from '../config/schema-groups.ts';
import { createGroupRunner, groupResources } from '../resources/agents/index.ts';
import { fakeDeps, fakeRunner } from '../resources/agents/test-support.ts';
import { SimClock } from '../sim/sim-clock.ts';
import { groupDef, ocfInstance, resourceIds } from './groups.ts';

const spec = groupSchema.parse({
  name: 'web',
  owner: 'VI_1',
  migration_threshold: 2,
  failure_timeout: '5m',
  resources: [
    { type: 'vip', address: '198.18.0.100/24' },
    { type: 'fs', device: '/dev/sdb1', directory: '/srv', fstype: 'ext4' },
    { type: 'ocf', agent: 'heartbeat:Dummy', params: { state: '/run/a' } },
    { type: 'ocf', agent: 'heartbeat:Dummy', id: 'second', start_timeout: '1s' },
    { type: 'ocf', agent: 'heartbeat:Dummy' },
    { type: 'lsb', script: '/etc/init.d/httpd', args: ['a'] },
    { type: 'service', unit: 'nginx', monitor_interval: 0 },
    { type: 'script', start: 'up', stop: 'down' },
    { type: 'lb', services: ['web', 'api'] },
  ],
});

test('resource ids: the id, else the main parameter, numbered when two would clash', () => {
  assert.deepEqual(resourceIds(spec.resources), [
    '198.18.0.100/24',
    '/srv',
    'Dummy-3',
    'second',
    'Dummy-5',
    'httpd',
    'nginx',
    'script',
    'web+api',
  ]);
  assert.equal(ocfInstance('web', '/srv'), 'web-_srv');
});

test('groupResources builds one agent per spec with its timeouts and interval', () => {
  const rs = groupResources(groupDef(spec), {
    ...fakeDeps(fakeRunner(() => ({ exit: 0 })).run),
    defaultInterface: 'eth0',
  });
  assert.deepEqual(
    rs.map((r) => r.agent.describe()),
    [
      'vip:198.18.0.100/24@eth0',
      'fs:/dev/sdb1 on /srv (ocf:heartbeat:Filesystem)',
      'ocf:heartbeat:Dummy',
      'ocf:heartbeat:Dummy',
      'ocf:heartbeat:Dummy',
      'lsb:/etc/init.d/httpd a',
      'service:nginx (service)',
      'script:up',
      'lb:web,api',
    ],
  );
  assert.equal(rs[3]!.startTimeoutMs, 1_000);
  assert.equal(rs[0]!.stopTimeoutMs, 20_000);
  assert.equal(rs[6]!.monitorIntervalMs, 0);
  assert.equal(rs[0]!.monitorIntervalMs, 10_000);
});

test('createGroupRunner takes migration_threshold, failure_timeout and maintenance from the spec', () => {
  const g = createGroupRunner(groupDef({ ...spec, maintenance: true }), fakeDeps(fakeRunner(() => ({ exit: 0 })).run), {
    clock: new SimClock(),
    owner: { onGiveUp: () => undefined },
  });
  assert.equal(g.name, 'web');
  assert.equal(g.status().phase, 'maintenance');
  assert.equal(g.status().resources.length, 9);
});
