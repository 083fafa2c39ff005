import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configSchema } from '../config/schema.ts';
import { checkSpec, lbPlan, ownerOf } from './lb-plan.ts';

const cfg = (extra: Record<string, unknown>) =>
  configSchema.parse({
    vrrp: {
      instances: [
        { name: 'VI_1', interface: 'eth0', vrid: 51, vips: ['198.18.0.100/24'] },
        { name: 'VI_2', interface: 'eth0', vrid: 52, vips: [{ address: '198.18.0.101/24' }] },
      ],
      sync_groups: [{ name: 'G', members: ['VI_1', 'VI_2'] }],
    },
    ...extra,
  });

test('the owner is the named instance or sync group, else the instance holding the vip, else every node', () => {
  const c = cfg({});
  assert.deepEqual(ownerOf(c, { vip: '198.18.0.100' }), { kind: 'instance', name: 'VI_1' });
  assert.deepEqual(ownerOf(c, { vip: '198.18.0.101' }), { kind: 'instance', name: 'VI_2' });
  assert.deepEqual(ownerOf(c, { vip: '198.18.0.102' }), { kind: 'always' });
  assert.deepEqual(ownerOf(c, { vip: '198.18.0.102', owner: 'G' }), {
    kind: 'group',
    name: 'G',
    members: ['VI_1', 'VI_2'],
  });
});

test('real servers take the service port, checks default to the service check and aim at each server', () => {
  const plan = lbPlan(
    cfg({
      lb: {
        services: [
          {
            name: 'web',
            vip: '198.18.0.100',
            port: 80,
            persistence: {},
            sorry_server: '198.18.1.99:8080',
            check: { type: 'http', path: '/health', status: [200, '300-399'] },
            real_servers: [
              { address: '198.18.1.11' },
              { address: '198.18.1.12', port: 8080, weight: 3, check: false },
              { address: '198.18.1.13', check: { type: 'tcp', port: 81 } },
            ],
          },
        ],
      },
    }),
  );
  const sp = plan.services[0]!;
  assert.deepEqual(
    sp.svc.realServers.map((r) => `${r.addr}:${r.port}/${r.weight}`),
    ['198.18.1.11:80/1', '198.18.1.12:8080/3', '198.18.1.13:80/1'],
  );
  assert.deepEqual(sp.svc.persistence, { timeoutMs: 360_000, netmaskPrefix: 32 });
  assert.deepEqual(sp.svc.sorry, { addr: '198.18.1.99', port: 8080 });
  assert.deepEqual(
    sp.checks.map((c) => c.id),
    ['web/198.18.1.11:80', 'web/198.18.1.13:80'],
  );
  const http = sp.checks[0]!.check;
  assert.equal(http.kind, 'http');
  assert.ok(http.kind === 'http' && http.addr === '198.18.1.11' && http.port === 80 && http.path === '/health');
  assert.ok(http.kind === 'http' && http.statusCodes.length === 2 && http.statusCodes[1]!.to === 399);
  const tcp = sp.checks[1]!.check;
  assert.ok(tcp.kind === 'tcp' && tcp.port === 81 && tcp.intervalMs === 2000 && tcp.rise === 2 && tcp.fall === 3);
});

test('a script check uses its timeout, or the interval', () => {
  const c = checkSpec(
    {
      type: 'script',
      command: '/bin/true',
      dynamic: true,
      interval: 5000,
      rise: 1,
      fall: 1,
      retries: 0,
      delay_before_retry: 1000,
      start_down: false,
    },
    { addr: '198.18.1.11', port: 80, weight: 1 },
  );
  assert.ok(c.kind === 'script' && c.timeoutMs === 5000 && c.dynamic);
});

test('a script check keeps its user for the daemon to resolve', () => {
  const plan = lbPlan(
    cfg({
      lb: {
        services: [
          {
            name: 'db',
            vip: '198.18.0.100',
            port: 5432,
            check: { type: 'script', command: '/usr/local/bin/check_db', user: 'nobody' },
            real_servers: [{ address: '198.18.1.11' }],
          },
        ],
      },
    }),
  );
  assert.equal(plan.services[0]!.checks[0]!.user, 'nobody');
});
