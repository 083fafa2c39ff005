/**
 * The user-space proxy data plane: one listener per virtual service (`proxy.listen`:`port`), TCP byte streams
 * (tcp.ts) or an HTTP/1.1 reverse proxy (http.ts), backends chosen by the service's scheduler with persistence and
 * passive health (pool.ts). `apply` converges: a new service starts listening, a changed one takes its new backends,
 * weights and settings in place (the listener and its connections stay), one whose address, port or mode changed
 * listens again (old connections finish on the old socket), a removed one stops listening and its connections may
 * finish for `closeGraceMs`.
 *
 * Carried: TCP services with method `nat` on a fixed port. Refused (TND_PROXY_UNSUPPORTED): UDP, direct routing (the
 * proxy makes its own connections to the real servers, so the real servers see the proxy's address, not the client's:
 * use X-Forwarded-For in http mode), and port 0 (every port).
 */
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { TandemError } from '../../core/errors.ts';
import type { Ms } from '../../core/time.ts';
import type {
  ApplyReport,
  ConnCount,
  ConnCounts,
  DataPlane,
  PassiveFailure,
  ProxySettings,
  ServiceProgram,
} from '../../lb/dataplane.ts';
import type { ProxyStats } from '../../lb/status.ts';
import { serverKey } from '../../lb/types.ts';
import { CLIENT_UNITS, type FdBudget, processFdBudget } from './fd-budget.ts';
import { createHttpListener, destroyUpstream, idleConnections, retireUpstream, reviveUpstream } from './http.ts';
import { BackendPool } from './pool.ts';
import {
  describeError,
  errnoOf,
  type Listener,
  type ResolvedSettings,
  resolveSettings,
  type ServiceCtx,
} from './service.ts';
import { ProxyStatsRecorder } from './stats.ts';
import { createTcpListener } from './tcp.ts';
import { DEFAULT_UPSTREAM_LIMITS, type UpstreamLimits } from './upstream.ts';

/** Options of {@link createProxyDataPlane}. */
export interface ProxyDataPlaneOptions {
  /** Monotonic milliseconds, for persistence and `tookMs`. @default performance.now */
  now?: () => Ms;
  /** One line per listener change and passive-health report (never per request). @default none */
  log?: (line: string) => void;
  /** How long connections of a removed (or re-listened) service may go on before they are cut. @default 30_000 */
  closeGraceMs?: Ms;
  /** Keep-alive pool limits per backend (http mode). @default {@link DEFAULT_UPSTREAM_LIMITS} */
  upstream?: Partial<UpstreamLimits>;
  /** The socket budget the listeners share. @default the process's, from RLIMIT_NOFILE (fd-budget.ts) */
  fdBudget?: FdBudget;
}

/** The default {@link ProxyDataPlaneOptions.closeGraceMs}. */
export const DEFAULT_CLOSE_GRACE_MS: Ms = 30_000;

/** A service as the data plane runs it. */
interface Running {
  ctx: ServiceCtx;
  program: ServiceProgram;
  fingerprint: string;
  /** `mode|listen|port` of the listener; null when the last attempt to listen failed. */
  listenKey: string | null;
  listener: Listener | null;
}

/** A listener that stopped accepting and lets its connections finish. */
interface Closing {
  ctx: ServiceCtx;
  listener: Listener;
}

const noop = (): void => {};

function listenKeyOf(p: ServiceProgram, s: ResolvedSettings): string {
  return `${s.mode}|${s.listen}|${p.port}`;
}

function fingerprintOf(p: ServiceProgram): string {
  return JSON.stringify([
    p.port,
    p.scheduler,
    p.persistence,
    p.sorry,
    p.backends.map((b) => [b.key, b.weight, b.op, b.reason]),
    p.proxy,
  ]);
}

const isWhole = (n: unknown, min: number): boolean => typeof n === 'number' && Number.isInteger(n) && n >= min;

/**
 * Checks that the proxy can carry `p`; throws TND_PROXY_UNSUPPORTED (udp, dr, port 0) or TND_PROXY_SETTINGS (no or
 * malformed `proxy` settings). Returns the settings.
 * @example checkProgram(program).mode // 'http'
 */
