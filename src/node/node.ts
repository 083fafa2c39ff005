/**
 * One node's runtime: runs its VRRP instances and sync groups with the ports it is given, wires trackers and notify
 * scripts, and lets the elector (election/vrrp.ts) decide what this node owns; resource groups (groups.ts) and the load
 * balancer's scope (lb-scope.ts) follow the elector and nothing else. Reloads by diff, answers status, standby and
 * takeover. Real ports come from daemon/real-deps.ts, fakes from sim/cluster.ts: the same code runs on a host and
 * under simulated time.
 */
import { diffById, sameValue } from '../core/diff.ts';
import { TandemError } from '../core/errors.ts';
import { EventBus } from '../core/events.ts';
import type { Elector, OwnerRef } from '../election/elector.ts';
import { guardMessage } from '../election/takeover-guard.ts';
import { VrrpElector } from '../election/vrrp.ts';
import type { NodePlan, NotifySpec } from '../plan/node-plan.ts';
import { SyncGroupRunner, type VrrpEvents, VrrpInstance } from '../vrrp/instance.ts';
import type { InstanceState } from '../vrrp/machine.ts';
import { trackerEffect } from '../vrrp/trackers.ts';
import { type InstanceConfig, VRRP_DROPS, type VrrpDrop } from '../vrrp/types.ts';
import { EtcdNodeElection } from './etcd-election.ts';
import { ResourceGroups } from './groups.ts';
import { NodeGuard, nodeOfAddress } from './guard.ts';
import { lbScope } from './lb-scope.ts';
import { type MultiPathTransport, multiPath } from './paths.ts';
import type { GroupPort, InstanceSelector, InstanceTransportPort, NodeDeps } from './ports.ts';
import type { DaemonStatus, GuardStatus, InstanceCounters, ReloadSummary } from './status.ts';
import { startTrackers } from './trackers.ts';

export type * from './ports.ts';
export type * from './status.ts';

interface Running {
  cfg: InstanceConfig;
  vi: VrrpInstance;
  transport: InstanceTransportPort;
  src: string;
  counters: InstanceCounters;
  lastTransitionWall: number | null;
  /** The joined transports, when the instance has more than one heartbeat path. */
  paths?: MultiPathTransport;
  guard: GuardStatus['counters'];
}

const emptyCounters = (): InstanceCounters => ({
  advertsSent: 0,
  advertsReceived: 0,
  drops: Object.fromEntries(VRRP_DROPS.map((d) => [d, 0])) as Record<VrrpDrop, number>,
});

/**
 * Runs one node.
 * @example const n = new TandemNode(plan, deps, 'tandem.yaml'); n.start(); … await n.stopResourceGroups(); n.stop();
 */
export class TandemNode {
  readonly events = new EventBus<VrrpEvents>();
  /** What VRRP says this node owns (instances and sync groups). */
  readonly elector: VrrpElector;
  /**
   * Who owns what: the only source of ownership for groups, the LB scope and status. The VRRP elector, or (etcd issue)
   * the VRRP elector joined with the etcd lease elector (node/etcd-election.ts).
   */
  readonly owners: Elector;
  readonly #etcd: EtcdNodeElection | null;
  readonly #deps: NodeDeps;
  readonly #instances = new Map<string, Running>();
  readonly #groups: ResourceGroups;
  #stopTrackers: (() => void)[] = [];
  #runners: SyncGroupRunner[] = [];
  #plan: NodePlan;
  #configName: string;
  #since = 0;
  #stopped = false;
  readonly #guard: NodeGuard;
  #peer: { key: string; server: ReturnType<NonNullable<NodeDeps['peerServer']>> } | null = null;

