/**
 * The etcd elector of one node: drives the pure lease election (election/etcd.ts) with a clock and an {@link EtcdPort}
 * (os/etcd.ts over the etcd3 client; a fake in sim/), and answers the {@link Elector} contract for lease-owned groups.
 * {@link WitnessElector} joins it to the VRRP elector for the witness mode: a VRRP master owns a group only while it
 * also holds the group's lease (or, with `no_quorum_policy: ignore`, while etcd cannot be reached at all).
 */
import type { Cancel, Clock, Ms } from '../core/time.ts';
import { type Elector, type OwnerRef, type Ownership, ownerKey } from './elector.ts';
import {
  type EtcdEffect,
  type EtcdElectionOptions,
  type EtcdElectionState,
  type EtcdInput,
  initialEtcdState,
  leaseValid,
  step,
} from './etcd.ts';

/** One owner key as etcd holds it. */
export interface OwnerEntry {
  key: string;
  revision: number;
  holder: string | null;
  lease: string;
}

/** What the elector needs of etcd. Every call is bounded by the adapter's request timeout. */
export interface EtcdPort {
  /** A new lease of `ttlMs` (whole seconds); its id. */
  grant(ttlMs: Ms): Promise<string>;
  /** One keepalive; the TTL the server now gives the lease (0: the lease is gone). */
  keepAlive(lease: string): Promise<Ms>;
  /** Puts `key` = `value` under `lease` if it does not exist (one txn); else tells who holds it. */
  campaign(
    key: string,
    value: string,
    lease: string,
  ): Promise<{ won: boolean; revision: number; holder: string | null }>;
  /** Deletes `key` if it is still held under `lease` (one txn). */
  release(key: string, lease: string): Promise<void>;
  /** Revokes a lease (its keys go at once). */
  revoke(lease: string): Promise<void>;
  /** Every key under `prefix`. */
  list(prefix: string): Promise<OwnerEntry[]>;
  /** Watches `prefix` until the returned function is called. */
  watch(prefix: string, on: (e: { kind: 'put' | 'delete' } & OwnerEntry) => void): () => void;
}

/** A log line the elector wants written (the node's logger, through the caller). */
export type ElectorLog = (level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown>) => void;

/** Counters for status and the benchmarks. */
export interface EtcdElectorCounters {
  grants: number;
  renewals: number;
  renewFailures: number;
  campaigns: number;
  releases: number;
  lists: number;
}

/** The etcd lease elector of one node. */
export class EtcdElector implements Elector {
  readonly #clock: Clock;
  readonly #port: EtcdPort;
  readonly #o: EtcdElectionOptions;
  readonly #node: string;
  readonly #prefix: string;
  readonly #log: ElectorLog;
  #s: EtcdElectionState = initialEtcdState();
  #owners = new Map<string, OwnerRef>();
  #o2 = new Map<string, Ownership>();
  readonly #listeners = new Set<(o: Ownership) => void>();
  readonly #quorumListeners = new Set<(ok: boolean) => void>();
  #timer: Cancel | null = null;
  #unwatch: (() => void) | null = null;
  #stopped = false;
  readonly counters: EtcdElectorCounters = {
    grants: 0,
    renewals: 0,
    renewFailures: 0,
    campaigns: 0,
    releases: 0,
    lists: 0,
  };

  /** `prefix`: the cluster's etcd prefix, e.g. `/tandem/web`; owner keys are `PREFIX/owners/GROUP`. */
  constructor(opts: {
    clock: Clock;
    port: EtcdPort;
    options: EtcdElectionOptions;
    node: string;
    prefix: string;
    log?: ElectorLog;
  }) {
    this.#clock = opts.clock;
    this.#port = opts.port;
    this.#o = opts.options;
    this.#node = opts.node;
    this.#prefix = `${opts.prefix.replace(/\/+$/, '')}/owners/`;
    this.#log = opts.log ?? (() => {});
  }

