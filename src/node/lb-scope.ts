/**
 * Which virtual services this node may serve (their owner runs here: they are health-checked) and which it serves
 * now (programmed into the data planes), from the elector's ownership alone. Pure.
 */
import type { OwnerRef, Ownership } from '../election/elector.ts';
import type { LbOwner, ServicePlan } from '../lb/service-plan.ts';

/** The elector's group for a service owner; null for a service every node serves (no VRRP instance holds its vip). */
export function ownerRefOf(o: LbOwner): OwnerRef | null {
  if (o.kind === 'always') return null;
  return o.kind === 'instance' ? o : { kind: 'sync-group', name: o.name, members: o.members };
}

/**
 * The LB scope. A service whose owner does not run here is neither; one with no VRRP owner is both everywhere; one
 * served by a resource group's `lb` resource is active while that resource runs here (`groupServing`); any other is
 * active while the elector says this node owns its owner.
 * @example lbScope(plan.services, (o) => elector.ownership(o), new Set()) // { may: ['web'], active: ['web'] }
 */
export function lbScope(
  services: readonly Pick<ServicePlan, 'svc' | 'owner' | 'resourceGroup'>[],
  ownership: (o: OwnerRef) => Ownership | undefined,
  groupServing: ReadonlySet<string>,
): { may: string[]; active: string[] } {
  const may: string[] = [];
  const active: string[] = [];
  for (const sp of services) {
    const ref = ownerRefOf(sp.owner);
    const o = ref ? ownership(ref) : null;
    if (o === undefined) continue;
    may.push(sp.svc.id);
    const serving = sp.resourceGroup !== undefined ? groupServing.has(sp.svc.id) : o === null || o.owned;
    if (serving) active.push(sp.svc.id);
  }
  return { may, active };
}
