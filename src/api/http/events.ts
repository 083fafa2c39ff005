/**
 * The API's event stream: one hub the daemon publishes the typed events into (the node's VRRP events, the log records
 * that carry an `event` field — health, real-server and group changes from the load balancer's worker and the group
 * runners — and the audit lines), and every `GET /api/v1/events` client and plugin subscribes to. Synchronous, like
 * core/events.ts: a subscriber that throws does not stop the others.
 */
import type { ApiEvent } from '../http-plugin.ts';

/** Publishes and subscribes. */
export class EventHub {
  readonly #subs = new Set<(e: ApiEvent) => void>();

  publish(e: ApiEvent): void {
    for (const h of [...this.#subs]) {
      try {
        h(e);
      } catch {
        // a subscriber's bug must not break the producer
      }
    }
  }

  subscribe(h: (e: ApiEvent) => void): () => void {
    this.#subs.add(h);
    return () => this.#subs.delete(h);
  }

  get subscribers(): number {
    return this.#subs.size;
  }
}
