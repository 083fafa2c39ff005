/**
 * Announces virtual addresses after a takeover so neighbours repoint their caches at this host: gratuitous ARP for
 * IPv4 (an ARP request with sender = target = the VIP, sent over AF_PACKET with the interface's MAC) and unsolicited
 * neighbour advertisements for IPv6 (to ff02::1, override flag, target link-layer address option, hop limit 255).
 * The real {@link GarpEffects}; its fake is in sim/fake-os.ts.
 *
 * Receivers with the Linux default arp_accept=0 only update entries they already have, which is the case that
 * matters: hosts that talked to the VIP before the failover.
 */
import type { GarpEffects } from '../vrrp/ports.ts';
import type { VipConfig } from '../vrrp/types.ts';
import { nativeAddon } from './native.ts';

/** Packets sent by one {@link announce} call, per interface. */
export interface AnnounceResult {
  /** Gratuitous ARP packets and unsolicited NAs sent, by interface. */
  sent: Record<string, { arp: number; na: number }>;
}

/**
 * Sends `repeat` rounds of gratuitous ARP / unsolicited NA for `vips`, each on its own device (`vip.dev`) or on
 * `ifname`. Resolves after the packets are handed to the kernel; runs after the caller's current turn, so it never
 * delays what the caller does next (an advert, Rule 10).
 * @example await announce('eth0', [{ addr: '198.18.0.100', prefix: 24 }], 5)
 */
export async function announce(ifname: string, vips: readonly VipConfig[], repeat: number): Promise<AnnounceResult> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  const byDev = new Map<string, { v4: string[]; v6: string[] }>();
  for (const vip of vips) {
    const dev = vip.dev ?? ifname;
    const entry = byDev.get(dev) ?? { v4: [], v6: [] };
    (vip.addr.includes(':') ? entry.v6 : entry.v4).push(vip.addr);
    byDev.set(dev, entry);
  }
  const sent: AnnounceResult['sent'] = {};
  const addon = byDev.size > 0 ? nativeAddon() : undefined;
  for (const [dev, { v4, v6 }] of byDev) {
    if (addon) sent[dev] = addon.announce(dev, v4, v6, repeat);
  }
  return { sent };
}

/** The real GarpEffects for one instance's interface. */
export function garpEffects(ifname: string, spacing: { intervalMs?: number; naIntervalMs?: number } = {}): GarpEffects {
  const gap = Math.max(spacing.intervalMs ?? 0, spacing.naIntervalMs ?? 0);
  if (gap <= 0) return { announce: (vips, repeat) => announce(ifname, vips, repeat) };
  // keepalived vrrp_garp_interval / vrrp_gna_interval: the packets of a burst go out one at a time, this far apart
  // (one gap for both families: the larger, so neither is sent faster than asked).
  return {
    announce: async (vips, repeat) => {
      for (let i = 0; i < repeat; i++) {
        if (i > 0) await new Promise((resolve) => setTimeout(resolve, gap));
        await announce(ifname, vips, 1);
      }
    },
  };
}
