/**
 * Fake link state for daemon and cluster tests: the test sets interfaces up or down, subscribers hear real changes
 * only, exactly like os/link-monitor's LinkWatcher (sim/ does not import os/, so the shape is matched structurally;
 * test/os/contracts.test.ts checks it).
 */

/**
 * Links of one simulated host. An interface never set is down, like a name that does not exist on a real host.
 * @example const links = new FakeLinks({ eth0: true }); links.onChange((i, up) => …); links.set('eth0', false);
 */
export class FakeLinks {
  readonly #up = new Map<string, boolean>();
  readonly #handlers = new Set<(ifname: string, up: boolean) => void>();

  constructor(initial: Readonly<Record<string, boolean>> = {}) {
    for (const [name, up] of Object.entries(initial)) this.#up.set(name, up);
  }

  /** Current state; false for an interface never set. */
  isUp(ifname: string): boolean {
    return this.#up.get(ifname) ?? false;
  }

  /** Subscribes to changes; returns the unsubscribe function. */
  onChange(handler: (ifname: string, up: boolean) => void): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  /** Sets an interface's state and notifies subscribers, synchronously, if it changed. Returns whether it changed. */
  set(ifname: string, up: boolean): boolean {
    if (this.isUp(ifname) === up) return false;
    this.#up.set(ifname, up);
    for (const h of [...this.#handlers]) {
      try {
        h(ifname, up);
      } catch {
        // a subscriber's bug must not stop the others, as in the real monitor
      }
    }
    return true;
  }
}