export function checkProgram(p: ServiceProgram): ProxySettings {
  const id = p.id;
  if (p.protocol !== 'tcp') {
    throw new TandemError(
      'TND_PROXY_UNSUPPORTED',
      `service ${id}: the proxy carries TCP only, not ${p.protocol}; use dataplane: nft for this service`,
    );
  }
  if (p.method !== 'nat') {
    throw new TandemError(
      'TND_PROXY_UNSUPPORTED',
      `service ${id}: method ${p.method} needs the kernel data plane (dataplane: nft); the proxy opens its own ` +
        'connections to the real servers (use method: nat)',
    );
  }
  if (p.port === 0) {
    throw new TandemError(
      'TND_PROXY_UNSUPPORTED',
      `service ${id}: port 0 (every port) cannot be proxied; give the service a port, or use dataplane: nft`,
    );
  }
  if (!isWhole(p.port, 1) || p.port > 65_535) {
    throw new TandemError('TND_PROXY_SETTINGS', `service ${id}: port must be 1..65535, got ${p.port}`);
  }
  const s = p.proxy;
  if (!s) throw new TandemError('TND_PROXY_SETTINGS', `service ${id}: no proxy settings (lb.services[].proxy)`);
  const bad = (what: string): never => {
    throw new TandemError('TND_PROXY_SETTINGS', `service ${id}: proxy.${what}`);
  };
  if (s.mode !== 'tcp' && s.mode !== 'http') bad(`mode must be tcp or http, got ${String(s.mode)}`);
  if (typeof s.listen !== 'string' || isIP(s.listen) === 0) bad(`listen must be an IP address, got ${s.listen}`);
  if (!isWhole(s.retries, 0)) bad(`retries must be a whole number ≥ 0, got ${s.retries}`);
  if (!isWhole(s.passiveFailures, 0)) bad(`passiveFailures must be a whole number ≥ 0, got ${s.passiveFailures}`);
  if (!isWhole(s.connectTimeoutMs, 1)) bad(`connectTimeoutMs must be a whole number ≥ 1, got ${s.connectTimeoutMs}`);
  if (!isWhole(s.idleTimeoutMs, 1)) bad(`idleTimeoutMs must be a whole number ≥ 1, got ${s.idleTimeoutMs}`);
  const optional = [
    'clientHeaderTimeoutMs',
    'clientBodyTimeoutMs',
    'keepAliveTimeoutMs',
    'responseTimeoutMs',
    'maxConnections',
    'maxHeaders',
    'maxHeaderBytes',
  ] as const;
  for (const k of optional) {
    const v = s[k];
    if (v !== undefined && !isWhole(v, 1)) bad(`${k} must be a whole number ≥ 1, got ${v}`);
  }
  // The proxy connects to each server itself: it needs a real address and port for every one (no "port 0").
  for (const e of p.sorry ? [...p.backends, p.sorry] : p.backends) {
    if (isIP(e.addr) === 0 || !isWhole(e.port, 1) || e.port > 65_535) {
      throw new TandemError(
        'TND_PROXY_SETTINGS',
        `service ${id}: real server ${serverKey(e.addr, e.port)} needs an IP address and a port 1..65535`,
      );
    }
  }
  return s;
}

/** A listen error in the operator's words, naming the service and the address. */
export function listenError(id: string, listen: string, port: number, e: unknown): TandemError {
  const where = serverKey(listen, port);
  const code = errnoOf(e);
  const hint =
    code === 'EADDRINUSE'
      ? ': another service or program listens there'
      : code === 'EACCES'
        ? ': ports below 1024 need root or CAP_NET_BIND_SERVICE'
        : code === 'EADDRNOTAVAIL'
          ? ': the address is not on this host (add it first, listen on 0.0.0.0, or set net.ipv4.ip_nonlocal_bind=1)'
          : '';
  return new TandemError('TND_PROXY_LISTEN', `service ${id}: cannot listen on ${where}: ${describeError(e)}${hint}`, {
    cause: e,
  });
}

