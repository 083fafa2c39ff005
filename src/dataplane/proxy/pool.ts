/**
 * The backends of one proxied service and the choice of one for each new TCP connection or HTTP request: persistence
 * first (lb/persistence.ts), then the service's scheduler (lb/schedulers, fed the proxy's own live connection counts
 * for lc/wlc), the sorry server when the desired state names one. Passive health lives here too: consecutive
 * connection failures per backend, and the exclusion of a backend that reached the limit until a later `apply` brings
 * it back. No I/O, no clock: the time is a parameter (Rule 1); tcp.ts and http.ts do the sockets.
 */
import type { Ms } from '../../core/time.ts';
import type { PassiveFailure } from '../../lb/dataplane.ts';
import { type Affinity, persistenceKey, renewAffinity, stickyBackend } from '../../lb/persistence.ts';
import { SCHEDULERS } from '../../lb/schedulers/index.ts';
import type { SchedBackend, SchedClient, Scheduler } from '../../lb/schedulers/types.ts';
import type {
  BackendReason,
  DesiredService,
  Endpoint,
  OpState,
  PersistenceConfig,
  SchedulerName,
} from '../../lb/types.ts';
import { serverKey } from '../../lb/types.ts';

/**
 * Why a connection to a backend failed (closed set, Rule 5; HAProxy's check codes): `L4CON` refused, reset or
 * unreachable; `L4TOUT` the connect timed out; `SOCKERR` our side (no source port, no file descriptor), which says
 * nothing about the server and is never counted against it.
 */
export type ConnectFailureCode = 'L4CON' | 'L4TOUT' | 'SOCKERR';

/** A backend at run time: what the desired state says of it, its live counts, and its passive-health state. */
export interface ProxyBackend extends SchedBackend {
  readonly key: string;
  readonly addr: string;
  readonly port: number;
  /** What the scheduler sees: the desired weight, or 0 while passive health excludes the backend. */
  weight: number;
  /** The weight of the last apply. */
  desiredWeight: number;
  op: OpState;
  reason: BackendReason | 'sorry';
  /** Open connections (TCP) / requests in flight (HTTP), counted from the choice until the upstream side closes. */
  active: number;
  /** Always 0 here: the scheduler weighs in-flight work only (http.ts reads its idle pooled connections itself). */
  inactive: number;
  /** Consecutive connection failures. */
  failures: number;
  /** Excluded by passive health until an apply brings it back. */
  passiveDown: boolean;
  /** In the last desired state; false = kept only until its connections end. */
  live: boolean;
  /** The sorry server (never counted by passive health, never retried elsewhere). */
  readonly sorry: boolean;
  /** Owned by the HTTP side: this backend's keep-alive pool (http.ts). */
  upstream?: unknown;
}

/**
 * Hooks a transport gives the pool: a backend left the desired state, came back to it while its old connections
 * still ran, or has no connection left after leaving it.
 */
export interface PoolHooks {
  retire?(b: ProxyBackend): void;
  revive?(b: ProxyBackend): void;
  gone?(b: ProxyBackend): void;
}

/** The client of a connection, as the pool needs it. */
export interface PoolClient extends SchedClient {
  /** The persistence key (`persistenceKey(addr, netmask)`), filled in by {@link BackendPool.clientOf}. */
  affinityKey: string;
}

/** Affinity records are swept of expired entries once per this many new records. */
const SWEEP_EVERY = 1024;

function makeBackend(addr: string, port: number, sorry: boolean): ProxyBackend {
  return {
    key: serverKey(addr, port),
    addr,
    port,
    weight: 0,
    desiredWeight: 0,
    op: 'up',
    reason: sorry ? 'sorry' : 'up',
    active: 0,
    inactive: 0,
    failures: 0,
    passiveDown: false,
    live: true,
    sorry,
  };
}

/**
 * The backends of one service and its choice state.
 * @example
 *   const pool = new BackendPool('web');
 *   pool.update(desired);
 *   const b = pool.choose(pool.clientOf('198.51.100.7'), now);
 */
