/**
 * LSB init scripts (`script [args…] start|stop|status`), as heartbeat's ResourceManager and Pacemaker's lsb class run
 * them. Status follows LSB's own codes (0 running; 1, 2, 3 not running; 4 unknown; 150/151 Pacemaker's not installed /
 * insufficient privileges), with heartbeat's text fallback for scripts that exit 0 either way: output saying
 * "not running" or "stopped" means not running. Start and stop are made idempotent the way heartbeat does it: start
 * first asks status and does nothing when the service runs; a stop that fails on a service whose status says
 * stopped counts as done (heartbeat's "probably not LSB-compliant" case), rather than blocking the group.
 */
import type { Ms } from '../../core/time.ts';
import { type AgentResult, type AgentResultCode, ocfResultOf, type ResourceAgent } from '../types.ts';
import type { AgentDeps } from './deps.ts';
import { execute, remaining } from './exec.ts';

/** Where a bare script name is looked up, in heartbeat's order. */
export const LSB_SCRIPT_DIRS: readonly string[] = ['/etc/ha.d/resource.d', '/etc/init.d'];

/**
 * The result of an LSB `status` call.
 * @example lsbStatusResult(3, '') // 'not-running'
 * @example lsbStatusResult(0, 'nginx is stopped') // 'not-running' (heartbeat's text fallback)
 */
export function lsbStatusResult(exit: number, output: string): AgentResultCode {
  switch (exit) {
    case 0:
      return /not\s+running|\bstopped\b/i.test(output) ? 'not-running' : 'ok';
    case 1: // dead, pid file exists
    case 2: // dead, lock file exists
    case 3: // not running
      return 'not-running';
    case 150:
      return 'not-installed';
    case 151:
      return 'insufficient-privileges';
    default:
      return 'generic-error';
  }
}

/** The result of an LSB action other than status: 0..7 as OCF, anything else a generic error. */
export function lsbActionResult(exit: number): AgentResultCode {
  return ocfResultOf(exit);
}

/**
 * An agent over any LSB-style command: `argv` is everything before the action word (`['/etc/init.d/nginx']`,
 * `['service', 'nginx']`). `missing` short-cuts every call to `not-installed`.
 */
export function lsbLike(label: string, argv: readonly string[], deps: AgentDeps, missing?: string): ResourceAgent {
  const env = deps.env;
  const run = (
    action: string,
    signal: AbortSignal,
    timeoutMs: Ms,
    map: (exit: number, out: string) => AgentResultCode,
  ) => execute(deps.run, [...argv, action], { timeoutMs, signal, ...(env ? { env } : {}) }, map);

  const status = async (signal: AbortSignal, timeoutMs: Ms): Promise<AgentResult> => {
    if (missing) return { code: 'not-installed', detail: missing };
    const { exit, result } = await run('status', signal, timeoutMs, lsbStatusResult);
    // The text fallback reads stderr too: some scripts print their status there.
    if (exit === 0 && result.output && lsbStatusResult(0, result.output) === 'not-running')
      return { ...result, code: 'not-running', detail: 'exit 0, but the output says it is not running' };
    return result;
  };

  return {
    canMonitor: true,
    describe: () => label,
    monitor: status,
    async start(signal, timeoutMs) {
      if (missing) return { code: 'not-installed', detail: missing };
      const st = await status(signal, timeoutMs);
      if (st.code === 'ok') return { ...st, detail: 'already running' };
      if (st.code === 'timeout' || st.code === 'cancelled') return st;
      const { result } = await run('start', signal, remaining(timeoutMs, st.durationMs ?? 0), lsbActionResult);
      return result;
    },
    async stop(signal, timeoutMs) {
      // A missing script cannot have started anything.
      if (missing) return { code: 'ok', detail: `${missing}; nothing to stop` };
      const { result } = await run('stop', signal, timeoutMs, lsbActionResult);
      if (result.code === 'ok' || result.code === 'timeout' || result.code === 'cancelled') return result;
      const st = await status(signal, remaining(timeoutMs, result.durationMs ?? 0));
      if (st.code === 'not-running')
        return {
          ...result,
          code: 'ok',
          detail: `stop returned ${result.code} but status says stopped (the script is probably not LSB-compliant)`,
        };
      return result;
    },
  };
}

/** How an LSB resource is named. */
export interface LsbSpec {
  /** A path, or a name looked up in {@link LSB_SCRIPT_DIRS}. */
  script: string;
  /** Arguments before the action (heartbeat `name::a::b`). */
  args?: readonly string[];
}

/**
 * An LSB init script.
 * @example lsbAgent({ script: 'apache2' }, deps) // runs /etc/init.d/apache2 start|stop|status
 */
export function lsbAgent(spec: LsbSpec, deps: AgentDeps): ResourceAgent {
  const path = resolveScript(spec.script, deps);
  const args = spec.args ?? [];
  const label = `lsb:${path ?? spec.script}${args.length ? ` ${args.join(' ')}` : ''}`;
  return lsbLike(label, [path ?? spec.script, ...args], deps, path ? undefined : `no script ${spec.script}`);
}

/** The script's path: as given when it holds a slash, else the first existing one in the heartbeat directories. */
export function resolveScript(script: string, deps: Pick<AgentDeps, 'exists'>): string | undefined {
  if (script.includes('/')) return deps.exists(script) ? script : undefined;
  return LSB_SCRIPT_DIRS.map((d) => `${d}/${script}`).find((p) => deps.exists(p));
}
