/**
 * Builds agents from resolved resource definitions (resources/group-def.ts; plan/groups.ts makes them from the config),
 * and the runner of a whole group over the injected host adapters.
 */
import type { AgentSpec, GroupDef } from '../group-def.ts';
import { GroupRunner, type GroupRunnerOptions, type RunnerResource } from '../runner.ts';
import type { ResourceAgent } from '../types.ts';
import type { AgentContext } from './deps.ts';
import { fsAgent } from './fs.ts';
import { lbAgent } from './lb.ts';
import { lsbAgent } from './lsb.ts';
import { ocfAgent } from './ocf.ts';
import { scriptAgent } from './script.ts';
import { serviceAgent } from './service.ts';
import { vipAgent } from './vip.ts';

export type { AgentContext, AgentDeps, CommandRunner, LbHook } from './deps.ts';

/**
 * The agent for one resource.
 * @example createAgent({ type: 'service', unit: 'nginx' }, { ...deps, group: 'web' })
 */
export function createAgent(spec: AgentSpec, ctx: AgentContext): ResourceAgent {
  switch (spec.type) {
    case 'vip':
      return vipAgent({ address: spec.address, ...(spec.interface ? { interface: spec.interface } : {}) }, ctx);
    case 'service':
      return serviceAgent(spec.unit, ctx);
    case 'lsb':
      return lsbAgent({ script: spec.script, ...(spec.args ? { args: spec.args } : {}) }, ctx);
    case 'ocf':
      return ocfAgent(spec.ocf, ctx);
    case 'script':
      return scriptAgent(
        { start: spec.start, stop: spec.stop, ...(spec.monitor ? { monitor: spec.monitor } : {}) },
        ctx,
      );
    case 'lb':
      return lbAgent(spec.services, ctx.lb);
    case 'fs':
      return fsAgent(spec.fs, spec.instance, ctx, spec.monitorIntervalMs);
  }
}

/**
 * The runner's resources for a group: agents, ids, timeouts and monitor intervals.
 * @example new GroupRunner({ name: g.name, resources: groupResources(g, ctx), … })
 */
export function groupResources(group: GroupDef, ctx: Omit<AgentContext, 'group'>): RunnerResource[] {
  return group.resources.map((r) => ({
    id: r.id,
    agent: createAgent(r.agent, { ...ctx, group: group.name }),
    monitorIntervalMs: r.monitorIntervalMs,
    monitorTimeoutMs: r.monitorTimeoutMs,
    startTimeoutMs: r.startTimeoutMs,
    stopTimeoutMs: r.stopTimeoutMs,
  }));
}

/**
 * A runner for a group, with its agents built over `ctx`.
 * @example createGroupRunner(def, { ...realAgentDeps(), defaultInterface: 'eth0' }, { clock, owner, log }).start()
 */
export function createGroupRunner(
  group: GroupDef,
  ctx: Omit<AgentContext, 'group'>,
  opts: Omit<GroupRunnerOptions, 'name' | 'resources' | 'migrationThreshold' | 'failureTimeoutMs' | 'maintenance'>,
): GroupRunner {
  // One environment object per group: the runner puts the fencing token of each ownership into it.
  const env = ctx.env ? { ...ctx.env } : undefined;
  return new GroupRunner({
    ...opts,
    ...(env ? { env } : {}),
    name: group.name,
    resources: groupResources(group, env ? { ...ctx, env } : ctx),
    migrationThreshold: group.migrationThreshold,
    failureTimeoutMs: group.failureTimeoutMs,
    maintenance: group.maintenance,
  });
}
