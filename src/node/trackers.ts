/**
 * Starts the watchers of what a node's instances track (interfaces, vrrp_scripts, track files) and feeds their
 * states to every instance that tracks them, with keepalived's log lines. What a state does to the priority is the
 * machine's and vrrp/trackers.ts's business; this only wires sources to instances.
 */
import type { Logger } from '../core/log.ts';
import type { NodePlan } from '../plan/node-plan.ts';
import type { VrrpInstance } from '../vrrp/instance.ts';
import { trackFileUp } from '../vrrp/trackers.ts';
import type { InstanceConfig } from '../vrrp/types.ts';
import type { TrackerSources } from './ports.ts';

/** A running instance, as the trackers reach it. */
export interface TrackedInstance {
  cfg: InstanceConfig;
  vi: Pick<VrrpInstance, 'setTracker'>;
}

/**
 * Starts the watchers `plan` asks for; returns the functions that stop them.
 * @example const stops = startTrackers(plan, deps.trackers, () => running.values(), log)
 */
export function startTrackers(
  plan: Pick<NodePlan, 'interfaces' | 'scripts' | 'trackFiles' | 'pings'>,
  sources: TrackerSources,
  instances: () => Iterable<TrackedInstance>,
  log: Logger,
): (() => void)[] {
  const stops: (() => void)[] = [];
  const feed = (id: string, up: boolean): void => {
    for (const r of instances()) if (r.cfg.trackers.some((t) => t.id === id)) r.vi.setTracker(id, up);
  };
  if (plan.interfaces.length)
    stops.push(
      sources.interfaces(plan.interfaces, (ifname, up) => {
        log.log(up ? 'info' : 'warn', `Netlink reports ${ifname} ${up ? 'up' : 'down'}`, { event: 'link', ifname, up });
        feed(`interface:${ifname}`, up);
      }),
    );
  for (const [name, spec] of Object.entries(plan.scripts))
    stops.push(
      sources.script(name, spec, (up) => {
        log.log(up ? 'info' : 'warn', `VRRP_Script(${name}) ${up ? 'succeeded' : 'failed'}`, {
          event: 'script',
          script: name,
          up,
        });
        feed(`script:${name}`, up);
      }),
    );
  for (const [name, spec] of Object.entries(plan.trackFiles))
    stops.push(
      sources.file(name, spec, (value) => {
        log.log('info', `track_file ${name} is ${value}`, { event: 'file', file: name, value });
        const id = `file:${name}`;
        for (const r of instances()) {
          const ref = r.cfg.trackers.find((t) => t.id === id);
          if (ref) r.vi.setTracker(id, trackFileUp(value, ref.weight));
        }
      }),
    );
  for (const [name, spec] of Object.entries(plan.pings ?? {})) {
    if (!sources.ping) {
      log.log('error', `track_ping ${name}: this node cannot send ICMP echo; it counts as up`, {
        event: 'ping',
        ping: name,
      });
      continue;
    }
    stops.push(
      sources.ping(name, spec, (up) => {
        log.log(up ? 'info' : 'warn', `track_ping ${name} ${up ? 'up' : 'down'} (${spec.targets.join(' ')})`, {
          event: 'ping',
          ping: name,
          up,
        });
        feed(`ping:${name}`, up);
      }),
    );
  }
  return stops;
}
