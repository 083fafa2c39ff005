/**
 * The sync group coordinator (keepalived vrrp_sync_group): pure. "All members follow the group's most severe state":
 * FAULT over BACKUP over MASTER. Given the members' states after one of them stepped, it returns the `sync` inputs to
 * feed to the others; the driver feeds them and calls it again after each of those steps, until it returns nothing.
 *
 * keepalived's rules, as implemented here (vrrp_sync.c, vrrp_scheduler.c's transition matrix):
 * - a member in FAULT puts every other member in FAULT ("VRRP_Group(G) Syncing instances to FAULT state"), and the
 *   group leaves FAULT only when no member is faulted on its own;
 * - a member that leaves MASTER for BACKUP takes the other masters with it (TSM handler MASTER → BACKUP);
 * - a member that becomes MASTER takes the other backups with it (TSM handler → MASTER).
 * Transitions the coordinator itself ordered (cause `sync-group`) do not cascade: the order already went to everyone.
 */
import type { InstanceState, TransitionCause, VrrpInput } from './machine.ts';
import type { VrrpState } from './types.ts';

/** What the coordinator needs to know about one member. */
export interface SyncMemberView {
  name: string;
  state: VrrpState;
  /** Faulted on its own (a weight-0 tracker). */
  trackerFault: boolean;
  /** Held in FAULT by the group. */
  syncFault: boolean;
}

/** A member's transition that may need following. */
export interface SyncChange {
  member: string;
  from: VrrpState;
  to: VrrpState;
  cause: TransitionCause;
}

/** One input for one member. */
export interface SyncOrder {
  member: string;
  input: Extract<VrrpInput, { kind: 'sync' }>;
}

/** The view of a member from its state. */
export function syncMemberView(name: string, s: InstanceState): SyncMemberView {
  return { name, state: s.state, trackerFault: s.trackerFault, syncFault: s.syncFault };
}

const SEVERITY: Readonly<Record<VrrpState, number>> = { INIT: 0, MASTER: 1, BACKUP: 2, FAULT: 3 };

/**
 * The group's state: FAULT if any member is faulted on its own, else the most severe member state (FAULT > BACKUP >
 * MASTER); INIT only when every member is in INIT.
 */
export function groupState(members: readonly SyncMemberView[]): VrrpState {
  if (members.some((m) => m.trackerFault)) return 'FAULT';
  let worst: VrrpState = 'INIT';
  for (const m of members) if (SEVERITY[m.state] > SEVERITY[worst]) worst = m.state;
  return worst;
}

/**
 * The inputs that bring the other members in line, after `change` (if the last step was a transition) left the
 * group as `members`. Idempotent: called again on the result, it returns nothing.
 * @example syncGroupInputs(views, { member: 'VI_1', from: 'BACKUP', to: 'FAULT', cause: 'tracker-fault' })
 */
export function syncGroupInputs(members: readonly SyncMemberView[], change?: SyncChange): SyncOrder[] {
  const orders: SyncOrder[] = [];
  // Level rule: a member is held in FAULT exactly while another member is faulted on its own. Holding a member that
  // is itself faulted matters too: when its own fault clears it must stay down while the others' faults last.
  for (const m of members) {
    const held = members.some((o) => o.name !== m.name && o.trackerFault);
    if (held && !m.syncFault) orders.push({ member: m.name, input: { kind: 'sync', to: 'FAULT' } });
    else if (!held && m.syncFault) orders.push({ member: m.name, input: { kind: 'sync', to: 'BACKUP' } });
  }
  if (!change || change.cause === 'sync-group' || orders.length > 0) return orders;
  // Edge rules: follow a member's own move between MASTER and BACKUP.
  const follow = (from: VrrpState, to: 'MASTER' | 'BACKUP'): void => {
    for (const m of members) {
      if (m.name !== change.member && m.state === from) orders.push({ member: m.name, input: { kind: 'sync', to } });
    }
  };
  if (change.to === 'MASTER') follow('BACKUP', 'MASTER');
  else if (change.from === 'MASTER' && change.to === 'BACKUP') follow('MASTER', 'BACKUP');
  return orders;
}
