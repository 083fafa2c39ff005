/**
 * etcd as tandem reaches it: the etcd3 client (1.1.2, gRPC) behind small, bounded calls. It implements the election's
 * EtcdPort (election/etcd-elector.ts) and the raw key operations the etcd config store (cluster/etcd-store.ts) needs.
 * Every call has a deadline (`requestTimeoutMs`) enforced twice: as the gRPC deadline and as a timer of our own,
 * because the client's retry policy may otherwise hold a call past it. TLS files are read once, at connect.
 */
import { readFileSync } from 'node:fs';
import { Etcd3, type IOptions } from 'etcd3';
import type { Ms } from '../core/time.ts';
import type { EtcdPort, OwnerEntry } from '../election/etcd-elector.ts';

/** How to reach etcd. */
export interface EtcdConnectOptions {
  /** Client URLs, `http://198.18.0.21:2379`. */
  endpoints: readonly string[];
  /** A request that takes longer fails. @default 1000 */
  requestTimeoutMs?: Ms;
  /** PEM files for https endpoints (a CA; a client certificate and key for mutual TLS). */
  tls?: { ca?: string; cert?: string; key?: string };
}

/** One key as the store reads it. */
export interface EtcdKv {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
  lease: string;
}

/** A connected etcd client: the election's port plus the key operations of the config store. */
export interface EtcdClient extends EtcdPort {
  get(key: string): Promise<EtcdKv | undefined>;
  range(prefix: string, limit?: number): Promise<EtcdKv[]>;
  /** Puts every `puts` entry in one txn if `key`'s value is still `expected` (undefined: the key must not exist). */
  putIf(key: string, expected: string | undefined, puts: Record<string, string>, deletes?: string[]): Promise<boolean>;
  put(key: string, value: string): Promise<void>;
  /** Watches every put and delete under `prefix` with its value. */
  watchKv(prefix: string, on: (kind: 'put' | 'delete', kv: EtcdKv) => void): () => void;
  /** The cluster's members as etcd lists them (status). */
  members(): Promise<{ name: string; clientURLs: string[] }[]>;
  /** Requests sent, by kind (benchmarks). */
  readonly requests: Record<string, number>;
  close(): void;
}

