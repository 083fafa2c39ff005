/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the zod schemas of schemas.ts with `z.toJSONSchema`. Served
 * at `GET /api/v1/openapi.json` and committed as docs/openapi.json (`npm run gen:docs`; openapi.test.ts fails on
 * drift, as for docs/config.md).
 */
import { z } from 'zod';
import * as s from './schemas.ts';

type Schema = z.ZodType;

const COMPONENTS: Record<string, { schema: Schema; io: 'input' | 'output' }> = {
  OrderRequest: { schema: s.orderRequest, io: 'input' },
  OrderReply: { schema: s.orderReply, io: 'output' },
  GroupRequest: { schema: s.groupRequest, io: 'input' },
  GroupReply: { schema: s.groupReply, io: 'output' },
  RsRequest: { schema: s.rsRequest, io: 'input' },
  RsReply: { schema: s.rsReply, io: 'output' },
  ReloadSummary: { schema: s.reloadReply, io: 'output' },
  DaemonStatus: { schema: s.statusReply, io: 'output' },
  LoginRequest: { schema: s.loginRequest, io: 'input' },
  LoginReply: { schema: s.loginReply, io: 'output' },
  Whoami: { schema: s.whoamiReply, io: 'output' },
  ControlError: { schema: s.controlError, io: 'output' },
  ApiEvent: { schema: s.apiEvent, io: 'output' },
};

const ref = (name: keyof typeof COMPONENTS) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: keyof typeof COMPONENTS) => ({ content: { 'application/json': { schema: ref(name) } } });

const errors = (...codes: number[]) =>
  Object.fromEntries(codes.map((c) => [String(c), { description: ERROR_TEXT[c] ?? 'error', ...json('ControlError') }]));
const ERROR_TEXT: Record<number, string> = {
  400: 'malformed request (TND_CTL_BAD_REQUEST)',
  401: 'not authenticated (TND_API_UNAUTHENTICATED)',
  403: 'role too low (TND_API_FORBIDDEN) or CSRF header missing (TND_API_CSRF)',
  404: 'unknown instance or group (TND_CTL_UNKNOWN_*)',
  409: 'refused (TND_CTL_RS_REFUSED, TND_CTL_RELOAD_REFUSED)',
  413: 'body too large (TND_API_TOO_LARGE)',
  429: 'login rate limit or lockout (TND_API_RATE_LIMITED, TND_API_LOCKED_OUT)',
  500: 'internal error (TND_CTL_INTERNAL)',
};

const action = (summary: string, role: string, req: keyof typeof COMPONENTS | null, res: keyof typeof COMPONENTS) => ({
  post: {
    summary,
    'x-tandem-role': role,
    ...(req ? { requestBody: { required: true, ...json(req) } } : {}),
    responses: { '200': { description: 'done', ...json(res) }, ...errors(400, 401, 403, 404, 409, 413, 500) },
  },
});

/** The document. */
export function openApiDocument(): Record<string, unknown> {
  const schemas: Record<string, unknown> = {};
  for (const [name, c] of Object.entries(COMPONENTS)) {
    const {
      $schema: _,
      id: __,
      ...rest
    } = z.toJSONSchema(c.schema, { io: c.io, target: 'draft-2020-12' }) as Record<string, unknown>;
    schemas[name] = rest;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'tandem HTTP API',
      version: '1',
      description:
        'The operator API of one tandem node (docs/api.md). Authenticate with POST /api/v1/login (a session cookie; ' +
        'send the returned csrf as X-CSRF-Token on every POST) or with Authorization: Bearer TOKEN (tandem token create). ' +
        'x-tandem-role names the least role a route needs: viewer < operator < admin.',
    },
    components: {
      schemas,
      securitySchemes: {
        session: { type: 'apiKey', in: 'cookie', name: 'tandem_session' },
        bearer: { type: 'http', scheme: 'bearer' },
      },
    },
    security: [{ session: [] }, { bearer: [] }],
    paths: {
      '/api/v1/status': {
        get: {
          summary: 'the node: instances, sync groups, resource groups, virtual services, real servers, drops',
          'x-tandem-role': 'viewer',
          responses: { '200': { description: 'status', ...json('DaemonStatus') }, ...errors(401, 500) },
        },
      },
      '/api/v1/standby': action('give up mastership (priority 1), or clear', 'operator', 'OrderRequest', 'OrderReply'),
      '/api/v1/takeover': action('take mastership (priority 255), or clear', 'operator', 'OrderRequest', 'OrderReply'),
      '/api/v1/group': action(
        'resource group cleanup / maintenance / manage',
        'operator',
        'GroupRequest',
        'GroupReply',
      ),
      '/api/v1/rs': action(
        'real server drain / enable / maint / weight / add / remove',
        'operator',
        'RsRequest',
        'RsReply',
      ),
      '/api/v1/reload': action('reload the config file (like SIGHUP)', 'admin', null, 'ReloadSummary'),
      '/api/v1/login': {
        post: {
          summary: 'log in: sets the tandem_session cookie (HttpOnly, SameSite=Strict; Secure with TLS)',
          security: [],
          requestBody: { required: true, ...json('LoginRequest') },
          responses: { '200': { description: 'logged in', ...json('LoginReply') }, ...errors(400, 401, 429) },
        },
      },
      '/api/v1/logout': {
        post: {
          summary: 'end the session',
          'x-tandem-role': 'viewer',
          responses: { '200': { description: 'logged out' }, ...errors(401, 403) },
        },
      },
      '/api/v1/whoami': {
        get: {
          summary: 'who the credentials are (and the session csrf token)',
          'x-tandem-role': 'viewer',
          responses: { '200': { description: 'principal', ...json('Whoami') }, ...errors(401) },
        },
      },
      '/api/v1/events': {
        get: {
          summary:
            'Server-Sent Events: `event: TYPE` and `data: ApiEvent` per event (VRRP, health, real servers, groups, audit)',
          'x-tandem-role': 'viewer',
          responses: {
            '200': { description: 'the stream', content: { 'text/event-stream': { schema: ref('ApiEvent') } } },
            ...errors(401, 429),
          },
        },
      },
      '/api/v1/openapi.json': {
        get: { summary: 'this document', security: [], responses: { '200': { description: 'OpenAPI 3.1' } } },
      },
    },
  };
}

/** The document as committed in docs/openapi.json. */
export const renderOpenApi = (): string => `${JSON.stringify(openApiDocument(), null, 2)}\n`;
