/** A status DTO with every part filled (two instances, a service with three servers, a proxied service, a group). */
import type { DaemonStatus, LbServerStatus } from '../api/contract.ts';
import { VRRP_DROPS } from '../vrrp/types.ts';

const drops = (n = 0) =>
  Object.fromEntries(
    VRRP_DROPS.map((d, i) => [d, i === 0 ? n : 0]),
  ) as DaemonStatus['instances'][number]['counters']['drops'];

/** A real server of the sample. */
export function server(addr: string, over: Partial<LbServerStatus> = {}): LbServerStatus {
  return {
    key: `${addr}:80`,
    addr,
    port: 80,
    weight: 1,
    configuredWeight: 1,
    op: 'up',
    health: 'up',
    admin: {},
    weightOverride: null,
    origin: 'config',
    programmed: true,
    conns: { active: 2, inactive: 5 },
    check: { state: 'up', last: { code: 'L4OK', detail: 'connected', durationMs: 3 } },
    changed: { at: 0, cause: 'health', detail: 'health-up' },
    ...over,
  };
}

/** The sample status. */
export function sampleStatus(over: Partial<DaemonStatus> = {}): DaemonStatus {
  return {
    node: 'lb1',
    since: '2026-12-04T14:00:00.000Z',
    config: '/etc/tandem/tandem.yaml',
    configHash: 'sha256:aa',
    instances: [
      {
        name: 'VI_1',
        interface: 'eth0',
        vrid: 51,
        version: 3,
        family: 4,
        state: 'MASTER',
        priority: { configured: 150, override: null, effective: 150, trackers: [] },
        master: { self: true },
        source: '198.18.0.11',
        vips: ['198.18.0.100/32'],
        lastTransition: { at: '2026-12-04T14:00:03.000Z', from: 'BACKUP', to: 'MASTER', cause: 'master-down' },
        counters: { advertsSent: 40, advertsReceived: 2, drops: drops(1) },
        guard: {
          enabled: true,
          state: 'idle',
          rounds: 0,
          message: 'idle',
          counters: { engaged: 1, held: 0, takeovers: 1, fenced: 0, fenceFailed: 0 },
        },
      },
      {
        name: 'VI_2 "x"',
        interface: 'eth1',
        vrid: 52,
        version: 2,
        family: 4,
        state: 'BACKUP',
        priority: { configured: 100, override: 1, effective: 1, trackers: [] },
        master: { self: false, addr: '198.18.0.12', priority: 150 },
        source: '198.18.1.11',
        vips: ['198.18.1.100/24 dev eth1', '198.18.1.101/24'],
        lastTransition: null,
        counters: { advertsSent: 0, advertsReceived: 99, drops: drops() },
      },
    ],
    interfaces: [{ ifname: 'eth0', family: 4, received: 120, drops: { vrid: 3 } }],
    ownership: [{ group: 'VI_1', owned: true, token: 7, cause: 'master' }],
    lb: {
      services: [
        {
          name: 'web',
          vip: '198.18.0.100',
          port: 80,
          protocol: 'tcp',
          scheduler: 'wrr',
          method: 'nat',
          dataplane: 'nft',
          persistence: null,
          role: 'serving',
          note: null,
          owner: 'VI_1',
          quorum: 'up',
          sorry: null,
          servers: [
            server('198.18.2.1', { weight: 3, configuredWeight: 3 }),
            server('198.18.2.2', { weight: 0, op: 'draining', admin: { drain: 'cli' } }),
            server('198.18.2.3', {
              op: 'down',
              health: 'down',
              programmed: false,
              conns: { active: 0, inactive: 0 },
              check: { state: 'down', last: { code: 'L4CON', detail: 'connection refused', durationMs: 1.5 } },
            }),
          ],
        },
        {
          name: 'api',
          vip: '198.18.0.101',
          port: 8080,
          protocol: 'tcp',
          scheduler: 'rr',
          method: 'nat',
          dataplane: 'proxy',
          persistence: null,
          role: 'standby',
          note: null,
          owner: 'VI_1',
          quorum: 'down',
          sorry: null,
          servers: [server('198.18.3.1', { check: null })],
        },
      ],
      error: null,
      checks: { targets: 4, inFlight: 1, runs: 321 },
      proxy: {
        servers: [
          {
            service: 'api',
            server: '198.18.3.1:80',
            requests: { '2xx': 10, '5xx': 1, error: 2 },
            bytesIn: 900,
            bytesOut: 12000,
          },
        ],
        durations: [{ service: 'api', boundsMs: [5, 10, 100], cumulative: [4, 9, 11], sumMs: 77.5, count: 13 }],
      },
    },
    groups: [
      {
        name: 'db',
        phase: 'running',
        owned: true,
        token: 7,
        maintenance: false,
        banned: null,
        busy: null,
        resources: [
          { id: 'ip', agent: 'vip', status: 'started', failCount: 0, lastFailureAt: null, last: null },
          { id: 'pg', agent: 'lsb', status: 'failed', failCount: 2, lastFailureAt: 5, last: null },
        ],
      },
    ],
    peerChannel: { port: 7472, answered: 5, rejected: { hmac: 1 } },
    ...over,
  };
}
