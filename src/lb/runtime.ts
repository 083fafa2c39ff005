/**
 * The load balancer of one node: the model's state per virtual service, the health checks of the services this node
 * may serve, and the data planes that carry the services it serves now (its owner is MASTER here). Health verdicts,
 * admin actions and slow-start ticks go through the pure model (lb/model.ts); after each, the whole desired state is
 * handed to the data planes, one apply at a time, the latest state winning. The daemon runs this in a worker thread
 * (lb-worker.ts), so that checks, nft runs and proxied traffic never delay a VRRP advert (Rule 10); tests run it
 * in-process with fakes.
 */

import type { Logger } from '../core/log.ts';
import type { Rng } from '../core/rng.ts';
import type { Cancel, Clock, Ms } from '../core/time.ts';
import type { Checker } from '../health/checker.ts';
import { formatHealthChange } from '../health/format.ts';
import { type HealthChange, HealthScheduler } from '../health/scheduler.ts';
import type { CheckResult } from '../health/types.ts';
import type { ConnCounts, DataPlane, DataPlaneKind, PassiveFailure, ServiceProgram } from './dataplane.ts';
import {
  type AdminAction,
  type AdminRefusal,
  applyAdmin,
  applyHealth,
  desiredState,
  type LbEffect,
  type LbStep,
  reloadServiceState,
  tick,
} from './model.ts';
import { checkId, type LbPlan, type ServicePlan } from './service-plan.ts';
import { type LbServiceStatus, type LbStatus, parseServer, type RsOutcome, type RsVerb } from './status.ts';
import type { AdminSource, ServiceState } from './types.ts';

/** How long a real server without an active check stays out after a passive failure report (nginx fail_timeout). */
export const PASSIVE_HOLD_MS = 10_000;

/** What the runtime needs from outside. */
export interface LbRuntimeDeps {
  clock: Clock;
  rng: Rng;
  log: Logger;
  /** Makes the data plane of a kind; called once per kind, on first use. */
  dataplane(kind: DataPlaneKind): DataPlane;
  /** Runs a health probe. @default the real checkers */
  check?: Checker;
  /** Runs a quorum_up / quorum_down command (never blocks). */
  command(cmd: string, why: string): void;
  /** How often a drain looks at the connection counts. @default 500 */
  drainPollMs?: Ms;
  /** Wall-clock ms for status timestamps. @default clock.now */
  wallNow?: () => number;
}

interface Svc {
  plan: ServicePlan;
  state: ServiceState;
  tick: Cancel | null;
}

/** The load balancer of one node. */
export class LbRuntime {
  readonly #deps: LbRuntimeDeps;
  readonly #svcs = new Map<string, Svc>();
  readonly #planes = new Map<DataPlaneKind, DataPlane>();
  readonly #health: HealthScheduler;
  readonly #abort = new AbortController();
  #plan: LbPlan;
  #may = new Set<string>();
  #active = new Set<string>();
  #programmed = new Map<string, Set<string>>();
  readonly #programmedOk = new Map<string, Set<string>>();
  #failures = 0;
  readonly #passiveHolds = new Map<string, Cancel>();
  #applying: Promise<void> | null = null;
  #dirty = false;
  #retry: Cancel | null = null;
  #lastError: string | null = null;
  #started = false;
  #stopped = false;

