/**
 * The daemon's metrics: counters kept from the event bus (transitions by cause, ignored adverts, group phase changes,
 * reloads) and, at scrape time, the gauges of the status DTO (families.ts). One object per daemon, created by the
 * composition root; the control socket (`GET /v1/metrics`) and the HTTP API (`GET /metrics`, plugin.ts) render it.
 */
import type { DaemonStatus } from '../api/contract.ts';
import { renderExposition } from './exposition.ts';
import { type EventCounts, scrapeFamilies } from './families.ts';

/** The events the metrics count (a structural subset of vrrp/instance.ts VrrpEvents). */
export interface VrrpEventSource {
  on(kind: 'transition', h: (e: { instance: string; from: string; to: string; cause: string }) => void): () => void;
  on(kind: 'discard', h: (e: { instance: string; reason: string }) => void): () => void;
}

/** The resource runner's events the metrics count (a structural subset of resources/runner.ts ResourceEvents). */
export interface GroupEventSource {
  on(kind: 'group-transition', h: (e: { group: string; to: string; cause: string }) => void): () => void;
}

class LabelledCounter<K extends string> {
  readonly #names: readonly K[];
  readonly #values = new Map<string, { labels: Record<K, string>; value: number }>();
  constructor(...names: K[]) {
    this.#names = names;
  }
  inc(labels: Record<K, string>): void {
    const key = this.#names.map((n) => labels[n]).join('\u0000');
    const e = this.#values.get(key);
    if (e) e.value++;
    else this.#values.set(key, { labels: { ...labels }, value: 1 });
  }
  samples(): { labels: Record<K, string>; value: number }[] {
    return [...this.#values.values()].map((e) => ({ labels: e.labels, value: e.value }));
  }
}

/**
 * Counters and the scrape.
 * @example const m = new DaemonMetrics({ file, hash, nowMs }); m.watchVrrp(node.events); text = m.render(status);
 */
export class DaemonMetrics {
  readonly #transitions = new LabelledCounter('vrrp_instance', 'from', 'to', 'cause');
  readonly #discards = new LabelledCounter('vrrp_instance', 'reason');
  readonly #groups = new LabelledCounter('group', 'to', 'cause');
  readonly #reloads = { success: 0, failure: 0, lastOk: true, lastSuccessMs: 0 };
  #config: { file: string; hash: string };
  readonly #unsubscribe: (() => void)[] = [];

  /** `nowMs`: when the first config was loaded (wall clock, ms). */
  constructor(config: { file: string; hash: string; nowMs: number }) {
    this.#config = { file: config.file, hash: config.hash };
    this.#reloads.lastSuccessMs = config.nowMs;
  }

  /** Counts the VRRP events of a bus (the node's). */
  watchVrrp(bus: VrrpEventSource): void {
    this.#unsubscribe.push(
      bus.on('transition', (e) =>
        this.#transitions.inc({ vrrp_instance: e.instance, from: e.from, to: e.to, cause: e.cause }),
      ),
      bus.on('discard', (e) => this.#discards.inc({ vrrp_instance: e.instance, reason: e.reason })),
    );
  }

  /** Counts the resource runner's group transitions. */
  watchGroups(bus: GroupEventSource): void {
    this.#unsubscribe.push(
      bus.on('group-transition', (e) => this.#groups.inc({ group: e.group, to: e.to, cause: e.cause })),
    );
  }

  /** A reload was applied (with the new config's hash) or refused. */
  reloaded(r: { ok: true; hash: string; nowMs: number } | { ok: false }): void {
    if (r.ok) {
      this.#reloads.success++;
      this.#reloads.lastSuccessMs = r.nowMs;
      this.#config = { ...this.#config, hash: r.hash };
    } else this.#reloads.failure++;
    this.#reloads.lastOk = r.ok;
  }

  /** The running config's hash (`sha256:…`). */
  get configHash(): string {
    return this.#config.hash;
  }

  /** What the event bus counted, as the renderer takes it. */
  counts(): EventCounts {
    return {
      transitions: this.#transitions.samples(),
      discards: this.#discards.samples(),
      groupTransitions: this.#groups.samples(),
      reloads: { ...this.#reloads },
    };
  }

  /**
   * The exposition text of one scrape. The status's own `configHash` wins when it has one (the cluster part puts the
   * same definition there); this object's is the one it read at load and reload.
   */
  render(status: DaemonStatus): string {
    const config = { file: this.#config.file, hash: status.configHash ?? this.#config.hash };
    return renderExposition(scrapeFamilies({ status, events: this.counts(), config }));
  }

  /** Stops counting. */
  close(): void {
    for (const u of this.#unsubscribe.splice(0)) u();
  }
}

const registry = new WeakMap<object, DaemonMetrics>();

/** Makes `m` the metrics of `owner` (the daemon's node), for the API plugin to find ({@link metricsOf}). */
export function attachMetrics(owner: object, m: DaemonMetrics): void {
  registry.set(owner, m);
}

/** The metrics attached to `owner`, if any. */
export function metricsOf(owner: object): DaemonMetrics | undefined {
  return registry.get(owner);
}
