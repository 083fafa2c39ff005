/**
 * Running tandem, keepalived, HTTP responders and probing clients inside a Lab, and watching which hosts hold a
 * virtual address (from `ip monitor` timestamps, so overlaps are measured to the microsecond, not by polling).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { callDaemon } from '../../src/api/client.ts';
import type { DaemonStatus } from '../../src/api/contract.ts';
import type { Lab } from './lab.ts';

const root = new URL('../../', import.meta.url).pathname;
/** The tandem executable. */
export const TANDEM = join(root, 'bin/tandem');

/** A temp directory for one test's files (configs, sockets, logs). */
export function workDir(prefix = 'tandem-lab-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Collects a child's output lines, and lets a test wait for a line. */
export class Output {
  readonly lines: string[] = [];
  readonly #waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  constructor(child: ChildProcess) {
    for (const s of [child.stdout, child.stderr]) {
      if (!s) continue;
      createInterface({ input: s }).on('line', (l) => {
        this.lines.push(l);
        for (const w of [...this.#waiters])
          if (w.re.test(l)) {
            this.#waiters.splice(this.#waiters.indexOf(w), 1);
            w.resolve(l);
          }
      });
    }
  }
  /** Resolves with the first line (already seen or future) matching `re`; rejects after `timeoutMs`. */
  waitFor(re: RegExp, timeoutMs = 15_000): Promise<string> {
    const seen = this.lines.find((l) => re.test(l));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = {
        re,
        resolve: (l: string) => {
          clearTimeout(t);
          resolve(l);
        },
      };
      const t = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        reject(
          new Error(`no line matching ${re} within ${timeoutMs} ms; last lines:\n${this.lines.slice(-15).join('\n')}`),
        );
      }, timeoutMs);
      this.#waiters.push(w);
    });
  }
  text(): string {
    return this.lines.join('\n');
  }
}

/** A tandem daemon running in a lab host. */
export interface TandemProc {
  host: string;
  child: ChildProcess;
  out: Output;
  control: string;
  status(): Promise<DaemonStatus>;
}

