/**
 * Link state of named interfaces, for keepalived's `track_interface` and an instance's own interface. "Up" means
 * administratively up AND lower layer up (carrier): a cable pulled on an admin-up port is down. A name that does not
 * exist is down, and comes up when an interface of that name appears (created, moved in, or renamed to it).
 *
 * Events come from a long-running `ip -o monitor link` (one line per event; iproute2 6.1 ignores `-j` for monitor),
 * restarted with backoff if it dies. Snapshots from `ip -o link show` give the initial state, and are repeated shortly
 * after the monitor starts (it may subscribe after the first snapshot was taken), after each restart (events were
 * missed meanwhile) and every `resyncMs` as a safety net.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorText, runCommand } from './process.ts';

/** One link as an `ip -o link` / `ip -o monitor link` line describes it. */
export interface LinkLine {
  ifindex: number;
  ifname: string;
  /** `Deleted` prefix: the link is gone. */
  deleted: boolean;
  /** Flag UP: administratively up. */
  adminUp: boolean;
  /** Flag LOWER_UP: carrier. */
  lowerUp: boolean;
}

/**
 * Parses one line of `ip -o link show` or `ip -o monitor link`; null for anything else. Pure.
 * @example parseLinkLine('2: eth0@if3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 …') // { ifindex: 2, ifname: 'eth0', deleted: false, adminUp: true, lowerUp: true }
 */
export function parseLinkLine(line: string): LinkLine | null {
  const m = /^(?:\[LINK\]\s*)?(Deleted\s+)?(\d+):\s+([^\s:@]+)(?:@[^\s:]*)?:\s+<([^>]*)>/.exec(line);
  if (!m) return null;
  const flags = new Set(m[4]!.split(','));
  return {
    ifindex: Number(m[2]),
    ifname: m[3]!,
    deleted: m[1] !== undefined,
    adminUp: flags.has('UP'),
    lowerUp: flags.has('LOWER_UP'),
  };
}

/** Whether a parsed line means "up" in the tracking sense. */
export function linkLineUp(l: LinkLine): boolean {
  return !l.deleted && l.adminUp && l.lowerUp;
}

/** Link state of named interfaces, with change notifications. The fake is sim/fake-link.ts. */
export interface LinkWatcher {
  /** Current state; false for a name that does not exist or is not watched. */
  isUp(ifname: string): boolean;
  /** Subscribes to changes (only real changes, never repeats); returns the unsubscribe function. */
  onChange(handler: (ifname: string, up: boolean) => void): () => void;
}

/** What the monitor tells its owner, for logs. */
export type LinkMonitorReport =
  | { kind: 'monitor-started'; pid: number }
  | { kind: 'monitor-exited'; code: number | null; signal: NodeJS.Signals | null; stderr: string; restartInMs: number }
  | { kind: 'snapshot-failed'; error: string };

/** Options of a LinkMonitor. */
export interface LinkMonitorOptions {
  /** Interface names to watch. */
  interfaces: readonly string[];
  /** Stops the monitor process and every timer. */
  signal: AbortSignal;
  /** Network namespace name for `ip -n` (tests); none = the daemon's own. */
  netns?: string;
  /** Receives operational reports; must not throw (a throw is ignored). */
  report?: (r: LinkMonitorReport) => void;
  /** First restart delay after the monitor process dies; doubles per quick death. @default 200 */
  restartMinMs?: number;
  /** Largest restart delay. @default 5000 */
  restartMaxMs?: number;
  /** Re-read every link this often as a safety net; 0 = never. @default 30000 */
  resyncMs?: number;
  /** Re-read once this long after the monitor starts, to cover its subscription race. @default 250 */
  settleMs?: number;
  /** Deadline of each snapshot. @default 5000 */
  snapshotTimeoutMs?: number;
  /** The `ip` binary. @default 'ip' */
  ipPath?: string;
}

/** A monitor process that lived this long is healthy: the next death restarts after the minimum delay again. */
const HEALTHY_RUN_MS = 10_000;

/**
 * Watches links with `ip -o monitor link`. `start()` resolves once the initial state is known; after that, `onChange`
 * handlers hear every change.
 * @example const links = new LinkMonitor({ interfaces: ['eth0', 'eth1'], signal }); await links.start(); links.onChange((i, up) => …)
 */
export class LinkMonitor implements LinkWatcher {
  readonly #opts: LinkMonitorOptions;
  readonly #watched: Set<string>;
  readonly #up = new Map<string, boolean>();
  /** ifindex → name, to notice renames (the old name disappears without a Deleted line). */
  readonly #names = new Map<number, string>();
  /** Per name, the event counter value of its last monitor event: a snapshot must not undo a newer event. */
  readonly #lastEvent = new Map<string, number>();
  readonly #handlers = new Set<(ifname: string, up: boolean) => void>();
  #events = 0;
  #started = false;
  #starting: Promise<void> | null = null;
  #child: ChildProcess | null = null;
  #closed: Promise<void> = Promise.resolve();
  /** Delay before the next restart of the monitor process. */
  #restartDelay: number;

