/**
 * The etcd issue's part of the partition suite: two modes with a three-member etcd cluster (hosts e1..e3, started by
 * the mode's setup from Debian's etcd, data in the run's directory) and three nemeses that act on etcd.
 * - mode `etcd`: `election: etcd`, three directors, no VRRP; the group `web` owns the VIP with a vip resource.
 * - mode `vrrp+etcd`: the plain VRRP pair with etcd as quorum witness (`no_quorum_policy: stop`).
 * - nemeses: `etcd-cut` (nft in the master's namespace drops its etcd traffic), `etcd-member` (one member SIGKILLed,
 *   restarted after the fault), `etcd-quorum` (two members SIGKILLed: no quorum; restarted after the fault).
 * Kept apart from partition-modes.ts and nemesis.ts, which only list these.
 */
import { writeFileSync } from 'node:fs';
import { type EtcdCluster, etcdUnavailable, startLabEtcd } from './etcd-lab.ts';
import type { Lab } from './lab.ts';
import type { ConfigContext, Mode, Nemesis, NemesisContext } from './partition-types.ts';

/** The etcd members' hosts and addresses. */
export const ETCD_HOSTS: Readonly<Record<string, string>> = { e1: '198.18.0.21', e2: '198.18.0.22', e3: '198.18.0.23' };

/** Lease timing of the suite's etcd modes: TTL 2 s (etcd's floor), renew 250 ms, margin 750 ms. */
export const LEASE = { ttl: '2s', renew: '250ms', margin: '750ms', timeout: '250ms', ttlMs: 2_000, renewMs: 250 };

/** The etcd cluster of each running lab, for the nemeses. */
const clusters = new Map<string, EtcdCluster>();

const endpoints = () =>
  `[${Object.values(ETCD_HOSTS)
    .map((a) => `http://${a}:2379`)
    .join(', ')}]`;

function etcdBlock(policy: string): string {
  return `etcd:
  endpoints: ${endpoints()}
  prefix: /t16
  lease_ttl: ${LEASE.ttl}
  renew_interval: ${LEASE.renew}
  safety_margin: ${LEASE.margin}
  request_timeout: ${LEASE.timeout}
  no_quorum_policy: ${policy}
`;
}

function nodes(ctx: ConfigContext): string {
  return ctx.topo.directors.map((d) => `{ name: ${d}, address: ${ctx.topo.addrs[d]} }`).join(', ');
}

/** `election: etcd`: a group with the VIP as a vip resource, decided by a lease. */
export function etcdYaml(ctx: ConfigContext, policy = 'stop'): string {
  return `cluster:
  name: t16
  nodes: [${nodes(ctx)}]
election: etcd
${etcdBlock(policy)}groups:
  - name: web
    owner: web
    resources:
      - { type: vip, address: ${ctx.topo.vip}/24, interface: eth0 }
`;
}

/** `election: vrrp+etcd`: the plain pair's instance, with etcd as witness. */
export function witnessYaml(ctx: ConfigContext, priority: (host: string) => number, policy = 'stop'): string {
  const prio = ctx.topo.directors.map((d) => `${d}: ${priority(d)}`).join(', ');
  return `cluster:
  name: t16
  nodes: [${nodes(ctx)}]
election: vrrp+etcd
${etcdBlock(policy)}vrrp:
  instances:
    - name: VI_1
      interface: eth0
      vrid: 51
      version: 3
      priority: { ${prio} }
      advert_interval: ${ctx.params.advertMs}ms
      vips: [${ctx.topo.vip}/24]
      guard: { enabled: false }
