/** `tandem cluster init|join|token`: the cluster CA and this node's certificate (cluster/identity.ts). */
import { join } from 'node:path';
import { clusterInit, clusterJoin, newJoinToken } from '../cluster/identity.ts';
import { DEFAULT_STATE_DIR } from '../cluster/settings.ts';
import { TandemError } from '../core/errors.ts';
import type { CliIo } from './io.ts';

const dirOf = (stateDir?: string) => join(stateDir ?? DEFAULT_STATE_DIR, 'cluster');

async function guarded(io: CliIo, what: string, f: () => Promise<void>): Promise<number> {
  try {
    await f();
    return 0;
  } catch (e) {
    const code = e instanceof TandemError ? e.code : 'TND_CLUSTER_TLS';
    io.err(`tandem cluster ${what}: ${code} ${(e as Error).message}`);
    return 1;
  }
}

/** `tandem cluster init --name NODE`. */
export function runClusterInit(opts: { name: string; stateDir?: string; cluster: string }, io: CliIo): Promise<number> {
  return guarded(io, 'init', async () => {
    const r = await clusterInit(dirOf(opts.stateDir), opts.name, opts.cluster, Date.now());
    io.err(`cluster CA and the certificate of ${opts.name} in ${r.dir} (ca.key and node.key mode 0600)`);
    io.err(`CA fingerprint sha256:${r.fingerprint}`);
    io.err("join another node (one-time token, valid 24 h; start this node's daemon with cluster.listen first):");
    io.err(`  tandem cluster join https://THIS-NODE:PORT --token ${r.token} --name NODE`);
    io.out(r.token);
  });
}

/** `tandem cluster token`: another one-time join token. */
export function runClusterToken(opts: { stateDir?: string }, io: CliIo): Promise<number> {
  return guarded(io, 'token', async () => {
    io.out(newJoinToken(dirOf(opts.stateDir), Date.now()));
  });
}

/** `tandem cluster join URL --token T --name NODE`. */
export function runClusterJoin(
  url: string,
  opts: { token: string; name: string; stateDir?: string },
  io: CliIo,
): Promise<number> {
  return guarded(io, 'join', async () => {
    const r = await clusterJoin(dirOf(opts.stateDir), url, opts.token, opts.name);
    io.err(
      `joined: ${opts.name}'s certificate signed by the cluster CA sha256:${r.fingerprint}, in ${dirOf(opts.stateDir)}`,
    );
  });
}
