/**
 * What one node's etcd elector runs (docs/etcd.md): the connection, the lease timing and the groups it campaigns for.
 * Under `election: etcd` each resource group's `owner` names a lease (groups sharing an owner move together); under
 * `vrrp+etcd` each VRRP owner (a sync group, or an instance in none) has a lease of the same name, and every instance
 * tracks `etcd:lease` with weight 0, so that a node without the lease stays out of MASTER. Pure.
 */
import type { TandemConfig } from '../config/schema.ts';
import type { OwnerRef } from '../election/elector.ts';
import type { NoQuorumPolicy } from '../election/etcd.ts';

/** The etcd part of a node plan. */
export interface EtcdPlan {
  mode: 'etcd' | 'vrrp+etcd';
  endpoints: string[];
  /** Keys live under it (no trailing slash). */
  prefix: string;
  ttlMs: number;
  renewMs: number;
  marginMs: number;
  requestTimeoutMs: number;
  policy: NoQuorumPolicy;
  tls?: { ca?: string; cert?: string; key?: string };
  configWatch: boolean;
  /** The groups this node campaigns for; nodes listed earlier in cluster.nodes campaign first at start. */
  groups: { owner: OwnerRef; delayMs: number }[];
}

/** The tracker every instance carries under `vrrp+etcd`: up while this node holds the instance's lease. */
export const ETCD_TRACKER = 'etcd:lease';

/** The etcd block of the config as a plan (also for the config store when `election` is vrrp). */
export function etcdConnection(cfg: TandemConfig): Omit<EtcdPlan, 'mode' | 'groups'> | undefined {
  const e = cfg.etcd;
  if (!e) return undefined;
  return {
    endpoints: [...e.endpoints],
    prefix: e.prefix ?? `/tandem/${cfg.cluster.name}`,
    ttlMs: e.lease_ttl,
    renewMs: e.renew_interval,
    marginMs: e.safety_margin,
    requestTimeoutMs: e.request_timeout,
    policy: e.no_quorum_policy,
    ...(e.tls ? { tls: { ...e.tls } } : {}),
    configWatch: e.config_watch,
  };
}

/**
 * The etcd plan of `node`, given the VRRP owners that run here (`vrrpOwners`, for the witness mode); undefined under
 * `election: vrrp`.
 */
export function etcdPlan(cfg: TandemConfig, node: string, vrrpOwners: readonly OwnerRef[]): EtcdPlan | undefined {
  const conn = etcdConnection(cfg);
  if (cfg.election === 'vrrp' || !conn) return undefined;
  const rank = cfg.cluster.nodes.findIndex((n) => n.name === node);
  // At start, node k of cluster.nodes waits k × lease_ttl before its first campaign: the first node listed is the
  // preferred owner when the cluster starts together (a takeover, later, is a race among all that see the key go).
  const delayMs = (rank < 0 ? cfg.cluster.nodes.length : rank) * conn.ttlMs;
  const owners: OwnerRef[] =
    cfg.election === 'etcd'
      ? [...new Set(cfg.groups.map((g) => g.owner))].map((name) => ({ kind: 'lease', name }))
      : [...vrrpOwners];
  return { mode: cfg.election, ...conn, groups: owners.map((owner) => ({ owner, delayMs })) };
}
