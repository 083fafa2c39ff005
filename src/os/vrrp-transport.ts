/**
 * The real {@link VrrpTransport}: one raw socket per (interface, family), shared by every instance on it and
 * demultiplexed by VRID, like keepalived's one socket per interface. The simulator's transport (sim/cluster.ts) does
 * the same over a simulated segment.
 *
 * Receive path: a packet from one of our own source addresses is ignored (multicast loop is off, but a bridge or a
 * second socket can still reflect one); the VRID byte picks the instance, whose kind decides the TTL check (a unicast
 * instance skips it, as keepalived does); the codec decodes; a unicast instance then hears only its peers. Drops are
 * counted per instance when the VRID byte names one of ours, and per interface otherwise, where 'vrid' means a valid
 * advert for a virtual router this host does not run. Matching the advert against the instance (matchAdvert) is left
 * to the instance driver, which reports those drops as events.
 */
import { TandemError } from '../core/errors.ts';
import { normaliseAddr, stripZone } from '../core/inet.ts';
import type { AdvertAuth } from '../vrrp/advert-hmac.ts';
import { decodeVrrp, encodeVrrp, matchSource } from '../vrrp/codec.ts';
import type { VrrpRx, VrrpTransport } from '../vrrp/ports.ts';
import type { AddressFamily, InstanceConfig, VrrpDrop } from '../vrrp/types.ts';
import { type SendTarget, type VrrpMessage, VrrpSocket } from './vrrp-socket.ts';

/** The VRRP multicast group of each family. @see RFC 5798 §5.1.1.2, §5.1.2.2 */
export const VRRP_GROUP: Readonly<Record<AddressFamily, string>> = { 4: '224.0.0.18', 6: 'ff02::12' };

/** The socket operations a transport uses: {@link VrrpSocket} has them; unit tests pass a fake. */
export interface VrrpSocketPort {
  readonly ifname: string;
  readonly family: AddressFamily;
  send(bytes: Uint8Array, to: SendTarget): void;
  onMessage(cb: (m: VrrpMessage) => void): () => void;
  onError(cb: (e: Error) => void): () => void;
  close(): void;
}

/** Dropped packets by reason; reasons that never happened are absent. */
export type DropCounts = Partial<Record<VrrpDrop, number>>;

/** One instance's traffic on a transport, as plain data for `tandem status`. */
export interface InstanceTransportStats {
  instance: string;
  vrid: number;
  /** Adverts delivered to the instance. */
  rx: number;
  /** Adverts sent (each unicast peer counts). */
  tx: number;
  txErrors: number;
  /** The last send error's message, if any. */
  lastTxError?: string;
  drops: DropCounts;
}

/** One interface's traffic, as plain data for `tandem status`. */
export interface InterfaceTransportStats {
  ifname: string;
  family: AddressFamily;
  /** Every datagram received. */
  rx: number;
  /** Datagrams from our own addresses, ignored. */
  own: number;
  rxErrors: number;
  /** Drops no instance could be blamed for: undecodable packets and VRIDs this host does not run. */
  drops: DropCounts;
  instances: InstanceTransportStats[];
}

/** A transport failure worth logging: the advert path never throws for them, it counts and reports here. */
export interface TransportError {
  ifname: string;
  family: AddressFamily;
  op: 'send' | 'receive';
  instance?: string;
  error: Error;
}

/** An instance's view of its interface's transport; `close` frees the VRID. */
export interface InstanceTransport extends VrrpTransport {
  readonly instance: string;
  close(): void;
}

interface Registration {
  cfg: InstanceConfig;
  src: string;
  handler: ((rx: VrrpRx) => void) | null;
  stats: InstanceTransportStats;
  /** auth_hmac: seals what it sends, opens what it receives (docs/split-brain.md §6). */
  auth?: AdvertAuth;
}

const canon = (addr: string): string => {
  const text = stripZone(addr);
  return normaliseAddr(text) ?? text;
};

const bump = (drops: DropCounts, reason: VrrpDrop): void => {
  drops[reason] = (drops[reason] ?? 0) + 1;
};

const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

/**
 * The VRRP transport of one interface and family.
 * @example const t = InterfaceTransport.open('eth0', 4); const vt = t.forInstance(cfg, '198.18.0.11');
 */
