/**
 * DNS_CHECK: one query over UDP with recursion desired, as keepalived sends it. The first response carrying the
 * query's id with QR set is judged: RCODE 0 → L7OK, another RCODE → L7STS (SERVFAIL, REFUSED …); datagrams with
 * another id, or queries, are ignored, as keepalived does; no response in time → L7TOUT; a port unreachable →
 * L4CON. The query id is random per run, so a stale response never passes a new check.
 * @see keepalived check_dns.c dns_make_query, dns_recv_thread; RFC 1035 §4.1
 */
import { randomInt } from 'node:crypto';
import { type CheckResult, DNS_TYPES, type DnsProbe, type DnsType } from '../types.ts';
import { exchangeDatagram } from './datagram.ts';

const RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

/** A DNS query for `name` of `type` with id `id`: header (RD set), one question of class IN. Pure. */
export function dnsQuery(id: number, name: string, type: DnsType): Uint8Array {
  const labels = name.replace(/\.$/, '').split('.').filter(Boolean);
  const qname = labels.flatMap((l) => {
    const bytes = [...Buffer.from(l, 'latin1')].slice(0, 63);
    return [bytes.length, ...bytes];
  });
  const out = Buffer.alloc(12 + qname.length + 1 + 4);
  out.writeUInt16BE(id, 0);
  out.writeUInt16BE(0x0100, 2); // RD
  out.writeUInt16BE(1, 4); // QDCOUNT
  Buffer.from(qname).copy(out, 12);
  const q = 12 + qname.length;
  out[q] = 0;
  out.writeUInt16BE(DNS_TYPES[type], q + 1);
  out.writeUInt16BE(1, q + 3); // IN
  return out;
}

/** How a datagram answers query `id`: 'ignore' (too short, another id, not a response) or its RCODE. Pure. */
export function judgeDnsResponse(msg: Uint8Array, id: number): 'ignore' | number {
  if (msg.length < 12) return 'ignore';
  if (((msg[0]! << 8) | msg[1]!) !== id) return 'ignore';
  const flags = (msg[2]! << 8) | msg[3]!;
  if ((flags & 0x8000) === 0) return 'ignore';
  return flags & 0x000f;
}

/**
 * Runs one DNS check. Never rejects; an abort ends it at once with detail "aborted".
 * @example await runDnsCheck({ kind: 'dns', addr: '127.0.0.1', port: 53, type: 'SOA', name: '', timeoutMs: 3_000 }, signal)
 */
export function runDnsCheck(spec: DnsProbe, signal: AbortSignal): Promise<CheckResult> {
  const id = randomInt(0, 0x10000);
  const shown = `${spec.type} ${spec.name || '.'}`;
  return exchangeDatagram(
    {
      addr: spec.addr,
      port: spec.port,
      ...(spec.bindAddr ? { bindAddr: spec.bindAddr } : {}),
      payload: dnsQuery(id, spec.name, spec.type),
      timeoutMs: spec.timeoutMs,
      abortCode: 'L7RSP',
      onTimeout: () => ({ code: 'L7TOUT', detail: `no response to ${shown} within ${spec.timeoutMs} ms` }),
      judge: (msg) => {
        const v = judgeDnsResponse(msg, id);
        if (v === 'ignore') return undefined;
        return v === 0
          ? { code: 'L7OK', detail: `${shown}: NOERROR` }
          : { code: 'L7STS', detail: `${shown}: ${RCODE_NAMES[v] ?? `RCODE ${v}`}` };
      },
    },
    signal,
  );
}
