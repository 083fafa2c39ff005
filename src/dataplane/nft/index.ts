/**
 * The kernel data plane: virtual services as nftables NAT (render.ts makes the text, os/nft.ts runs it). The first
 * apply replaces any table of the same name (a stale one from an earlier run) in one transaction; later applies send
 * only what changed (`renderUpdate`), so unchanged services are not touched and NATed connections keep flowing
 * (their translation lives in conntrack). An apply that fails leaves the kernel as it was (nft transactions are
 * atomic), but the data plane then treats the table as unknown and the next apply replaces it whole.
 * Connection counts come from conntrack (os/conntrack.ts).
 *
 * Direct-routing services (`method: 'dr'`) go to a `table netdev NAME` of the same name (render-dr.ts), in the same
 * transaction, updated object by object so that its flow sets live on. Their counts are the flows in those sets
 * (nothing of DR passes conntrack). Until a DR service appears the netdev table is left alone.
 */
import { performance } from 'node:perf_hooks';
import { TandemError } from '../../core/errors.ts';
import type { ApplyReport, ConnCount, ConnCounts, DataPlane, ServiceProgram } from '../../lb/dataplane.ts';
import { type SteerState, steer, UNSTEERED } from '../../lb/schedulers/lc-feedback.ts';
import { serverKey } from '../../lb/types.ts';
import { type ConntrackEntry, type ConntrackReader, createConntrackReader, isActive } from '../../os/conntrack.ts';
import { createNftRunner, type NftRunner } from '../../os/nft.ts';
import {
  type CompiledProgram,
  canonicalAddress,
  compilePrograms,
  renderReplace,
  renderTransition,
  serviceLookupKey,
} from './render.ts';
import {
  countDrFlows,
  type DrTable,
  drFlowSetName,
  planDrTable,
  renderDrDelete,
  renderDrReplace,
  renderDrTransition,
} from './render-dr.ts';

export { kernelScheduler } from './render.ts';

/** Options of {@link createNftDataPlane}. */
export interface NftDataPlaneOptions {
  /** The nft table (`table inet NAME`) this data plane owns. */
  table: string;
  /** Runs nft. @default createNftRunner() */
  nft?: NftRunner;
  /** Reads conntrack. @default createConntrackReader() */
  conntrack?: ConntrackReader;
  /** One line per apply and failure. @default none */
  log?: (line: string) => void;
  /** Deadline of one nft run. @default the runner's (10 s) */
  applyTimeoutMs?: number;
  /**
   * How often lc/wlc services (NAT) read their connections and steer their slot weights (lb/schedulers/lc-feedback.ts);
   * 0 = only when {@link NftDataPlane.rebalance} is called (tests). @default 500
   */
  feedbackIntervalMs?: number;
}

/** The nft data plane, with its least-connections feedback step exposed (tests, the bench). */
export interface NftDataPlane extends DataPlane {
  /** One feedback step for every lc/wlc service; resolves with the ids whose weights changed (and were applied). */
  rebalance(signal?: AbortSignal): Promise<string[]>;
}

/** Whether a service takes least-connections feedback: NAT with lc or wlc. */
const steered = (s: ServiceProgram): boolean => s.method !== 'dr' && (s.scheduler === 'lc' || s.scheduler === 'wlc');

/** How a tracked connection is attributed: service by (protocol, VIP, port), backend by reply source. */
interface Attribution {
  id: string;
  /** `addr|port` (port as programmed) → backend key. */
  backends: Map<string, string>;
}

function attributions(services: readonly ServiceProgram[]): Map<string, Attribution> {
  const out = new Map<string, Attribution>();
  for (const s of services) {
    const backends = new Map<string, string>();
    const add = (addr: string, port: number, key: string): void => {
      const p = s.port === 0 ? 0 : port === 0 ? s.port : port;
      backends.set(`${canonicalAddress(addr)}|${p}`, key);
    };
    for (const b of s.backends) add(b.addr, b.port, b.key);
    if (s.sorry) add(s.sorry.addr, s.sorry.port, serverKey(s.sorry.addr, s.sorry.port));
    out.set(serviceLookupKey(s.protocol, canonicalAddress(s.vip), s.port), { id: s.id, backends });
  }
  return out;
}

