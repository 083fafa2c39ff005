/**
 * The cluster's shared config inside `tandem run`: builds this node's PeerNode from the running config (cluster.listen,
 * peers, certificates, state dir), serves the peer listener over mutual TLS, catches up at start and every 10 s, and
 * answers the control socket's /v1/config… and /v1/cluster routes. Without `cluster.listen` the node keeps versions
 * of its own file (apply, history, rollback on one node) and serves no listener.
 */
import { readFileSync } from 'node:fs';
import type { DaemonStatus, ReloadSummary } from '../api/contract.ts';
import type { Diagnostic } from '../config/diagnostics.ts';
import { type ConfigFs, loadConfig } from '../config/load.ts';
import type { Logger } from '../core/log.ts';
import { readHostFacts } from '../os/host-facts.ts';
import { listenPeerHttps, type PeerTls, peerRequest } from '../os/peer-https.ts';
import { writeSecretFile } from '../os/secret-file.ts';
import { diskStateFiles } from '../os/state-files.ts';
import { answerJoin } from './identity.ts';
import { PeerNode, SYNC_INTERVAL_MS } from './peer-node.ts';
import { type ClusterSettings, clusterSettings } from './settings.ts';
import { VersionStore } from './store.ts';

/** What the daemon hands the cluster part. */
export interface ClusterPartOptions {
  configFile: string;
  node: string;
  configId?: string;
  fs: ConfigFs;
  log: Logger;
  reload(): { ok: true; summary: ReloadSummary } | { ok: false; diagnostics: Diagnostic[] };
  status(): Promise<DaemonStatus>;
  /** @default SYNC_INTERVAL_MS; TANDEM_CLUSTER_SYNC_MS overrides it (tests) */
  syncIntervalMs?: number;
}

/** The running part. */
export interface ClusterPart {
  node: PeerNode;
  settings: ClusterSettings;
  start(): Promise<void>;
  stop(): Promise<void>;
}

const readTls = (s: ClusterSettings): PeerTls | { error: string } => {
  try {
    return {
      ca: readFileSync(s.tls.ca, 'utf8'),
      cert: readFileSync(s.tls.cert, 'utf8'),
      key: readFileSync(s.tls.key, 'utf8'),
    };
  } catch (e) {
    return {
      error: `${(e as Error).message}; run tandem cluster init (first node) or tandem cluster join (the others)`,
    };
  }
};

/** Builds the cluster part for the daemon; nothing listens until start(). */
export function clusterPart(o: ClusterPartOptions): ClusterPart {
  const loaded = loadConfig(o.configFile, o.fs, undefined, o.configId === undefined ? {} : { configId: o.configId });
  const settings = loaded.config
    ? clusterSettings(loaded.config, o.node)
    : clusterSettings({ cluster: { nodes: [], name: 'tandem' } } as never, o.node);
  const tls = settings.listen ? readTls(settings) : undefined;
  const cert = tls && !('error' in tls) ? tls : undefined;
  const env = Number(process.env.TANDEM_CLUSTER_SYNC_MS);
  const node = new PeerNode({
    settings: cert ? settings : { ...settings, peers: [] },
    runningPath: o.configFile,
    ...(o.configId !== undefined ? { configId: o.configId } : {}),
    store: new VersionStore(diskStateFiles(`${settings.clusterDir}/config`), settings.history),
    fs: o.fs,
    facts: readHostFacts,
    readRunning: () => o.fs.read(o.configFile),
    writeRunning: (text) => writeSecretFile(o.configFile, text),
    reload: o.reload,
    status: o.status,
    request: (url, method, path, body, timeoutMs) =>
      cert
        ? peerRequest(url, cert, method, path, body, timeoutMs)
        : Promise.resolve({ ok: false, message: 'no certificates' }),
    join: (body) => answerJoin(settings.clusterDir, body, Date.now()),
    caPem: () => cert?.ca ?? '',
    log: o.log,
    now: () => new Date().toISOString(),
  });
  let listener: { close(): Promise<void> } | undefined;
  return {
    node,
    settings,
    async start() {
      if (!settings.listen) return;
      if (!cert) {
        o.log.log('error', `TND_CLUSTER_TLS the peer listener is not started: ${(tls as { error: string }).error}`);
        return;
      }
      try {
        listener = await listenPeerHttps(settings.listen.host, settings.listen.port, cert, (req) => node.handle(req));
      } catch (e) {
        o.log.log('error', `TND_CLUSTER_PEER the peer listener cannot listen on ${node.url}: ${(e as Error).message}`);
        return;
      }
      o.log.log(
        'info',
        `cluster config: peer listener on ${node.url} (mutual TLS), peers ${settings.peers.join(' ') || '-'}`,
      );
      node.start(o.syncIntervalMs ?? (env > 0 ? env : SYNC_INTERVAL_MS));
    },
    async stop() {
      node.stop();
      await listener?.close();
    },
  };
}
