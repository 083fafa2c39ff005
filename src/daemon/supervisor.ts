/**
 * The supervisor of `tandem run`. keepalived leaves its VIP on the interface when it is SIGKILLed, so for a while two
 * hosts answer for it. tandem runs the daemon as the child of a tiny supervisor that holds no state but the child's
 * last snapshot (sent over IPC on every transition). When the child dies without a clean stop, the supervisor
 * releases what the child held: it sends a priority-0 advert for each instance that was MASTER (the backup takes over
 * after Skew_Time instead of Master_Down_Interval) and removes the VIPs. Then it starts a new child.
 */
import { type ChildProcess, fork } from 'node:child_process';
import type { Logger } from '../core/log.ts';
import { tandemExecutable } from '../os/runtime-paths.ts';
import type { InstanceConfig, VrrpState } from '../vrrp/types.ts';
import { EXIT, type RunOptions } from './exit.ts';

/** What the child tells the supervisor about each instance, after every transition. */
export interface InstanceSnapshot {
  cfg: InstanceConfig;
  src: string;
  state: VrrpState;
}

/** Exit statuses of a child that a restart would not cure: the supervisor passes them on instead of restarting. */
const FINAL_CHILD_EXITS: ReadonlySet<number> = new Set([EXIT.CONFIG, EXIT.CAPS, EXIT.LOCKED]);

/** Starts the child, forwards signals, releases what a dead child held, and starts it again; resolves with the exit status. */
export async function supervise(opts: RunOptions, log: Logger): Promise<number> {
  const { releaseHeld } = await import('./real-deps.ts');
  const args = ['run', '--child', '-c', opts.config, '--log-format', opts.logFormat];
  if (opts.node) args.push('--node', opts.node);
  if (opts.control) args.push('--control', opts.control);
  if (opts.verbose) args.push('--verbose');
  if (opts.configId !== undefined) args.push('--config-id', opts.configId);
  // HTTP API (issue 12)
  if (opts.api) args.push('--api', opts.api);
  let stopping = false;
  let child: ChildProcess | undefined;
  let wake: (() => void) | null = null;
  const starts: number[] = [];
  const forward = (sig: NodeJS.Signals) => () => {
    if (sig !== 'SIGHUP') {
      stopping = true;
      // A stop during the restart back-off ends the wait: no new child is started.
      wake?.();
    }
    if (child && child.exitCode === null && child.signalCode === null) child.kill(sig);
  };
  process.on('SIGTERM', forward('SIGTERM'));
  process.on('SIGINT', forward('SIGINT'));
  process.on('SIGHUP', forward('SIGHUP'));

  for (;;) {
    starts.push(Date.now());
    let snapshot: InstanceSnapshot[] = [];
    child = fork(tandemExecutable(), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    log.log('info', `Supervisor: started daemon pid ${child.pid}`);
    child.on('message', (m: { type?: string; snapshot?: InstanceSnapshot[] }) => {
      if (m?.type === 'snapshot' && m.snapshot) snapshot = m.snapshot;
    });
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child!.once('exit', (code, signal) => resolve({ code, signal })),
    );
    if (stopping && exit.code === 0) return EXIT.OK;
    const why = exit.signal ? `killed by ${exit.signal}` : `exited with ${exit.code}`;
    log.log('error', `Supervisor: daemon pid ${child.pid} ${why}; releasing what it held`);
    await releaseHeld(snapshot, log);
    if (stopping) return exit.code ?? 1;
    if (exit.code !== null && FINAL_CHILD_EXITS.has(exit.code)) {
      // The child refused to start (config errors, capabilities, control socket): a restart would fail the same way.
      log.log('error', `Supervisor: the daemon cannot start (exit status ${exit.code}); not restarting it`);
      return exit.code;
    }
    // A child that keeps dying is not restarted forever: 5 starts within a minute means something is wrong. Loud:
    // an error line, and an exit status of its own that systemd records as a failure.
    const recent = starts.filter((t) => Date.now() - t < 60_000);
    if (recent.length >= 5) {
      log.log(
        'error',
        `TND_DAEMON_GAVE_UP Supervisor: the daemon died 5 times within a minute; giving up (exit status ${EXIT.GAVE_UP}): ` +
          'this node serves nothing now',
      );
      return EXIT.GAVE_UP;
    }
    log.log('info', 'Supervisor: starting the daemon again in 1 s');
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 1_000);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
    wake = null;
    if (stopping) {
      log.log('info', 'Supervisor: stopped during the restart back-off; the daemon is not started again');
      return EXIT.OK;
    }
  }
}
