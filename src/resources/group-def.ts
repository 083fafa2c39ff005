/**
 * A resource group as the runner and the agents take it: resolved from the config by plan/groups.ts (ids, OCF
 * instance names, timeouts in ms), so that resources/ knows nothing of the config's shape (it imports only core/).
 */
import type { Ms } from '../core/time.ts';
import type { FsSpec } from './agents/fs.ts';
import type { LsbSpec } from './agents/lsb.ts';
import type { OcfSpec } from './agents/ocf.ts';
import type { ScriptSpec } from './agents/script.ts';
import type { VipSpecAddress } from './agents/vip.ts';

/** Which agent runs a resource, with its parameters. */
export type AgentSpec =
  | { type: 'vip'; address: VipSpecAddress; interface?: string }
  | { type: 'service'; unit: string }
  | ({ type: 'lsb' } & LsbSpec)
  | { type: 'ocf'; ocf: OcfSpec }
  | ({ type: 'script' } & ScriptSpec)
  | { type: 'lb'; services: readonly string[] }
  | { type: 'fs'; fs: FsSpec; instance: string; monitorIntervalMs: Ms };

/** One resource of a group. */
export interface ResourceDef {
  /** Unique in the group: the name in logs and status. */
  id: string;
  agent: AgentSpec;
  /** Run the monitor this often; 0 = never. */
  monitorIntervalMs: Ms;
  monitorTimeoutMs: Ms;
  startTimeoutMs: Ms;
  stopTimeoutMs: Ms;
}

/** A resource group: its resources in start order and its failure policy. */
export interface GroupDef {
  name: string;
  resources: readonly ResourceDef[];
  /** Monitor failures restarted in place before the group gives up ownership. */
  migrationThreshold: number;
  /** Failures older than this are forgotten; 0 = never. */
  failureTimeoutMs: Ms;
  /** Neither start nor stop anything. */
  maintenance: boolean;
}