export class BackendPool {
  readonly id: string;
  /** The backends of the desired state, in pool order (the scheduler's list). */
  backends: ProxyBackend[] = [];
  /** The sorry server when the desired state names one. */
  sorryBackend: ProxyBackend | null = null;
  /** Backends (and former sorry servers) that left the desired state but still have connections. */
  readonly retired = new Set<ProxyBackend>();
  private readonly byKey = new Map<string, ProxyBackend>();
  private scheduler: SchedulerName = 'wlc';
  private sched: Scheduler<unknown> = SCHEDULERS.wlc as Scheduler<unknown>;
  private schedState: unknown = null;
  private persistence: PersistenceConfig | null = null;
  private readonly affinities = new Map<string, Affinity>();
  private sinceSweep = 0;
  private hooks: PoolHooks = {};
  /** Bumped when the persistence granularity changes: a {@link PoolClient} from an older generation is stale. */
  generation = 0;

  constructor(id: string) {
    this.id = id;
  }

  /** Installs the transport's hooks (http.ts keeps its keep-alive pools in step). */
  setHooks(hooks: PoolHooks): void {
    this.hooks = hooks;
  }

  /**
   * Converges to a desired service: backends added, removed (kept in {@link retired} while connections remain) or
   * re-weighted, with their counts kept. A backend's passive state is cleared when it comes back into the desired
   * state or its desired entry changes (the daemon acted on the report: it went down and its check passed again).
   */
  update(svc: DesiredService): void {
    if (svc.scheduler !== this.scheduler) {
      this.scheduler = svc.scheduler;
      this.sched = SCHEDULERS[svc.scheduler] as Scheduler<unknown>;
      this.schedState = this.sched.initialState;
    }
    const p = svc.persistence;
    const q = this.persistence;
    if (p?.netmaskPrefix !== q?.netmaskPrefix) this.generation++;
    if (!p || !q || p.netmaskPrefix !== q.netmaskPrefix) this.affinities.clear();
    this.persistence = p;
    const next: ProxyBackend[] = [];
    const keep = new Set<string>();
    for (const d of svc.backends) {
      if (keep.has(d.key)) continue;
      keep.add(d.key);
      let b = this.byKey.get(d.key) ?? this.revive(d.key);
      if (!b) {
        b = makeBackend(d.addr, d.port, false);
        this.byKey.set(d.key, b);
      } else if (!b.live || b.desiredWeight !== d.weight || b.op !== d.op || b.reason !== d.reason) {
        b.failures = 0;
        b.passiveDown = false;
      }
      if (!b.live) {
        this.retired.delete(b);
        this.byKey.set(d.key, b);
        b.live = true;
        this.hooks.revive?.(b);
      }
      b.desiredWeight = d.weight;
      b.op = d.op;
      b.reason = d.reason;
      b.weight = b.passiveDown ? 0 : d.weight;
      next.push(b);
    }
    for (const [key, b] of this.byKey) {
      if (keep.has(key)) continue;
      this.byKey.delete(key);
      this.retire(b);
    }
    this.backends = next;
    this.updateSorry(svc.sorry);
  }

  /** Takes every backend out (the service was removed): they stay counted until their connections end. */
  retireAll(): void {
    for (const b of this.byKey.values()) this.retire(b);
    this.byKey.clear();
    this.backends = [];
    this.updateSorry(null);
  }

  /** Every backend still counted: the desired ones, the sorry server, and retired ones with connections. */
  *all(): IterableIterator<ProxyBackend> {
    yield* this.backends;
    if (this.sorryBackend) yield this.sorryBackend;
    yield* this.retired.values();
  }

  /** The client as the pool needs it; compute once per client connection. */
  clientOf(addr: string): PoolClient {
    const p = this.persistence;
    return { addr, affinityKey: p ? persistenceKey(addr, p.netmaskPrefix) : addr };
  }

  /**
   * The backend for a new connection or request, or null when none takes new connections. Order: the sorry server
   * when the desired state names one; the client's affinity (persistence) while it is young and its backend takes
   * new connections; the scheduler. `tried` are backends that already failed this request: they are skipped (the
   * hashing schedulers move on to the next eligible backend in pool order, so their cached table stays valid).
   * The choice counts: it renews the affinity and advances the scheduler.
   */
  choose(client: PoolClient, now: Ms, tried?: ReadonlySet<ProxyBackend>): ProxyBackend | null {
    if (this.sorryBackend) {
      return tried?.has(this.sorryBackend) ? null : this.sorryBackend;
    }
    const list = this.backends;
    if (list.length === 0) return null;
    const p = this.persistence;
    let b: ProxyBackend | null = null;
    let affinity: Affinity | undefined;
    if (p) {
      affinity = this.affinities.get(client.affinityKey);
      const i = stickyBackend(affinity, list, now);
      const sticky = i === null ? undefined : list[i];
      if (sticky && !tried?.has(sticky)) b = sticky;
    }
    if (!b) b = this.pick(client, tried);
    if (!b) return null;
    if (p) {
      this.affinities.set(client.affinityKey, renewAffinity(b.key, now, p.timeoutMs));
      if (!affinity && ++this.sinceSweep >= SWEEP_EVERY) this.sweep(now);
    }
    return b;
  }

