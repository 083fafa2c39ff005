/**
 * What the load-balancer runtime runs: frozen virtual services for the model, data-plane settings, health-check
 * targets and the owner that decides where each service runs. plan/lb-plan.ts compiles the config into it; the
 * runtime (runtime.ts) and the node consume it. Plain data.
 */
import type { CheckSpec } from '../health/types.ts';
import type { ProxySettings, Snat } from './dataplane.ts';
import type { VirtualService } from './types.ts';

/** Who decides whether this node serves a service. */
export type LbOwner =
  /** The master of this VRRP instance (named, or the one holding the vip). */
  | { kind: 'instance'; name: string }
  /** The master of every member of this sync group. */
  | { kind: 'group'; name: string; members: string[] }
  /** No VRRP instance holds the vip: every node serves it (a single director, or a vip managed elsewhere). */
  | { kind: 'always' };

/** A health-check target of one real server: id `service/addr:port`. */
export interface LbCheckTarget {
  id: string;
  service: string;
  server: string;
  check: CheckSpec;
  /** A script check's `user`, resolved to ids where the daemon runs (lb-host.ts). */
  user?: string;
}

/** One service as the runtime runs it. */
export interface ServicePlan {
  svc: VirtualService;
  dataplane: 'nft' | 'proxy' | 'haproxy';
  snat: Snat;
  proxy: ProxySettings;
  owner: LbOwner;
  /** method dr: the director's interface toward the real servers (config `interface`, else the vip's instance's). */
  device?: string;
  /**
   * The resource group whose `lb` resource serves this service: it is programmed while that resource runs here, not
   * while its vip's instance is MASTER.
   */
  resourceGroup?: string;
  drainTimeoutMs: number;
  quorumUp?: string;
  quorumDown?: string;
  /** Start every server down until its check passes (keepalived alpha): any check with start_down. */
  alpha: boolean;
  /** Checks by server key; a server without one is always up. */
  checks: LbCheckTarget[];
}

/** The whole LB plan of a node. */
export interface LbPlan {
  services: ServicePlan[];
  maxConcurrentChecks: number;
}

/** The id of a real server's health-check target. */
export const checkId = (service: string, server: string): string => `${service}/${server}`;
