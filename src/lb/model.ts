/**
 * The load balancer's model: pure reducers `(service, state, input, now) → { state, effects }` over the runtime state
 * of a virtual service's real servers, and `desiredState`, which turns configuration + state + time into what a data
 * plane programs. No clock, no timer, no I/O (Rule 1): slow start is a function of `now`, and a reducer that leaves a
 * ramp running returns an `arm` effect saying when to call {@link tick} next.
 *
 * Operational state is derived, never set directly: it is the first row of this table that matches (model.test.ts
 * checks the table against {@link OP_RULES} and {@link deriveOp} over every combination).
 *
 * <op-rules>
 *   health  maint  drain  ramping  op
 *   down    -      -      -        down
 *   up      yes    -      -        down
 *   up      no     yes    -        draining
 *   up      no     no     yes      starting
 *   up      no     no     no       up
 * </op-rules>
 *
 * `ramping` = `slowStartMs > 0` and `now < rampFromMs + slowStartMs`. A ramp starts when a server becomes eligible
 * for new connections (health up, leaving maint, leaving drain, added healthy) but never at start-up: as HAProxy says
 * of `slowstart`, it "never applies when HAProxy starts, otherwise it would cause trouble to running servers".
 *
 * Quorum, as keepalived's checker does it (keepalived/check/ipwrapper.c, `update_quorum_state` and
 * `weigh_live_realservers`; keepalived.conf(5): `hysteresis` "Tolerate this much weight units compared to the nominal
 * quorum, when considering quorum gain or loss. A flap dampener."): the weight sum counts the weight of every live
 * server (here: eligible, i.e. `up` or `starting`, at its full weight — the ramp does not move the quorum). With the
 * quorum up, it is lost when the sum is 0 or below `quorum − hysteresis`; with the quorum down, it is gained when the
 * sum reaches `quorum + hysteresis`. At start-up the quorum is up when the sum is ≥ `quorum + hysteresis`
 * (`set_quorum_states`, then `update_quorum_state(vs, init)`), and keepalived then runs `quorum_up` if it starts with
 * the quorum, but `quorum_down` only when a sorry server is configured; {@link initialServiceState} emits the same.
 *
 * Sorry server (keepalived.conf(5): "If a sorry server is configured, all real servers will be brought down when the
 * quorum is not achieved and be replaced with the sorry server"): while the quorum is down — or no real server is
 * eligible — new connections go to the sorry server; healthy real servers stay with weight 0 so that their existing
 * connections finish. Without a sorry server, losing the quorum changes nothing in the pool (keepalived only runs
 * `quorum_down`).
 */
import type { CheckResultCode } from '../core/check-codes.ts';
import { parseIp } from '../core/inet.ts';
import type { Ms } from '../core/time.ts';
import {
  type AdminSource,
  type BackendReason,
  type DesiredBackend,
  type DesiredService,
  type Endpoint,
  type HealthState,
  type LbChangeCause,
  type LbChangeDetail,
  MAX_WEIGHT,
  type OpState,
  type QuorumConfig,
  type QuorumState,
  type RealServerConfig,
  type RealServerState,
  type ServiceState,
  serverKey,
  type VirtualService,
} from './types.ts';

/** One row of the op-state table: `null` = any value. */
export interface OpRule {
  health: HealthState;
  maint: boolean | null;
  drain: boolean | null;
  ramping: boolean | null;
  op: OpState;
}

/** The op-state table of the module comment, as data (a test keeps the two equal). */
export const OP_RULES: readonly OpRule[] = [
  { health: 'down', maint: null, drain: null, ramping: null, op: 'down' },
  { health: 'up', maint: true, drain: null, ramping: null, op: 'down' },
  { health: 'up', maint: false, drain: true, ramping: null, op: 'draining' },
  { health: 'up', maint: false, drain: false, ramping: true, op: 'starting' },
  { health: 'up', maint: false, drain: false, ramping: false, op: 'up' },
];

/** What a reducer returns: the next state and what happened, as data. */
export interface LbStep {
  state: ServiceState;
  effects: LbEffect[];
}

