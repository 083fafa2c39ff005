/**
 * What an alert says, in keepalived's words (keepalived/core/smtp.c smtp_alert(), vrrp/vrrp_notify.c, check/*.c):
 * subjects `[router_id] VRRP Instance VI_1 - Entering MASTER state`, `[router_id] VRRP Group G - Entering BACKUP
 * state`, `[router_id] Realserver [ip]:tcp:80 of virtual server [vip]:tcp:80 - DOWN`, `[router_id] Virtualserver
 * [vip]:tcp:80 - UP`, and the one-line `=> … <=` bodies. Pure: no clock, no I/O.
 */
import type { Ms } from '../core/time.ts';

/** The object an alert is about. */
export type AlertObject =
  | { kind: 'instance'; name: string }
  | { kind: 'group'; name: string }
  | { kind: 'vs'; service: string; label: string }
  | { kind: 'rs'; service: string; server: string; label: string; vsLabel: string };

/** One alert as the sources produce it, before de-duplication and rate limiting. */
export interface Alert {
  object: AlertObject;
  /** The new state: MASTER, BACKUP, FAULT, STOP for VRRP; UP, DOWN for servers. */
  state: string;
  /** keepalived's subject tail (`Entering MASTER state`, `UP`). */
  subject: string;
  /** keepalived's body line (`=> VRRP Instance is now owning VRRP VIPs <=`). */
  body: string;
  /** Wall-clock time (ms since the epoch) it happened. */
  wallMs: number;
  /** Monotonic time it happened. */
  at: Ms;
  /** Extra facts (check result code, cause, priority) for webhooks and digests. */
  detail?: Record<string, string | number | boolean>;
}

/** A message ready for every sink: one alert, or the digest of several about one object. */
export interface AlertMessage {
  /** Stable id of this message (also the webhook's X-Tandem-Delivery). */
  id: string;
  key: string;
  subject: string;
  body: string;
  state: string;
  object: AlertObject;
  wallMs: number;
  /** The alerts a digest summarises (one for a plain alert). */
  alerts: Alert[];
  digest: boolean;
}

/** The rate limiter's key of an object: alerts about one key are de-duplicated and digested together. */
export function alertKey(o: AlertObject): string {
  switch (o.kind) {
    case 'instance':
      return `instance:${o.name}`;
    case 'group':
      return `group:${o.name}`;
    case 'vs':
      return `vs:${o.service}`;
    case 'rs':
      return `rs:${o.service}/${o.server}`;
  }
}

/** keepalived's `[%s]:%s:%d` of an address, protocol and port (lib/utils.c inet_sockaddrtotrio_r). */
export function trio(addr: string, protocol: string, port: number): string {
  return `[${addr}]:${protocol}:${port}`;
}

/** The part of the subject after `[router_id] ` that names the object (smtp.c smtp_alert). */
function objectText(o: AlertObject): string {
  switch (o.kind) {
    case 'instance':
      return `VRRP Instance ${o.name}`;
    case 'group':
      return `VRRP Group ${o.name}`;
    case 'vs':
      return `Virtualserver ${o.label}`;
    case 'rs':
      return `Realserver ${o.label} of virtual server ${o.vsLabel}`;
  }
}

/**
 * keepalived's subject of an alert.
 * @example subjectOf('lb1', vrrpAlert) // '[lb1] VRRP Instance VI_1 - Entering MASTER state'
 */
export function subjectOf(routerId: string, a: Pick<Alert, 'object' | 'subject'>): string {
  return `[${routerId}] ${objectText(a.object)} - ${a.subject}`;
}

/** keepalived's subject and body of a VRRP instance entering `state` (vrrp_notify.c vrrp_smtp_notifier). */
export function vrrpText(state: string): { subject: string; body: string } | undefined {
  switch (state) {
    case 'MASTER':
      return { subject: 'Entering MASTER state', body: '=> VRRP Instance is now owning VRRP VIPs <=' };
    case 'BACKUP':
      return { subject: 'Entering BACKUP state', body: '=> VRRP Instance is no longer owning VRRP VIPs <=' };
    case 'FAULT':
      return { subject: 'Entering FAULT state', body: '=> VRRP Instance is no longer owning VRRP VIPs <=' };
    case 'STOP':
      return { subject: 'Stopping', body: '=> VRRP Instance stopping <=' };
    case 'DELETED':
      return { subject: 'Deleted', body: '=> VRRP Deleted at reload <=' };
    default:
      return undefined;
  }
}

/** keepalived's subject and body of a sync group entering `state` (vrrp_notify.c vrrp_sync_smtp_notifier). */
export function groupText(state: string): { subject: string; body: string } | undefined {
  switch (state) {
    case 'MASTER':
      return { subject: 'Entering MASTER state', body: '=> All VRRP group instances are now in MASTER state <=' };
    case 'BACKUP':
      return { subject: 'Entering BACKUP state', body: '=> All VRRP group instances are now in BACKUP state <=' };
    case 'FAULT':
      return { subject: 'Entering FAULT state', body: '=> All VRRP group instances are now in FAULT state <=' };
    case 'STOP':
      return { subject: 'Stopping', body: '=> All VRRP group instances are now stopping <=' };
    default:
      return undefined;
  }
}

