/**
 * A raw VRRP socket (IP protocol 112) on one interface and family, over the native addon: bound to the interface,
 * joined to 224.0.0.18 / ff02::12, sending with TTL / hop limit 255 and multicast loop off, and receiving through
 * recvmsg with the TTL, the addresses and the interface index.
 *
 * Checksums: IPv4 ones are the codec's. The v3/IPv4 pseudo-header covers the source address, so the source is chosen
 * per datagram with IP_PKTINFO (`ipi_spec_dst` in sendmsg) rather than left to routing; the kernel still builds the
 * IP header (TOS 0xc0, TTL 255), so no IP_HDRINCL is needed. IPv6 ones are computed and verified by the kernel
 * (IPV6_CHECKSUM offset 6, as keepalived does), over the source actually on the wire; the kernel drops bad ones before
 * we see them, so IPv6 'checksum' drops are never counted. The IPv6 source is chosen with IPV6_PKTINFO.
 */
import type { AddressFamily } from '../vrrp/types.ts';
import { type NativeMessage, type NativeVrrpSocket, nativeAddon } from './native.ts';

/** One received datagram. */
export interface VrrpMessage {
  /** The VRRP message, from its Version/Type byte on (no IP header). */
  data: Uint8Array;
  /** Source and destination address as text (IPv6 without a zone). */
  src: string;
  dst: string;
  /** Received IPv4 TTL or IPv6 hop limit. */
  ttl: number;
  /** The interface it arrived on. */
  ifindex: number;
  family: AddressFamily;
}

/** What {@link VrrpSocket.open} takes. */
export interface VrrpSocketOptions {
  ifname: string;
  family: AddressFamily;
}

/** Where a datagram goes and, optionally, which of the host's addresses it leaves from. */
export interface SendTarget {
  dst: string;
  /** Source address. @default chosen by the kernel's routing */
  src?: string;
}

/**
 * A raw VRRP socket on one interface. Errors (no permission, no such interface) are thrown as Errors whose `code` is
 * the errno name (`EPERM`, `ENODEV`).
 * @example
 * const s = VrrpSocket.open({ ifname: 'eth0', family: 4 });
 * s.onMessage((m) => …);
 * s.send(bytes, { dst: '224.0.0.18', src: '198.18.0.11' });
 */
export class VrrpSocket {
  readonly ifname: string;
  readonly family: AddressFamily;
  readonly #native: NativeVrrpSocket;
  readonly #handlers = new Set<(m: VrrpMessage) => void>();
  readonly #errorHandlers = new Set<(e: Error) => void>();
  #receiving = false;
  #closed = false;

  private constructor(opts: VrrpSocketOptions, native: NativeVrrpSocket) {
    this.ifname = opts.ifname;
    this.family = opts.family;
    this.#native = native;
  }

  /** Opens the socket; needs CAP_NET_RAW. */
  static open(opts: VrrpSocketOptions): VrrpSocket {
    const { VrrpSocket: Native } = nativeAddon();
    return new VrrpSocket(opts, new Native(opts.ifname, opts.family));
  }

  /** The interface index the socket is bound to. */
  get ifindex(): number {
    return this.#native.ifindex;
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Sends one VRRP message (no IP header); throws on a send error (e.g. ENETDOWN, or a source not on this host). */
  send(bytes: Uint8Array, to: SendTarget): void {
    if (to.src === undefined) this.#native.send(bytes, to.dst);
    else this.#native.send(bytes, to.dst, to.src);
  }

  /** Subscribes to received datagrams; receiving starts with the first subscriber. Returns the unsubscribe function. */
  onMessage(cb: (m: VrrpMessage) => void): () => void {
    this.#handlers.add(cb);
    this.#start();
    return () => this.#handlers.delete(cb);
  }

  /** Subscribes to receive errors (they do not close the socket). Returns the unsubscribe function. */
  onError(cb: (e: Error) => void): () => void {
    this.#errorHandlers.add(cb);
    return () => this.#errorHandlers.delete(cb);
  }

  /** Stops receiving and closes the socket. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#handlers.clear();
    this.#errorHandlers.clear();
    this.#native.close();
  }

  #start(): void {
    if (this.#receiving || this.#closed) return;
    this.#receiving = true;
    this.#native.start((err, msg) => {
      if (err) {
        for (const h of this.#errorHandlers) h(err);
      } else if (msg) {
        this.#dispatch(msg);
      }
    });
  }

  #dispatch(msg: NativeMessage): void {
    const m: VrrpMessage = { ...msg, family: this.family };
    for (const h of this.#handlers) h(m);
  }
}
