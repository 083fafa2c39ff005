/**
 * tandem's peer channel messages (docs/split-brain.md §1): "is instance X master here, at which priority?" between
 * tandem nodes, on another path than the VRRP adverts. Authenticated with HMAC-SHA256 under a key derived from the
 * cluster key; bounded in size; fresh by a timestamp window and a nonce, and an answer carries its query's nonce.
 * Pure and total: decoding never throws on wire input (Rule 3); the anti-replay memory is a small class fed the
 * clock reading.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { VrrpState } from '../vrrp/types.ts';

/** The largest message either side sends or accepts. */
export const PEER_MAX_BYTES = 256;
const MAGIC = [0x54, 0x44, 0x50, 0x43]; // "TDPC"
const VERSION = 1;
const MAC_LEN = 32;
const HEADER_LEN = 25;
const MAX_NAME = 64;
const TYPE_QUERY = 1;
const TYPE_ANSWER = 2;
const STATES: readonly (VrrpState | 'absent')[] = ['INIT', 'BACKUP', 'MASTER', 'FAULT'];
const ABSENT = 255;

/** A question to a node. */
export interface PeerQuery {
  type: 'query';
  /** The asking node. */
  node: string;
  instance: string;
  /** The sender's wall clock, ms since 1970. */
  timestampMs: number;
  /** Random per query. */
  nonce: bigint;
}

/** A node's answer about one of its instances. */
export interface PeerAnswerMessage {
  type: 'answer';
  /** The answering node. */
  node: string;
  instance: string;
  timestampMs: number;
  /** The query's nonce. */
  nonce: bigint;
  state: VrrpState | 'absent';
  priority: number;
  vipsHeld: boolean;
}

export type PeerMessage = PeerQuery | PeerAnswerMessage;

/** Why a datagram was not a message. */
export type PeerDrop = 'short' | 'long' | 'magic' | 'version' | 'type' | 'length' | 'name' | 'mac' | 'field';

/** What {@link decodePeer} returns. */
export type PeerDecodeResult = { ok: true; msg: PeerMessage } | { ok: false; reason: PeerDrop; detail: string };

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The peer channel's key: HMAC-SHA256(cluster key, "tandem peer channel v1"), so no other use shares it. */
export function peerKey(clusterKey: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha256', clusterKey).update('tandem peer channel v1').digest());
}

const macOf = (key: Uint8Array, body: Uint8Array): Uint8Array =>
  new Uint8Array(createHmac('sha256', key).update(body).digest());

/** Encodes and signs a message. Throws RangeError on a name longer than 64 bytes or a field out of range. */
export function encodePeer(msg: PeerMessage, key: Uint8Array): Uint8Array {
  const node = utf8.encode(msg.node);
  const inst = utf8.encode(msg.instance);
  if (node.length < 1 || node.length > MAX_NAME || inst.length < 1 || inst.length > MAX_NAME)
    throw new RangeError('node and instance names are 1..64 bytes');
  const extra = msg.type === 'answer' ? 3 : 0;
  const len = HEADER_LEN + node.length + 1 + inst.length + extra + MAC_LEN;
  const out = new Uint8Array(len);
  const v = new DataView(out.buffer);
  out.set(MAGIC, 0);
  v.setUint8(4, VERSION);
  v.setUint8(5, msg.type === 'query' ? TYPE_QUERY : TYPE_ANSWER);
  v.setUint16(6, len);
  v.setBigUint64(8, BigInt(Math.max(0, Math.floor(msg.timestampMs))));
  v.setBigUint64(16, msg.nonce & ((1n << 64n) - 1n));
  v.setUint8(24, node.length);
  out.set(node, 25);
  let at = 25 + node.length;
  v.setUint8(at++, inst.length);
  out.set(inst, at);
  at += inst.length;
  if (msg.type === 'answer') {
    if (!Number.isInteger(msg.priority) || msg.priority < 0 || msg.priority > 255)
      throw new RangeError('priority is 0..255');
    v.setUint8(at++, msg.state === 'absent' ? ABSENT : STATES.indexOf(msg.state));
    v.setUint8(at++, msg.priority);
    v.setUint8(at++, msg.vipsHeld ? 1 : 0);
  }
  out.set(macOf(key, out.subarray(0, len - MAC_LEN)), len - MAC_LEN);
  return out;
}

