/**
 * HMAC-authenticated adverts on a transport (docs/split-brain.md §6): seals what an instance sends and opens what it
 * receives, with the sender sequence and the per-sender replay marks the pure codec (codec-hmac.ts) hands back. Used
 * by the real transport (os/vrrp-transport.ts) and the simulator's byte-level wire (sim/cluster.ts) alike. The wall
 * clock is injected: the sequence is UTC time, as keepalived's.
 */
import { HMAC_TRAILER_LEN, type HmacKey, nextSeq, type ReplayMark, signHmac, verifyHmac } from './codec-hmac.ts';
import type { HmacConfig, InstanceConfig, VrrpPacket } from './types.ts';

/** Senders whose replay mark is kept (only after a valid MAC, so forged sources cannot churn it). */
const MAX_SENDERS = 16;

/** The length of an advert's VRRP message (what decodeVrrp read), from its decoded packet. */
export function advertMessageLength(p: Pick<VrrpPacket, 'version' | 'family' | 'addrs'>): number {
  return 8 + p.addrs.length * (p.family === 4 ? 4 : 16) + (p.version === 2 ? 8 : 0);
}

/** What opening a received advert says. */
export type AdvertOpen =
  | { ok: true; signed: boolean }
  | { ok: false; reason: 'hmac' | 'stale' | 'replay'; detail: string };

/**
 * The HMAC side of one instance's transport.
 * @example const a = new AdvertAuth(cfg, [{ id: 1, key }], Date.now); socket.send(a.seal(bytes, src))
 */
export class AdvertAuth {
  readonly #cfg: Pick<InstanceConfig, 'family' | 'version' | 'vrid'> & { hmac: HmacConfig };
  readonly #keys: readonly HmacKey[];
  readonly #wallNow: () => number;
  readonly #marks = new Map<string, ReplayMark>();
  #seq = 0n;

  constructor(cfg: InstanceConfig & { hmac: HmacConfig }, keys: readonly HmacKey[], wallNow: () => number) {
    this.#cfg = cfg;
    this.#keys = keys;
    this.#wallNow = wallNow;
  }

  /** The datagram for an encoded advert sent from `src`: with the trailer, unless the mode is receive-only. */
  seal(message: Uint8Array, src: string): Uint8Array {
    const { hmac, family, version, vrid } = this.#cfg;
    const key = this.#keys.find((k) => k.id === hmac.keyId);
    if (hmac.mode === 'receive-only' || !key) return message;
    this.#seq = nextSeq(this.#seq, this.#wallNow(), hmac.antiReplay, this.#windowS());
    return signHmac(message, { family, version, vrid, src }, key, this.#seq);
  }

  /** Checks a received datagram whose VRRP message decoded as `packet`, from `src`. */
  open(buf: Uint8Array, packet: VrrpPacket, src: string): AdvertOpen {
    const { hmac, family, version, vrid } = this.#cfg;
    const len = advertMessageLength(packet);
    const r = verifyHmac(
      buf.length === len + HMAC_TRAILER_LEN ? buf : buf.subarray(0, len),
      len,
      { family, version, vrid, src },
      this.#keys,
      { mode: hmac.mode, antiReplay: hmac.antiReplay, windowS: this.#windowS(), wallMs: this.#wallNow() },
      this.#marks.get(src) ?? null,
    );
    if (!r.ok) return r;
    if (r.signed) {
      this.#marks.delete(src);
      this.#marks.set(src, r.mark);
      if (this.#marks.size > MAX_SENDERS) this.#marks.delete(this.#marks.keys().next().value!);
    }
    return { ok: true, signed: r.signed };
  }

  #windowS(): number {
    return Math.max(1, Math.round(this.#cfg.hmac.timeWindowMs / 1000));
  }
}
