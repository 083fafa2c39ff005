/**
 * The alerts' driver: alerts in (synchronously, from event subscribers: `offer` never waits and never throws, so
 * nothing on the advert path waits for a mail server), through the limiter (limiter.ts), into one bounded queue per
 * sink (e-mail, each webhook), each drained by one sender at a time with a timeout per attempt and bounded retries
 * with exponential backoff. A delivery that fails for good is logged and counted; `status()` carries the counters
 * (docs/alerts.md; the metrics engineer reads them).
 */
import type { Logger } from '../core/log.ts';
import type { Clock, Ms } from '../core/time.ts';
import {
  emptyLimiter,
  flush,
  heldCount,
  type LimiterEffect,
  type LimiterState,
  type Limits,
  offer,
} from './limiter.ts';
import { type Alert, type AlertMessage, digestMessage, singleMessage } from './render.ts';

/** Where messages go: an SMTP relay or a webhook. `send` rejects on failure; the signal aborts a slow attempt. */
export interface AlertSink {
  name: string;
  kind: 'email' | 'webhook';
  /** Retries after the first attempt. */
  retries: number;
  backoffMs: Ms;
  maxBackoffMs: Ms;
  timeoutMs: Ms;
  send(m: AlertMessage, signal: AbortSignal): Promise<void>;
}

/** Counters of one sink. */
export interface SinkStatus {
  kind: 'email' | 'webhook';
  /** Messages delivered. */
  sent: number;
  /** Messages given up on after every retry. */
  failed: number;
  /** Attempts that failed and were retried. */
  retried: number;
  /** Messages dropped because the queue was full. */
  dropped: number;
  /** Messages waiting (including the one being sent). */
  queued: number;
  lastError?: string;
  lastErrorTime?: string;
}

/** What the alerts did since the daemon started. */
export interface AlertsStatus {
  /** Alerts the sources produced. */
  alerts: number;
  /** Dropped as duplicates of the state last seen. */
  duplicates: number;
  /** Held back by the rate limit (they go out in digests). */
  held: number;
  /** Digests sent. */
  digests: number;
  /** Alerts waiting for a digest now. */
  pendingDigest: number;
  sinks: Record<string, SinkStatus>;
}

/**
 * The delay before retry number `attempt` (0-based): `base · 2^attempt`, at most `max`.
 * @example backoffMs(0, 1000, 60000) // 1000; backoffMs(3, 1000, 60000) // 8000
 */
export function backoffMs(attempt: number, baseMs: Ms, maxMs: Ms): Ms {
  return Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
}

interface SinkQueue {
  sink: AlertSink;
  queue: AlertMessage[];
  busy: boolean;
  status: SinkStatus;
}

/** Runs the alerts of one daemon. */
export class AlertDispatcher {
  readonly #clock: Clock;
  readonly #wallNow: () => number;
  readonly #log: Logger;
  readonly #routerId: () => string;
  readonly #limits: Limits;
  readonly #queueMax: number;
  readonly #sinks: SinkQueue[];
  #limiter: LimiterState = emptyLimiter();
  readonly #timers = new Set<() => void>();
  readonly #inflight = new Set<AbortController>();
  readonly #idle: (() => void)[] = [];
  #seq = 0;
  #closed = false;
  readonly #counts = { alerts: 0, duplicates: 0, held: 0, digests: 0 };