const bad = (reason: PeerDrop, detail: string): PeerDecodeResult => ({ ok: false, reason, detail });

/** Decodes and authenticates a datagram. The MAC is checked before any field is believed. */
export function decodePeer(buf: Uint8Array, key: Uint8Array): PeerDecodeResult {
  if (buf.length > PEER_MAX_BYTES) return bad('long', `${buf.length} bytes, more than ${PEER_MAX_BYTES}`);
  if (buf.length < HEADER_LEN + 2 + MAC_LEN) return bad('short', `${buf.length} bytes`);
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (MAGIC.some((b, i) => buf[i] !== b)) return bad('magic', 'not a tandem peer channel message');
  if (v.getUint8(4) !== VERSION) return bad('version', `version ${v.getUint8(4)}, this node speaks ${VERSION}`);
  const type = v.getUint8(5);
  if (type !== TYPE_QUERY && type !== TYPE_ANSWER) return bad('type', `type ${type}`);
  if (v.getUint16(6) !== buf.length) return bad('length', `length field ${v.getUint16(6)}, datagram ${buf.length}`);
  const mac = buf.subarray(buf.length - MAC_LEN);
  if (!timingSafeEqual(macOf(key, buf.subarray(0, buf.length - MAC_LEN)), mac))
    return bad('mac', 'the MAC does not verify (another key, or forged)');
  const nodeLen = v.getUint8(24);
  const instAt = HEADER_LEN + nodeLen;
  if (nodeLen < 1 || nodeLen > MAX_NAME || instAt >= buf.length - MAC_LEN) return bad('name', 'bad node name length');
  const instLen = v.getUint8(instAt);
  const end = instAt + 1 + instLen + (type === TYPE_ANSWER ? 3 : 0);
  if (instLen < 1 || instLen > MAX_NAME || end !== buf.length - MAC_LEN) return bad('name', 'bad instance name length');
  let node: string;
  let instance: string;
  try {
    node = utf8Strict.decode(buf.subarray(HEADER_LEN, instAt));
    instance = utf8Strict.decode(buf.subarray(instAt + 1, instAt + 1 + instLen));
  } catch {
    return bad('name', 'a name is not UTF-8');
  }
  const timestampMs = Number(v.getBigUint64(8));
  const nonce = v.getBigUint64(16);
  if (type === TYPE_QUERY) return { ok: true, msg: { type: 'query', node, instance, timestampMs, nonce } };
  const at = instAt + 1 + instLen;
  const code = v.getUint8(at);
  const state = code === ABSENT ? 'absent' : STATES[code];
  if (state === undefined) return bad('field', `state ${code}`);
  return {
    ok: true,
    msg: {
      type: 'answer',
      node,
      instance,
      timestampMs,
      nonce,
      state,
      priority: v.getUint8(at + 1),
      vipsHeld: (v.getUint8(at + 2) & 1) === 1,
    },
  };
}

/**
 * The anti-replay memory of a receiver: a query is fresh when stamped within `windowMs` of our clock and its nonce
 * was not seen within the window. Bounded: at most `max` nonces are remembered; when full the oldest go first (a
 * replay of one of those is still refused by the window once it is older than the window).
 */
export class NonceWindow {
  readonly #seen = new Map<string, number>();
  constructor(
    readonly windowMs: number,
    readonly max = 4096,
  ) {}

  /** Admits a query or says why not; records its nonce. */
  admit(sender: string, timestampMs: number, nonce: bigint, nowMs: number): 'ok' | 'stale' | 'replay' {
    if (Math.abs(nowMs - timestampMs) > this.windowMs) return 'stale';
    for (const [k, exp] of this.#seen) {
      if (exp > nowMs) break;
      this.#seen.delete(k);
    }
    const key = `${sender}\u0000${nonce}`;
    if (this.#seen.has(key)) return 'replay';
    if (this.#seen.size >= this.max) this.#seen.delete(this.#seen.keys().next().value!);
    this.#seen.set(key, nowMs + this.windowMs);
    return 'ok';
  }
}
