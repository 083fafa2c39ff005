/**
 * Where a cluster keeps its one config: its versions, their content hashes, who applied them. Two backends implement
 * it: the nodes' own disks with a two-phase apply over the authenticated peer channel (cluster/peer-store), and etcd
 * when the cluster has one (a transaction per version, every node watching). `tandem config apply|status|history|
 * rollback` and the console's Apply speak only this contract.
 */

/** One stored version of the cluster's config. */
export interface ConfigVersion {
  /** 1, 2, 3, … per cluster; never reused. */
  version: number;
  /** `sha256:` + hex of the exact text. */
  hash: string;
  /** The file as the operator wrote it (tandem YAML or a foreign format). */
  text: string;
  /** How to read it: `yaml`, `keepalived`, `heartbeat`, `lvs`. */
  format: string;
  /** ISO time it was committed, and by whom (`user@address`). */
  appliedAt: string;
  appliedBy: string;
}

/** Why a publish was refused: the node that refused and its diagnostics, or a version race. */
export type PublishRefusal =
  | { reason: 'invalid'; node: string; diagnostics: unknown[] }
  | { reason: 'conflict'; current: number }
  | { reason: 'unreachable'; node: string; message: string };

export interface ClusterConfigBackend {
  /** Stores `text` as the next version if the current one is still `expected` (0 when none); atomic. */
  publish(
    text: string,
    meta: { format: string; appliedBy: string },
    expected: number,
  ): Promise<{ ok: true; version: ConfigVersion } | ({ ok: false } & PublishRefusal)>;
  /** The newest version, or undefined before the first. */
  current(): Promise<ConfigVersion | undefined>;
  /** The last `limit` versions, newest first. */
  history(limit: number): Promise<ConfigVersion[]>;
  /** Calls `onVersion` for every version committed after this call, until `signal` aborts. */
  watch(onVersion: (v: ConfigVersion) => void, signal: AbortSignal): void;
}
