/** Shared builders for the scenario tests: nodes d1, d2, d3 on 198.18.0.0/24, VIPs from 198.18.0.100. */
import type { SimNodeSpec } from '../../src/sim/cluster.ts';
import { type InstanceOverrides, instanceConfig } from '../../src/sim/fixtures.ts';

/** The VIP of VI_1. */
export const VIP = '198.18.0.100';
/** The VIP of VI_2 in {@link syncedNode}. */
export const VIP2 = '198.18.0.101';

/** Node `dN` at 198.18.0.N running VI_1 with `overrides`. */
export function node(n: number, overrides: InstanceOverrides = {}): SimNodeSpec {
  return { name: `d${n}`, primaryAddr: `198.18.0.${n}`, instances: [instanceConfig(overrides)] };
}

/** Node `dN` running VI_1 and VI_2 in sync group G, both at `priority`, VI_1 with `trackers`. */
export function syncedNode(n: number, priority: number, vi1: InstanceOverrides = {}): SimNodeSpec {
  return {
    name: `d${n}`,
    primaryAddr: `198.18.0.${n}`,
    instances: [
      instanceConfig({ name: 'VI_1', vrid: 51, priority, ...vi1 }),
      instanceConfig({ name: 'VI_2', vrid: 52, priority, vips: [{ addr: VIP2, prefix: 32 }] }),
    ],
    syncGroups: [{ name: 'G', members: ['VI_1', 'VI_2'] }],
  };
}