  constructor(plan: NodePlan, deps: NodeDeps, configName: string) {
    this.#plan = plan;
    this.#deps = deps;
    this.#configName = configName;
    this.elector = new VrrpElector({ clock: deps.clock, tokenBase: this.#wall() });
    this.#etcd = EtcdNodeElection.create(plan, deps, this.elector, (name) => this.#instances.get(name));
    this.owners = this.#etcd?.owners ?? this.elector;
    this.#groups = new ResourceGroups({
      make: deps.groupRunner,
      elector: this.owners,
      log: deps.log,
      interfaceOf: (o) => this.#instances.get(membersOf(o)[0]!)?.cfg.interface,
      setTracker: (o, group, up) => {
        // A lease-owned group that gives up resigns its lease (the next node campaigns) until it may own again.
        if (o.kind === 'lease') this.#etcd?.setEligible(o, up);
        for (const m of membersOf(o)) this.#instances.get(m)?.vi.setTracker(`group:${group}`, up);
      },
      lbChanged: () => this.#lbScope(),
    });
    this.owners.onChange(() => {
      this.#groups.syncOwners();
      this.#lbScope();
    });
    this.#guard = new NodeGuard({
      clock: deps.clock,
      plan: () => this.#plan,
      ...(deps.guardProbes ? { probes: deps.guardProbes } : {}),
      ...(deps.fence ? { fence: deps.fence } : {}),
      events: this.events,
      learned: (addr) => [...this.#instances.values()].flatMap((r) => r.paths?.aliases(addr) ?? []),
    });
    this.#logSplitBrain();
    this.events.on('transition', (e) => this.#onTransition(e));
    this.events.on('drop', (e) => {
      const r = this.#instances.get(e.instance);
      if (r) r.counters.drops[e.reason]++;
      deps.log.log('debug', `(${e.instance}) dropped packet from ${e.src}: ${e.reason} (${e.detail})`, {
        event: 'drop',
        instance: e.instance,
        src: e.src,
        reason: e.reason,
      });
    });
    this.events.on('advertSent', (e) => {
      const r = this.#instances.get(e.instance);
      if (r) r.counters.advertsSent++;
    });
    this.events.on('advertReceived', (e) => {
      const r = this.#instances.get(e.instance);
      if (r) r.counters.advertsReceived++;
    });
    this.events.on('vips', (e) => {
      deps.log.log('info', `(${e.instance}) ${e.op === 'add' ? 'adding' : 'removing'} VIPs ${e.addrs.join(' ')}`, {
        event: 'vips',
        instance: e.instance,
        op: e.op,
        addrs: e.addrs,
      });
    });
    this.events.on('handover', (e) => {
      const text =
        e.phase === 'started'
          ? e.newMaster
            ? `handing over to ${e.newMaster} (${e.cause}): keeping the VIPs until it has them`
            : `handing over (${e.cause}): sent priority 0; keeping the VIPs until a new master is heard, at most ${Math.max(0, (e.until ?? 0) - e.at)} ms`
          : e.phase === 'new-master'
            ? `handover: new master ${e.newMaster} heard after ${e.elapsedMs} ms; removing the VIPs in ${Math.max(0, (e.until ?? 0) - e.at)} ms`
            : e.reason === 'deadline'
              ? `handover: no new master heard within ${e.elapsedMs} ms; releasing the VIPs anyway`
              : `handover ${e.reason === 'interrupted' ? 'cut short' : 'done'} after ${e.elapsedMs} ms`;
      deps.log.log(e.reason === 'deadline' ? 'warn' : 'info', `(${e.instance}) ${text}`, {
        event: 'handover',
        instance: e.instance,
        phase: e.phase,
        cause: e.cause,
        ...(e.newMaster ? { newMaster: e.newMaster } : {}),
        ...(e.reason ? { reason: e.reason } : {}),
        elapsedMs: e.elapsedMs,
      });
    });
    this.events.on('effectFailed', (e) => {
      deps.log.log('error', `(${e.instance}) ${e.effect} failed: ${e.error}`, { event: 'effectFailed', ...e });
    });
  }

  /** The plan in force. */
  get plan(): NodePlan {
    return this.#plan;
  }

