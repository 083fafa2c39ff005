/** Nodes of the cluster's shared config wired together in memory (a peer request is the other node's handle()). */
import type { DaemonStatus } from '../api/contract.ts';
import type { ConfigFs } from '../config/load.ts';
import { memoryLogger } from '../core/log.ts';
import { memoryStateFiles } from '../os/state-files.ts';
import type { HostFacts } from './host-check.ts';
import { PeerNode } from './peer-node.ts';
import type { ClusterSettings } from './settings.ts';
import { VersionStore } from './store.ts';

/** One in-memory node. */
export interface MemNode {
  name: string;
  url: string;
  node: PeerNode;
  file: { text: string };
  reloads: number;
  up: boolean;
  files: ReturnType<typeof memoryStateFiles>;
}

/** A YAML config for two nodes d1, d2 at 198.18.0.11/12, with `extra` instances. */
export const twoNodeYaml = (opts: { extra?: string; d2Address?: string; iface?: string } = {}) => `cluster:
  nodes: [{ name: d1, address: 198.18.0.11 }, { name: d2, address: ${opts.d2Address ?? '198.18.0.12'} }]
  listen: { d1: "198.18.0.11:7695", d2: "198.18.0.12:7695" }
  peers: [ "https://198.18.0.11:7695", "https://198.18.0.12:7695" ]
vrrp:
  instances:
    - { name: VI_1, interface: ${opts.iface ?? 'eth0'}, vrid: 51, priority: { d1: 150, d2: 100 }, vips: [198.18.0.100/24] }
${opts.extra ?? ''}`;

/** Builds nodes d1, d2 (…) running `text`; `facts[name]` overrides a node's host facts. */
export function memCluster(names: string[], text: string, facts: Record<string, Partial<HostFacts>> = {}) {
  const nodes = new Map<string, MemNode>();
  const byUrl = new Map<string, MemNode>();
  const emptyFs: ConfigFs = { read: () => undefined, glob: () => [] };
  names.forEach((name, i) => {
    const url = `https://198.18.0.${11 + i}:7695`;
    const files = memoryStateFiles();
    const file = { text };
    const settings: ClusterSettings = {
      node: name,
      listen: { host: `198.18.0.${11 + i}`, port: 7695 },
      peers: names.flatMap((n, j) => (n === name ? [] : [`https://198.18.0.${11 + j}:7695`])),
      stateDir: '/mem',
      clusterDir: '/mem/cluster',
      tls: { ca: '', cert: '', key: '' },
      history: 3,
      nodes: names,
    };
    const m: MemNode = { name, url, file, reloads: 0, up: true, files } as MemNode;
    const hostFacts: HostFacts = {
      interfaces: new Set(['lo', 'eth0']),
      addresses: new Set(['127.0.0.1', `198.18.0.${11 + i}`]),
      executable: () => true,
      path: ['/usr/bin'],
      ...facts[name],
    };
    m.node = new PeerNode({
      settings,
      runningPath: `/etc/tandem/${name}.yaml`,
      store: new VersionStore(files, 3),
      fs: { ...emptyFs, read: (p) => (p === `/etc/tandem/${name}.yaml` ? file.text : undefined) },
      facts: () => hostFacts,
      readRunning: () => file.text,
      writeRunning: (t) => {
        file.text = t;
      },
      reload: () => {
        m.reloads++;
        return { ok: true, summary: { kept: [], restarted: [], started: [], stopped: [] } };
      },
      status: async () => ({ node: name, since: '', config: '', instances: [], interfaces: [] }) as DaemonStatus,
      request: async (u, method, path, body) => {
        const peer = byUrl.get(u);
        if (!peer?.up) return { ok: false, message: `${u}: ECONNREFUSED` };
        const r = await peer.node.handle({ method, path, body: structuredClone(body), peer: name, from: m.url });
        return { ok: true, status: r.status, body: structuredClone(r.body), peer: peer.name };
      },
      caPem: () => '',
      log: memoryLogger(),
      now: () => '2026-12-04T15:00:00.000Z',
    });
    nodes.set(name, m);
    byUrl.set(url, m);
  });
  return nodes;
}
