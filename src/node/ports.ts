/**
 * What one node's runtime (node.ts) needs from the outside world, as small ports: the real adapters are chosen in
 * daemon/real-deps.ts, fakes and a SimClock in sim/cluster.ts, so the same node runs on a host and under simulated
 * time (Rule 4).
 */

import type { Logger } from '../core/log.ts';
import type { Clock } from '../core/time.ts';
import type { EtcdPort } from '../election/etcd-elector.ts';
import type { PeerAnswer } from '../election/takeover-guard.ts';
import type { LbStatus, RsOutcome, RsVerb } from '../lb/status.ts';
import type { EtcdPlan } from '../plan/etcd-plan.ts';
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
  /** A ping target object (vrrp.track_pings): up while any target answers ICMP echo. @default none: stays up */
  ping?(name: string, spec: NonNullable<NodePlan['pings']>[string], onChange: (up: boolean) => void): () => void;
}

/** The peer channel's settings as the node passes them to its ports. */
export interface PeerChannelSettings {
  node: string;
  port: number;
  windowMs: number;
  keyFile: string;
}

/** What a peer channel query learned. */
export type PeerProbeOutcome =
  | { outcome: 'answer'; answer: PeerAnswer }
  | { outcome: 'refused' | 'timeout' | 'error'; detail: string };

/** What an ICMP echo, a TCP connect or a peer channel query of the guard ended with. */
export type IcmpProbeOutcome = { outcome: 'reply' | 'timeout' | 'unreachable' | 'error'; detail: string };
export type TcpProbeOutcome = { outcome: 'open' | 'refused' | 'timeout' | 'unreachable' | 'error'; detail: string };

/**
 * The takeover guard's probes (docs/split-brain.md §1). Each calls `done` once, by its timeout; callbacks rather than
 * promises, so that the simulator (which runs time synchronously) sees an answer at the instant it arrives. A port
 * that is missing is a path the node does not try.
 */
export interface GuardProbePorts {
  peer?(
    channel: PeerChannelSettings,
    addr: string,
    instance: string,
    timeoutMs: number,
    done: (r: PeerProbeOutcome) => void,
  ): void;
  icmp?(addr: string, timeoutMs: number, done: (r: IcmpProbeOutcome) => void): void;
  tcp?(addr: string, port: number, timeoutMs: number, done: (r: TcpProbeOutcome) => void): void;
}

/** A fence run, as the node asks for it. */
export interface FenceRun {
  device: string;
  spec: NonNullable<NodePlan['fencing']>[string];
  /** Parameters resolved for the node being fenced. */
  params: Record<string, string>;
  timeoutMs: number;
}

/** How a fence run ended. */
export interface FenceRunOutcome {
  outcome: 'ok' | 'failed' | 'timeout' | 'error';
  code: number | null;
  durationMs: number;
  detail: string;
}

/** Runs fence agents (os/fence.ts); calls `done` once, by the run's timeout. */
export interface FencePort {
  run(req: FenceRun, done: (r: FenceRunOutcome) => void): void;
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
  /** The takeover guard's probes. Without them a guarded round has no path and is unconfirmed at once. */
  guardProbes?: GuardProbePorts;
  /** Fence agents. Without it a fence always fails (no takeover), which is the safe way to be wrong. */
  fence?: FencePort;
  /**
   * Answers the peer channel with `answer` until the returned function is called; `onReject` hears of datagrams it
   * dropped. Without it this node does not answer (others see it as refused or silent).
   */
  peerServer?(
    channel: PeerChannelSettings,
    answer: (instance: string) => Omit<PeerAnswer, 'node'> | undefined,
  ): { stop(): void; stats(): { answered: number; rejected: Record<string, number> } };
  /** etcd issue: a client of the plan's etcd cluster (os/etcd.ts; sim/fake-etcd.ts). Without it no lease is held. */
  etcd?(plan: EtcdPlan): EtcdPort;
}

/** Every instance, or (heartbeat's hb_standby) those whose preferred node is this one, or the others. */
export type InstanceSelector = 'all' | 'local' | 'foreign';
