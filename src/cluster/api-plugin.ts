/**
 * The cluster's routes on the HTTP API listener, for the console and scripts (docs/api.md, docs/cluster.md):
 *
 * - `GET /api/v1/cluster` (viewer): every node — name, peer URL, reachable, its DaemonStatus or the error;
 * - `GET /api/v1/config` (admin: the text may hold secrets): the running text, format, version, hash;
 * - `GET /api/v1/config/status` (viewer): version and hash per node, and `divergent`;
 * - `GET /api/v1/config/history` (viewer): the versions kept, without their texts;
 * - `POST /api/v1/config/check {text, format?}` (operator): the diagnostics `tandem check` and this host give;
 * - `POST /api/v1/config/diff {text}` (admin): a unified diff against the running config and the per-kind summary;
 * - `POST /api/v1/config/apply {text, expected}` (admin, audited): the two-phase apply; 409 with the refusing node's
 *   diagnostics when refused.
 */
import type { FastifyInstance } from 'fastify';
import type { ApiContext, ApiPlugin } from '../api/http-plugin.ts';
import type { ConfigFormat } from '../config/load.ts';
import { CONFIG_FORMATS } from './config-check.ts';
import { applyReply } from './control-routes.ts';
import type { PeerNode } from './peer-node.ts';

/** Largest config text accepted. @default 1 MiB */
export const MAX_CONFIG_TEXT = 1024 * 1024;

const bad = (message: string) => ({ code: 'TND_CTL_BAD_REQUEST', message });

/** The plugin for this node's PeerNode. */
export function clusterApiPlugin(node: PeerNode): ApiPlugin {
  return (app: FastifyInstance, ctx: ApiContext) => {
    const body = (b: unknown): Record<string, unknown> =>
      b && typeof b === 'object' && !Array.isArray(b) ? (b as Record<string, unknown>) : {};
    const text = (b: Record<string, unknown>): string | undefined =>
      typeof b.text === 'string' && Buffer.byteLength(b.text) <= MAX_CONFIG_TEXT ? b.text : undefined;

    app.get('/api/v1/cluster', async (req, reply) => {
      if (!(await ctx.require(req, reply, 'viewer'))) return reply;
      return { nodes: await node.cluster() };
    });
    app.get('/api/v1/config', async (req, reply) => {
      if (!(await ctx.require(req, reply, 'admin'))) return reply;
      const r = node.running();
      return { text: r.text, format: r.format, version: r.version, hash: r.hash, file: r.file };
    });
    app.get('/api/v1/config/status', async (req, reply) => {
      if (!(await ctx.require(req, reply, 'viewer'))) return reply;
      return node.configStatus();
    });
    app.get('/api/v1/config/history', async (req, reply) => {
      if (!(await ctx.require(req, reply, 'viewer'))) return reply;
      return { versions: node.history(100).map(({ text: _t, ...v }) => v) };
    });
    app.post('/api/v1/config/check', async (req, reply) => {
      if (!(await ctx.require(req, reply, 'operator'))) return reply;
      const b = body(req.body);
      const t = text(b);
      const format = b.format === undefined ? undefined : (b.format as ConfigFormat);
      if (t === undefined || (format !== undefined && !CONFIG_FORMATS.includes(format)))
        return reply
          .code(400)
          .send(
            bad(
              `text must be a string of at most ${MAX_CONFIG_TEXT} bytes; format one of ${CONFIG_FORMATS.join(', ')}`,
            ),
          );
      const c = node.check(t, node.running().file, format);
      return { node: node.name, ok: !c.diagnostics.some((d) => d.severity === 'error'), diagnostics: c.diagnostics };
    });
    app.post('/api/v1/config/diff', async (req, reply) => {
      if (!(await ctx.require(req, reply, 'admin'))) return reply;
      const t = text(body(req.body));
      if (t === undefined) return reply.code(400).send(bad('text must be a string'));
      return node.diff(t, 'editor');
    });
    app.post('/api/v1/config/apply', async (req, reply) => {
      const who = await ctx.require(req, reply, 'admin');
      if (!who) return reply;
      const b = body(req.body);
      const t = text(b);
      if (t === undefined || !Number.isInteger(b.expected))
        return reply.code(400).send(bad('apply needs text and expected (the version the editor started from)'));
      const r = await node.apply({
        text: t,
        file: node.running().file,
        expected: b.expected as number,
        appliedBy: `${who.name}@${who.from}`,
      });
      const out = applyReply(r);
      ctx.audit(
        who,
        'config.apply',
        r.ok ? `version ${r.version.version}` : `on version ${b.expected}`,
        r.ok ? 'ok' : 'refused',
        r.ok ? r.version.hash : r.reason,
      );
      return reply.code(out.status).send(out.body);
    });
  };
}
