/**
 * OCF resource agents (API 1.1), run unmodified: `OCF_ROOT/resource.d/PROVIDER/TYPE ACTION` with the parameters in
 * `OCF_RESKEY_<name>` and the standard variables Pacemaker also sets (`OCF_RESOURCE_INSTANCE`, the API version, the
 * call's timeout in `OCF_RESKEY_CRM_meta_timeout` in milliseconds, the monitor interval in
 * `OCF_RESKEY_CRM_meta_interval`). Exit codes 0..7 map to results by {@link ocfResultOf}; an agent file that is not
 * there is `not-installed` without running anything. The reason an agent gives with `ocf_exit_reason` becomes the
 * result's detail.
 * @see https://github.com/ClusterLabs/OCF-spec/blob/main/ra/1.1/resource-agent-api.md
 */
import type { Ms } from '../../core/time.ts';
import { type AgentResult, ocfResultOf, type ResourceAgent } from '../types.ts';
import type { AgentDeps } from './deps.ts';
import { execute } from './exec.ts';

/** The default OCF root on Debian and most distributions. */
export const DEFAULT_OCF_ROOT = '/usr/lib/ocf';

/** An OCF parameter name must be a valid environment variable name suffix. */
const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** How an OCF resource is called. */
export interface OcfSpec {
  /** e.g. `heartbeat`. */
  provider: string;
  /** e.g. `IPaddr2`. */
  type: string;
  params: Readonly<Record<string, string>>;
  /** OCF_RESOURCE_INSTANCE: unique on the node (agents keep state files named after it). */
  instance: string;
  /** Passed to monitor calls as OCF_RESKEY_CRM_meta_interval; 0 makes the call a probe. @default 0 */
  monitorIntervalMs?: Ms;
  /** Text for describe(). @default `ocf:PROVIDER:TYPE` */
  label?: string;
}

/** An OCF agent with the actions tandem calls, plus meta-data. */
export interface OcfAgent extends ResourceAgent {
  /** The agent's file. */
  readonly path: string;
  /** Runs `meta-data`: the agent's XML description of its parameters and actions, in `xml`. */
  metaData(signal: AbortSignal, timeoutMs?: Ms): Promise<AgentResult & { xml: string }>;
}

/**
 * An OCF agent.
 * @example ocfAgent({ provider: 'heartbeat', type: 'Dummy', params: { state: '/run/d' }, instance: 'w-d' }, deps)
 */
export function ocfAgent(spec: OcfSpec, deps: AgentDeps): OcfAgent {
  const root = deps.ocfRoot ?? DEFAULT_OCF_ROOT;
  const path = `${root}/resource.d/${spec.provider}/${spec.type}`;
  const badParam = Object.keys(spec.params).find((k) => !PARAM_NAME.test(k));

  const call = async (
    action: 'start' | 'stop' | 'monitor' | 'validate-all' | 'meta-data',
    signal: AbortSignal,
    timeoutMs: Ms,
    probe = false,
  ): Promise<{ result: AgentResult; stdout: string }> => {
    if (badParam !== undefined)
      return { result: { code: 'invalid-args', detail: `parameter name ${JSON.stringify(badParam)}` }, stdout: '' };
    if (!deps.exists(path)) return { result: { code: 'not-installed', detail: `${path} is missing` }, stdout: '' };
    const env: Record<string, string | undefined> = {
      ...deps.env,
      OCF_ROOT: root,
      OCF_RA_VERSION_MAJOR: '1',
      OCF_RA_VERSION_MINOR: '1',
      OCF_RESOURCE_INSTANCE: spec.instance,
      OCF_RESOURCE_TYPE: spec.type,
      OCF_RESOURCE_PROVIDER: spec.provider,
      OCF_RESKEY_CRM_meta_timeout: String(timeoutMs),
      // A probe is a monitor with interval 0 (ocf_is_probe): agents then skip complaints about a stopped resource.
      OCF_RESKEY_CRM_meta_interval: String(action === 'monitor' && !probe ? (spec.monitorIntervalMs ?? 0) : 0),
      ...(action === 'monitor' ? { OCF_CHECK_LEVEL: '0' } : {}),
    };
    for (const [k, v] of Object.entries(spec.params)) env[`OCF_RESKEY_${k}`] = v;
    const { result, stdout } = await execute(deps.run, [path, action], { timeoutMs, signal, env }, (exit) =>
      ocfResultOf(exit),
    );
    const reason = exitReason(result.output ?? '');
    return { result: reason ? { ...result, detail: reason } : result, stdout };
  };

  return {
    path,
    canMonitor: true,
    describe: () => spec.label ?? `ocf:${spec.provider}:${spec.type}`,
    start: async (signal, timeoutMs) => (await call('start', signal, timeoutMs)).result,
    stop: async (signal, timeoutMs) => (await call('stop', signal, timeoutMs)).result,
    monitor: async (signal, timeoutMs, probe) => (await call('monitor', signal, timeoutMs, probe)).result,
    validate: async (signal, timeoutMs) => (await call('validate-all', signal, timeoutMs)).result,
    metaData: async (signal, timeoutMs = 5_000) => {
      const { result, stdout } = await call('meta-data', signal, timeoutMs);
      return { ...result, xml: stdout };
    },
  };
}

/**
 * The last `ocf-exit-reason:` line an agent printed (ocf_exit_reason in ocf-shellfuncs writes it to stderr), or
 * undefined.
 */
export function exitReason(output: string): string | undefined {
  let reason: string | undefined;
  for (const line of output.split('\n')) {
    const i = line.indexOf('ocf-exit-reason:');
    if (i >= 0) reason = line.slice(i + 'ocf-exit-reason:'.length).trim();
  }
  return reason || undefined;
}
