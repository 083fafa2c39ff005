/**
 * The `Elector` contract: who owns a group now, since when, with which fencing token. A group is what one owner holds
 * as a whole: a VRRP instance, a sync group (every member together), later an etcd lease. The node, the load
 * balancer's scope, resource groups and the simulator ask only this; no other code decides ownership.
 *
 * The fencing token is a number that only grows for a group on this node's view, handed to resources with every
 * ownership (`TANDEM_FENCING_TOKEN`) so that a resource (a storage controller, a script) can refuse an owner whose
 * token is older than one it has seen. VRRP derives it locally (election/vrrp.ts); an etcd lease elector uses the key's
 * create revision, which is comparable across nodes.
 */
import type { Ms } from '../core/time.ts';

/** A group an elector decides: a VRRP instance, or a sync group whose members are owned together. */
export type OwnerRef =
  | { kind: 'instance'; name: string }
  | { kind: 'sync-group'; name: string; members: readonly string[] }
  // etcd issue: a group decided by an etcd lease alone (`election.mode: etcd`), no VRRP instance.
  | { kind: 'lease'; name: string };

/** The stable id of a group, `instance:VI_1`, `sync-group:G` or `lease:web`, used in events, status and metrics. */
export function ownerKey(o: OwnerRef): string {
  return `${o.kind}:${o.name}`;
}

/** This node's view of one group. Plain data. */
export interface Ownership {
  key: string;
  owner: OwnerRef;
  /** This node owns the group now (and may start what depends on it). */
  owned: boolean;
  /** When `owned` last changed (the node's clock), or when the elector first saw the group. */
  sinceMs: Ms;
  /** Grows with every change of owner this node sees for the group; 0 before the first. */
  token: number;
  /** Why it is what it is, in the elector's words (a VRRP transition cause, `vips-settled`, a lease event). */
  cause: string;
}

/** Who owns what, as one elector sees it. */
export interface Elector {
  /**
   * The ownership of `owner`, or undefined when this node does not take part in the group (an instance of it does not
   * run here): then nothing of it may run here either.
   */
  ownership(owner: OwnerRef): Ownership | undefined;
  /** Every group this node takes part in. */
  all(): Ownership[];
  /** Subscribes to ownership changes (owned flips, or a new token); returns the unsubscribe function. */
  onChange(listener: (o: Ownership) => void): () => void;
}