/** An admin action's kind (the `tandem rs …` verbs). */
export type AdminDetail = Extract<LbChangeDetail, 'drain' | 'maint' | 'enable' | 'weight' | 'added' | 'removed'>;

/** What the model asks its driver to do or to report (Rule 9: events flow to logs, metrics, the API). */
export type LbEffect =
  /** A real server's operational state changed. */
  | {
      kind: 'op';
      service: string;
      server: string;
      from: OpState;
      to: OpState;
      cause: LbChangeCause;
      detail: LbChangeDetail;
      check?: CheckResultCode;
    }
  /** An admin action took effect (with who did it); `weight` is set for the weight action (null = reset). */
  | { kind: 'admin'; service: string; server: string; detail: AdminDetail; source: AdminSource; weight?: number | null }
  /**
   * The quorum was gained or lost: run `quorum_up` / `quorum_down`. `threshold` is the one compared against, as in
   * keepalived's log line "Gained quorum 3+1=4 <= 4" / "Lost quorum 3-1=2 > 1".
   */
  | { kind: 'quorum'; service: string; to: QuorumState; weightSum: number; threshold: number; init: boolean }
  /** The sorry server started or stopped taking new connections. */
  | { kind: 'sorry'; service: string; active: boolean; sorry: Endpoint }
  /** Call {@link tick} at `at` (a slow-start ramp steps up or ends then). */
  | { kind: 'arm'; service: string; at: Ms };

/** A health verdict from the checker's rise/fall hysteresis, with the result code that decided it. */
export interface HealthInput {
  server: string;
  health: HealthState;
  /** The checker's closed result code (L4OK, L4CON, L7STS, …), passed through to the change and the effect. */
  check?: CheckResultCode;
}

/** A runtime admin action (`tandem rs drain|enable|maint|weight|add|remove`), with who asked for it. */
export type AdminAction =
  | { kind: 'drain'; server: string; source: AdminSource }
  | { kind: 'maint'; server: string; source: AdminSource }
  | { kind: 'enable'; server: string; source: AdminSource }
  /** null resets to the configured weight. */
  | { kind: 'weight'; server: string; weight: number | null; source: AdminSource }
  /** A server added at runtime starts with `health` until its checker reports. @default health 'down' */
  | { kind: 'add'; server: RealServerConfig; source: AdminSource; health?: HealthState }
  | { kind: 'remove'; server: string; source: AdminSource };

/** Why an admin action was refused (closed set, Rule 5); expected outcomes are return values (Rule 8). */
export type AdminRefusal = 'unknown-server' | 'already-present' | 'bad-weight' | 'bad-port' | 'bad-address';

/** An admin action's outcome. */
export type AdminResult = ({ ok: true } & LbStep) | { ok: false; reason: AdminRefusal };

