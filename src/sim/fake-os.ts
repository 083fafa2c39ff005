/**
 * Fake host adapters for simulations: one shared record of which node holds which virtual address, with history,
 * and of every gratuitous ARP sent. Converging like the real adapters: adding a held address changes nothing.
 */
import type { Clock, Ms } from '../core/time.ts';
import type { GarpEffects, VipEffects } from '../vrrp/ports.ts';
import type { VipConfig } from '../vrrp/types.ts';

/** One address change (or attempted change) on one node. */
export interface VipChange {
  at: Ms;
  node: string;
  op: 'add' | 'remove';
  addr: string;
  /** False when the address already was (add) or was not (remove) there. */
  changed: boolean;
}

/** One GARP burst. */
export interface GarpRecord {
  at: Ms;
  node: string;
  addrs: string[];
  repeat: number;
}

/**
 * The simulated hosts' addresses.
 * @example const os = new FakeHosts(clock); const vips = os.vips('d1'); vips.add(cfg.vips); os.holders('198.18.0.100')
 */
export class FakeHosts {
  /** Every add/remove, in order. */
  readonly history: VipChange[] = [];
  /** Every GARP burst, in order. */
  readonly garps: GarpRecord[] = [];
  readonly #clock: Clock;
  readonly #held = new Map<string, Set<string>>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** The address adapter of `node`. */
  vips(node: string): VipEffects {
    return {
      add: (vips) => this.#apply(node, 'add', vips),
      remove: (vips) => this.#apply(node, 'remove', vips),
    };
  }

  /** The GARP sender of `node`. */
  garp(node: string): GarpEffects {
    return {
      announce: (vips, repeat) => {
        this.garps.push({ at: this.#clock.now(), node, addrs: vips.map((v) => v.addr), repeat });
      },
    };
  }

  /** Nodes that hold `addr` now, sorted. */
  holders(addr: string): string[] {
    return [...this.#held.entries()]
      .filter(([, set]) => set.has(addr))
      .map(([node]) => node)
      .sort();
  }

  /** The host loses every address (it was powered off); recorded in the history like removals. */
  dropAll(node: string): void {
    const set = this.#held.get(node);
    if (!set) return;
    for (const addr of [...set].sort()) {
      set.delete(addr);
      this.history.push({ at: this.#clock.now(), node, op: 'remove', addr, changed: true });
    }
  }

  /**
   * How long two or more nodes held `addr` at once, and how long none did, between `from` and `to`, from the history
   * (the simulator's `ip monitor`).
   */
  overlap(addr: string, from: Ms, to: Ms): { twoHoldersMs: Ms; noHolderMs: Ms } {
    const holders = new Set<string>();
    let twoHoldersMs = 0;
    let noHolderMs = 0;
    let last = from;
    const account = (until: Ms): void => {
      const span = Math.max(0, Math.min(until, to) - Math.max(last, from));
      if (holders.size > 1) twoHoldersMs += span;
      if (holders.size === 0) noHolderMs += span;
      last = Math.max(last, until);
    };
    for (const c of this.history) {
      if (c.addr !== addr || !c.changed) continue;
      if (c.at > from) account(c.at);
      if (c.op === 'add') holders.add(c.node);
      else holders.delete(c.node);
    }
    account(to);
    return { twoHoldersMs, noHolderMs };
  }

  /** Addresses `node` holds now, sorted. */
  held(node: string): string[] {
    return [...(this.#held.get(node) ?? [])].sort();
  }

  #apply(node: string, op: 'add' | 'remove', vips: readonly VipConfig[]): void {
    let set = this.#held.get(node);
    if (!set) {
      set = new Set();
      this.#held.set(node, set);
    }
    for (const v of vips) {
      const had = set.has(v.addr);
      if (op === 'add') set.add(v.addr);
      else set.delete(v.addr);
      this.history.push({ at: this.#clock.now(), node, op, addr: v.addr, changed: op === 'add' ? !had : had });
    }
  }
}
