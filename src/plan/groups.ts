/**
 * Resource groups from the config (groups[]) to what resources/ runs (GroupDef): resource ids, OCF instance names and
 * timeouts resolved once, here, so the runner and the agents never see the config's shape. Pure.
 */
import type { GroupSpec, ResourceSpec } from '../config/schema-groups.ts';
import type { AgentSpec, GroupDef, ResourceDef } from '../resources/group-def.ts';

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

function agentSpec(spec: ResourceSpec, group: string, id: string): AgentSpec {
  switch (spec.type) {
    case 'vip':
      return { type: 'vip', address: spec.address, ...(spec.interface ? { interface: spec.interface } : {}) };
    case 'service':
      return { type: 'service', unit: spec.unit };
    case 'lsb':
      return { type: 'lsb', script: spec.script, args: spec.args };
    case 'ocf': {
      const [provider = '', type = ''] = spec.agent.split(':');
      const ocf = {
        provider,
        type,
        params: spec.params,
        instance: ocfInstance(group, id),
        monitorIntervalMs: spec.monitor_interval,
      };
      return { type: 'ocf', ocf };
    }
    case 'script':
      return { type: 'script', start: spec.start, stop: spec.stop, ...(spec.monitor ? { monitor: spec.monitor } : {}) };
    case 'lb':
      return { type: 'lb', services: spec.services };
    case 'fs':
      return {
        type: 'fs',
        fs: {
          device: spec.device,
          directory: spec.directory,
          fstype: spec.fstype,
          ...(spec.options ? { options: spec.options } : {}),
        },
        instance: ocfInstance(group, id),
        monitorIntervalMs: spec.monitor_interval,
      };
  }
}

/**
 * The runnable definition of a configured group.
 * @example createGroupRunner(groupDef(cfg.groups[0]), deps, { clock, owner })
 */
export function groupDef(spec: GroupSpec): GroupDef {
  const ids = resourceIds(spec.resources);
  const resources: ResourceDef[] = spec.resources.map((r, i) => ({
    id: ids[i]!,
    agent: agentSpec(r, spec.name, ids[i]!),
    monitorIntervalMs: r.monitor_interval,
    monitorTimeoutMs: r.monitor_timeout,
    startTimeoutMs: r.start_timeout,
    stopTimeoutMs: r.stop_timeout,
  }));
  return {
    name: spec.name,
    resources,
    migrationThreshold: spec.migration_threshold,
    failureTimeoutMs: spec.failure_timeout,
    maintenance: spec.maintenance,
  };
}
