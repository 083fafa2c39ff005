/**
 * `GET /metrics` on the HTTP API listener (api/http-plugin.ts): the node's metrics in the Prometheus text format.
 * Unauthenticated by default, as Prometheus scrapes without credentials; `role` makes the API check a session or a
 * bearer token of at least that role first (Prometheus' `authorization` / `bearer_token_file`).
 */
import type { ApiPlugin, Role } from '../api/http-plugin.ts';
import { type DaemonMetrics, metricsOf } from './daemon-metrics.ts';
import { EXPOSITION_CONTENT_TYPE } from './exposition.ts';

/** Options of {@link metricsPlugin}. */
export interface MetricsPluginOptions {
  /** The role a scrape needs; undefined = none (unauthenticated). @default undefined */
  role?: Role;
  /** @default '/metrics' */
  path?: string;
}

/**
 * The plugin the API server registers.
 * @example plugins: [metricsPlugin(metrics, { role: cfg.api?.metrics_role })]
 */
export function metricsPlugin(metrics: DaemonMetrics, opts: MetricsPluginOptions = {}): ApiPlugin {
  return (app, ctx) => {
    app.get(opts.path ?? '/metrics', async (req, reply) => {
      if (opts.role && !(await ctx.require(req, reply, opts.role))) return reply;
      const text = metrics.render(await ctx.status());
      return reply.header('content-type', EXPOSITION_CONTENT_TYPE).send(text);
    });
  };
}

/**
 * The entry daemon/api-plugins.ts pushes: the metrics the daemon attached to its node (run.ts), behind a viewer
 * role when `api.metrics_auth` is true.
 * @example plugins.push((await import('../metrics/plugin.ts')).plugin(deps));
 */
export function plugin(deps: { node: object; metricsAuth: boolean }): ApiPlugin {
  const m = metricsOf(deps.node);
  if (!m) throw new Error('metrics: the daemon attached no metrics to its node (daemon/run.ts attachMetrics)');
  return metricsPlugin(m, deps.metricsAuth ? { role: 'viewer' } : {});
}
