/**
 * A fake etcd for simulated time: leases that expire on the SimClock, put-if-absent, watches, and clients that can be
 * cut off (their requests time out) or slowed. Enough of etcd's lease semantics for the election's tests: a lease
 * outlives a keepalive by its TTL, an expired lease deletes its keys and every watcher hears of it.
 */
import type { Clock, Ms } from '../core/time.ts';
import type { EtcdPort, OwnerEntry } from '../election/etcd-elector.ts';

interface Key {
  value: string;
  lease: string;
  revision: number;
}

/** The fake server. */
export class FakeEtcd {
  readonly #clock: Clock;
  readonly #leases = new Map<string, { ttlMs: Ms; expiresAt: Ms }>();
  readonly #keys = new Map<string, Key>();
  readonly #watchers = new Set<{ prefix: string; client: string; on: Parameters<EtcdPort['watch']>[1] }>();
  readonly #cut = new Set<string>();
  #rev = 1;
  #nextLease = 1;
  /** Requests served, by kind. */
  readonly requests: Record<string, number> = {};
  /** One-way latency of every request. @default 2 */
  latencyMs = 2;
  /** A request from a cut-off client fails after this long. @default 500 */
  timeoutMs = 500;
  #down = false;

  constructor(clock: Clock) {
    this.#clock = clock;
    const sweep = () => {
      this.#expire();
      this.#clock.at(this.#clock.now() + 10, sweep);
    };
    sweep();
  }

  /** The whole server is down (no quorum): nothing answers, no lease expires; back up, every lease gets its TTL again (etcd's new leader renews them). */
  setDown(down: boolean): void {
    if (this.#down && !down) for (const l of this.#leases.values()) l.expiresAt = this.#clock.now() + l.ttlMs;
    this.#down = down;
  }

  /** Cuts a client off (its requests time out, its watch hears nothing) or heals it. */
  cut(client: string, cut = true): void {
    if (cut) this.#cut.add(client);
    else this.#cut.delete(client);
  }

  /** Who holds `key` now (its value's node), or null. */
  holder(key: string): string | null {
    this.#expire();
    const k = this.#keys.get(key);
    return k ? (JSON.parse(k.value) as { node: string }).node : null;
  }

  /** A client of the fake (its requests take `latencyMs` each way). */
  client(name: string): EtcdPort {
    const call = <T>(kind: string, f: () => T): Promise<T> =>
      new Promise((resolve, reject) => {
        const c = this.#clock;
        if (this.#cut.has(name) || this.#down) {
          c.at(c.now() + this.timeoutMs, () => reject(new Error('deadline exceeded')));
          return;
        }
        c.at(c.now() + this.latencyMs, () => {
          this.#expire();
          if (this.#cut.has(name) || this.#down) {
            c.at(c.now() + this.timeoutMs, () => reject(new Error('deadline exceeded')));
            return;
          }
          this.requests[kind] = (this.requests[kind] ?? 0) + 1;
          let r: T;
          try {
            r = f();
          } catch (e) {
            c.at(c.now() + this.latencyMs, () => reject(e));
            return;
          }
          c.at(c.now() + this.latencyMs, () => resolve(r));
        });
      });
    return {
      grant: (ttlMs) =>
        call('grant', () => {
          const id = String(this.#nextLease++);
          this.#leases.set(id, { ttlMs, expiresAt: this.#clock.now() + ttlMs });
          return id;
        }),
      keepAlive: (lease) =>
        call('keepalive', () => {
          const l = this.#leases.get(lease);
          if (!l) return 0;
          l.expiresAt = this.#clock.now() + l.ttlMs;
          return l.ttlMs;
        }),
      campaign: (key, value, lease) =>
        call('txn', () => {
          const k = this.#keys.get(key);
          if (k) return { won: k.lease === lease, revision: k.revision, holder: nodeOf(k.value) };
          if (!this.#leases.has(lease)) throw new Error('requested lease not found');
          const revision = ++this.#rev;
          this.#keys.set(key, { value, lease, revision });
          this.#notify('put', key, { value, lease, revision });
          return { won: true, revision, holder: nodeOf(value) };
        }),
      release: (key, lease) =>
        call('txn', () => {
          const k = this.#keys.get(key);
          if (k && k.lease === lease) this.#delete(key, k);
        }),
      revoke: (lease) =>
        call('revoke', () => {
          this.#leases.delete(lease);
          for (const [key, k] of [...this.#keys]) if (k.lease === lease) this.#delete(key, k);
        }),
      list: (prefix) =>
        call('range', () =>
          [...this.#keys]
            .filter(([key]) => key.startsWith(prefix))
            .map(([key, k]): OwnerEntry => ({ key, revision: k.revision, holder: nodeOf(k.value), lease: k.lease })),
        ),
      watch: (prefix, on) => {
        const w = { prefix, client: name, on };
        this.#watchers.add(w);
        return () => this.#watchers.delete(w);
      },
    };
  }

  #delete(key: string, k: Key): void {
    this.#keys.delete(key);
    ++this.#rev;
    this.#notify('delete', key, k);
  }

  #notify(kind: 'put' | 'delete', key: string, k: Key): void {
    for (const w of [...this.#watchers]) {
      if (!key.startsWith(w.prefix)) continue;
      const c = this.#clock;
      c.at(c.now() + this.latencyMs, () => {
        if (this.#cut.has(w.client) || this.#down || !this.#watchers.has(w)) return;
        w.on({ kind, key, revision: k.revision, holder: nodeOf(k.value), lease: k.lease });
      });
    }
  }

  #expire(): void {
    if (this.#down) return;
    const now = this.#clock.now();
    for (const [id, l] of [...this.#leases]) {
      if (l.expiresAt > now) continue;
      this.#leases.delete(id);
      for (const [key, k] of [...this.#keys]) if (k.lease === id) this.#delete(key, k);
    }
  }
}

function nodeOf(value: string): string | null {
  try {
    return (JSON.parse(value) as { node?: string }).node ?? null;
  } catch {
    return null;
  }
}
