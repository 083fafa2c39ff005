/**
 * The ClusterConfigBackend on the nodes' own disks: each node keeps its versions (store.ts), and a publish is the
 * two-phase apply over the peer listener (peer-node.ts). The etcd backend implements the same contract.
 */
import type { ConfigFormat } from '../config/load.ts';
import type { ClusterConfigBackend, ConfigVersion, PublishRefusal } from './backend.ts';
import type { PeerNode } from './peer-node.ts';

/** The disk/peer backend of one node. */
export class DiskConfigBackend implements ClusterConfigBackend {
  readonly #node: PeerNode;
  constructor(node: PeerNode) {
    this.#node = node;
  }

  async publish(
    text: string,
    meta: { format: string; appliedBy: string },
    expected: number,
  ): Promise<{ ok: true; version: ConfigVersion } | ({ ok: false } & PublishRefusal)> {
    const r = await this.#node.apply({
      text,
      file: this.#node.running().file,
      format: meta.format as ConfigFormat,
      appliedBy: meta.appliedBy,
      expected,
    });
    if (r.ok) return { ok: true, version: r.version };
    const { refusals: _r, ok: _o, ...why } = r;
    return { ok: false, ...(why as PublishRefusal) };
  }

  async current(): Promise<ConfigVersion | undefined> {
    return this.#node.current();
  }

  async history(limit: number): Promise<ConfigVersion[]> {
    return this.#node.history(limit);
  }

  watch(onVersion: (v: ConfigVersion) => void, signal: AbortSignal): void {
    if (signal.aborted) return;
    const off = this.#node.onCommitted(onVersion);
    signal.addEventListener('abort', off, { once: true });
  }
}
