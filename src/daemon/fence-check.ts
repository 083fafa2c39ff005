/**
 * Before the daemon runs an instance that may fence (docs/split-brain.md §4), each fence device's parameters are
 * checked against its agent's `-o metadata`: a parameter the agent does not know, or a required one missing, would
 * fail at the worst moment — during a partition — so the daemon refuses to start instead. An agent without metadata
 * (a plain script) is run as configured, with a warning.
 */
import { checkFenceParams, fenceMetadata } from '../os/fence.ts';
import type { NodePlan } from '../plan/node-plan.ts';
import type { Logger } from './log.ts';

/** The problems of the plan's fence devices, as log-ready lines with TND_FENCE_CONFIG. */
export async function fenceDeviceProblems(plan: NodePlan, log: Logger, signal: AbortSignal): Promise<string[]> {
  const problems: string[] = [];
  for (const [name, d] of Object.entries(plan.fencing ?? {})) {
    const meta = await fenceMetadata(d.agent, signal);
    if (!meta.ok) {
      log.log('warn', `fencing.devices.${name}: ${meta.reason}; its parameters are not checked`);
      continue;
    }
    for (const p of checkFenceParams(d.agent, meta.params, Object.keys(d.params)))
      problems.push(`TND_FENCE_CONFIG fencing.devices.${name}: ${p}`);
  }
  return problems;
}
