/**
 * The VRRP daemon's core: runs one node's instances and sync groups with the adapters it is given, wires trackers
 * and notify scripts, logs transitions, reloads by diff, and answers status/standby/takeover. Real adapters are
 * chosen in real-deps.ts; tests give fakes and a SimClock, so the same code runs under simulated time.
 */

import type { GroupSpec } from '../config/schema-groups.ts';
import { EventBus } from '../core/events.ts';
import type { Clock } from '../core/time.ts';
import type { LbHook } from '../resources/agents/deps.ts';
import type { GroupRunner, GroupStatus, OwnerHook } from '../resources/runner.ts';
import { SyncGroupRunner, type VrrpEvents, VrrpInstance } from '../vrrp/instance.ts';
import type { InstanceState } from '../vrrp/machine.ts';
import type { GarpEffects, VipEffects, VrrpTransport } from '../vrrp/ports.ts';
import { type InstanceConfig, VRRP_DROPS, type VrrpDrop, type VrrpState } from '../vrrp/types.ts';
import type { LbStatus } from './lb-runtime.ts';
import type { LbPort } from './lb-worker.ts';
import type { Logger } from './log.ts';
import type { NodePlan, NotifySpec } from './node-plan.ts';

/** One instance's transport; `close` frees its VRID on the interface's shared socket. */
export interface InstanceTransportPort extends VrrpTransport {
  close(): void;
}

/** Drops no instance can be blamed for (undecodable packets, VRIDs this node does not run), per interface. */
export interface InterfaceDrops {
  ifname: string;
  family: 4 | 6;
  received: number;
  drops: Partial<Record<VrrpDrop, number>>;
}

/**
 * Where tracked objects' states come from. Each call starts a watcher and returns the function that stops it; a
 * watcher reports the initial state once it is known, then every change.
 */
export interface TrackerSources {
  interfaces(names: readonly string[], onChange: (ifname: string, up: boolean) => void): () => void;
  script(name: string, spec: NodePlan['scripts'][string], onChange: (up: boolean) => void): () => void;
  /** keepalived track_file: calls back with the file's integer (missing or not a number: 0). */
  file(name: string, spec: NodePlan['trackFiles'][string], onChange: (value: number) => void): () => void;
}

/** Runs notify scripts; never blocks. */
export interface NotifyPort {
  notify(
    kind: 'INSTANCE' | 'GROUP',
    name: string,
    spec: NotifySpec,
    state: Exclude<VrrpState, 'INIT'> | 'STOP',
    priority: number,
  ): void;
}

/** Everything the daemon needs from the outside world. */
export interface DaemonDeps {
  clock: Clock;
  log: Logger;
  /** The transport of one instance, on its interface's shared socket (opened on first use). */
  transport(cfg: InstanceConfig, src: string): InstanceTransportPort;
  /** Interface-level drop counters. @default none */
  interfaceDrops?(): InterfaceDrops[];
  /** VIP add/remove; `defaultDev` is the instance's interface; `cfg` brings its vmac and virtual routes. */
  vips(defaultDev: string, cfg?: InstanceConfig): VipEffects;
  garp(defaultDev: string, cfg?: InstanceConfig): GarpEffects;
  /** The address adverts go out from when the config names none: the interface's primary address of the family. */
  primaryAddress(ifname: string, family: 4 | 6): string | undefined;
  trackers: TrackerSources;
  notify: NotifyPort;
  /** Wall-clock ms for status timestamps. @default Date.now */
  wallNow?: () => number;
  /** The load balancer, when the plan has virtual services. */
  lb?: LbPort;
  /** Makes the runner of a resource group (real agents; fakes in tests). Without it, groups are not run. */
  groupRunner?(spec: GroupSpec, ctx: { defaultInterface?: string; lb: LbHook; owner: OwnerHook }): GroupPort;
}

/** Every instance, or (heartbeat's hb_standby) those whose preferred node is this one, or the others. */
export type InstanceSelector = 'all' | 'local' | 'foreign';

/** What the daemon uses of a resource group's runner (resources/runner.ts GroupRunner). */
export type GroupPort = Pick<GroupRunner, 'start' | 'setOwner' | 'shutdown' | 'status' | 'setMaintenance' | 'cleanup'>;

