/**
 * The etcd lease election of one node, as a pure reducer: `step(state, input, now)` → `{ state, effects }`. The node
 * holds one lease; each group is a key `PREFIX/owners/GROUP` put under that lease if absent (one txn); the fencing
 * token is the key's create revision, which etcd makes comparable across nodes.
 *
 * Safety (no two owners, even when this node is cut off from etcd): the server's lease outlives a keepalive *sent*
 * at local time t by at least TTL (the server received it after t, and renews to the full TTL). So this node may act
 * as owner only until `validUntil = t_lastOkRenewSent + TTL − safetyMargin` on its monotonic clock, and steps down
 * when that passes without a successful renewal; another node can take the key only after the server expires the
 * lease, at least `safetyMargin` later. A node owns a group only after its own campaign txn succeeded.
 *
 * Transitions of a group (the only place they happen; `election/etcd.test.ts` checks them):
 *   unknown  --campaign sent-------------------------------> campaigning
 *   absent   --campaign sent (after the group's delay)-----> campaigning
 *   campaigning --txn won-------------------------------------> held
 *   campaigning --txn lost (another holder)----------------> other
 *   campaigning --txn failed-------------------------------> unknown
 *   other    --watch: key deleted / list: key absent-------> absent
 *   held     --lease gone (renew says TTL 0, or re-granted)-> unknown
 *   held     --resign (ineligible)-------------------------> unknown (release sent)
 * `owned` is derived: held, eligible, and the lease valid now — or, with `no_quorum_policy` freeze/ignore, held and
 * the lease not known to be gone.
 */
import type { Ms } from '../core/time.ts';

/** What happens when the lease cannot be renewed in time (Pacemaker's no-quorum-policy names). */
export type NoQuorumPolicy = 'stop' | 'freeze' | 'ignore';

/** The lease settings. */
export interface EtcdElectionOptions {
  /** Lease TTL asked of etcd. @default 3000 */
  ttlMs: Ms;
  /** A keepalive every this often. @default 500 */
  renewMs: Ms;
  /** Step down this long before the earliest time the server may expire the lease. @default 1000 */
  marginMs: Ms;
  /** Re-read the owner keys this often (covers a missed watch event). @default 10000 */
  resyncMs: Ms;
  policy: NoQuorumPolicy;
}

export type GroupPhase = 'unknown' | 'absent' | 'campaigning' | 'held' | 'other';

/** One group as this node sees it. */
export interface LeaseGroup {
  key: string;
  phase: GroupPhase;
  /** The key's create revision while held (the fencing token), or the other holder's. */
  revision: number;
  /** Who holds it (a node name), when known. */
  holder: string | null;
  /** This node may campaign for it and hold it (witness mode: its VRRP side is healthy; a group gave up: false). */
  eligible: boolean;
  /** Wait this long after the key is seen absent before campaigning (preferred nodes first). */
  delayMs: Ms;
  /** Campaign not before. */
  campaignAt: Ms;
  /** The derived ownership last reported, and why. */
  owned: boolean;
  cause: string;
}

export interface EtcdElectionState {
  lease: {
    phase: 'none' | 'granting' | 'held';
    id: string | null;
    /** This node may act as owner until then (monotonic ms); -Infinity when never renewed. */
    validUntil: Ms;
    /** A keepalive is in flight, sent then. */
    renewSentAt: Ms | null;
    nextRenewAt: Ms;
    /** The server said the lease is gone (or it could not be granted): no owner may stay on it. */
    gone: boolean;
    failures: number;
    lastError: string;
  };
  groups: Record<string, LeaseGroup>;
  listing: boolean;
  nextResyncAt: Ms;
  /** The quorum last reported (a valid lease). */
  quorum: boolean;
}