class ProxyDataPlane implements DataPlane {
  readonly kind = 'proxy' as const;
  onPassiveFailure?: (f: PassiveFailure) => void;
  private readonly now: () => Ms;
  private readonly log: (line: string) => void;
  private readonly graceMs: Ms;
  private readonly limits: UpstreamLimits;
  private readonly budget: FdBudget;
  /** The last over-commitment warned about (sum of max_connections), so that it is logged once. */
  private warnedCommit = 0;
  private readonly running = new Map<string, Running>();
  private readonly closing = new Set<Closing>();
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** issue 12, metrics: requests, bytes and latencies of every service (stats.ts). */
  private readonly recorder = new ProxyStatsRecorder();

  constructor(opts: ProxyDataPlaneOptions) {
    this.now = opts.now ?? (() => performance.now());
    this.log = opts.log ?? noop;
    this.graceMs = opts.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS;
    this.limits = { ...DEFAULT_UPSTREAM_LIMITS, ...opts.upstream };
    this.budget = opts.fdBudget ?? processFdBudget();
  }

  apply(services: readonly ServiceProgram[], signal?: AbortSignal): Promise<ApplyReport> {
    const run = this.queue.then(() => this.converge(services, signal));
    this.queue = run.then(noop, noop);
    return run;
  }

  stats(): ProxyStats {
    return this.recorder.snapshot();
  }

  async connections(): Promise<ConnCounts> {
    const out: ConnCounts = new Map();
    const add = (ctx: ServiceCtx): void => {
      let m = out.get(ctx.id);
      if (!m) {
        m = new Map<string, ConnCount>();
        out.set(ctx.id, m);
      }
      for (const b of ctx.pool.all()) {
        const idle = idleConnections(b);
        if (!b.live && b.active === 0 && idle === 0) continue;
        const c = m.get(b.key);
        if (c) {
          c.active += b.active;
          c.inactive += idle;
        } else {
          m.set(b.key, { active: b.active, inactive: idle });
        }
      }
    };
    for (const r of this.running.values()) add(r.ctx);
    for (const c of this.closing) if (this.running.get(c.ctx.id)?.ctx !== c.ctx) add(c.ctx);
    return out;
  }

  close(): Promise<void> {
    this.closed = true;
    const run = this.queue.then(async () => {
      const waits: Promise<void>[] = [];
      for (const r of this.running.values()) {
        if (r.listener) waits.push(r.listener.destroy());
        r.ctx.pool.retireAll();
      }
      this.running.clear();
      for (const c of this.closing) waits.push(c.listener.destroy());
      await Promise.all(waits);
    });
    this.queue = run.then(noop, noop);
    return run;
  }

