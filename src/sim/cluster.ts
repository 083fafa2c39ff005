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
import type { PeerAnswer } from '../election/takeover-guard.ts';
import { TandemNode } from '../node/node.ts';
import type { FencePort, GuardProbePorts, LbPort, NodeDeps, NotifyPort, TrackerSources } from '../node/ports.ts';
import type { NodePlan } from '../plan/node-plan.ts';
import { AdvertAuth } from '../vrrp/advert-hmac.ts';
import { decodeVrrp, encodeVrrp } from '../vrrp/codec.ts';
import type { VrrpEvents, VrrpInstance } from '../vrrp/instance.ts';
import type { TransitionCause } from '../vrrp/machine.ts';
import type { VrrpRx } from '../vrrp/ports.ts';
import type { AddressFamily, InstanceConfig, VrrpPacket, VrrpState } from '../vrrp/types.ts';
import { FakeHosts } from './fake-os.ts';
import { NodeClock } from './node-clock.ts';
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
  /** TCP ports a service listens on at this host (the guard's `peer_probe` finds them open). @default none */
  openPorts?: readonly number[];
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
  /** A node's fence agents (fakes); without it a fence fails, so a fenced takeover never happens. */
  fence?: (node: string) => FencePort | undefined;
  /** Key bytes by key file path (auth_hmac in `wire: 'bytes'`). @default a fixed test key for every path */
  keys?: Readonly<Record<string, Uint8Array>>;
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
  /** Reports a ping target object (vrrp.track_pings) up or down. */
  setPing(name: string, up: boolean): void;
  notifications: { kind: string; name: string; state: string; priority: number }[];
  /** Every log record of the node, across restarts. */
  log: LogRecord[];
}

/** An advert on the segment. */
interface VrrpFrame {
  kind?: 'vrrp';
  family: AddressFamily;
  /** The IP source address of the advert. */
  src: string;
  body: VrrpPacket | Uint8Array;
}

/** The guard's probes and their answers (docs/split-brain.md): ICMP echo, a TCP connect, a peer channel query. */
type ProbeFrame = { kind: 'probe'; id: number; proto: 'icmp' | 'tcp' | 'peer'; port?: number; instance?: string };
type ReplyFrame = {
  kind: 'reply';
  id: number;
  outcome: 'reply' | 'open' | 'refused' | 'answer';
  answer?: PeerAnswer;
};

/** What travels on the simulated segment. */
type Frame = VrrpFrame | ProbeFrame | ReplyFrame;

/** Whether a frame is VRRP (what a "VRRP only" link cut drops). */
export const isVrrpFrame = (f: unknown): boolean => (f as Frame).kind === undefined || (f as Frame).kind === 'vrrp';

/** A fixed key for simulated auth_hmac, the same on every node. */
const SIM_KEY = Uint8Array.from({ length: 32 }, (_, i) => 0x40 + i);

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
  'handover',
];

interface Sim {
  controls: SimNodeControls;
  listeners: {
    link: Set<(ifname: string, up: boolean) => void>;
    script: Map<string, (up: boolean) => void>;
    file: Map<string, (value: number) => void>;
    ping: Map<string, (up: boolean) => void>;
  };
}

/** A registered instance on a node's simulated socket layer. */
interface Receiver {
  handler: (rx: VrrpRx) => void;
  auth?: AdvertAuth;
}

interface RunningNode {
  node: TandemNode;
  close: () => void;
  clock: NodeClock;
  receivers: Map<string, Receiver>;
  /** The node's peer channel answers, while it serves them. */
  peer?: (instance: string) => Omit<PeerAnswer, 'node'> | undefined;
}

/** A node's host: its one place on the segment, up from construction until powered off. */
interface Host {
  endpoint: ReturnType<SimNetwork<Frame>['attach']>;
  up: boolean;
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
  readonly #hosts = new Map<string, Host>();
  readonly #pending = new Map<number, (r: ReplyFrame) => void>();
  readonly #wallOffset = new Map<string, number>();
  #probeSeq = 0;

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
      const endpoint = this.network.attach(n.name, [n.primaryAddr, ...(n.addresses ?? [])], (d) =>
        this.#hostReceive(n.name, d),
      );
      this.#hosts.set(n.name, { endpoint, up: true });
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

