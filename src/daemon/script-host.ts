/**
 * The track-script host, run in a worker thread by {@link ScriptWorker}: starting processes costs the calling thread
 * a fork and an exec per run, and 200 scripts a second on a busy machine would delay the VRRP timers of the main
 * thread by tens of milliseconds (measured: bench/failover jitter). Here they cost the worker's thread instead, and
 * only their verdicts cross over to the main thread. The scripts run on the health scheduler, as vrrp_script targets
 * (health/vrrp-script.ts), on this thread's real clock.
 */
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { seededRng } from '../core/rng.ts';
import { HealthScheduler } from '../health/scheduler.ts';
import { type VrrpScriptSpec, vrrpScriptTarget } from '../health/vrrp-script.ts';
import { wallClock } from '../os/clock.ts';

/** A script to run, as the main thread sends it. */
export type HostedScript = VrrpScriptSpec & { command: string };

/** Messages to the host. */
export type HostCommand = { op: 'start'; id: string; spec: HostedScript } | { op: 'stop'; id: string };

/** Messages from the host: a script's new state, with the run that decided it. */
export type HostEvent = { id: string; up: boolean; outcome: string; code: number | null; stderr: string };

// Threads inherit the nice value of the thread that creates them: the daemon's main thread runs raised (VRRP timers),
// and scripts must not share that. Back to the ordinary priority for this thread and every script it starts.
try {
  setPriority(0);
} catch {
  // Lowering one's own priority is always allowed; nothing to do if the platform has no per-thread nice.
}

const abort = new AbortController();
const scheduler = new HealthScheduler({
  clock: wallClock(),
  // Scripts have no random warmup (their spread is a hash of the name); the rng is never drawn from.
  rng: seededRng(1),
  // keepalived runs every script on its own; a queue would make one slow script delay the others.
  maxConcurrent: 4_096,
  onChange: (c) => {
    const p = c.result.process;
    const ev: HostEvent = {
      id: c.id,
      up: c.up,
      outcome: p?.outcome ?? (c.up ? 'ok' : 'failed'),
      code: p?.exitCode ?? null,
      stderr: c.result.detail.slice(0, 500),
    };
    parentPort?.postMessage(ev);
  },
});
scheduler.start(abort.signal);

parentPort?.on('message', (m: HostCommand) => {
  if (m.op === 'stop') scheduler.remove(m.id);
  else {
    // A restart of a script is a new check: state and counter from scratch, as keepalived does.
    scheduler.remove(m.id);
    scheduler.add(vrrpScriptTarget(m.id, m.spec));
  }
});
