/**
 * The cluster's config in etcd (ClusterConfigBackend, cluster/backend.ts), and its runtime state (drain / maint /
 * weight) beside it. Keys under the cluster's prefix:
 *   PREFIX/config/current          {"version":N,"hash":"sha256:…"}  — the compare of every publish
 *   PREFIX/config/v/000000000N     one ConfigVersion (JSON); the last `keep` are kept, older ones deleted in the txn
 *   PREFIX/state/KIND/ID           runtime state, JSON (any node's console or CLI writes it; every node watches)
 * A publish is one txn: compare `current` still holds what was read (absent for the first), put the version and the
 * new `current`, delete the one that falls out of the history. A lost race is `{ reason: 'conflict' }`.
 */
import { createHash } from 'node:crypto';
import { connectEtcd, type EtcdClient, type EtcdConnectOptions } from '../os/etcd.ts';
import type { ClusterConfigBackend, ConfigVersion, PublishRefusal } from './backend.ts';

/** Options of {@link createEtcdConfigBackend}. */
export interface EtcdConfigBackendOptions extends EtcdConnectOptions {
  /** The cluster's key prefix, e.g. `/tandem/web`. */
  prefix: string;
  /** Versions kept. @default 20 */
  keep?: number;
  /** Checks a text before it is stored (the node's own `tandem check`); diagnostics, empty when it is fine. */
  validate?: (text: string, format: string) => unknown[];
  /** This node's name, for refusals. @default 'local' */
  node?: string;
  /** Now, ISO (tests). @default new Date().toISOString() */
  now?: () => string;
}

/** The etcd backend, plus the runtime state it shares. `close()` ends the connection. */
export interface EtcdConfigBackend extends ClusterConfigBackend {
  /** Stores one runtime state entry (e.g. `drain`, `web/rs1`, `{ on: true, by: 'ops@198.18.0.5' }`). */
  putState(kind: string, id: string, value: unknown): Promise<void>;
  /** Every runtime state entry: `KIND/ID` → value. */
  states(): Promise<Record<string, unknown>>;
  /** Calls `on` for every change of runtime state (value undefined: deleted) until `signal` aborts. */
  watchState(on: (key: string, value: unknown) => void, signal: AbortSignal): void;
  close(): void;
}

const pad = (n: number) => String(n).padStart(10, '0');

/** The etcd ClusterConfigBackend over a new client of `options.endpoints`. */
export function createEtcdConfigBackend(options: EtcdConfigBackendOptions): EtcdConfigBackend {
  const c: EtcdClient = connectEtcd(options);
  const base = options.prefix.replace(/\/+$/, '');
  const currentKey = `${base}/config/current`;
  const vPrefix = `${base}/config/v/`;
  const sPrefix = `${base}/state/`;
  const keep = options.keep ?? 20;
  const now = options.now ?? (() => new Date().toISOString());
  const parse = (text: string): ConfigVersion | undefined => {
    try {
      return JSON.parse(text) as ConfigVersion;
    } catch {
      return undefined;
    }
  };
  const current = async (): Promise<ConfigVersion | undefined> => {
    const cur = await c.get(currentKey);
    if (!cur) return undefined;
    const { version } = JSON.parse(cur.value) as { version: number };
    const v = await c.get(vPrefix + pad(version));
    return v ? parse(v.value) : undefined;
  };
  return {
    async publish(text, meta, expected) {
      const diagnostics = options.validate?.(text, meta.format) ?? [];
      if (diagnostics.length) return { ok: false, reason: 'invalid', node: options.node ?? 'local', diagnostics };
      let cur: Awaited<ReturnType<EtcdClient['get']>>;
      try {
        cur = await c.get(currentKey);
      } catch (e) {
        return unreachable(options.node, e);
      }
      const have = cur ? (JSON.parse(cur.value) as { version: number }).version : 0;
      if (have !== expected) return { ok: false, reason: 'conflict', current: have };
      const version: ConfigVersion = {
        version: have + 1,
        hash: `sha256:${createHash('sha256').update(text).digest('hex')}`,
        text,
        format: meta.format,
        appliedAt: now(),
        appliedBy: meta.appliedBy,
      };
      const drop = version.version - keep;
      try {
        const ok = await c.putIf(
          currentKey,
          cur?.value,
          {
            [currentKey]: JSON.stringify({ version: version.version, hash: version.hash }),
            [vPrefix + pad(version.version)]: JSON.stringify(version),
          },
          drop > 0 ? [vPrefix + pad(drop)] : [],
        );
        if (!ok) {
          const again = await c.get(currentKey);
          return { ok: false, reason: 'conflict', current: again ? JSON.parse(again.value).version : 0 };
        }
      } catch (e) {
        return unreachable(options.node, e);
      }
      return { ok: true, version };
    },
    current,
    async history(limit) {
      const all = await c.range(vPrefix);
      return all
        .map((kv) => parse(kv.value))
        .filter((v): v is ConfigVersion => !!v)
        .sort((a, b) => b.version - a.version)
        .slice(0, limit);
    },
    watch(onVersion, signal) {
      const stop = c.watchKv(vPrefix, (kind, kv) => {
        if (kind !== 'put') return;
        const v = parse(kv.value);
        if (v) onVersion(v);
      });
      signal.addEventListener('abort', stop, { once: true });
    },
    putState: (kind, id, value) => c.put(`${sPrefix}${kind}/${id}`, JSON.stringify(value)),
    async states() {
      const all = await c.range(sPrefix);
      return Object.fromEntries(all.map((kv) => [kv.key.slice(sPrefix.length), JSON.parse(kv.value) as unknown]));
    },
    watchState(on, signal) {
      const stop = c.watchKv(sPrefix, (kind, kv) =>
        on(kv.key.slice(sPrefix.length), kind === 'put' ? (JSON.parse(kv.value) as unknown) : undefined),
      );
      signal.addEventListener('abort', stop, { once: true });
    },
    close: () => c.close(),
  };
}

function unreachable(node: string | undefined, e: unknown): { ok: false } & PublishRefusal {
  return {
    ok: false,
    reason: 'unreachable',
    node: node ?? 'local',
    message: `TND_ETCD_UNREACHABLE: ${e instanceof Error ? e.message : String(e)}`,
  };
}
