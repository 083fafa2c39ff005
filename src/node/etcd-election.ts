/**
 * The etcd side of one node (etcd issue, docs/etcd.md): builds the etcd lease elector from the plan and joins it to the
 * VRRP elector as the node's one source of ownership (Rule 12).
 * - `election: etcd`: lease-owned groups (`lease:NAME`) are decided by etcd alone; anything VRRP still runs is VRRP's.
 * - `election: vrrp+etcd`: a VRRP owner is owned only while this node also holds its lease (WitnessElector); every
 *   instance carries the weight-0 tracker `etcd:lease`, up only while the lease is held (or, with
 *   `no_quorum_policy: ignore`, while etcd cannot be reached), so that a node without the lease stays out of MASTER
 *   and never adds the VIPs. A node campaigns for a lease only while its instances are healthy apart from that
 *   tracker, and resigns it when they are not, so that the peer can take over.
 */
import type { Cancel } from '../core/time.ts';
import type { Elector, OwnerRef, Ownership } from '../election/elector.ts';
import { ETCD_DEFAULTS } from '../election/etcd.ts';
import { EtcdElector, WitnessElector } from '../election/etcd-elector.ts';
import type { VrrpElector } from '../election/vrrp.ts';
import { ETCD_TRACKER, type EtcdPlan } from '../plan/etcd-plan.ts';
import type { NodePlan } from '../plan/node-plan.ts';
import type { VrrpInstance } from '../vrrp/instance.ts';
import type { InstanceConfig } from '../vrrp/types.ts';
import type { NodeDeps } from './ports.ts';

type InstanceLookup = (name: string) => { cfg: InstanceConfig; vi: VrrpInstance } | undefined;

/** Lease-owned groups from etcd, everything else from VRRP (`election: etcd`). */
class JoinedElector implements Elector {
  readonly #vrrp: Elector;
  readonly #etcd: EtcdElector;
  constructor(vrrp: Elector, etcd: EtcdElector) {
    this.#vrrp = vrrp;
    this.#etcd = etcd;
  }
  ownership(owner: OwnerRef): Ownership | undefined {
    return owner.kind === 'lease' ? this.#etcd.ownership(owner) : this.#vrrp.ownership(owner);
  }
  all(): Ownership[] {
    return [...this.#vrrp.all(), ...this.#etcd.all()];
  }
  onChange(listener: (o: Ownership) => void): () => void {
    const a = this.#vrrp.onChange(listener);
    const b = this.#etcd.onChange(listener);
    return () => {
      a();
      b();
    };
  }
}

const membersOf = (o: OwnerRef): readonly string[] =>
  o.kind === 'instance' ? [o.name] : o.kind === 'lease' ? [] : o.members;

/** The etcd election of one node. */
export class EtcdNodeElection {
  readonly etcd: EtcdElector;
  readonly owners: Elector;
  readonly #plan: EtcdPlan;
  readonly #deps: NodeDeps;
  readonly #instance: InstanceLookup;
  #groups: EtcdPlan['groups'];
  #timer: Cancel | null = null;
  #stopped = false;

  /** The node's etcd election, or null when the plan has none (or the node has no etcd client). */
  static create(plan: NodePlan, deps: NodeDeps, vrrp: VrrpElector, instance: InstanceLookup): EtcdNodeElection | null {
    if (!plan.etcd || !deps.etcd) return null;
    return new EtcdNodeElection(plan, plan.etcd, deps, vrrp, instance);
  }