/** What the reducer is told. */
export type EtcdInput =
  | { kind: 'tick' }
  | { kind: 'groups'; groups: readonly { key: string; delayMs: Ms }[] }
  | { kind: 'eligible'; key: string; eligible: boolean }
  | { kind: 'granted'; id: string; ttlMs: Ms; sentAt: Ms }
  | { kind: 'grantFailed'; error: string }
  | { kind: 'renewed'; sentAt: Ms; ttlMs: Ms }
  | { kind: 'renewFailed'; sentAt: Ms; error: string }
  | { kind: 'campaigned'; key: string; won: boolean; revision: number; holder: string | null }
  | { kind: 'campaignFailed'; key: string; error: string }
  | { kind: 'deleted'; key: string }
  | { kind: 'put'; key: string; revision: number; holder: string | null; lease: string }
  | { kind: 'listed'; entries: readonly { key: string; revision: number; holder: string | null; lease: string }[] }
  | { kind: 'listFailed'; error: string };

/** What the driver must do. */
export type EtcdEffect =
  | { kind: 'grant'; ttlMs: Ms }
  | { kind: 'renew'; lease: string }
  | { kind: 'campaign'; key: string; lease: string }
  | { kind: 'release'; key: string; lease: string }
  | { kind: 'list' }
  | { kind: 'arm'; at: Ms }
  | { kind: 'ownership'; key: string; owned: boolean; token: number; cause: string }
  | { kind: 'quorum'; ok: boolean; detail: string };

/** The defaults: kube-vip-like timing, scaled down (TTL 3 s, renew 500 ms, margin 1 s). */
export const ETCD_DEFAULTS: EtcdElectionOptions = {
  ttlMs: 3_000,
  renewMs: 500,
  marginMs: 1_000,
  resyncMs: 10_000,
  policy: 'stop',
};

/** A fresh state: no lease, no groups. */
export function initialEtcdState(): EtcdElectionState {
  return {
    lease: {
      phase: 'none',
      id: null,
      validUntil: Number.NEGATIVE_INFINITY,
      renewSentAt: null,
      nextRenewAt: 0,
      gone: false,
      failures: 0,
      lastError: '',
    },
    groups: {},
    listing: false,
    nextResyncAt: 0,
    quorum: false,
  };
}

/** The lease lets this node act as owner now (quorum in Pacemaker's words). */
export function leaseValid(s: EtcdElectionState, now: Ms): boolean {
  return s.lease.phase === 'held' && now < s.lease.validUntil;
}

/** Whether a group is owned now, derived. Pure. */
export function derivedOwned(s: EtcdElectionState, g: LeaseGroup, now: Ms, o: EtcdElectionOptions): boolean {
  if (g.phase !== 'held' || !g.eligible) return false;
  if (leaseValid(s, now)) return true;
  return o.policy !== 'stop' && s.lease.phase === 'held' && !s.lease.gone;
}

/** The settings must leave room for renewals before the margin: renew < TTL − margin, margin > 0. */
export function checkEtcdOptions(o: EtcdElectionOptions): string | null {
  if (o.marginMs <= 0) return 'safety_margin must be more than 0';
  if (o.ttlMs < 2_000) return 'lease_ttl must be at least 2s (etcd grants whole seconds, minimum about 2s)';
  if (o.ttlMs % 1_000 !== 0) return 'lease_ttl must be whole seconds (etcd grants leases in seconds)';
  if (o.renewMs >= o.ttlMs - o.marginMs)
    return `renew_interval (${o.renewMs}ms) must be less than lease_ttl − safety_margin (${o.ttlMs - o.marginMs}ms)`;
  return null;
}

