/**
 * Persistence (LVS "persistent service", keepalived `persistence_timeout` / `persistence_granularity`): every
 * connection from one client network goes to the real server the network was first given, while that affinity is
 * younger than the timeout. This file holds the pure parts — the key of a client network and the decision on one
 * affinity record; the table of records lives with the data plane (conntrack or an nftables timeout set in the
 * kernel, a map in the proxy).
 * @see ipvsadm(8) -p, -M; keepalived.conf(5) virtual_server
 */

import { formatAddr, maskBytes, parseIp } from '../core/inet.ts';
import type { Ms } from '../core/time.ts';

/**
 * The affinity key of a client: its network under the granularity prefix, as `addr/prefix` text
 * (`198.51.100.0/24`, `2001:db8::/48`). The prefix is clamped to the family's length; text that is not an address is
 * returned unchanged (a key is still a key).
 * @example persistenceKey('198.51.100.77', 24) // '198.51.100.0/24'
 */
export function persistenceKey(clientAddr: string, netmaskPrefix: number): string {
  const bytes = parseIp(clientAddr);
  if (!bytes) return clientAddr;
  const prefix = Math.min(bytes.length * 8, Math.max(0, Math.trunc(netmaskPrefix)));
  return `${formatAddr(maskBytes(bytes, prefix))}/${prefix}`;
}

/** The granularity that keeps one address per key: 32 for IPv4, 128 for IPv6 (ipvsadm's default `-M`). */
export function defaultNetmaskPrefix(family: 4 | 6): number {
  return family === 4 ? 32 : 128;
}

/** One affinity: the real server a client network was given and when the affinity lapses. */
export interface Affinity {
  server: string;
  expiresAtMs: Ms;
}

/**
 * Which backend a client network sticks to, or null (none recorded, expired, or that backend no longer takes new
 * connections). A backend with weight 0 — draining, inhibited — is not honoured, so a drain completes even under
 * persistent clients (LVS does the same with `expire_quiescent_template = 1`).
 * @example stickyBackend({ server: '10.0.0.2:80', expiresAtMs: 9_000 }, backends, 5_000)
 */
export function stickyBackend(
  affinity: Affinity | undefined,
  backends: readonly { key: string; weight: number }[],
  now: Ms,
): number | null {
  if (!affinity || now >= affinity.expiresAtMs) return null;
  const i = backends.findIndex((b) => b.key === affinity.server);
  return i >= 0 && (backends[i]?.weight ?? 0) > 0 ? i : null;
}

/**
 * The affinity after a connection to `server` at `now`: it lapses `timeoutMs` after the last connection (an LVS
 * persistence template is refreshed while connections use it).
 */
export function renewAffinity(server: string, now: Ms, timeoutMs: Ms): Affinity {
  return { server, expiresAtMs: now + timeoutMs };
}