/** The kind of check, as keepalived's checkers word their alerts. */
export type CheckKind = 'tcp' | 'http' | 'https' | 'script' | 'udp' | 'ping' | 'smtp' | 'dns' | 'file' | 'none';

/**
 * keepalived's body of a real server going up or down (check_tcp.c, check_http.c, check_misc.c …): each checker has
 * its own sentence.
 */
export function rsBody(check: CheckKind, up: boolean): string {
  switch (check) {
    case 'tcp':
      return up ? '=> TCP CHECK succeed on service <=' : '=> TCP CHECK failed on service <=';
    case 'http':
    case 'https':
      return up ? '=> CHECK succeed on service <=' : '=> CHECK failed on service : HTTP/SSL request failed <=';
    case 'script':
      // check_misc.c: `=> MISC CHECK %s on service <=` with succeed or failed (or timed out, which tandem reports as failed).
      return up ? '=> MISC CHECK succeed on service <=' : '=> MISC CHECK failed on service <=';
    case 'udp':
      return up ? '=> UDP CHECK succeed on service <=' : '=> UDP CHECK failed on service <=';
    case 'ping':
      return up ? '=> ICMP CHECK succeed on service <=' : '=> ICMP CHECK failed on service <=';
    case 'smtp':
      // check_smtp.c words its failure after the SMTP error; tandem says which step failed in the check detail.
      return up ? '=> CHECK succeed on service <=' : '=> CHECK failed on service <=';
    case 'dns':
      return up ? '=> DNS_CHECK: succeed on service <=' : '=> DNS_CHECK: failed on service <=';
    case 'file':
      // keepalived's FILE_CHECK sends no alert of its own; tandem words it like the others.
      return up ? '=> FILE CHECK succeed on service <=' : '=> FILE CHECK failed on service <=';
    case 'none':
      return up ? '=> Real server is up <=' : '=> Real server is down <=';
  }
}

/**
 * keepalived's body of a virtual server's quorum change (ipwrapper.c update_quorum_state): `=> Gained quorum
 * 1+0=1 <= 2 <=`.
 */
export function quorumBody(up: boolean, quorum: number, hysteresis: number, weightSum: number): string {
  const threshold = up ? quorum + hysteresis : quorum - hysteresis;
  return `=> ${up ? 'Gained' : 'Lost'} quorum ${quorum}+${hysteresis}=${threshold} <= ${weightSum} <=`;
}

/** An ISO 8601 UTC timestamp of a wall-clock time. */
const iso = (wallMs: number): string => new Date(wallMs).toISOString();

/** The message of one alert that was let through. */
export function singleMessage(routerId: string, a: Alert, id: string): AlertMessage {
  return {
    id,
    key: alertKey(a.object),
    subject: subjectOf(routerId, a),
    body: a.body,
    state: a.state,
    object: a.object,
    wallMs: a.wallMs,
    alerts: [a],
    digest: false,
  };
}

/**
 * The digest of the alerts held back about one object: the subject is keepalived's for the latest state, marked as
 * a digest with the count; the body lists every change with its time, oldest first, then keepalived's last body.
 * @example digestMessage('lb1', [down, up, down], 600_000, 'd-1').subject
 * // '[lb1] Realserver [198.18.1.11]:tcp:80 of virtual server [198.18.0.100]:tcp:80 - DOWN (digest: 3 changes in 600 s)'
 */
export function digestMessage(routerId: string, held: readonly Alert[], windowMs: Ms, id: string): AlertMessage {
  const last = held[held.length - 1];
  if (!last) throw new RangeError('a digest needs at least one alert');
  const seconds = Math.round(windowMs / 1000);
  const subject = `${subjectOf(routerId, last)} (digest: ${held.length} changes in ${seconds} s)`;
  const lines = [
    `=> ${held.length} changes were held back (more than the limit within ${seconds} s); now ${last.state} <=`,
    '',
    ...held.map((a) => `${iso(a.wallMs)}  ${a.subject}  ${a.body}`),
  ];
  return {
    id,
    key: alertKey(last.object),
    subject,
    body: lines.join('\n'),
    state: last.state,
    object: last.object,
    wallMs: last.wallMs,
    alerts: [...held],
    digest: true,
  };
}

/** The JSON body a webhook receives (docs/alerts.md); `alerts` lists a digest's changes. */
export function webhookBody(routerId: string, m: AlertMessage): string {
  return JSON.stringify({
    type: m.digest ? 'digest' : 'alert',
    id: m.id,
    router_id: routerId,
    time: iso(m.wallMs),
    object: m.object,
    state: m.state,
    subject: m.subject,
    body: m.body,
    alerts: m.alerts.map((a) => ({
      time: iso(a.wallMs),
      state: a.state,
      subject: a.subject,
      body: a.body,
      ...(a.detail ? { detail: a.detail } : {}),
    })),
  });
}