/** Counters of one instance, for `tandem status`. */
export interface InstanceCounters {
  advertsSent: number;
  advertsReceived: number;
  drops: Record<VrrpDrop, number>;
}

/** One instance in `tandem status`. */
export interface InstanceStatus {
  name: string;
  interface: string;
  vrid: number;
  version: 2 | 3;
  family: 4 | 6;
  state: VrrpState;
  priority: {
    configured: number;
    /** A runtime override (standby/takeover), or null. */
    override: number | null;
    effective: number;
    /** Why the effective priority is what it is: each tracker and what it adds. */
    trackers: { id: string; up: boolean; weight: number; effect: 'none' | 'adds' | 'subtracts' | 'fault' }[];
  };
  /** The current master: this node, the last one heard, or unknown. */
  master: { self: true } | { self: false; addr: string; priority: number } | null;
  source: string;
  vips: string[];
  lastTransition: { at: string; from: VrrpState; to: VrrpState; cause: string } | null;
  counters: InstanceCounters;
  syncGroup?: string;
}

/** The whole status. */
export interface DaemonStatus {
  node: string;
  since: string;
  config: string;
  instances: InstanceStatus[];
  interfaces: InterfaceDrops[];
  /** Load balancing, when the config has virtual services. */
  lb?: LbStatus;
  /** Resource groups run by this node. */
  groups?: GroupStatus[];
}

interface Running {
  cfg: InstanceConfig;
  vi: VrrpInstance;
  transport: InstanceTransportPort;
  src: string;
  counters: InstanceCounters;
  lastTransitionWall: number | null;
  off: (() => void)[];
}

const emptyCounters = (): InstanceCounters => ({
  advertsSent: 0,
  advertsReceived: 0,
  drops: Object.fromEntries(VRRP_DROPS.map((d) => [d, 0])) as Record<VrrpDrop, number>,
});

/** Result of a reload: what changed, for the log and the caller. */
export interface ReloadSummary {
  kept: string[];
  restarted: string[];
  started: string[];
  stopped: string[];
}

/**
 * Runs one node's VRRP instances.
 * @example const d = new Daemon(plan, deps, 'tandem.yaml'); d.start(); … d.stop();
 */
export class Daemon {
  readonly events = new EventBus<VrrpEvents>();
  readonly #deps: DaemonDeps;
  readonly #instances = new Map<string, Running>();
  readonly #stopTrackers: (() => void)[] = [];
  #runners: SyncGroupRunner[] = [];
  #plan: NodePlan;
  #configName: string;
  #since = 0;
  #stopped = false;
  readonly #groups = new Map<string, { port: GroupPort; spec: GroupSpec; owners: string[]; owned: boolean }>();
  /** Virtual services that an `lb` resource of a running group has started here. */
  readonly #groupLb = new Set<string>();

  constructor(plan: NodePlan, deps: DaemonDeps, configName: string) {
    this.#plan = plan;
    this.#deps = deps;
    this.#configName = configName;
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
    this.events.on('effectFailed', (e) => {
      deps.log.log('error', `(${e.instance}) ${e.effect} failed: ${e.error}`, { event: 'effectFailed', ...e });
    });
  }

  /** The plan in force. */
  get plan(): NodePlan {
    return this.#plan;
  }

