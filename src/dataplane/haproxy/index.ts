/**
 * The HAProxy data plane: tandem renders haproxy.cfg for its services (render.ts) and runs one HAProxy in
 * master-worker mode (os/haproxy.ts) while this node serves any of them (the LB scope: the VIP owner), stopping it
 * when it serves none. An apply whose config text is unchanged touches HAProxy only through its runtime API (server
 * state ready/drain/maint and weight, from tandem's health checks and admin actions): no reload. A changed config is
 * checked with `haproxy -c`, written with a server-state file of the current states, and reloaded hitlessly through
 * the master socket; a config HAProxy refuses is TND_HAPROXY_CONFIG and the running one is kept.
 * Connection counts are `show stat`'s current sessions per server.
 */
import { performance } from 'node:perf_hooks';
import { TandemError } from '../../core/errors.ts';
import type { ApplyReport, ConnCounts, DataPlane, ServiceProgram } from '../../lb/dataplane.ts';
import { HaproxyProcess } from '../../os/haproxy.ts';
import {
  backendName,
  desiredServers,
  parseServersState,
  renderHaproxyConfig,
  renderServerState,
  runtimeCommands,
  SORRY_SERVER,
  serverName,
} from './render.ts';

/** Options of {@link createHaproxyDataPlane}. */
export interface HaproxyDataPlaneOptions {
  /** tandem's run directory for this HAProxy (config, sockets, state, pid file). */
  dir: string;
  /** @default '/usr/sbin/haproxy' */
  binary?: string;
  /** One line per start, reload, runtime change and failure. @default none */
  log?: (line: string) => void;
  /** Wait before restarting an HAProxy that exited by itself. @default 1000 */
  restartDelayMs?: number;
}

/** The HAProxy data plane, with what the tests look at. */
export interface HaproxyDataPlane extends DataPlane {
  readonly process: HaproxyProcess;
  /** How many reloads this plane did (not counting starts). */
  readonly reloads: number;
  /** Runtime API commands sent, in order (the last 1000). */
  readonly commands: readonly string[];
}

const fingerprint = (p: ServiceProgram): string =>
  JSON.stringify([p.backends.map((b) => [b.key, b.weight]), p.sorry, p.pool, p.proxy, p.persistence, p.scheduler]);

/**
 * The HAProxy data plane.
 * @example const dp = createHaproxyDataPlane({ dir: '/run/tandem/haproxy-tandem' }); await dp.apply(programs)
 */
export function createHaproxyDataPlane(opts: HaproxyDataPlaneOptions): HaproxyDataPlane {
  const log = opts.log ?? (() => undefined);
  let desired: readonly ServiceProgram[] = [];
  /** The config text the running HAProxy has; null when none runs. */
  let current: string | null = null;
  let known = new Map<string, string>();
  let closed = false;
  let reloads = 0;
  const commands: string[] = [];
  let restartTimer: NodeJS.Timeout | null = null;
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(job: () => Promise<T>): Promise<T> => {
    const run = queue.then(job, job);
    queue = run.catch(() => undefined);
    return run;
  };

  const proc = new HaproxyProcess({
    dir: opts.dir,
    ...(opts.binary ? { binary: opts.binary } : {}),
    log: (_level, line) => log(line),
    onExit: () => {
      current = null;
      if (closed || restartTimer) return;
      restartTimer = setTimeout(() => {
        restartTimer = null;
        if (!closed && desired.length)
          void plane.apply(desired).catch((e: unknown) => log(`restart failed: ${(e as Error).message}`));
      }, opts.restartDelayMs ?? 1_000);
    },
  });

  const send = async (cmd: string): Promise<void> => {
    const reply = (await proc.api(cmd)).trim();
    commands.push(cmd);
    if (commands.length > 1_000) commands.shift();
    if (reply !== '') throw new TandemError('TND_HAPROXY', `HAProxy refused "${cmd}": ${reply.slice(0, 500)}`);
  };

  const converge = async (programs: readonly ServiceProgram[]): Promise<void> => {
    const rows = parseServersState(await proc.api('show servers state'));
    const cmds = runtimeCommands(desiredServers(programs), rows);
    for (const c of cmds) await send(c);
    if (cmds.length) log(`runtime API: ${cmds.join('; ')}`);
  };

  const apply = async (services: readonly ServiceProgram[]): Promise<ApplyReport> => {
    const t0 = performance.now();
    if (closed) throw new TandemError('TND_HAPROXY', 'the haproxy data plane is closed');
    const next = new Map(services.map((s) => [s.id, fingerprint(s)]));
    const report: ApplyReport = {
      added: [...next.keys()].filter((id) => !known.has(id)),
      changed: [...next].filter(([id, f]) => known.has(id) && known.get(id) !== f).map(([id]) => id),
      removed: [...known.keys()].filter((id) => !next.has(id)),
      tookMs: 0,
    };
    desired = services;
    if (services.length === 0) {
      if (proc.running) {
        await proc.stop();
        log('no service served here: HAProxy stopped');
      }
      current = null;
      known = next;
      report.tookMs = Math.round(performance.now() - t0);
      return report;
    }
    const config = renderHaproxyConfig(services, {
      paths: { apiSocket: proc.files.apiSocket, stateFile: proc.files.stateFile },
    });
    const state = renderServerState(services);
    if (!proc.running) {
      await proc.writeConfig(config, state);
      await proc.start();
      current = config;
    } else if (config !== current) {
      const previous = current;
      await proc.writeConfig(config, state);
      try {
        const r = await proc.reload();
        reloads++;
        log(`config changed: reloaded (worker ${r.oldPid ?? '?'} → ${r.newPid})`);
      } catch (e) {
        // The old worker keeps serving; put its config back so that a later re-exec of the master reads it.
        if (previous !== null) await proc.writeConfig(previous, state).catch(() => undefined);
        throw e;
      }
      current = config;
    }
    await converge(services);
    known = next;
    report.tookMs = Math.round(performance.now() - t0);
    return report;
  };

  const plane: HaproxyDataPlane = {
    kind: 'haproxy',
    process: proc,
    get reloads() {
      return reloads;
    },
    commands,
    apply: (services) => serial(() => apply(services)),
    connections: async () => {
      const out: ConnCounts = new Map();
      if (!proc.running) return out;
      const byName = new Map<string, { id: string; servers: Map<string, string> }>();
      for (const p of desired) {
        const servers = new Map((p.pool ?? []).map((s) => [serverName(s.key), s.key]));
        const sorry = p.sorryServer ?? p.sorry;
        if (sorry)
          servers.set(SORRY_SERVER, `${sorry.addr.includes(':') ? `[${sorry.addr}]` : sorry.addr}:${sorry.port}`);
        byName.set(backendName(p.id), { id: p.id, servers });
      }
      const csv = await proc.api('show stat');
      for (const line of csv.split('\n')) {
        if (line.startsWith('#') || line === '') continue;
        const f = line.split(',');
        const svc = byName.get(f[0] ?? '');
        const key = svc?.servers.get(f[1] ?? '');
        if (!svc || !key) continue;
        const m = out.get(svc.id) ?? new Map();
        m.set(key, { active: Number(f[4]) || 0, inactive: 0 });
        out.set(svc.id, m);
      }
      return out;
    },
    close: () =>
      serial(async () => {
        closed = true;
        if (restartTimer) clearTimeout(restartTimer);
        await proc.stop();
        current = null;
      }),
  };
  return plane;
}
