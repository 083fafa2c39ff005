/**
 * The small schemas every part of the configuration shares: durations, addresses, names, per-node values. Kept apart
 * from schema.ts so that each domain's schema (vrrp, lb, …) can use them without an import cycle.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';
import { formatDurationMs, parseDurationMs } from './duration.ts';

/** A code carried by a custom zod issue, so that it becomes the diagnostic's code. */
export type IssueCode =
  | 'TND_CFG_ADDRESS'
  | 'TND_CFG_RANGE'
  | 'TND_CFG_NUMBER'
  | 'TND_CFG_INTERVAL'
  | 'TND_CFG_TYPE'
  | 'TND_CFG_ENUM';

export function fail(ctx: { issues: unknown[]; value: unknown }, code: IssueCode, message: string): void {
  (ctx.issues as object[]).push({ code: 'custom', message, input: ctx.value, params: { code } });
}

/** A duration: integer milliseconds or text with a unit (`100ms`, `1s`, `1.5s`). */
export const duration = (what = 'a duration') =>
  z
    .union([z.number(), z.string()])
    .transform((v, ctx) => {
      const ms = parseDurationMs(v);
      if (ms === undefined) {
        fail(
          ctx,
          'TND_CFG_NUMBER',
          `${what} must be whole milliseconds or text like 100ms, 1s, 1.5s; got ${JSON.stringify(v)}`,
        );
        return z.NEVER;
      }
      return ms;
    })
    .meta({ description: 'duration: integer ms or `100ms`, `1s`, `1.5s`, `2m`' });

/** A duration with a default, shown in the reference as the operator would write it. */
export const durationOr = (defaultMs: number, description: string, what?: string) =>
  duration(what)
    .default(defaultMs)
    .meta({ description, defaultText: formatDurationMs(defaultMs) });

/** An IPv4 or IPv6 address without prefix. */
export const ipAddress = z.string().superRefine((v, ctx) => {
  if (!isIPv4(v) && !isIPv6(v)) fail(ctx, 'TND_CFG_ADDRESS', `not an IP address: ${JSON.stringify(v)}`);
});

/** Parses `ADDR[/PREFIX]`; undefined when malformed. */
export function parsePrefixed(text: string): { addr: string; prefix: number; family: 4 | 6 } | undefined {
  const [addr = '', prefixText, extra] = text.split('/');
  if (extra !== undefined) return undefined;
  const family = isIPv4(addr) ? 4 : isIPv6(addr) ? 6 : undefined;
  if (!family) return undefined;
  const max = family === 4 ? 32 : 128;
  if (prefixText === undefined) return { addr, prefix: max, family };
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  return prefix <= max ? { addr, prefix, family } : undefined;
}

export const vipText = z.string().superRefine((v, ctx) => {
  if (!parsePrefixed(v))
    fail(ctx, 'TND_CFG_ADDRESS', `not an address with optional prefix (ADDR[/LEN]): ${JSON.stringify(v)}`);
});

/** A virtual address: `198.18.0.100/24`, or an object with device and label. */
export const vipSchema = z.union([
  vipText,
  z.strictObject({
    address: vipText.describe('ADDR[/LEN]'),
    dev: z.string().min(1).optional().describe('device; default: the instance interface'),
    label: z.string().min(1).optional().describe('IPv4 address label, e.g. eth0:1'),
  }),
]);

/** A value that is the same on every node, or a map from node name to value. */
export const perNode = <T extends z.ZodType>(t: T) => z.union([t, z.record(z.string(), t)]);

export const name = z.string().regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and _ . : - only');
