/**
 * The HTTP API's part of the schema (docs/api.md): where it listens, its TLS files, who may log in (the users file),
 * where the audit log goes, sessions, login lockout and the request limits. Kept apart from schema.ts so that its hunk
 * there stays one line.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';
import { durationOr, fail } from './schema-atoms.ts';

/** Where tandem keeps the API's users and tokens by default (0600). */
export const DEFAULT_USERS_FILE = '/var/lib/tandem/users.json';
/** Where the audit log goes by default (0600, appended). */
export const DEFAULT_AUDIT_LOG = '/var/log/tandem/audit.log';

/** `ADDR:PORT` or `[IPv6]:PORT`, split; undefined when malformed. */
export function parseListen(text: string): { host: string; port: number } | undefined {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:[\]]+):(\d{1,5})$/.exec(text);
  if (!m) return undefined;
  const host = m[1]!;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  if (!isIPv4(host) && !isIPv6(host) && host !== 'localhost') return undefined;
  return { host, port };
}

/** `api.listen` and `tandem run --api`. */
export const listenText = z.string().superRefine((v, ctx) => {
  if (!parseListen(v))
    fail(ctx, 'TND_CFG_ADDRESS', `must be ADDRESS:PORT or [IPv6]:PORT with a port 1..65535, got ${JSON.stringify(v)}`);
});

const loginSchema = z
  .strictObject({
    max_failures: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(5)
      .describe('failed logins of one user, or from one address, within `window` that lock it out'),
    window: durationOr(900_000, 'the period failures are counted over'),
    lockout: durationOr(900_000, 'how long a locked-out user or address is refused, even with the right password'),
    per_address_per_minute: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(30)
      .describe('login attempts one address may make per minute (429 beyond)'),
  })
  .default({ max_failures: 5, window: 900_000, lockout: 900_000, per_address_per_minute: 30 });

/** The `api:` section. */
export const apiSchema = z.strictObject({
  listen: listenText
    .optional()
    .describe('TCP ADDRESS:PORT of the HTTP API (also `tandem run --api`); none = the local socket only'),
  tls: z
    .strictObject({
      cert: z.string().min(1).describe('PEM certificate (chain) file'),
      key: z.string().min(1).describe('PEM private key file (0600)'),
    })
    .optional()
    .describe('HTTPS; required unless `listen` is a loopback address'),
  metrics_auth: z
    .boolean()
    .default(false)
    .describe('true = `GET /metrics` needs a viewer session or token; false = open, as Prometheus expects'),
  users_file: z
    .string()
    .min(1)
    .default(DEFAULT_USERS_FILE)
    .describe('users and tokens (`tandem user`, `tandem token`); 0600'),
  audit_log: z.string().min(1).default(DEFAULT_AUDIT_LOG).describe('one JSON line per action; 0600, appended'),
  session_ttl: durationOr(28_800_000, 'how long a login session lasts'),
  login: loginSchema,
  body_limit: z
    .number()
    .int()
    .min(1024)
    .max(64 * 1024 * 1024)
    .default(1_048_576)
    .describe('largest request body in bytes (413 beyond)'),
  request_timeout: durationOr(30_000, 'time to receive a whole request (headers and body)'),
  connection_timeout: durationOr(600_000, 'an idle connection is closed after this (a waiting drain counts as idle)'),
  keep_alive_timeout: durationOr(5_000, 'an idle keep-alive connection is closed after this'),
});

/** A validated `api:` section. */
export type ApiConfig = z.output<typeof apiSchema>;

/** The section with every default, for a config without `api:`. */
export const API_DEFAULTS: ApiConfig = apiSchema.parse({});

/** Whether `host` is a loopback address (plain HTTP is allowed only there). */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIPv4(host) && host.startsWith('127.');
}
