/**
 * A simulated client of a VIP, the simulator's counterpart of the netns labs' probe (test/netns/tools/probe.ts): it
 * sends a request every `intervalMs` to the host its ARP cache names for the VIP, and the request is answered when that
 * host holds the VIP at that instant. The cache follows what a Linux client does with its one entry:
 * - a gratuitous ARP for the VIP moves it to the sender (an existing entry is updated by a GARP);
 * - after requests went unanswered for `reArpMs` (the entry went stale, unicast probes failed), the client asks by
 *   broadcast and the holder answers; with several holders, the one that answered last wins (here: the last in
 *   node order, the unlucky case).
 * What it does not model: a request that is in flight while the VIP moves (a real TCP connection whose later packets
 * reach the new host, which resets it), and the time the new master needs between its advert and its GARP (the fake
 * host changes addresses instantly). docs/handover.md says what the real labs measure instead.
 */
import type { Ms } from '../core/time.ts';
import type { SimCluster } from './cluster.ts';

/** What {@link SimClient.run} saw. */
export interface SimClientReport {
  sent: number;
  failed: number;
  /** The longest time between two answered requests. */
  maxGapMs: Ms;
  /** Who answered, by node. */
  who: Record<string, number>;
  /** When requests failed (simulated ms). */
  failures: Ms[];
  /** From the fake hosts' address history: how long two nodes held the VIP, and how long none did. */
  twoHoldersMs: Ms;
  noHolderMs: Ms;
}

/** Options of a {@link SimClient}. */
export interface SimClientOptions {
  /** @default 10 */
  intervalMs?: Ms;
  /** @default 1000 */
  reArpMs?: Ms;
}

/**
 * A client that probes `vip` on a simulated cluster.
 * @example const client = new SimClient(c, VIP); c.setPriority(...); const r = client.run(2_000); r.failed // 0
 */
export class SimClient {
  readonly #c: SimCluster;
  readonly #vip: string;
  readonly #intervalMs: Ms;
  readonly #reArpMs: Ms;
  #target: string | null;
  #seenGarps: number;
  #failingSince: Ms | null = null;

  constructor(c: SimCluster, vip: string, opts: SimClientOptions = {}) {
    this.#c = c;
    this.#vip = vip;
    this.#intervalMs = opts.intervalMs ?? 10;
    this.#reArpMs = opts.reArpMs ?? 1000;
    this.#target = c.vipHolders(vip).at(-1) ?? null;
    this.#seenGarps = c.hosts.garps.length;
  }

  /** The host the client's ARP entry names now. */
  get target(): string | null {
    this.#followGarps();
    return this.#target;
  }

  /**
   * Runs simulated time for `ms` (while `during` acts at the start, e.g. a standby), one request every interval.
   * @example client.run(2_000, () => c.node('d1')?.standby('all'))
   */
  run(ms: Ms, during?: () => void): SimClientReport {
    const from = this.#c.clock.now();
    const r: SimClientReport = {
      sent: 0,
      failed: 0,
      maxGapMs: 0,
      who: {},
      failures: [],
      twoHoldersMs: 0,
      noHolderMs: 0,
    };
    let lastOk: Ms | null = null;
    during?.();
    for (let t = 0; t <= ms; t += this.#intervalMs) {
      if (t > 0) this.#c.runFor(this.#intervalMs);
      const now = this.#c.clock.now();
      this.#followGarps();
      const holders = this.#c.vipHolders(this.#vip);
      r.sent++;
      if (this.#target !== null && holders.includes(this.#target)) {
        r.who[this.#target] = (r.who[this.#target] ?? 0) + 1;
        if (lastOk !== null) r.maxGapMs = Math.max(r.maxGapMs, now - lastOk);
        lastOk = now;
        this.#failingSince = null;
        continue;
      }
      r.failed++;
      r.failures.push(now);
      this.#failingSince ??= now;
      if (now - this.#failingSince >= this.#reArpMs) {
        this.#target = holders.at(-1) ?? this.#target;
        this.#failingSince = null;
      }
    }
    const o = this.#c.hosts.overlap(this.#vip, from, this.#c.clock.now());
    r.twoHoldersMs = o.twoHoldersMs;
    r.noHolderMs = o.noHolderMs;
    return r;
  }

  #followGarps(): void {
    const garps = this.#c.hosts.garps;
    for (; this.#seenGarps < garps.length; this.#seenGarps++) {
      const g = garps[this.#seenGarps]!;
      if (g.addrs.includes(this.#vip)) this.#target = g.node;
    }
  }
}
