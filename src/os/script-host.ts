/**
 * The track-script host, run in a worker thread by {@link ScriptWorker}: starting processes costs the calling thread
 * a fork and an exec per run, and 200 scripts a second on a busy machine would delay the VRRP timers of the main
 * thread by tens of milliseconds (measured: bench/failover jitter). Here they cost the worker's thread instead, and
 * only their verdicts cross over to the main thread.
 */
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { TrackScript } from './track-script.ts';

/** A script to run, as the main thread sends it. */
export interface HostedScript {
  command: string;
  intervalMs: number;
  timeoutMs?: number;
  rise: number;
  fall: number;
  initFail: boolean;
  /** Run as this user and group (resolved by the daemon from the script's `user`). */
  uid?: number;
  gid?: number;
}

/** Messages to the host. */
export type HostCommand = { op: 'start'; id: string; spec: HostedScript } | { op: 'stop'; id: string };

/** Messages from the host. */
export type HostEvent = { id: string; up: boolean; outcome: string; code: number | null; stderr: string };

const running = new Map<string, AbortController>();

// Threads inherit the nice value of the thread that creates them: the daemon's main thread runs raised (VRRP timers),
// and scripts must not share that. Back to the ordinary priority for this thread and every script it starts.
try {
  setPriority(0);
} catch {
  // Lowering one's own priority is always allowed; nothing to do if the platform has no per-thread nice.
}

parentPort?.on('message', (m: HostCommand) => {
  if (m.op === 'stop') {
    running.get(m.id)?.abort();
    running.delete(m.id);
    return;
  }
  running.get(m.id)?.abort();
  const ctl = new AbortController();
  running.set(m.id, ctl);
  // Spread first runs over an interval (by a hash of the id, so a restart keeps the spot): 200 scripts with one
  // interval would otherwise start 200 processes in the same millisecond, every interval, and each start forks this
  // whole process (measured: 60 ms advert stalls in bench/failover's jitter run).
  // At most 1 s, so that a slow interval does not postpone the first verdict by as much.
  const delay = spreadMs(m.id, Math.min(m.spec.intervalMs, 1_000));
  const timer = setTimeout(() => start(m.id, m.spec, ctl), delay);
  ctl.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
});

/** A stable offset in [0, intervalMs) for `id` (FNV-1a). */
export function spreadMs(id: string, intervalMs: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193) >>> 0;
  return intervalMs > 0 ? h % intervalMs : 0;
}

function start(id: string, spec: HostedScript, ctl: AbortController): void {
  if (ctl.signal.aborted) return;
  const m = { id, spec };
  new TrackScript({
    command: m.spec.command,
    intervalMs: m.spec.intervalMs,
    ...(m.spec.timeoutMs !== undefined ? { timeoutMs: m.spec.timeoutMs } : {}),
    rise: m.spec.rise,
    fall: m.spec.fall,
    initFail: m.spec.initFail,
    ...(m.spec.uid !== undefined ? { uid: m.spec.uid } : {}),
    ...(m.spec.gid !== undefined ? { gid: m.spec.gid } : {}),
    signal: ctl.signal,
    onChange: (up, r) => {
      const ev: HostEvent = { id: m.id, up, outcome: r.outcome, code: r.code, stderr: r.stderr.slice(0, 500) };
      parentPort?.postMessage(ev);
    },
  }).start();
}
