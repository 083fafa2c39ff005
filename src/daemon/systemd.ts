/**
 * systemd's Type=notify for `tandem run` (issue 12 item 7). The unit's main process is the supervisor
 * (supervisor.ts), so the daemon (its child) sends its READY=1, WATCHDOG=1 and STOPPING=1 over the IPC channel and
 * the supervisor passes them to NOTIFY_SOCKET: NotifyAccess=main holds, and a daemon whose event loop is stuck stops
 * sending WATCHDOG=1, so systemd notices. An unsupervised daemon (`--no-supervisor`) sends them itself.
 */
import type { Logger } from '../core/log.ts';
import { type SdNotifier, sdNotifier, watchdogIntervalMs } from '../os/sd-notify.ts';

/** What the daemon tells its supervisor (or systemd). */
export interface DaemonNotify {
  stopping(): void;
}

/** The IPC message a supervised daemon sends. */
export interface SdIpcMessage {
  type: 'sd';
  message: string;
}

/** Messages a child may have passed on: the protocol's own words, nothing else (MAINPID= stays the supervisor's). */
const ALLOWED = /^(READY=1|STOPPING=1|WATCHDOG=1|RELOADING=1|STATUS=[^\n]{0,200})(\n(READY=1|STATUS=[^\n]{0,200}))*$/;

/** In the daemon, once it is up: READY=1, then the watchdog pings. */
export function daemonNotify(log: Logger, status: string): DaemonNotify {
  const supervised = typeof process.send === 'function';
  const direct: SdNotifier | undefined = supervised ? undefined : sdNotifier();
  let warned = false;
  const send = (message: string): void => {
    if (supervised) {
      process.send?.({ type: 'sd', message } satisfies SdIpcMessage);
      return;
    }
    const err = direct?.send(message);
    if (err && !warned) {
      warned = true;
      log.log('warn', `systemd notification failed: ${err}`);
    }
  };
  if (!supervised && !direct?.enabled) return { stopping() {} };
  send(`READY=1\nSTATUS=${status}`);
  // A supervised child pings for the supervisor, whose PID WATCHDOG_PID names.
  const every = watchdogIntervalMs(
    supervised ? { ...process.env, WATCHDOG_PID: String(process.pid) } : process.env,
    process.pid,
  );
  const timer = every ? setInterval(() => send('WATCHDOG=1'), every) : undefined;
  timer?.unref();
  if (every) log.log('info', `systemd watchdog: WATCHDOG=1 every ${every} ms`);
  return {
    stopping() {
      if (timer) clearInterval(timer);
      send('STOPPING=1');
    },
  };
}

/** In the supervisor: passes a child's notifications on; says STOPPING=1 and STATUS= itself. */
export function supervisorNotify(log: Logger): { fromChild(m: unknown): void; send(message: string): void } {
  const sd = sdNotifier();
  let warned = false;
  let stopped = false;
  const send = (message: string): void => {
    // STOPPING=1 once: the supervisor says it on the signal, the child says it again on its way out.
    if (message === 'STOPPING=1') {
      if (stopped) return;
      stopped = true;
    }
    const err = sd.send(message);
    if (err && !warned) {
      warned = true;
      log.log('warn', `systemd notification failed: ${err}`);
    }
  };
  return {
    fromChild(m) {
      const msg = m as Partial<SdIpcMessage> | undefined;
      if (msg?.type !== 'sd' || typeof msg.message !== 'string' || !ALLOWED.test(msg.message)) return;
      send(msg.message);
    },
    send,
  };
}