export class InterfaceTransport {
  readonly ifname: string;
  readonly family: AddressFamily;
  readonly #socket: VrrpSocketPort;
  readonly #byVrid = new Map<number, Registration>();
  readonly #errorHandlers = new Set<(e: TransportError) => void>();
  readonly #stats: Omit<InterfaceTransportStats, 'instances' | 'ifname' | 'family'> = {
    rx: 0,
    own: 0,
    rxErrors: 0,
    drops: {},
  };
  #closed = false;

  constructor(socket: VrrpSocketPort) {
    this.#socket = socket;
    this.ifname = socket.ifname;
    this.family = socket.family;
    socket.onMessage((m) => this.#receive(m));
    socket.onError((error) => {
      this.#stats.rxErrors++;
      this.#report({ op: 'receive', error });
    });
  }

  /** Opens the interface's raw socket (needs CAP_NET_RAW) and starts receiving. */
  static open(ifname: string, family: AddressFamily): InterfaceTransport {
    return new InterfaceTransport(VrrpSocket.open({ ifname, family }));
  }

  /** How many instances use this transport. */
  get size(): number {
    return this.#byVrid.size;
  }

  /**
   * The transport of one instance: adverts leave from `srcAddr` (which the v3 checksum is computed with) to the
   * group, or to the peer the instance names; received adverts with its VRID come to its handler. One VRID per
   * interface and family: a second instance with the same VRID is refused.
   */
  forInstance(cfg: InstanceConfig, srcAddr: string, opts: { auth?: AdvertAuth } = {}): InstanceTransport {
    if (this.#closed) throw new TandemError('TND_VRRP_TRANSPORT', `the VRRP transport on ${this.ifname} is closed`);
    if (cfg.family !== this.family) {
      throw new TandemError(
        'TND_VRRP_TRANSPORT',
        `${cfg.name} is IPv${cfg.family}, the transport on ${this.ifname} is IPv${this.family}`,
      );
    }
    const other = this.#byVrid.get(cfg.vrid);
    if (other) {
      const msg = `virtual_router_id ${cfg.vrid} is already used by ${other.cfg.name} on ${this.ifname}`;
      throw new TandemError('TND_CFG_VRID_CONFLICT', msg);
    }
    const reg: Registration = {
      cfg,
      src: srcAddr,
      handler: null,
      stats: { instance: cfg.name, vrid: cfg.vrid, rx: 0, tx: 0, txErrors: 0, drops: {} },
      ...(opts.auth ? { auth: opts.auth } : {}),
    };
    this.#byVrid.set(cfg.vrid, reg);
    return {
      instance: cfg.name,
      send: (packet, to) => this.#send(reg, packet, to),
      onReceive: (handler) => {
        reg.handler = handler;
        return () => {
          if (reg.handler === handler) reg.handler = null;
        };
      },
      close: () => {
        if (this.#byVrid.get(cfg.vrid) === reg) this.#byVrid.delete(cfg.vrid);
        reg.handler = null;
      },
    };
  }

  /** Subscribes to send and receive errors (for logs). Returns the unsubscribe function. */
  onError(cb: (e: TransportError) => void): () => void {
    this.#errorHandlers.add(cb);
    return () => this.#errorHandlers.delete(cb);
  }

  /** Counters of the interface and of each instance, as plain data. */
  stats(): InterfaceTransportStats {
    return {
      ifname: this.ifname,
      family: this.family,
      ...this.#stats,
      drops: { ...this.#stats.drops },
      instances: [...this.#byVrid.values()]
        .map((r) => ({ ...r.stats, drops: { ...r.stats.drops } }))
        .sort((a, b) => a.vrid - b.vrid),
    };
  }

  /** Closes the socket; instance transports stop sending and receiving. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#byVrid.clear();
    this.#socket.close();
  }

  #send(reg: Registration, packet: Parameters<VrrpTransport['send']>[0], to: string | undefined): void {
    if (this.#closed || this.#byVrid.get(reg.cfg.vrid) !== reg) return;
    const dst = to ?? VRRP_GROUP[this.family];
    // An encode error is a bug or a config that validation should have refused: let it surface.
    const message = encodeVrrp(packet, { src: reg.src, dst, v3Checksum: reg.cfg.v3Checksum });
    const bytes = reg.auth ? reg.auth.seal(message, reg.src) : message;
    try {
      this.#socket.send(bytes, { dst, src: reg.src });
      reg.stats.tx++;
    } catch (e) {
      // A link that is down or an address not yet configured must not break the instance's step (Rule 10).
      const error = asError(e);
      reg.stats.txErrors++;
      reg.stats.lastTxError = error.message;
      this.#report({ op: 'send', instance: reg.cfg.name, error });
    }
  }

  #receive(m: VrrpMessage): void {
    this.#stats.rx++;
    const src = canon(m.src);
    for (const r of this.#byVrid.values()) {
      if (canon(r.src) === src) {
        this.#stats.own++;
        return;
      }
    }
    const vrid = m.data.length >= 2 ? m.data[1] : undefined;
    const reg = vrid === undefined ? undefined : this.#byVrid.get(vrid);
    const unicast = (reg?.cfg.unicastPeers.length ?? 0) > 0;
    const decoded = decodeVrrp(m.data, { ttl: m.ttl, family: this.family, src: m.src, dst: m.dst, checkTtl: !unicast });
    if (!reg) {
      bump(this.#stats.drops, decoded.ok ? 'vrid' : decoded.reason);
      return;
    }
    if (!decoded.ok) {
      this.#drop(reg, decoded.reason, m.src, decoded.detail);
      return;
    }
    const peer = matchSource(m.src, reg.cfg);
    if (!peer.ok) {
      this.#drop(reg, peer.reason, m.src, peer.detail);
      return;
    }
    const sealed = reg.auth?.open(m.data, decoded.packet, m.src);
    if (sealed && !sealed.ok) {
      this.#drop(reg, sealed.reason, m.src, sealed.detail);
      return;
    }
    reg.stats.rx++;
    reg.handler?.({ ok: true, packet: decoded.packet, src: m.src });
  }

  #drop(reg: Registration, reason: VrrpDrop, src: string, detail: string): void {
    bump(reg.stats.drops, reason);
    reg.handler?.({ ok: false, reason, src, detail });
  }

  #report(e: Omit<TransportError, 'ifname' | 'family'>): void {
    const full: TransportError = { ifname: this.ifname, family: this.family, ...e };
    for (const h of this.#errorHandlers) h(full);
  }
}

/**
 * The transports of a node: opens one {@link InterfaceTransport} per (interface, family) on first use and closes it
 * when its last instance leaves.
 */
export class VrrpTransports {
  readonly #open: (ifname: string, family: AddressFamily) => InterfaceTransport;
  readonly #byKey = new Map<string, InterfaceTransport>();
  readonly #errorHandlers = new Set<(e: TransportError) => void>();

  /** `open` makes an interface transport. @default InterfaceTransport.open (a real socket) */
  constructor(open: (ifname: string, family: AddressFamily) => InterfaceTransport = InterfaceTransport.open) {
    this.#open = open;
  }

  /** The transport of one instance, on its interface's shared socket. */
  forInstance(cfg: InstanceConfig, srcAddr: string, opts: { auth?: AdvertAuth } = {}): InstanceTransport {
    const key = `${cfg.interface}/${cfg.family}`;
    let iface = this.#byKey.get(key);
    if (!iface) {
      iface = this.#open(cfg.interface, cfg.family);
      iface.onError((e) => {
        for (const h of this.#errorHandlers) h(e);
      });
      this.#byKey.set(key, iface);
    }
    const inner = iface.forInstance(cfg, srcAddr, opts);
    const owner = iface;
    return {
      ...inner,
      close: () => {
        inner.close();
        if (owner.size === 0 && this.#byKey.get(key) === owner) {
          owner.close();
          this.#byKey.delete(key);
        }
      },
    };
  }

  /** Subscribes to every transport's errors. Returns the unsubscribe function. */
  onError(cb: (e: TransportError) => void): () => void {
    this.#errorHandlers.add(cb);
    return () => this.#errorHandlers.delete(cb);
  }

  /** Every interface's counters. */
  stats(): InterfaceTransportStats[] {
    return [...this.#byKey.values()].map((t) => t.stats());
  }

  /** Closes every socket. */
  close(): void {
    for (const t of this.#byKey.values()) t.close();
    this.#byKey.clear();
  }
}
