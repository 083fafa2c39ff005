/** The lease timing rule shared by the config checks and the elector (election/etcd.ts keeps its own copy). Pure. */

/**
 * Why lease settings cannot work, or null: etcd grants whole seconds (at least 2), the margin is positive, and a
 * renewal must fit before the margin.
 * @example checkEtcdTiming({ ttlMs: 3000, renewMs: 500, marginMs: 1000 }) // null
 */
export function checkEtcdTiming(o: {
  ttlMs: number;
  renewMs: number;
  marginMs: number;
}): { key: 'lease_ttl' | 'renew_interval' | 'safety_margin'; message: string } | null {
  if (o.ttlMs < 2_000 || o.ttlMs % 1_000 !== 0)
    return { key: 'lease_ttl', message: `must be whole seconds, at least 2s (etcd grants seconds), got ${o.ttlMs}ms` };
  if (o.marginMs <= 0 || o.marginMs >= o.ttlMs)
    return { key: 'safety_margin', message: `must be more than 0 and less than lease_ttl, got ${o.marginMs}ms` };
  if (o.renewMs <= 0 || o.renewMs >= o.ttlMs - o.marginMs)
    return {
      key: 'renew_interval',
      message: `must be less than lease_ttl − safety_margin (${o.ttlMs - o.marginMs}ms), got ${o.renewMs}ms`,
    };
  return null;
}
