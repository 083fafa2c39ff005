/**
 * PING_CHECK: one ICMP (or ICMPv6) echo request through iputils `ping -n -c 1 -W SECONDS`, run with the process
 * adapter that script checks use (its own process group, killed at the timeout).
 *
 * Why a process and not the native addon: Node has no ICMP socket, and the choice was between a new unprivileged
 * ICMP datagram socket in native/ (SOCK_DGRAM + IPPROTO_ICMP, allowed only for the groups in
 * net.ipv4.ping_group_range, which is "1 0" — nobody — on a default Debian 12), a raw socket needing CAP_NET_RAW,
 * and ping. ping already works for every user (it has cap_net_raw, or uses the datagram socket where the range
 * allows it), parses every ICMP error the kernel reports, handles IPv6, and keeps the addon's surface — which runs
 * inside the daemon that sends VRRP adverts — as small as it is. A check every few seconds costs one short process.
 *
 * Exit 0 (an echo reply) → L4OK; exit 1 (no reply: ping says so after -W) → L4TOUT; exit 2 or an ICMP error
 * printed (unreachable, prohibited) → L4CON; ping missing → SOCKERR; our own timeout → L4TOUT.
 * @see keepalived check_ping.c (an unprivileged ICMP datagram socket, which needs ping_group_range)
 */
import { type CommandRunner, runCommand } from '../../os/process.ts';
import type { CheckResult, PingProbe } from '../types.ts';

/** The ping binary. iputils-ping is installed by scripts/setup.sh. */
export const PING_COMMAND = 'ping';

/** The argv of one echo request: numeric output, one packet, a whole-second deadline of at least 1 s. */
export function pingArgv(spec: PingProbe): string[] {
  const seconds = Math.max(1, Math.ceil(spec.timeoutMs / 1000));
  return [
    PING_COMMAND,
    '-n',
    '-c',
    '1',
    '-W',
    String(seconds),
    ...(spec.bindAddr ? ['-I', spec.bindAddr] : []),
    ...(spec.addr.includes(':') ? ['-6'] : ['-4']),
    spec.addr,
  ];
}

/**
 * Runs one ping check. Never rejects; an abort kills ping and resolves with detail "aborted".
 * @example await runPingCheck({ kind: 'ping', addr: '127.0.0.1', timeoutMs: 2_000 }, signal)
 */
export async function runPingCheck(
  spec: PingProbe,
  signal: AbortSignal,
  run: CommandRunner = runCommand,
): Promise<CheckResult> {
  const argv = pingArgv(spec);
  // ping's own deadline is whole seconds: give it that plus a margin before the process adapter kills it.
  const deadline = Number(argv[argv.indexOf('-W') + 1]) * 1000;
  const r = await run(argv, { timeoutMs: deadline + 1_000, signal });
  const durationMs = r.durationMs;
  const said = firstProblem(r.stdout, r.stderr);
  switch (r.outcome) {
    case 'ok':
      return { code: 'L4OK', detail: 'echo reply', durationMs };
    case 'timeout':
      return { code: 'L4TOUT', detail: `no echo reply within ${deadline} ms`, durationMs };
    case 'aborted':
      return { code: 'L4CON', detail: 'aborted', durationMs };
    case 'spawn-error':
      return { code: 'SOCKERR', detail: `cannot run ${PING_COMMAND}: ${r.error ?? 'unknown error'}`, durationMs };
    case 'failed':
      if (r.code === 1 && !said) return { code: 'L4TOUT', detail: `no echo reply within ${deadline} ms`, durationMs };
      return { code: 'L4CON', detail: said || `ping exit ${r.code ?? r.signal ?? '?'}`, durationMs };
  }
}

/** The ICMP error or usage problem ping printed ("Destination Host Unreachable"), if any. */
function firstProblem(stdout: string, stderr: string): string {
  const err = stderr.trim().split('\n', 1)[0]?.trim();
  if (err) return err.replace(/^ping: /, '');
  const icmp = /(Destination [^\n]*Unreachable|Packet filtered|Time to live exceeded|Redirect[^\n]*)/i.exec(stdout);
  return icmp ? icmp[1]!.trim() : '';
}