  private async converge(services: readonly ServiceProgram[], signal?: AbortSignal): Promise<ApplyReport> {
    if (this.closed) throw new TandemError('TND_PROXY_CLOSED', 'the proxy data plane is closed');
    signal?.throwIfAborted();
    const t0 = this.now();
    // Everything is checked before anything changes.
    const wanted = new Map<string, { p: ServiceProgram; s: ResolvedSettings }>();
    const addresses = new Map<string, string>();
    let committed = 0;
    for (const p of services) {
      const s = resolveSettings(checkProgram(p), this.budget);
      committed += s.maxConnections;
      if (wanted.has(p.id)) throw new TandemError('TND_PROXY_SETTINGS', `service ${p.id} is listed twice`);
      const where = serverKey(s.listen, p.port);
      const other = addresses.get(where);
      if (other !== undefined) {
        throw new TandemError('TND_PROXY_LISTEN', `services ${other} and ${p.id} both listen on ${where}`);
      }
      addresses.set(where, p.id);
      wanted.set(p.id, { p, s });
    }
    this.warnOvercommit(committed, wanted.size);
    const report: ApplyReport = { added: [], changed: [], removed: [], tookMs: 0 };
    // 1. Stop listening where a service went away or moved, so that its address is free for whoever takes it.
    for (const [id, r] of this.running) {
      const w = wanted.get(id);
      if (!w) {
        this.running.delete(id);
        this.retireListener(r);
        r.ctx.pool.retireAll();
        report.removed.push(id);
        this.log(`proxy: service ${id} removed; its connections may finish within ${this.graceMs} ms`);
      } else if (r.listenKey !== listenKeyOf(w.p, w.s)) {
        this.retireListener(r);
      }
    }
    // 2. Update the rest in place, start what is new.
    const errors: TandemError[] = [];
    for (const { p, s } of wanted.values()) {
      let r = this.running.get(p.id);
      const fingerprint = fingerprintOf(p);
      if (!r) {
        r = { ctx: this.makeCtx(p.id, s), program: p, fingerprint, listenKey: null, listener: null };
        r.ctx.pool.update(p);
        this.running.set(p.id, r);
        report.added.push(p.id);
      } else {
        if (r.fingerprint !== fingerprint) report.changed.push(p.id);
        r.program = p;
        r.fingerprint = fingerprint;
        r.ctx.settings = s;
        r.ctx.pool.update(p);
        r.listener?.reconfigure();
      }
      if (!r.listener) {
        const e = await this.listen(r, p, s);
        if (e) errors.push(e);
      }
    }
    report.tookMs = Math.max(0, Math.round(this.now() - t0));
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) {
      throw new TandemError('TND_PROXY_LISTEN', errors.map((e) => e.message).join('; '), { cause: errors });
    }
    return report;
  }

  /** Logs, once per new figure, when the services may together hold more connections than the budget allows. */
  private warnOvercommit(committed: number, services: number): void {
    const b = this.budget;
    if (services < 2 || committed <= b.connections) {
      this.warnedCommit = 0;
      return;
    }
    if (committed === this.warnedCommit) return;
    this.warnedCommit = committed;
    this.log(
      `proxy: the services' max_connections add up to ${committed}, more than the ${b.connections} connections ` +
        `the file-descriptor budget holds (RLIMIT_NOFILE ${b.nofile}, ${CLIENT_UNITS} per connection): a busy ` +
        'service can leave the others none; lower max_connections or raise LimitNOFILE',
    );
  }

  private makeCtx(id: string, settings: ResolvedSettings): ServiceCtx {
    const pool = new BackendPool(id);
    pool.setHooks({ retire: retireUpstream, revive: reviveUpstream, gone: destroyUpstream });
    const log = this.log;
    return {
      id,
      pool,
      settings,
      budget: this.budget,
      now: this.now,
      log,
      stats: this.recorder,
      report: (f: PassiveFailure) => {
        log(
          `proxy: service ${f.service}: backend ${f.backend} failed ${f.failures} times in a row (${f.code}): ${f.detail}`,
        );
        try {
          this.onPassiveFailure?.(f);
        } catch (e) {
          log(`proxy: the passive-failure handler threw: ${describeError(e)}`);
        }
      },
    };
  }

  private async listen(r: Running, p: ServiceProgram, s: ResolvedSettings): Promise<TandemError | null> {
    const listener = s.mode === 'http' ? createHttpListener(r.ctx, this.limits) : createTcpListener(r.ctx);
    try {
      await listener.listen(s.listen, p.port);
    } catch (e) {
      void listener.destroy();
      return listenError(p.id, s.listen, p.port, e);
    }
    r.listener = listener;
    r.listenKey = listenKeyOf(p, s);
    this.log(`proxy: service ${p.id} listens on ${serverKey(s.listen, p.port)} (${s.mode})`);
    return null;
  }

  private retireListener(r: Running): void {
    const listener = r.listener;
    r.listener = null;
    r.listenKey = null;
    if (!listener) return;
    const c: Closing = { ctx: r.ctx, listener };
    this.closing.add(c);
    void listener.drain(this.graceMs).then(() => this.closing.delete(c));
  }
}

/**
 * The user-space proxy data plane.
 * @example
 *   const dp = createProxyDataPlane({ log: (l) => logger.info(l) });
 *   dp.onPassiveFailure = (f) => model.markDown(f.service, f.backend, f.code);
 *   await dp.apply(programs);
 */
export function createProxyDataPlane(opts: ProxyDataPlaneOptions = {}): DataPlane {
  return new ProxyDataPlane(opts);
}
