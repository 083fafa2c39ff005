/**
 * Does this process hold the Linux capabilities the daemon needs? CAP_NET_RAW for the VRRP socket, gratuitous ARP
 * and unsolicited NA; CAP_NET_ADMIN for multicast membership on a bound device, addresses and nftables. Checked once at
 * start so a missing grant is one clear message instead of an EPERM from somewhere deep.
 */
import { readFileSync } from 'node:fs';

/** The capabilities tandem's daemon needs, with their bit numbers from linux/capability.h. */
export const REQUIRED_CAPABILITIES = { CAP_NET_RAW: 13, CAP_NET_ADMIN: 12 } as const;

/** A capability the daemon needs. */
export type Capability = keyof typeof REQUIRED_CAPABILITIES;

/** The effective capability set from the text of /proc/PID/status (`CapEff:\t0000003fffffffff`), or undefined. */
export function parseCapEff(status: string): bigint | undefined {
  const m = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(status);
  return m?.[1] ? BigInt(`0x${m[1]}`) : undefined;
}

/** The needed capabilities that `capEff` lacks. */
export function missingCapabilities(capEff: bigint): Capability[] {
  return (Object.keys(REQUIRED_CAPABILITIES) as Capability[]).filter(
    (c) => (capEff & (1n << BigInt(REQUIRED_CAPABILITIES[c]))) === 0n,
  );
}

/**
 * The needed capabilities this process lacks (empty when it has them all), read from /proc/self/status or from
 * `statusText` for tests. When the status cannot be read every capability counts as missing: the daemon would fail
 * later anyway.
 */
export function checkCapabilities(statusText?: string): Capability[] {
  let text = statusText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/status', 'utf8');
    } catch {
      text = '';
    }
  }
  const capEff = parseCapEff(text);
  return capEff === undefined ? (Object.keys(REQUIRED_CAPABILITIES) as Capability[]) : missingCapabilities(capEff);
}

/**
 * The message the daemon prints before exiting when capabilities are missing.
 * @example capabilityMessage(['CAP_NET_RAW']) // 'tandem needs CAP_NET_RAW and … ; missing: CAP_NET_RAW'
 */
export function capabilityMessage(missing: readonly Capability[]): string {
  return (
    'tandem needs CAP_NET_RAW and CAP_NET_ADMIN (run as root or grant them with setcap/AmbientCapabilities)' +
    (missing.length > 0 ? `; missing: ${missing.join(', ')}` : '')
  );
}