  private constructor(node: NodePlan, p: EtcdPlan, deps: NodeDeps, vrrp: VrrpElector, instance: InstanceLookup) {
    this.#plan = p;
    this.#deps = deps;
    this.#instance = instance;
    this.#groups = p.groups;
    this.etcd = new EtcdElector({
      clock: deps.clock,
      port: deps.etcd!(p),
      options: {
        ttlMs: p.ttlMs,
        renewMs: p.renewMs,
        marginMs: p.marginMs,
        resyncMs: Math.max(ETCD_DEFAULTS.resyncMs, 4 * p.ttlMs),
        policy: p.policy,
      },
      node: node.node,
      prefix: p.prefix,
      log: (level, msg, fields) => deps.log.log(level, msg, fields),
    });
    this.owners =
      p.mode === 'etcd' ? new JoinedElector(vrrp, this.etcd) : new WitnessElector(vrrp, this.etcd, p.policy);
    if (p.mode === 'vrrp+etcd') {
      this.etcd.onChange(() => this.#syncTrackers());
      this.etcd.onQuorum(() => this.#syncTrackers());
    }
  }

  /** Starts the lease, the watch and the campaigns. */
  start(plan: NodePlan): void {
    this.etcd.start();
    this.etcd.setGroups(plan.etcd?.groups ?? this.#groups);
    if (this.#plan.mode === 'vrrp+etcd') this.#recheck();
  }

  /** A reload: the groups to campaign for may have changed (the connection and timing need a restart). */
  reload(plan: NodePlan): void {
    const next = plan.etcd;
    if (!next) {
      this.#deps.log.log('warn', 'etcd: the new config has no etcd election; it takes effect at the next restart', {
        event: 'etcd-reload',
      });
      return;
    }
    const { groups: _a, ...was } = this.#plan;
    const { groups: _b, ...now } = next;
    if (JSON.stringify(was) !== JSON.stringify(now))
      this.#deps.log.log('warn', 'etcd: connection or lease settings changed; they take effect at the next restart', {
        event: 'etcd-reload',
      });
    this.#groups = next.groups;
    this.etcd.setGroups(next.groups);
  }

  /** A lease-owned group gave up (false) or may own again (true). */
  setEligible(owner: OwnerRef, eligible: boolean): void {
    this.etcd.setEligible(owner, eligible);
  }

  /** Under vrrp+etcd an instance starts with its lease tracker down: no MASTER before the lease. */
  instanceStarted(vi: VrrpInstance): void {
    if (this.#plan.mode !== 'vrrp+etcd') return;
    vi.setTracker(ETCD_TRACKER, false);
    this.#syncTrackers();
  }

  /** Graceful: releases the keys and revokes the lease. */
  async stop(): Promise<void> {
    this.#halt();
    await this.etcd.stop();
  }

  /** Like SIGKILL. */
  kill(): void {
    this.#halt();
    this.etcd.kill();
  }

  #halt(): void {
    this.#stopped = true;
    this.#timer?.();
    this.#timer = null;
  }

  /** May this node hold the witness lease of `owner`: every member runs and no weight-0 tracker but the lease's is down. */
  #eligible(owner: OwnerRef): boolean {
    return membersOf(owner).every((m) => {
      const r = this.#instance(m);
      if (!r) return false;
      return r.cfg.trackers.every(
        (t) => t.id === ETCD_TRACKER || t.weight !== 0 || (r.vi.state.trackers[t.id] ?? true) === !t.reverse,
      );
    });
  }

  /** Every renew period: campaign or resign as the instances' health says. */
  #recheck(): void {
    if (this.#stopped) return;
    for (const g of this.#groups) this.etcd.setEligible(g.owner, this.#eligible(g.owner));
    this.#timer = this.#deps.clock.at(this.#deps.clock.now() + this.#plan.renewMs, () => this.#recheck());
  }

  /** The lease tracker of every instance: up while its owner's lease is held here (or, policy ignore, no quorum). */
  #syncTrackers(): void {
    const ignore = this.#plan.policy === 'ignore' && !this.etcd.quorum();
    for (const g of this.#groups) {
      const up = ignore || (this.etcd.ownership(g.owner)?.owned ?? false);
      for (const m of membersOf(g.owner)) this.#instance(m)?.vi.setTracker(ETCD_TRACKER, up);
    }
  }
}
