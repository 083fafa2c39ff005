/**
 * A ping target object (`vrrp.track_pings`; heartbeat's ping / ping_group, pingd): every `interval` an ICMP echo to
 * each target; a round passes when any target answers within `timeout`, and rise/fall rounds (hysteresis.ts) turn
 * rounds into up/down. The first round decides at once, like a vrrp_script without init_fail. ICMP comes through the
 * IcmpEcho of os/icmp.ts, so this runs on the daemon's main thread without a process per probe.
 */
import type { IcmpEcho } from '../os/icmp.ts';
import { applyCheck, initialHealth, isHealthy } from './hysteresis.ts';

/** One ping target object, as the node plan carries it. */
export interface PingWatchSpec {
  targets: readonly string[];
  intervalMs: number;
  timeoutMs: number;
  rise: number;
  fall: number;
}

/** One round's result, for logs. */
export interface PingRound {
  passed: boolean;
  /** Targets that answered. */
  answered: string[];
  up: boolean;
}

/**
 * Watches until `signal` fires; `onChange(up)` on the first round and on every change, `onRound` after each round.
 * @example watchPing(spec, pinger, (up) => tracker(up), signal)
 */
export function watchPing(
  spec: PingWatchSpec,
  icmp: IcmpEcho,
  onChange: (up: boolean, round: PingRound) => void,
  signal: AbortSignal,
  onRound?: (round: PingRound) => void,
): void {
  let health = initialHealth(spec.rise, false);
  let known: boolean | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
  const round = async (): Promise<void> => {
    if (signal.aborted) return;
    const started = Date.now();
    const results = await Promise.all(
      spec.targets.map((t) => icmp.echo(t, { timeoutMs: spec.timeoutMs, signal }).then((r) => ({ t, r }))),
    );
    if (signal.aborted) return;
    const answered = results.filter((x) => x.r.outcome === 'reply').map((x) => x.t);
    health = applyCheck(health, answered.length > 0, spec.rise, spec.fall);
    const up = isHealthy(health, spec.rise);
    const r: PingRound = { passed: answered.length > 0, answered, up };
    onRound?.(r);
    if (up !== known) {
      known = up;
      onChange(up, r);
    }
    timer = setTimeout(() => void round(), Math.max(0, spec.intervalMs - (Date.now() - started)));
  };
  void round();
}