  constructor(opts: LinkMonitorOptions) {
    this.#opts = opts;
    this.#restartDelay = this.#minDelay();
    this.#watched = new Set(opts.interfaces);
    for (const name of this.#watched) this.#up.set(name, false);
  }

  /** Current state of a watched interface. */
  isUp(ifname: string): boolean {
    return this.#up.get(ifname) ?? false;
  }

  /** Subscribes to changes after `start()`; returns the unsubscribe function. */
  onChange(handler: (ifname: string, up: boolean) => void): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  /** Resolves when the monitor process has exited after the abort. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  /** Starts the monitor and reads the initial state. Idempotent. */
  start(): Promise<void> {
    this.#starting ??= this.#start();
    return this.#starting;
  }

  async #start(): Promise<void> {
    const { signal } = this.#opts;
    if (signal.aborted) return;
    signal.addEventListener('abort', () => this.#child?.kill('SIGTERM'), { once: true });
    // The monitor goes first, so a change during the snapshot is not lost between the two.
    this.#spawnMonitor();
    await this.#snapshot();
    this.#started = true;
    void this.#resyncLoop();
  }

  #spawnMonitor(): void {
    const { signal } = this.#opts;
    if (signal.aborted) return;
    const args = [...(this.#opts.netns ? ['-n', this.#opts.netns] : []), '-o', 'monitor', 'link'];
    const child = spawn(this.#opts.ipPath ?? 'ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    const bornAt = performance.now();
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => {
      if (stderr.length < 4_096) stderr += c.toString('utf8');
    });
    child.stdout?.on('error', () => undefined);
    child.stderr?.on('error', () => undefined);
    createInterface({ input: child.stdout! }).on('line', (line) => this.#onLine(line));
    this.#closed = new Promise<void>((resolve) => {
      let exited = false;
      const onExit = (code: number | null, sig: NodeJS.Signals | null): void => {
        if (exited) return;
        exited = true;
        resolve();
        if (this.#child === child) this.#child = null;
        if (signal.aborted) return;
        const lived = performance.now() - bornAt;
        this.#restartDelay = lived >= HEALTHY_RUN_MS ? this.#minDelay() : this.#restartDelay;
        const restartInMs = this.#restartDelay;
        this.#restartDelay = Math.min(this.#maxDelay(), this.#restartDelay * 2);
        this.#report({ kind: 'monitor-exited', code, signal: sig, stderr: stderr.trim(), restartInMs });
        void this.#restartAfter(restartInMs);
      };
      child.on('exit', onExit);
      child.on('error', (e) => {
        stderr += errorText(e);
        onExit(null, null); // spawn failed: no 'exit' follows
      });
    });
    child.on('spawn', () => {
      if (child.pid) this.#report({ kind: 'monitor-started', pid: child.pid });
      void this.#settle();
    });
  }

  #minDelay(): number {
    return Math.max(10, this.#opts.restartMinMs ?? 200);
  }

  #maxDelay(): number {
    return Math.max(this.#minDelay(), this.#opts.restartMaxMs ?? 5_000);
  }

  async #restartAfter(ms: number): Promise<void> {
    try {
      await sleep(ms, undefined, { signal: this.#opts.signal });
    } catch {
      return; // aborted
    }
    this.#spawnMonitor();
    await this.#snapshot(); // events were missed while no monitor ran
  }

  /** One more snapshot shortly after the monitor started: it may have subscribed after the first one was taken. */
  async #settle(): Promise<void> {
    try {
      await sleep(this.#opts.settleMs ?? 250, undefined, { signal: this.#opts.signal });
    } catch {
      return;
    }
    await this.#snapshot();
  }

  async #resyncLoop(): Promise<void> {
    const every = this.#opts.resyncMs ?? 30_000;
    if (every <= 0) return;
    // Bounded by the abort signal; one snapshot per period.
    while (!this.#opts.signal.aborted) {
      try {
        await sleep(Math.max(100, every), undefined, { signal: this.#opts.signal });
      } catch {
        return;
      }
      await this.#snapshot();
    }
  }

  async #snapshot(): Promise<void> {
    const seq = this.#events;
    const argv = [
      this.#opts.ipPath ?? 'ip',
      ...(this.#opts.netns ? ['-n', this.#opts.netns] : []),
      '-o',
      'link',
      'show',
    ];
    const r = await runCommand(argv, { timeoutMs: this.#opts.snapshotTimeoutMs ?? 5_000, signal: this.#opts.signal });
    if (this.#opts.signal.aborted) return;
    if (r.outcome !== 'ok') {
      this.#report({ kind: 'snapshot-failed', error: r.stderr.trim() || r.error || r.outcome });
      return;
    }
    const seen = new Map<string, boolean>();
    for (const text of r.stdout.split('\n')) {
      const l = parseLinkLine(text);
      if (!l) continue;
      this.#names.set(l.ifindex, l.ifname);
      if (this.#watched.has(l.ifname)) seen.set(l.ifname, linkLineUp(l));
    }
    for (const name of this.#watched) {
      // A monitor event newer than this snapshot wins.
      if ((this.#lastEvent.get(name) ?? -1) >= seq) continue;
      this.#set(name, seen.get(name) ?? false);
    }
  }

  #onLine(line: string): void {
    const l = parseLinkLine(line);
    if (!l) return;
    this.#events++;
    const previous = this.#names.get(l.ifindex);
    if (previous !== undefined && previous !== l.ifname && this.#watched.has(previous)) {
      // Renamed away: the old name no longer exists.
      this.#lastEvent.set(previous, this.#events);
      this.#set(previous, false);
    }
    if (l.deleted) this.#names.delete(l.ifindex);
    else this.#names.set(l.ifindex, l.ifname);
    if (!this.#watched.has(l.ifname)) return;
    this.#lastEvent.set(l.ifname, this.#events);
    this.#set(l.ifname, linkLineUp(l));
  }

  #set(name: string, up: boolean): void {
    if (this.#up.get(name) === up) return;
    this.#up.set(name, up);
    if (!this.#started) return; // the initial state is read with isUp(), not announced
    for (const h of [...this.#handlers]) {
      try {
        h(name, up);
      } catch {
        // a subscriber's bug must not stop link tracking
      }
    }
  }

  #report(r: LinkMonitorReport): void {
    try {
      this.#opts.report?.(r);
    } catch {
      // a logger's bug must not stop link tracking
    }
  }
}
