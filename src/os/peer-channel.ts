/**
 * tandem's peer channel on UDP (docs/split-brain.md §1; messages in election/peer-codec.ts): the server answers
 * authenticated queries about this node's instances, the client asks another node about one of its instances. Every
 * datagram is bounded (256 bytes), authenticated before it is believed, and dropped silently when it is not: an
 * unauthenticated sender gets nothing back, so the channel can neither be probed nor used to reflect traffic.
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { TandemError } from '../core/errors.ts';
import { errnoOf } from '../core/socket-error.ts';
import { decodePeer, encodePeer, NonceWindow, PEER_MAX_BYTES, type PeerDrop, peerKey } from '../election/peer-codec.ts';
import type { PeerAnswer } from '../election/takeover-guard.ts';

/** What the server says about one of its instances; undefined = it does not run here. */
export type PeerAnswerSource = (instance: string) => Omit<PeerAnswer, 'node'> | undefined;

/** Why the server dropped a datagram. */
export type PeerReject = PeerDrop | 'stale' | 'replay' | 'not-a-query';

/** The server's counters, for `tandem status`. */
export interface PeerChannelStats {
  port: number;
  answered: number;
  rejected: Partial<Record<PeerReject, number>>;
}

/** What the server runs with. */
export interface PeerServerOptions {
  node: string;
  /** The cluster key (the channel's own key is derived from it). */
  clusterKey: Uint8Array;
  port: number;
  windowMs: number;
  answer: PeerAnswerSource;
  /** Wall clock for the freshness window. @default Date.now */
  wallNow?: () => number;
  /** Told of every dropped datagram (for a rate-limited log). */
  onReject?: (src: string, reason: PeerReject, detail: string) => void;
  /** Addresses to bind. @default ['0.0.0.0', '::'] */
  bind?: readonly string[];
}

/**
 * The peer channel server of a node.
 * @example const s = await PeerChannelServer.listen({ node: 'd1', clusterKey, port: 7694, windowMs: 30_000, answer })
 */
export class PeerChannelServer {
  readonly #opts: PeerServerOptions;
  readonly #key: Uint8Array;
  readonly #window: NonceWindow;
  readonly #sockets: dgram.Socket[] = [];
  readonly #stats: PeerChannelStats;

  private constructor(opts: PeerServerOptions) {
    this.#opts = opts;
    this.#key = peerKey(opts.clusterKey);
    this.#window = new NonceWindow(opts.windowMs);
    this.#stats = { port: opts.port, answered: 0, rejected: {} };
  }

  /** Binds the port on every address (IPv4 and IPv6). Throws TND_PEER_LISTEN when it cannot. */
  static async listen(opts: PeerServerOptions): Promise<PeerChannelServer> {
    const s = new PeerChannelServer(opts);
    try {
      for (const addr of opts.bind ?? ['0.0.0.0', '::']) await s.#bind(addr);
    } catch (e) {
      s.close();
      throw new TandemError(
        'TND_PEER_LISTEN',
        `cannot listen on UDP port ${opts.port} for the peer channel: ${(e as Error).message}`,
        { cause: e },
      );
    }
    return s;
  }

  /** Counters. */
  stats(): PeerChannelStats {
    return { ...this.#stats, rejected: { ...this.#stats.rejected } };
  }

  /** Stops answering. */
  close(): void {
    for (const s of this.#sockets.splice(0)) {
      try {
        s.close();
      } catch {
        // already closed
      }
    }
  }

  #bind(addr: string): Promise<void> {
    const v6 = isIPv6(addr);
    const sock = dgram.createSocket({ type: v6 ? 'udp6' : 'udp4', ipv6Only: v6, recvBufferSize: 1 << 16 });
    this.#sockets.push(sock);
    sock.on('message', (buf, rinfo) => this.#receive(sock, buf, rinfo));
    // A receive error (an ICMP error for an answer we sent) must not end the server.
    return new Promise((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(this.#opts.port, addr, () => {
        sock.off('error', reject);
        sock.on('error', () => undefined);
        resolve();
      });
    });
  }

