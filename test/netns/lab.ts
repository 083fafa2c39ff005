/**
 * A network lab for integration tests: hosts are network namespaces joined by a bridge that lives in a namespace of
 * its own, so nothing in the host's root namespace (eth0, its addresses, routes, nftables) is touched. Addresses are
 * in 198.18.0.0/24 with no default route, so no packet can leave. Names carry a run-unique id so labs of test files
 * running in parallel never collide; teardown kills what the lab spawned (by PID) and deletes its namespaces, also
 * when a test fails or the process exits.
 */
import { type ChildProcess, execFile, type SpawnOptions, spawn, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** One host of the lab. */
export interface LabHost {
  name: string;
  /** The network namespace (`ip netns exec NS …`). */
  ns: string;
  /** The interface on the lab segment (always `eth0` inside the namespace). */
  ifname: string;
  /** The host's address on the segment. */
  addr: string;
}

/** The result of a command run in a lab host. */
export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Whether this process may build labs (root with `ip netns`). */
export function canBuildLabs(): boolean {
  if (process.getuid?.() !== 0) return false;
  return spawnSync('ip', ['netns', 'list'], { stdio: 'ignore' }).status === 0;
}

let counter = 0;
const live = new Set<Lab>();
process.on('exit', () => {
  for (const lab of live) lab.teardownSync();
});
// An interrupted run (Ctrl-C, a timeout's SIGTERM) must not leave namespaces behind either. Only installed when no one
// else handles the signal, so a daemon that imports this for its own reasons keeps its handlers.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  if (process.listenerCount(sig) === 0)
    process.once(sig, () => {
      for (const lab of live) lab.teardownSync();
      process.exit(130);
    });
}

/** A built lab. */
export class Lab {
  readonly id: string;
  readonly switchNs: string;
  readonly hosts: Record<string, LabHost> = {};
  readonly #children = new Set<ChildProcess>();
  readonly #namespaces: string[] = [];

  constructor(id: string, prefix = 'tnd') {
    this.id = id;
    this.prefix = prefix;
    this.switchNs = `${prefix}-${id}-sw`;
  }

  /** The prefix of every name this lab makes (`tnd`, or a test's own, e.g. `t14`). */
  readonly prefix: string;

  /** Runs a command inside a host's namespace; never throws on a non-zero exit. */
  async exec(host: string, cmd: string, args: readonly string[] = [], timeoutMs = 30_000): Promise<ExecResult> {
    const ns = this.host(host).ns;
    try {
      const r = await execFileP('ip', ['netns', 'exec', ns, cmd, ...args], { timeout: timeoutMs, encoding: 'utf8' });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (e) {
      const err = e as { code?: number | string; stdout?: string; stderr?: string };
      return { code: typeof err.code === 'number' ? err.code : 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
    }
  }

  /** Runs a command in a host and throws with its output when it fails. */
  async run(host: string, cmd: string, args: readonly string[] = []): Promise<string> {
    const r = await this.exec(host, cmd, args);
    if (r.code !== 0) throw new Error(`${host}: ${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
    return r.stdout;
  }

  /** Starts a long-running process in a host; the lab kills it (by PID) at teardown. */
  spawn(host: string, cmd: string, args: readonly string[] = [], opts: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.host(host).ns, cmd, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...opts,
    });
    this.#children.add(child);
    child.on('exit', () => this.#children.delete(child));
    return child;
  }

  /** The host named `name`. */
  host(name: string): LabHost {
    const h = this.hosts[name];
    if (!h) throw new Error(`no host ${name} in lab ${this.id}`);
    return h;
  }

  /** Takes a host's lab link down or up (from the switch side, like pulling the cable). */
  async setLink(host: string, up: boolean): Promise<void> {
    await ip(['-n', this.switchNs, 'link', 'set', `v${host}`, up ? 'up' : 'down']);
  }

  /** Kills spawned processes and deletes every namespace the lab made. Safe to call twice. */
  async teardown(): Promise<void> {
    await this.#killChildren();
    for (const ns of this.#namespaces.splice(0).reverse()) await ip(['netns', 'del', ns]).catch(() => undefined);
    live.delete(this);
  }

  /** The same, synchronously, for process exit. */
  teardownSync(): void {
    for (const c of this.#children) if (c.pid) killTree(c.pid);
    for (const ns of this.#namespaces.splice(0).reverse()) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    live.delete(this);
  }

  async #killChildren(): Promise<void> {
    const waits = [...this.#children].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          const t = setTimeout(() => {
            if (c.pid) killTree(c.pid, 'SIGKILL');
            resolve();
          }, 3_000);
          c.once('exit', () => {
            clearTimeout(t);
            resolve();
          });
          if (c.pid) killTree(c.pid, 'SIGTERM');
        }),
    );
    await Promise.all(waits);
  }

  /** @internal */
  addNamespace(ns: string): void {
    this.#namespaces.push(ns);
  }
}

/** Kills a process and its descendants (ip netns exec → the real command), by PID. */
function killTree(pid: number, signal: NodeJS.Signals = 'SIGTERM'): void {
  const r = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' });
  for (const child of (r.stdout ?? '').split('\n').filter(Boolean)) killTree(Number(child), signal);
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

async function ip(args: readonly string[]): Promise<void> {
  await execFileP('ip', args, { timeout: 10_000 });
}

/**
 * Builds a lab: one namespace per host, each with `eth0` on a shared bridge, addresses 198.18.0.(11, 12, …)/24 in
 * the order given (or as `addrs` says), loopback up, no default route.
 * @example const lab = await createLab(['d1', 'd2', 'client']); try { … } finally { await lab.teardown(); }
 */
export async function createLab(
  hosts: readonly string[],
  addrs: Record<string, string> = {},
  opts: { prefix?: string } = {},
): Promise<Lab> {
  // pid and counter in base 36 keep names short: interface names are limited to 15 characters.
  const id = `${process.pid.toString(36)}${(counter++).toString(36)}`;
  const lab = new Lab(id, opts.prefix);
  live.add(lab);
  try {
    await ip(['netns', 'add', lab.switchNs]);
    lab.addNamespace(lab.switchNs);
    await ip(['-n', lab.switchNs, 'link', 'add', 'br0', 'type', 'bridge']);
    await ip(['-n', lab.switchNs, 'link', 'set', 'br0', 'up']);
    for (const [i, name] of hosts.entries()) {
      const ns = `${lab.prefix}-${id}-${name}`;
      await ip(['netns', 'add', ns]);
      lab.addNamespace(ns);
      // Both veth ends are created inside lab namespaces: the root namespace never sees them.
      await ip(['-n', lab.switchNs, 'link', 'add', `v${name}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      await ip(['-n', lab.switchNs, 'link', 'set', `v${name}`, 'master', 'br0', 'up']);
      const addr = addrs[name] ?? `198.18.0.${11 + i}`;
      await ip(['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0']);
      await ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
      await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
      lab.hosts[name] = { name, ns, ifname: 'eth0', addr };
    }
    return lab;
  } catch (e) {
    await lab.teardown();
    throw e;
  }
}
