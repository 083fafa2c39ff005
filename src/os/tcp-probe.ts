/**
 * The guard's service probe (`peer_probe`, the seed's `nc -z master 80`): one TCP connect, closed at once. Connected
 * means the master's host serves; refused means it is up and does not; no answer in time is a timeout. Never rejects.
 */
import net from 'node:net';
import { connectErrorCode, describeSocketError, errnoOf } from '../core/socket-error.ts';

/** How a connect ended. */
export type TcpProbeOutcome = 'open' | 'refused' | 'timeout' | 'unreachable' | 'error';

const UNREACHABLE = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN']);

/**
 * Connects to `addr`:`port` once.
 * @example await tcpProbe('198.18.0.11', 80, 100) // { outcome: 'open', detail: 'connected' }
 */
export function tcpProbe(
  addr: string,
  port: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<{ outcome: TcpProbeOutcome; detail: string }> {
  return new Promise((resolve) => {
    let socket: net.Socket | undefined;
    let settled = false;
    const done = (outcome: TcpProbeOutcome, detail: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket?.destroy();
      resolve({ outcome, detail });
    };
    const onAbort = (): void => done('error', 'aborted');
    const timer = setTimeout(() => done('timeout', `no answer within ${timeoutMs} ms`), Math.max(0, timeoutMs));
    if (signal?.aborted) return done('error', 'aborted');
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      socket = net.connect({ host: addr, port });
    } catch (e) {
      done('error', describeSocketError(e));
      return;
    }
    socket.once('connect', () => done('open', 'connected'));
    socket.on('error', (e) => {
      const code = errnoOf(e) ?? '';
      if (code === 'ECONNREFUSED' || code === 'ECONNRESET') done('refused', describeSocketError(e));
      else if (UNREACHABLE.has(code)) done('unreachable', describeSocketError(e));
      else if (connectErrorCode(e) === 'L4TOUT') done('timeout', describeSocketError(e));
      else done('error', describeSocketError(e));
    });
  });
}
