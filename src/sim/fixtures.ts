/**
 * Test fixtures: an InstanceConfig with keepalived's defaults, for tests and simulations that only care about a few
 * fields.
 */
import type { GarpConfig, InstanceConfig } from '../vrrp/types.ts';

/** Overrides for {@link instanceConfig}; `garp` may be partial. */
export type InstanceOverrides = Partial<Omit<InstanceConfig, 'garp'>> & { garp?: Partial<GarpConfig> };

/**
 * A complete instance config: keepalived's defaults (version 2, advert 1 s, preempt, garp 5 × after 5 s, three
 * adverts to Master_Down, RFC 9568 lower-priority adverts), VRID 51, priority 100, one VIP, plus `overrides`.
 * IPv6 instances get an IPv6 VIP and version 3 unless overridden.
 * @example instanceConfig({ priority: 150, preempt: false })
 */
export function instanceConfig(overrides: InstanceOverrides = {}): InstanceConfig {
  const { garp, ...rest } = overrides;
  const v6 = overrides.family === 6;
  return {
    name: 'VI_1',
    version: v6 ? 3 : 2,
    family: 4,
    interface: 'eth0',
    vrid: 51,
    priority: 100,
    advertIntervalMs: 1000,
    initialState: 'BACKUP',
    preempt: true,
    preemptDelayMs: 0,
    accept: true,
    auth: { type: 'none' },
    v3Checksum: 'pseudo-header',
    vips: [v6 ? { addr: '2001:db8::100', prefix: 128 } : { addr: '198.18.0.100', prefix: 32 }],
    unicastPeers: [],
    trackers: [],
    downTimerAdverts: 3,
    lowerPrioNoAdvert: false,
    ...rest,
    garp: { masterDelayMs: 5000, masterRepeat: 5, masterRefreshMs: 0, ...garp },
  };
}
