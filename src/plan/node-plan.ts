/**
 * Turns the cluster-wide config into what one node runs: its VRRP instances (with per-node values resolved) and sync
 * groups. Pure. Lives in daemon/ because it is where config meets the runtime modules (config/ imports only core/).
 */

import { type InstanceSpec, parsePrefixed, type SyncGroupSpec, type TandemConfig } from '../config/schema.ts';
import type { FenceDeviceSpec } from '../config/schema-split-brain.ts';
import { instanceFamily } from '../config/validate.ts';
import type { OwnerRef } from '../election/elector.ts';
import type { GroupDef } from '../resources/group-def.ts';
import type { InstanceConfig, TrackerRef } from '../vrrp/types.ts';
import { defaultVmacName, virtualRouterMac } from '../vrrp/vmac.ts';
import { type ConntrackSyncPlan, conntrackSyncPlan } from './conntrack-sync.ts';
import { ETCD_TRACKER, type EtcdPlan, etcdPlan } from './etcd-plan.ts';
import { groupDef } from './groups.ts';
import { type LbPlan, lbPlan } from './lb-plan.ts';
import { splitBrainOfInstance } from './split-brain.ts';

/** What one node runs. */
export interface NodePlan {
  node: string;
  /** The node's primary address, when the config names one. */
  address?: string;
  instances: InstanceConfig[];
  syncGroups: { name: string; members: string[] }[];
  /** Notify scripts by instance name and by sync group name. */
  notify: { instances: Record<string, NotifySpec>; groups: Record<string, NotifySpec> };
  /** The vrrp scripts, track files and interfaces this node's instances track. */
  scripts: Record<string, TandemConfig['vrrp']['scripts'][string]>;
  trackFiles: Record<string, TandemConfig['vrrp']['track_files'][string]>;
  interfaces: string[];
  /** The virtual services, when the config has any. */
  lb?: LbPlan;
  /** NAT connection-state replication (conntrackd), when configured for this node. */
  conntrackSync?: ConntrackSyncPlan;
  /** Resource groups whose owner (an instance or a sync group) runs on this node. */
  groups?: { def: GroupDef; owner: OwnerRef }[];
  /**
   * Instances whose preferred node is this one (highest priority of a per-node map, or a plain priority): what
   * heartbeat's `hb_standby local` hands over; the others are `foreign`.
   */
  preferredHere?: string[];
  /** keepalived static_ipaddress / static_routes / static_rules, when the config has any. */
  static?: StaticPlan;
  /**
   * The cluster as the split-brain defences see it (docs/split-brain.md): every node's addresses (the guard asks a
   * master at all of them), the cluster key file and the peer channel (present = enabled and keyed).
   */
  cluster?: {
    nodes: { name: string; addresses: string[] }[];
    keyFile?: string;
    peerChannel?: { port: number; windowMs: number };
  };
  /** The ping target objects this node's instances track (`ping:NAME` trackers). */
  pings?: Record<string, TandemConfig['vrrp']['track_pings'][string]>;
  /** Fence devices named by this node's instances (guard.fence, or a group's fence). */
  fencing?: Record<string, FenceDeviceSpec>;
  /** etcd issue: the etcd elector of `election: etcd | vrrp+etcd` (plan/etcd-plan.ts). */
  etcd?: EtcdPlan;
}

/** Network state present while the daemon runs (keepalived static_*): addresses, then rules, then routes. */
export interface StaticPlan {
  addresses: { addr: string; prefix: number; dev: string; label?: string }[];
  routes: { kind: 'route' | 'rule'; args: string[] }[];
}

/** The static part of a config, or undefined when it has none. */
export function staticPlan(cfg: TandemConfig): StaticPlan | undefined {
  const s = cfg.vrrp.static;
  if (s.addresses.length + s.routes.length + s.rules.length === 0) return undefined;
  const words = (text: string) => text.split(/\s+/).filter(Boolean);
  return {
    addresses: s.addresses.flatMap((v) => {
      const p = parsePrefixed(v.address);
      return p ? [{ addr: p.addr, prefix: p.prefix, dev: v.dev, ...(v.label ? { label: v.label } : {}) }] : [];
    }),
    routes: [
      ...s.rules.map((r) => ({ kind: 'rule' as const, args: words(r) })),
      ...s.routes.map((r) => ({ kind: 'route' as const, args: words(r) })),
    ],
  };
}

