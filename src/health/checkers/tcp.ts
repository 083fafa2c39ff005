/**
 * TCP_CHECK: opens a TCP connection and closes it at once. Connected → L4OK; refused, reset, unreachable → L4CON
 * with the errno; no answer within `connectTimeoutMs` → L4TOUT; our own socket failing (bind) → SOCKERR.
 * @see keepalived check_tcp.c; HAProxy "check" without an upper-layer test (L4OK)
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { connectErrorCode, describeSocketError } from '../../core/socket-error.ts';
import type { CheckResult, TcpProbe } from '../types.ts';

/**
 * Runs one TCP connect check. Never rejects; an abort ends it at once with detail "aborted".
 * @example const r = await runTcpCheck({ kind: 'tcp', addr: '198.18.1.12', port: 80, connectTimeoutMs: 3_000 }, signal)
 */
export function runTcpCheck(spec: TcpProbe, signal: AbortSignal): Promise<CheckResult> {
  const started = performance.now();
  const ms = (): number => Math.round(performance.now() - started);
  if (signal.aborted) return Promise.resolve({ code: 'L4CON', detail: 'aborted', durationMs: 0 });
  return new Promise<CheckResult>((resolve) => {
    let socket: net.Socket | undefined;
    let settled = false;
    const done = (r: Omit<CheckResult, 'durationMs'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket?.destroy();
      resolve({ ...r, durationMs: ms() });
    };
    const onAbort = (): void => done({ code: 'L4CON', detail: 'aborted' });
    const timer = setTimeout(
      () => done({ code: 'L4TOUT', detail: `connect timed out after ${spec.connectTimeoutMs} ms` }),
      Math.max(0, spec.connectTimeoutMs),
    );
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      socket = net.connect({
        host: spec.addr,
        port: spec.port,
        ...(spec.bindAddr ? { localAddress: spec.bindAddr } : {}),
      });
    } catch (e) {
      // Node validates addresses and ports synchronously.
      done({ code: 'SOCKERR', detail: describeSocketError(e) });
      return;
    }
    socket.once('connect', () => done({ code: 'L4OK', detail: 'connected' }));
    // `on`, not `once`: a late second error must still have a listener.
    socket.on('error', (e) => done({ code: connectErrorCode(e), detail: describeSocketError(e) }));
  });
}
