/**
 * Alerts (issue 12 item 5): e-mail in keepalived's own terms (global_defs notification_email,
 * notification_email_from, smtp_server, smtp_helo_name, smtp_connect_timeout, smtp_alert per instance, sync group,
 * virtual server and real server), SMTP with STARTTLS and auth, and signed webhooks. The keepalived importer fills
 * this block from a keepalived.conf; docs/alerts.md explains it.
 */
import { z } from 'zod';
import { durationOr, name } from './schema-atoms.ts';

const port = (what: string) => z.number().int().min(1).max(65_535).describe(what);

/** One SMTP relay (keepalived smtp_server IP [PORT]). */
export const smtpSchema = z.strictObject({
  server: z.string().min(1).describe('SMTP relay: an address or a host name (keepalived smtp_server)'),
  port: port('SMTP port (keepalived smtp_server IP PORT)').default(25),
  helo_name: z
    .string()
    .min(1)
    .optional()
    .describe('name sent with HELO/EHLO (keepalived smtp_helo_name); default: the node name'),
  connect_timeout: durationOr(30_000, 'connect and greeting timeout (keepalived smtp_connect_timeout, seconds there)'),
  starttls: z
    .enum(['off', 'opportunistic', 'required'])
    .default('off')
    .describe("off (keepalived's plain SMTP), opportunistic (if the server offers it) or required"),
  tls: z.boolean().default(false).describe('implicit TLS from the first byte (SMTPS, usually port 465)'),
  ca_file: z.string().min(1).optional().describe('PEM CA bundle to verify the server with; default: the system store'),
  user: z.string().min(1).optional().describe('SMTP AUTH user (needs password_file)'),
  password_file: z
    .string()
    .min(1)
    .optional()
    .describe('file holding the SMTP AUTH password, mode 0600 (the first line); it is never logged'),
});

/** A webhook: a JSON POST per alert, HMAC-signed, retried with exponential backoff. */
export const webhookSchema = z.strictObject({
  name: name.optional().describe('name in logs and status; default: webhook-N'),
  url: z
    .string()
    .regex(/^https?:\/\/[^\s]+$/, 'an http:// or https:// URL')
    .describe('where the JSON body is POSTed'),
  secret_file: z
    .string()
    .min(1)
    .optional()
    .describe('file holding the HMAC-SHA256 secret, mode 0600: X-Tandem-Signature: sha256=HEX of the body'),
  timeout: durationOr(5_000, 'per attempt'),
  retries: z.number().int().min(0).max(20).default(5).describe('retries after the first attempt'),
  backoff: durationOr(1_000, 'first retry delay; doubled each time'),
  max_backoff: durationOr(60_000, 'longest retry delay'),
});

/** Rate limits: de-duplication per object, and a digest instead of a flood. */
export const alertLimitsSchema = z.strictObject({
  window: durationOr(600_000, 'per-object window for `burst`'),
  burst: z
    .number()
    .int()
    .min(1)
    .max(1_000)
    .default(3)
    .describe('alerts per object within `window`; later ones are held and sent as one digest at its end'),
  queue: z
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(1_000)
    .describe('undelivered messages kept; the oldest are dropped'),
});

/** The `alerts` section. */
export const alertsSchema = z.strictObject({
  router_id: z
    .string()
    .min(1)
    .optional()
    .describe("the [router_id] of subjects (keepalived router_id); default: the node's name"),
  smtp_alert: z.boolean().optional().describe('default for every object (keepalived global smtp_alert)'),
  smtp_alert_vrrp: z
    .boolean()
    .optional()
    .describe('default for instances and sync groups (keepalived smtp_alert_vrrp); then smtp_alert; then false'),
  smtp_alert_checker: z
    .boolean()
    .optional()
    .describe(
      'default for virtual and real servers (keepalived smtp_alert_checker); then smtp_alert; then false for a virtual server and true for a real server, as keepalived',
    ),
  no_email_faults: z.boolean().default(false).describe('no alert on entering FAULT (keepalived no_email_faults)'),
  instances: z.record(z.string(), z.boolean()).default({}).describe('smtp_alert of vrrp_instance NAME'),
  sync_groups: z.record(z.string(), z.boolean()).default({}).describe('smtp_alert of vrrp_sync_group NAME'),
  services: z.record(z.string(), z.boolean()).default({}).describe('smtp_alert of a virtual server, by service name'),
  real_servers: z
    .record(z.string(), z.boolean())
    .default({})
    .describe('smtp_alert of a real server, by `SERVICE ADDRESS:PORT`'),
  email: z
    .strictObject({
      to: z.array(z.string().min(3)).default([]).describe('recipients (keepalived notification_email { … })'),
      from: z.string().min(3).optional().describe('sender (keepalived notification_email_from); default: tandem@NODE'),
      smtp: smtpSchema.optional(),
    })
    .optional()
    .describe('e-mail alerts; sent when `to` and `smtp` are set'),
  webhooks: z.array(webhookSchema).default([]).describe('webhooks; each receives every alert'),
  limits: alertLimitsSchema.default({ window: 600_000, burst: 3, queue: 1_000 }),
});

export type AlertsSpec = z.output<typeof alertsSchema>;
export type SmtpSpec = z.output<typeof smtpSchema>;
export type WebhookSpec = z.output<typeof webhookSchema>;
