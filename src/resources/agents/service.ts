/**
 * A system service: a systemd unit where systemd is the init system (`/run/systemd/system` exists, the test
 * sd_booted() makes), otherwise the init script `/etc/init.d/NAME`, otherwise the `service` command. systemctl
 * start and stop are idempotent by themselves; `is-active` tells the state.
 */
import type { ResourceAgent } from '../types.ts';
import type { AgentDeps } from './deps.ts';
import { execute } from './exec.ts';
import { lsbActionResult, lsbLike } from './lsb.ts';

/** The state words of `systemctl is-active` that mean running. */
const ACTIVE = new Set(['active', 'reloading']);

/**
 * A service agent for `unit`.
 * @example serviceAgent('nginx', deps) // systemctl start nginx, or /etc/init.d/nginx start
 */
export function serviceAgent(unit: string, deps: AgentDeps): ResourceAgent {
  if (!deps.systemd()) {
    const script = `/etc/init.d/${unit}`;
    return deps.exists(script)
      ? lsbLike(`service:${unit} (init script)`, [script], deps)
      : lsbLike(`service:${unit} (service)`, ['service', unit], deps);
  }
  const env = deps.env;
  const systemctl = (args: string[], signal: AbortSignal, timeoutMs: number) =>
    execute(deps.run, ['systemctl', ...args], { timeoutMs, signal, ...(env ? { env } : {}) }, lsbActionResult);
  return {
    canMonitor: true,
    describe: () => `service:${unit} (systemd)`,
    start: async (signal, timeoutMs) => (await systemctl(['start', unit], signal, timeoutMs)).result,
    async stop(signal, timeoutMs) {
      const { exit, result } = await systemctl(['stop', unit], signal, timeoutMs);
      // 5: "Unit … not loaded" — a unit that does not exist runs nothing.
      return exit === 5 ? { ...result, code: 'ok', detail: 'unit not loaded; nothing to stop' } : result;
    },
    async monitor(signal, timeoutMs) {
      const { exit, result, stdout } = await systemctl(['is-active', unit], signal, timeoutMs);
      if (exit === null) return result;
      const state = stdout.trim().split('\n')[0] ?? '';
      if (ACTIVE.has(state)) return { ...result, code: 'ok', detail: state };
      if (state === 'inactive' || state === 'unknown') return { ...result, code: 'not-running', detail: state };
      // failed (crashed), activating (restarting after a crash), deactivating: not cleanly stopped.
      return { ...result, code: 'generic-error', detail: state || `exit ${exit}` };
    },
  };
}
