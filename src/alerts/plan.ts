/**
 * What one node alerts about, compiled from the config (pure): which instances, sync groups, virtual and real
 * servers have smtp_alert, with keepalived's inheritance (check/check_data.c, vrrp/vrrp.c): an object's own
 * smtp_alert, else smtp_alert_vrrp / smtp_alert_checker, else the global smtp_alert, else false — except a real
 * server, which keepalived alerts about by default ("to maintain backwards compatibility").
 */

import type { TandemConfig } from '../config/schema.ts';
import type { AlertsSpec, SmtpSpec, WebhookSpec } from '../config/schema-alerts.ts';
import type { Ms } from '../core/time.ts';
import type { CheckKind } from './render.ts';
import { trio } from './render.ts';

/** One real server an alert may be about. */
export interface RsAlertPlan {
  label: string;
  alert: boolean;
  check: CheckKind;
}

/** One virtual service. */
export interface VsAlertPlan {
  label: string;
  alert: boolean;
  quorum: number;
  hysteresis: number;
  /** By server key (`addr:port`, as the load balancer's events name them). */
  servers: Record<string, RsAlertPlan>;
}

/** Everything the alerts of one node need. */
export interface AlertPlan {
  routerId: string;
  noEmailFaults: boolean;
  instances: Record<string, boolean>;
  groups: { name: string; members: string[]; alert: boolean }[];
  services: Record<string, VsAlertPlan>;
  email?: { to: string[]; from: string; smtp: SmtpSpec };
  webhooks: (WebhookSpec & { name: string })[];
  limits: { windowMs: Ms; burst: number; queue: number };
}

const serverKey = (addr: string, port: number): string =>
  addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;

/** Whether a config has anything to send alerts to (no alerts block, or no recipients: nothing runs). */
export function alertsWanted(p: AlertPlan): boolean {
  return !!p.email || p.webhooks.length > 0;
}

/** The alert plan of `node` under `cfg`. */
export function alertPlan(cfg: TandemConfig, node: string): AlertPlan {
  const a: AlertsSpec | undefined = cfg.alerts;
  const vrrpDefault = a?.smtp_alert_vrrp ?? a?.smtp_alert ?? false;
  const vsDefault = a?.smtp_alert_checker ?? a?.smtp_alert ?? false;
  const rsDefault = a?.smtp_alert_checker ?? a?.smtp_alert ?? true;
  const instances: Record<string, boolean> = {};
  for (const i of cfg.vrrp.instances) instances[i.name] = a?.instances[i.name] ?? vrrpDefault;
  const groups = cfg.vrrp.sync_groups.map((g) => ({
    name: g.name,
    members: [...g.members],
    alert: a?.sync_groups[g.name] ?? vrrpDefault,
  }));
  const services: Record<string, VsAlertPlan> = {};
  for (const s of cfg.lb.services) {
    const family = s.vip?.includes(':') ? 6 : 4;
    const label =
      s.fwmark !== undefined ? `FWM ${s.fwmark}` : trio(s.vip ?? (family === 4 ? '0.0.0.0' : '::'), s.protocol, s.port);
    const servers: Record<string, RsAlertPlan> = {};
    for (const rs of s.real_servers) {
      const port = rs.port ?? s.port;
      const key = serverKey(rs.address, port);
      const spec = rs.check === false ? undefined : (rs.check ?? s.check);
      servers[key] = {
        label: trio(rs.address, s.protocol, port),
        alert: a?.real_servers[`${s.name} ${key}`] ?? rsDefault,
        check: (spec?.type ?? 'none') as CheckKind,
      };
    }
    services[s.name] = {
      label,
      alert: a?.services[s.name] ?? vsDefault,
      quorum: s.quorum.min,
      hysteresis: s.quorum.hysteresis,
      servers,
    };
  }
  const smtp = a?.email?.smtp;
  const to = a?.email?.to ?? [];
  return {
    routerId: a?.router_id ?? node,
    noEmailFaults: a?.no_email_faults ?? false,
    instances,
    groups,
    services,
    ...(smtp && to.length > 0 ? { email: { to, from: a?.email?.from ?? `tandem@${node}`, smtp } } : {}),
    webhooks: (a?.webhooks ?? []).map((w, i) => ({ ...w, name: w.name ?? `webhook-${i + 1}` })),
    limits: {
      windowMs: a?.limits.window ?? 600_000,
      burst: a?.limits.burst ?? 3,
      queue: a?.limits.queue ?? 1_000,
    },
  };
}
