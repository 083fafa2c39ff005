/**
 * The node's side of the takeover guard (docs/split-brain.md §1, §4): runs the machine's `probe` and `fence` requests
 * through the node's ports and feeds the verdict back. A probe round asks the silent master at every address the node
 * knows for it — its advert source, its cluster node's addresses, and the sources its adverts came from on other
 * heartbeat paths — over every configured path at once; the first decisive answer ends the round, the deadline ends
 * it at the latest (election/takeover-guard.ts combines the answers). A fence request resolves the device's per-node
 * parameters for the node being fenced and runs the agent within the request's deadline.
 */

import type { EventBus } from '../core/events.ts';
import type { Clock } from '../core/time.ts';
import { type CombinedVerdict, combineResults, type PathResult, pathLabel } from '../election/takeover-guard.ts';
import type { NodePlan } from '../plan/node-plan.ts';
import type { FenceEffect, GuardRunner, ProbeEffect, VrrpEvents, VrrpInstance } from '../vrrp/instance.ts';
import type { FencePort, GuardProbePorts } from './ports.ts';

/** What the runner needs of the node. */
export interface NodeGuardOptions {
  clock: Clock;
  plan: () => NodePlan;
  probes?: GuardProbePorts;
  fence?: FencePort;
  events: EventBus<VrrpEvents>;
  /** More addresses a master was heard from (its sources on other heartbeat paths). */
  learned?: (addr: string) => readonly string[];
}

/** The cluster node that has `addr`, if the plan knows one. */
export function nodeOfAddress(plan: NodePlan, addr: string): { name: string; addresses: string[] } | undefined {
  return plan.cluster?.nodes.find((n) => n.addresses.includes(addr));
}

type Task = {
  label: string;
  addr: string;
  port?: number;
  path: PathResult['path'];
  run: (done: (r: PathResult) => void) => void;
};

/**
 * Runs the guard's requests of every instance of one node.
 * @example new VrrpInstance({ …, guard: new NodeGuard({ clock, plan: () => plan, probes, events }) })
 */
export class NodeGuard implements GuardRunner {
  readonly #o: NodeGuardOptions;

  constructor(opts: NodeGuardOptions) {
    this.#o = opts;
  }

  probe(req: ProbeEffect, vi: VrrpInstance): void {
    const { clock } = this.#o;
    const tasks = this.#tasks(req, vi);
    const results: PathResult[] = [];
    let done = false;
    let cancel = (): void => {};
    const decide = (v: CombinedVerdict): void => {
      done = true;
      cancel();
      vi.feed({ kind: 'guardVerdict', round: req.round, ...v });
    };
    if (tasks.length === 0) {
      decide(combineResults([], true)!);
      return;
    }
    cancel = clock.at(req.deadline, () => {
      if (done) return;
      // What has not answered by the deadline timed out, whatever its own timer says.
      const missing = tasks.filter((t) => !results.some((r) => sameTask(r, t)));
      for (const t of missing) results.push(timedOut(t));
      decide(combineResults(results, true)!);
    });
    for (const t of tasks) {
      t.run((r) => {
        if (done) return;
        results.push(r);
        const out = (path: PathResult['path']) =>
          tasks.some((t) => t.path === path && !results.some((x) => sameTask(x, t)));
        const v = combineResults(results, results.length === tasks.length, { peer: out('peer'), vip: out('vip') });
        if (v) decide(v);
      });
    }
  }