/** Notify scripts of an instance or a sync group (keepalived notify_*). */
export type NotifySpec = InstanceSpec['notify'] | SyncGroupSpec['notify'];

/**
 * Resolves the plan for `node`. An instance whose priority is a per-node map runs only on the nodes it names;
 * a plain number runs on every node.
 */
export function nodePlan(cfg: TandemConfig, node: string): NodePlan {
  const address = cfg.cluster.nodes.find((n) => n.name === node)?.address;
  // keepalived: in a sync group, tracker weights are ignored (a failed tracker faults the whole group) unless the
  // group sets sync_group_tracking_weight: weights that move one member alone make the group flap between nodes.
  const unweighted = new Set(cfg.vrrp.sync_groups.filter((g) => !g.tracking_weight).flatMap((g) => g.members));
  const instances: InstanceConfig[] = [];
  for (const spec of cfg.vrrp.instances) {
    const priority = typeof spec.priority === 'number' ? spec.priority : spec.priority[node];
    if (priority === undefined) continue;
    const inst = instanceConfig(cfg, spec, node, priority, address);
    instances.push(
      unweighted.has(spec.name) ? { ...inst, trackers: inst.trackers.map((t) => ({ ...t, weight: 0 })) } : inst,
    );
  }
  const running = new Set(instances.map((i) => i.name));
  // A group's owner is an instance or a sync group; it runs here when every owning instance does. Each owning
  // instance tracks the group with weight 0: a group that gives up (failed start, too many monitor failures) puts
  // its owner in FAULT, so the peer takes over even with nopreempt.
  const groups: { def: GroupDef; owner: OwnerRef }[] = [];
  for (const g of cfg.groups) {
    // etcd issue: under election: etcd a group's owner is a lease, and the group runs on every node.
    if (cfg.election === 'etcd') {
      groups.push({ def: groupDef(g), owner: { kind: 'lease', name: g.owner } });
      continue;
    }
    const sync = cfg.vrrp.sync_groups.find((x) => x.name === g.owner);
    const owners = sync ? [...sync.members] : [g.owner];
    if (!owners.every((o) => running.has(o))) continue;
    groups.push({
      def: groupDef(g),
      owner: sync ? { kind: 'sync-group', name: sync.name, members: owners } : { kind: 'instance', name: g.owner },
    });
    for (let i = 0; i < instances.length; i++) {
      const inst = instances[i]!;
      if (owners.includes(inst.name))
        instances[i] = {
          ...inst,
          trackers: [...inst.trackers, { id: `group:${g.name}`, weight: 0 }],
          // A group that names a fence device fences the old master before its owner takes over.
          ...(g.fence && inst.guard && !inst.guard.fence ? { guard: fenceGuard(cfg, inst.guard, g.fence) } : {}),
        };
    }
  }
  const preferredHere = cfg.vrrp.instances
    .filter((i) => running.has(i.name))
    .filter((i) => typeof i.priority === 'number' || i.priority[node] === Math.max(...Object.values(i.priority)))
    .map((i) => i.name);
  const syncGroups = cfg.vrrp.sync_groups
    .map((g) => ({ name: g.name, members: g.members.filter((m) => running.has(m)) }))
    .filter((g) => g.members.length > 0);
  const trackerNames = (kind: string) => [
    ...new Set(
      instances.flatMap((i) =>
        i.trackers.filter((t) => t.id.startsWith(`${kind}:`)).map((t) => t.id.slice(kind.length + 1)),
      ),
    ),
  ];
  const specs = cfg.vrrp.instances.filter((i) => running.has(i.name));
  const statics = staticPlan(cfg);
  // etcd issue: the witness mode's leases, one per VRRP owner, and the etcd:lease tracker on every instance.
  const vrrpOwners: OwnerRef[] = [
    ...syncGroups.map((g): OwnerRef => ({ kind: 'sync-group', name: g.name, members: g.members })),
    ...instances
      .filter((i) => !syncGroups.some((g) => g.members.includes(i.name)))
      .map((i): OwnerRef => ({ kind: 'instance', name: i.name })),
  ];
  const etcd = etcdPlan(cfg, node, vrrpOwners);
  if (etcd?.mode === 'vrrp+etcd')
    for (let i = 0; i < instances.length; i++)
      instances[i] = { ...instances[i]!, trackers: [...instances[i]!.trackers, { id: ETCD_TRACKER, weight: 0 }] };
  return {
    node,
    ...(address ? { address } : {}),
    ...(statics ? { static: statics } : {}),
    instances,
    syncGroups,
    notify: {
      instances: Object.fromEntries(specs.map((i) => [i.name, i.notify])),
      groups: Object.fromEntries(
        cfg.vrrp.sync_groups.filter((g) => syncGroups.some((x) => x.name === g.name)).map((g) => [g.name, g.notify]),
      ),
    },
    scripts: Object.fromEntries(
      trackerNames('script').flatMap((n) => (cfg.vrrp.scripts[n] ? [[n, cfg.vrrp.scripts[n]]] : [])),
    ),
    trackFiles: Object.fromEntries(
      trackerNames('file').flatMap((n) => (cfg.vrrp.track_files[n] ? [[n, cfg.vrrp.track_files[n]]] : [])),
    ),
    interfaces: trackerNames('interface'),
    ...(cfg.lb.services.length ? { lb: lbPlan(cfg) } : {}),
    ...conntrackSyncField(cfg, node),
    ...(groups.length ? { groups } : {}),
    preferredHere,
    ...splitBrainOfNode(cfg, instances, trackerNames('ping')),
    ...(etcd ? { etcd } : {}),
  };
}

