/**
 * conntrackd (conntrack-tools) run and steered by tandem, so that NAT connections survive a director failover: the
 * connection tracking state of the master is replicated to the backup over a dedicated link, in FTFW mode (reliable,
 * acknowledged UDP), as the conntrack-tools manual documents for keepalived (doc/sync/ftfw/conntrackd.conf and
 * doc/sync/primary-backup.sh).
 *
 * One deliberate difference from the manual's setup: `DisableExternalCache On`, i.e. the backup injects the state it
 * receives straight into its kernel table instead of keeping it in user space until `conntrackd -c` commits it. With
 * an external cache, the new master holds the VIPs for a few milliseconds before the commit lands; a packet of a
 * NATed connection that arrives then (a client ACK, the next segment of a download from a real server) makes the
 * kernel track a new connection (loose TCP pickup) whose entry then clashes with the committed one, and the stream
 * breaks. Injected state is in the kernel before the VIPs move. The role changes keep the manual's commands:
 * - becoming master: `-c` (commit the external cache; nothing to commit when injected, harmless), `-f` (flush the
 *   caches), `-R` (resync the internal cache with the kernel table, which now holds the replicated connections) and
 *   `-B` (bulk-send it to the peer);
 * - becoming backup: `-n` (request a resync from the peer). The manual's `-t` is left out on purpose: it schedules a
 *   flush of the kernel table, which with injected state would also drop the replicated connections.
 *
 * The process: `conntrackd -C FILE` in the foreground, restarted if it dies (1 s, then up to 30 s apart), stopped
 * with SIGTERM when tandem stops. A conntrackd that outlived an earlier tandem (SIGKILL) is asked to quit (`-k`)
 * before a new one starts, and a stale lock file is removed, as primary-backup.sh does.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { join } from 'node:path';
import { TandemError } from '../core/errors.ts';
import { runCommand } from './process.ts';

/** What conntrackd replicates, and where (config `lb.conntrack_sync`, resolved for one node). */
export interface ConntrackSyncSettings {
  /** The dedicated link. */
  interface: string;
  /** This node's address on it. */
  address: string;
  /** The peer's address on it. */
  peer: string;
  /** UDP port of the sync messages. */
  port: number;
  /** Addresses whose connections are not replicated (the nodes' own, loopback, the link). */
  ignore: string[];
}

/** Files of one conntrackd, all in one directory. */
export interface ConntrackdPaths {
  dir: string;
  config: string;
  socket: string;
  lock: string;
  log: string;
}

/** The file names conntrackd uses in `dir`. */
export function conntrackdPaths(dir: string): ConntrackdPaths {
  return {
    dir,
    config: join(dir, 'conntrackd.conf'),
    socket: join(dir, 'conntrackd.ctl'),
    lock: join(dir, 'conntrackd.lock'),
    log: join(dir, 'conntrackd.log'),
  };
}

const kw = (addr: string): string => (isIPv6(addr) ? 'IPv6' : 'IPv4');

/**
 * conntrackd.conf for one director, FTFW over UDP unicast to the peer. Pure.
 * @example renderConntrackdConf({ interface: 'eth1', address: '198.18.1.11', peer: '198.18.1.12', port: 3780, ignore: [] }, conntrackdPaths('/run/tandem/ct'))
 */
export function renderConntrackdConf(s: ConntrackSyncSettings, p: ConntrackdPaths): string {
  const ignore = [...new Set(['127.0.0.1', '::1', s.address, s.peer, ...s.ignore])];
  return [
    '# Written by tandem from lb.conntrack_sync; edits are overwritten.',
    'Sync {',
    '\tMode FTFW {',
    '\t\tResendQueueSize 131072',
    '\t\tACKWindowSize 300',
    '\t\tDisableExternalCache On',
    '\t\tStartupResync On',
    '\t}',
    '\tUDP {',
    `\t\t${kw(s.address)}_address ${s.address}`,
    `\t\t${kw(s.peer)}_Destination_Address ${s.peer}`,
    `\t\tPort ${s.port}`,
    `\t\tInterface ${s.interface}`,
    '\t\tSndSocketBuffer 1249280',
    '\t\tRcvSocketBuffer 1249280',
    '\t\tChecksum on',
    '\t}',
    '}',
    'General {',
    '\tHashSize 32768',
    '\tHashLimit 131072',
    `\tLogFile ${p.log}`,
    '\tSyslog off',
    `\tLockFile ${p.lock}`,
    '\tUNIX {',
    `\t\tPath ${p.socket}`,
    '\t\tBacklog 20',
    '\t}',
    '\tNetlinkBufferSize 2097152',
    '\tNetlinkBufferSizeMaxGrowth 8388608',
    '\tFilter From Userspace {',
    '\t\tProtocol Accept {',
    '\t\t\tTCP',
    '\t\t\tUDP',
    '\t\t}',
    '\t\tAddress Ignore {',
    ...ignore.map((a) => `\t\t\t${kw(a)}_address ${a}`),
    '\t\t}',
    '\t}',
    '}',
    '',
  ].join('\n');
}

/** The role conntrackd is steered to. */
export type SyncRole = 'master' | 'backup';

/** The manual's commands for a role (see the module comment for the one left out). */
export const ROLE_COMMANDS: Readonly<Record<SyncRole, readonly string[]>> = {
  master: ['-c', '-f', '-R', '-B'],
  backup: ['-n'],
};

