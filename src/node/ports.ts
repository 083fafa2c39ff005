/**
 * What one node's runtime (node.ts) needs from the outside world, as small ports: the real adapters are chosen in
 * daemon/real-deps.ts, fakes and a SimClock in sim/cluster.ts, so the same node runs on a host and under simulated
 * time (Rule 4).
 */

import type { Logger } from '../core/log.ts';
import type { Clock } from '../core/time.ts';
import type { LbStatus, RsOutcome, RsVerb } from '../lb/status.ts';
import type { LbPlan } from '../plan/lb-plan.ts';
import type { NodePlan, NotifySpec } from '../plan/node-plan.ts';
import type { LbHook } from '../resources/agents/deps.ts';
import type { GroupDef } from '../resources/group-def.ts';
import type { GroupRunner, OwnerHook } from '../resources/runner.ts';
import type { GarpEffects, VipEffects, VrrpTransport } from '../vrrp/ports.ts';
import type { InstanceConfig, VrrpDrop, VrrpState } from '../vrrp/types.ts';

/** One instance's transport; `close` frees its VRID on the interface's shared socket. */
export interface InstanceTransportPort extends VrrpTransport {
  close(): void;
}

/** Drops no instance can be blamed for (undecodable packets, VRIDs this node does not run), per interface. */
export interface InterfaceDrops {
  ifname: string;
  family: 4 | 6;
  received: number;
  drops: Partial<Record<VrrpDrop, number>>;
}

/**
 * Where tracked objects' states come from. Each call starts a watcher and returns the function that stops it; a
 * watcher reports the initial state once it is known, then every change.
 */
export interface TrackerSources {
  interfaces(names: readonly string[], onChange: (ifname: string, up: boolean) => void): () => void;
  script(name: string, spec: NodePlan['scripts'][string], onChange: (up: boolean) => void): () => void;
  /** keepalived track_file: calls back with the file's integer (missing or not a number: 0). */
  file(name: string, spec: NodePlan['trackFiles'][string], onChange: (value: number) => void): () => void;
}

/** Runs notify scripts; never blocks. */
export interface NotifyPort {
  notify(
    kind: 'INSTANCE' | 'GROUP',
    name: string,
    spec: NotifySpec,
    state: Exclude<VrrpState, 'INIT'> | 'STOP',
    priority: number,
  ): void;
}

/** What the node uses of a resource group's runner (resources/runner.ts GroupRunner). */
export type GroupPort = Pick<
  GroupRunner,
  'start' | 'setOwner' | 'shutdown' | 'abandon' | 'status' | 'setMaintenance' | 'cleanup'
>;

/** What the node needs of the load balancer (its worker thread, or an LbRuntime in tests). */
export interface LbPort {
  /** Which services this node may serve (health-checked) and serves now (programmed). */
  setScope(may: string[], active: string[]): void;
  reload(plan: LbPlan): Promise<{ kept: string[]; changed: string[]; added: string[]; removed: string[] }>;
  rs(service: string, req: RsVerb, source: 'cli' | 'api'): Promise<RsOutcome>;
  status(): Promise<LbStatus>;
  stop(): Promise<void>;
}

/** Everything a node needs from the outside world. */
export interface NodeDeps {
  clock: Clock;
  log: Logger;
  /** The transport of one instance, on its interface's shared socket (opened on first use). */
  transport(cfg: InstanceConfig, src: string): InstanceTransportPort;
  /** Interface-level drop counters. @default none */
  interfaceDrops?(): InterfaceDrops[];
  /** VIP add/remove; `defaultDev` is the instance's interface; `cfg` brings its vmac and virtual routes. */
  vips(defaultDev: string, cfg?: InstanceConfig): VipEffects;
  garp(defaultDev: string, cfg?: InstanceConfig): GarpEffects;
  /** The address adverts go out from when the config names none: the interface's primary address of the family. */
  primaryAddress(ifname: string, family: 4 | 6): string | undefined;
  trackers: TrackerSources;
  notify: NotifyPort;
  /** Wall-clock ms for status timestamps and fencing-token bases. @default Date.now */
  wallNow?: () => number;
  /** The load balancer, when the plan has virtual services. */
  lb?: LbPort;
  /** Makes the runner of a resource group (real agents; fakes in tests). Without it, groups are not run. */
  groupRunner?(def: GroupDef, ctx: { defaultInterface?: string; lb: LbHook; owner: OwnerHook }): GroupPort;
}

/** Every instance, or (heartbeat's hb_standby) those whose preferred node is this one, or the others. */
export type InstanceSelector = 'all' | 'local' | 'foreign';
