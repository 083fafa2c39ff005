/**
 * The ApiPlugins the daemon hands to the HTTP API (src/api/http-plugin.ts): metrics, the web console, the cluster's
 * config routes. Each part adds its entry here, on a line of its own; run.ts passes the list to the API part.
 */
import type { ApiPlugin } from '../api/http-plugin.ts';
import type { PeerNode } from '../cluster/peer-node.ts';
import type { Logger } from '../core/log.ts';
import type { TandemNode } from '../node/node.ts';
import type { NodePlan } from '../plan/node-plan.ts';
import type { LbWorker } from './lb-worker.ts';

/** What a plugin may be built from. */
export interface ApiPluginDeps {
  plan: NodePlan;
  node: TandemNode;
  /** The load balancer's worker, once the plan has virtual services. */
  lb: () => LbWorker | undefined;
  log: Logger;
  /** `api.metrics_auth`. */
  metricsAuth: boolean;
  /** This node in the cluster's shared config (src/cluster/), for its routes. */
  cluster?: PeerNode;
}

/** The plugins to register. */
export async function apiPlugins(_deps: ApiPluginDeps): Promise<ApiPlugin[]> {
  const plugins: ApiPlugin[] = [];
  // Each part: `plugins.push((await import('../PART/plugin.ts')).plugin(_deps));`
  // issue 12, metrics: GET /metrics
  plugins.push((await import('../metrics/plugin.ts')).plugin(_deps));
  // The web console (issue 13): dist/console at /, and the history sampler (GET /api/v1/history).
  plugins.push((await import('../console/plugin.ts')).consolePlugin);
  // The cluster's one config (issue 13 item 2): /api/v1/cluster and /api/v1/config….
  if (_deps.cluster) plugins.push((await import('../cluster/api-plugin.ts')).clusterApiPlugin(_deps.cluster));
  return plugins;
}
