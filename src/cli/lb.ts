/** The load balancer in the CLI: the `ipvsadm -ln`-like table of `tandem status`, and `tandem rs`. */

import { callDaemon, controlTarget } from '../api/client.ts';
import type { LbServerStatus, LbServiceStatus, LbStatus, RsOutcome } from '../api/contract.ts';
import type { CliIo } from './io.ts';

const FORWARD = { nat: 'Masq', dr: 'Route' } as const;

function endpoint(addr: string, port: number): string {
  return `${addr.includes(':') ? `[${addr}]` : addr}:${port}`;
}

/**
 * The virtual services as `ipvsadm -ln` shows them, with health and admin state to the right:
 *
 * ```
 * Prot LocalAddress:Port Scheduler Flags
 *   -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
 * TCP  198.18.0.100:80 rr
 *   -> 198.18.1.11:80               Masq    1      3          12
 * ```
 */
export function formatLbTable(lb: LbStatus): string[] {
  const out = [
    'Prot LocalAddress:Port Scheduler Flags',
    '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn  State      Health',
  ];
  for (const s of lb.services) out.push(...formatService(s));
  if (lb.error) out.push(`data plane error: ${lb.error}`);
  out.push(`health checks: ${lb.checks.targets} targets, ${lb.checks.inFlight} running, ${lb.checks.runs} run so far`);
  return out;
}

function formatService(s: LbServiceStatus): string[] {
  const flags = s.persistence ? `persistent ${Math.round(s.persistence.timeoutMs / 1000)}` : '';
  const mask =
    s.persistence && s.persistence.netmaskPrefix !== (s.vip.includes(':') ? 128 : 32)
      ? ` mask /${s.persistence.netmaskPrefix}`
      : '';
  const role =
    s.role === 'serving'
      ? `serving here (${s.dataplane})`
      : s.role === 'standby'
        ? `standby here (owner ${s.owner} is not master here)`
        : `not this node's (owner ${s.owner})`;
  const head =
    `${s.protocol.toUpperCase().padEnd(4)} ${endpoint(s.vip, s.port)} ${s.scheduler}${flags ? ` ${flags}${mask}` : ''}` +
    `   # ${s.name}: ${role}; quorum ${s.quorum}${s.note ? `; ${s.note}` : ''}`;
  const lines = [head];
  for (const rs of s.servers) lines.push(formatServer(s, rs));
  if (s.sorry)
    lines.push(
      `  -> ${endpoint(s.sorry.addr, s.sorry.port).padEnd(29)} sorry server${s.sorry.active ? ' (ACTIVE)' : ''}`,
    );
  return lines;
}

function formatServer(s: LbServiceStatus, rs: LbServerStatus): string {
  const admin = [rs.admin.maint ? `maint by ${rs.admin.maint}` : '', rs.admin.drain ? `drain by ${rs.admin.drain}` : '']
    .filter(Boolean)
    .join(', ');
  const weight = rs.programmed ? String(rs.weight) : '-';
  const health = rs.check
    ? `${rs.health} ${rs.check.last ? `${rs.check.last.code} ${rs.check.last.detail}` : '(not checked yet)'}`
    : `${rs.health} (no check)`;
  return (
    `  -> ${endpoint(rs.addr, rs.port).padEnd(29)} ${(s.dataplane === 'proxy' ? 'Proxy' : FORWARD[s.method]).padEnd(7)} ${weight.padEnd(6)} ` +
    `${String(rs.conns.active).padEnd(10)} ${String(rs.conns.inactive).padEnd(10)} ${rs.op.padEnd(10)} ${health}` +
    `${admin ? `  [${admin}]` : ''}${rs.weightOverride ? `  [weight ${rs.weightOverride.weight} by ${rs.weightOverride.source}, configured ${rs.configuredWeight}]` : ''}`
  );
}

/** `tandem rs VERB SERVICE SERVER [WEIGHT]`. */
export async function runRs(
  verb: 'drain' | 'enable' | 'maint' | 'weight' | 'add' | 'remove',
  service: string,
  server: string,
  opts: {
    weight?: string;
    wait?: boolean;
    control?: string;
    node?: string;
    tokenFile?: string;
    cacert?: string;
    timeoutMs?: number;
  },
  io: CliIo,
): Promise<number> {
  let weight: number | null | undefined;
  if (opts.weight !== undefined) {
    if (opts.weight === 'reset') weight = null;
    else if (/^\d+$/.test(opts.weight)) weight = Number(opts.weight);
    else {
      io.err(
        `tandem rs ${verb}: TND_CLI_USAGE weight must be a whole number 0..65535 (or "reset"), got ${opts.weight}`,
      );
      return 2;
    }
  }
  if (verb === 'weight' && weight === undefined) {
    io.err('tandem rs weight: TND_CLI_USAGE give the new weight, or "reset"');
    return 2;
  }
  const body = { service, server, verb, ...(weight !== undefined ? { weight } : {}), wait: opts.wait !== false };
  // A drain waits for connections to end, up to the service's drain_timeout: the request may take that long.
  const r = await callDaemon(controlTarget(opts), 'POST', '/v1/rs', body, opts.timeoutMs ?? 3_600_000);
  if (!r.ok) {
    io.err(`tandem rs ${verb}: TND_CTL_NO_DAEMON ${r.message}`);
    return 3;
  }
  if (r.status !== 200) {
    const b = r.body as { code?: string; message?: string };
    io.err(`tandem rs ${verb}: ${b.code} ${b.message}`);
    return 1;
  }
  const o = r.body as Extract<RsOutcome, { ok: true }>;
  if (o.drain) {
    const d = o.drain;
    if (!d.served) io.out(`${o.service} ${o.server}: draining (this node does not serve ${o.service} now)`);
    else if (d.done)
      io.out(`${o.service} ${o.server}: drained in ${(d.waitedMs / 1000).toFixed(1)} s; no active connections left`);
    else {
      io.out(
        `${o.service} ${o.server}: still ${d.active} active connection(s) after ${(d.waitedMs / 1000).toFixed(1)} s (drain_timeout); it takes no new ones`,
      );
      return 1;
    }
    return 0;
  }
  const what: Record<typeof verb, string> = {
    drain: 'draining: no new connections',
    enable: 'enabled',
    maint: 'in maintenance: out of the pool',
    weight: weight === null ? 'weight reset to the configured one' : `weight set to ${weight}`,
    add: 'added',
    remove: 'removed',
  };
  io.out(`${o.service} ${o.server}: ${what[verb]}`);
  return 0;
}
