/**
 * The load balancer as a resource: while the group runs here, these virtual services are served on this node (the
 * daemon's hook programs the data plane); stop withdraws them. So an LB can follow its VIP in one group.
 */
import type { ResourceAgent } from '../types.ts';
import type { LbHook } from './deps.ts';

/**
 * An lb agent over the daemon's hook.
 * @example lbAgent(['web', 'api'], { startServices, stopServices })
 */
export function lbAgent(services: readonly string[], hook: LbHook | undefined): ResourceAgent {
  let serving = false;
  const names = [...services];
  const failed = (what: string, e: unknown) => ({
    code: 'generic-error' as const,
    detail: `${what}: ${e instanceof Error ? e.message : String(e)}`,
  });
  return {
    canMonitor: true,
    describe: () => `lb:${names.join(',')}`,
    async start(signal) {
      if (!hook) return { code: 'not-installed', detail: 'the load balancer is not running in this daemon' };
      try {
        await hook.startServices(names, signal);
        serving = true;
        return { code: 'ok' };
      } catch (e) {
        return failed('start', e);
      }
    },
    async stop(signal) {
      if (!hook) return { code: 'ok', detail: 'no load balancer; nothing to stop' };
      try {
        await hook.stopServices(names, signal);
        serving = false;
        return { code: 'ok' };
      } catch (e) {
        return failed('stop', e);
      }
    },
    async monitor() {
      if (!hook) return { code: 'not-running', detail: 'no load balancer' };
      try {
        const up = hook.servicesRunning ? await hook.servicesRunning(names) : serving;
        return up ? { code: 'ok' } : { code: 'not-running' };
      } catch (e) {
        return failed('status', e);
      }
    },
  };
}