/** Starts `tandem run` in `host` with the config text; resolves when its control socket answers. */
export async function startTandem(
  lab: Lab,
  host: string,
  config: string,
  opts: {
    dir: string;
    ext?: 'yaml' | 'conf';
    args?: string[];
    supervisor?: boolean;
    /** Run with the config at this path instead of writing `config` to a file (heartbeat's ha.cf and siblings). */
    file?: string;
    /** Mount this directory over /etc/init.d for the daemon only (a private mount namespace; the host is untouched). */
    initd?: string;
    /** Extra environment of the daemon only (e.g. libfaketime's LD_PRELOAD), set by `env` inside the namespace. */
    env?: Record<string, string>;
  },
): Promise<TandemProc> {
  const file = opts.file ?? join(opts.dir, `${host}.${opts.ext ?? 'yaml'}`);
  if (!opts.file) writeFileSync(file, config);
  const control = join(opts.dir, `${host}.sock`);
  const args = ['run', '-c', file, '--node', host, '--control', control, ...(opts.args ?? [])];
  if (opts.supervisor === false) args.push('--no-supervisor');
  const [cmd, cmdArgs] = withEnv(opts.env, process.execPath, [TANDEM, ...args]);
  const child = opts.initd
    ? lab.spawn(host, 'unshare', [
        '-m',
        '--propagation',
        'private',
        'sh',
        '-c',
        `mount --bind "$0" /etc/init.d && exec "$@"`,
        opts.initd,
        cmd,
        ...cmdArgs,
      ])
    : lab.spawn(host, cmd, cmdArgs);
  const out = new Output(child);
  const status = async (): Promise<DaemonStatus> => {
    const r = await callDaemon(control, 'GET', '/v1/status', undefined, 2_000);
    if (!r.ok) throw new Error(r.message);
    return r.body as DaemonStatus;
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`tandem in ${host} exited ${child.exitCode}:\n${out.text()}`);
    try {
      await status();
      break;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`tandem in ${host} never answered: ${e}\n${out.text()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { host, child, out, control, status };
}

/** `cmd args` run under `env K=V …` when `env` is given, so only that process (not `ip netns exec`) gets it. */
function withEnv(env: Record<string, string> | undefined, cmd: string, args: readonly string[]): [string, string[]] {
  if (!env || Object.keys(env).length === 0) return [cmd, [...args]];
  return ['env', [...Object.entries(env).map(([k, v]) => `${k}=${v}`), cmd, ...args]];
}

/** Waits until `pred` holds, checking every 50 ms; throws with `what` after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T> | T,
  pred: (v: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    try {
      last = await probe();
      if (pred(last)) return last;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until the first instance of a tandem node is in `state`. */
export function untilState(p: TandemProc, state: string, timeoutMs = 15_000) {
  return eventually(
    `${p.host} ${state}`,
    () => p.status(),
    (s) => s.instances[0]?.state === state,
    timeoutMs,
  );
}

/** Waits until the first instance of `p` has received `n` more adverts than now: time measured in adverts. */
export async function heardMoreAdverts(p: TandemProc, n: number, timeoutMs = 15_000): Promise<void> {
  const start = (await p.status()).instances[0]!.counters.advertsReceived;
  await eventually(
    `${p.host} heard ${n} more adverts`,
    () => p.status(),
    (s) => s.instances[0]!.counters.advertsReceived >= start + n,
    timeoutMs,
  );
}

/** Waits until the first instance of `p` has sent `n` more adverts than now. */
export async function sentMoreAdverts(p: TandemProc, n: number, timeoutMs = 15_000): Promise<void> {
  const start = (await p.status()).instances[0]!.counters.advertsSent;
  await eventually(
    `${p.host} sent ${n} more adverts`,
    () => p.status(),
    (s) => s.instances[0]!.counters.advertsSent >= start + n,
    timeoutMs,
  );
}

/** Which addresses a host has on eth0. */
export async function addrsOf(lab: Lab, host: string): Promise<string[]> {
  const out = await lab.run(host, 'ip', ['-o', 'addr', 'show', 'dev', 'eth0']);
  return [...out.matchAll(/inet6? ([0-9a-f.:]+)\//g)].map((m) => m[1]!);
}

/** Starts an HTTP responder naming `name` on port 80 of `host`. */
export async function startResponder(lab: Lab, host: string, name = host): Promise<ChildProcess> {
  const child = lab.spawn(
    host,
    process.execPath,
    ['--import', 'tsx', join(root, 'test/netns/tools/responder.ts'), name, '80'],
    {
      cwd: root,
    },
  );
  await new Output(child).waitFor(/listening/, 15_000);
  return child;
}

/** One probe result. */
export interface ProbeResult {
  sent: number;
  ok: number;
  failed: number;
  maxGapMs: number;
  who: Record<string, number>;
  /** Wall-clock ms of the probe's start. */
  startedAt?: number;
  /** Each failed request: when it started (ms since startedAt) and why. */
  failures?: { t: number; error: string }[];
}

/** A running probing client: `answered(n)` resolves once it had n answers (1, 10, 20, 30, 50, 80 or 100). */
export interface RunningProbe {
  answered(n: 1 | 10 | 20 | 30 | 50 | 80 | 100): Promise<void>;
  done: Promise<ProbeResult>;
}

/** Starts the probing client in `host` for `durationMs`. */
export function startProbe(lab: Lab, host: string, addr: string, intervalMs: number, durationMs: number): RunningProbe {
  const child = lab.spawn(
    host,
    process.execPath,
    ['--import', 'tsx', join(root, 'test/netns/tools/probe.ts'), addr, '80', String(intervalMs), String(durationMs)],
    { cwd: root },
  );
  const out = new Output(child);
  return {
    answered: async (n) => {
      await out.waitFor(new RegExp(`^\\{"answered":${n}\\}$`), durationMs + 30_000);
    },
    done: out.waitFor(/"summary":true/, durationMs + 30_000).then((line) => JSON.parse(line) as ProbeResult),
  };
}

/** Runs the probing client in `host` for `durationMs`; resolves with its summary. */
export function probe(
  lab: Lab,
  host: string,
  addr: string,
  intervalMs: number,
  durationMs: number,
): Promise<ProbeResult> {
  return startProbe(lab, host, addr, intervalMs, durationMs).done;
}

/** An address no lab uses, added and removed once per host to learn that a monitor listens. */
const SENTINEL = '198.19.255.254';

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(what)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

/**
 * Watches `addr` on the given hosts through `ip -t monitor address` and reports, between `start()` and `stop()`,
 * how long no host held it and how long two or more did.
 */
export class VipWatch {
  readonly #events: { t: number; host: string; op: 'add' | 'del' }[] = [];
  readonly #children: ChildProcess[] = [];
  constructor(
    readonly lab: Lab,
    readonly hosts: readonly string[],
    readonly addr: string,
  ) {}

  async start(): Promise<void> {
    for (const host of this.hosts) {
      const child = this.lab.spawn(host, 'ip', ['-t', 'monitor', 'address', 'dev', 'eth0']);
      this.#children.push(child);
      let ts = 0;
      createInterface({ input: child.stdout! }).on('line', (l) => {
        // iproute2: "Timestamp: Sun Nov 22 03:20:00 2026 123456 usec" before each event.
        const d = /^Timestamp: (.+) (\d+) usec$/.exec(l);
        if (d) {
          ts = Date.parse(d[1]!) + Number(d[2]) / 1000;
          return;
        }
        if (!l.includes(` ${this.addr}/`)) return;
        this.#events.push({ t: ts, host, op: l.startsWith('Deleted') ? 'del' : 'add' });
      });
    }
    // ip monitor prints nothing until it has subscribed: add and remove a sentinel address on each host and wait
    // until every monitor has seen it, so that no event after start() is missed.
    await Promise.all(
      this.hosts.map(async (host, i) => {
        let reported = false;
        const seen = new Promise<void>((resolve) => {
          createInterface({ input: this.#children[i]!.stdout! }).on('line', (l) => {
            if (!l.includes(` ${SENTINEL}/`)) return;
            reported = true;
            resolve();
          });
        });
        // A monitor that had not subscribed yet misses the change: add and remove again until one is seen (a loaded
        // machine may take more than one round; bounded to 10 × 1 s, as the single 10 s wait was).
        for (let round = 0; !reported; round++) {
          if (round === 10) throw new Error(`ip monitor on ${host} did not report the sentinel address`);
          await this.lab.run(host, 'ip', ['addr', 'add', `${SENTINEL}/32`, 'dev', 'eth0']);
          await withTimeout(seen, 1_000, 'not yet').catch(() => undefined);
          await this.lab.run(host, 'ip', ['addr', 'del', `${SENTINEL}/32`, 'dev', 'eth0']);
        }
      }),
    );
  }

  /** Initial holders must be given: monitor shows changes only. */
  report(initial: readonly string[]): {
    overlapMs: number;
    gapMs: number;
    events: { t: number; host: string; op: string }[];
  } {
    const holders = new Set(initial);
    const events = [...this.#events].sort((a, b) => a.t - b.t);
    let overlapMs = 0;
    let gapMs = 0;
    let last = events[0]?.t ?? 0;
    for (const e of events) {
      if (holders.size > 1) overlapMs += e.t - last;
      if (holders.size === 0) gapMs += e.t - last;
      if (e.op === 'add') holders.add(e.host);
      else holders.delete(e.host);
      last = e.t;
    }
    return { overlapMs: Math.round(overlapMs * 1000) / 1000, gapMs: Math.round(gapMs * 1000) / 1000, events };
  }

  stop(): void {
    for (const c of this.#children) c.kill('SIGTERM');
  }
}

/** Debian's keepalived binary. */
export const KEEPALIVED = '/usr/sbin/keepalived';

/** keepalived (VRRP only, in the foreground, logging to the console) in a lab host with its own config. */
export async function startKeepalived(
  lab: Lab,
  host: string,
  conf: string,
  dir: string,
  opts: { env?: Record<string, string> } = {},
): Promise<{ child: ChildProcess; out: Output }> {
  const file = join(dir, `keepalived-${host}.conf`);
  writeFileSync(file, conf);
  // -n no fork, -l -D log in detail to the console, -G no syslog, -P VRRP only; pid files in our temp dir.
  const args = [
    '-n',
    '-l',
    '-D',
    '-G',
    '-P',
    '-f',
    file,
    '-p',
    join(dir, `${host}-k.pid`),
    '-r',
    join(dir, `${host}-v.pid`),
  ];
  const child = lab.spawn(host, ...withEnv(opts.env, KEEPALIVED, args));
  const out = new Output(child);
  await out.waitFor(/\(VI_1\) Entering (BACKUP|MASTER) STATE/, 15_000);
  return { child, out };
}

/** keepalived's complaints about packets it received: any of these means we sent something it does not accept. */
export const KEEPALIVED_PACKET_ERRORS = /invalid|wrong|checksum|mismatch|bogus|unknown/i;
