/**
 * What a VRRP instance driver needs from the outside world. Real adapters live in os/ (a later issue), fakes in sim/.
 * Effects may be asynchronous (return a promise), but the driver never waits for them: nothing may delay an advert
 * (Rule 10); a rejected promise becomes an `effectFailed` event.
 */
import type { VipConfig, VrrpDrop, VrrpPacket } from './types.ts';

/** A received advert, already decoded (and address-checked) by the transport, or the reason it was dropped. */
export type VrrpRx =
  | { ok: true; packet: VrrpPacket; src: string }
  | { ok: false; reason: VrrpDrop; src: string; detail: string };

/** Sends and receives adverts for one instance (the transport demultiplexes by VRID). */
export interface VrrpTransport {
  /** Sends an advert: to `to` (a unicast peer address), or to the VRRP multicast group when `to` is absent. */
  send(packet: VrrpPacket, to?: string): void;
  /** Registers the receive handler; returns the function that unregisters it. */
  onReceive(handler: (rx: VrrpRx) => void): () => void;
  /**
   * Sends one advert everywhere it goes (every heartbeat path, each path's unicast peers or group). When present the
   * driver calls it instead of `send` once per unicast peer (node/paths.ts: redundant heartbeat paths).
   */
  sendAdvert?(packet: VrrpPacket): void;
}

/** Puts virtual addresses on, and takes them off, the host. Converging: adding a present address is not an error. */
export interface VipEffects {
  add(vips: readonly VipConfig[]): unknown;
  remove(vips: readonly VipConfig[]): unknown;
}

/** Announces virtual addresses: gratuitous ARP (IPv4) or unsolicited neighbour advertisements (IPv6). */
export interface GarpEffects {
  announce(vips: readonly VipConfig[], repeat: number): unknown;
}
