/**
 * The in-process cluster harness: the real node runtime (node/node.ts — instances, sync groups, trackers, elector,
 * resource groups, LB scope) on every node, with fake host adapters (fake-os.ts), talking over a SimNetwork under a
 * SimClock. Scenario tests, `tandem sim` and the node's own tests build one, break the network or the nodes, advance
 * time and look at who is master, who holds which address and what each node logged and notified.
 */
import { TandemError } from '../core/errors.ts';
import { EventBus } from '../core/events.ts';
import type { LogRecord } from '../core/log.ts';
import { seededRng } from '../core/rng.ts';
import type { Ms } from '../core/time.ts';
import { TandemNode } from '../node/node.ts';
import type { LbPort, NodeDeps, NotifyPort, TrackerSources } from '../node/ports.ts';
import type { NodePlan } from '../plan/node-plan.ts';
import { decodeVrrp, encodeVrrp } from '../vrrp/codec.ts';
import type { VrrpEvents, VrrpInstance } from '../vrrp/instance.ts';
import type { TransitionCause } from '../vrrp/machine.ts';
import type { VrrpRx } from '../vrrp/ports.ts';
import type { AddressFamily, InstanceConfig, VrrpPacket, VrrpState } from '../vrrp/types.ts';
import { FakeHosts } from './fake-os.ts';
import { SimClock } from './sim-clock.ts';
import { type LinkOptions, SimNetwork } from './sim-network.ts';

/** One node of a simulated cluster: its instances directly, or (`plan`) a whole node plan from a config. */
export interface SimNodeSpec {
  name: string;
  /** The node's address; adverts go out from it unless an instance sets unicastSrc/mcastSrc. */
  primaryAddr: string;
  /** More addresses the node answers unicast on (e.g. its IPv6 address). */
  addresses?: readonly string[];
  instances: readonly InstanceConfig[];
  syncGroups?: readonly { name: string; members: readonly string[] }[];
  /** The node's whole plan (plan/node-plan.ts): trackers, notify scripts, resource groups, services. */
  plan?: NodePlan;
  /** The config file name the node's status shows. @default `NAME.yaml` */
  configName?: string;
}

/** How to build a simulated cluster. */
export interface SimClusterOptions {
  nodes: readonly SimNodeSpec[];
  /** Seeds every chance in the run (loss, jitter, duplication). */
  seed: number;
  /** Link options for every pair of nodes. @default DEFAULT_LINK (1 ms, no loss) */
  link?: Partial<LinkOptions>;
  /**
   * What travels on the segment: decoded packets (fast), or the codec's bytes (encode on send, decode and check on
   * receive, as on a real wire). @default 'packets'
   */
  wire?: 'packets' | 'bytes';
  /** The resource-group runners of a node (fake agents); without it, groups are not run. */
  groupRunner?: (node: string) => NodeDeps['groupRunner'];
  /** The load balancer a node drives (an LbRuntime on fakes); without it, the node has none. */
  lb?: (node: string) => LbPort | undefined;
  /** The clock to run on (when the test builds fakes on it first). @default a new SimClock */
  clock?: SimClock;
}

/** One transition, for assertions and printing. */
export interface TimelineEntry {
  at: Ms;
  node: string;
  instance: string;
  from: VrrpState;
  to: VrrpState;
  cause: TransitionCause;
  priority: number;
}

/** A node's state of one instance, or DOWN when its daemon is not running. */
export type SimInstanceState = VrrpState | 'DOWN';

/** Handles a test holds to drive one node's tracked objects and see its notify calls and log. */
export interface SimNodeControls {
  setLink(ifname: string, up: boolean): void;
  setScript(name: string, up: boolean): void;
  setFile(name: string, value: number): void;
  notifications: { kind: string; name: string; state: string; priority: number }[];
  /** Every log record of the node, across restarts. */
  log: LogRecord[];
}

/** What travels on the simulated segment. */
interface Frame {
  family: AddressFamily;
  /** The IP source address of the advert. */
  src: string;
  body: VrrpPacket | Uint8Array;
}

/** The VRRP multicast groups. @see RFC 5798 §5.1.1.2, §5.1.2.2 */
const MCAST: Readonly<Record<AddressFamily, string>> = { 4: '224.0.0.18', 6: 'ff02::12' };

/** The event kinds a node's bus forwards to the cluster's. */
const FORWARDED: readonly (keyof VrrpEvents)[] = [
  'transition',
  'advertSent',
  'advertReceived',
  'drop',
  'discard',
  'priority',
  'vips',
  'effectFailed',
];

