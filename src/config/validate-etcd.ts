/**
 * Semantic checks of the etcd keys (schema-etcd.ts, docs/etcd.md): the election mode has an etcd to ask, the lease
 * timing leaves room for renewals before the safety margin, and under `election: etcd` every vip resource names its
 * interface (no VRRP instance lends one). Pure; reports every problem and goes on (Rule 7).
 */
import type { ErrorCode } from '../core/errors.ts';
import type { ConfigPath, Diagnostic } from './diagnostics.ts';
import { checkEtcdTiming } from './etcd-timing.ts';
import type { TandemConfig } from './schema.ts';

type Report = (severity: Diagnostic['severity'], code: ErrorCode, path: ConfigPath, message: string) => void;

/** Checks a parsed config. */
export function etcdChecks(cfg: TandemConfig, report: Report): void {
  const e = cfg.etcd;
  if (cfg.election !== 'vrrp' && !e) {
    report('error', 'TND_CFG_ETCD', ['election'], `election: ${cfg.election} needs an etcd block with endpoints`);
    return;
  }
  if (!e) return;
  const timing = checkEtcdTiming({ ttlMs: e.lease_ttl, renewMs: e.renew_interval, marginMs: e.safety_margin });
  if (timing) report('error', 'TND_CFG_ETCD', ['etcd', timing.key], timing.message);
  if (cfg.election === 'etcd' && e.no_quorum_policy === 'ignore')
    report(
      'error',
      'TND_CFG_ETCD',
      ['etcd', 'no_quorum_policy'],
      'ignore lets VRRP decide while etcd is unreachable, and election: etcd runs no VRRP: use stop or freeze',
    );
  if (e.tls?.cert && !e.tls.key)
    report('error', 'TND_CFG_ETCD', ['etcd', 'tls', 'key'], 'a client certificate needs its key');
  if (cfg.election === 'etcd') {
    cfg.groups.forEach((g, gi) => {
      g.resources.forEach((r, ri) => {
        if (r.type === 'vip' && !r.interface && (typeof r.address === 'string' || !r.address.dev))
          report(
            'error',
            'TND_CFG_ETCD',
            ['groups', gi, 'resources', ri, 'interface'],
            'under election: etcd no VRRP instance lends its interface: name the device',
          );
      });
    });
  }
}
