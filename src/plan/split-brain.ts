/**
 * The split-brain part of an instance's plan (docs/split-brain.md): its takeover guard, its extra heartbeat paths and
 * its HMAC adverts, with per-node values resolved the way node-plan.ts resolves the rest. Pure.
 */
import type { InstanceSpec, TandemConfig } from '../config/schema.ts';
import { GUARD_TIMEOUT_MAX_MS, GUARD_TIMEOUT_MIN_MS } from '../config/schema-split-brain.ts';
import { defaultHmacWindowS } from '../vrrp/codec-hmac.ts';
import { defaultGuardTimeoutMs } from '../vrrp/guard.ts';
import type { GuardConfig, HmacConfig, PathConfig } from '../vrrp/types.ts';

const pick = <T>(v: T | Record<string, T> | undefined, node: string): T | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, T>)[node] : (v as T | undefined);

/** The guard, paths and HMAC settings of one instance on `node`. */
export function splitBrainOfInstance(
  cfg: TandemConfig,
  spec: InstanceSpec,
  node: string,
  address: string | undefined,
): { guard?: GuardConfig; paths?: PathConfig[]; hmac?: HmacConfig } {
  const g = spec.guard;
  const device = g.fence ? cfg.fencing.devices[g.fence] : undefined;
  const timeoutMs = Math.min(
    GUARD_TIMEOUT_MAX_MS,
    Math.max(GUARD_TIMEOUT_MIN_MS, g.timeout ?? defaultGuardTimeoutMs(spec.advert_interval)),
  );
  const guard: GuardConfig | undefined = g.enabled
    ? {
        timeoutMs,
        peerChannel: g.peer_channel,
        icmp: g.icmp,
        ports: [...g.peer_probe],
        ...(g.fence && device ? { fence: { device: g.fence, timeoutMs: device.timeout, retryMs: device.retry } } : {}),
      }
    : undefined;
  const own = new Set(
    [address, ...(cfg.cluster.nodes.find((n) => n.name === node)?.addresses ?? [])].filter((a): a is string => !!a),
  );
  const paths = spec.paths.map((p): PathConfig => {
    const src = pick(p.unicast?.source, node);
    const mcast = pick(p.mcast_source, node);
    return {
      interface: p.interface,
      // As on the first path, a node never sends to itself.
      unicastPeers: (p.unicast?.peers ?? []).filter((a) => a !== src && !own.has(a)),
      ...(src ? { unicastSrc: src } : {}),
      ...(mcast ? { mcastSrc: mcast } : {}),
    };
  });
  const h = spec.auth_hmac;
  const keyFile = h?.key_file ?? cfg.cluster.key_file;
  const hmac: HmacConfig | undefined =
    h && keyFile
      ? {
          keyFile,
          keyId: h.key_id,
          mode: h.mode,
          antiReplay: h.anti_replay,
          timeWindowMs: h.time_window ?? defaultHmacWindowS(spec.advert_interval) * 1000,
        }
      : undefined;
  return { ...(guard ? { guard } : {}), ...(paths.length ? { paths } : {}), ...(hmac ? { hmac } : {}) };
}
