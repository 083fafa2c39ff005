/**
 * systemd's notification protocol (sd_notify(3)) without libsystemd: `READY=1`, `STOPPING=1`, `WATCHDOG=1` and
 * `STATUS=…` as datagrams on the AF_UNIX socket named by NOTIFY_SOCKET, sent by the native addon (Node's dgram has
 * no AF_UNIX, and `systemd-notify` would send from another PID, which NotifyAccess=main refuses). Also: whether
 * stderr is the journal (JOURNAL_STREAM), so that log lines carry `<N>` priorities instead of timestamps.
 */
import { fstatSync } from 'node:fs';
import { nativeAddon } from './native.ts';

/** What a daemon tells systemd. Every method is a no-op without NOTIFY_SOCKET, and never throws. */
export interface SdNotifier {
  /** Whether NOTIFY_SOCKET is set. */
  readonly enabled: boolean;
  /** Sends one message (`READY=1\nSTATUS=…`); returns the error text when sending failed. */
  send(message: string): string | undefined;
}

/** A notifier for the NOTIFY_SOCKET of `env`; `send` is the datagram sender (the addon by default; tests inject). */
export function sdNotifier(
  env: NodeJS.ProcessEnv = process.env,
  send: (path: string, message: string) => void = (p, m) => nativeAddon().notify(p, m),
): SdNotifier {
  const path = env.NOTIFY_SOCKET;
  return {
    enabled: !!path,
    send(message) {
      if (!path) return undefined;
      try {
        send(path, message);
        return undefined;
      } catch (e) {
        return (e as Error).message;
      }
    },
  };
}

/**
 * How often to send WATCHDOG=1: half of WATCHDOG_USEC (sd_watchdog_enabled(3)), when it is set and meant for `pid`
 * (WATCHDOG_PID unset or equal); undefined otherwise.
 * @example watchdogIntervalMs({ WATCHDOG_USEC: '20000000' }, 1) // 10000
 */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv, pid: number): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 2000));
}

/** Whether file descriptor `fd` is the journal's stream (JOURNAL_STREAM is `DEVICE:INODE` of it; systemd.exec(5)). */
export function isJournalStream(env: NodeJS.ProcessEnv = process.env, fd = 2): boolean {
  const m = /^(\d+):(\d+)$/.exec(env.JOURNAL_STREAM ?? '');
  if (!m) return false;
  try {
    const st = fstatSync(fd, { bigint: true });
    return st.dev === BigInt(m[1]!) && st.ino === BigInt(m[2]!);
  } catch {
    return false;
  }
}
