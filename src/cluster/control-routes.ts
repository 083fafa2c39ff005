/**
 * The control socket's routes of the cluster's shared config (`tandem config …`, `tandem check --peer-live`), answered
 * by this node's PeerNode: the same operations as the HTTP API plugin (api-plugin.ts), for root on the local socket.
 */
import type { ConfigFormat } from '../config/load.ts';
import { CONFIG_FORMATS } from './config-check.ts';
import type { ApplyResult, PeerNode } from './peer-node.ts';

/** A reply: HTTP status and JSON body. */
export interface RouteReply {
  status: number;
  body: unknown;
}

const bad = (message: string): RouteReply => ({ status: 400, body: { code: 'TND_CTL_BAD_REQUEST', message } });
const MAX_TEXT = 4 * 1024 * 1024;

/** Whether a control-socket URL is one of these routes. */
export const isClusterRoute = (url: string): boolean => /^\/v1\/(config|cluster)(\/|\?|$)/.test(url);

/** An apply's result as a reply: 200, or 409 with the refusing node's diagnostics. */
export function applyReply(r: ApplyResult): RouteReply {
  if (r.ok) {
    const { text: _t, ...version } = r.version;
    return { status: 200, body: { ok: true, version, nodes: r.nodes } };
  }
  const code =
    r.reason === 'invalid'
      ? 'TND_CLUSTER_REFUSED'
      : r.reason === 'conflict'
        ? 'TND_CLUSTER_CONFLICT'
        : 'TND_CLUSTER_PEER';
  const message =
    r.reason === 'invalid'
      ? `${r.node} refused the config; nothing changed on any node`
      : r.reason === 'conflict'
        ? `the cluster is at version ${r.current}, not the one expected; nothing changed`
        : `${r.node} cannot take part: ${r.message}; nothing changed`;
  return { status: 409, body: { ...r, code, message } };
}

const textOf = (b: Record<string, unknown> | undefined): string | undefined =>
  typeof b?.text === 'string' && b.text.length <= MAX_TEXT ? b.text : undefined;

const formatOf = (b: Record<string, unknown> | undefined): ConfigFormat | undefined | false =>
  b?.format === undefined
    ? undefined
    : CONFIG_FORMATS.includes(b.format as ConfigFormat)
      ? (b.format as ConfigFormat)
      : false;

/** Answers one control-socket request of these routes. */
export async function clusterControlRoute(
  node: PeerNode,
  method: string,
  url: string,
  body: Record<string, unknown> | undefined,
  by: string,
): Promise<RouteReply> {
  const u = new URL(url, 'http://local');
  const route = `${method} ${u.pathname}`;
  switch (route) {
    case 'GET /v1/config':
      return { status: 200, body: node.running() };
    case 'GET /v1/config/status':
      return { status: 200, body: await node.configStatus() };
    case 'GET /v1/config/history': {
      const limit = Number(u.searchParams.get('limit') ?? 20);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return bad('limit must be 1..1000');
      return { status: 200, body: node.history(limit).map(({ text: _t, ...v }) => v) };
    }
    case 'GET /v1/config/compare':
      return { status: 200, body: await node.compareLive() };
    case 'GET /v1/cluster':
      return { status: 200, body: await node.cluster() };
    case 'POST /v1/config/check': {
      const text = textOf(body);
      const format = formatOf(body);
      if (text === undefined || format === false)
        return bad('check needs text (a string) and an optional known format');
      const file = typeof body?.file === 'string' ? body.file : 'config';
      return { status: 200, body: { node: node.name, diagnostics: node.check(text, file, format).diagnostics } };
    }
    case 'POST /v1/config/diff': {
      const text = textOf(body);
      if (text === undefined) return bad('diff needs text (a string)');
      return { status: 200, body: node.diff(text, typeof body?.file === 'string' ? body.file : 'new') };
    }
    case 'POST /v1/config/apply': {
      const text = textOf(body);
      const format = formatOf(body);
      const expected = body?.expected;
      if (text === undefined || format === false || (expected !== undefined && !Number.isInteger(expected)))
        return bad('apply needs text, an optional format and an optional whole-number expected version');
      return applyReply(
        await node.apply({
          text,
          file: typeof body?.file === 'string' ? body.file : 'config',
          ...(format ? { format } : {}),
          ...(typeof expected === 'number' ? { expected } : {}),
          appliedBy: by,
          requireAll: body?.requireAll === true,
        }),
      );
    }
    case 'POST /v1/config/rollback': {
      const v = body?.version;
      if (!Number.isInteger(v)) return bad('rollback needs a version number');
      const r = await node.rollback(v as number, by);
      if (!r.ok && r.reason === 'missing')
        return { status: 404, body: { code: 'TND_CLUSTER_VERSION', message: (r as { message: string }).message } };
      return applyReply(r as ApplyResult);
    }
  }
  return { status: 404, body: { code: 'TND_CTL_NOT_FOUND', message: `no route ${route}` } };
}
