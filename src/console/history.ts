/**
 * The console's history: a ring buffer of samples of this node's status (connections, check latency and result per
 * real server, instance states) and the spans of who held each instance's VIPs, kept for a bounded time so the
 * console can plot a selectable window. Pure: the sampler (history-plugin.ts) feeds it statuses with their time.
 */
import type { DaemonStatus } from '../api/contract.ts';

/** One real server in a sample. */
export interface ServerSample {
  key: string;
  active: number;
  inactive: number;
  weight: number;
  health: string;
  /** The last check's duration, when it has one. */
  latencyMs: number | null;
  /** The last check's result code (L4OK, L4CON, …). */
  code: string | null;
}

/** One sample: when, and the numbers of every virtual service's real servers. */
export interface Sample {
  /** Epoch milliseconds. */
  t: number;
  services: { name: string; servers: ServerSample[] }[];
}

/** Who held an instance's VIPs from `from` until `to` (null: still). `holder` is a node name or a master's address. */
export interface HolderSpan {
  holder: string;
  from: number;
  to: number | null;
}

/** The VIP ownership of one instance over time. */
export interface OwnershipTrack {
  instance: string;
  vips: string[];
  spans: HolderSpan[];
}

/** The last action taken on a target (`web/198.18.0.21:80`, `all`, a group), from the audit events: who and when. */
export interface LastAction {
  who: string;
  action: string;
  result: string;
  at: number;
}

/** What `GET /api/v1/history` returns. */
export interface HistoryReply {
  node: string;
  now: number;
  windowMs: number;
  intervalMs: number;
  samples: Sample[];
  ownership: OwnershipTrack[];
  /** By target: the last successful action on it (so the console says who set an admin state). */
  lastActions: Record<string, LastAction>;
}

/** Who holds an instance's VIPs, as one node sees it: itself when master, the master it hears otherwise. */
export function holderOf(status: DaemonStatus, inst: DaemonStatus['instances'][number]): string {
  if (inst.state === 'MASTER') return status.node;
  if (inst.master && !inst.master.self) return inst.master.addr;
  return 'none';
}

/** Turns a status into a sample. */
export function sampleOf(status: DaemonStatus, t: number): Sample {
  return {
    t,
    services: (status.lb?.services ?? []).map((s) => ({
      name: s.name,
      servers: s.servers.map((r) => ({
        key: r.key,
        active: r.conns.active,
        inactive: r.conns.inactive,
        weight: r.weight,
        health: r.health,
        latencyMs: r.check?.last ? Math.round(r.check.last.durationMs * 10) / 10 : null,
        code: r.check?.last?.code ?? null,
      })),
    })),
  };
}

/** A bounded history: at most `retentionMs` of samples, and ownership spans that ended within it. */
export class History {
  readonly #samples: Sample[] = [];
  readonly #tracks = new Map<string, OwnershipTrack>();
  readonly #actions = new Map<string, LastAction>();
  node = '';

  constructor(
    readonly retentionMs: number,
    readonly intervalMs: number,
    /** A hard bound on the number of samples, whatever the clock does. */
    readonly maxSamples = Math.ceil(retentionMs / intervalMs) + 1,
  ) {}

  /** Records a status read at `t`: a sample, and a new ownership span for every instance whose holder changed. */
  record(status: DaemonStatus, t: number, opts: { sample?: boolean } = {}): void {
    this.node = status.node;
    if (opts.sample !== false) {
      this.#samples.push(sampleOf(status, t));
      while (this.#samples.length > this.maxSamples) this.#samples.shift();
    }
    for (const inst of status.instances) {
      const holder = holderOf(status, inst);
      let track = this.#tracks.get(inst.name);
      if (!track) {
        track = { instance: inst.name, vips: inst.vips, spans: [] };
        this.#tracks.set(inst.name, track);
      }
      track.vips = inst.vips;
      const last = track.spans.at(-1);
      if (last && last.to === null && last.holder === holder) continue;
      if (last && last.to === null) last.to = t;
      track.spans.push({ holder, from: t, to: null });
    }
    this.#prune(t);
  }

  /** Records an audit event (`{type: 'audit', who, action, target, result}`); only actions that took effect. */
  recordAudit(e: Record<string, unknown>, t: number): void {
    if (typeof e.who !== 'string' || typeof e.action !== 'string' || typeof e.target !== 'string') return;
    if (e.result !== 'ok' || e.action === 'login' || e.action === 'logout') return;
    this.#actions.delete(e.target);
    this.#actions.set(e.target, { who: e.who, action: e.action, result: e.result, at: t });
    // Bounded: the oldest targets go first.
    while (this.#actions.size > 500) this.#actions.delete(this.#actions.keys().next().value!);
  }

  #prune(now: number): void {
    const cutoff = now - this.retentionMs;
    while (this.#samples.length > 0 && this.#samples[0]!.t < cutoff) this.#samples.shift();
    for (const track of this.#tracks.values()) {
      while (track.spans.length > 1 && (track.spans[0]!.to ?? now) < cutoff) track.spans.shift();
      if (track.spans.length > 1000) track.spans.splice(0, track.spans.length - 1000);
    }
  }

  /** The last `windowMs` (bounded by the retention) as of `now`. */
  window(windowMs: number, now: number): HistoryReply {
    const w = Math.min(Math.max(windowMs, this.intervalMs), this.retentionMs);
    const from = now - w;
    return {
      node: this.node,
      now,
      windowMs: w,
      intervalMs: this.intervalMs,
      samples: this.#samples.filter((s) => s.t >= from),
      ownership: [...this.#tracks.values()].map((tr) => ({
        instance: tr.instance,
        vips: tr.vips,
        spans: tr.spans.filter((s) => (s.to ?? now) >= from),
      })),
      lastActions: Object.fromEntries(this.#actions),
    };
  }
}

/** `15m`, `1h`, `90s`, `300000` (ms) → milliseconds, or null. */
export function parseWindow(text: string | undefined): number | null {
  if (text === undefined || text === '') return null;
  const m = /^(\d{1,7})(ms|s|m|h)?$/.exec(text);
  if (!m) return null;
  const n = Number(m[1]);
  const unit = m[2] ?? 'ms';
  return n * (unit === 'h' ? 3_600_000 : unit === 'm' ? 60_000 : unit === 's' ? 1_000 : 1);
}
