/**
 * The load balancer's status and control vocabulary: what `tandem status` and the API show of virtual services and
 * real servers, and the `tandem rs` verbs with their outcomes. Plain, serialisable data (it crosses the worker-thread
 * boundary and the control socket); api/contract.ts re-exports it for the CLI and the API.
 */
import type { CheckResult } from '../health/types.ts';
import type { ConnCount, DataPlaneKind } from './dataplane.ts';
import type { AdminRefusal } from './model.ts';
import { type AdminSource, type RealServerState, serverKey } from './types.ts';

/** A `tandem rs` verb. */
export type RsVerb =
  | { verb: 'drain'; server: string; wait: boolean }
  | { verb: 'enable'; server: string }
  | { verb: 'maint'; server: string }
  | { verb: 'weight'; server: string; weight: number | null }
  | { verb: 'add'; server: string; weight: number }
  | { verb: 'remove'; server: string };

/** Why a `tandem rs` request was refused (closed set, Rule 5). */
export type RsRefusal = AdminRefusal | 'unknown-service' | 'bad-server';

/** The outcome of a `tandem rs` request. */
export type RsOutcome =
  | {
      ok: true;
      service: string;
      server: string;
      verb: RsVerb['verb'];
      /** drain only: whether every connection ended before the drain timeout, how long it took, what is left. */
      drain?: { done: boolean; waitedMs: number; active: number; inactive: number; served: boolean };
    }
  | { ok: false; reason: RsRefusal; message: string };

/** One real server in `tandem status`. */
export interface LbServerStatus {
  key: string;
  addr: string;
  port: number;
  /** The weight programmed now (0 while draining, ramping while starting). */
  weight: number;
  configuredWeight: number;
  op: RealServerState['op'];
  health: RealServerState['health'];
  admin: RealServerState['admin'];
  weightOverride: RealServerState['weightOverride'];
  origin: AdminSource;
  /** In the data plane now (weight may be 0). */
  programmed: boolean;
  conns: ConnCount;
  check: { state: string; last?: CheckResult } | null;
  changed: RealServerState['changed'];
}

/** One virtual service in `tandem status`. */
export interface LbServiceStatus {
  name: string;
  vip: string;
  port: number;
  protocol: 'tcp' | 'udp';
  scheduler: string;
  method: 'nat' | 'dr';
  dataplane: DataPlaneKind;
  persistence: { timeoutMs: number; netmaskPrefix: number } | null;
  /** serving = programmed here; standby = checked here, the owner is a backup; idle = not this node's. */
  role: 'serving' | 'standby' | 'idle';
  /** Why a service that should be served is not programmed, or null. */
  note: string | null;
  owner: string;
  quorum: 'up' | 'down';
  sorry: { addr: string; port: number; active: boolean } | null;
  servers: LbServerStatus[];
}

/** The LB part of `tandem status`. */
export interface LbStatus {
  services: LbServiceStatus[];
  /** The last data-plane error, if the last apply failed. */
  error: string | null;
  checks: { targets: number; inFlight: number; runs: number };
  /** The user-space proxy's traffic since the worker started, when a service uses it (issue 12, metrics). */
  proxy?: ProxyStats;
}

/**
 * What the user-space proxy counted (issue 12, metrics): aggregated in the load balancer's worker thread on the
 * proxy's path (a few additions per request), shipped as this snapshot with the status, rendered by metrics/.
 */
export interface ProxyStats {
  /** Per service and real server (`addr:port`): requests (http) or connections (tcp) by status class, and bytes. */
  servers: { service: string; server: string; requests: Record<string, number>; bytesIn: number; bytesOut: number }[];
  /** Per service: a latency histogram (time to the response head, or a tcp session's length), cumulative. */
  durations: { service: string; boundsMs: number[]; cumulative: number[]; sumMs: number; count: number }[];
}

/** `198.18.1.12:80` or `[2001:db8::12]:80` → its parts and the model's key. */
export function parseServer(text: string): { addr: string; port: number; key: string } | null {
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(text) ?? /^([0-9.]+):(\d{1,5})$/.exec(text);
  if (!m) return null;
  const port = Number(m[2]);
  if (port > 65_535) return null;
  const addr = m[1]!;
  return { addr, port, key: serverKey(addr, port) };
}