/** Start-up options. */
export interface InitialOptions {
  /** keepalived `alpha`: every real server starts down until its checker says up. @default false */
  alpha?: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// Derived values

/** The weight a server takes at full speed: the runtime override, else its configured weight. */
export function targetWeight(s: RealServerState): number {
  return s.weightOverride?.weight ?? s.weight;
}

/** Whether a server may take new connections as far as health and admin go (op `up` or `starting`). */
export function isEligible(s: Pick<RealServerState, 'health' | 'admin'>): boolean {
  return s.health === 'up' && !s.admin.maint && !s.admin.drain;
}

function isRamping(svc: VirtualService, s: RealServerState, now: Ms): boolean {
  return svc.slowStartMs > 0 && s.rampFromMs !== null && now < s.rampFromMs + svc.slowStartMs;
}

/** A server's operational state at `now`: the first matching row of {@link OP_RULES}. */
export function deriveOp(svc: VirtualService, s: RealServerState, now: Ms): OpState {
  const facts = { maint: !!s.admin.maint, drain: !!s.admin.drain, ramping: isRamping(svc, s, now) };
  const row = OP_RULES.find(
    (r) =>
      r.health === s.health &&
      (r.maint === null || r.maint === facts.maint) &&
      (r.drain === null || r.drain === facts.drain) &&
      (r.ramping === null || r.ramping === facts.ramping),
  );
  return row?.op ?? 'down';
}

/**
 * The slow-start weight `elapsedMs` into a ramp of `slowStartMs`: linear from 1 to `target`, rounded down, so a
 * server takes a trickle at once and its full share at the end.
 * @example rampWeight(10, 10_000, 5_000) // 5 (1 + 9 × ½ = 5.5, rounded down)
 */
export function rampWeight(target: number, slowStartMs: Ms, elapsedMs: Ms): number {
  if (target <= 0) return 0;
  if (slowStartMs <= 0 || elapsedMs >= slowStartMs) return target;
  const w = Math.floor(1 + ((target - 1) * Math.max(0, elapsedMs)) / slowStartMs);
  return Math.min(target, Math.max(1, w));
}

/** The weight a server takes new connections with at `now`: 0 unless `up` or `starting`; ramping while `starting`. */
export function effectiveWeight(svc: VirtualService, s: RealServerState, now: Ms): number {
  const op = deriveOp(svc, s, now);
  if (op === 'up') return targetWeight(s);
  if (op === 'starting') return rampWeight(targetWeight(s), svc.slowStartMs, now - (s.rampFromMs ?? now));
  return 0;
}

/** The quorum weight sum: full weights of the eligible servers (keepalived `weigh_live_realservers`). */
export function quorumWeight(state: Pick<ServiceState, 'servers'>): number {
  return state.servers.reduce((sum, s) => sum + (isEligible(s) ? Math.max(0, targetWeight(s)) : 0), 0);
}

/**
 * The threshold keepalived compares the weight sum against: `quorum − hysteresis` while the quorum is up,
 * `quorum + hysteresis` while it is down.
 */
export function quorumThreshold(q: QuorumConfig, current: QuorumState): number {
  return q.min + (current === 'up' ? -1 : 1) * q.hysteresis;
}

/**
 * The quorum after the weight sum became `weightSum` (keepalived `update_quorum_state`): lost when the sum is 0 or
 * below `quorum − hysteresis`, gained when it reaches `quorum + hysteresis`, otherwise unchanged.
 * @example nextQuorum({ min: 3, hysteresis: 1 }, 'up', 2) // 'up': 2 is not below 3 − 1
 */
export function nextQuorum(q: QuorumConfig, current: QuorumState, weightSum: number): QuorumState {
  const threshold = quorumThreshold(q, current);
  if (current === 'down') return weightSum >= threshold ? 'up' : 'down';
  return weightSum === 0 || weightSum < threshold ? 'down' : 'up';
}

/** Whether new connections go to the sorry server: one is configured, and the quorum is down or none is eligible. */
export function sorryActive(svc: VirtualService, state: ServiceState): boolean {
  return svc.sorry !== null && (state.quorum === 'down' || quorumWeight(state) === 0);
}

/** When {@link tick} should next run: the earliest slow-start weight step or ramp end; null when nothing ramps. */
export function nextTickMs(svc: VirtualService, state: ServiceState, now: Ms): Ms | null {
  let next: Ms | null = null;
  for (const s of state.servers) {
    if (deriveOp(svc, s, now) !== 'starting' || s.rampFromMs === null) continue;
    const end = s.rampFromMs + svc.slowStartMs;
    const target = targetWeight(s);
    let at = end;
    if (target > 1) {
      // The weight reaches w + 1 once 1 + (target − 1)·e/S ≥ w + 1, i.e. at e = ⌈w·S / (target − 1)⌉.
      const w = rampWeight(target, svc.slowStartMs, now - s.rampFromMs);
      at = Math.min(end, s.rampFromMs + Math.ceil((w * svc.slowStartMs) / (target - 1)));
    }
    if (at <= now) at = now + 1;
    next = next === null ? at : Math.min(next, at);
  }
  return next;
}

// ---------------------------------------------------------------------------------------------------------------
// Reducers

/**
 * The state of a service at start-up (or when it first appears on a reload): configured servers healthy (or down
 * with `alpha`), no ramp, the quorum from the weight sum. Effects: `quorum` up (init) if it starts with the quorum,
 * `quorum` down (init) only with a sorry server, as keepalived; `sorry` if the sorry server starts active.
 */
export function initialServiceState(svc: VirtualService, now: Ms, opts: InitialOptions = {}): LbStep {
  const health: HealthState = opts.alpha ? 'down' : 'up';
  const servers = svc.realServers.map((rs): RealServerState => {
    const s: RealServerState = {
      key: serverKey(rs.addr, rs.port),
      addr: rs.addr,
      port: rs.port,
      weight: rs.weight,
      origin: 'config',
      health,
      op: 'down',
      admin: {},
      weightOverride: null,
      rampFromMs: null,
      changed: { at: now, cause: 'config', detail: 'initial' },
    };
    return { ...s, op: deriveOp(svc, s, now) };
  });
  const weightSum = quorumWeight({ servers });
  const quorum: QuorumState = weightSum >= svc.quorum.min + svc.quorum.hysteresis ? 'up' : 'down';
  const state: ServiceState = { id: svc.id, quorum, servers };
  const effects: LbEffect[] = [];
  if (quorum === 'up' || svc.sorry) {
    effects.push({
      kind: 'quorum',
      service: svc.id,
      to: quorum,
      weightSum,
      threshold: quorumThreshold(svc.quorum, 'down'),
      init: true,
    });
  }
  if (svc.sorry && sorryActive(svc, state)) {
    effects.push({ kind: 'sorry', service: svc.id, active: true, sorry: svc.sorry });
  }
  return { state, effects };
}

/**
 * Applies a health verdict (the checker's rise/fall counter crossed its threshold). A verdict equal to the current
 * health, or for a server not in the pool, changes nothing.
 */
export function applyHealth(svc: VirtualService, state: ServiceState, input: HealthInput, now: Ms): LbStep {
  const s = state.servers.find((x) => x.key === input.server);
  if (!s || s.health === input.health) return { state, effects: [] };
  const detail: LbChangeDetail = input.health === 'up' ? 'health-up' : 'health-down';
  const { server, effects } = change(svc, state, s, { health: input.health }, now, 'health', detail, input.check);
  return settle(svc, state, replace(state, server), now, effects);
}

/** Applies a runtime admin action; its source is recorded in the server's `changed`, its admin flags and effects. */
export function applyAdmin(svc: VirtualService, state: ServiceState, action: AdminAction, now: Ms): AdminResult {
  if (action.kind === 'add') return add(svc, state, action, now);
  const s = state.servers.find((x) => x.key === action.server);
  if (!s) return { ok: false, reason: 'unknown-server' };
  const unchanged: AdminResult = { ok: true, state, effects: [] };
  const src = action.source;
  let patch: Partial<RealServerState>;
  let weight: number | null | undefined;
  switch (action.kind) {
    case 'drain':
      if (s.admin.drain === src) return unchanged;
      patch = { admin: { ...s.admin, drain: src } };
      break;
    case 'maint':
      if (s.admin.maint === src) return unchanged;
      patch = { admin: { ...s.admin, maint: src } };
      break;
    case 'enable':
      if (!s.admin.drain && !s.admin.maint) return unchanged;
      patch = { admin: {} };
      break;
    case 'weight':
      if (action.weight !== null && !validWeight(action.weight)) return { ok: false, reason: 'bad-weight' };
      if ((s.weightOverride?.weight ?? null) === action.weight) return unchanged;
      weight = action.weight;
      patch = { weightOverride: action.weight === null ? null : { weight: action.weight, source: src } };
      break;
    case 'remove': {
      const after: ServiceState = { ...state, servers: state.servers.filter((x) => x !== s) };
      const effects: LbEffect[] = [{ kind: 'admin', service: svc.id, server: s.key, detail: 'removed', source: src }];
      return { ok: true, ...settle(svc, state, after, now, effects) };
    }
  }
  const changed = change(svc, state, s, patch, now, src, action.kind);
  const adminEffect: LbEffect = { kind: 'admin', service: svc.id, server: s.key, detail: action.kind, source: src };
  if (weight !== undefined) adminEffect.weight = weight;
  return { ok: true, ...settle(svc, state, replace(state, changed.server), now, [adminEffect, ...changed.effects]) };
}

/**
 * Lets time pass: servers whose slow-start ramp ended become `up` (cause: whatever started the ramp). Returns the
 * next `arm` while ramps remain.
 */
export function tick(svc: VirtualService, state: ServiceState, now: Ms): LbStep {
  const effects: LbEffect[] = [];
  const servers = state.servers.map((s) => {
    const op = deriveOp(svc, s, now);
    if (op === s.op) return s;
    const cause = s.changed.cause;
    effects.push({ kind: 'op', service: svc.id, server: s.key, from: s.op, to: op, cause, detail: 'slow-start-done' });
    return { ...s, op, changed: { at: now, cause, detail: 'slow-start-done' as const } };
  });
  return settle(svc, state, { ...state, servers }, now, effects);
}

// ---------------------------------------------------------------------------------------------------------------
// Desired state

/**
 * What a data plane should program at `now`, one entry per service that has a state (a service without one is not
 * running here and is left out). Backends: `up` at full weight, `starting` at its ramp weight, `draining` and
 * inhibited (down with `inhibit_on_failure`) at weight 0, and every healthy one at weight 0 while the sorry server is
 * active; down (not inhibited) and maint servers are absent.
 */
export function desiredState(
  services: readonly VirtualService[],
  states: Readonly<Record<string, ServiceState>>,
  now: Ms,
): DesiredService[] {
  const out: DesiredService[] = [];
  for (const svc of services) {
    const state = states[svc.id];
    if (!state) continue;
    const sorry = sorryActive(svc, state);
    const backends: DesiredBackend[] = [];
    for (const s of state.servers) {
      const op = deriveOp(svc, s, now);
      let reason: BackendReason | null = null;
      let weight = 0;
      if (op === 'up' || op === 'starting') {
        reason = sorry ? 'quorum' : op;
        weight = sorry ? 0 : effectiveWeight(svc, s, now);
      } else if (op === 'draining') {
        reason = 'draining';
      } else if (s.health === 'down' && !s.admin.maint && svc.inhibitOnFailure) {
        reason = 'inhibited';
      }
      if (reason) backends.push({ key: s.key, addr: s.addr, port: s.port, weight, op, reason });
    }
    out.push({
      id: svc.id,
      vip: svc.vip,
      port: svc.port,
      protocol: svc.protocol,
      family: svc.family,
      scheduler: svc.scheduler,
      method: svc.method,
      persistence: svc.persistence,
      quorum: state.quorum,
      backends,
      sorry: sorry ? svc.sorry : null,
      ...(svc.fwmark !== undefined ? { fwmark: svc.fwmark } : {}),
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Internals

function validWeight(w: number): boolean {
  return Number.isInteger(w) && w >= 0 && w <= MAX_WEIGHT;
}

function replace(state: ServiceState, server: RealServerState): ServiceState {
  return { ...state, servers: state.servers.map((x) => (x.key === server.key ? server : x)) };
}

/** Applies a patch to one server: ramp bookkeeping, derived op, `changed`, and an `op` effect if op moved. */
function change(
  svc: VirtualService,
  state: ServiceState,
  s: RealServerState,
  patch: Partial<RealServerState>,
  now: Ms,
  cause: LbChangeCause,
  detail: LbChangeDetail,
  check?: CheckResultCode,
): { server: RealServerState; effects: LbEffect[] } {
  const next: RealServerState = { ...s, ...patch };
  if (!isEligible(next)) next.rampFromMs = null;
  else if (!isEligible(s)) next.rampFromMs = svc.slowStartMs > 0 ? now : null;
  next.op = deriveOp(svc, next, now);
  next.changed = check === undefined ? { at: now, cause, detail } : { at: now, cause, detail, check };
  const effects: LbEffect[] = [];
  if (next.op !== s.op) {
    const e: LbEffect = { kind: 'op', service: state.id, server: s.key, from: s.op, to: next.op, cause, detail };
    if (check !== undefined) e.check = check;
    effects.push(e);
  }
  return { server: next, effects };
}

function add(
  svc: VirtualService,
  state: ServiceState,
  action: Extract<AdminAction, { kind: 'add' }>,
  now: Ms,
): AdminResult {
  const rs = action.server;
  const parsed = parseIp(rs.addr, svc.family);
  if (!parsed) return { ok: false, reason: 'bad-address' };
  if (!Number.isInteger(rs.port) || rs.port < 0 || rs.port > 65_535) return { ok: false, reason: 'bad-port' };
  if (!validWeight(rs.weight)) return { ok: false, reason: 'bad-weight' };
  const key = serverKey(rs.addr, rs.port);
  if (state.servers.some((x) => x.key === key)) return { ok: false, reason: 'already-present' };
  const absent: RealServerState = {
    key,
    addr: rs.addr,
    port: rs.port,
    weight: rs.weight,
    origin: action.source,
    health: 'down',
    op: 'down',
    admin: {},
    weightOverride: null,
    rampFromMs: null,
    changed: { at: now, cause: action.source, detail: 'added' },
  };
  const { server, effects } = change(
    svc,
    state,
    absent,
    { health: action.health ?? 'down' },
    now,
    action.source,
    'added',
  );
  const after: ServiceState = { ...state, servers: [...state.servers, server] };
  const adminEffect: LbEffect = { kind: 'admin', service: svc.id, server: key, detail: 'added', source: action.source };
  return { ok: true, ...settle(svc, state, after, now, [adminEffect, ...effects]) };
}

/** After any change: quorum with hysteresis, sorry server in/out, and the next `arm`. */
function settle(svc: VirtualService, before: ServiceState, after: ServiceState, now: Ms, effects: LbEffect[]): LbStep {
  const weightSum = quorumWeight(after);
  const quorum = nextQuorum(svc.quorum, before.quorum, weightSum);
  const state = quorum === after.quorum ? after : { ...after, quorum };
  const out = [...effects];
  if (quorum !== before.quorum) {
    const threshold = quorumThreshold(svc.quorum, before.quorum);
    out.push({ kind: 'quorum', service: svc.id, to: quorum, weightSum, threshold, init: false });
  }
  if (svc.sorry) {
    const was = sorryActive(svc, before);
    const is = sorryActive(svc, state);
    if (was !== is) out.push({ kind: 'sorry', service: svc.id, active: is, sorry: svc.sorry });
  }
  const at = nextTickMs(svc, state, now);
  if (at !== null) out.push({ kind: 'arm', service: svc.id, at });
  return { state, effects: out };
}

/**
 * A service's state after a reload (Rule 6): runtime changes survive unless the config itself changed that server.
 * A server whose configured weight is the same as before keeps everything (health, admin flags, runtime weight,
 * ramp); a server added at runtime stays, and one removed at runtime stays removed, while the config does not name
 * it differently; a server the config changed starts over from the config but keeps its health (no flap). Servers
 * the config dropped leave. Then the quorum and sorry server settle as after any change.
 */
export function reloadServiceState(
  svc: VirtualService,
  prevSvc: VirtualService | undefined,
  prev: ServiceState | undefined,
  now: Ms,
  opts: InitialOptions = {},
): LbStep {
  const fresh = initialServiceState(svc, now, opts);
  if (!prev || !prevSvc) return fresh;
  const before = new Map(prev.servers.map((s) => [s.key, s]));
  const prevCfg = new Map(prevSvc.realServers.map((rs) => [serverKey(rs.addr, rs.port), rs]));
  const servers: RealServerState[] = [];
  for (const s of fresh.state.servers) {
    const old = before.get(s.key);
    const oldCfg = prevCfg.get(s.key);
    const unchanged = oldCfg !== undefined && oldCfg.weight === s.weight;
    if (unchanged && old?.origin === 'config') servers.push(old);
    else if (unchanged && !old)
      continue; // removed at runtime, config unchanged: stays removed
    else if (old) servers.push({ ...s, health: old.health });
    else servers.push(s);
  }
  const inConfig = new Set(servers.map((s) => s.key).concat([...prevCfg.keys()]));
  for (const s of prev.servers)
    if (s.origin !== 'config' && !fresh.state.servers.some((x) => x.key === s.key) && !inConfig.has(s.key))
      servers.push(s);
  const recomputed = servers.map((s) => ({ ...s, op: deriveOp(svc, s, now) }));
  return settle(
    svc,
    { ...prev, servers: prev.servers },
    { id: svc.id, quorum: prev.quorum, servers: recomputed },
    now,
    [],
  );
}
