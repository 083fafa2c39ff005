/**
 * What `tandem status` and the API show of one node: its VRRP instances (state, priority and why, master, VIPs, last
 * transition, counters), interface-level drops, load balancing and resource groups; and the summary of a reload.
 * Plain, serialisable data; api/contract.ts re-exports it for the CLI and the API.
 */
import type { LbStatus } from '../lb/status.ts';
import type { GroupStatus } from '../resources/runner.ts';
import type { VrrpDrop, VrrpState } from '../vrrp/types.ts';
import type { InterfaceDrops } from './ports.ts';

/** Counters of one instance, for `tandem status`. */
export interface InstanceCounters {
  advertsSent: number;
  advertsReceived: number;
  drops: Record<VrrpDrop, number>;
}

/** The takeover guard of one instance in `tandem status` (docs/split-brain.md). */
export interface GuardStatus {
  enabled: true;
  state: 'idle' | 'probing' | 'held' | 'fencing' | 'fence-failed';
  /** The master being asked about. */
  master?: string;
  /** When the guard engaged (Master_Down_Timer fired). */
  since?: string;
  /** Probe rounds since it engaged. */
  rounds: number;
  last?: { verdict: string; via: string[]; detail: string; at: string };
  /** As an operator reads it: "master 198.18.0.11 alive via peer channel; adverts lost". */
  message: string;
  /** Since the daemon started. */
  counters: { engaged: number; held: number; takeovers: number; fenced: number; fenceFailed: number };
}

/** One heartbeat path of an instance (docs/split-brain.md §2). */
export interface PathStatus {
  interface: string;
  advertsReceived: number;
  advertsSent: number;
  lastHeardFrom?: string;
}

/** One instance in `tandem status`. */
export interface InstanceStatus {
  name: string;
  interface: string;
  vrid: number;
  version: 2 | 3;
  family: 4 | 6;
  state: VrrpState;
  priority: {
    configured: number;
    /** A runtime override (standby/takeover), or null. */
    override: number | null;
    effective: number;
    /** Why the effective priority is what it is: each tracker and what it adds. */
    trackers: { id: string; up: boolean; weight: number; effect: 'none' | 'adds' | 'subtracts' | 'fault' }[];
  };
  /** The current master: this node, the last one heard, or unknown. */
  master: { self: true } | { self: false; addr: string; priority: number } | null;
  source: string;
  vips: string[];
  lastTransition: { at: string; from: VrrpState; to: VrrpState; cause: string } | null;
  counters: InstanceCounters;
  syncGroup?: string;
  /** The takeover guard, when configured. */
  guard?: GuardStatus;
  /** Every heartbeat path, the instance's interface first, when it has more than one. */
  paths?: PathStatus[];
}

/** The whole status. */
export interface DaemonStatus {
  node: string;
  since: string;
  config: string;
  instances: InstanceStatus[];
  interfaces: InterfaceDrops[];
  /** The elector's view: each group this node takes part in, whether it owns it, and the fencing token. */
  ownership?: { group: string; owned: boolean; token: number; cause: string }[];
  /** Load balancing, when the config has virtual services. */
  lb?: LbStatus;
  /** Resource groups run by this node. */
  groups?: GroupStatus[];
  /** tandem's peer channel, when this node answers it. */
  peerChannel?: { port: number; answered: number; rejected: Record<string, number> };
  // the cluster's shared config (src/cluster/)
  /** `sha256:` + hex of the exact bytes of the config file this node runs. */
  configHash?: string;
  /** The cluster config version it runs; 0 when its file is not a version applied through the cluster. */
  configVersion?: number;
  /** Whether the last look at the peers saw a config with another hash (or a peer could not be asked). */
  configDivergent?: boolean;
}

/** Result of a reload: what changed, for the log and the caller. */
export interface ReloadSummary {
  kept: string[];
  restarted: string[];
  started: string[];
  stopped: string[];
}