  constructor(opts: {
    clock: Clock;
    wallNow?: () => number;
    log: Logger;
    routerId: string | (() => string);
    limits: Limits;
    queueMax: number;
    sinks: AlertSink[];
  }) {
    this.#clock = opts.clock;
    this.#wallNow = opts.wallNow ?? Date.now;
    this.#log = opts.log;
    const rid = opts.routerId;
    this.#routerId = typeof rid === 'string' ? () => rid : rid;
    this.#limits = opts.limits;
    this.#queueMax = opts.queueMax;
    this.#sinks = opts.sinks.map((sink) => ({
      sink,
      queue: [],
      busy: false,
      status: { kind: sink.kind, sent: 0, failed: 0, retried: 0, dropped: 0, queued: 0 },
    }));
  }

  /** Takes one alert; returns at once. */
  offer(alert: Alert): void {
    if (this.#closed) return;
    this.#counts.alerts++;
    const r = offer(this.#limiter, alert, this.#clock.now(), this.#limits);
    this.#limiter = r.state;
    this.#effects(r.effects);
  }

  /** The counters (a copy). */
  status(): AlertsStatus {
    const sinks: Record<string, SinkStatus> = {};
    for (const q of this.#sinks) sinks[q.sink.name] = { ...q.status, queued: q.queue.length + (q.busy ? 1 : 0) };
    return { ...this.#counts, pendingDigest: heldCount(this.#limiter), sinks };
  }

  /** Resolves when every queue is empty and nothing is being sent (tests, and a stop that lets mail go out). */
  idle(): Promise<void> {
    if (this.#sinks.every((q) => !q.busy && q.queue.length === 0)) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /**
   * Stops: waits up to `graceMs` for the queues to drain (a STOP alert at shutdown should still go out), then
   * aborts what is in flight and drops the rest, counting it.
   */
  async close(graceMs: Ms = 5_000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const c of this.#timers) c();
    this.#timers.clear();
    await new Promise<void>((resolve) => {
      const cancel = this.#clock.at(this.#clock.now() + graceMs, resolve);
      void this.idle().then(() => {
        cancel();
        resolve();
      });
    });
    for (const c of this.#inflight) c.abort();
    for (const q of this.#sinks) {
      q.status.dropped += q.queue.length;
      q.queue.length = 0;
    }
  }

  #effects(effects: LimiterEffect[]): void {
    for (const e of effects) {
      switch (e.kind) {
        case 'send':
          this.#enqueue(singleMessage(this.#routerId(), e.alert, this.#id()));
          break;
        case 'digest':
          this.#counts.digests++;
          this.#enqueue(digestMessage(this.#routerId(), e.alerts, this.#limits.windowMs, this.#id()));
          break;
        case 'drop':
          this.#counts.duplicates++;
          break;
        case 'hold':
          this.#counts.held++;
          break;
        case 'arm': {
          const cancel = this.#clock.at(e.at, () => {
            this.#timers.delete(cancel);
            if (this.#closed) return;
            const r = flush(this.#limiter, this.#clock.now(), this.#limits);
            this.#limiter = r.state;
            this.#effects(r.effects);
          });
          this.#timers.add(cancel);
          break;
        }
      }
    }
  }

  #id(): string {
    return `${this.#wallNow().toString(36)}-${(this.#seq++).toString(36)}`;
  }

  #enqueue(m: AlertMessage): void {
    for (const q of this.#sinks) {
      q.queue.push(m);
      if (q.queue.length > this.#queueMax) {
        const gone = q.queue.shift();
        q.status.dropped++;
        this.#log.log('warn', `alerts: ${q.sink.name}: queue full (${this.#queueMax}); dropped "${gone?.subject}"`, {
          event: 'alert-dropped',
          sink: q.sink.name,
        });
      }
      void this.#drain(q);
    }
  }

  async #drain(q: SinkQueue): Promise<void> {
    if (q.busy) return;
    q.busy = true;
    try {
      for (;;) {
        const m = q.queue.shift();
        if (!m) break;
        await this.#deliver(q, m);
      }
    } finally {
      q.busy = false;
      if (this.#sinks.every((s) => !s.busy && s.queue.length === 0)) for (const w of this.#idle.splice(0)) w();
    }
  }

  async #deliver(q: SinkQueue, m: AlertMessage): Promise<void> {
    const { sink } = q;
    for (let attempt = 0; ; attempt++) {
      const ctl = new AbortController();
      this.#inflight.add(ctl);
      const cancel = this.#clock.at(this.#clock.now() + sink.timeoutMs, () =>
        ctl.abort(new Error(`timed out after ${sink.timeoutMs} ms`)),
      );
      try {
        await sink.send(m, ctl.signal);
        q.status.sent++;
        this.#log.log('info', `alerts: ${sink.name}: sent "${m.subject}"`, { event: 'alert-sent', sink: sink.name });
        return;
      } catch (e) {
        const why = ctl.signal.aborted && ctl.signal.reason instanceof Error ? ctl.signal.reason.message : errText(e);
        q.status.lastError = why;
        q.status.lastErrorTime = new Date(this.#wallNow()).toISOString();
        if (attempt >= sink.retries || this.#closed) {
          q.status.failed++;
          this.#log.log(
            'error',
            `alerts: ${sink.name}: giving up on "${m.subject}" after ${attempt + 1} attempt(s): ${why}`,
            { event: 'alert-failed', sink: sink.name, attempts: attempt + 1 },
          );
          return;
        }
        q.status.retried++;
        const delay = backoffMs(attempt, sink.backoffMs, sink.maxBackoffMs);
        this.#log.log('warn', `alerts: ${sink.name}: attempt ${attempt + 1} failed (${why}); retrying in ${delay} ms`, {
          event: 'alert-retry',
          sink: sink.name,
        });
        const waited = await new Promise<boolean>((resolve) => {
          const stop = (): void => {
            c();
            resolve(false);
          };
          const c = this.#clock.at(this.#clock.now() + delay, () => {
            this.#timers.delete(stop);
            resolve(true);
          });
          this.#timers.add(stop);
        });
        if (!waited) {
          q.status.failed++;
          return;
        }
      } finally {
        cancel();
        this.#inflight.delete(ctl);
      }
    }
  }
}

/** An error's message, one line, without anything but the message (no stack, no request with credentials). */
function errText(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.replace(/\s+/g, ' ').slice(0, 300);
}
