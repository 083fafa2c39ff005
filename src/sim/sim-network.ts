/**
 * A simulated L2 segment: named nodes with their addresses, multicast to every other node and unicast to one, with
 * per-link loss, delay (fixed + jitter), duplication and partitions. Every chance comes from an injected Rng, so a
 * seed replays a run exactly; every delay is a timer on the injected Clock, so nothing sleeps.
 */
import { TandemError } from '../core/errors.ts';
import type { Rng } from '../core/rng.ts';
import type { Clock, Ms } from '../core/time.ts';

/** How one direction of a link between two nodes behaves. */
export interface LinkOptions {
  /** Probability in [0, 1] that a packet is lost. @default 0 */
  loss: number;
  /** Fixed one-way delay. @default 1 */
  delayMs: Ms;
  /** Extra delay, uniform in 0..jitterMs (so packets can be reordered). @default 0 */
  jitterMs: Ms;
  /** Probability in [0, 1] that a packet arrives twice. @default 0 */
  duplicate: number;
}

/** The default link: a quiet LAN with 1 ms latency. */
export const DEFAULT_LINK: Readonly<LinkOptions> = { loss: 0, delayMs: 1, jitterMs: 0, duplicate: 0 };

/** A packet as a receiver sees it. */
export interface Datagram<P> {
  payload: P;
  /** Sender's node name and address. */
  from: string;
  src: string;
  /** Destination address, or null for multicast. */
  dst: string | null;
  /** TTL / hop limit: 255 on one segment. */
  ttl: number;
}

/** A node's handle on the segment. */
export interface SimEndpoint<P> {
  readonly node: string;
  /** The node's addresses; the first is the source of what it sends. */
  readonly addresses: readonly string[];
  /** Sends to the node owning `to`, or to every other node when `to` is absent. */
  send(payload: P, to?: string): void;
  /** Leaves the segment; packets in flight to it are lost. */
  close(): void;
}

/** Counters, for tests and scenario reports. */
export interface NetworkStats {
  sent: number;
  delivered: number;
  lost: number;
  /** Dropped because a partition separated sender and receiver (at send or at delivery). */
  cut: number;
  duplicated: number;
  /** Unicast to an address nobody holds. */
  unroutable: number;
}

interface Attached<P> {
  node: string;
  addresses: readonly string[];
  receive: (d: Datagram<P>) => void;
  open: boolean;
}

const key = (a: string, b: string): string => `${a}\u0000${b}`;
const checkProbability = (name: string, p: number): void => {
  if (!(p >= 0 && p <= 1)) throw new TandemError('TND_SIM_SCENARIO', `${name} ${p} is not a probability in [0, 1]`);
};

/**
 * The segment.
 * @example const net = new SimNetwork<string>({ clock, rng: seededRng(1) }); net.isolate('d1'); net.heal();
 */
export class SimNetwork<P> {
  readonly stats: NetworkStats = { sent: 0, delivered: 0, lost: 0, cut: 0, duplicated: 0, unroutable: 0 };
  readonly #clock: Clock;
  readonly #rng: Rng;
  readonly #nodes = new Map<string, Attached<P>>();
  readonly #links = new Map<string, LinkOptions>();
  /** Per-direction drop rules on top of the link options: a firewall rule for one protocol (VRRP only). */
  readonly #filters = new Map<string, (payload: P) => boolean>();
  #defaults: LinkOptions;
  /** Node → partition group; a node in no group is in group 0 with every other such node. */
  #group = new Map<string, number>();

  constructor(opts: { clock: Clock; rng: Rng; link?: Partial<LinkOptions> }) {
    this.#clock = opts.clock;
    this.#rng = opts.rng;
    this.#defaults = this.#checked({ ...DEFAULT_LINK, ...opts.link });
  }