`;
}

async function setup(lab: Lab, dir: string): Promise<void> {
  const c = await startLabEtcd(lab, Object.keys(ETCD_HOSTS), dir);
  clusters.set(lab.id, c);
}

const isEtcd = (m: Mode) => m.name === 'etcd' || m.name === 'vrrp+etcd';

/** The etcd modes, given how the suite generates priorities. */
export function etcdModes(
  tandemRejects: (mode: string, ctx: Omit<ConfigContext, 'dir'>, gen: (c: ConfigContext) => string) => string | null,
  priorityOf: (ctx: ConfigContext, host: string) => number,
): Mode[] {
  const gate = (name: string, gen: (c: ConfigContext) => string) => (impl: string, ctx: Omit<ConfigContext, 'dir'>) =>
    impl !== 'tandem' ? `${name} is tandem only` : (etcdUnavailable() ?? tandemRejects(name, ctx, gen));
  const etcdGen = (c: ConfigContext) => etcdYaml(c);
  const witnessGen = (c: ConfigContext) => witnessYaml(c, (h) => priorityOf(c, h));
  return [
    {
      name: 'etcd',
      describe: `election: etcd, three directors, no VRRP; lease TTL ${LEASE.ttl}, renew ${LEASE.renew}, margin ${LEASE.margin}; policy stop`,
      implementations: ['tandem'],
      directors: ['d1', 'd2', 'd3'],
      extraHosts: ETCD_HOSTS,
      config: (_impl, _host, ctx) => ({ text: etcdGen(ctx), ext: 'yaml' }),
      unavailable: gate('etcd', etcdGen),
      setup,
      declines: (n) => (n.startsWith('vrrp-') ? 'no VRRP runs under election: etcd' : null),
    },
    {
      name: 'vrrp+etcd',
      describe: 'the plain VRRP pair (no guard) with etcd as quorum witness: a master must hold the lease; policy stop',
      implementations: ['tandem'],
      extraHosts: ETCD_HOSTS,
      config: (_impl, _host, ctx) => ({ text: witnessGen(ctx), ext: 'yaml' }),
      unavailable: gate('vrrp+etcd', witnessGen),
      setup,
    },
  ];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const TABLE = 't16_nemesis';

/** The master cut off from etcd: nft in its namespace drops TCP to and from the members' client port. */
const etcdCut: Nemesis = {
  name: 'etcd-cut',
  describe: "the master's traffic to and from etcd (TCP 2379) dropped by nft in its namespace; the segment flows",
  masterHealthy: false,
  durationMs: (p) => p.faultMs,
  unavailable: (mode) => (isEtcd(mode) ? null : 'no etcd in this mode'),
  async run(ctx: NemesisContext) {
    const set = `{ ${Object.values(ETCD_HOSTS).join(', ')} }`;
    const file = ctx.file('etcd-cut.nft');
    writeFileSync(
      file,
      `table ip ${TABLE} {\n  chain output {\n    type filter hook output priority -300; policy accept;\n` +
        `    ip daddr ${set} tcp dport 2379 drop\n  }\n  chain input {\n` +
        `    type filter hook input priority -300; policy accept;\n    ip saddr ${set} tcp sport 2379 drop\n  }\n}\n`,
    );
    const host = ctx.master.host;
    const from = Date.now();
    await ctx.lab.run(host, 'nft', ['-f', file]);
    try {
      await sleep(ctx.params.faultMs);
    } finally {
      await ctx.lab.run(host, 'nft', ['delete', 'table', 'ip', TABLE]);
    }
    return [{ from, to: Date.now() }];
  },
};

/** `n` etcd members SIGKILLed for the fault's time, then restarted (they rejoin with their data). */
function etcdKill(name: string, n: number, describe: string): Nemesis {
  return {
    name,
    describe,
    // Losing etcd members is not the master's fault: a takeover while one member is down is a false failover.
    masterHealthy: n < 2,
    durationMs: (p) => p.faultMs,
    unavailable: (mode) => (isEtcd(mode) ? null : 'no etcd in this mode'),
    async run(ctx: NemesisContext) {
      const c = clusters.get(ctx.lab.id);
      if (!c) throw new Error(`${name}: no etcd cluster in lab ${ctx.lab.id}`);
      const victims = c.members.slice(0, n).map((m) => m.name);
      const from = Date.now();
      try {
        for (const v of victims) await c.kill(v);
        await sleep(ctx.params.faultMs);
      } finally {
        for (const v of victims) c.start(v);
      }
      await c.healthy();
      return n < 2 ? [] : [{ from, to: Date.now() }];
    },
  };
}

/** The etcd nemeses, in table order. */
export const ETCD_NEMESES: readonly Nemesis[] = [
  etcdCut,
  etcdKill('etcd-member', 1, 'one of the three etcd members SIGKILLed, restarted after the fault: no effect expected'),
  etcdKill('etcd-quorum', 2, 'two of the three etcd members SIGKILLed (no quorum), restarted after the fault'),
];
