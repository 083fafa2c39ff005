/**
 * The resource groups of one node: a runner per group whose owner runs here, told by the elector whether this node
 * owns it (with the fencing token), restarted on reload when its definition changed. A group that gives up ownership
 * (a failed start, too many monitor failures) faults its owner through the weight-0 tracker `group:NAME` that every
 * owner instance carries (plan/node-plan.ts), so the peer takes over even with nopreempt.
 */
import { diffById } from '../core/diff.ts';
import type { Logger } from '../core/log.ts';
import type { Elector, OwnerRef } from '../election/elector.ts';
import type { NodePlan } from '../plan/node-plan.ts';
import type { GroupStatus } from '../resources/runner.ts';
import type { GroupPort, NodeDeps } from './ports.ts';

type PlannedGroup = NonNullable<NodePlan['groups']>[number];

interface Running {
  port: GroupPort;
  planned: PlannedGroup;
  owned: boolean;
  token: number;
}

/** What the groups need of the node. */
export interface ResourceGroupsOptions {
  make: NodeDeps['groupRunner'];
  elector: Elector;
  log: Logger;
  /** The interface of the owner's first instance (a vip resource's default device). */
  interfaceOf(owner: OwnerRef): string | undefined;
  /** Sets the weight-0 tracker `group:NAME` on every instance of the owner. */
  setTracker(owner: OwnerRef, group: string, up: boolean): void;
  /** An `lb` resource started or stopped services (the LB scope must be recomputed). */
  lbChanged(): void;
}

/** The resource groups of one node. */
export class ResourceGroups {
  readonly #o: ResourceGroupsOptions;
  readonly #running = new Map<string, Running>();
  /** Virtual services that an `lb` resource of a running group has started here. */
  readonly serving = new Set<string>();
  #stopped = false;

  constructor(opts: ResourceGroupsOptions) {
    this.#o = opts;
  }

  /** Starts the runners of `groups` not running yet, then tells each whether it is owned. */
  start(groups: readonly PlannedGroup[]): void {
    const make = this.#o.make;
    if (!make || this.#stopped) return;
    for (const planned of groups) {
      const { def, owner } = planned;
      if (this.#running.has(def.name)) continue;
      const iface = this.#o.interfaceOf(owner);
      const log = this.#o.log;
      const port = make(def, {
        ...(iface ? { defaultInterface: iface } : {}),
        lb: {
          startServices: (names) => {
            for (const n of names) this.serving.add(n);
            this.#o.lbChanged();
          },
          stopServices: (names) => {
            for (const n of names) this.serving.delete(n);
            this.#o.lbChanged();
          },
        },
        owner: {
          onGiveUp: (group, reason) => {
            log.log('warn', `group ${group}: giving up ownership (${reason}); owner goes to FAULT`, {
              event: 'group-give-up',
              group,
              reason,
            });
            this.#o.setTracker(owner, def.name, false);
          },
          onReclaim: (group, cause) => {
            log.log('info', `group ${group}: may own again (${cause})`, { event: 'group-reclaim', group });
            this.#o.setTracker(owner, def.name, true);
          },
          onBlocked: (group, resource, code) =>
            log.log(
              'error',
              `group ${group}: stopping ${resource} failed (${code}); the group is blocked until cleanup`,
              {
                event: 'group-blocked',
                group,
                resource,
                code,
              },
            ),
        },
      });
      this.#running.set(def.name, { port, planned, owned: false, token: 0 });
      port.start();
    }
    this.syncOwners();
  }

  /** Unchanged groups keep running; changed ones stop (right to left) and start again; removed ones stop. */
  reload(next: readonly PlannedGroup[]): void {
    const byName = new Map(next.map((g) => [g.def.name, g]));
    const d = diffById(
      [...this.#running.values()].map((r) => r.planned),
      next,
      (g) => g.def.name,
    );
    for (const name of d.kept) {
      const n = byName.get(name)!;
      this.#running.get(name)?.port.setMaintenance(n.def.maintenance);
    }
    for (const name of [...d.changed, ...d.removed]) {
      const r = this.#running.get(name)!;
      this.#running.delete(name);
      const done = r.port.shutdown();
      const n = byName.get(name);
      // A changed group starts again only once its old resources are all stopped.
      if (n)
        void done.then(() => {
          if (!this.#stopped) this.start([n]);
        });
    }
    this.start(d.added.map((name) => byName.get(name)!));
  }

  /** Tells each group whether this node owns it now, with the elector's fencing token. */
  syncOwners(): void {
    for (const r of this.#running.values()) {
      const o = this.#stopped ? undefined : this.#o.elector.ownership(r.planned.owner);
      const owned = o?.owned ?? false;
      if (owned === r.owned && (!owned || o?.token === r.token)) continue;
      r.owned = owned;
      r.token = o?.token ?? 0;
      r.port.setOwner(owned, r.token);
    }
  }

  /** A group's runner by name. */
  get(name: string): GroupPort | undefined {
    return this.#running.get(name)?.port;
  }

  /** Every group's status. */
  statuses(): GroupStatus[] {
    return [...this.#running.values()].map((r) => r.port.status());
  }

  get size(): number {
    return this.#running.size;
  }

  /** Stops every group right to left and waits for it. */
  async shutdown(): Promise<void> {
    const all = [...this.#running.values()];
    this.#running.clear();
    await Promise.all(all.map((g) => g.port.shutdown()));
  }

  /** Like SIGKILL: the runners are dropped without stopping anything. */
  abandon(): void {
    this.#stopped = true;
    for (const g of this.#running.values()) g.port.abandon();
    this.#running.clear();
  }

  /** No more groups start; those still running stop in the background, right to left. */
  stop(): void {
    this.#stopped = true;
    for (const g of this.#running.values()) void g.port.shutdown();
    this.#running.clear();
  }
}