/** One step of the election. Pure: no I/O, no clock but `now`. */
export function step(
  prev: EtcdElectionState,
  input: EtcdInput,
  now: Ms,
  o: EtcdElectionOptions,
): { state: EtcdElectionState; effects: EtcdEffect[] } {
  const s: EtcdElectionState = structuredClone(prev);
  const fx: EtcdEffect[] = [];
  const L = s.lease;
  let cause = input.kind === 'tick' ? 'lease-unrenewed' : (input.kind as string);
  switch (input.kind) {
    case 'tick':
      break;
    case 'groups': {
      const next: Record<string, LeaseGroup> = {};
      for (const g of input.groups) {
        next[g.key] = s.groups[g.key] ?? {
          key: g.key,
          phase: 'unknown',
          revision: 0,
          holder: null,
          eligible: true,
          delayMs: g.delayMs,
          campaignAt: now + g.delayMs,
          owned: false,
          cause: 'watched',
        };
        next[g.key]!.delayMs = g.delayMs;
      }
      for (const [k, g] of Object.entries(s.groups))
        if (!next[k] && g.phase === 'held' && L.id) fx.push({ kind: 'release', key: k, lease: L.id });
      s.groups = next;
      break;
    }
    case 'eligible': {
      const g = s.groups[input.key];
      if (!g || g.eligible === input.eligible) break;
      g.eligible = input.eligible;
      cause = input.eligible ? 'eligible' : 'resigned';
      if (!input.eligible && g.phase === 'held' && L.id) {
        fx.push({ kind: 'release', key: g.key, lease: L.id });
        g.phase = 'unknown';
      }
      if (input.eligible) g.campaignAt = now + g.delayMs;
      break;
    }
    case 'granted':
      L.phase = 'held';
      L.id = input.id;
      L.gone = false;
      L.failures = 0;
      L.validUntil = input.sentAt + input.ttlMs - o.marginMs;
      L.nextRenewAt = input.sentAt + o.renewMs;
      L.renewSentAt = null;
      // A new lease holds no key yet: every group is to be found out again.
      for (const g of Object.values(s.groups)) if (g.phase === 'held' || g.phase === 'campaigning') g.phase = 'unknown';
      cause = 'lease-granted';
      break;
    case 'grantFailed':
      L.phase = 'none';
      L.failures++;
      L.lastError = input.error;
      L.nextRenewAt = now + o.renewMs;
      break;
    case 'renewed':
      L.renewSentAt = null;
      if (input.ttlMs <= 0) {
        // The server expired the lease: its keys are gone (or another node holds them by now).
        L.phase = 'none';
        L.id = null;
        L.gone = true;
        L.validUntil = Number.NEGATIVE_INFINITY;
        L.nextRenewAt = now;
        for (const g of Object.values(s.groups))
          if (g.phase === 'held' || g.phase === 'campaigning') g.phase = 'unknown';
        cause = 'lease-expired';
      } else {
        L.failures = 0;
        L.validUntil = Math.max(L.validUntil, input.sentAt + input.ttlMs - o.marginMs);
        cause = 'lease-renewed';
      }
      break;
    case 'renewFailed':
      L.renewSentAt = null;
      L.failures++;
      L.lastError = input.error;
      break;
    case 'campaigned': {
      const g = s.groups[input.key];
      if (g?.phase !== 'campaigning') break;
      if (input.won) {
        g.phase = 'held';
        g.revision = input.revision;
        g.holder = input.holder;
        cause = 'campaign-won';
        // Held while ineligible (it changed while the txn flew): give it back.
        if (!g.eligible && L.id) {
          fx.push({ kind: 'release', key: g.key, lease: L.id });
          g.phase = 'unknown';
        }
      } else {
        g.phase = 'other';
        g.revision = input.revision;
        g.holder = input.holder;
        cause = 'campaign-lost';
      }
      break;
    }
    case 'campaignFailed': {
      const g = s.groups[input.key];
      if (g && g.phase === 'campaigning') {
        g.phase = 'unknown';
        g.campaignAt = now + o.renewMs;
      }
      break;
    }
    case 'deleted': {
      const g = s.groups[input.key];
      if (g && g.phase !== 'campaigning') {
        // The owner is gone: every node campaigns at once (the delays order the first campaign only, so that a
        // failover takes no longer than the lease's expiry). Our own key deleted under us: not ours any more.
        g.phase = 'absent';
        g.holder = null;
        g.campaignAt = now;
        cause = 'owner-key-deleted';
      }
      break;
    }
    case 'put': {
      const g = s.groups[input.key];
      if (g && g.phase !== 'campaigning' && input.lease !== L.id) {
        g.phase = 'other';
        g.revision = input.revision;
        g.holder = input.holder;
        cause = 'owner-elsewhere';
      }
      break;
    }
    case 'listed': {
      s.listing = false;
      const seen = new Map(input.entries.map((e) => [e.key, e]));
      for (const g of Object.values(s.groups)) {
        if (g.phase === 'campaigning') continue;
        const e = seen.get(g.key);
        if (!e) {
          if (g.phase !== 'absent') g.campaignAt = Math.max(g.campaignAt, now);
          g.phase = 'absent';
          g.holder = null;
        } else if (L.id && e.lease === L.id) {
          g.phase = 'held';
          g.revision = e.revision;
        } else {
          g.phase = 'other';
          g.revision = e.revision;
          g.holder = e.holder;
        }
      }
      cause = 'resync';
      break;
    }
    case 'listFailed':
      s.listing = false;
      break;
  }

  // The lease: grant one when there is none, renew on schedule, one request in flight at a time.
  if (L.phase === 'none' && now >= L.nextRenewAt) {
    L.phase = 'granting';
    fx.push({ kind: 'grant', ttlMs: o.ttlMs });
  }
  if (L.phase === 'held' && L.renewSentAt === null && now >= L.nextRenewAt && L.id) {
    L.renewSentAt = now;
    L.nextRenewAt = now + o.renewMs;
    fx.push({ kind: 'renew', lease: L.id });
  }
  const valid = leaseValid(s, now);
  if (valid !== s.quorum) {
    s.quorum = valid;
    fx.push({
      kind: 'quorum',
      ok: valid,
      detail: valid ? 'lease held' : `lease not renewed in time (${L.lastError || 'no answer'})`,
    });
  }
  // Campaigns: only with a valid lease, for eligible groups whose key is absent or not known.
  if (valid && L.id) {
    for (const g of Object.values(s.groups)) {
      if (!g.eligible || (g.phase !== 'unknown' && g.phase !== 'absent') || now < g.campaignAt) continue;
      g.phase = 'campaigning';
      fx.push({ kind: 'campaign', key: g.key, lease: L.id });
    }
  }
  if (valid && !s.listing && now >= s.nextResyncAt) {
    s.listing = true;
    s.nextResyncAt = now + o.resyncMs;
    fx.push({ kind: 'list' });
  }
  // Derived ownership, reported on change.
  for (const g of Object.values(s.groups)) {
    const owned = derivedOwned(s, g, now, o);
    if (owned === g.owned) continue;
    g.owned = owned;
    g.cause = cause;
    fx.push({ kind: 'ownership', key: g.key, owned, token: owned ? g.revision : 0, cause: g.cause });
  }
  fx.push({ kind: 'arm', at: nextWake(s, now, o) });
  return { state: s, effects: fx };
}

/** The next instant the reducer must look: a renewal, the lease's local deadline, a delayed campaign, a resync. */
function nextWake(s: EtcdElectionState, now: Ms, o: EtcdElectionOptions): Ms {
  const at: Ms[] = [s.lease.nextRenewAt];
  if (s.lease.phase === 'held' && s.lease.validUntil > now) at.push(s.lease.validUntil);
  if (s.lease.phase === 'held') at.push(s.nextResyncAt);
  for (const g of Object.values(s.groups))
    if (g.eligible && (g.phase === 'unknown' || g.phase === 'absent') && g.campaignAt > now) at.push(g.campaignAt);
  const next = Math.min(...at.filter((t) => t > now));
  return Number.isFinite(next) ? next : now + o.renewMs;
}
