/**
 * The seam between the HTTP API server (api/http/, fastify) and the parts that add routes to it: metrics, the web
 * console, the cluster's config apply and peer status. A part exports an `ApiPlugin`; the daemon hands the list to the
 * server, which registers each with the `ApiContext` that authenticates and audits. Nothing here runs: it is types.
 *
 * URL scheme (docs/api.md): the control routes of api/contract.ts under `/api` (`GET /api/v1/status`, `POST
 * /api/v1/rs`, …, the same bodies and error replies), `GET /api/v1/events` (SSE), `POST /api/v1/login`,
 * `POST /api/v1/logout`, `GET /api/v1/whoami`, `GET /api/v1/openapi.json`, `GET /metrics`, the console at `/`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DaemonStatus } from './contract.ts';

/** What a caller may do: viewer reads; operator also acts on servers, instances and groups; admin also changes config and users. */
export type Role = 'viewer' | 'operator' | 'admin';

/** Who is calling, as the server authenticated them. */
export interface Principal {
  /** User or token name; `root` on the local socket. */
  name: string;
  role: Role;
  /** How they authenticated: session cookie, bearer token, or the root-only local socket. */
  via: 'session' | 'token' | 'local';
  /** Where from: the client's address, or `local`. */
  from: string;
}

/** The result an audited action had. */
export type AuditResult = 'ok' | 'refused' | 'failed';

/** What the server gives every plugin. */
export interface ApiContext {
  /**
   * Authenticates the request and checks its role (and, for a session cookie on a mutating method, its CSRF
   * token). On failure it has already replied (401, 403, 429) and returns undefined.
   */
  require(req: FastifyRequest, reply: FastifyReply, role: Role): Promise<Principal | undefined>;
  /** Writes one audit line (who, from where, what, on what, result) and emits it on the event stream. */
  audit(who: Principal, action: string, target: string, result: AuditResult, detail?: string): void;
  /** This node's status, as `GET /api/v1/status` returns it. */
  status(): Promise<DaemonStatus>;
  /** Subscribes to what the event stream carries; returns the unsubscribe function. */
  onEvent(handler: (event: ApiEvent) => void): () => void;
}

/** One event of the stream (`GET /api/v1/events`): its kind, when, and the producer's own fields. */
export interface ApiEvent {
  type: string;
  /** ISO 8601. */
  time: string;
  [field: string]: unknown;
}

/** A part that adds routes to the API listener. */
export type ApiPlugin = (app: FastifyInstance, ctx: ApiContext) => void | Promise<void>;