interface Sim {
  controls: SimNodeControls;
  listeners: {
    link: Set<(ifname: string, up: boolean) => void>;
    script: Map<string, (up: boolean) => void>;
    file: Map<string, (value: number) => void>;
  };
}

interface RunningNode {
  node: TandemNode;
  close: () => void;
}

/**
 * A running simulated cluster.
 * @example const c = simCluster({ nodes: [...], seed: 7 }); c.runFor(5_000); c.owners('VI_1') // ['d1']
 */
export class SimCluster {
  readonly clock: SimClock;
  readonly network: SimNetwork<Frame>;
  readonly hosts: FakeHosts;
  readonly events = new EventBus<VrrpEvents>();
  /** Every transition of every instance, in order. */
  readonly timeline: TimelineEntry[] = [];
  readonly #specs: Map<string, SimNodeSpec>;
  readonly #plans = new Map<string, NodePlan>();
  readonly #sims = new Map<string, Sim>();
  readonly #running = new Map<string, RunningNode>();
  readonly #opts: SimClusterOptions;
  readonly #wire: 'packets' | 'bytes';

  constructor(opts: SimClusterOptions) {
    this.#opts = opts;
    this.clock = opts.clock ?? new SimClock();
    this.network = new SimNetwork<Frame>({ clock: this.clock, rng: seededRng(opts.seed), ...linkOpt(opts.link) });
    this.hosts = new FakeHosts(this.clock);
    this.#wire = opts.wire ?? 'packets';
    this.#specs = new Map(opts.nodes.map((n) => [n.name, n]));
    if (this.#specs.size !== opts.nodes.length) throw new TandemError('TND_SIM_SCENARIO', 'two nodes share a name');
    for (const n of opts.nodes) {
      this.#plans.set(n.name, n.plan ?? planOf(n));
      this.#sims.set(n.name, newSim());
    }
    this.events.on('transition', (e) => {
      this.timeline.push({
        at: e.at,
        node: e.node ?? '?',
        instance: e.instance,
        from: e.from,
        to: e.to,
        cause: e.cause,
        priority: e.priority,
      });
    });
    for (const n of opts.nodes) this.restart(n.name);
  }

  /** Node names, in the order given. */
  get nodeNames(): string[] {
    return [...this.#specs.keys()];
  }

  /** Advances simulated time by `ms`. */
  runFor(ms: Ms): void {
    this.clock.runFor(ms);
  }

  /** Advances time until `pred()` holds (checked after every event) or `limitMs` pass. */
  runUntil(pred: () => boolean, limitMs: Ms): { ok: boolean; elapsedMs: Ms } {
    return this.clock.runUntil(pred, limitMs);
  }

  /** Cuts `node` off from every other node. */
  isolate(node: string): void {
    this.#spec(node);
    this.network.isolate(node);
  }

  /** Splits the network into groups (nodes in no group form one more group). */
  partition(...groups: readonly (readonly string[])[]): void {
    for (const g of groups) for (const n of g) this.#spec(n);
    this.network.partition(...groups);
  }

  /** Removes every partition. */
  heal(): void {
    this.network.heal();
  }

  /** Whether the node's daemon runs. */
  isUp(node: string): boolean {
    this.#spec(node);
    return this.#running.has(node);
  }

  /** SIGKILL: the daemon vanishes, sends nothing, and leaves its VIPs on the host. */
  kill(node: string): void {
    const r = this.#running.get(node);
    if (!r) return;
    r.node.kill();
    r.close();
    this.#running.delete(node);
  }

  /**
   * Graceful stop: every instance gets Shutdown (a master sends priority 0 and removes its VIPs). Resource groups are
   * told to stop too; {@link stopGracefully} waits for them first, as the daemon does.
   */
  stop(node: string): void {
    const r = this.#running.get(node);
    if (!r) return;
    void r.node.stop();
    r.close();
    this.#running.delete(node);
  }

  /** The daemon's SIGTERM order: resource groups stop right to left (awaited), then VRRP hands over. */
  async stopGracefully(node: string): Promise<void> {
    const r = this.#running.get(node);
    if (!r) return;
    await r.node.stopResourceGroups();
    this.stop(node);
  }

  /** Starts the node's daemon if it is down (after kill or stop); does nothing if it runs. */
  start(node: string): void {
    if (!this.isUp(node)) this.restart(node);
  }

  /** Starts the node's daemon afresh (killing a running one first): new instances, in INIT, then Startup. */
  restart(node: string): void {
    const spec = this.#spec(node);
    this.kill(node);
    const plan = this.#plans.get(node)!;
    const handlers = new Map<string, (rx: VrrpRx) => void>();
    const endpoint = this.network.attach(node, [spec.primaryAddr, ...(spec.addresses ?? [])], (d) => {
      this.#deliver(handlers, d.payload, d.ttl, d.dst);
    });
    const seen = new Set<string>();
    for (const cfg of plan.instances) {
      if (seen.has(cfg.name)) throw new TandemError('TND_SIM_SCENARIO', `${node} runs ${cfg.name} twice`);
      seen.add(cfg.name);
    }
    for (const g of plan.syncGroups)
      for (const m of g.members)
        if (!seen.has(m))
          throw new TandemError('TND_SIM_SCENARIO', `sync group ${g.name} names ${m}, which ${node} does not run`);
    const sim = this.#sims.get(node)!;
    const deps: NodeDeps = {
      clock: this.clock,
      log: { log: (level, msg, fields = {}) => sim.controls.log.push({ level, msg, fields }) },
      transport: (cfg, src) => {
        const muxKey = `${cfg.family}/${cfg.vrid}`;
        return {
          send: (packet, to) => {
            const body = this.#wire === 'bytes' ? encodeVrrp(packet, txMeta(cfg, src, to)) : packet;
            endpoint.send({ family: cfg.family, src, body }, to);
          },
          onReceive: (h) => {
            handlers.set(muxKey, h);
            return () => handlers.delete(muxKey);
          },
          close: () => handlers.delete(muxKey),
        };
      },
      vips: () => this.hosts.vips(node),
      garp: () => this.hosts.garp(node),
      primaryAddress: (_ifname, family) => sourceFor(spec, family),
      trackers: trackerSources(sim),
      notify: notifier(sim),
      wallNow: () => 1_800_000_000_000 + this.clock.now(),
      ...(this.#opts.groupRunner ? { groupRunner: this.#opts.groupRunner(node) } : {}),
    };
    const lb = this.#opts.lb?.(node);
    if (lb) deps.lb = lb;
    const tandem = new TandemNode(plan, deps, spec.configName ?? `${node}.yaml`);
    const off = FORWARDED.map((kind) =>
      tandem.events.on(kind, (e) => this.events.emit(kind, e as VrrpEvents[typeof kind])),
    );
    this.#running.set(node, {
      node: tandem,
      close: () => {
        for (const f of off) f();
        endpoint.close();
      },
    });
    tandem.start();
  }

  /** Applies a new plan to a running node (a reload); the node keeps it across restarts. */
  reload(node: string, plan: NodePlan): ReturnType<TandemNode['reload']> {
    this.#plans.set(node, plan);
    const r = this.#running.get(node);
    if (!r) throw new TandemError('TND_SIM_SCENARIO', `${node} is down`);
    return r.node.reload(plan, this.#spec(node).configName ?? `${node}.yaml`);
  }

  /** The running node runtime of `node`, if its daemon is up. */
  node(node: string): TandemNode | undefined {
    return this.#running.get(node)?.node;
  }

  /** The test's handles on `node`'s trackers, notify calls and log. */
  controls(node: string): SimNodeControls {
    this.#spec(node);
    return this.#sims.get(node)!.controls;
  }

  /** Reports a tracked object's state on one node's instance. */
  setTracker(node: string, instance: string, trackerId: string, up: boolean): void {
    this.#instance(node, instance).setTracker(trackerId, up);
  }

  /** Sets a runtime base priority on one node's instance (null restores the configured one). */
  setPriority(node: string, instance: string, priority: number | null): void {
    this.#instance(node, instance).setPriority(priority);
  }

  /** The running driver of `instance` on `node`, if the node is up. */
  instance(node: string, instance: string): VrrpInstance | undefined {
    return this.#running.get(node)?.node.instance(instance);
  }

  /** Each node's state of `instance`. */
  states(instance: string): Record<string, SimInstanceState> {
    const out: Record<string, SimInstanceState> = {};
    for (const node of this.#specs.keys()) {
      const vi = this.instance(node, instance);
      if (this.#plans.get(node)?.instances.some((c) => c.name === instance)) out[node] = vi ? vi.state.state : 'DOWN';
    }
    return out;
  }

  /** Nodes where `instance` is MASTER, in node order. */
  owners(instance: string): string[] {
    return this.nodeNames.filter((n) => this.instance(n, instance)?.state.state === 'MASTER');
  }

  /** Nodes that hold `vip` on their (fake) host now, sorted. */
  vipHolders(vip: string): string[] {
    return this.hosts.holders(vip);
  }

  /** The timeline as text, one transition per line. */
  formatTimeline(entries: readonly TimelineEntry[] = this.timeline): string {
    return entries
      .map(
        (e) =>
          `${String(e.at).padStart(8)} ms  ${e.node.padEnd(6)} ${e.instance.padEnd(8)} ` +
          `${e.from.padEnd(6)} → ${e.to.padEnd(6)} ${e.cause} (priority ${e.priority})`,
      )
      .join('\n');
  }

  #spec(node: string): SimNodeSpec {
    const spec = this.#specs.get(node);
    if (!spec) throw new TandemError('TND_SIM_SCENARIO', `no node ${node} in this cluster`);
    return spec;
  }

  #instance(node: string, name: string): VrrpInstance {
    this.#spec(node);
    if (!this.#plans.get(node)?.instances.some((c) => c.name === name))
      throw new TandemError('TND_SIM_SCENARIO', `${node} does not run ${name}`);
    const vi = this.instance(node, name);
    if (!vi) throw new TandemError('TND_SIM_SCENARIO', `${node} is down`);
    return vi;
  }

  /** A node's socket layer: decode (in bytes mode) and hand the advert to the instance with its VRID. */
  #deliver(handlers: ReadonlyMap<string, (rx: VrrpRx) => void>, frame: Frame, ttl: number, dst: string | null): void {
    if (!(frame.body instanceof Uint8Array)) {
      handlers.get(`${frame.family}/${frame.body.vrid}`)?.({ ok: true, packet: frame.body, src: frame.src });
      return;
    }
    const rx = { ttl, family: frame.family, src: frame.src, dst: dst ?? MCAST[frame.family] };
    const decoded = decodeVrrp(frame.body, rx);
    if (decoded.ok) {
      handlers.get(`${frame.family}/${decoded.packet.vrid}`)?.({ ok: true, packet: decoded.packet, src: frame.src });
      return;
    }
    // Without a valid header the VRID is unknown: every instance of the family hears about the drop, as in a log.
    for (const [k, h] of handlers) {
      if (k.startsWith(`${frame.family}/`))
        h({ ok: false, reason: decoded.reason, src: frame.src, detail: decoded.detail });
    }
  }
}

const linkOpt = (link: Partial<LinkOptions> | undefined): { link?: Partial<LinkOptions> } => (link ? { link } : {});

/** A node plan with just the instances and sync groups of a spec (the scenario tests' nodes). */
function planOf(spec: SimNodeSpec): NodePlan {
  return {
    node: spec.name,
    instances: [...spec.instances],
    syncGroups: (spec.syncGroups ?? []).map((g) => ({ name: g.name, members: [...g.members] })),
    notify: { instances: {}, groups: {} },
    scripts: {},
    trackFiles: {},
    interfaces: [],
  };
}

/** The address of `family` a node sends from when an instance names none. */
function sourceFor(spec: SimNodeSpec, family: AddressFamily): string {
  const own = [spec.primaryAddr, ...(spec.addresses ?? [])];
  return own.find((a) => a.includes(':') === (family === 6)) ?? spec.primaryAddr;
}

function txMeta(cfg: InstanceConfig, src: string, to: string | undefined) {
  return { src, dst: to ?? MCAST[cfg.family], v3Checksum: cfg.v3Checksum };
}

function newSim(): Sim {
  const listeners: Sim['listeners'] = { link: new Set(), script: new Map(), file: new Map() };
  return {
    listeners,
    controls: {
      setLink: (ifname, up) => {
        for (const l of listeners.link) l(ifname, up);
      },
      setScript: (name, up) => listeners.script.get(name)?.(up),
      setFile: (name, value) => listeners.file.get(name)?.(value),
      notifications: [],
      log: [],
    },
  };
}

function trackerSources(sim: Sim): TrackerSources {
  const l = sim.listeners;
  return {
    interfaces(_names, onChange) {
      l.link.add(onChange);
      return () => l.link.delete(onChange);
    },
    script(name, _spec, onChange) {
      l.script.set(name, onChange);
      return () => l.script.delete(name);
    },
    file(name, _spec, onChange) {
      l.file.set(name, onChange);
      return () => l.file.delete(name);
    },
  };
}

function notifier(sim: Sim): NotifyPort {
  return {
    notify: (kind, name, _spec, state, priority) => sim.controls.notifications.push({ kind, name, state, priority }),
  };
}

/**
 * Builds and starts a simulated cluster at time 0: every node's instances get Startup.
 * @example simCluster({ nodes: [{ name: 'd1', primaryAddr: '198.18.0.1', instances: [instanceConfig()] }], seed: 1 })
 */
export function simCluster(opts: SimClusterOptions): SimCluster {
  return new SimCluster(opts);
}