/** A client of the etcd cluster at `endpoints`. Throws TypeError on an unreadable TLS file (config load checks it). */
export function connectEtcd(o: EtcdConnectOptions): EtcdClient {
  const timeoutMs = o.requestTimeoutMs ?? 1_000;
  const opts: IOptions = { hosts: [...o.endpoints], dialTimeout: timeoutMs };
  if (o.tls?.ca) {
    opts.credentials = {
      rootCertificate: readFileSync(o.tls.ca),
      ...(o.tls.key ? { privateKey: readFileSync(o.tls.key) } : {}),
      ...(o.tls.cert ? { certChain: readFileSync(o.tls.cert) } : {}),
    };
  }
  const c = new Etcd3(opts);
  // Keepalives go through one client per member, moving on to the next member at once when one fails: the pooled
  // client may keep picking a dead member (ECONNREFUSED) for longer than an owner can go without renewing.
  const single = o.endpoints.map((h) => new Etcd3({ ...opts, hosts: [h] }));
  let good = 0;
  const requests: Record<string, number> = {};
  const deadline = () => ({ deadline: new Date(Date.now() + timeoutMs) });
  /** Bounds a call: rejects after the timeout even if the client still retries. */
  const bounded = <T>(kind: string, f: () => Promise<T>): Promise<T> => {
    requests[kind] = (requests[kind] ?? 0) + 1;
    return new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`etcd ${kind}: no answer within ${timeoutMs}ms`)), timeoutMs);
      f().then(
        (v) => {
          clearTimeout(t);
          resolve(v);
        },
        (e) => {
          clearTimeout(t);
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  };
  const toKv = (kv: {
    key: Buffer;
    value: Buffer;
    create_revision: string;
    mod_revision: string;
    lease: string;
  }): EtcdKv => ({
    key: kv.key.toString(),
    value: kv.value.toString(),
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
    lease: String(kv.lease),
  });
  const entry = (kv: EtcdKv): OwnerEntry => ({
    key: kv.key,
    revision: kv.createRevision,
    holder: nodeOf(kv.value),
    lease: kv.lease,
  });
  return {
    requests,
    grant: (ttlMs) =>
      bounded('grant', async () => {
        const r = await c.leaseClient.leaseGrant({ TTL: Math.ceil(ttlMs / 1000) }, deadline());
        return String(r.ID);
      }),
    keepAlive: (lease) =>
      bounded('keepalive', async () => {
        let last: unknown;
        for (let i = 0; i < single.length; i++) {
          const k = (good + i) % single.length;
          try {
            const stream = await single[k]!.leaseClient.leaseKeepAlive(deadline());
            try {
              const res = await new Promise<{ TTL: string }>((resolve, reject) => {
                stream.on('data', resolve);
                stream.on('error', reject);
                stream.write({ ID: lease });
              });
              good = k;
              return Number(res.TTL) * 1000;
            } finally {
              stream.end();
            }
          } catch (e) {
            last = e;
          }
        }
        throw last;
      }),
    campaign: (key, value, lease) =>
      bounded('txn', async () => {
        const r = await c
          .if(key, 'Create', '==', 0)
          .then(c.put(key).value(value).lease(lease))
          .else(c.get(key))
          .options(deadline())
          .commit();
        if (r.succeeded) return { won: true, revision: Number(r.header.revision), holder: nodeOf(value) };
        const kv = r.responses[0]?.response_range?.kvs[0];
        if (!kv) return { won: false, revision: 0, holder: null };
        const k = toKv(kv);
        return { won: k.lease === lease, revision: k.createRevision, holder: nodeOf(k.value) };
      }),
    release: (key, lease) =>
      bounded('txn', async () => {
        await c.if(key, 'Lease', '==', lease).then(c.delete().key(key)).options(deadline()).commit();
      }),
    revoke: (lease) =>
      bounded('revoke', async () => {
        await c.leaseClient.leaseRevoke({ ID: lease }, deadline());
      }),
    list: (prefix) =>
      bounded('range', async () => {
        const r = await c.kv.range({ key: Buffer.from(prefix), range_end: prefixEnd(prefix) }, deadline());
        return r.kvs.map((kv) => entry(toKv(kv)));
      }),
    watch(prefix, on) {
      return this.watchKv(prefix, (kind, kv) => on({ kind, ...entry(kv) }));
    },
    watchKv(prefix, on) {
      let closed = false;
      let cancel: (() => void) | null = null;
      requests.watch = (requests.watch ?? 0) + 1;
      void c
        .watch()
        .prefix(prefix)
        .create()
        .then(
          (w) => {
            if (closed) {
              void w.cancel();
              return;
            }
            w.on('put', (kv) => on('put', toKv(kv)));
            w.on('delete', (kv) => on('delete', toKv(kv)));
            // The watcher reconnects by itself; errors are transient from here.
            w.on('error', () => undefined);
            cancel = () => void w.cancel().catch(() => undefined);
          },
          () => undefined,
        );
      return () => {
        closed = true;
        cancel?.();
      };
    },
    get: (key) =>
      bounded('range', async () => {
        const r = await c.kv.range({ key: Buffer.from(key) }, deadline());
        return r.kvs[0] ? toKv(r.kvs[0]) : undefined;
      }),
    range: (prefix, limit) =>
      bounded('range', async () => {
        const r = await c.kv.range(
          { key: Buffer.from(prefix), range_end: prefixEnd(prefix), ...(limit ? { limit } : {}) },
          deadline(),
        );
        return r.kvs.map(toKv);
      }),
    putIf: (key, expected, puts, deletes = []) =>
      bounded('txn', async () => {
        const b =
          expected === undefined ? c.if(key, 'Create', '==', 0) : c.if(key, 'Value', '==', Buffer.from(expected));
        const ops = [
          ...Object.entries(puts).map(([k, v]) => c.put(k).value(v)),
          ...deletes.map((k) => c.delete().key(k)),
        ];
        const r = await b
          .then(...ops)
          .options(deadline())
          .commit();
        return r.succeeded;
      }),
    put: (key, value) =>
      bounded('put', async () => {
        await c.kv.put({ key: Buffer.from(key), value: Buffer.from(value) }, deadline());
      }),
    members: () =>
      bounded('members', async () => {
        const r = await c.cluster.memberList({}, deadline());
        return r.members.map((m) => ({ name: m.name, clientURLs: [...m.clientURLs] }));
      }),
    close: () => {
      c.close();
      for (const x of single) x.close();
    },
  };
}

/** The end of etcd's range for a prefix: the prefix with its last byte + 1. */
function prefixEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix);
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i]! < 0xff) {
      const end = Buffer.from(b.subarray(0, i + 1));
      end[i]!++;
      return end;
    }
  }
  return Buffer.from([0]);
}

function nodeOf(value: string): string | null {
  try {
    return (JSON.parse(value) as { node?: string }).node ?? null;
  } catch {
    return null;
  }
}