  /**
   * Counts a failed connection to `b`. Returns the report to send when this failure reaches `threshold` (0 = passive
   * health off): the backend is then excluded from new choices until an apply brings it back. SOCKERR and the sorry
   * server are never counted.
   */
  recordFailure(b: ProxyBackend, code: ConnectFailureCode, detail: string, threshold: number): PassiveFailure | null {
    if (b.sorry || code === 'SOCKERR' || threshold <= 0) return null;
    b.failures++;
    if (b.passiveDown || b.failures < threshold || !b.live) return null;
    b.passiveDown = true;
    b.weight = 0;
    return { service: this.id, backend: b.key, failures: b.failures, code, detail };
  }

  /** A connection to `b` worked: its failure count starts again from 0. */
  recordSuccess(b: ProxyBackend): void {
    if (b.failures !== 0) b.failures = 0;
  }

  /** Call when a connection or request chosen for `b` ends: a retired backend without connections is forgotten. */
  release(b: ProxyBackend): void {
    b.active--;
    if (!b.live && b.active <= 0 && b.inactive <= 0) this.forget(b);
  }

  /** Forgets a retired backend whose last connection ended (its key may come back later as a new backend). */
  forget(b: ProxyBackend): void {
    if (b.live || !this.retired.delete(b)) return;
    this.hooks.gone?.(b);
  }

  private pick(client: SchedClient, tried: ReadonlySet<ProxyBackend> | undefined): ProxyBackend | null {
    const list = this.backends;
    if (!tried || tried.size === 0) {
      const r = this.sched.pick({ backends: list, state: this.schedState, client });
      this.schedState = r.state;
      return r.index === null ? null : (list[r.index] ?? null);
    }
    if (this.scheduler === 'sh' || this.scheduler === 'mh') {
      // Keep the cached table: take the hash's choice, or the next eligible backend after it in pool order.
      const r = this.sched.pick({ backends: list, state: this.schedState, client });
      this.schedState = r.state;
      const start = r.index ?? 0;
      for (let step = 0; step < list.length; step++) {
        const b = list[(start + step) % list.length] as ProxyBackend;
        if (b.weight > 0 && !tried.has(b)) return b;
      }
      return null;
    }
    const view = list.map((b) => (tried.has(b) ? { key: b.key, weight: 0 } : b));
    const r = this.sched.pick({ backends: view, state: this.schedState, client });
    this.schedState = r.state;
    return r.index === null ? null : (list[r.index] ?? null);
  }

  private retire(b: ProxyBackend): void {
    b.live = false;
    b.weight = 0;
    b.failures = 0;
    b.passiveDown = false;
    this.hooks.retire?.(b);
    if (b.active > 0 || b.inactive > 0) this.retired.add(b);
    else this.hooks.gone?.(b);
  }

  private revive(key: string): ProxyBackend | undefined {
    for (const b of this.retired) if (!b.sorry && b.key === key) return b;
    return undefined;
  }

  private updateSorry(sorry: Endpoint | null): void {
    const cur = this.sorryBackend;
    if (sorry && cur && cur.addr === sorry.addr && cur.port === sorry.port) return;
    if (cur) {
      this.sorryBackend = null;
      cur.live = false;
      this.hooks.retire?.(cur);
      if (cur.active > 0 || cur.inactive > 0) this.retired.add(cur);
      else this.hooks.gone?.(cur);
    }
    if (sorry) {
      const b = makeBackend(sorry.addr, sorry.port, true);
      b.weight = 1;
      b.desiredWeight = 1;
      this.sorryBackend = b;
    }
  }

  private sweep(now: Ms): void {
    this.sinceSweep = 0;
    for (const [k, a] of this.affinities) if (now >= a.expiresAtMs) this.affinities.delete(k);
  }
}
