/**
 * One datagram exchange on a connected UDP socket, shared by UDP_CHECK and DNS_CHECK: send `payload`, then hand each
 * datagram back to `judge` until it returns a result, or the timeout passes. Connecting the socket is what lets
 * the kernel report an ICMP port unreachable as ECONNREFUSED (L4CON). Never rejects; an abort ends it at once.
 */
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { performance } from 'node:perf_hooks';
import { connectErrorCode, describeSocketError } from '../../core/socket-error.ts';
import type { CheckResult, CheckResultCode } from '../types.ts';

type Outcome = Omit<CheckResult, 'durationMs'>;

/** What one exchange does. */
export interface DatagramExchange {
  addr: string;
  port: number;
  bindAddr?: string;
  payload: Uint8Array;
  timeoutMs: number;
  /** The result when nothing decided within the timeout. */
  onTimeout: () => Outcome;
  /** The result a datagram decides, or undefined to keep waiting. */
  judge: (msg: Buffer) => Outcome | undefined;
  /** The (meaningless) code of an aborted run. */
  abortCode: CheckResultCode;
}

/** Runs one exchange. */
export function exchangeDatagram(x: DatagramExchange, signal: AbortSignal): Promise<CheckResult> {
  const started = performance.now();
  const ms = (): number => Math.round(performance.now() - started);
  if (signal.aborted) return Promise.resolve({ code: x.abortCode, detail: 'aborted', durationMs: 0 });
  return new Promise<CheckResult>((resolve) => {
    let settled = false;
    let socket: dgram.Socket | undefined;
    const done = (r: Outcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      try {
        socket?.close();
      } catch {
        // already closed
      }
      resolve({ ...r, durationMs: ms() });
    };
    const onAbort = (): void => done({ code: x.abortCode, detail: 'aborted' });
    const timer = setTimeout(() => done(x.onTimeout()), Math.max(0, x.timeoutMs));
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      socket = dgram.createSocket({ type: isIPv6(x.addr) ? 'udp6' : 'udp4' });
    } catch (e) {
      done({ code: 'SOCKERR', detail: describeSocketError(e) });
      return;
    }
    const s = socket;
    s.on('error', (e) => done({ code: connectErrorCode(e), detail: describeSocketError(e) }));
    s.on('message', (msg) => {
      const r = x.judge(msg);
      if (r) done(r);
    });
    const send = (): void =>
      s.connect(x.port, x.addr, () => {
        s.send(x.payload, (e) => {
          if (e) done({ code: connectErrorCode(e), detail: describeSocketError(e) });
        });
      });
    try {
      if (x.bindAddr) s.bind({ address: x.bindAddr, port: 0 }, send);
      else send();
    } catch (e) {
      done({ code: 'SOCKERR', detail: describeSocketError(e) });
    }
  });
}