/** The guard of an instance with a fence device named by one of its groups. */
function fenceGuard(cfg: TandemConfig, guard: NonNullable<InstanceConfig['guard']>, device: string) {
  const d = cfg.fencing.devices[device];
  return d ? { ...guard, fence: { device, timeoutMs: d.timeout, retryMs: d.retry } } : guard;
}

/** The node-level parts of the split-brain defences. */
function splitBrainOfNode(cfg: TandemConfig, instances: readonly InstanceConfig[], pings: readonly string[]) {
  const c = cfg.cluster;
  const devices = new Set(instances.flatMap((i) => (i.guard?.fence ? [i.guard.fence.device] : [])));
  const peerChannel =
    c.key_file && c.peer_channel.enabled
      ? { port: c.peer_channel.port, windowMs: c.peer_channel.time_window }
      : undefined;
  return {
    cluster: {
      nodes: c.nodes.map((n) => ({ name: n.name, addresses: [...(n.address ? [n.address] : []), ...n.addresses] })),
      ...(c.key_file ? { keyFile: c.key_file } : {}),
      ...(peerChannel ? { peerChannel } : {}),
    },
    ...(pings.length
      ? {
          pings: Object.fromEntries(
            pings.flatMap((n) => (cfg.vrrp.track_pings[n] ? [[n, cfg.vrrp.track_pings[n]]] : [])),
          ),
        }
      : {}),
    ...(devices.size
      ? { fencing: Object.fromEntries([...devices].map((d) => [d, cfg.fencing.devices[d]!] as const)) }
      : {}),
  };
}

/** The node names a config describes: cluster.nodes, or the one local node of a keepalived.conf. */
export function nodeNames(cfg: TandemConfig): string[] {
  return cfg.cluster.nodes.map((n) => n.name);
}

const pick = <T>(v: T | Record<string, T> | undefined, node: string): T | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, T>)[node] : (v as T | undefined);

/** keepalived's use_vmac, virtual_routes / virtual_rules and skip_check_adv_addr of an instance, when set. */
function compatFields(spec: InstanceSpec): Pick<InstanceConfig, 'vmac' | 'virtualRoutes' | 'skipCheckAdvAddr'> {
  const family = instanceFamily(spec);
  const words = (text: string) => text.split(/\s+/).filter(Boolean);
  const routes = [
    ...spec.virtual_rules.map((r) => ({ kind: 'rule' as const, args: words(r) })),
    ...spec.virtual_routes.map((r) => ({ kind: 'route' as const, args: words(r) })),
  ];
  return {
    ...(spec.vmac
      ? {
          vmac: {
            name: spec.vmac.name ?? defaultVmacName(spec.vrid),
            mac: virtualRouterMac(spec.vrid, family),
            xmitBase: spec.vmac.xmit_base,
          },
        }
      : {}),
    ...(routes.length > 0 ? { virtualRoutes: routes } : {}),
    ...(spec.skip_check_adv_addr ? { skipCheckAdvAddr: true } : {}),
  };
}