  /** Starts every instance, sync group, tracker and resource group. */
  start(): void {
    this.#since = this.#wall();
    this.#servePeer();
    for (const cfg of this.#plan.instances) this.#startInstance(cfg);
    this.#startSyncGroups();
    this.#startTrackers();
    this.#etcd?.start(this.#plan);
    this.#groups.start(this.#plan.groups ?? []);
    this.#lbScope();
  }

  /**
   * Stops every resource group right to left and waits for it (heartbeat stops the resources, then releases the
   * address). Call before {@link stop}, so that services stop while this node still holds its VIPs.
   */
  stopResourceGroups(): Promise<void> {
    return this.#groups.shutdown();
  }

  /** A group's runner by name (maintenance, cleanup). */
  group(name: string): GroupPort | undefined {
    return this.#groups.get(name);
  }

  /** A group's runner by name; throws TandemError TND_CTL_UNKNOWN_GROUP when this node runs no such group. */
  requireGroup(name: string): GroupPort {
    const g = this.#groups.get(name);
    if (!g) {
      const known = (this.#plan.groups ?? []).map((x) => x.def.name).join(', ') || 'none';
      throw new TandemError('TND_CTL_UNKNOWN_GROUP', `this node runs no group ${name} (running: ${known})`);
    }
    return g;
  }

  /**
   * Graceful stop: masters send priority 0 and remove their VIPs; trackers and sockets close. Resolves once every
   * address change it asked for is done (the VIPs are gone), so that the caller may close the sockets then.
   * With `handover` (the daemon's SIGTERM), make-before-break (docs/handover.md): each master keeps its VIPs, and the
   * load balancer keeps serving them, until a new master has been heard or the handover deadline passed.
   */
  stop(opts: { handover?: boolean } = {}): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    this.#stopped = true;
    this.#peer?.server.stop();
    this.#peer = null;
    for (const stop of this.#stopTrackers.splice(0)) stop();
    for (const g of this.#runners) g.dispose();
    this.#runners = [];
    // Groups not stopped already (stopResourceGroups) stop now, in the background, right to left.
    this.#groups.stop();
    if (opts.handover) {
      const handovers = [...this.#instances.keys()].map((name) => this.#handOverInstance(name));
      return Promise.all(handovers).then(() => this.#deps.lb?.setScope([], []));
    }
    const settled = [...this.#instances.values()].map((r) => r.vi);
    for (const name of [...this.#instances.keys()]) this.#stopInstance(name);
    this.#deps.lb?.setScope([], []);
    // etcd issue: the leases go once the VIPs are gone (a planned move: the next owner campaigns at once).
    return Promise.all(settled.map((vi) => vi.vipsSettled)).then(() => this.#etcd?.stop());
  }

  /**
   * Like SIGKILL: every instance stops listening and its timers go, with no effects (no priority 0; the VIPs stay on
   * the host), resource groups are dropped as they are, and no tracker reports any more. The simulator's `kill`.
   */
  kill(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#peer?.server.stop();
    this.#peer = null;
    for (const stop of this.#stopTrackers.splice(0)) stop();
    for (const g of this.#runners) g.dispose();
    this.#runners = [];
    this.#groups.abandon();
    this.#etcd?.kill();
    for (const [name, r] of [...this.#instances]) {
      r.vi.kill();
      r.transport.close();
      this.#instances.delete(name);
      this.elector.detach(name);
    }
  }

  /** Tells the load balancer which virtual services this node may serve and serves now (lb-scope.ts). */
  #lbScope(): void {
    const lb = this.#deps.lb;
    if (!lb || this.#stopped) return;
    const { may, active } = lbScope(
      this.#plan.lb?.services ?? [],
      (o) => this.owners.ownership(o),
      this.#groups.serving,
    );
    lb.setScope(may, active);
  }

  /** Instances by name (for the supervisor's snapshot). */
  instanceStates(): { cfg: InstanceConfig; src: string; state: InstanceState }[] {
    return [...this.#instances.values()].map((r) => ({ cfg: r.cfg, src: r.src, state: r.vi.state }));
  }

  /** The running driver of an instance (the simulator reaches the machine through it). */
  instance(name: string): VrrpInstance | undefined {
    return this.#instances.get(name)?.vi;
  }

  /**
   * Applies a new plan: unchanged instances keep their state and their VIPs untouched; changed ones restart;
   * removed ones stop (a master hands over with priority 0); new ones start. Trackers restart.
   */
  reload(plan: NodePlan, configName = this.#configName): ReloadSummary {
    for (const stop of this.#stopTrackers.splice(0)) stop();
    for (const g of this.#runners) g.dispose();
    this.#runners = [];
    const old = [...this.#instances.values()].map((r) => r.cfg);
    const d = diffById(old, plan.instances, (c) => c.name, sameValue);
    const next = new Map(plan.instances.map((c) => [c.name, c]));
    for (const name of d.removed) this.#stopInstance(name);
    for (const name of d.changed) {
      this.#stopInstance(name);
      this.#startInstance(next.get(name)!);
    }
    this.#plan = plan;
    for (const name of d.added) this.#startInstance(next.get(name)!);
    this.#configName = configName;
    this.#servePeer();
    this.#startSyncGroups();
    this.#startTrackers();
    this.#etcd?.reload(plan);
    this.#groups.reload(plan.groups ?? []);
    this.#lbScope();
    return {
      kept: old.filter((c) => d.kept.includes(c.name)).map((c) => c.name),
      restarted: old.filter((c) => d.changed.includes(c.name)).map((c) => c.name),
      started: d.added,
      stopped: d.removed,
    };
  }

  /**
   * heartbeat's hb_standby: named instances (or all) drop to priority 1 and, if master, hand over at once; `clear`
   * restores the configured priority.
   */
  standby(names: readonly string[] | InstanceSelector, clear = false): string[] {
    return this.#select(names).map((r) => {
      r.vi.setPriority(clear ? null : 1, !clear);
      this.#deps.log.log('info', `(${r.cfg.name}) ${clear ? 'standby cleared' : 'standby requested'}`, {
        event: 'standby',
        instance: r.cfg.name,
        clear,
      });
      return r.cfg.name;
    });
  }

  /** heartbeat's hb_takeover: named instances (or all) take priority 255 and become master at once. */
  takeover(names: readonly string[] | InstanceSelector, clear = false): string[] {
    return this.#select(names).map((r) => {
      r.vi.setPriority(clear ? null : 255);
      this.#deps.log.log('info', `(${r.cfg.name}) ${clear ? 'takeover cleared' : 'takeover requested'}`, {
        event: 'takeover',
        instance: r.cfg.name,
        clear,
      });
      return r.cfg.name;
    });
  }

  /** Everything `tandem status` shows. */
  status(): DaemonStatus {
    const groupOf = new Map(this.#plan.syncGroups.flatMap((g) => g.members.map((m) => [m, g.name] as const)));
    return {
      node: this.#plan.node,
      since: new Date(this.#since).toISOString(),
      config: this.#configName,
      instances: [...this.#instances.values()].map((r) => {
        const s = r.vi.state;
        const group = groupOf.get(r.cfg.name);
        return {
          name: r.cfg.name,
          interface: r.cfg.interface,
          vrid: r.cfg.vrid,
          version: r.cfg.version,
          family: r.cfg.family,
          state: s.state,
          priority: {
            configured: r.cfg.priority,
            override: s.priorityOverride,
            effective: s.effectivePriority,
            trackers: r.cfg.trackers.map((t) => {
              const up = s.trackers[t.id] ?? true;
              const effect = trackerEffect(t.weight, !!t.reverse, up);
              return { id: t.id, up, weight: t.weight, effect };
            }),
          },
          master:
            s.state === 'MASTER'
              ? { self: true }
              : s.master
                ? { self: false, addr: s.master.addr, priority: s.master.priority }
                : null,
          source: r.src,
          vips: r.cfg.vips.map((v) => `${v.addr}/${v.prefix}${v.dev ? ` dev ${v.dev}` : ''}`),
          lastTransition:
            s.lastTransition && r.lastTransitionWall !== null
              ? {
                  at: new Date(r.lastTransitionWall).toISOString(),
                  from: s.lastTransition.from,
                  to: s.lastTransition.to,
                  cause: s.lastTransition.cause,
                }
              : null,
          counters: structuredClone(r.counters),
          ...(group ? { syncGroup: group } : {}),
          ...(r.cfg.guard ? { guard: this.#guardStatus(r) } : {}),
          ...(r.paths ? { paths: r.paths.counters() } : {}),
        };
      }),
      interfaces: this.#deps.interfaceDrops?.() ?? [],
      ownership: this.owners.all().map((o) => ({ group: o.key, owned: o.owned, token: o.token, cause: o.cause })),
      ...(this.#groups.size ? { groups: this.#groups.statuses() } : {}),
      ...(this.#peer
        ? { peerChannel: { port: this.#plan.cluster!.peerChannel!.port, ...this.#peer.server.stats() } }
        : {}),
    };
  }

  /** The guard of one instance as status shows it. */
  #guardStatus(r: Running): GuardStatus {
    const g = r.vi.state.guard;
    const wallOf = (ms: number): string => new Date(this.#wall() - (this.#deps.clock.now() - ms)).toISOString();
    const device = r.cfg.guard?.fence?.device ?? '';
    const last = g?.last;
    // A recheck is in flight every advert interval: what the operator must know is the standing verdict — held on
    // an alive master, or fencing failed — not that a round is running.
    const rechecking = g?.phase === 'probing' && g.rounds > 1;
    const phase =
      rechecking && g.fenceFailure !== undefined
        ? 'fence-failed'
        : rechecking && g.last?.verdict === 'alive'
          ? 'held'
          : g?.phase;
    const detail = phase === 'fence-failed' ? (g?.fenceFailure ?? '') : (last?.detail ?? '');
    return {
      enabled: true,
      state: phase ?? 'idle',
      rounds: g?.rounds ?? 0,
      message: g
        ? guardMessage(phase!, g.master.addr, last?.via ?? [], detail, device)
        : `standing by: a silent master is asked over other paths before this node takes over`,
      counters: { ...r.guard },
      ...(g ? { master: g.master.addr, since: wallOf(g.since) } : {}),
      ...(last
        ? { last: { verdict: last.verdict, via: [...last.via], detail: last.detail, at: wallOf(last.at) } }
        : {}),
    };
  }

  /** Answers the peer channel when the plan has one (keyed, enabled), restarting it when its settings change. */
  #servePeer(): void {
    const c = this.#plan.cluster;
    const want =
      c?.peerChannel && c.keyFile && this.#deps.peerServer
        ? { node: this.#plan.node, port: c.peerChannel.port, windowMs: c.peerChannel.windowMs, keyFile: c.keyFile }
        : undefined;
    const key = want ? JSON.stringify(want) : '';
    if (this.#peer?.key === key) return;
    this.#peer?.server.stop();
    this.#peer = null;
    if (!want) return;
    try {
      const server = this.#deps.peerServer!(want, (instance) => {
        const r = this.#instances.get(instance);
        if (!r) return undefined;
        const owned = this.owners.ownership({ kind: 'instance', name: instance })?.owned ?? false;
        return { state: r.vi.state.state, priority: r.vi.state.effectivePriority, vipsHeld: owned };
      });
      this.#peer = { key, server };
    } catch (e) {
      this.#deps.log.log('error', `peer channel: ${(e as Error).message}`, { event: 'peer-channel' });
    }
  }

  /** Log lines and counters of the guard, the fence runs and pauses. */
  #logSplitBrain(): void {
    const log = this.#deps.log;
    this.events.on('guard', (e) => {
      const r = this.#instances.get(e.instance);
      if (r) {
        if (e.phase === 'probing' && e.from === null) r.guard.engaged++;
        if (e.phase === 'held' && e.from === 'probing' && r.vi.state.guard?.rounds === 1) r.guard.held++;
        if (e.reason === 'took-over') r.guard.takeovers++;
        if (e.reason === 'took-over-fenced') {
          r.guard.takeovers++;
          r.guard.fenced++;
        }
        if (e.phase === 'fence-failed' && e.on === 'fence-failed') r.guard.fenceFailed++;
      }
      // A held guard rechecks every advert interval: the first hold is news, the rechecks are not.
      const quiet =
        (e.phase === 'probing' && e.on === 'recheck') || (e.phase === 'held' && (r?.vi.state.guard?.rounds ?? 1) > 1);
      const text =
        e.phase === 'released'
          ? `guard released (${e.reason})${e.detail ? `: ${e.detail}` : ''}`
          : e.phase === 'probing'
            ? `guard: ${e.detail || `asking ${e.master}`}`
            : `guard: ${guardMessage(e.phase, e.master, e.via, e.detail, r?.cfg.guard?.fence?.device)}${e.detail && e.phase === 'held' ? ` (${e.detail})` : ''}`;
      log.log(quiet ? 'debug' : e.phase === 'fence-failed' ? 'error' : 'warn', `(${e.instance}) ${text}`, {
        event: 'guard',
        instance: e.instance,
        phase: e.phase,
        on: e.on,
        master: e.master,
        ...(e.verdict ? { verdict: e.verdict } : {}),
        via: [...e.via],
        ...(e.reason ? { reason: e.reason } : {}),
      });
    });
    this.events.on('fence', (e) => {
      log.log(
        e.outcome === 'ok' ? 'warn' : 'error',
        `(${e.instance}) fence ${e.device} → ${e.target}: ${e.outcome} in ${e.durationMs} ms (${e.detail})`,
        { event: 'fence', instance: e.instance, device: e.device, target: e.target, outcome: e.outcome },
      );
    });
    this.events.on('paused', (e) => {
      log.log(
        'warn',
        `(${e.instance}) a timer fired ${e.lateMs} ms late: paused longer than Master_Down_Interval; ` +
          (e.action === 'stepped-down'
            ? 'rejoining as BACKUP before acting as master'
            : 'listening again before taking over'),
        { event: 'paused', instance: e.instance, lateMs: e.lateMs, action: e.action },
      );
    });
  }

  #select(names: readonly string[] | InstanceSelector): Running[] {
    if (names === 'all') return [...this.#instances.values()];
    if (names === 'local' || names === 'foreign') {
      // heartbeat's hb_standby local|foreign: the resources whose preferred node is (or is not) this one.
      const here = new Set(this.#plan.preferredHere ?? []);
      return [...this.#instances.values()].filter((r) => here.has(r.cfg.name) === (names === 'local'));
    }
    return names.map((n) => {
      const r = this.#instances.get(n);
      if (!r)
        throw new TandemError(
          'TND_CTL_UNKNOWN_INSTANCE',
          `no instance ${n} on this node (running: ${[...this.#instances.keys()].join(', ') || 'none'})`,
        );
      return r;
    });
  }

  #wall(): number {
    return (this.#deps.wallNow ?? Date.now)();
  }

  #startInstance(cfg: InstanceConfig): void {
    const deps = this.#deps;
    const src = cfg.unicastSrc ?? cfg.mcastSrc ?? deps.primaryAddress(cfg.interface, cfg.family);
    const main = deps.transport(cfg, src ?? unspecified(cfg.family));
    const paths = cfg.paths?.length ? this.#paths(cfg, main) : undefined;
    const transport = paths ?? main;
    const vi = new VrrpInstance({
      config: cfg,
      clock: deps.clock,
      transport,
      vips: deps.vips(cfg.interface, cfg),
      garp: deps.garp(cfg.interface, cfg),
      events: this.events,
      node: this.#plan.node,
      ...(cfg.guard ? { guard: this.#guard } : {}),
    });
    this.#instances.set(cfg.name, {
      cfg,
      vi,
      transport,
      src: src ?? '',
      counters: emptyCounters(),
      lastTransitionWall: null,
      guard: { engaged: 0, held: 0, takeovers: 0, fenced: 0, fenceFailed: 0 },
      ...(paths ? { paths } : {}),
    });
    this.elector.attach(vi);
    // etcd issue: under vrrp+etcd an instance may not be master before this node holds its lease.
    this.#etcd?.instanceStarted(vi);
    deps.log.log(
      'info',
      `(${cfg.name}) starting: VRRPv${cfg.version} VRID ${cfg.vrid} on ${cfg.interface}, priority ${cfg.priority}, ` +
        `${cfg.unicastPeers.length ? `unicast to ${cfg.unicastPeers.join(' ')}` : 'multicast'}, source ${src ?? 'none'}`,
      { event: 'start', instance: cfg.name },
    );
    if (!src) {
      // Without an address the instance cannot advertise: it waits in FAULT, as keepalived does for a missing address.
      deps.log.log('error', `(${cfg.name}) ${cfg.interface} has no IPv${cfg.family} address to send adverts from`, {
        event: 'no-address',
        instance: cfg.name,
      });
      vi.start(unspecified(cfg.family));
      vi.setTracker(`interface:${cfg.interface}`, false);
      return;
    }
    vi.start(src);
  }

  /** The instance's transports on every heartbeat path, joined (paths.ts). */
  #paths(cfg: InstanceConfig, main: InstanceTransportPort): MultiPathTransport {
    const deps = this.#deps;
    const extra = (cfg.paths ?? []).map((p) => {
      const src = p.unicastSrc ?? p.mcastSrc ?? deps.primaryAddress(p.interface, cfg.family);
      const pathCfg: InstanceConfig = {
        ...cfg,
        interface: p.interface,
        unicastPeers: p.unicastPeers,
        ...(p.unicastSrc ? { unicastSrc: p.unicastSrc } : {}),
        ...(p.mcastSrc ? { mcastSrc: p.mcastSrc } : {}),
      };
      if (!src)
        deps.log.log('error', `(${cfg.name}) ${p.interface} has no IPv${cfg.family} address: that path sends nothing`, {
          event: 'no-address',
          instance: cfg.name,
        });
      return {
        interface: p.interface,
        transport: deps.transport(pathCfg, src ?? unspecified(cfg.family)),
        peers: p.unicastPeers,
      };
    });
    return multiPath(
      [{ interface: cfg.interface, transport: main, peers: cfg.unicastPeers }, ...extra],
      (addr) => nodeOfAddress(this.#plan, addr)?.name,
      (node) => this.#plan.cluster?.nodes.find((n) => n.name === node)?.addresses[0],
    );
  }

  /** Stops one instance make-before-break: it runs on until its handover is over, then closes like #stopInstance. */
  async #handOverInstance(name: string): Promise<void> {
    const r = this.#instances.get(name);
    if (!r) return;
    const wasMaster = r.vi.state.state === 'MASTER';
    await r.vi.handOver();
    r.transport.close();
    if (this.#instances.get(name) === r) this.#instances.delete(name);
    this.elector.detach(name);
    this.#deps.log.log('info', `(${name}) stopped${wasMaster ? ': handed over and removed VIPs' : ''}`, {
      event: 'stop',
      instance: name,
    });
    const spec = this.#plan.notify.instances[name];
    if (hasScripts(spec)) this.#deps.notify.notify('INSTANCE', name, spec, 'STOP', 0);
  }

  #stopInstance(name: string): void {
    const r = this.#instances.get(name);
    if (!r) return;
    const wasMaster = r.vi.state.state === 'MASTER';
    r.vi.stop();
    r.transport.close();
    this.#instances.delete(name);
    this.elector.detach(name);
    this.#deps.log.log('info', `(${name}) stopped${wasMaster ? ': sent priority 0 and removed VIPs' : ''}`, {
      event: 'stop',
      instance: name,
    });
    const spec = this.#plan.notify.instances[name];
    if (hasScripts(spec)) this.#deps.notify.notify('INSTANCE', name, spec, 'STOP', 0);
  }

  #startSyncGroups(): void {
    this.#runners = this.#plan.syncGroups.flatMap((g) => {
      const members = g.members.map((m) => this.#instances.get(m)?.vi).filter((v): v is VrrpInstance => !!v);
      return members.length > 1 ? [new SyncGroupRunner(g.name, members)] : [];
    });
    this.elector.setSyncGroups(this.#plan.syncGroups);
  }

  #startTrackers(): void {
    this.#stopTrackers = startTrackers(this.#plan, this.#deps.trackers, () => this.#instances.values(), this.#deps.log);
  }

  #onTransition(e: VrrpEvents['transition']): void {
    const r = this.#instances.get(e.instance);
    if (r) r.lastTransitionWall = this.#wall();
    // keepalived's wording, so that existing log watchers keep working.
    this.#deps.log.log('info', `(${e.instance}) Entering ${e.to} STATE (${e.cause}, priority ${e.priority})`, {
      event: 'transition',
      instance: e.instance,
      from: e.from,
      to: e.to,
      cause: e.cause,
      priority: e.priority,
    });
    if (e.to === 'INIT') return;
    const spec = this.#plan.notify.instances[e.instance];
    if (hasScripts(spec)) this.#deps.notify.notify('INSTANCE', e.instance, spec, e.to, e.priority);
    const group = this.#plan.syncGroups.find((g) => g.members.includes(e.instance));
    const gspec = group ? this.#plan.notify.groups[group.name] : undefined;
    if (group && hasScripts(gspec)) {
      // A group notifies once per group state: when every running member has reached it.
      const states = group.members.map((m) => this.#instances.get(m)?.vi.state.state);
      if (states.every((s) => s === undefined || s === e.to))
        this.#deps.notify.notify('GROUP', group.name, gspec, e.to, e.priority);
    }
  }
}

const membersOf = (o: OwnerRef): readonly string[] =>
  o.kind === 'instance' ? [o.name] : o.kind === 'lease' ? [] : o.members;

const hasScripts = (spec: NotifySpec | undefined): spec is NotifySpec =>
  !!spec && Object.values(spec).some((v) => typeof v === 'string' && v.length > 0);

const unspecified = (family: 4 | 6): string => (family === 4 ? '0.0.0.0' : '::');
