/**
 * keepalived's e-mail keywords, read as-is into the `alerts` section (issue 12 item 5): global_defs
 * notification_email { … }, notification_email_from, smtp_server IP [PORT], smtp_helo_name, smtp_connect_timeout,
 * smtp_alert, smtp_alert_vrrp, smtp_alert_checker, no_email_faults; and smtp_alert in vrrp_instance,
 * vrrp_sync_group, virtual_server and real_server (those two are filed once the services have their names:
 * keepalived-lb.ts). Only types come from keepalived.ts, so the two modules do not load each other.
 */
import type { SourcePos } from '../diagnostics.ts';
import type { Handler, Parser, Scope } from './keepalived.ts';
import type { Word } from './keepalived-lexer.ts';

type Obj = Record<string, unknown>;

/** The raw `alerts` object being built, created on first use. */
export function alertsRaw(p: Parser): Obj {
  const raw = p.raw as { alerts?: Obj };
  raw.alerts ??= {};
  return raw.alerts;
}

function sub(o: Obj, key: string): Obj {
  const v = o[key];
  if (v && typeof v === 'object') return v as Obj;
  const n: Obj = {};
  o[key] = n;
  return n;
}

/** A global_defs <BOOL> keyword (no value = true) that sets alerts.KEY. */
function alertBool(key: string): Handler {
  return (p, words) => {
    const where = `global_defs: ${words[0].text}`;
    const args = p.args(words, 0, 1, where, 'global_defs');
    if (!args) return;
    const b = p.bool(args[0], where);
    if (b === undefined) return;
    alertsRaw(p)[key] = b;
    p.record(['alerts', key], (args[0] ?? words[0]).pos, where);
  };
}

/** The handlers of global_defs' e-mail keywords. */
export const ALERT_GLOBAL_DEFS: Record<string, Handler> = {
  notification_email: (p, words) => {
    const kw = words[0];
    const where = 'global_defs: notification_email';
    p.args(words, 0, 0, where, 'global_defs');
    const email = sub(alertsRaw(p), 'email');
    const to = (email.to as string[] | undefined) ?? [];
    email.to = to;
    p.record(['alerts', 'email'], kw.pos, where);
    p.record(['alerts', 'email', 'to'], kw.pos, where);
    p.block(kw, where, 'values', undefined, (entry) => {
      for (const w of entry) {
        p.record(['alerts', 'email', 'to', to.length], w.pos, where);
        to.push(w.text);
      }
    });
  },
  notification_email_from: (p, words) => {
    const where = 'global_defs: notification_email_from';
    const v = p.args(words, 1, 1, where, 'global_defs')?.[0];
    if (!v) return;
    sub(alertsRaw(p), 'email').from = v.text;
    p.record(['alerts', 'email', 'from'], v.pos, where);
  },
  smtp_server: (p, words) => {
    const where = 'global_defs: smtp_server';
    const args = p.args(words, 1, 2, where, 'global_defs');
    if (!args?.[0]) return;
    const smtp = sub(sub(alertsRaw(p), 'email'), 'smtp');
    smtp.server = args[0].text;
    p.record(['alerts', 'email', 'smtp'], words[0].pos, where);
    p.record(['alerts', 'email', 'smtp', 'server'], args[0].pos, where);
    if (args[1]) {
      const port = p.int(args[1], where);
      if (port === undefined) return;
      smtp.port = port;
      p.record(['alerts', 'email', 'smtp', 'port'], args[1].pos, where);
    }
  },
  smtp_helo_name: (p, words) => {
    const where = 'global_defs: smtp_helo_name';
    const v = p.args(words, 1, 1, where, 'global_defs')?.[0];
    if (!v) return;
    sub(sub(alertsRaw(p), 'email'), 'smtp').helo_name = v.text;
    p.record(['alerts', 'email', 'smtp', 'helo_name'], v.pos, where);
  },
  smtp_connect_timeout: (p, words) => {
    const where = 'global_defs: smtp_connect_timeout';
    const v = p.args(words, 1, 1, where, 'global_defs')?.[0];
    if (!v) return;
    const ms = p.ms(v, where);
    if (ms === undefined) return;
    // keepalived: "smtp_conect_timeout must be greater than 0, setting to 1".
    sub(sub(alertsRaw(p), 'email'), 'smtp').connect_timeout = Math.max(ms, 1_000);
    p.record(['alerts', 'email', 'smtp', 'connect_timeout'], v.pos, where);
  },
  smtp_alert: alertBool('smtp_alert'),
  smtp_alert_vrrp: alertBool('smtp_alert_vrrp'),
  smtp_alert_checker: alertBool('smtp_alert_checker'),
  no_email_faults: (p, words) => {
    const where = 'global_defs: no_email_faults';
    p.flagArgs(words, where, 'global_defs');
    alertsRaw(p).no_email_faults = true;
    p.record(['alerts', 'no_email_faults'], words[0].pos, where);
  },
};

/** `smtp_alert [<BOOL>]` of a vrrp_instance or vrrp_sync_group: alerts.instances / alerts.sync_groups by name. */
export function namedSmtpAlert(map: 'instances' | 'sync_groups', block: 'vrrp_instance' | 'vrrp_sync_group'): Handler {
  return (p, words, scope: Scope) => {
    const where = `${scope.label}: smtp_alert`;
    const args = p.args(words, 0, 1, where, block);
    if (!args) return;
    const b = p.bool(args[0], where);
    const name = scope.obj.name;
    // A block kept only for its diagnostics (a duplicate, no name) has no base.
    if (b === undefined || typeof name !== 'string' || scope.base.length === 0) return;
    sub(alertsRaw(p), map)[name] = b;
    p.record(['alerts', map, name], (args[0] ?? words[0]).pos, where);
  };
}

/** Where a virtual or real server's smtp_alert was written, filed once the service has its name. */
export interface SmtpAlertAt {
  value: boolean;
  pos: SourcePos;
  label: string;
}

/** Reads `smtp_alert [<BOOL>]` of a virtual_server or real_server. */
export function readSmtpAlert(
  p: Parser,
  words: [Word, ...Word[]],
  scope: Scope,
  block: 'virtual_server' | 'real_server',
): SmtpAlertAt | undefined {
  const where = `${scope.label}: smtp_alert`;
  const args = p.args(words, 0, 1, where, block);
  if (!args) return undefined;
  const b = p.bool(args[0], where);
  return b === undefined ? undefined : { value: b, pos: (args[0] ?? words[0]).pos, label: where };
}

/** Files a virtual server's (`key` undefined) or a real server's smtp_alert under the service's name. */
export function fileSmtpAlert(p: Parser, service: string, at: SmtpAlertAt, server?: string): void {
  const map = server === undefined ? 'services' : 'real_servers';
  const key = server === undefined ? service : `${service} ${server}`;
  sub(alertsRaw(p), map)[key] = at.value;
  p.record(['alerts', map, key], at.pos, at.label);
}
