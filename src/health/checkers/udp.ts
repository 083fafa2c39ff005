/**
 * UDP_CHECK: one datagram on a connected UDP socket. A connected socket is what lets the kernel hand us the ICMP
 * port unreachable of a closed port (ECONNREFUSED on the next receive), which is all keepalived's UDP_CHECK can see
 * when no reply is required: silence until the timeout passes, a refusal fails (L4CON). With `requireReply` the
 * first datagram back is judged: none in time → L4TOUT; a length outside min..max or bytes that differ from `reply`
 * (where the mask allows) → L7RSP; otherwise L4OK.
 *
 * One deliberate difference: keepalived checks min_reply_length / max_reply_length only when require_reply names
 * reply bytes; tandem checks them whenever a reply is required, as keepalived.conf(5) describes them.
 * @see keepalived check_udp.c udp_check_thread, check_udp_reply; core/layer4.c udp_socket_state
 */
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { performance } from 'node:perf_hooks';
import { connectErrorCode, describeSocketError } from '../../core/socket-error.ts';
import type { CheckResult, UdpProbe } from '../types.ts';

/**
 * Runs one UDP check. Never rejects; an abort ends it at once with detail "aborted".
 * @example await runUdpCheck({ kind: 'udp', addr: '127.0.0.1', port: 53, payload: new Uint8Array(), requireReply: false, minReplyLength: 0, maxReplyLength: 255, timeoutMs: 2_000 }, signal)
 */
export function runUdpCheck(spec: UdpProbe, signal: AbortSignal): Promise<CheckResult> {
  const started = performance.now();
  const ms = (): number => Math.round(performance.now() - started);
  if (signal.aborted) return Promise.resolve({ code: 'L4CON', detail: 'aborted', durationMs: 0 });
  return new Promise<CheckResult>((resolve) => {
    let settled = false;
    let socket: dgram.Socket | undefined;
    const done = (r: Omit<CheckResult, 'durationMs'>): void => {
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
    const onAbort = (): void => done({ code: 'L4CON', detail: 'aborted' });
    const timer = setTimeout(
      () =>
        done(
          spec.requireReply
            ? { code: 'L4TOUT', detail: `no reply within ${spec.timeoutMs} ms` }
            : { code: 'L4OK', detail: `no port unreachable within ${spec.timeoutMs} ms` },
        ),
      Math.max(0, spec.timeoutMs),
    );
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      socket = dgram.createSocket({ type: isIPv6(spec.addr) ? 'udp6' : 'udp4' });
    } catch (e) {
      done({ code: 'SOCKERR', detail: describeSocketError(e) });
      return;
    }
    const s = socket;
    s.on('error', (e) => done({ code: connectErrorCode(e), detail: describeSocketError(e) }));
    s.on('message', (msg) => {
      const bad = replyProblem(msg, spec);
      done(bad ? { code: 'L7RSP', detail: bad } : { code: 'L4OK', detail: `reply of ${msg.length} bytes` });
    });
    const connect = (): void =>
      s.connect(spec.port, spec.addr, () => {
        s.send(spec.payload, (e) => {
          if (e) done({ code: connectErrorCode(e), detail: describeSocketError(e) });
        });
      });
    try {
      if (spec.bindAddr) s.bind({ address: spec.bindAddr, port: 0 }, connect);
      else connect();
    } catch (e) {
      done({ code: 'SOCKERR', detail: describeSocketError(e) });
    }
  });
}

/** What is wrong with a reply, or undefined when it passes. Pure. */
export function replyProblem(
  msg: Uint8Array,
  spec: Pick<UdpProbe, 'minReplyLength' | 'maxReplyLength' | 'reply' | 'replyMask'>,
): string | undefined {
  if (msg.length < spec.minReplyLength || msg.length > spec.maxReplyLength)
    return `reply of ${msg.length} bytes, expected ${spec.minReplyLength}..${spec.maxReplyLength}`;
  const want = spec.reply;
  if (!want) return undefined;
  // As keepalived: only the bytes both have are compared.
  const n = Math.min(want.length, msg.length);
  for (let i = 0; i < n; i++) {
    const care = ~(spec.replyMask?.[i] ?? 0) & 0xff;
    if (((msg[i]! ^ want[i]!) & care) !== 0)
      return `reply byte ${i} is ${hex(msg[i]!)}, expected ${hex(want[i]!)}${care !== 0xff ? ` (mask ${hex(care)})` : ''}`;
  }
  return undefined;
}

const hex = (b: number): string => b.toString(16).padStart(2, '0');