  #reject(src: string, reason: PeerReject, detail: string): void {
    this.#stats.rejected[reason] = (this.#stats.rejected[reason] ?? 0) + 1;
    this.#opts.onReject?.(src, reason, detail);
  }

  #receive(sock: dgram.Socket, buf: Buffer, rinfo: dgram.RemoteInfo): void {
    const d = decodePeer(
      new Uint8Array(buf.buffer, buf.byteOffset, Math.min(buf.length, PEER_MAX_BYTES + 1)),
      this.#key,
    );
    if (!d.ok) {
      this.#reject(rinfo.address, d.reason, d.detail);
      return;
    }
    const q = d.msg;
    if (q.type !== 'query') {
      this.#reject(rinfo.address, 'not-a-query', 'an answer nobody asked this port for');
      return;
    }
    const now = (this.#opts.wallNow ?? Date.now)();
    const fresh = this.#window.admit(q.node, q.timestampMs, q.nonce, now);
    if (fresh !== 'ok') {
      this.#reject(rinfo.address, fresh, `${q.node} stamped ${new Date(q.timestampMs).toISOString()}`);
      return;
    }
    const a = this.#opts.answer(q.instance);
    const reply = encodePeer(
      {
        type: 'answer',
        node: this.#opts.node,
        instance: q.instance,
        timestampMs: now,
        nonce: q.nonce,
        state: a?.state ?? 'absent',
        priority: a?.priority ?? 0,
        vipsHeld: a?.vipsHeld ?? false,
      },
      this.#key,
    );
    this.#stats.answered++;
    sock.send(reply, rinfo.port, rinfo.address);
  }
}

/** What a query learned. */
export type PeerQueryResult =
  | { outcome: 'answer'; answer: PeerAnswer }
  | { outcome: 'refused' | 'timeout' | 'error'; detail: string };

/** What a client needs. */
export interface PeerClientOptions {
  node: string;
  clusterKey: Uint8Array;
  port: number;
  wallNow?: () => number;
}

/**
 * Asks the node at `addr` about `instance`. A connected socket of its own, so that an ICMP port unreachable (no tandem
 * listens there) comes back as `refused`. Only an answer carrying this query's nonce counts. Never rejects.
 * @example await peerQuery({ node: 'd2', clusterKey, port: 7694 }, '198.18.0.11', 'VI_1', 100)
 */
export function peerQuery(
  opts: PeerClientOptions,
  addr: string,
  instance: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<PeerQueryResult> {
  const key = peerKey(opts.clusterKey);
  const nonce = randomBytes(8).readBigUInt64BE();
  let msg: Uint8Array;
  try {
    msg = encodePeer(
      { type: 'query', node: opts.node, instance, timestampMs: (opts.wallNow ?? Date.now)(), nonce },
      key,
    );
  } catch (e) {
    return Promise.resolve({ outcome: 'error', detail: (e as Error).message });
  }
  const host = addr.split('%')[0] ?? addr;
  return new Promise((resolve) => {
    const sock = dgram.createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    let settled = false;
    const done = (r: PeerQueryResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      try {
        sock.close();
      } catch {
        // already closed
      }
      resolve(r);
    };
    const onAbort = (): void => done({ outcome: 'error', detail: 'aborted' });
    const timer = setTimeout(
      () => done({ outcome: 'timeout', detail: `no answer from ${addr} within ${timeoutMs} ms` }),
      Math.max(0, timeoutMs),
    );
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    sock.on('error', (e) => {
      const code = errnoOf(e);
      if (code === 'ECONNREFUSED') done({ outcome: 'refused', detail: `nothing listens on ${addr} port ${opts.port}` });
      else done({ outcome: 'error', detail: e.message });
    });
    sock.on('message', (buf) => {
      const d = decodePeer(new Uint8Array(buf.buffer, buf.byteOffset, Math.min(buf.length, PEER_MAX_BYTES + 1)), key);
      if (!d.ok || d.msg.type !== 'answer' || d.msg.nonce !== nonce || d.msg.instance !== instance) return;
      const { state, priority, vipsHeld, node } = d.msg;
      done({ outcome: 'answer', answer: { state, priority, vipsHeld, node } });
    });
    sock.connect(opts.port, host, () => {
      sock.send(msg, (e) => {
        if (e) done({ outcome: 'error', detail: e.message });
      });
    });
  });
}
