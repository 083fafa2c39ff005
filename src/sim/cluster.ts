/**
 * An in-process cluster: real VRRP instance drivers (instance.ts) on fake hosts (fake-os.ts), talking over a
 * SimNetwork under a SimClock. Scenario tests build one, break the network or the nodes, advance time and look at who
 * is master and who holds which address.
 */
import { TandemError } from '../core/errors.ts';
import { EventBus } from '../core/events.ts';
import { seededRng } from '../core/rng.ts';
import type { Ms } from '../core/time.ts';
import { decodeVrrp, encodeVrrp } from '../vrrp/codec.ts';
import { SyncGroupRunner, type VrrpEvents, VrrpInstance } from '../vrrp/instance.ts';
import type { TransitionCause } from '../vrrp/machine.ts';
import type { VrrpRx, VrrpTransport } from '../vrrp/ports.ts';
import type { AddressFamily, InstanceConfig, VrrpPacket, VrrpState } from '../vrrp/types.ts';
import { FakeHosts } from './fake-os.ts';
import { SimClock } from './sim-clock.ts';
import { type LinkOptions, SimNetwork } from './sim-network.ts';

/** One node of a simulated cluster. */
export interface SimNodeSpec {
  name: string;
  /** The node's address; adverts go out from it unless an instance sets unicastSrc/mcastSrc. */
  primaryAddr: string;
  /** More addresses the node answers unicast on (e.g. its IPv6 address). */
  addresses?: readonly string[];
  instances: readonly InstanceConfig[];
  syncGroups?: readonly { name: string; members: readonly string[] }[];
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

/** What travels on the simulated segment. */
interface Frame {
  family: AddressFamily;
  /** The IP source address of the advert. */
  src: string;
  body: VrrpPacket | Uint8Array;
}

/** The VRRP multicast groups. @see RFC 5798 §5.1.1.2, §5.1.2.2 */
const MCAST: Readonly<Record<AddressFamily, string>> = { 4: '224.0.0.18', 6: 'ff02::12' };

interface RunningNode {
  instances: Map<string, VrrpInstance>;
  runners: SyncGroupRunner[];
  close: () => void;
}

/**
 * A running simulated cluster.
 * @example const c = simCluster({ nodes: [...], seed: 7 }); c.runFor(5_000); c.owners('VI_1') // ['d1']
 */
export class SimCluster {
  readonly clock = new SimClock();
  readonly network: SimNetwork<Frame>;
  readonly hosts: FakeHosts;
  readonly events = new EventBus<VrrpEvents>();
  /** Every transition of every instance, in order. */
  readonly timeline: TimelineEntry[] = [];
  readonly #specs: Map<string, SimNodeSpec>;
  readonly #running = new Map<string, RunningNode>();
  readonly #wire: 'packets' | 'bytes';

