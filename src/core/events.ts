/** A typed, synchronous event bus: the core emits, logs/metrics/API subscribe (Rule 9). */
export class EventBus<Events extends Record<string, unknown>> {
  readonly #handlers = new Map<keyof Events, Set<(e: never) => void>>();

  /** Subscribes to one event kind; returns the unsubscribe function. */
  on<K extends keyof Events>(kind: K, handler: (event: Events[K]) => void): () => void {
    let set = this.#handlers.get(kind);
    if (!set) {
      set = new Set();
      this.#handlers.set(kind, set);
    }
    set.add(handler as (e: never) => void);
    return () => set.delete(handler as (e: never) => void);
  }

  /** Delivers an event to every subscriber of its kind, in subscription order. A throwing subscriber does not stop the others. */
  emit<K extends keyof Events>(kind: K, event: Events[K]): void {
    const set = this.#handlers.get(kind);
    if (!set) return;
    for (const h of [...set]) {
      try {
        (h as (e: Events[K]) => void)(event);
      } catch {
        // A subscriber's bug must never break the core that emitted the event.
      }
    }
  }
}