/**
 * The nft data plane.
 * @example const dp = createNftDataPlane({ table: 'tandem' }); await dp.apply(desiredState(services, states, now))
 */
export function createNftDataPlane(opts: NftDataPlaneOptions): NftDataPlane {
  const nft = opts.nft ?? createNftRunner();
  const conntrack = opts.conntrack ?? createConntrackReader();
  const log = opts.log ?? (() => undefined);
  const table = opts.table;
  /** What the kernel holds, or null when unknown (never applied, failed, closed): the next apply replaces all. */
  let current: CompiledProgram | null = null;
  /** The last desired state asked for (a private copy), for attributing connections even when `current` is unknown;
   * also the source of plans to reuse. */
  let known: CompiledProgram | null = null;
  /** Applies and close run one at a time, in call order. */
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(job: () => Promise<T>): Promise<T> => {
    const run = queue.then(job, job);
    queue = run.catch(() => undefined);
    return run;
  };

  /** The DR table the kernel holds; null when unknown (never applied, failed): the next DR apply replaces it. */
  let drCurrent: DrTable | null = null;
  /** DR services last asked for (copies), for connection counts. */
  let drKnown: ServiceProgram[] = [];
  /** Whether this data plane ever programmed DR (close then deletes the netdev table too). */
  let drEverKnown = false;

  /** The DR part of an apply: its script and the table it leads to. */
  const drStep = (dr: readonly ServiceProgram[]): { script: string; next: DrTable | null; ids: string[] } => {
    const next = planDrTable(dr);
    const ids = dr.map((s) => s.id).sort();
    if (dr.length === 0) {
      if (drCurrent === null || drCurrent.size === 0) return { script: '', next: drCurrent, ids };
      return { script: renderDrDelete(table), next, ids };
    }
    return {
      script: drCurrent === null ? renderDrReplace(table, next) : renderDrTransition(table, drCurrent, next),
      next,
      ids,
    };
  };

  /** lc/wlc steering by service id. */
  const steering = new Map<string, SteerState>();
  /** The last desired state the runtime asked for (a feedback step re-applies it with new weights). */
  let desired: readonly ServiceProgram[] = [];
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  /** A service with its steered weights (live servers only; a server not steered yet gets the smallest weight). */
  const withSteering = (svc: ServiceProgram): ServiceProgram => {
    const st = steering.get(svc.id)?.weights;
    if (!st || !steered(svc)) return svc;
    return { ...svc, backends: svc.backends.map((b) => (b.weight > 0 ? { ...b, weight: st.get(b.key) ?? 1 } : b)) };
  };

  const apply = async (given: readonly ServiceProgram[], signal?: AbortSignal): Promise<ApplyReport> => {
    const t0 = performance.now();
    desired = given;
    for (const id of [...steering.keys()]) if (!given.some((s) => s.id === id && steered(s))) steering.delete(id);
    if (!closed && !timer && given.some(steered) && (opts.feedbackIntervalMs ?? 500) > 0) schedule();
    const all = given.map(withSteering);
    const services = all.filter((s) => s.method !== 'dr');
    const dr = all.filter((s) => s.method === 'dr');
    const drBefore = new Set(drKnown.map((s) => s.id));
    const drPlan = drStep(dr);
    // Compiling copies the services (later changes by the caller cannot alter what was applied) and throws
    // TND_NFT_PROGRAM / TND_NFT_UNSUPPORTED before anything runs: the kernel is untouched.
    const next = compilePrograms(services, known ?? undefined);
    const { script, diff } =
      current === null
        ? {
            script: renderReplace(table, next),
            diff: { added: next.services.map((s) => s.id).sort(), changed: [], removed: [] },
          }
        : renderTransition(table, current, next);
    known = next;
    if (dr.length > 0) drEverKnown = true;
    drKnown = dr.map((s) => ({ ...s, backends: s.backends.map((b) => ({ ...b })) }));
    const whole = script + drPlan.script;
    if (whole.length > 0) {
      try {
        await nft.apply(whole, {
          ...(signal ? { signal } : {}),
          ...(opts.applyTimeoutMs !== undefined ? { timeoutMs: opts.applyTimeoutMs } : {}),
        });
      } catch (e) {
        current = null;
        drCurrent = null;
        log(`nft ${table}: apply failed, the next apply reloads the whole table: ${(e as Error).message}`);
        throw e;
      }
    }
    current = next;
    drCurrent = drPlan.next;
    const report: ApplyReport = {
      added: [...diff.added, ...drPlan.ids.filter((id) => !drBefore.has(id))].sort(),
      changed: [...diff.changed, ...(drPlan.script ? drPlan.ids.filter((id) => drBefore.has(id)) : [])].sort(),
      removed: [...diff.removed, ...[...drBefore].filter((id) => !drPlan.ids.includes(id))].sort(),
      tookMs: Math.round(performance.now() - t0),
    };
    if (whole.length > 0) {
      log(
        `nft ${table}: applied in ${report.tookMs} ms (added ${report.added.length}, changed ${report.changed.length}, ` +
          `removed ${report.removed.length})`,
      );
    }
    return report;
  };

  const connections = async (signal?: AbortSignal): Promise<ConnCounts> => {
    const by = attributions(known?.services ?? []);
    const counts: ConnCounts = new Map();
    if (drKnown.length > 0) await drConnections(counts, signal);
    if (by.size === 0) return counts;
    const vips = new Set((known?.services ?? []).map((s) => canonicalAddress(s.vip)).filter((a) => !a.includes(':')));
    for await (const e of conntrack.entries(signal, { dst: vips })) {
      if (e.protocol !== 'tcp' && e.protocol !== 'udp') continue;
      const dst = canonicalAddress(e.orig.dst);
      const a = by.get(serviceLookupKey(e.protocol, dst, e.orig.dport)) ?? by.get(serviceLookupKey(e.protocol, dst, 0));
      if (!a) continue;
      const src = canonicalAddress(e.reply.src);
      if (src === dst) continue; // not translated: never went through this data plane
      const key =
        a.backends.get(`${src}|${e.reply.sport}`) ?? a.backends.get(`${src}|0`) ?? serverKey(src, e.reply.sport);
      const perService = counts.get(a.id) ?? new Map<string, ConnCount>();
      counts.set(a.id, perService);
      const c: ConnCount = perService.get(key) ?? { active: 0, inactive: 0 };
      if (isActive(e)) c.active++;
      else c.inactive++;
      perService.set(key, c);
    }
    return counts;
  };

  /** The connections of one service, from a kernel-filtered dump when the reader has one. */
  const serviceEntries = (svc: ServiceProgram, signal?: AbortSignal): AsyncIterable<ConntrackEntry> => {
    const q = { family: svc.family, protocol: svc.protocol, vip: canonicalAddress(svc.vip), port: svc.port };
    return conntrack.service ? conntrack.service(q, signal) : conntrack.entries(signal, { dst: new Set([q.vip]) });
  };

  const rebalance = async (signal?: AbortSignal): Promise<string[]> => {
    const changed: string[] = [];
    for (const svc of desired.filter(steered)) {
      const by = attributions([svc]).get(serviceLookupKey(svc.protocol, canonicalAddress(svc.vip), svc.port));
      if (!by) continue;
      const counts = new Map<string, { active: number; inactive: number }>();
      for await (const e of serviceEntries(svc, signal)) {
        if (e.protocol !== svc.protocol || (svc.port !== 0 && e.orig.dport !== svc.port)) continue;
        if (canonicalAddress(e.orig.dst) !== canonicalAddress(svc.vip)) continue;
        const key =
          by.backends.get(`${canonicalAddress(e.reply.src)}|${e.reply.sport}`) ??
          by.backends.get(`${canonicalAddress(e.reply.src)}|0`);
        if (!key) continue;
        const c = counts.get(key) ?? { active: 0, inactive: 0 };
        if (isActive(e)) c.active++;
        else c.inactive++;
        counts.set(key, c);
      }
      const servers = svc.backends.map((b) => ({
        key: b.key,
        weight: b.weight,
        ...(counts.get(b.key) ?? { active: 0, inactive: 0 }),
      }));
      const step = steer(servers, steering.get(svc.id) ?? UNSTEERED, svc.scheduler === 'lc');
      steering.set(svc.id, step.state);
      if (step.changed) {
        changed.push(svc.id);
        log(
          `nft ${table}: ${svc.id} (${svc.scheduler}) imbalance ${step.imbalance.toFixed(1)} (bound ${step.bound.toFixed(1)}): ` +
            (step.state.weights
              ? `slot weights ${[...step.state.weights].map(([k, w]) => `${k}=${w}`).join(' ')}`
              : 'configured weights'),
        );
      }
    }
    if (changed.length > 0) await serial(() => apply(desired, signal));
    return changed;
  };

  const schedule = (): void => {
    timer = setTimeout(() => {
      void rebalance()
        .catch((e: unknown) => log(`nft ${table}: least-connections feedback failed: ${(e as Error).message}`))
        .finally(() => {
          timer = null;
          if (!closed && desired.some(steered)) schedule();
        });
    }, opts.feedbackIntervalMs ?? 500);
    timer.unref?.();
  };

  /** DR counts: every flow in a server's flow set counts as active (the director sees one direction only). */
  const drConnections = async (counts: ConnCounts, signal?: AbortSignal): Promise<void> => {
    const listing = await nft.listTable(table, { ...(signal ? { signal } : {}), family: 'netdev' });
    if (listing === null) return;
    const flows = countDrFlows(listing);
    for (const s of drKnown) {
      const perService = counts.get(s.id) ?? new Map<string, ConnCount>();
      const targets = [...s.backends, ...(s.sorry ? [{ ...s.sorry, key: serverKey(s.sorry.addr, s.sorry.port) }] : [])];
      for (const b of targets) {
        const n = flows.get(drFlowSetName(s.id, canonicalAddress(b.addr), s.port)) ?? 0;
        if (n > 0) perService.set(b.key, { active: n, inactive: 0 });
      }
      counts.set(s.id, perService);
    }
  };

  const close = async (): Promise<void> => {
    closed = true;
    if (timer) clearTimeout(timer);
    timer = null;
    current = null;
    known = null;
    drCurrent = null;
    drKnown = [];
    if (drEverKnown) {
      try {
        await nft.apply(renderDrDelete(table));
      } catch (e) {
        log(`nft netdev ${table}: cannot delete the table: ${(e as Error).message}`);
      }
    }
    try {
      const existed = await nft.deleteTable(table);
      if (existed) log(`nft ${table}: table deleted`);
    } catch (e) {
      log(`nft ${table}: cannot delete the table: ${(e as Error).message}`);
      throw e;
    }
  };

  return {
    kind: 'nft',
    apply: (services, signal) => serial(() => apply(services, signal)),
    connections,
    close: () => serial(close),
    rebalance,
  };
}

/** Whether an error came from the nft data plane's own checks or runs (for callers that log and carry on). */
export function isNftError(e: unknown): e is TandemError {
  return (
    e instanceof TandemError &&
    (e.code === 'TND_NFT_APPLY' || e.code === 'TND_NFT_PROGRAM' || e.code === 'TND_NFT_UNSUPPORTED')
  );
}