  constructor(plan: LbPlan, deps: LbRuntimeDeps) {
    this.#deps = deps;
    this.#plan = plan;
    this.#health = new HealthScheduler({
      clock: deps.clock,
      rng: deps.rng,
      maxConcurrent: plan.maxConcurrentChecks,
      ...(deps.check ? { run: deps.check } : {}),
      onChange: (c) => this.#onHealth(c),
      onWeight: (id, weight) => this.#onWeight(id, weight),
    });
    const now = deps.clock.now();
    for (const sp of plan.services) this.#svcs.set(sp.svc.id, this.#initial(sp, undefined, undefined, now));
  }

  /** Starts the health checks of the services in scope (none until {@link setScope}). */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#health.start(this.#abort.signal);
  }

  /**
   * Which services this node may serve (their owner runs here: they are health-checked) and which it serves now
   * (their owner is MASTER here: they are programmed into the data planes).
   */
  setScope(may: Iterable<string>, active: Iterable<string>): void {
    const nextMay = new Set(may);
    const nextActive = new Set([...active].filter((id) => nextMay.has(id)));
    const mayChanged = !sameSet(nextMay, this.#may);
    const activeChanged = !sameSet(nextActive, this.#active);
    for (const id of nextActive)
      if (!this.#active.has(id)) this.#log('info', id, `serving virtual service ${this.#label(id)} on this node`);
    for (const id of this.#active)
      if (!nextActive.has(id)) this.#log('info', id, `no longer serving virtual service ${this.#label(id)}`);
    const standbyBefore = mayChanged && this.#hasHotStandby();
    this.#may = nextMay;
    this.#active = nextActive;
    if (mayChanged) this.#updateChecks();
    if (activeChanged || standbyBefore || (mayChanged && this.#hasHotStandby())) this.#sync();
  }

  /**
   * Direct-routing services are programmed wherever they may be served, MASTER or not (a hot standby): a netdev
   * table only sees packets sent to this node's MAC, which clients do once this node holds the VIP, and a new master
   * that had to build its table after taking the VIP would reset the flows that arrive in between.
   */
  #programHere(id: string): boolean {
    if (this.#active.has(id)) return true;
    const s = this.#svcs.get(id);
    return this.#may.has(id) && s !== undefined && s.plan.svc.method === 'dr' && s.plan.dataplane === 'nft';
  }

  #hasHotStandby(): boolean {
    for (const id of this.#may) if (this.#programHere(id) && !this.#active.has(id)) return true;
    return false;
  }

  /**
   * A new plan (reload): unchanged services and servers keep their state, runtime changes survive unless the config
   * changed that server (lb/model.ts reloadServiceState); checks whose probe is unchanged keep their counters.
   */
  reload(plan: LbPlan): { kept: string[]; changed: string[]; added: string[]; removed: string[] } {
    const out = { kept: [] as string[], changed: [] as string[], added: [] as string[], removed: [] as string[] };
    const now = this.#deps.clock.now();
    const next = new Map<string, Svc>();
    for (const sp of plan.services) {
      const old = this.#svcs.get(sp.svc.id);
      if (!old) out.added.push(sp.svc.id);
      else if (JSON.stringify(old.plan) === JSON.stringify(sp)) out.kept.push(sp.svc.id);
      else out.changed.push(sp.svc.id);
      old?.tick?.();
      const carried = old ? this.#carry(sp, old, now) : this.#initial(sp, undefined, undefined, now);
      next.set(sp.svc.id, carried);
    }
    for (const [id, old] of this.#svcs) {
      if (next.has(id)) continue;
      old.tick?.();
      out.removed.push(id);
    }
    this.#svcs.clear();
    for (const [id, s] of next) this.#svcs.set(id, s);
    this.#plan = plan;
    this.#may = new Set([...this.#may].filter((id) => next.has(id)));
    this.#active = new Set([...this.#active].filter((id) => next.has(id)));
    this.#updateChecks();
    this.#sync();
    return out;
  }

  /** A `tandem rs` request. A drain with `wait` resolves once the server's connections ended or the timeout passed. */
  async rs(service: string, req: RsVerb, source: AdminSource): Promise<RsOutcome> {
    const s = this.#svcs.get(service);
    if (!s) {
      const known = [...this.#svcs.keys()].join(', ') || 'none';
      return { ok: false, reason: 'unknown-service', message: `no virtual service ${service} (known: ${known})` };
    }
    const parsed = parseServer(req.server);
    if (!parsed)
      return { ok: false, reason: 'bad-server', message: `not ADDRESS:PORT ([ADDRESS]:PORT for IPv6): ${req.server}` };
    const key = parsed.key;
    let action: AdminAction;
    switch (req.verb) {
      case 'drain':
        action = { kind: 'drain', server: key, source };
        break;
      case 'enable':
        action = { kind: 'enable', server: key, source };
        break;
      case 'maint':
        action = { kind: 'maint', server: key, source };
        break;
      case 'weight':
        action = { kind: 'weight', server: key, weight: req.weight, source };
        break;
      case 'add':
        action = {
          kind: 'add',
          server: { addr: parsed.addr, port: parsed.port, weight: req.weight },
          source,
          // Without a check, a server added by hand is trusted at once; with one, it waits for its first pass.
          health: s.plan.checks.length ? 'down' : 'up',
        };
        break;
      case 'remove':
        action = { kind: 'remove', server: key, source };
        break;
    }
    const r = applyAdmin(s.plan.svc, s.state, action, this.#deps.clock.now());
    if (!r.ok) return { ok: false, reason: r.reason, message: refusalText(r.reason, service, req.server) };
    this.#step(s, r);
    if (req.verb === 'add' || req.verb === 'remove') this.#updateChecks();
    this.#sync();
    const done: RsOutcome = { ok: true, service, server: key, verb: req.verb };
    if (req.verb !== 'drain' || !req.wait) return done;
    await this.settled();
    return { ...done, drain: await this.#waitDrained(s, key) };
  }

  /** Resolves when no data-plane apply is in flight or pending. */
  async settled(): Promise<void> {
    while (this.#applying) await this.#applying;
  }

  /** Everything `tandem status` shows about load balancing. */
  async status(): Promise<LbStatus> {
    const conns = await this.#connections();
    const now = this.#deps.clock.now();
    const services: LbServiceStatus[] = [];
    for (const [id, s] of this.#svcs) {
      const svc = s.plan.svc;
      const desired = desiredState([svc], { [id]: s.state }, now)[0];
      const weights = new Map(desired?.backends.map((b) => [b.key, b.weight]) ?? []);
      const programmed = this.#programmed.get(id) ?? new Set<string>();
      const c = conns.get(id);
      services.push({
        name: id,
        vip: svc.vip,
        port: svc.port,
        protocol: svc.protocol,
        scheduler: svc.scheduler,
        method: svc.method,
        dataplane: s.plan.dataplane,
        persistence: svc.persistence,
        role: this.#active.has(id) ? 'serving' : this.#may.has(id) ? 'standby' : 'idle',
        note:
          svc.method === 'dr' && s.plan.dataplane === 'nft' && !s.plan.device
            ? 'direct routing without an interface (no VRRP instance holds the vip; set interface): not programmed'
            : null,
        owner: ownerText(s.plan),
        quorum: s.state.quorum,
        sorry: svc.sorry ? { ...svc.sorry, active: desired?.sorry != null } : null,
        servers: s.state.servers.map((rs) => {
          const check = this.#health.get(checkId(id, rs.key));
          return {
            key: rs.key,
            addr: rs.addr,
            port: rs.port,
            weight: weights.get(rs.key) ?? 0,
            configuredWeight: rs.weight,
            op: rs.op,
            health: rs.health,
            admin: rs.admin,
            weightOverride: rs.weightOverride,
            origin: rs.origin,
            programmed: programmed.has(rs.key),
            conns: c?.get(rs.key) ?? { active: 0, inactive: 0 },
            check: check ? { state: check.state, ...(check.last ? { last: check.last } : {}) } : null,
            changed: rs.changed,
          };
        }),
      });
    }
    const st = this.#health.stats();
    // issue 12, metrics: the proxy's traffic counters, when a data plane keeps them.
    const proxy = [...this.#planes.values()].find((p) => p.stats)?.stats?.();
    return {
      services,
      error: this.#lastError,
      checks: { targets: st.targets, inFlight: st.inFlight, runs: st.runs },
      ...(proxy ? { proxy } : {}),
    };
  }

  /** Stops checks and removes everything the data planes made. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#abort.abort();
    this.#retry?.();
    for (const c of this.#passiveHolds.values()) c();
    this.#passiveHolds.clear();
    for (const s of this.#svcs.values()) s.tick?.();
    await this.settled().catch(() => {});
    await Promise.all(
      [...this.#planes.values()].map((p) =>
        p.close().catch((e: unknown) => this.#deps.log.log('error', `data plane ${p.kind} close failed: ${String(e)}`)),
      ),
    );
    this.#planes.clear();
    await this.#health.stopped;
  }

  // -------------------------------------------------------------------------------------------------------------

  #initial(sp: ServicePlan, prevPlan: ServicePlan | undefined, prev: ServiceState | undefined, now: Ms): Svc {
    const svc: Svc = { plan: sp, state: { id: sp.svc.id, quorum: 'down', servers: [] }, tick: null };
    const step = reloadServiceState(sp.svc, prevPlan?.svc, prev, now, { alpha: sp.alpha });
    this.#step(svc, step);
    return svc;
  }

  #carry(sp: ServicePlan, old: Svc, now: Ms): Svc {
    return this.#initial(sp, old.plan, old.state, now);
  }

  #updateChecks(): void {
    const targets = [];
    for (const id of this.#may) {
      const s = this.#svcs.get(id);
      if (!s) continue;
      const present = new Set(s.state.servers.map((x) => x.key));
      for (const t of s.plan.checks) if (present.has(t.server)) targets.push({ id: t.id, check: t.check });
      // Servers added at runtime get the service's check (the first configured one's probe, aimed at them).
      const template = s.plan.checks[0];
      if (!template) continue;
      for (const rs of s.state.servers) {
        if (rs.origin === 'config' || s.plan.checks.some((t) => t.server === rs.key)) continue;
        const check = { ...template.check } as typeof template.check;
        if (check.kind !== 'script') Object.assign(check, { addr: rs.addr, port: rs.port });
        targets.push({ id: checkId(id, rs.key), check });
      }
    }
    this.#health.update(targets);
  }

  #onHealth(c: HealthChange): void {
    const [service, server] = splitCheckId(c.id);
    const s = this.#svcs.get(service);
    if (!s) return;
    this.#deps.log.log(c.up ? 'info' : 'warn', formatHealthChange(this.#label(service), server, c.up, c.result), {
      event: 'health',
      service,
      server,
      up: c.up,
      code: c.result.code,
    });
    const step = applyHealth(
      s.plan.svc,
      s.state,
      { server, health: c.up ? 'up' : 'down', check: c.result.code },
      this.#deps.clock.now(),
    );
    this.#step(s, step);
    this.#sync();
  }

  #onWeight(id: string, weight: number | undefined): void {
    const [service, server] = splitCheckId(id);
    const s = this.#svcs.get(service);
    if (!s) return;
    const r = applyAdmin(
      s.plan.svc,
      s.state,
      { kind: 'weight', server, weight: weight ?? null, source: 'config' },
      this.#deps.clock.now(),
    );
    if (!r.ok) return;
    this.#log(
      'info',
      service,
      `real server ${server}: dynamic weight (misc_dynamic or FILE_CHECK) ${weight ?? 'reset to configured'}`,
    );
    this.#step(s, r);
    this.#sync();
  }

  #onPassive(f: PassiveFailure): void {
    const result: CheckResult = {
      code: (['L4CON', 'L4TOUT'].includes(f.code) ? f.code : 'L4CON') as CheckResult['code'],
      detail: `passive: ${f.failures} consecutive connection failures (${f.detail})`,
      durationMs: 0,
    };
    if (this.#health.markDown(checkId(f.service, f.backend), result)) return;
    // No active check to bring it back: out for PASSIVE_HOLD_MS, then tried again (nginx max_fails/fail_timeout).
    const s = this.#svcs.get(f.service);
    if (!s) return;
    const key = checkId(f.service, f.backend);
    this.#log(
      'warn',
      f.service,
      `real server ${f.backend} down: ${result.code} ${result.detail}; no active check: retried in ${PASSIVE_HOLD_MS / 1000} s`,
    );
    this.#step(
      s,
      applyHealth(
        s.plan.svc,
        s.state,
        { server: f.backend, health: 'down', check: result.code },
        this.#deps.clock.now(),
      ),
    );
    this.#sync();
    this.#passiveHolds.get(key)?.();
    this.#passiveHolds.set(
      key,
      this.#deps.clock.at(this.#deps.clock.now() + PASSIVE_HOLD_MS, () => {
        this.#passiveHolds.delete(key);
        const cur = this.#svcs.get(f.service);
        if (!cur) return;
        this.#log('info', f.service, `real server ${f.backend}: passive hold over, trying it again`);
        this.#step(
          cur,
          applyHealth(cur.plan.svc, cur.state, { server: f.backend, health: 'up' }, this.#deps.clock.now()),
        );
        this.#sync();
      }),
    );
  }

  #step(s: Svc, step: LbStep): void {
    s.state = step.state;
    for (const e of step.effects) this.#effect(s, e);
  }

  #effect(s: Svc, e: LbEffect): void {
    const id = s.plan.svc.id;
    switch (e.kind) {
      case 'op':
        this.#deps.log.log(
          e.cause === 'health' ? 'debug' : 'info',
          `(${id}) real server ${e.server}: ${e.from} → ${e.to} (${e.detail}${e.cause === 'health' ? '' : ` by ${e.cause}`})`,
          { event: 'lb-op', service: id, server: e.server, from: e.from, to: e.to, cause: e.cause, detail: e.detail },
        );
        return;
      case 'admin':
        return;
      case 'quorum': {
        const vs = this.#label(id);
        const cmp = e.to === 'up' ? '>=' : '<';
        this.#deps.log.log(
          e.to === 'up' ? 'info' : 'warn',
          `${e.to === 'up' ? 'Gained' : 'Lost'} quorum ${e.weightSum} ${cmp} ${e.threshold} for VS ${vs}`,
          { event: 'quorum', service: id, to: e.to, weightSum: e.weightSum },
        );
        const cmd = e.to === 'up' ? s.plan.quorumUp : s.plan.quorumDown;
        if (cmd) this.#deps.command(cmd, `quorum_${e.to} of ${id}`);
        return;
      }
      case 'sorry':
        this.#log(
          e.active ? 'warn' : 'info',
          id,
          `sorry server ${e.sorry.addr}:${e.sorry.port} ${e.active ? 'takes' : 'no longer takes'} new connections`,
        );
        return;
      case 'arm': {
        s.tick?.();
        s.tick = this.#deps.clock.at(e.at, () => {
          s.tick = null;
          this.#step(s, tick(s.plan.svc, s.state, this.#deps.clock.now()));
          this.#sync();
        });
        return;
      }
    }
  }

  #sync(): void {
    if (this.#stopped) return;
    this.#dirty = true;
    if (!this.#applying)
      this.#applying = this.#loop().finally(() => {
        this.#applying = null;
      });
  }

  async #loop(): Promise<void> {
    while (this.#dirty && !this.#stopped) {
      this.#dirty = false;
      await this.#applyOnce();
    }
  }

  async #applyOnce(): Promise<void> {
    const now = this.#deps.clock.now();
    const byKind = new Map<DataPlaneKind, ServiceProgram[]>([
      ['nft', []],
      ['proxy', []],
      ['haproxy', []],
    ]);
    const programmed = new Map<string, Set<string>>();
    for (const id of this.#may) {
      if (!this.#programHere(id)) continue;
      const s = this.#svcs.get(id);
      // Direct routing without an interface (tandem check warns): checked, shown, not programmed.
      if (!s || (s.plan.svc.method === 'dr' && s.plan.dataplane === 'nft' && !s.plan.device)) continue;
      const d = desiredState([s.plan.svc], { [id]: s.state }, now)[0];
      if (!d) continue;
      const prog: ServiceProgram =
        s.plan.dataplane === 'nft'
          ? { ...d, snat: s.plan.snat, ...(s.plan.device ? { device: s.plan.device } : {}) }
          : s.plan.dataplane === 'haproxy'
            ? {
                ...d,
                proxy: s.plan.proxy,
                pool: s.state.servers.map((rs) => ({ key: rs.key, addr: rs.addr, port: rs.port, weight: rs.weight })),
                sorryServer: s.plan.svc.sorry,
              }
            : { ...d, proxy: s.plan.proxy };
      byKind.get(s.plan.dataplane)!.push(prog);
      programmed.set(id, new Set(d.backends.map((b) => b.key)));
    }
    let failed: string | null = null;
    for (const [kind, list] of byKind) {
      if (list.length === 0 && !this.#planes.has(kind)) continue;
      try {
        const plane = this.#plane(kind);
        const r = await plane.apply(list, this.#abort.signal);
        for (const p of list) {
          const keys = programmed.get(p.id);
          if (keys) this.#programmedOk.set(p.id, keys);
        }
        if (r.added.length || r.changed.length || r.removed.length)
          this.#deps.log.log(
            'debug',
            `${kind}: applied in ${r.tookMs} ms (added ${r.added.join(' ') || '-'}, changed ${r.changed.join(' ') || '-'}, removed ${r.removed.join(' ') || '-'})`,
          );
      } catch (e) {
        failed = `${kind}: ${(e as Error).message ?? String(e)}`;
        this.#deps.log.log('error', `data plane ${failed}; retrying`, { event: 'dataplane-error', kind });
      }
    }
    // What the status calls programmed: services whose data plane took the last apply; a failed one keeps what
    // it had before (the data plane converges or leaves the kernel as it was).
    for (const id of [...this.#programmedOk.keys()]) if (!programmed.has(id)) this.#programmedOk.delete(id);
    this.#programmed = new Map(this.#programmedOk);
    this.#lastError = failed;
    // Retry soon, then less often: a listen that failed because the VIP was not there yet succeeds a moment later.
    this.#failures = failed ? this.#failures + 1 : 0;
    if (failed && !this.#stopped) {
      this.#retry?.();
      const waitMs = Math.min(1_000, 100 * 2 ** Math.min(4, this.#failures - 1));
      this.#retry = this.#deps.clock.at(this.#deps.clock.now() + waitMs, () => {
        this.#retry = null;
        this.#sync();
      });
    }
  }

  #plane(kind: DataPlaneKind): DataPlane {
    let p = this.#planes.get(kind);
    if (!p) {
      p = this.#deps.dataplane(kind);
      p.onPassiveFailure = (f) => this.#onPassive(f);
      this.#planes.set(kind, p);
    }
    return p;
  }

  async #connections(): Promise<ConnCounts> {
    const all: ConnCounts = new Map();
    for (const p of this.#planes.values()) {
      try {
        for (const [svc, m] of await p.connections(this.#abort.signal)) all.set(svc, m);
      } catch (e) {
        this.#deps.log.log('debug', `${p.kind}: connection counts unavailable: ${String(e)}`);
      }
    }
    return all;
  }

  async #waitDrained(
    s: Svc,
    key: string,
  ): Promise<{ done: boolean; waitedMs: number; active: number; inactive: number; served: boolean }> {
    const clock = this.#deps.clock;
    const start = clock.now();
    const id = s.plan.svc.id;
    const served = this.#active.has(id);
    const poll = this.#deps.drainPollMs ?? 500;
    for (;;) {
      const c = served ? ((await this.#connections()).get(id)?.get(key) ?? { active: 0, inactive: 0 }) : null;
      const waited = clock.now() - start;
      if (!c || c.active === 0) {
        this.#log('info', id, `real server ${key} drained in ${waited} ms`);
        return { done: true, waitedMs: waited, active: 0, inactive: c?.inactive ?? 0, served };
      }
      if (waited >= s.plan.drainTimeoutMs || this.#stopped) {
        this.#log('warn', id, `real server ${key}: drain timed out after ${waited} ms with ${c.active} active`);
        return { done: false, waitedMs: waited, active: c.active, inactive: c.inactive, served };
      }
      await new Promise<void>((resolve) => clock.at(clock.now() + poll, resolve));
    }
  }

  #label(id: string): string {
    const s = this.#svcs.get(id)?.plan.svc;
    if (!s) return id;
    const vip = s.vip.includes(':') ? `[${s.vip}]` : s.vip;
    return `${id} ${vip}:${s.port}/${s.protocol}`;
  }

  #log(level: 'info' | 'warn', service: string, msg: string): void {
    this.#deps.log.log(level, `(${service}) ${msg}`, { event: 'lb', service });
  }
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

function splitCheckId(id: string): [string, string] {
  const i = id.indexOf('/');
  return [id.slice(0, i), id.slice(i + 1)];
}

function ownerText(sp: ServicePlan): string {
  const o = sp.owner;
  return o.kind === 'always' ? 'every node' : o.kind === 'group' ? `sync group ${o.name}` : `instance ${o.name}`;
}

function refusalText(reason: AdminRefusal, service: string, server: string): string {
  switch (reason) {
    case 'unknown-server':
      return `${server} is not a real server of ${service}`;
    case 'already-present':
      return `${server} is already a real server of ${service}`;
    case 'bad-weight':
      return 'weight must be a whole number 0..65535';
    case 'bad-port':
      return `bad port in ${server}`;
    case 'bad-address':
      return `${server}: the address is not of the service's family`;
  }
}
