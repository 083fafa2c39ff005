/**
 * Semantic checks of the split-brain keys (schema-split-brain.ts, docs/split-brain.md): references to fence devices
 * and ping targets, auth_hmac's key and its exclusion of PASS, the bounds of the guard's deadline and of the HMAC
 * window, and paths that a transport can carry. Pure; reports every problem and goes on (Rule 7).
 */
import { isIPv4 } from 'node:net';
import type { ErrorCode } from '../core/errors.ts';
import type { ConfigPath, Diagnostic } from './diagnostics.ts';
import { formatDurationMs } from './duration.ts';
import type { TandemConfig } from './schema.ts';
import { GUARD_TIMEOUT_MAX_MS, GUARD_TIMEOUT_MIN_MS } from './schema-split-brain.ts';

type Report = (severity: Diagnostic['severity'], code: ErrorCode, path: ConfigPath, message: string) => void;

const known = (names: Iterable<string>): string => [...names].join(', ') || 'none';

/** Checks a parsed config. */
export function splitBrainChecks(cfg: TandemConfig, report: Report): void {
  const devices = new Set(Object.keys(cfg.fencing.devices));
  const pings = new Set(Object.keys(cfg.vrrp.track_pings));
  cfg.vrrp.instances.forEach((inst, i) => {
    const base: ConfigPath = ['vrrp', 'instances', i];
    const g = inst.guard;
    if (g.fence && !devices.has(g.fence))
      report(
        'error',
        'TND_CFG_UNKNOWN_REF',
        [...base, 'guard', 'fence'],
        `no fencing.devices.${g.fence} (defined: ${known(devices)})`,
      );
    if (g.timeout !== undefined && (g.timeout < GUARD_TIMEOUT_MIN_MS || g.timeout > GUARD_TIMEOUT_MAX_MS))
      report(
        'error',
        'TND_CFG_RANGE',
        [...base, 'guard', 'timeout'],
        `must be ${formatDurationMs(GUARD_TIMEOUT_MIN_MS)}..${formatDurationMs(GUARD_TIMEOUT_MAX_MS)}, got ${formatDurationMs(g.timeout)}: ` +
          'the deadline is what the guard adds to a real failover',
      );
    inst.track.pings.forEach((t, j) => {
      if (!pings.has(t.name))
        report(
          'error',
          'TND_CFG_UNKNOWN_REF',
          [...base, 'track', 'pings', j, 'name'],
          `no vrrp.track_pings.${t.name} (defined: ${known(pings)})`,
        );
    });
    const h = inst.auth_hmac;
    if (h) {
      if (inst.auth)
        report(
          'error',
          'TND_CFG_DUPLICATE',
          [...base, 'auth_hmac'],
          'auth_hmac and auth (PASS) are exclusive, as in keepalived',
        );
      if (!h.key_file && !cfg.cluster.key_file)
        report(
          'error',
          'TND_CFG_REQUIRED',
          [...base, 'auth_hmac'],
          'auth_hmac needs a key: set auth_hmac.key_file or cluster.key_file',
        );
      if (
        h.time_window !== undefined &&
        (h.time_window < 1000 || h.time_window > 300_000 || h.time_window % 1000 !== 0)
      )
        report('error', 'TND_CFG_RANGE', [...base, 'auth_hmac', 'time_window'], 'must be whole seconds, 1s..300s');
    }
    const seen = new Set([inst.interface]);
    inst.paths.forEach((p, j) => {
      if (seen.has(p.interface))
        report(
          'error',
          'TND_CFG_DUPLICATE',
          [...base, 'paths', j, 'interface'],
          `${p.interface} already carries this instance's adverts: a path is another interface (one VRID per interface)`,
        );
      seen.add(p.interface);
      const v4 = inst.vips.every((v) => isIPv4((typeof v === 'string' ? v : v.address).split('/')[0] ?? ''));
      p.unicast?.peers.forEach((peer, k) => {
        if (isIPv4(peer) !== v4)
          report(
            'error',
            'TND_CFG_MIXED_FAMILY',
            [...base, 'paths', j, 'unicast', 'peers', k],
            `${peer} is not of the instance's address family`,
          );
      });
    });
  });
  cfg.groups.forEach((g, i) => {
    if (g.fence && !devices.has(g.fence))
      report(
        'error',
        'TND_CFG_UNKNOWN_REF',
        ['groups', i, 'fence'],
        `no fencing.devices.${g.fence} (defined: ${known(devices)})`,
      );
  });
  for (const [name, d] of Object.entries(cfg.fencing.devices))
    for (const [k, v] of Object.entries(d.params))
      for (const text of typeof v === 'string' ? [v] : Object.values(v))
        if (/[\r\n]/.test(text))
          report(
            'error',
            'TND_CFG_TYPE',
            ['fencing', 'devices', name, 'params', k],
            'a fence parameter is one line (stdin is key=value lines)',
          );
}
