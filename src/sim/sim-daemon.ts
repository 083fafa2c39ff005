/**
 * Daemon dependencies over the simulator: the real Daemon runs on a SimNetwork, FakeHosts and a SimClock, with
 * trackers and notify scripts driven by the test. Lets daemon behaviour (reload, standby, status) be tested under
 * simulated time without root.
 */

import { memoryLogger } from '../daemon/log.ts';
import type { DaemonDeps, InstanceTransportPort, NotifyPort, TrackerSources } from '../node/node.ts';
import type { VrrpRx } from '../vrrp/ports.ts';
import type { AddressFamily, InstanceConfig, VrrpPacket } from '../vrrp/types.ts';
import type { FakeHosts } from './fake-os.ts';
import type { SimClock } from './sim-clock.ts';
import type { SimNetwork } from './sim-network.ts';

/** What travels on the simulated segment between daemons. */
export interface DaemonFrame {
  family: AddressFamily;
  src: string;
  packet: VrrpPacket;
}

/** Handles a test holds to drive one node's trackers and see its notify calls. */
export interface SimDaemonControls {
  setLink(ifname: string, up: boolean): void;
  setScript(name: string, up: boolean): void;
  setFile(name: string, value: number): void;
  notifications: { kind: string; name: string; state: string; priority: number }[];
}

/** Builds DaemonDeps for node `node` at `addr` on a simulated segment. */
export function simDaemonDeps(opts: {
  node: string;
  addr: string;
  clock: SimClock;
  network: SimNetwork<DaemonFrame>;
  hosts: FakeHosts;
}): { deps: DaemonDeps & { log: ReturnType<typeof memoryLogger> }; controls: SimDaemonControls } {
  const handlers = new Map<string, (rx: VrrpRx) => void>();
  let endpoint: ReturnType<SimNetwork<DaemonFrame>['attach']> | undefined;
  const ensureEndpoint = () => {
    endpoint ??= opts.network.attach(opts.node, opts.addr, (d) => {
      handlers.get(`${d.payload.family}/${d.payload.packet.vrid}`)?.({
        ok: true,
        packet: d.payload.packet,
        src: d.payload.src,
      });
    });
    return endpoint;
  };
  const transport = (cfg: InstanceConfig, src: string): InstanceTransportPort => {
    const ep = ensureEndpoint();
    const key = `${cfg.family}/${cfg.vrid}`;
    return {
      send: (packet, to) => ep.send({ family: cfg.family, src, packet }, to),
      onReceive(h) {
        handlers.set(key, h);
        return () => handlers.delete(key);
      },
      close: () => handlers.delete(key),
    };
  };
  const listeners = {
    link: new Set<(ifname: string, up: boolean) => void>(),
    script: new Map<string, (up: boolean) => void>(),
    file: new Map<string, (value: number) => void>(),
  };
  const trackers: TrackerSources = {
    interfaces(_names, onChange) {
      listeners.link.add(onChange);
      return () => listeners.link.delete(onChange);
    },
    script(name, _spec, onChange) {
      listeners.script.set(name, onChange);
      return () => listeners.script.delete(name);
    },
    file(name, _spec, onChange) {
      listeners.file.set(name, onChange);
      return () => listeners.file.delete(name);
    },
  };
  const notifications: SimDaemonControls['notifications'] = [];
  const notify: NotifyPort = {
    notify: (kind, name, _spec, state, priority) => notifications.push({ kind, name, state, priority }),
  };
  const deps = {
    clock: opts.clock,
    log: memoryLogger(),
    transport,
    vips: () => opts.hosts.vips(opts.node),
    garp: () => opts.hosts.garp(opts.node),
    primaryAddress: () => opts.addr,
    trackers,
    notify,
    wallNow: () => 1_800_000_000_000 + opts.clock.now(),
  };
  return {
    deps,
    controls: {
      setLink: (ifname, up) => {
        for (const l of listeners.link) l(ifname, up);
      },
      setScript: (name, up) => listeners.script.get(name)?.(up),
      setFile: (name, value) => listeners.file.get(name)?.(value),
      notifications,
    },
  };
}
