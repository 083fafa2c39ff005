/**
 * The cluster as the dashboard draws it, from `GET /api/v1/cluster` (every node with its status), or from this
 * node's `GET /api/v1/status` when the cluster route is absent. Pure: no DOM.
 */
import type { DaemonStatus, InstanceStatus } from '../../api/contract.ts';

/** One node as the dashboard shows it. */
export interface NodeView {
  name: string;
  address: string | null;
  /** Whether its status could be read. */
  reachable: boolean;
  error: string | null;
  status: DaemonStatus | null;
  /** The node the console is served from. */
  self: boolean;
  /** Its config version and hash, when the cluster route reports them. */
  config: { version: number | null; hash: string | null } | null;
}

type Loose = Record<string, unknown>;

/** Accepts `{nodes:[…]}` or `[…]`, each `{name, address?, status?|…DaemonStatus, error?}`. */
export function normalizeCluster(body: unknown, selfName: string | null): NodeView[] {
  const list = Array.isArray(body)
    ? body
    : Array.isArray((body as Loose)?.nodes)
      ? ((body as Loose).nodes as unknown[])
      : [];
  return list.map((raw) => {
    const n = (raw ?? {}) as Loose;
    const status = (
      n.status && typeof n.status === 'object' ? n.status : Array.isArray(n.instances) ? n : null
    ) as DaemonStatus | null;
    const name = String(n.name ?? n.node ?? status?.node ?? '?');
    const cfg = (n.config && typeof n.config === 'object' ? n.config : null) as Loose | null;
    return {
      name,
      address: typeof n.address === 'string' ? n.address : hostOf(n.url),
      reachable: status !== null && !n.error,
      error: typeof n.error === 'string' ? n.error : n.error ? JSON.stringify(n.error) : null,
      status,
      self: n.self === true || (selfName !== null && name === selfName),
      config:
        typeof status?.configVersion === 'number'
          ? { version: status.configVersion, hash: status.configHash ?? null }
          : cfg
            ? {
                version: typeof cfg.version === 'number' ? cfg.version : null,
                hash: typeof cfg.hash === 'string' ? cfg.hash : null,
              }
            : typeof n.version === 'number'
              ? { version: n.version, hash: typeof n.hash === 'string' ? n.hash : null }
              : null,
    };
  });
}

/** Why an instance's effective priority is what it is, in one line. */
export function priorityWhy(i: InstanceStatus): string {
  const p = i.priority;
  const parts: string[] = [`configured ${p.configured}`];
  if (p.override !== null)
    parts.push(p.override === 0 || p.override < p.configured ? `standby → ${p.override}` : `takeover → ${p.override}`);
  for (const t of p.trackers) {
    if (t.effect === 'none') continue;
    const sign = t.effect === 'adds' ? '+' : t.effect === 'subtracts' ? '−' : '';
    parts.push(
      t.effect === 'fault' ? `${t.id} down → FAULT` : `${t.id} ${t.up ? 'up' : 'down'} ${sign}${Math.abs(t.weight)}`,
    );
  }
  return parts.join(', ');
}

/** Who is master of an instance across the cluster: the names of nodes that report MASTER. */
export function mastersOf(nodes: readonly NodeView[], instance: string): string[] {
  return nodes
    .filter((n) => n.status?.instances.some((i) => i.name === instance && i.state === 'MASTER'))
    .map((n) => n.name);
}

/** The host of a peer's URL (`https://198.18.0.12:7946` → `198.18.0.12`), or null. */
function hostOf(url: unknown): string | null {
  if (typeof url !== 'string') return null;
  const m = /^[a-z]+:\/\/\[?([0-9A-Za-z.:-]+?)\]?(?::\d+)?(?:\/|$)/.exec(url);
  return m ? m[1]! : null;
}

/** Node names by address, to name the masters a node heard by their address. */
export function namesByAddress(nodes: readonly NodeView[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of nodes) if (n.address) out[n.address] = n.name;
  return out;
}