  /**
   * The daemon's SIGTERM for VRRP: a make-before-break handover (docs/handover.md). Each master keeps its VIPs until
   * a new master is heard (or the deadline passes) while simulated time runs; the promise settles after that.
   */
  handOver(node: string): Promise<void> {
    const r = this.#running.get(node);
    if (!r) return Promise.resolve();
    return r.node.stop({ handover: true }).then(() => {
      if (this.#running.get(node) !== r) return;
      r.close();
      this.#running.delete(node);
    });
  }

  /** The daemon's SIGTERM order: resource groups stop right to left (awaited), then VRRP hands over. */
  async stopGracefully(node: string): Promise<void> {
    const r = this.#running.get(node);
    if (!r) return;
    await r.node.stopResourceGroups();
    await this.handOver(node);
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
    const host = this.#hosts.get(node)!;
    host.up = true;
    const endpoint = host.endpoint;
    const receivers = new Map<string, Receiver>();
    const clock = new NodeClock(this.clock);
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
    const wallNow = () => 1_800_000_000_000 + this.clock.now() + (this.#wallOffset.get(node) ?? 0);
    const running: Partial<RunningNode> = {};
    const deps: NodeDeps = {
      clock,
      log: { log: (level, msg, fields = {}) => sim.controls.log.push({ level, msg, fields }) },
      transport: (cfg, src) => {
        // One socket layer per interface: the same VRID on two interfaces (heartbeat paths) are two registrations.
        const muxKey = `${cfg.interface}/${cfg.family}/${cfg.vrid}`;
        const auth =
          cfg.hmac && this.#wire === 'bytes'
            ? new AdvertAuth(
                { ...cfg, hmac: cfg.hmac },
                [{ id: cfg.hmac.keyId, key: this.#opts.keys?.[cfg.hmac.keyFile] ?? SIM_KEY }],
                wallNow,
              )
            : undefined;
        return {
          send: (packet, to) => {
            if (clock.paused) return; // a stopped process sends nothing
            const bytes = this.#wire === 'bytes' ? encodeVrrp(packet, txMeta(cfg, src, to)) : packet;
            const body = auth && bytes instanceof Uint8Array ? auth.seal(bytes, src) : bytes;
            endpoint.send({ family: cfg.family, src, body }, to);
          },
          onReceive: (h) => {
            receivers.set(muxKey, { handler: h, ...(auth ? { auth } : {}) });
            return () => receivers.delete(muxKey);
          },
          close: () => receivers.delete(muxKey),
        };
      },
      vips: () => this.hosts.vips(node),
      garp: () => this.hosts.garp(node),
      primaryAddress: (_ifname, family) => sourceFor(spec, family),
      trackers: trackerSources(sim),
      notify: notifier(sim),
      wallNow,
      ...(this.#opts.groupRunner ? { groupRunner: this.#opts.groupRunner(node) } : {}),
      guardProbes: this.#probes(node, clock),
      peerServer: (_channel, answer) => {
        running.peer = answer;
        return {
          stop: () => {
            delete running.peer;
          },
          stats: () => ({ answered: 0, rejected: {} }),
        };
      },
    };
    const fence = this.#opts.fence?.(node);
    if (fence) deps.fence = fence;
    const lb = this.#opts.lb?.(node);
    if (lb) deps.lb = lb;
    const tandem = new TandemNode(plan, deps, spec.configName ?? `${node}.yaml`);
    const off = FORWARDED.map((kind) =>
      tandem.events.on(kind, (e) => this.events.emit(kind, e as VrrpEvents[typeof kind])),
    );
    Object.assign(running, {
      node: tandem,
      clock,
      receivers,
      close: () => {
        for (const f of off) f();
        receivers.clear();
      },
    });
    this.#running.set(node, running as RunningNode);
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
  #deliver(receivers: ReadonlyMap<string, Receiver>, frame: VrrpFrame, ttl: number, dst: string | null): void {
    // The simulated segment is one wire; the first registration of a VRID (the instance's own interface) hears it.
    const first = (vrid: number) =>
      [...receivers].filter(([k]) => k.endsWith(`/${frame.family}/${vrid}`)).map(([, r]) => r)[0];
    if (!(frame.body instanceof Uint8Array)) {
      first(frame.body.vrid)?.handler({ ok: true, packet: frame.body, src: frame.src });
      return;
    }
    const rx = { ttl, family: frame.family, src: frame.src, dst: dst ?? MCAST[frame.family] };
    const decoded = decodeVrrp(frame.body, rx);
    if (decoded.ok) {
      const r = first(decoded.packet.vrid);
      const sealed = r?.auth?.open(frame.body, decoded.packet, frame.src);
      if (sealed && !sealed.ok) r!.handler({ ok: false, reason: sealed.reason, src: frame.src, detail: sealed.detail });
      else r?.handler({ ok: true, packet: decoded.packet, src: frame.src });
      return;
    }
    // Without a valid header the VRID is unknown: every instance of the family hears about the drop, as in a log.
    for (const [k, r] of receivers) {
      if (k.includes(`/${frame.family}/`))
        r.handler({ ok: false, reason: decoded.reason, src: frame.src, detail: decoded.detail });
    }
  }

  /** What reaches a node's host: adverts go to its daemon (if it runs), probes to the host's own answers. */
  #hostReceive(node: string, d: { payload: Frame; ttl: number; dst: string | null; src: string }): void {
    const host = this.#hosts.get(node)!;
    if (!host.up) return;
    const f = d.payload;
    const r = this.#running.get(node);
    if (f.kind === 'reply') {
      this.#pending.get(f.id)?.(f);
      return;
    }
    if (f.kind === 'probe') {
      const reply = (outcome: ReplyFrame['outcome'], answer?: PeerAnswer): void =>
        host.endpoint.send({ kind: 'reply', id: f.id, outcome, ...(answer ? { answer } : {}) }, d.src);
      // The peer channel is the daemon's: refused when it does not run; a paused one answers when it wakes.
      if (f.proto === 'icmp') reply('reply');
      else if (f.proto === 'tcp') reply(this.#spec(node).openPorts?.includes(f.port ?? -1) ? 'open' : 'refused');
      else if (!r?.peer) reply('refused');
      else
        r.clock.io(() => {
          const a = r.peer?.(f.instance ?? '');
          reply('answer', {
            state: a?.state ?? 'absent',
            priority: a?.priority ?? 0,
            vipsHeld: a?.vipsHeld ?? false,
            node,
          });
        });
      return;
    }
    if (r) r.clock.io(() => this.#deliver(r.receivers, f, d.ttl, d.dst));
  }

  /** The guard's probes of `node`, over the simulated segment (partitions and filters apply both ways). */
  #probes(node: string, clock: NodeClock): GuardProbePorts {
    const ask = (
      addr: string,
      probe: Omit<ProbeFrame, 'kind' | 'id'>,
      timeoutMs: number,
      done: (r: ReplyFrame | null) => void,
    ): void => {
      const id = ++this.#probeSeq;
      const cancel = clock.at(clock.now() + timeoutMs, () => {
        this.#pending.delete(id);
        done(null);
      });
      this.#pending.set(id, (reply) => {
        this.#pending.delete(id);
        cancel();
        done(reply);
      });
      // A virtual address is where its holder is (ARP resolves it to that host); nobody holding it: unroutable.
      const holder = this.hosts.holders(addr)[0];
      this.#hosts
        .get(node)!
        .endpoint.send({ kind: 'probe', id, ...probe }, holder ? this.#spec(holder).primaryAddr : addr);
    };
    const timeout = (t: number) => ({ outcome: 'timeout' as const, detail: `no answer within ${t} ms` });
    return {
      icmp: (addr, t, done) =>
        ask(addr, { proto: 'icmp' }, t, (r) => done(r ? { outcome: 'reply', detail: 'reply' } : timeout(t))),
      tcp: (addr, port, t, done) =>
        ask(addr, { proto: 'tcp', port }, t, (r) =>
          done(r ? { outcome: r.outcome === 'open' ? 'open' : 'refused', detail: r.outcome } : timeout(t)),
        ),
      peer: (_channel, addr, instance, t, done) =>
        ask(addr, { proto: 'peer', instance }, t, (r) => {
          if (!r) done(timeout(t));
          else if (r.outcome === 'answer' && r.answer) done({ outcome: 'answer', answer: r.answer });
          else done({ outcome: 'refused', detail: `nothing listens on ${addr}` });
        }),
    };
  }

  /**
   * SIGSTOP: the node's daemon stops running — no timers, no packets handled, nothing sent, no peer channel answers —
   * while its host still answers ICMP and its services their ports, and time goes on.
   */
  pause(node: string): void {
    this.#running.get(this.#spec(node).name)?.clock.pause();
  }

  /** SIGCONT: the paused daemon's late timers fire, then the packets that waited (docs/split-brain.md §5). */
  resume(node: string): void {
    this.#running.get(this.#spec(node).name)?.clock.resume();
  }

  /** The whole host goes dark (power off): the daemon dies as with SIGKILL and nothing answers any probe. */
  powerOff(node: string): void {
    this.kill(node);
    this.#hosts.get(this.#spec(node).name)!.up = false;
    this.hosts.dropAll(node);
  }

  /**
   * Drops VRRP (only) from `from` to `to`, or both ways: the firewall rule of the nemesis ("VRRP dropped on
   * the backup's input"). Everything else — the peer channel, ICMP, TCP — still passes.
   */
  dropVrrp(from: string, to: string, oneWay = true): void {
    this.#spec(from);
    this.#spec(to);
    this.network.setFilter(from, to, isVrrpFrame, oneWay);
  }

  /** Cuts everything from `from` to `to` (one way unless told otherwise). */
  cutLink(from: string, to: string, oneWay = true): void {
    this.#spec(from);
    this.#spec(to);
    this.network.setFilter(from, to, () => true, oneWay);
  }

  /** Removes every dropVrrp and cutLink rule. */
  restoreLinks(): void {
    this.network.clearFilters();
  }

  /** Steps `node`'s wall clock by `ms` (NTP, an operator): the monotonic clock, and so VRRP's timers, do not move. */
  stepWallClock(node: string, ms: number): void {
    this.#wallOffset.set(this.#spec(node).name, (this.#wallOffset.get(node) ?? 0) + ms);
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
  const listeners: Sim['listeners'] = { link: new Set(), script: new Map(), file: new Map(), ping: new Map() };
  return {
    listeners,
    controls: {
      setLink: (ifname, up) => {
        for (const l of listeners.link) l(ifname, up);
      },
      setScript: (name, up) => listeners.script.get(name)?.(up),
      setFile: (name, value) => listeners.file.get(name)?.(value),
      setPing: (name, up) => listeners.ping.get(name)?.(up),
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
    ping(name, _spec, onChange) {
      l.ping.set(name, onChange);
      return () => l.ping.delete(name);
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
