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
import type { CheckResult, UdpProbe } from '../types.ts';
import { exchangeDatagram } from './datagram.ts';

/**
 * Runs one UDP check. Never rejects; an abort ends it at once with detail "aborted".
 * @example await runUdpCheck({ kind: 'udp', addr: '127.0.0.1', port: 53, payload: new Uint8Array(), requireReply: false, minReplyLength: 0, maxReplyLength: 255, timeoutMs: 2_000 }, signal)
 */
export function runUdpCheck(spec: UdpProbe, signal: AbortSignal): Promise<CheckResult> {
  return exchangeDatagram(
    {
      addr: spec.addr,
      port: spec.port,
      ...(spec.bindAddr ? { bindAddr: spec.bindAddr } : {}),
      payload: spec.payload,
      timeoutMs: spec.timeoutMs,
      abortCode: 'L4CON',
      onTimeout: () =>
        spec.requireReply
          ? { code: 'L4TOUT', detail: `no reply within ${spec.timeoutMs} ms` }
          : { code: 'L4OK', detail: `no port unreachable within ${spec.timeoutMs} ms` },
      judge: (msg) => {
        const bad = replyProblem(msg, spec);
        return bad ? { code: 'L7RSP', detail: bad } : { code: 'L4OK', detail: `reply of ${msg.length} bytes` };
      },
    },
    signal,
  );
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
