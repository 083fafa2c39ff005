/**
 * A managed HAProxy (Debian's, 2.6 here) in master-worker mode: spawned with `-W -S master.sock` and a config file
 * tandem writes, steered over two UNIX sockets — the master CLI (`reload`, `show proc`) and the worker's runtime API
 * (`set server …`, `show servers state`, `show stat`). A config is checked with `haproxy -c -f` before it replaces
 * the running one; a reload is the master re-executing itself and handing the listening sockets to the new worker
 * (`-x sockpair@`, hitless), and it is done when the runtime API answers from a new worker PID. A leftover master of
 * an earlier run (its pid file in our directory, its command line ours) is ended by that PID, never by name.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { TandemError } from '../core/errors.ts';
import { runCommand } from './process.ts';

/** The files of one managed HAProxy, all in one directory (0700). */
export interface HaproxyFiles {
  dir: string;
  config: string;
  stateFile: string;
  apiSocket: string;
  masterSocket: string;
  pidFile: string;
}

export function haproxyFiles(dir: string): HaproxyFiles {
  return {
    dir,
    config: join(dir, 'haproxy.cfg'),
    stateFile: join(dir, 'servers.state'),
    apiSocket: join(dir, 'api.sock'),
    masterSocket: join(dir, 'master.sock'),
    pidFile: join(dir, 'haproxy.pid'),
  };
}

const NEVER = new AbortController().signal;

/**
 * One command on a HAProxy CLI socket (runtime API or master CLI): writes it, half-closes, reads until HAProxy closes.
 * Bounded by `timeoutMs` and `maxBytes`.
 */