  constructor(opts: SimClusterOptions) {
    this.network = new SimNetwork<Frame>({ clock: this.clock, rng: seededRng(opts.seed), ...linkOpt(opts.link) });
    this.hosts = new FakeHosts(this.clock);
    this.#wire = opts.wire ?? 'packets';
    this.#specs = new Map(opts.nodes.map((n) => [n.name, n]));
    if (this.#specs.size !== opts.nodes.length) throw new TandemError('TND_SIM_SCENARIO', 'two nodes share a name');
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
    for (const g of r.runners) g.dispose();
    for (const vi of r.instances.values()) vi.kill();
    r.close();
    this.#running.delete(node);
  }

  /** Graceful stop: every instance gets Shutdown (a master sends priority 0 and removes its VIPs). */
  stop(node: string): void {
    const r = this.#running.get(node);
    if (!r) return;
    for (const g of r.runners) g.dispose();
    for (const vi of r.instances.values()) vi.stop();
    r.close();
    this.#running.delete(node);
  }

  /** Starts the node's daemon if it is down (after kill or stop); does nothing if it runs. */
  start(node: string): void {
    if (!this.isUp(node)) this.restart(node);
  }

  /** Starts the node's daemon afresh (killing a running one first): new instances, in INIT, then Startup. */
  restart(node: string): void {
    const spec = this.#spec(node);
    this.kill(node);
    const handlers = new Map<string, (rx: VrrpRx) => void>();
    const endpoint = this.network.attach(node, [spec.primaryAddr, ...(spec.addresses ?? [])], (d) => {
      this.#deliver(handlers, d.payload, d.ttl, d.dst);
    });
    const instances = new Map<string, VrrpInstance>();
    for (const cfg of spec.instances) {
      if (instances.has(cfg.name)) throw new TandemError('TND_SIM_SCENARIO', `${node} runs ${cfg.name} twice`);
      const src = sourceAddress(spec, cfg);
      const muxKey = `${cfg.family}/${cfg.vrid}`;
      const transport: VrrpTransport = {
        send: (packet, to) => {
          const body = this.#wire === 'bytes' ? encodeVrrp(packet, txMeta(cfg, src, to)) : packet;
          endpoint.send({ family: cfg.family, src, body }, to);
        },
        onReceive: (h) => {
          handlers.set(muxKey, h);
          return () => handlers.delete(muxKey);
        },
      };
      instances.set(
        cfg.name,
        new VrrpInstance({
          config: cfg,
          clock: this.clock,
          transport,
          vips: this.hosts.vips(node),
          garp: this.hosts.garp(node),
          events: this.events,
          node,
        }),
      );
    }
    const runners = (spec.syncGroups ?? []).map((g) => {
      const members = g.members.map((m) => {
        const vi = instances.get(m);
        if (!vi)
          throw new TandemError('TND_SIM_SCENARIO', `sync group ${g.name} names ${m}, which ${node} does not run`);
        return vi;
      });
      return new SyncGroupRunner(g.name, members);
    });
    this.#running.set(node, { instances, runners, close: () => endpoint.close() });
    for (const [name, vi] of instances) vi.start(sourceAddress(spec, this.#cfg(spec, name)));
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
    return this.#running.get(node)?.instances.get(instance);
  }

  /** Each node's state of `instance`. */
  states(instance: string): Record<string, SimInstanceState> {
    const out: Record<string, SimInstanceState> = {};
    for (const node of this.#specs.keys()) {
      const vi = this.instance(node, instance);
      if (this.#specs.get(node)?.instances.some((c) => c.name === instance)) out[node] = vi ? vi.state.state : 'DOWN';
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

  #cfg(spec: SimNodeSpec, name: string): InstanceConfig {
    const cfg = spec.instances.find((c) => c.name === name);
    if (!cfg) throw new TandemError('TND_SIM_SCENARIO', `${spec.name} does not run ${name}`);
    return cfg;
  }

  #instance(node: string, name: string): VrrpInstance {
    const spec = this.#spec(node);
    this.#cfg(spec, name);
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

/** The address an instance's adverts go out from. */
function sourceAddress(spec: SimNodeSpec, cfg: InstanceConfig): string {
  const own = [spec.primaryAddr, ...(spec.addresses ?? [])];
  const ofFamily = own.find((a) => a.includes(':') === (cfg.family === 6));
  return cfg.unicastSrc ?? cfg.mcastSrc ?? ofFamily ?? spec.primaryAddr;
}

function txMeta(cfg: InstanceConfig, src: string, to: string | undefined) {
  return { src, dst: to ?? MCAST[cfg.family], v3Checksum: cfg.v3Checksum };
}

/**
 * Builds and starts a simulated cluster at time 0: every node's instances get Startup.
 * @example simCluster({ nodes: [{ name: 'd1', primaryAddr: '198.18.0.1', instances: [instanceConfig()] }], seed: 1 })
 */
export function simCluster(opts: SimClusterOptions): SimCluster {
  return new SimCluster(opts);
}
