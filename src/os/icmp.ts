/**
 * ICMP echo ("ping") from Node, through the native addon's IcmpSocket (native/vrrp.cc): a ping socket where
 * net.ipv4.ping_group_range allows it, else a raw socket (CAP_NET_RAW). One socket per family, opened on first use and
 * shared by every echo in flight; replies are matched by sequence number and a random token in the payload, so a raw
 * socket's view of other processes' ICMP never resolves the wrong echo. Used by the takeover guard
 * (node/guard.ts), the ping targets (health/ping-watch.ts), and meant for any other ICMP check (a PING_CHECK): the
 * {@link IcmpEcho} interface is all they need.
 */
import { randomBytes } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { performance } from 'node:perf_hooks';
import { internetChecksum } from '../core/inet.ts';
import { nativeAddon } from './native.ts';

/** How an echo ended: a reply; none in time; an ICMP error or a local "no route"; or our own socket failing. */
export type IcmpOutcome = 'reply' | 'timeout' | 'unreachable' | 'error';

/** The outcome of one echo. */
export interface IcmpResult {
  outcome: IcmpOutcome;
  /** Round trip, for a reply. */
  rttMs?: number;
  detail: string;
}

/** Sends ICMP echo requests. Never rejects: every failure is an outcome. */
export interface IcmpEcho {
  echo(addr: string, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<IcmpResult>;
  close(): void;
}

/** The addon's socket, as this file uses it (tests pass a fake). */
export interface NativeIcmpSocket {
  readonly kind: 'dgram' | 'raw';
  send(bytes: Uint8Array, dst: string): number;
  start(cb: (err: Error | null, msg?: { data: Uint8Array; src: string }) => void): void;
  close(): void;
}

interface Pending {
  token: number;
  sent: number;
  done: (r: IcmpResult) => void;
}

const ECHO_REQUEST = { 4: 8, 6: 128 } as const;
const ECHO_REPLY = { 4: 0, 6: 129 } as const;
const UNREACHABLE = { 4: 3, 6: 1 } as const;
const PAYLOAD_MAGIC = 0x54_4e_44_50; // "TNDP"

/**
 * The real pinger.
 * @example const p = new IcmpPinger(); const r = await p.echo('198.18.0.11', { timeoutMs: 100 }); p.close();
 */
export class IcmpPinger implements IcmpEcho {
  readonly #open: (family: 4 | 6) => NativeIcmpSocket;
  readonly #sockets = new Map<4 | 6, NativeIcmpSocket>();
  readonly #pending = new Map<string, Pending>();
  /** The echo identifier of raw sockets (a ping socket's kernel picks its own). */
  readonly #id = randomBytes(2).readUInt16BE();
  #seq = randomBytes(2).readUInt16BE();
  #closed = false;

  /** `open` makes a socket of a family. @default the native addon's IcmpSocket */
  constructor(opts: { open?: (family: 4 | 6) => NativeIcmpSocket } = {}) {
    this.#open =
      opts.open ?? ((family) => new (nativeAddon().IcmpSocket as new (f: 4 | 6) => NativeIcmpSocket)(family));
  }

  echo(addr: string, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<IcmpResult> {
    const family = isIPv4(addr) ? 4 : isIPv6(addr.split('%')[0] ?? '') ? 6 : undefined;
    if (!family) return Promise.resolve({ outcome: 'error', detail: `not an IP address: ${addr}` });
    if (this.#closed) return Promise.resolve({ outcome: 'error', detail: 'the pinger is closed' });
    if (opts.signal?.aborted) return Promise.resolve({ outcome: 'error', detail: 'aborted' });
    let sock: NativeIcmpSocket;
    try {
      sock = this.#socket(family);
    } catch (e) {
      return Promise.resolve({ outcome: 'error', detail: (e as Error).message });
    }
    this.#seq = (this.#seq + 1) & 0xffff;
    const seq = this.#seq;
    const token = randomBytes(4).readUInt32BE();
    const packet = new Uint8Array(16);
    const v = new DataView(packet.buffer);
    v.setUint8(0, ECHO_REQUEST[family]);
    v.setUint16(4, this.#id);
    v.setUint16(6, seq);
    v.setUint32(8, PAYLOAD_MAGIC);
    v.setUint32(12, token);
    // ICMPv6 checksums are the kernel's (they need the pseudo-header); a ping socket fills in IPv4's too.
    if (family === 4) v.setUint16(2, internetChecksum(packet));
    return new Promise<IcmpResult>((resolve) => {
      const key = `${family}/${seq}`;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = (): void => finish({ outcome: 'error', detail: 'aborted' });
      const finish = (r: IcmpResult): void => {
        if (this.#pending.get(key)?.token === token) this.#pending.delete(key);
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        resolve(r);
      };
      this.#pending.set(key, { token, sent: performance.now(), done: finish });
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      timer = setTimeout(
        () => finish({ outcome: 'timeout', detail: `no reply from ${addr} within ${opts.timeoutMs} ms` }),
        Math.max(0, opts.timeoutMs),
      );
      try {
        sock.send(packet, addr);
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        const unreachable = ['ENETUNREACH', 'EHOSTUNREACH', 'EADDRNOTAVAIL', 'ENETDOWN'].includes(err.code ?? '');
        finish({ outcome: unreachable ? 'unreachable' : 'error', detail: err.message });
      }
    });
  }

  /** Closes the sockets; echoes in flight end as errors. */
  close(): void {
    this.#closed = true;
    for (const p of [...this.#pending.values()]) p.done({ outcome: 'error', detail: 'the pinger closed' });
    for (const s of this.#sockets.values()) s.close();
    this.#sockets.clear();
  }

  #socket(family: 4 | 6): NativeIcmpSocket {
    let s = this.#sockets.get(family);
    if (s) return s;
    s = this.#open(family);
    const raw = s.kind === 'raw';
    s.start((err, msg) => {
      if (err || !msg) return;
      this.#receive(family, raw, msg.data);
    });
    this.#sockets.set(family, s);
    return s;
  }

  #receive(family: 4 | 6, raw: boolean, data: Uint8Array): void {
    if (data.length < 8) return;
    const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const type = v.getUint8(0);
    if (type === ECHO_REPLY[family]) {
      if (data.length < 16 || v.getUint32(8) !== PAYLOAD_MAGIC) return;
      if (raw && v.getUint16(4) !== this.#id) return;
      const p = this.#pending.get(`${family}/${v.getUint16(6)}`);
      if (!p || p.token !== v.getUint32(12)) return;
      const rtt = performance.now() - p.sent;
      p.done({ outcome: 'reply', rttMs: rtt, detail: `reply in ${rtt.toFixed(1)} ms` });
      return;
    }
    if (type !== UNREACHABLE[family] || !raw) return;
    // An ICMP error quotes our echo: the IP header, then its first 8 bytes (type, code, checksum, id, seq).
    const inner = family === 4 ? 8 + ((v.getUint8(8) & 0x0f) << 2) : 8 + 40;
    if (data.length < inner + 8 || v.getUint8(inner) !== ECHO_REQUEST[family] || v.getUint16(inner + 4) !== this.#id)
      return;
    const p = this.#pending.get(`${family}/${v.getUint16(inner + 6)}`);
    p?.done({ outcome: 'unreachable', detail: `destination unreachable (ICMP code ${v.getUint8(1)})` });
  }
}
