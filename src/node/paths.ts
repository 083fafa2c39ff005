/**
 * Redundant heartbeat paths (docs/split-brain.md §2): one instance advertising over several interfaces or unicast
 * paths, heard on any. The transports of the paths look like one to the instance driver: an advert goes out on every
 * path (to each path's peers, or its group), and an advert from any path reaches the machine, so the master counts as
 * alive while any path hears it. An advert that arrives on another path comes from the master's address on that path;
 * it is handed on as from the address the same node uses on the first path (learned from that path's adverts, or its
 * cluster address), so the master's identity and the election's address tie-break do not change with the path.
 */
import type { VrrpRx } from '../vrrp/ports.ts';
import type { VrrpPacket } from '../vrrp/types.ts';
import type { InstanceTransportPort } from './ports.ts';

/** One path: its transport and where its adverts go. */
export interface PathTransport {
  interface: string;
  transport: InstanceTransportPort;
  /** Unicast peers; empty = the path's multicast group. */
  peers: readonly string[];
}

/** Counters of one path, for status. */
export interface PathCounters {
  interface: string;
  advertsReceived: number;
  advertsSent: number;
  lastHeardFrom?: string;
}

/** The transports of all paths of an instance, as one. */
export interface MultiPathTransport extends InstanceTransportPort {
  counters(): PathCounters[];
  /** Addresses the master with first-path address `addr` was heard from on other paths. */
  aliases(addr: string): string[];
}

/**
 * Joins the paths. `nodeOf` names the cluster node of an address (so that addresses of one node on two paths can be
 * tied together) and `primaryOf` is that node's first-path address when no advert has taught it yet.
 * @example const t = multiPath([{ interface: 'eth0', transport, peers: [] }, …], nodeOf, primaryOf)
 */
export function multiPath(
  paths: readonly PathTransport[],
  nodeOf: (addr: string) => string | undefined,
  primaryOf: (node: string) => string | undefined,
): MultiPathTransport {
  const counters: PathCounters[] = paths.map((p) => ({ interface: p.interface, advertsReceived: 0, advertsSent: 0 }));
  /** node → the address it advertises from on the first path */
  const firstPath = new Map<string, string>();
  /** first-path address → addresses heard on other paths */
  const aliases = new Map<string, Set<string>>();
  const canonical = (src: string, path: number): string => {
    const node = nodeOf(src);
    if (path === 0) {
      if (node) firstPath.set(node, src);
      return src;
    }
    const primary = node ? (firstPath.get(node) ?? primaryOf(node)) : undefined;
    if (!primary) return src;
    const set = aliases.get(primary) ?? new Set<string>();
    aliases.set(primary, set);
    set.add(src);
    return primary;
  };
  const sendOn = (i: number, packet: VrrpPacket): void => {
    const p = paths[i]!;
    if (p.peers.length === 0) p.transport.send(packet);
    for (const peer of p.peers) p.transport.send(packet, peer);
    counters[i]!.advertsSent++;
  };
  return {
    send: (packet, to) => {
      paths[0]!.transport.send(packet, to);
    },
    sendAdvert: (packet) => {
      for (let i = 0; i < paths.length; i++) sendOn(i, packet);
    },
    onReceive: (handler: (rx: VrrpRx) => void) => {
      const offs = paths.map((p, i) =>
        p.transport.onReceive((rx) => {
          if (rx.ok) {
            counters[i]!.advertsReceived++;
            counters[i]!.lastHeardFrom = rx.src;
            handler({ ...rx, src: canonical(rx.src, i) });
          } else handler(rx);
        }),
      );
      return () => {
        for (const off of offs) off();
      };
    },
    close: () => {
      for (const p of paths) p.transport.close();
    },
    counters: () => counters.map((c) => ({ ...c })),
    aliases: (addr) => [...(aliases.get(addr) ?? [])],
  };
}
