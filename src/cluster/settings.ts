/**
 * The cluster block of a config resolved for one node: its peer listener, the other nodes' listeners, certificate
 * paths and where versions are kept, with the defaults schema-cluster.ts describes. Pure.
 */
import { posix } from 'node:path';
import type { TandemConfig } from '../config/schema.ts';

/** Where tandem keeps state unless `cluster.state_dir` says otherwise. */
export const DEFAULT_STATE_DIR = '/var/lib/tandem';
/** Versions kept unless `cluster.history` says otherwise. */
export const DEFAULT_HISTORY = 20;

/** One node's view of the cluster block. */
export interface ClusterSettings {
  node: string;
  /** This node's peer listener; undefined = config sharing is off on this node. */
  listen?: { host: string; port: number };
  /** The other nodes' listeners (`https://ADDR:PORT`), this node's own left out. */
  peers: string[];
  stateDir: string;
  /** `STATE_DIR/cluster`: certificates, join tokens, config versions. */
  clusterDir: string;
  tls: { ca: string; cert: string; key: string };
  history: number;
  /** The names of cluster.nodes (a peer's certificate must name one of them, when there are any). */
  nodes: string[];
}

const forNode = <T>(v: T | Record<string, T> | undefined, node: string): T | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, T>)[node] : (v as T | undefined);

/** Splits `ADDR:PORT` / `[ADDR]:PORT`. */
export function splitHostPort(s: string): { host: string; port: number } | undefined {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  if (!m) return undefined;
  const port = Number(m[2]);
  return port > 0 && port < 65536 ? { host: m[1]!, port } : undefined;
}

/** `https://ADDR:PORT` of a listener. */
export function listenerUrl(l: { host: string; port: number }): string {
  return `https://${l.host.includes(':') ? `[${l.host}]` : l.host}:${l.port}`;
}

/** Resolves the cluster block of `cfg` for `node`. */
export function clusterSettings(cfg: TandemConfig, node: string, stateDirFlag?: string): ClusterSettings {
  const c = cfg.cluster;
  const stateDir = stateDirFlag ?? forNode(c.state_dir, node) ?? DEFAULT_STATE_DIR;
  const clusterDir = posix.join(stateDir, 'cluster');
  const listenText = forNode(c.listen, node);
  const listen = listenText ? splitHostPort(listenText) : undefined;
  const self = listen ? listenerUrl(listen) : undefined;
  const peers = (c.peers ?? []).map((u) => u.replace(/\/$/, '')).filter((u) => u !== self);
  return {
    node,
    ...(listen ? { listen } : {}),
    peers: [...new Set(peers)],
    stateDir,
    clusterDir,
    tls: {
      ca: c.tls?.ca ?? posix.join(clusterDir, 'ca.crt'),
      cert: c.tls?.cert ?? posix.join(clusterDir, 'node.crt'),
      key: c.tls?.key ?? posix.join(clusterDir, 'node.key'),
    },
    history: c.history ?? DEFAULT_HISTORY,
    nodes: c.nodes.map((n) => n.name),
  };
}