  fence(req: FenceEffect, vi: VrrpInstance): void {
    const { clock, events } = this.#o;
    const plan = this.#o.plan();
    const device = vi.config.guard?.fence?.device ?? '';
    const spec = plan.fencing?.[device];
    const target = nodeOfAddress(plan, req.master.addr);
    const fail = (detail: string): void => {
      events.emit('fence', {
        ...(plan.node ? { node: plan.node } : {}),
        instance: vi.name,
        at: clock.now(),
        device,
        target: target?.name ?? req.master.addr,
        outcome: 'error',
        code: null,
        durationMs: 0,
        detail,
      });
      vi.feed({ kind: 'fenceResult', round: req.round, ok: false, detail });
    };
    const problem = !spec
      ? `no fence device ${device}`
      : !this.#o.fence
        ? 'this node cannot run fence agents'
        : undefined;
    if (problem || !spec || !this.#o.fence) {
      fail(problem ?? 'no fence device');
      return;
    }
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(spec.params)) {
      if (typeof v === 'string') params[k] = v;
      else if (!target || v[target.name] === undefined) {
        fail(
          target
            ? `${device}.${k} has no value for node ${target.name}`
            : `${req.master.addr} is not in cluster.nodes, so ${device}.${k} has no value for it`,
        );
        return;
      } else params[k] = v[target.name]!;
    }
    const timeoutMs = Math.max(0, Math.min(spec.timeout, req.deadline - clock.now()));
    this.#o.fence.run({ device, spec, params, timeoutMs }, (r) => {
      events.emit('fence', {
        node: plan.node,
        instance: vi.name,
        at: clock.now(),
        device,
        target: target?.name ?? req.master.addr,
        outcome: r.outcome,
        code: r.code,
        durationMs: r.durationMs,
        detail: r.detail,
      });
      vi.feed({ kind: 'fenceResult', round: req.round, ok: r.outcome === 'ok', detail: r.detail });
    });
  }

  /** The probes of one round: each path at each address. */
  #tasks(req: ProbeEffect, vi: VrrpInstance): Task[] {
    const plan = this.#o.plan();
    const g = vi.config.guard;
    const probes = this.#o.probes;
    if (!g || !probes) return [];
    const node = nodeOfAddress(plan, req.master.addr);
    const addrs = [
      ...new Set([req.master.addr, ...(node?.addresses ?? []), ...(this.#o.learned?.(req.master.addr) ?? [])]),
    ];
    const timeout = Math.max(0, req.deadline - this.#o.clock.now());
    const tasks: Task[] = [];
    const channel = plan.cluster?.peerChannel;
    const keyFile = plan.cluster?.keyFile;
    // The peer channel is asked only of cluster nodes: a refusal from a host that is no tandem node (a keepalived
    // master) would say nothing about VRRP.
    if (g.peerChannel && node && channel && keyFile && probes.peer) {
      const peer = probes.peer;
      const settings = { node: plan.node, port: channel.port, windowMs: channel.windowMs, keyFile };
      for (const addr of addrs)
        tasks.push({
          label: 'peer channel',
          addr,
          path: 'peer',
          run: (done) =>
            peer(settings, addr, vi.name, timeout, (r) =>
              done(
                r.outcome === 'answer'
                  ? { path: 'peer', addr, outcome: 'answer', answer: r.answer }
                  : { path: 'peer', addr, outcome: r.outcome, detail: r.detail },
              ),
            ),
        });
    }
    if (g.icmp && probes.icmp) {
      const icmp = probes.icmp;
      for (const addr of addrs)
        tasks.push({
          label: 'icmp',
          addr,
          path: 'icmp',
          run: (done) => icmp(addr, timeout, (r) => done({ path: 'icmp', addr, ...r })),
        });
    }
    // Whether anybody answers for the address at all: a master that pings but holds nothing must not hold us back.
    const vip = vi.config.vips[0]?.addr;
    if (g.icmp && probes.icmp && vip) {
      const icmp = probes.icmp;
      tasks.push({
        label: 'vip',
        addr: vip,
        path: 'vip',
        run: (done) => icmp(vip, timeout, (r) => done({ path: 'vip', addr: vip, ...r })),
      });
    }
    if (probes.tcp) {
      const tcp = probes.tcp;
      for (const port of g.ports)
        for (const addr of addrs)
          tasks.push({
            label: `tcp:${port}`,
            addr,
            port,
            path: 'tcp',
            run: (done) => tcp(addr, port, timeout, (r) => done({ path: 'tcp', addr, port, ...r })),
          });
    }
    return tasks;
  }
}

const sameTask = (r: PathResult, t: Task): boolean =>
  pathLabel(r) === t.label && r.addr === t.addr && (r.path !== 'tcp' || r.port === t.port);

function timedOut(t: Task): PathResult {
  const detail = 'no answer by the deadline';
  if (t.path === 'tcp') return { path: 'tcp', addr: t.addr, port: t.port!, outcome: 'timeout', detail };
  if (t.path === 'icmp' || t.path === 'vip') return { path: t.path, addr: t.addr, outcome: 'timeout', detail };
  return { path: 'peer', addr: t.addr, outcome: 'timeout', detail };
}
