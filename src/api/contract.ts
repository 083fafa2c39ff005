/**
 * The control contract: the routes of the node's control API, their request bodies (checked here, once) and their
 * replies, shared by the control server (api/control-server.ts), the CLI (api/client.ts) and the HTTP API and console
 * of later releases. The status and outcome types are the producers' own (node/status.ts, lb/status.ts,
 * resources/runner.ts); this module is the one place a client imports them from.
 */
import type { Diagnostic } from '../config/diagnostics.ts';
import type { ErrorCode } from '../core/errors.ts';
import type { RsVerb } from '../lb/status.ts';
import type { InstanceSelector } from '../node/ports.ts';

export type { Diagnostic } from '../config/diagnostics.ts';
export type { LbServerStatus, LbServiceStatus, LbStatus, RsOutcome, RsRefusal, RsVerb } from '../lb/status.ts';
export type { InstanceSelector, InterfaceDrops } from '../node/ports.ts';
export type { DaemonStatus, InstanceCounters, InstanceStatus, ReloadSummary } from '../node/status.ts';
export type { GroupStatus } from '../resources/runner.ts';

/** Where the control socket lives by default. */
export const DEFAULT_CONTROL_SOCKET = '/run/tandem/tandem.sock';

/** The routes, as `METHOD path`. */
export const ROUTES = {
  status: 'GET /v1/status',
  standby: 'POST /v1/standby',
  takeover: 'POST /v1/takeover',
  group: 'POST /v1/group',
  rs: 'POST /v1/rs',
  reload: 'POST /v1/reload',
} as const;

/** Codes an error reply carries (each registered in core/errors.ts). */
export type ControlErrorCode = Extract<
  ErrorCode,
  | 'TND_CTL_NOT_FOUND'
  | 'TND_CTL_BAD_REQUEST'
  | 'TND_CTL_UNKNOWN_INSTANCE'
  | 'TND_CTL_UNKNOWN_GROUP'
  | 'TND_CTL_RELOAD_REFUSED'
  | 'TND_CTL_RS_REFUSED'
  | 'TND_CTL_INTERNAL'
  // HTTP API (issue 12): authentication, roles, CSRF, login limits, body size
  | 'TND_API_UNAUTHENTICATED'
  | 'TND_API_FORBIDDEN'
  | 'TND_API_CSRF'
  | 'TND_API_RATE_LIMITED'
  | 'TND_API_LOCKED_OUT'
  | 'TND_API_TOO_LARGE'
>;

/** An error reply: a stable code, a sentence, and what else the code carries. */
export interface ControlError {
  code: ControlErrorCode;
  message: string;
  /** TND_CTL_RS_REFUSED: the model's reason. */
  reason?: string;
  /** TND_CTL_RELOAD_REFUSED: the diagnostics of the refused config, as objects. */
  diagnostics?: Diagnostic[];
  /** TND_API_RATE_LIMITED, TND_API_LOCKED_OUT: seconds until a login may be tried again (also the retry-after header). */
  retryAfterS?: number;
}

/** The HTTP status of each error code. */
export const ERROR_STATUS: Readonly<Record<ControlErrorCode, number>> = {
  TND_CTL_NOT_FOUND: 404,
  TND_CTL_BAD_REQUEST: 400,
  TND_CTL_UNKNOWN_INSTANCE: 404,
  TND_CTL_UNKNOWN_GROUP: 404,
  TND_CTL_RELOAD_REFUSED: 409,
  TND_CTL_RS_REFUSED: 409,
  TND_CTL_INTERNAL: 500,
  // HTTP API (issue 12)
  TND_API_UNAUTHENTICATED: 401,
  TND_API_FORBIDDEN: 403,
  TND_API_CSRF: 403,
  TND_API_RATE_LIMITED: 429,
  TND_API_LOCKED_OUT: 429,
  TND_API_TOO_LARGE: 413,
};

/** `POST /v1/standby` and `/v1/takeover`. */
export interface OrderRequest {
  instances: string[] | InstanceSelector;
  clear: boolean;
}

/** The reply to an order: the instances it acted on. */
export interface OrderReply {
  instances: string[];
}

/** The actions of `tandem group`. */
export type GroupAction = 'cleanup' | 'maintenance' | 'manage';

/** `POST /v1/group`. */
export interface GroupRequest {
  name: string;
  action: GroupAction;
}

/** `POST /v1/rs`. */
export interface RsRequest {
  service: string;
  req: RsVerb;
}

type Body = Record<string, unknown> | undefined;
/** A checked request body, or the sentence that says what is wrong with it. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

/** Checks a standby/takeover body. */
export function parseOrder(body: Body): Parsed<OrderRequest> {
  const names = body?.instances;
  if (
    names !== 'all' &&
    names !== 'local' &&
    names !== 'foreign' &&
    !(Array.isArray(names) && names.every((n) => typeof n === 'string'))
  )
    return { ok: false, message: 'instances must be "all", "local", "foreign" or a list of names' };
  return { ok: true, value: { instances: names as OrderRequest['instances'], clear: body?.clear === true } };
}

/** Checks a `tandem group` body. */
export function parseGroup(body: Body): Parsed<GroupRequest> {
  const name = body?.name;
  const action = body?.action;
  if (typeof name !== 'string' || (action !== 'cleanup' && action !== 'maintenance' && action !== 'manage'))
    return { ok: false, message: 'name must be a group name and action one of cleanup, maintenance, manage' };
  return { ok: true, value: { name, action } };
}

/** Checks a `tandem rs` body: `{ service, verb, server, weight?, wait? }`. */
export function parseRs(body: Body): Parsed<RsRequest> {
  const service = body?.service;
  const server = body?.server;
  const verb = body?.verb;
  if (typeof service !== 'string' || typeof server !== 'string')
    return { ok: false, message: 'service and server must be strings' };
  const weight = body?.weight;
  const ok = (req: RsVerb): Parsed<RsRequest> => ({ ok: true, value: { service, req } });
  switch (verb) {
    case 'drain':
      return ok({ verb, server, wait: body?.wait !== false });
    case 'enable':
    case 'maint':
    case 'remove':
      return ok({ verb, server });
    case 'weight':
      if (weight !== null && typeof weight !== 'number')
        return { ok: false, message: 'weight must be a number, or null to reset' };
      return ok({ verb, server, weight });
    case 'add':
      if (weight !== undefined && typeof weight !== 'number') return { ok: false, message: 'weight must be a number' };
      return ok({ verb, server, weight: weight ?? 1 });
    default:
      return { ok: false, message: 'verb must be one of drain, enable, maint, weight, add, remove' };
  }
}
