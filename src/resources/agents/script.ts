/**
 * Plain commands for start, stop and monitor (Piranha's `start_cmd`/`stop_cmd`, keepalived-style notify scripts),
 * run without a shell. Exit codes follow OCF: 0 ok, 7 not running (monitor), 1..6 their OCF meanings. With a monitor
 * command, start and stop are made idempotent like LSB scripts: start does nothing when the monitor says running, a
 * failed stop counts as done when the monitor says stopped. Without one, the resource is never monitored.
 */
import type { AgentResult, ResourceAgent } from '../types.ts';
import { ocfResultOf } from '../types.ts';
import type { AgentDeps } from './deps.ts';
import { execute, remaining } from './exec.ts';

/** The commands of a script resource. */
export interface ScriptSpec {
  start: string;
  stop: string;
  monitor?: string;
}

/**
 * A script agent.
 * @example scriptAgent({ start: '/usr/bin/app up', stop: '/usr/bin/app down', monitor: '/usr/bin/app check' }, deps)
 */
export function scriptAgent(spec: ScriptSpec, deps: AgentDeps): ResourceAgent {
  const env = deps.env;
  const run = (line: string, signal: AbortSignal, timeoutMs: number) =>
    execute(deps.run, line, { timeoutMs, signal, ...(env ? { env } : {}) }, ocfResultOf);
  const monitor = async (signal: AbortSignal, timeoutMs: number): Promise<AgentResult> =>
    spec.monitor
      ? (await run(spec.monitor, signal, timeoutMs)).result
      : { code: 'unimplemented', detail: 'no monitor command' };
  return {
    canMonitor: spec.monitor !== undefined,
    describe: () => `script:${firstWord(spec.start)}`,
    monitor,
    async start(signal, timeoutMs) {
      let used = 0;
      if (spec.monitor) {
        const st = await monitor(signal, timeoutMs);
        if (st.code === 'ok') return { ...st, detail: 'already running' };
        if (st.code === 'timeout' || st.code === 'cancelled') return st;
        used = st.durationMs ?? 0;
      }
      return (await run(spec.start, signal, remaining(timeoutMs, used))).result;
    },
    async stop(signal, timeoutMs) {
      const { result } = await run(spec.stop, signal, timeoutMs);
      if (result.code === 'ok' || !spec.monitor || result.code === 'timeout' || result.code === 'cancelled')
        return result;
      const st = await monitor(signal, remaining(timeoutMs, result.durationMs ?? 0));
      return st.code === 'not-running'
        ? { ...result, code: 'ok', detail: `stop returned ${result.code} but the monitor says stopped` }
        : result;
    },
  };
}

function firstWord(line: string): string {
  return line.trim().split(/\s+/)[0] ?? line;
}