/** Options of {@link Conntrackd}. */
export interface ConntrackdOptions {
  settings: ConntrackSyncSettings;
  /** Directory for the config, control socket, lock and log (created 0700). */
  dir: string;
  /** @default '/usr/sbin/conntrackd' */
  binary?: string;
  log: (level: 'info' | 'warn' | 'error', line: string) => void;
  /** Deadline of one control command. @default 10000 */
  commandTimeoutMs?: number;
}

const NEVER = new AbortController().signal;

/** A managed conntrackd. */
export class Conntrackd {
  readonly #opts: ConntrackdOptions;
  readonly paths: ConntrackdPaths;
  #child: ChildProcess | null = null;
  #stopped = false;
  #restarts = 0;
  #restartTimer: NodeJS.Timeout | null = null;
  #role: SyncRole | null = null;
  #steering: Promise<void> = Promise.resolve();
  #ready: Promise<void> = Promise.resolve();
  #onExit = new Set<() => void>();

  constructor(opts: ConntrackdOptions) {
    this.#opts = opts;
    this.paths = conntrackdPaths(opts.dir);
  }

  get binary(): string {
    return this.#opts.binary ?? '/usr/sbin/conntrackd';
  }

  /** The PID of the running conntrackd, if any. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Writes the config, ends a leftover conntrackd of an earlier run, starts conntrackd and waits for its socket. */
  async start(): Promise<void> {
    if (!existsSync(this.binary))
      throw new TandemError('TND_OS_CONNTRACKD', `${this.binary} not found: install conntrackd (conntrack-tools)`);
    mkdirSync(this.paths.dir, { recursive: true, mode: 0o700 });
    writeFileSync(this.paths.config, renderConntrackdConf(this.#opts.settings, this.paths), { mode: 0o644 });
    if ((await this.#ctl(['-s'])).ok) {
      this.#opts.log('warn', 'conntrackd of an earlier run still answers: asking it to quit (-k)');
      await this.#ctl(['-k']);
      await this.#until(async () => !(await this.#ctl(['-s'])).ok, 5_000);
    }
    rmSync(this.paths.lock, { force: true });
    rmSync(this.paths.socket, { force: true });
    this.#spawn();
    await this.#ready;
  }

  /** Steers conntrackd to `role` (the latest call wins; commands run one role change at a time). */
  setRole(role: SyncRole): Promise<void> {
    if (this.#role === role) return this.#steering;
    this.#role = role;
    this.#steering = this.#steering.then(() => this.#apply(role));
    return this.#steering;
  }

  /** Resolves after the next exit of the process (tests). */
  nextExit(): Promise<void> {
    return new Promise((resolve) => this.#onExit.add(resolve));
  }

  /** Stops conntrackd (SIGTERM, SIGKILL after 3 s) and does not restart it. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 3_000);
    await gone;
    clearTimeout(t);
  }

  async #apply(role: SyncRole): Promise<void> {
    await this.#ready;
    if (this.#stopped) return;
    for (const flag of ROLE_COMMANDS[role]) {
      const r = await this.#ctl([flag]);
      if (!r.ok) this.#opts.log('error', `TND_OS_CONNTRACKD conntrackd ${flag} (${role}) failed: ${r.detail}`);
    }
    this.#opts.log('info', `conntrackd steered to ${role} (${ROLE_COMMANDS[role].join(' ')})`);
  }

  #spawn(): void {
    const child = spawn(this.binary, ['-C', this.paths.config], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.#child = child;
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr = (stderr + d).slice(-2_000);
    });
    child.on('error', (e) => this.#opts.log('error', `TND_OS_CONNTRACKD cannot start ${this.binary}: ${e.message}`));
    const started = Date.now();
    child.on('exit', (code, signal) => {
      for (const f of this.#onExit) f();
      this.#onExit.clear();
      if (this.#stopped) return;
      if (Date.now() - started > 60_000) this.#restarts = 0;
      const waitMs = Math.min(30_000, 1_000 * 2 ** Math.min(5, this.#restarts++));
      this.#opts.log(
        'error',
        `TND_OS_CONNTRACKD conntrackd exited (${signal ?? `code ${code}`})${stderr ? `: ${stderr.trim()}` : ''}; ` +
          `restarting in ${waitMs} ms`,
      );
      this.#restartTimer = setTimeout(() => {
        this.#restartTimer = null;
        if (this.#stopped) return;
        rmSync(this.paths.lock, { force: true });
        this.#spawn();
        // After a restart, put the role back (a backup asks for a resync, a master re-reads its kernel table).
        const role = this.#role;
        if (role) this.#steering = this.#steering.then(() => this.#apply(role));
      }, waitMs);
    });
    this.#ready = this.#until(async () => child.exitCode === null && (await this.#ctl(['-s'])).ok, 10_000).then(
      (ok) => {
        if (!ok && !this.#stopped)
          this.#opts.log('error', `TND_OS_CONNTRACKD conntrackd did not answer on ${this.paths.socket} within 10 s`);
      },
    );
  }

  async #ctl(args: string[]): Promise<{ ok: boolean; detail: string }> {
    const r = await runCommand([this.binary, '-C', this.paths.config, ...args], {
      timeoutMs: this.#opts.commandTimeoutMs ?? 10_000,
      signal: NEVER,
    });
    return {
      ok: r.outcome === 'ok',
      detail: r.outcome === 'failed' ? r.stderr.trim() || `exit ${r.code}` : (r.error ?? r.outcome),
    };
  }

  /** Polls `pred` every 100 ms up to `ms`; resolves with whether it held (the socket appears a moment after start). */
  async #until(pred: () => Promise<boolean>, ms: number): Promise<boolean> {
    const end = Date.now() + ms;
    for (;;) {
      if (await pred()) return true;
      if (Date.now() > end || this.#stopped) return false;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