function instanceConfig(
  cfg: TandemConfig,
  spec: InstanceSpec,
  node: string,
  priority: number,
  address?: string,
): InstanceConfig {
  const trackers: TrackerRef[] = [
    // keepalived tracks the instance's own interface with weight 0 (FAULT while it is down) unless dont_track_primary.
    ...(spec.track_primary && !spec.track.interfaces.some((t) => t.name === spec.interface)
      ? [{ id: `interface:${spec.interface}`, weight: 0, reverse: false }]
      : []),
    ...spec.track.interfaces.map((t) => ({
      id: `interface:${t.name}`,
      weight: t.weight ?? 0,
      reverse: t.reverse ?? false,
    })),
    ...spec.track.scripts.map((t) => {
      const s = cfg.vrrp.scripts[t.name];
      return { id: `script:${t.name}`, weight: t.weight ?? s?.weight ?? 0, reverse: t.reverse ?? s?.reverse ?? false };
    }),
    ...spec.track.files.map((t) => {
      const f = cfg.vrrp.track_files[t.name];
      return { id: `file:${t.name}`, weight: t.weight ?? f?.weight ?? 1, reverse: t.reverse ?? f?.reverse ?? false };
    }),
    ...spec.track.pings.map((t) => {
      const pg = cfg.vrrp.track_pings[t.name];
      return { id: `ping:${t.name}`, weight: t.weight ?? pg?.weight ?? 0, reverse: t.reverse ?? false };
    }),
  ];
  const unicastSrc = pick(spec.unicast?.source, node) ?? (spec.unicast ? address : undefined);
  const mcastSrc = pick(spec.mcast_source, node);
  return {
    name: spec.name,
    version: spec.version,
    family: instanceFamily(spec),
    interface: spec.interface,
    vrid: spec.vrid,
    priority,
    advertIntervalMs: spec.advert_interval,
    initialState: spec.initial_state === 'master' ? 'MASTER' : 'BACKUP',
    preempt: spec.preempt,
    preemptDelayMs: spec.preempt_delay,
    accept: spec.accept,
    auth: spec.auth ? { type: 'pass', password: spec.auth.password } : { type: 'none' },
    v3Checksum: spec.v3_checksum,
    vips: spec.vips.map((v) => {
      const text = typeof v === 'string' ? v : v.address;
      const p = parsePrefixed(text)!;
      return {
        addr: p.addr,
        prefix: p.prefix,
        ...(typeof v === 'object' && v.dev ? { dev: v.dev } : {}),
        ...(typeof v === 'object' && v.label ? { label: v.label } : {}),
      };
    }),
    // A node never sends to itself: the same peer list can then be written once for the whole cluster.
    unicastPeers: (spec.unicast?.peers ?? []).filter((p) => p !== unicastSrc && p !== address),
    ...(unicastSrc ? { unicastSrc } : {}),
    ...(mcastSrc ? { mcastSrc } : {}),
    trackers,
    garp: {
      masterDelayMs: spec.garp.master_delay,
      masterRepeat: spec.garp.master_repeat,
      masterRefreshMs: spec.garp.master_refresh,
      ...(spec.garp.lower_prio_repeat !== undefined ? { lowerPrioRepeat: spec.garp.lower_prio_repeat } : {}),
      ...(spec.garp.interval ? { intervalMs: spec.garp.interval } : {}),
      ...(spec.garp.na_interval ? { naIntervalMs: spec.garp.na_interval } : {}),
    },
    downTimerAdverts: spec.down_timer_adverts,
    lowerPrioNoAdvert: spec.lower_prio_no_advert,
    ...compatFields(spec),
    ...splitBrainOfInstance(cfg, spec, node, address),
  };
}

function conntrackSyncField(cfg: TandemConfig, node: string): { conntrackSync?: ConntrackSyncPlan } {
  const p = conntrackSyncPlan(cfg, node);
  return p ? { conntrackSync: p } : {};
}