  /** Starts every instance, sync group and tracker. */
  start(): void {
    this.#since = this.#wall();
    for (const cfg of this.#plan.instances) this.#startInstance(cfg);
    this.#startGroups();
    this.#startTrackers();
    this.#startResourceGroups(this.#plan.groups ?? []);
    this.#lbScope();
  }

  /**
   * Stops every resource group right to left and waits for it (heartbeat stops the resources, then releases the
   * address). Call before {@link stop}, so that services stop while this node still holds its VIPs.
   */
  async stopResourceGroups(): Promise<void> {
    const all = [...this.#groups.values()];
    this.#groups.clear();
    await Promise.all(all.map((g) => g.port.shutdown()));
  }

  /** A group's runner by name (maintenance, cleanup). */
  group(name: string): GroupPort | undefined {
    return this.#groups.get(name)?.port;
  }

  #startResourceGroups(groups: readonly { spec: GroupSpec; owners: string[] }[]): void {
    const make = this.#deps.groupRunner;
    if (!make) return;
    for (const { spec, owners } of groups) {
      if (this.#groups.has(spec.name)) continue;
      const iface = this.#instances.get(owners[0]!)?.cfg.interface;
      const setTracker = (up: boolean) => {
        for (const o of owners) this.#instances.get(o)?.vi.setTracker(`group:${spec.name}`, up);
      };
      const port = make(spec, {
        ...(iface ? { defaultInterface: iface } : {}),
        lb: {
          startServices: (names) => {
            for (const n of names) this.#groupLb.add(n);
            this.#lbScope();
          },
          stopServices: (names) => {
            for (const n of names) this.#groupLb.delete(n);
            this.#lbScope();
          },
        },
        owner: {
          onGiveUp: (group, reason) => {
            this.#deps.log.log('warn', `group ${group}: giving up ownership (${reason}); owner goes to FAULT`, {
              event: 'group-give-up',
              group,
              reason,
            });
            setTracker(false);
          },
          onReclaim: (group, cause) => {
            this.#deps.log.log('info', `group ${group}: may own again (${cause})`, { event: 'group-reclaim', group });
            setTracker(true);
          },
          onBlocked: (group, resource, code) =>
            this.#deps.log.log(
              'error',
              `group ${group}: stopping ${resource} failed (${code}); the group is blocked until cleanup`,
              { event: 'group-blocked', group, resource, code },
            ),
        },
      });
      this.#groups.set(spec.name, { port, spec, owners, owned: false });
      port.start();
    }
    this.#groupOwners();
  }

  /** Unchanged groups keep running; changed ones stop (right to left) and start again; removed ones stop. */
  #reloadResourceGroups(next: readonly { spec: GroupSpec; owners: string[] }[]): void {
    const byName = new Map(next.map((g) => [g.spec.name, g]));
    const restarting = new Set<string>();
    for (const [name, g] of [...this.#groups]) {
      const n = byName.get(name);
      if (n && JSON.stringify(n) === JSON.stringify({ spec: g.spec, owners: g.owners })) {
        g.port.setMaintenance(n.spec.maintenance);
        continue;
      }
      this.#groups.delete(name);
      const done = g.port.shutdown();
      if (!n) continue;
      // A changed group starts again only once its old resources are all stopped.
      restarting.add(name);
      void done.then(() => {
        if (!this.#stopped) this.#startResourceGroups([n]);
      });
    }
    this.#startResourceGroups(next.filter((g) => !restarting.has(g.spec.name)));
  }

  /** Tells each group whether this node owns it now: every owning instance is MASTER here. */
  #groupOwners(): void {
    for (const g of this.#groups.values()) {
      const owned = !this.#stopped && g.owners.every((o) => this.#instances.get(o)?.vi.state.state === 'MASTER');
      if (owned === g.owned) continue;
      g.owned = owned;
      g.port.setOwner(owned);
    }
  }

  /** Graceful stop: masters send priority 0 and remove their VIPs; trackers and sockets close. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const stop of this.#stopTrackers.splice(0)) stop();
    for (const g of this.#runners) g.dispose();
    this.#runners = [];
    // Groups not stopped already (stopResourceGroups) stop now, in the background, right to left.
    for (const g of this.#groups.values()) void g.port.shutdown();
    this.#groups.clear();
    for (const name of [...this.#instances.keys()]) this.#stopInstance(name);
    this.#deps.lb?.setScope([], []);
  }

  /**
   * Tells the load balancer which virtual services this node may serve (their owner runs here: health-checked) and
   * which it serves now (every owning instance is MASTER here: programmed). A service with no VRRP owner is served
   * by every node that runs the file.
   */
  #lbScope(): void {
    const lb = this.#deps.lb;
    if (!lb || this.#stopped) return;
    const may: string[] = [];
    const active: string[] = [];
    const byGroups = this.#groupLbServices();
    for (const sp of this.#plan.lb?.services ?? []) {
      const o = sp.owner;
      const names = o.kind === 'always' ? [] : o.kind === 'instance' ? [o.name] : o.members;
      const running = names.map((n) => this.#instances.get(n));
      if (running.some((r) => !r)) continue;
      may.push(sp.svc.id);
      if (byGroups.has(sp.svc.id) ? this.#groupLb.has(sp.svc.id) : running.every((r) => r?.vi.state.state === 'MASTER'))
        active.push(sp.svc.id);
    }
    lb.setScope(may, active);
  }

  /** Virtual services named by an `lb` resource of a group run here: they follow that group, not their vip. */
  #groupLbServices(): Set<string> {
    const out = new Set<string>();
    for (const g of this.#plan.groups ?? [])
      for (const r of g.spec.resources) if (r.type === 'lb') for (const n of r.services) out.add(n);
    return out;
  }

  /** Instances by name (for the supervisor's snapshot). */
  instanceStates(): { cfg: InstanceConfig; src: string; state: InstanceState }[] {
    return [...this.#instances.values()].map((r) => ({ cfg: r.cfg, src: r.src, state: r.vi.state }));
  }

  /**
   * Applies a new plan: unchanged instances keep their state and their VIPs untouched; changed ones restart;
   * removed ones stop (a master hands over with priority 0); new ones start. Trackers restart.
   */
  reload(plan: NodePlan, configName = this.#configName): ReloadSummary {
    const summary: ReloadSummary = { kept: [], restarted: [], started: [], stopped: [] };
    for (const stop of this.#stopTrackers.splice(0)) stop();
    for (const g of this.#runners) g.dispose();
    this.#runners = [];
    const next = new Map(plan.instances.map((c) => [c.name, c]));
    for (const [name, r] of [...this.#instances]) {
      const cfg = next.get(name);
      if (!cfg) {
        this.#stopInstance(name);
        summary.stopped.push(name);
      } else if (!sameConfig(cfg, r.cfg)) {
        this.#stopInstance(name);
        this.#startInstance(cfg);
        summary.restarted.push(name);
      } else summary.kept.push(name);
    }
    for (const cfg of plan.instances) {
      if (!this.#instances.has(cfg.name)) {
        this.#startInstance(cfg);
        summary.started.push(cfg.name);
      }
    }
    this.#plan = plan;
    this.#configName = configName;
    this.#startGroups();
    this.#startTrackers();
    this.#reloadResourceGroups(plan.groups ?? []);
    this.#lbScope();
    return summary;
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
        };
      }),
      interfaces: this.#deps.interfaceDrops?.() ?? [],
      ...(this.#groups.size ? { groups: [...this.#groups.values()].map((g) => g.port.status()) } : {}),
    };
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
      if (!r) throw new UnknownInstanceError(n, [...this.#instances.keys()]);
      return r;
    });
  }

  #wall(): number {
    return (this.#deps.wallNow ?? Date.now)();
  }

  #startInstance(cfg: InstanceConfig): void {
    const deps = this.#deps;
    const src = cfg.unicastSrc ?? cfg.mcastSrc ?? deps.primaryAddress(cfg.interface, cfg.family);
    const transport = deps.transport(cfg, src ?? unspecified(cfg.family));
    const vi = new VrrpInstance({
      config: cfg,
      clock: deps.clock,
      transport,
      vips: deps.vips(cfg.interface, cfg),
      garp: deps.garp(cfg.interface, cfg),
      events: this.events,
      node: this.#plan.node,
    });
    const r: Running = {
      cfg,
      vi,
      transport,
      src: src ?? '',
      counters: emptyCounters(),
      lastTransitionWall: null,
      off: [],
    };
    this.#instances.set(cfg.name, r);
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

  #stopInstance(name: string): void {
    const r = this.#instances.get(name);
    if (!r) return;
    const wasMaster = r.vi.state.state === 'MASTER';
    r.vi.stop();
    r.transport.close();
    for (const off of r.off) off();
    this.#instances.delete(name);
    this.#deps.log.log('info', `(${name}) stopped${wasMaster ? ': sent priority 0 and removed VIPs' : ''}`, {
      event: 'stop',
      instance: name,
    });
    const spec = this.#plan.notify.instances[name];
    if (hasScripts(spec)) this.#deps.notify.notify('INSTANCE', name, spec, 'STOP', 0);
  }

  #startGroups(): void {
    this.#runners = this.#plan.syncGroups.flatMap((g) => {
      const members = g.members.map((m) => this.#instances.get(m)?.vi).filter((v): v is VrrpInstance => !!v);
      return members.length > 1 ? [new SyncGroupRunner(g.name, members)] : [];
    });
  }

  #startTrackers(): void {
    const { trackers, log } = this.#deps;
    const feed = (id: string, up: boolean): void => {
      for (const r of this.#instances.values()) if (r.cfg.trackers.some((t) => t.id === id)) r.vi.setTracker(id, up);
    };
    if (this.#plan.interfaces.length)
      this.#stopTrackers.push(
        trackers.interfaces(this.#plan.interfaces, (ifname, up) => {
          log.log(up ? 'info' : 'warn', `Netlink reports ${ifname} ${up ? 'up' : 'down'}`, {
            event: 'link',
            ifname,
            up,
          });
          feed(`interface:${ifname}`, up);
        }),
      );
    for (const [name, spec] of Object.entries(this.#plan.scripts))
      this.#stopTrackers.push(
        trackers.script(name, spec, (up) => {
          log.log(up ? 'info' : 'warn', `VRRP_Script(${name}) ${up ? 'succeeded' : 'failed'}`, {
            event: 'script',
            script: name,
            up,
          });
          feed(`script:${name}`, up);
        }),
      );
    for (const [name, spec] of Object.entries(this.#plan.trackFiles))
      this.#stopTrackers.push(
        trackers.file(name, spec, (value) => {
          log.log('info', `track_file ${name} is ${value}`, { event: 'file', file: name, value });
          const id = `file:${name}`;
          for (const r of this.#instances.values()) {
            const ref = r.cfg.trackers.find((t) => t.id === id);
            if (ref) r.vi.setTracker(id, fileTrackerUp(value, ref.weight));
          }
        }),
      );
  }

  #onTransition(e: VrrpEvents['transition']): void {
    const r = this.#instances.get(e.instance);
    if (r) r.lastTransitionWall = this.#wall();
    if (r && e.to === 'MASTER') {
      // Services bind to the VIPs (the proxy listens on them, a group's daemon may too): start them once the
      // addresses are on the interface, not in the same instant the machine asks for them.
      void r.vi.vipsSettled.then(() => {
        this.#groupOwners();
        this.#lbScope();
      });
    } else {
      this.#groupOwners();
      this.#lbScope();
    }
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

/** A standby/takeover named an instance this node does not run. */
export class UnknownInstanceError extends Error {
  constructor(
    readonly instance: string,
    readonly known: string[],
  ) {
    super(`no instance ${instance} on this node (running: ${known.join(', ') || 'none'})`);
  }
}

const hasScripts = (spec: NotifySpec | undefined): spec is NotifySpec =>
  !!spec && Object.values(spec).some((v) => typeof v === 'string' && v.length > 0);

const unspecified = (family: 4 | 6): string => (family === 4 ? '0.0.0.0' : '::');

/** What a tracker does to the priority now, for `tandem status` (keepalived's weight and reverse semantics). */
export function trackerEffect(weight: number, reverse: boolean, up: boolean): 'none' | 'adds' | 'subtracts' | 'fault' {
  // reverse inverts the direction: a weight-0 tracker faults while up, a weighted one acts on the other state.
  const active = up !== reverse;
  if (weight === 0) return active ? 'none' : 'fault';
  const w = reverse ? -weight : weight;
  if (w > 0) return up ? 'adds' : 'none';
  return up ? 'none' : 'subtracts';
}

/**
 * keepalived track_file with the machine's fixed weights: weight 0 faults on a non-zero value; a positive weight
 * adds while the value is non-zero; a negative weight subtracts while it is non-zero. Values other than 0 and 1 lose
 * their size (keepalived adds value × weight); that needs variable tracker weights in the machine.
 */
export function fileTrackerUp(value: number, weight: number): boolean {
  return weight > 0 ? value !== 0 : value === 0;
}

/** Two instance configs are the same when every field is: then a reload leaves the instance alone. */
export function sameConfig(a: InstanceConfig, b: InstanceConfig): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
