/**
 * A real etcd cluster for the tests: Debian's `etcd` (etcd-server 3.4) members, each in a lab host (its own network
 * namespace) or on 127.0.0.1 with its own ports, data directories under the run's temp directory. Members can be
 * SIGKILLed and restarted (same data dir: they rejoin). The lab kills what it spawned at teardown; `stop()` does so for
 * loopback clusters.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab } from './lab.ts';
import { eventually, Output } from './tandem-lab.ts';

/** Debian's etcd server binary. */
export const ETCD = '/usr/bin/etcd';

/** Why etcd tests cannot run here, or null. */
export function etcdUnavailable(): string | null {
  return existsSync(ETCD) ? null : `no ${ETCD} (apt-get install etcd-server)`;
}

/** One member: where it listens and its process. */
export interface EtcdMember {
  name: string;
  /** The lab host it runs in, or null on loopback. */
  host: string | null;
  addr: string;
  clientPort: number;
  peerPort: number;
  child: ChildProcess | null;
  out: Output | null;
}

/** A running etcd cluster. */
export class EtcdCluster {
  readonly members: EtcdMember[];
  readonly #lab: Lab | null;
  readonly #dir: string;
  readonly #token: string;

  constructor(lab: Lab | null, dir: string, members: EtcdMember[], token: string) {
    this.#lab = lab;
    this.#dir = dir;
    this.members = members;
    this.#token = token;
  }

  /** Client URLs of every member. */
  get endpoints(): string[] {
    return this.members.map((m) => `http://${m.addr}:${m.clientPort}`);
  }

  member(name: string): EtcdMember {
    const m = this.members.find((x) => x.name === name);
    if (!m) throw new Error(`no etcd member ${name}`);
    return m;
  }

  /** Starts (or restarts, with its data dir) one member. */
  start(name: string): void {
    const m = this.member(name);
    if (m.child && m.child.exitCode === null && m.child.signalCode === null) return;
    const peers = this.members.map((x) => `${x.name}=http://${x.addr}:${x.peerPort}`).join(',');
    const data = join(this.#dir, `t16-etcd-${m.name}`);
    mkdirSync(data, { recursive: true, mode: 0o700 });
    const args = [
      '--name',
      m.name,
      '--data-dir',
      data,
      '--listen-client-urls',
      `http://${m.addr}:${m.clientPort}`,
      '--advertise-client-urls',
      `http://${m.addr}:${m.clientPort}`,
      '--listen-peer-urls',
      `http://${m.addr}:${m.peerPort}`,
      '--initial-advertise-peer-urls',
      `http://${m.addr}:${m.peerPort}`,
      '--initial-cluster',
      peers,
      '--initial-cluster-token',
      this.#token,
      '--initial-cluster-state',
      'new',
      // A lab's round trip is well under a millisecond: a fast raft keeps a member loss short.
      '--heartbeat-interval',
      '100',
      '--election-timeout',
      '500',
      '--log-level',
      'warn',
      '--logger',
      'zap',
    ];
    const child = this.#lab
      ? this.#lab.spawn(m.host!, ETCD, args)
      : spawn(ETCD, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    m.child = child;
    m.out = new Output(child);
  }

  /** SIGKILL of one member (by its PID; `ip netns exec` execs etcd, so the child's PID is etcd's). */
  async kill(name: string): Promise<void> {
    const m = this.member(name);
    const c = m.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGKILL');
    await gone;
    m.child = null;
  }

  /** Waits until `n` members (default all that run) say they are healthy (a quorum is there). */
  async healthy(timeoutMs = 30_000): Promise<void> {
    const running = this.members.filter((m) => m.child && m.child.exitCode === null);
    await eventually(
      'etcd healthy',
      async () => {
        const ok = await Promise.all(running.map((m) => this.#health(m)));
        return ok.every(Boolean);
      },
      (ok) => ok,
      timeoutMs,
    ).catch((e: unknown) => {
      throw new Error(`${e}\n${running.map((m) => `${m.name}: ${m.out?.text().slice(-1500)}`).join('\n')}`);
    });
  }

  /** Stops every member (loopback clusters; a lab's are killed at teardown). */
  async stop(): Promise<void> {
    for (const m of this.members) await this.kill(m.name);
  }

  async #health(m: EtcdMember): Promise<boolean> {
    const url = `http://${m.addr}:${m.clientPort}/health`;
    if (this.#lab) {
      const r = await this.#lab.exec(m.host!, 'curl', ['-s', '-m', '1', url], 3_000);
      return r.code === 0 && /"health":"true"/.test(r.stdout);
    }
    const r = await fetch(url, { signal: AbortSignal.timeout(1_000) }).catch(() => null);
    return !!r && /"health":"true"/.test(await r.text());
  }
}

/** Starts an etcd member in each of `hosts` of `lab` (port 2379/2380) and waits for the cluster to be healthy. */
export async function startLabEtcd(lab: Lab, hosts: readonly string[], dir: string): Promise<EtcdCluster> {
  const members = hosts.map(
    (h): EtcdMember => ({
      name: h,
      host: h,
      addr: lab.host(h).addr,
      clientPort: 2379,
      peerPort: 2380,
      child: null,
      out: null,
    }),
  );
  const c = new EtcdCluster(lab, dir, members, `t16-${lab.id}`);
  for (const m of members) c.start(m.name);
  await c.healthy();
  return c;
}

/**
 * Starts `n` members on 127.0.0.1 (ports from a base derived from the pid, so parallel runs do not collide) and waits
 * for the cluster to be healthy. The caller stops it.
 */
export async function startLoopbackEtcd(n: number, dir: string): Promise<EtcdCluster> {
  const base = 20_000 + ((process.pid * 7) % 20_000);
  const members = Array.from(
    { length: n },
    (_, i): EtcdMember => ({
      name: `t16e${i + 1}`,
      host: null,
      addr: '127.0.0.1',
      clientPort: base + 2 * i,
      peerPort: base + 2 * i + 1,
      child: null,
      out: null,
    }),
  );
  const c = new EtcdCluster(null, dir, members, `t16-${process.pid}`);
  for (const m of members) c.start(m.name);
  try {
    await c.healthy();
  } catch (e) {
    await c.stop();
    throw e;
  }
  return c;
}
