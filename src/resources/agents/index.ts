/**
 * Builds agents from the config's resource specs (src/config/schema-groups.ts), and the runner's resource list for a
 * whole group: ids, timeouts and monitor intervals from the spec, agents over the injected host adapters.
 */
import type { GroupSpec, ResourceSpec } from '../../config/schema-groups.ts';
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

/** A resource's name when its spec has no `id`: its type's main parameter. */
function defaultId(spec: ResourceSpec): string {
  switch (spec.type) {
    case 'vip':
      return typeof spec.address === 'string' ? spec.address : spec.address.address;
    case 'service':
      return spec.unit;
    case 'lsb':
      return spec.script.split('/').pop() || spec.script;
    case 'ocf':
      return spec.agent.split(':')[1] ?? spec.agent;
    case 'script':
      return 'script';
    case 'lb':
      return spec.services.join('+');
    case 'fs':
      return spec.directory;
  }
}

/**
 * The ids of a group's resources: each spec's `id`, else its main parameter; a default shared by two resources gets
 * its position appended (`Dummy-2`), so every id is unique in the group.
 * @example resourceIds([dummySpec, dummySpec]) // ['Dummy-1', 'Dummy-2']
 */
export function resourceIds(specs: readonly ResourceSpec[]): string[] {
  const defaults = specs.map(defaultId);
  return specs.map((s, i) => {
    if (s.id !== undefined) return s.id;
    const d = defaults[i]!;
    const clash =
      defaults.some((o, j) => j !== i && o === d && specs[j]!.id === undefined) || specs.some((o) => o.id === d);
    return clash ? `${d}-${i + 1}` : d;
  });
}

/** OCF_RESOURCE_INSTANCE for a resource: group and id, in characters safe in a file name. */
export function ocfInstance(group: string, id: string): string {
  return `${group}-${id}`.replace(/[^A-Za-z0-9_.:-]/g, '_');
}

/**
 * The agent for one resource.
 * @example createAgent({ type: 'ocf', agent: 'heartbeat:Dummy', params: {}, … }, { ...deps, group: 'web' }, 'Dummy')
 */
export function createAgent(spec: ResourceSpec, ctx: AgentContext, id: string): ResourceAgent {
  switch (spec.type) {
    case 'vip':
      return vipAgent({ address: spec.address, ...(spec.interface ? { interface: spec.interface } : {}) }, ctx);
    case 'service':
      return serviceAgent(spec.unit, ctx);
    case 'lsb':
      return lsbAgent({ script: spec.script, args: spec.args }, ctx);
    case 'ocf': {
      const [provider = '', type = ''] = spec.agent.split(':');
      return ocfAgent(
        {
          provider,
          type,
          params: spec.params,
          instance: ocfInstance(ctx.group, id),
          monitorIntervalMs: spec.monitor_interval,
        },
        ctx,
      );
    }
    case 'script':
      return scriptAgent(
        { start: spec.start, stop: spec.stop, ...(spec.monitor ? { monitor: spec.monitor } : {}) },
        ctx,
      );
    case 'lb':
      return lbAgent(spec.services, ctx.lb);
    case 'fs':
      return fsAgent(
        {
          device: spec.device,
          directory: spec.directory,
          fstype: spec.fstype,
          ...(spec.options ? { options: spec.options } : {}),
        },
        ocfInstance(ctx.group, id),
        ctx,
        spec.monitor_interval,
      );
  }
}

/**
 * The runner's resources for a group spec: agents, ids, timeouts and monitor intervals.
 * @example new GroupRunner({ name: g.name, resources: groupResources(g, ctx), … })
 */
export function groupResources(group: GroupSpec, ctx: Omit<AgentContext, 'group'>): RunnerResource[] {
  const ids = resourceIds(group.resources);
  return group.resources.map((spec, i) => ({
    id: ids[i]!,
    agent: createAgent(spec, { ...ctx, group: group.name }, ids[i]!),
    monitorIntervalMs: spec.monitor_interval,
    monitorTimeoutMs: spec.monitor_timeout,
    startTimeoutMs: spec.start_timeout,
    stopTimeoutMs: spec.stop_timeout,
  }));
}

/**
 * A runner for a group spec, with its agents built over `ctx`.
 * @example createGroupRunner(spec, { ...realAgentDeps(), defaultInterface: 'eth0' }, { clock, owner, log }).start()
 */
export function createGroupRunner(
  group: GroupSpec,
  ctx: Omit<AgentContext, 'group'>,
  opts: Omit<GroupRunnerOptions, 'name' | 'resources' | 'migrationThreshold' | 'failureTimeoutMs' | 'maintenance'>,
): GroupRunner {
  return new GroupRunner({
    ...opts,
    name: group.name,
    resources: groupResources(group, ctx),
    migrationThreshold: group.migration_threshold,
    failureTimeoutMs: group.failure_timeout,
    maintenance: group.maintenance,
  });
}
