/**
 * A mounted filesystem, through the OCF Filesystem agent of resource-agents (ocf:heartbeat:Filesystem), which knows
 * the many ways a mount or umount goes wrong (busy mount points, NFS, fsck, killing users of the mount on stop).
 */

import type { Ms } from '../../core/time.ts';
import type { AgentDeps } from './deps.ts';
import type { OcfAgent } from './ocf.ts';
import { ocfAgent } from './ocf.ts';

/** What to mount. */
export interface FsSpec {
  device: string;
  directory: string;
  fstype: string;
  options?: string;
}

/**
 * An fs agent.
 * @example fsAgent({ device: '/dev/sdb1', directory: '/data', fstype: 'ext4' }, 'web-data', deps)
 */
export function fsAgent(spec: FsSpec, instance: string, deps: AgentDeps, monitorIntervalMs: Ms = 0): OcfAgent {
  return ocfAgent(
    {
      provider: 'heartbeat',
      type: 'Filesystem',
      instance,
      monitorIntervalMs,
      label: `fs:${spec.device} on ${spec.directory} (ocf:heartbeat:Filesystem)`,
      params: {
        device: spec.device,
        directory: spec.directory,
        fstype: spec.fstype,
        ...(spec.options ? { options: spec.options } : {}),
      },
    },
    deps,
  );
}
