/**
 * `lb.conntrack_sync` compiled for one node: conntrackd's settings (os/conntrackd.ts) and the owner whose mastership
 * makes this node the primary. Pure; the daemon runs it (daemon/conntrack-sync.ts).
 */
import type { TandemConfig } from '../config/schema.ts';
import type { OwnerRef } from '../election/elector.ts';
import { ownerOf } from './lb-plan.ts';

/** What the daemon runs for connection-state replication on this node. */
export interface ConntrackSyncPlan {
  interface: string;
  address: string;
  peer: string;
  port: number;
  /** Addresses whose connections are not replicated: the cluster nodes' own. */
  ignore: string[];
  owner: OwnerRef;
  binary: string;
}

/**
 * The plan of `node`, or undefined when the config has no conntrack_sync, or this node has no address in it, or no
 * owner can be found (tandem check reports these).
 */
export function conntrackSyncPlan(cfg: TandemConfig, node: string): ConntrackSyncPlan | undefined {
  const c = cfg.lb.conntrack_sync;
  if (!c) return undefined;
  const address = c.addresses[node];
  const peers = Object.entries(c.addresses).filter(([n]) => n !== node);
  if (address === undefined || peers.length !== 1) return undefined;
  const owner = syncOwner(cfg, c.owner);
  if (!owner) return undefined;
  return {
    interface: c.interface,
    address,
    peer: peers[0]![1],
    port: c.port,
    ignore: cfg.cluster.nodes.flatMap((n) => (n.address ? [n.address] : [])),
    owner,
    binary: c.conntrackd,
  };
}

function syncOwner(cfg: TandemConfig, name: string | undefined): OwnerRef | undefined {
  if (name !== undefined) {
    const g = cfg.vrrp.sync_groups.find((x) => x.name === name);
    if (g) return { kind: 'sync-group', name: g.name, members: [...g.members] };
    return cfg.vrrp.instances.some((i) => i.name === name) ? { kind: 'instance', name } : undefined;
  }
  const svc = cfg.lb.services.find((s) => s.dataplane === 'nft');
  if (!svc) return undefined;
  const o = ownerOf(cfg, svc);
  if (o.kind === 'instance') return { kind: 'instance', name: o.name };
  if (o.kind === 'group') return { kind: 'sync-group', name: o.name, members: o.members };
  return undefined;
}