  /** Starts the lease and the watch. */
  start(): void {
    this.#unwatch = this.#port.watch(this.#prefix, (e) => {
      const key = e.key.slice(this.#prefix.length);
      if (e.kind === 'delete') this.#input({ kind: 'deleted', key });
      else this.#input({ kind: 'put', key, revision: e.revision, holder: e.holder, lease: e.lease });
    });
    this.#input({ kind: 'tick' });
  }

  /** The groups this node campaigns for, each with its delay (preferred nodes campaign first). */
  setGroups(groups: readonly { owner: OwnerRef; delayMs: Ms }[]): void {
    this.#owners = new Map(groups.map((g) => [ownerKey(g.owner), g.owner]));
    for (const k of [...this.#o2.keys()]) if (!this.#owners.has(k)) this.#o2.delete(k);
    this.#input({ kind: 'groups', groups: groups.map((g) => ({ key: ownerKey(g.owner), delayMs: g.delayMs })) });
  }

  /** Whether this node may hold `owner` (false: it resigns and stops campaigning). */
  setEligible(owner: OwnerRef, eligible: boolean): void {
    this.#input({ kind: 'eligible', key: ownerKey(owner), eligible });
  }

  /** The lease is valid now (this node reaches a quorum of etcd). */
  quorum(): boolean {
    return leaseValid(this.#s, this.#clock.now());
  }

  /** The reducer's state (status, tests). */
  get state(): Readonly<EtcdElectionState> {
    return this.#s;
  }

  onQuorum(listener: (ok: boolean) => void): () => void {
    this.#quorumListeners.add(listener);
    return () => this.#quorumListeners.delete(listener);
  }

  ownership(owner: OwnerRef): Ownership | undefined {
    const key = ownerKey(owner);
    if (!this.#owners.has(key)) return undefined;
    return this.#o2.get(key) ?? this.#fresh(key);
  }

  all(): Ownership[] {
    return [...this.#owners.keys()].map((k) => this.#o2.get(k) ?? this.#fresh(k));
  }

  onChange(listener: (o: Ownership) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Graceful stop (a planned move): owned keys are released and the lease revoked, so a peer takes over at once. */
  async stop(): Promise<void> {
    const lease = this.#s.lease.id;
    this.#halt();
    for (const o of this.#o2.values()) if (o.owned) this.#set({ ...o, owned: false, cause: 'stopped' });
    if (lease) await this.#port.revoke(lease).catch(() => undefined);
  }

  /** Like SIGKILL: timers and the watch stop, nothing is released (the lease expires on the server). */
  kill(): void {
    this.#halt();
  }

  #halt(): void {
    this.#stopped = true;
    this.#timer?.();
    this.#timer = null;
    this.#unwatch?.();
    this.#unwatch = null;
  }

  #fresh(key: string): Ownership {
    const o: Ownership = {
      key,
      owner: this.#owners.get(key)!,
      owned: false,
      sinceMs: this.#clock.now(),
      token: 0,
      cause: 'watched',
    };
    this.#o2.set(key, o);
    return o;
  }

  #set(o: Ownership): void {
    this.#o2.set(o.key, o);
    for (const l of [...this.#listeners]) l(o);
  }

  #input(input: EtcdInput): void {
    if (this.#stopped) return;
    const now = this.#clock.now();
    const r = step(this.#s, input, now, this.#o);
    this.#s = r.state;
    for (const e of r.effects) this.#effect(e, now);
  }

  #effect(e: EtcdEffect, now: Ms): void {
    const p = this.#port;
    switch (e.kind) {
      case 'arm':
        this.#timer?.();
        this.#timer = this.#clock.at(e.at, () => {
          this.#timer = null;
          this.#input({ kind: 'tick' });
        });
        return;
      case 'grant':
        this.counters.grants++;
        p.grant(e.ttlMs).then(
          (id) => this.#input({ kind: 'granted', id, ttlMs: e.ttlMs, sentAt: now }),
          (err) => this.#input({ kind: 'grantFailed', error: msg(err) }),
        );
        return;
      case 'renew':
        this.counters.renewals++;
        p.keepAlive(e.lease).then(
          (ttlMs) => {
            if (this.#s.lease.id === e.lease) this.#input({ kind: 'renewed', sentAt: now, ttlMs });
          },
          (err) => {
            this.counters.renewFailures++;
            this.#input({ kind: 'renewFailed', sentAt: now, error: msg(err) });
          },
        );
        return;
      case 'campaign':
        this.counters.campaigns++;
        p.campaign(this.#prefix + e.key, JSON.stringify({ node: this.#node }), e.lease).then(
          (r) => this.#input({ kind: 'campaigned', key: e.key, ...r }),
          (err) => this.#input({ kind: 'campaignFailed', key: e.key, error: msg(err) }),
        );
        return;
      case 'release':
        this.counters.releases++;
        void p.release(this.#prefix + e.key, e.lease).catch(() => undefined);
        return;
      case 'list':
        this.counters.lists++;
        p.list(this.#prefix).then(
          (entries) =>
            this.#input({
              kind: 'listed',
              entries: entries.map((x) => ({ ...x, key: x.key.slice(this.#prefix.length) })),
            }),
          (err) => this.#input({ kind: 'listFailed', error: msg(err) }),
        );
        return;
      case 'quorum':
        this.#log(e.ok ? 'info' : 'warn', `etcd: ${e.ok ? 'quorum: ' : 'no quorum: '}${e.detail}`, {
          event: 'etcd-quorum',
          ok: e.ok,
          policy: this.#o.policy,
        });
        for (const l of [...this.#quorumListeners]) l(e.ok);
        return;
      case 'ownership': {
        const owner = this.#owners.get(e.key);
        if (!owner) return;
        this.#log('info', `etcd: ${e.owned ? 'owns' : 'released'} ${e.key} (${e.cause}, token ${e.token})`, {
          event: 'etcd-ownership',
          group: e.key,
          owned: e.owned,
          token: e.token,
          cause: e.cause,
        });
        this.#set({ key: e.key, owner, owned: e.owned, sinceMs: now, token: e.token, cause: e.cause });
        return;
      }
    }
  }
}

/**
 * The witness mode's elector: VRRP decides on the segment, etcd breaks the tie. A group is owned when VRRP owns it
 * here and this node holds the group's lease; with `no_quorum_policy: ignore` and no quorum, VRRP alone decides.
 */
export class WitnessElector implements Elector {
  readonly #vrrp: Elector;
  readonly #etcd: EtcdElector;
  readonly #ignore: boolean;
  readonly #last = new Map<string, string>();
  readonly #listeners = new Set<(o: Ownership) => void>();

  constructor(vrrp: Elector, etcd: EtcdElector, policy: EtcdElectionOptions['policy']) {
    this.#vrrp = vrrp;
    this.#etcd = etcd;
    this.#ignore = policy === 'ignore';
    const fire = () => {
      for (const o of this.all()) {
        const sig = `${o.owned}:${o.token}`;
        if (this.#last.get(o.key) === sig) continue;
        this.#last.set(o.key, sig);
        for (const l of [...this.#listeners]) l(o);
      }
    };
    vrrp.onChange(fire);
    etcd.onChange(fire);
    etcd.onQuorum(fire);
  }

  ownership(owner: OwnerRef): Ownership | undefined {
    const v = this.#vrrp.ownership(owner);
    if (!v) return undefined;
    const e = this.#etcd.ownership(owner);
    if (!e) return v;
    if (this.#ignore && !this.#etcd.quorum()) return { ...v, cause: `${v.cause}; etcd unreachable (policy ignore)` };
    const owned = v.owned && e.owned;
    // The lease's create revision is the token: it is comparable across nodes.
    return {
      ...v,
      owned,
      token: owned ? e.token : 0,
      cause: owned ? v.cause : v.owned ? `no lease: ${e.cause}` : v.cause,
    };
  }

  all(): Ownership[] {
    return this.#vrrp.all().map((o) => this.ownership(o.owner) ?? o);
  }

  onChange(listener: (o: Ownership) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

const msg = (e: unknown): string => (e instanceof Error ? e.message : String(e));
