/**
 * The request and reply bodies of the HTTP API as zod schemas: the source of the OpenAPI document (openapi.ts) and of
 * docs/openapi.json. The requests are checked at run time by api/contract.ts's parsers (one check for the socket and
 * the API); schemas.test.ts holds the two to the same verdicts on a corpus of bodies.
 */
import { z } from 'zod';
import { ERROR_STATUS } from '../contract.ts';

const selector = z.enum(['all', 'local', 'foreign']);

/** `POST /api/v1/standby` and `/takeover`. */
export const orderRequest = z.object({
  instances: z.union([selector, z.array(z.string())]).describe('instance names, or all / local / foreign'),
  clear: z.boolean().optional().describe('undo: back to the configured priority'),
});

export const orderReply = z.object({ instances: z.array(z.string()).describe('the instances acted on') });

/** `POST /api/v1/group`. */
export const groupRequest = z.object({ name: z.string(), action: z.enum(['cleanup', 'maintenance', 'manage']) });

export const groupReply = z.object({ group: z.string(), action: z.enum(['cleanup', 'maintenance', 'manage']) });

const rsBase = { service: z.string().describe('virtual service name'), server: z.string().describe('ADDRESS:PORT') };

/** `POST /api/v1/rs`. */
export const rsRequest = z.discriminatedUnion('verb', [
  z.object({
    ...rsBase,
    verb: z.literal('drain'),
    wait: z.boolean().optional().describe('wait for open connections to end (default true)'),
  }),
  z.object({ ...rsBase, verb: z.enum(['enable', 'maint', 'remove']) }),
  z.object({
    ...rsBase,
    verb: z.literal('weight'),
    weight: z.number().nullable().describe('null = the configured one'),
  }),
  z.object({ ...rsBase, verb: z.literal('add'), weight: z.number().optional().describe('default 1') }),
]);

export const rsReply = z.object({
  ok: z.literal(true),
  service: z.string(),
  server: z.string(),
  verb: z.enum(['drain', 'enable', 'maint', 'weight', 'add', 'remove']),
  drain: z
    .object({
      done: z.boolean(),
      waitedMs: z.number(),
      active: z.number(),
      inactive: z.number(),
      served: z.boolean(),
    })
    .optional(),
});

export const reloadReply = z.object({
  kept: z.array(z.string()),
  restarted: z.array(z.string()),
  started: z.array(z.string()),
  stopped: z.array(z.string()),
});

/** `GET /api/v1/status`: node/status.ts DaemonStatus; the nested DTOs are their producers' (see `tandem status --json`). */
export const statusReply = z.looseObject({
  node: z.string(),
  since: z.string().describe('ISO 8601'),
  config: z.string(),
  instances: z.array(z.looseObject({ name: z.string(), state: z.string() })).describe('VRRP instances'),
  interfaces: z.array(z.looseObject({ ifname: z.string() })),
  ownership: z
    .array(z.object({ group: z.string(), owned: z.boolean(), token: z.number(), cause: z.string() }))
    .optional(),
  lb: z
    .looseObject({ services: z.array(z.looseObject({ name: z.string() })) })
    .optional()
    .describe('virtual services'),
  groups: z
    .array(z.looseObject({ name: z.string(), phase: z.string() }))
    .optional()
    .describe('resource groups'),
  peerChannel: z
    .object({ port: z.number(), answered: z.number(), rejected: z.record(z.string(), z.number()) })
    .optional(),
});

const role = z.enum(['viewer', 'operator', 'admin']);

export const loginRequest = z.object({ user: z.string().max(256), password: z.string().max(4096) });

export const loginReply = z.object({
  user: z.string(),
  role,
  csrf: z.string().describe('send it as X-CSRF-Token on every POST made with the session cookie'),
});

export const whoamiReply = z.object({
  user: z.string(),
  role,
  via: z.enum(['session', 'token', 'local']),
  from: z.string(),
  csrf: z.string().optional(),
});

export const controlError = z.object({
  code: z.enum(Object.keys(ERROR_STATUS) as [string, ...string[]]).describe('docs/errors.md'),
  message: z.string(),
  reason: z.string().optional().describe('TND_CTL_RS_REFUSED: the model reason'),
  diagnostics: z.array(z.looseObject({ code: z.string(), message: z.string() })).optional(),
  retryAfterS: z.number().optional(),
});

export const apiEvent = z.looseObject({
  type: z.string().describe('transition, vips, health, lb-op, audit, …'),
  time: z.string(),
});
