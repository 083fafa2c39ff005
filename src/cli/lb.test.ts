import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LbStatus } from '../api/contract.ts';
import { formatLbTable } from './lb.ts';

test('the table reads like ipvsadm -ln, with state and health on the right', () => {
  const lb: LbStatus = {
    error: null,
    checks: { targets: 2, inFlight: 0, runs: 10 },
    services: [
      {
        name: 'web',
        vip: '198.18.0.100',
        port: 80,
        protocol: 'tcp',
        scheduler: 'rr',
        method: 'nat',
        dataplane: 'nft',
        persistence: { timeoutMs: 300_000, netmaskPrefix: 24 },
        role: 'serving',
        note: null,
        owner: 'instance VI_1',
        quorum: 'up',
        sorry: { addr: '198.18.1.99', port: 80, active: false },
        servers: [
          {
            key: '198.18.1.11:80',
            addr: '198.18.1.11',
            port: 80,
            weight: 1,
            configuredWeight: 1,
            op: 'up',
            health: 'up',
            admin: {},
            weightOverride: null,
            origin: 'config',
            programmed: true,
            conns: { active: 3, inactive: 12 },
            check: { state: 'up', last: { code: 'L7OK', detail: 'HTTP 200', durationMs: 2 } },
            changed: { at: 0, cause: 'config', detail: 'initial' },
          },
          {
            key: '198.18.1.12:80',
            addr: '198.18.1.12',
            port: 80,
            weight: 0,
            configuredWeight: 2,
            op: 'draining',
            health: 'up',
            admin: { drain: 'cli' },
            weightOverride: null,
            origin: 'config',
            programmed: true,
            conns: { active: 1, inactive: 0 },
            check: null,
            changed: { at: 0, cause: 'cli', detail: 'drain' },
          },
        ],
      },
    ],
  };
  const lines = formatLbTable(lb);
  assert.equal(lines[0], 'Prot LocalAddress:Port Scheduler Flags');
  assert.match(lines[2]!, /^TCP {2}198\.18\.0\.100:80 rr persistent 300 mask \/24 {3}# web: serving here \(nft\)/);
  assert.match(lines[3]!, /^ {2}-> 198\.18\.1\.11:80 +Masq +1 +3 +12 +up +up L7OK HTTP 200$/);
  assert.match(lines[4]!, /-> 198\.18\.1\.12:80 +Masq +0 +1 +0 +draining +up \(no check\) {2}\[drain by cli\]$/);
  assert.match(lines[5]!, /-> 198\.18\.1\.99:80 +sorry server$/);
});