  /** Attaches a node with one or more addresses; `receive` gets every packet that reaches it. */
  attach(node: string, address: string | readonly string[], receive: (d: Datagram<P>) => void): SimEndpoint<P> {
    const addresses = typeof address === 'string' ? [address] : [...address];
    if (addresses.length === 0) throw new TandemError('TND_SIM_SCENARIO', `node ${node} has no address`);
    if (this.#nodes.get(node)?.open) throw new TandemError('TND_SIM_SCENARIO', `node ${node} is already attached`);
    for (const n of this.#nodes.values()) {
      const clash = addresses.find((a) => n.open && n.addresses.includes(a));
      if (clash) throw new TandemError('TND_SIM_SCENARIO', `address ${clash} is already used by ${n.node}`);
    }
    const me: Attached<P> = { node, addresses, receive, open: true };
    this.#nodes.set(node, me);
    return {
      node,
      addresses,
      send: (payload, to) => this.#send(me, payload, to),
      close: () => {
        me.open = false;
      },
    };
  }

  /** Sets the link options for every pair of nodes, dropping per-link settings. */
  setAllLinks(opts: Partial<LinkOptions>): void {
    this.#defaults = this.#checked({ ...this.#defaults, ...opts });
    this.#links.clear();
  }

  /** Sets the link from `a` to `b` (and back, unless `oneWay`). */
  setLink(a: string, b: string, opts: Partial<LinkOptions>, oneWay = false): void {
    this.#links.set(key(a, b), this.#checked({ ...this.link(a, b), ...opts }));
    if (!oneWay) this.#links.set(key(b, a), this.#checked({ ...this.link(b, a), ...opts }));
  }

  /**
   * Drops what `drop` picks on the way from `a` to `b` (and back, unless `oneWay`): a firewall rule for one kind of
   * packet, e.g. VRRP only, with everything else passing. `null` removes the rule.
   */
  setFilter(a: string, b: string, drop: ((payload: P) => boolean) | null, oneWay = false): void {
    for (const k of oneWay ? [key(a, b)] : [key(a, b), key(b, a)]) {
      if (drop) this.#filters.set(k, drop);
      else this.#filters.delete(k);
    }
  }

  /** Removes every filter. */
  clearFilters(): void {
    this.#filters.clear();
  }

  /** The options in force from `a` to `b`. */
  link(a: string, b: string): LinkOptions {
    return this.#links.get(key(a, b)) ?? this.#defaults;
  }

  /** Cuts `node` off from every other node. */
  isolate(node: string): void {
    const next = new Map(this.#group);
    next.set(node, Math.max(0, ...next.values()) + 1);
    this.#group = next;
  }

  /** Splits the segment: nodes in one group reach each other only; nodes in no group form one more group. */
  partition(...groups: readonly (readonly string[])[]): void {
    const next = new Map<string, number>();
    groups.forEach((g, i) => {
      for (const n of g) {
        if (next.has(n)) throw new TandemError('TND_SIM_SCENARIO', `node ${n} is in two partition groups`);
        next.set(n, i + 1);
      }
    });
    this.#group = next;
  }

  /** Removes every partition (link options stay). */
  heal(): void {
    this.#group = new Map();
  }

  /** Whether a packet from `a` can reach `b` now (partitions only; loss is chance). */
  canReach(a: string, b: string): boolean {
    return (this.#group.get(a) ?? 0) === (this.#group.get(b) ?? 0);
  }

  /** No partition and no loss on any link: the condition under which VRRP must converge. */
  get healthy(): boolean {
    if (this.#group.size > 0 || this.#filters.size > 0) return false;
    if (this.#defaults.loss > 0) return false;
    for (const l of this.#links.values()) if (l.loss > 0) return false;
    return true;
  }

  /** The largest one-way delay any link can produce (delay + jitter). */
  maxDelayMs(): Ms {
    let max = this.#defaults.delayMs + this.#defaults.jitterMs;
    for (const l of this.#links.values()) max = Math.max(max, l.delayMs + l.jitterMs);
    return max;
  }

  #checked(l: LinkOptions): LinkOptions {
    checkProbability('loss', l.loss);
    checkProbability('duplicate', l.duplicate);
    if (!(l.delayMs >= 0 && l.jitterMs >= 0)) {
      throw new TandemError('TND_SIM_SCENARIO', `delay ${l.delayMs} ms / jitter ${l.jitterMs} ms must be ≥ 0`);
    }
    return l;
  }

  #send(from: Attached<P>, payload: P, to?: string): void {
    if (!from.open) return;
    this.stats.sent++;
    if (to === undefined) {
      for (const n of this.#nodes.values()) if (n !== from && n.open) this.#carry(from, n, payload, null);
      return;
    }
    const target = [...this.#nodes.values()].find((n) => n.open && n.addresses.includes(to));
    if (!target) {
      this.stats.unroutable++;
      return;
    }
    this.#carry(from, target, payload, to);
  }

  /** One packet over one link: partition, loss, delay and duplication, decided now from the Rng. */
  #carry(from: Attached<P>, to: Attached<P>, payload: P, dst: string | null): void {
    if (!this.canReach(from.node, to.node) || this.#filters.get(key(from.node, to.node))?.(payload)) {
      this.stats.cut++;
      return;
    }
    const l = this.link(from.node, to.node);
    if (l.loss > 0 && this.#rng.next() < l.loss) {
      this.stats.lost++;
      return;
    }
    const copies = l.duplicate > 0 && this.#rng.next() < l.duplicate ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    const datagram: Datagram<P> = { payload, from: from.node, src: from.addresses[0] ?? '', dst, ttl: 255 };
    for (let i = 0; i < copies; i++) {
      const delay = l.delayMs + (l.jitterMs > 0 ? this.#rng.int(0, l.jitterMs) : 0);
      this.#clock.at(this.#clock.now() + delay, () => {
        // A receiver that left, or a partition that came up while the packet was in flight, loses it.
        if (!to.open || this.#nodes.get(to.node) !== to) return;
        if (!this.canReach(from.node, to.node)) {
          this.stats.cut++;
          return;
        }
        this.stats.delivered++;
        to.receive(datagram);
      });
    }
  }
}
