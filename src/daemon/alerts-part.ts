/**
 * The daemon's alerts (issue 12 item 5): reads the secret files (SMTP password, webhook secrets; 0600, never
 * logged), builds the sinks and the dispatcher, and taps the daemon's logger — every part's typed events pass
 * through it (Rule 9), the load balancer's worker included — so alerts see what the log sees without any part
 * knowing about them. The tap only queues: sending happens later on the event loop, with timeouts.
 */
import { readFileSync, statSync } from 'node:fs';
import { AlertDispatcher, type AlertSink, type AlertsStatus } from '../alerts/dispatcher.ts';
import { type AlertPlan, alertPlan, alertsWanted } from '../alerts/plan.ts';
import { smtpSink, webhookSink } from '../alerts/sinks.ts';
import { AlertSource } from '../alerts/source.ts';
import type { TandemConfig } from '../config/schema.ts';
import type { Logger } from '../core/log.ts';
import { wallClock } from '../os/clock.ts';

/** Most bytes read from a secret file. */
const SECRET_LIMIT = 4096;

/** The first line of a 0600 secret file, or why it cannot be used (the reason never holds a byte of it). */
export function readSecret(path: string): { ok: true; value: string } | { ok: false; reason: string } {
  try {
    const st = statSync(path);
    if (!st.isFile()) return { ok: false, reason: `${path} is not a regular file` };
    if (st.mode & 0o077)
      return {
        ok: false,
        reason: `${path} is mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}: a secret file must not be readable by group or others (chmod 600)`,
      };
    if (st.size > SECRET_LIMIT) return { ok: false, reason: `${path} is larger than ${SECRET_LIMIT} bytes` };
    const value = (readFileSync(path, 'utf8').split(/\r?\n/)[0] ?? '').trim();
    if (!value) return { ok: false, reason: `${path} is empty` };
    return { ok: true, value };
  } catch (e) {
    return { ok: false, reason: `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
  }
}

/** The alerts of a running daemon. */
export interface AlertsPart {
  /** The daemon's logger with the alerts' tap: give this one to every part. */
  log: Logger;
  /** Counters for status and metrics (undefined when no alerts are configured). */
  status(): AlertsStatus | undefined;
  /** A reloaded config: new objects, new sinks. */
  reload(cfg: TandemConfig, node: string): void;
  /** Stops, letting queued mail go out for up to `graceMs`. */
  close(graceMs?: number): Promise<void>;
}

function sinksOf(plan: AlertPlan, log: Logger, routerId: () => string): AlertSink[] {
  const sinks: AlertSink[] = [];
  if (plan.email) {
    const { smtp } = plan.email;
    let password: string | undefined;
    if (smtp.password_file) {
      const s = readSecret(smtp.password_file);
      if (s.ok) password = s.value;
      else log.log('error', `TND_ALERT_SECRET alerts.email.smtp.password_file: ${s.reason}; e-mail alerts are off`);
      if (!s.ok) return webhooksOf(plan, log, routerId);
    }
    let ca: string | undefined;
    if (smtp.ca_file) {
      try {
        ca = readFileSync(smtp.ca_file, 'utf8');
      } catch (e) {
        log.log(
          'error',
          `TND_ALERT_SECRET alerts.email.smtp.ca_file: cannot read ${smtp.ca_file}: ${(e as Error).message}`,
        );
      }
    }
    sinks.push(
      smtpSink({
        smtp,
        from: plan.email.from,
        to: plan.email.to,
        heloName: smtp.helo_name ?? plan.routerId,
        ...(password !== undefined ? { password } : {}),
        ...(ca !== undefined ? { ca } : {}),
      }),
    );
  }
  return [...sinks, ...webhooksOf(plan, log, routerId)];
}

function webhooksOf(plan: AlertPlan, log: Logger, routerId: () => string): AlertSink[] {
  const out: AlertSink[] = [];
  for (const w of plan.webhooks) {
    if (!w.secret_file) {
      out.push(webhookSink(w, routerId));
      continue;
    }
    const s = readSecret(w.secret_file);
    if (!s.ok) {
      log.log('error', `TND_ALERT_SECRET alerts.webhooks ${w.name}: secret_file: ${s.reason}; this webhook is off`);
      continue;
    }
    out.push(webhookSink(w, routerId, s.value));
  }
  return out;
}

/** Starts the alerts for `cfg` on `node`, tapping `log`. */
export function startAlertsPart(cfg: TandemConfig | undefined, node: string, log: Logger): AlertsPart {
  const clock = wallClock();
  let plan = cfg ? alertPlan(cfg, node) : undefined;
  let source = plan ? new AlertSource(plan) : undefined;
  let dispatcher: AlertDispatcher | undefined;
  const start = (p: AlertPlan): void => {
    if (!alertsWanted(p)) return;
    const routerId = () => plan?.routerId ?? node;
    dispatcher = new AlertDispatcher({
      clock,
      log,
      routerId,
      limits: { windowMs: p.limits.windowMs, burst: p.limits.burst },
      queueMax: p.limits.queue,
      sinks: sinksOf(p, log, routerId),
    });
    const to = [
      p.email ? `e-mail to ${p.email.to.join(', ')} via ${p.email.smtp.server}:${p.email.smtp.port}` : '',
      ...p.webhooks.map((w) => `webhook ${w.name}`),
    ]
      .filter(Boolean)
      .join('; ');
    log.log('info', `alerts: ${to}`, { event: 'alerts' });
  };
  if (plan) start(plan);
  const tapped: Logger = {
    log(level, msg, fields) {
      log.log(level, msg, fields);
      if (!fields || !source || !dispatcher || typeof fields.event !== 'string') return;
      try {
        for (const a of source.fromEvent(fields, clock.now(), Date.now())) dispatcher.offer(a);
      } catch (e) {
        // An alert must never break the part that logged.
        log.log('error', `alerts: ${(e as Error).message}`);
      }
    },
  };
  return {
    log: tapped,
    status: () => dispatcher?.status(),
    reload(next, n) {
      const p = alertPlan(next, n);
      const same =
        JSON.stringify({ e: plan?.email, w: plan?.webhooks, l: plan?.limits }) ===
        JSON.stringify({ e: p.email, w: p.webhooks, l: p.limits });
      plan = p;
      if (source) source.setPlan(p);
      else source = new AlertSource(p);
      if (same && dispatcher) return;
      const old = dispatcher;
      dispatcher = undefined;
      void old?.close(5_000);
      start(p);
    },
    async close(graceMs = 5_000) {
      await dispatcher?.close(graceMs);
    },
  };
}