export function haproxySocketCommand(
  path: string,
  command: string,
  opts: { timeoutMs?: number; maxBytes?: number } = {},
): Promise<string> {
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const maxBytes = opts.maxBytes ?? 4 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    const chunks: Buffer[] = [];
    let size = 0;
    const fail = (why: string) => {
      sock.destroy();
      reject(new TandemError('TND_HAPROXY', `HAProxy socket ${path}: ${command.split(' ')[0]}…: ${why}`));
    };
    const timer = setTimeout(() => fail(`no answer within ${timeoutMs} ms`), timeoutMs);
    sock.on('connect', () => sock.end(`${command}\n`));
    sock.on('data', (d: Buffer) => {
      size += d.length;
      if (size > maxBytes) {
        clearTimeout(timer);
        fail(`answer longer than ${maxBytes} bytes`);
        return;
      }
      chunks.push(d);
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      fail(e.message);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

/** `haproxy -c -f FILE`: whether HAProxy accepts a config, with its message. */
export async function checkHaproxyConfig(binary: string, file: string): Promise<{ ok: boolean; detail: string }> {
  const r = await runCommand([binary, '-c', '-q', '-f', file], { timeoutMs: 15_000, signal: NEVER });
  const detail = `${r.stderr}${r.stdout}`.trim() || r.error || r.outcome;
  return { ok: r.outcome === 'ok', detail };
}

/** Options of {@link HaproxyProcess}. */
export interface HaproxyProcessOptions {
  dir: string;
  /** @default '/usr/sbin/haproxy' */
  binary?: string;
  log: (level: 'info' | 'warn' | 'error', line: string) => void;
  /** Called when HAProxy exits without being asked to. */
  onExit?: (why: string) => void;
}

/** A managed HAProxy master and its workers. */
export class HaproxyProcess {
  readonly files: HaproxyFiles;
  readonly #opts: HaproxyProcessOptions;
  #child: ChildProcess | null = null;
  #stopping = false;
  #stderr = '';

  constructor(opts: HaproxyProcessOptions) {
    this.#opts = opts;
    this.files = haproxyFiles(opts.dir);
  }

  get binary(): string {
    return this.#opts.binary ?? '/usr/sbin/haproxy';
  }

  /** The master's PID while it runs. */
  get pid(): number | undefined {
    const c = this.#child;
    return c && c.exitCode === null && c.signalCode === null ? c.pid : undefined;
  }

  get running(): boolean {
    return this.pid !== undefined;
  }

  /**
   * Validates `config` and writes it (with `state`, the server-state file it starts from) as the file HAProxy reads;
   * a config HAProxy refuses is TND_HAPROXY_CONFIG and leaves the current file alone.
   */
  async writeConfig(config: string, state: string): Promise<void> {
    mkdirSync(this.files.dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.files.config}.new`;
    writeFileSync(tmp, config, { mode: 0o600 });
    const r = await checkHaproxyConfig(this.binary, tmp);
    if (!r.ok) {
      rmSync(tmp, { force: true });
      throw new TandemError(
        'TND_HAPROXY_CONFIG',
        `haproxy -c refused the rendered config (the running one is kept): ${r.detail.slice(0, 2_000)}`,
      );
    }
    writeFileSync(`${this.files.stateFile}.new`, state, { mode: 0o600 });
    renameSync(`${this.files.stateFile}.new`, this.files.stateFile);
    renameSync(tmp, this.files.config);
  }

  /** Starts the master on the config written last; resolves once the runtime API answers. */
  async start(): Promise<void> {
    if (this.running) return;
    if (!existsSync(this.binary))
      throw new TandemError('TND_HAPROXY', `${this.binary} not found: install haproxy (Debian: apt install haproxy)`);
    await this.#endLeftover();
    rmSync(this.files.masterSocket, { force: true });
    rmSync(this.files.apiSocket, { force: true });
    this.#stopping = false;
    this.#stderr = '';
    const child = spawn(
      this.binary,
      ['-W', '-S', `${this.files.masterSocket},mode,600`, '-f', this.files.config, '-p', this.files.pidFile],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.#child = child;
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.#stderr = (this.#stderr + d).slice(-4_000);
    });
    child.on('error', (e) => this.#opts.log('error', `TND_HAPROXY cannot start ${this.binary}: ${e.message}`));
    child.on('exit', (code, signal) => {
      if (this.#child === child) this.#child = null;
      if (this.#stopping) return;
      const why = `HAProxy master exited (${signal ?? `code ${code}`})${this.#stderr ? `: ${lastLines(this.#stderr)}` : ''}`;
      this.#opts.log('error', `TND_HAPROXY ${why}`);
      this.#opts.onExit?.(why);
    });
    const pid = await this.#until(async () => (this.running ? await this.workerPid() : null), 10_000);
    if (pid === null) {
      const why = lastLines(this.#stderr) || 'no answer on the runtime API';
      await this.stop();
      throw new TandemError('TND_HAPROXY', `HAProxy did not start within 10 s: ${why}`);
    }
    this.#opts.log('info', `HAProxy started (master pid ${child.pid}, worker pid ${pid})`);
  }

  /** The PID of the worker that answers the runtime API, or null. */
  async workerPid(): Promise<number | null> {
    try {
      const info = await this.api('show info', 2_000);
      const m = /^Pid: (\d+)$/m.exec(info);
      return m ? Number(m[1]) : null;
    } catch {
      return null;
    }
  }

  /** One runtime API command (worker). A reply that is not empty and not a table is HAProxy refusing it. */
  api(command: string, timeoutMs = 5_000): Promise<string> {
    return haproxySocketCommand(this.files.apiSocket, command, { timeoutMs });
  }

  /** One master CLI command. */
  master(command: string, timeoutMs = 5_000): Promise<string> {
    return haproxySocketCommand(this.files.masterSocket, command, { timeoutMs });
  }

  /**
   * A hitless reload onto the config written last: `reload` on the master socket, done when a new worker answers the
   * runtime API. The old worker finishes its connections (idle keep-alive ones get `Connection: close` first).
   */
  async reload(): Promise<{ oldPid: number | null; newPid: number }> {
    const oldPid = await this.workerPid();
    await this.master('reload', 15_000).catch((e: unknown) => {
      // The master closes the CLI connection when it re-executes; an error here is not yet a failed reload.
      this.#opts.log('warn', `HAProxy reload: ${(e as Error).message}`);
    });
    const newPid = await this.#until(async () => {
      const p = await this.workerPid();
      return p !== null && p !== oldPid ? p : null;
    }, 15_000);
    if (newPid === null)
      throw new TandemError(
        'TND_HAPROXY',
        `HAProxy reload: no new worker within 15 s (the old one keeps serving)${this.#stderr ? `: ${lastLines(this.#stderr)}` : ''}`,
      );
    return { oldPid, newPid };
  }

  /** Stops the master and its workers (SIGTERM to the master's PID, SIGKILL after 5 s); waits for its exit. */
  async stop(): Promise<void> {
    this.#stopping = true;
    const child = this.#child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await gone;
      clearTimeout(t);
    }
    this.#child = null;
    rmSync(this.files.pidFile, { force: true });
  }

  /** Ends a master of an earlier run of this directory: its PID from the pid file, if its command line is ours. */
  async #endLeftover(): Promise<void> {
    let pid: number;
    try {
      pid = Number(readFileSync(this.files.pidFile, 'utf8').trim().split('\n')[0]);
    } catch {
      return;
    }
    if (!Number.isInteger(pid) || pid <= 1) return;
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      return;
    }
    if (!cmdline.includes('haproxy') || !cmdline.includes(this.files.config)) return;
    this.#opts.log('warn', `HAProxy of an earlier run still runs (pid ${pid}): ending it`);
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      return;
    }
    await this.#until(async () => (existsSync(`/proc/${pid}`) ? null : true), 5_000);
    if (existsSync(`/proc/${pid}`)) process.kill(pid, 'SIGKILL');
  }

  async #until<T>(pred: () => Promise<T | null>, ms: number): Promise<T | null> {
    const end = Date.now() + ms;
    for (;;) {
      const v = await pred();
      if (v !== null) return v;
      if (Date.now() > end) return null;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function lastLines(s: string): string {
  return s.trim().split('\n').slice(-3).join(' | ');
}
