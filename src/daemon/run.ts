/**
 * `tandem run`: the daemon process, and its supervisor.
 *
 * keepalived leaves its VIP on the interface when it is SIGKILLed, so for a while two hosts answer for it. tandem runs
 * the daemon as the child of a tiny supervisor that holds no state but the child's last snapshot (sent over IPC on
 * every transition). When the child dies without a clean stop, the supervisor releases what the child held: it sends
 * a priority-0 advert for each instance that was MASTER (the backup takes over after Skew_Time instead of
 * Master_Down_Interval) and removes the VIPs. Then it starts a new child.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { hostname, setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import { formatDiagnostic } from '../config/diagnostics.ts';
import { loadConfig } from '../config/load.ts';
import { diskFs } from '../config/load-files.ts';
import type { TandemConfig } from '../config/schema.ts';
import type { InstanceConfig, VrrpState } from '../vrrp/types.ts';
import { DEFAULT_CONTROL_SOCKET, startControlServer } from './control.ts';
import { Daemon } from './daemon.ts';
import { type LogFormat, type Logger, lineLogger } from './log.ts';
import { type NodePlan, nodePlan } from './node-plan.ts';

/** Options of `tandem run`. */
export interface RunOptions {
  config: string;
  node?: string;
  logFormat: LogFormat;
  control?: string;
  /** Run without the supervisor (the child itself, or for debugging). @default false */
  noSupervisor?: boolean;
  /** Internal: this process is the supervised child. */
  child?: boolean;
  verbose?: boolean;
  /** keepalived's config id (`-i`); the CLI passes the host name by default. */
  configId?: string;
}

/** What the child tells the supervisor about each instance, after every transition. */
export interface InstanceSnapshot {
  cfg: InstanceConfig;
  src: string;
  state: VrrpState;
}

/** Releases what a dead daemon held; provided by the real adapters. */
export type ReleaseFn = (held: readonly InstanceSnapshot[], log: Logger) => Promise<void>;

const out = (line: string) => process.stderr.write(line);

/** Picks the node this process is: --node, else the only node of the file, else the host name. */
export function resolveNode(cfg: TandemConfig, flag: string | undefined): { node: string } | { error: string } {
  const names = cfg.cluster.nodes.map((n) => n.name);
  if (flag)
    return names.length === 0 || names.includes(flag)
      ? { node: flag }
      : { error: `--node ${flag} is not in cluster.nodes (${names.join(', ')})` };
  if (names.length === 1) return { node: names[0]! };
  const host = hostname().split('.')[0] ?? '';
  if (names.length === 0 || names.includes(host)) return { node: host };
  return { error: `this host (${host}) is not in cluster.nodes (${names.join(', ')}); pass --node NAME` };
}

/** Loads the config and the node plan, printing diagnostics; undefined when it has errors. */
export function loadPlan(
  file: string,
  nodeFlag: string | undefined,
  log: Logger,
  configId?: string,
): { plan: NodePlan } | { errors: string[] } {
  const r = loadConfig(file, diskFs, undefined, configId === undefined ? {} : { configId });
  const lines = r.diagnostics.map(formatDiagnostic);
  for (const d of r.diagnostics) if (d.severity === 'warning') log.log('warn', formatDiagnostic(d));
  if (!r.config) return { errors: lines.filter((l) => / error /.test(l)) };
  const node = resolveNode(r.config, nodeFlag);
  if ('error' in node) return { errors: [`${file}: error TND_DAEMON_NODE ${node.error}`] };
  return { plan: nodePlan(r.config, node.node) };
}

/** Entry point of `tandem run`; resolves with the exit code. */
export async function runCommand(opts: RunOptions): Promise<number> {
  const log = lineLogger({ format: opts.logFormat, write: out, level: opts.verbose ? 'debug' : 'info' });
  const first = loadPlan(opts.config, opts.node, log, opts.configId);
  if ('errors' in first) {
    for (const e of first.errors) log.log('error', e);
    log.log('error', `${opts.config}: not starting: the config has errors (tandem check ${opts.config})`);
    return 1;
  }
  // VRRP needs raw sockets and address changes; a node that only runs the user-space proxy needs neither.
  const needsCaps =
    first.plan.instances.length > 0 || (first.plan.lb?.services.some((s) => s.dataplane === 'nft') ?? false);
  const { checkCapabilities, capabilityMessage } = await import('../os/capabilities.ts');
  const missing = needsCaps ? checkCapabilities() : [];
  if (missing.length) {
    log.log('error', `TND_DAEMON_CAPS ${capabilityMessage(missing)}`);
    return 4;
  }
  if (opts.noSupervisor || opts.child) return runDaemon(opts, first.plan, log);
  return supervise(opts, log);
}

/** Nice value of the thread that sends adverts (keepalived's `vrrp_priority`). @default -10 */
export const VRRP_NICE = -10;

async function runDaemon(opts: RunOptions, plan: NodePlan, log: Logger): Promise<number> {
  // Linux nice values are per thread: this raises the main thread, which runs the VRRP timers and sends adverts,
  // above the machine's ordinary work (the script worker puts itself back to 0). Needs CAP_SYS_NICE; without it
  // tandem runs at the normal priority and says so.
  if (plan.instances.length > 0) {
    try {
      setPriority(VRRP_NICE);
    } catch (e) {
      log.log('warn', `could not raise the VRRP thread's priority to nice ${VRRP_NICE}: ${(e as Error).message}`);
    }
  }
  const { realDeps } = await import('./real-deps.ts');
  const deps = realDeps(log, new Set(plan.instances.flatMap((i) => i.vips.map((v) => v.addr))));
  // The load balancer runs in a worker thread of its own (checks, nft, proxied traffic), started with the first plan
  // that has virtual services.
  const { LbWorker } = await import('./lb-worker.ts');
  let lb: InstanceType<typeof LbWorker> | undefined;
  const ensureLb = (p: NodePlan): void => {
    if (lb || !p.lb) return;
    lb = new LbWorker(p.lb, log);
    lb.start();
    deps.lb = lb;
  };
  ensureLb(plan);
  // Resource groups: real agents (OCF, LSB, systemd, scripts, addresses) driven on the daemon's clock.
  const { createGroupRunner } = await import('../resources/agents/index.ts');
  const { realAgentDeps } = await import('../os/agent-runner.ts');
  deps.groupRunner = (spec, ctx) =>
    createGroupRunner(
      spec,
      { ...realAgentDeps({ lb: ctx.lb }), ...(ctx.defaultInterface ? { defaultInterface: ctx.defaultInterface } : {}) },
      { clock: deps.clock, owner: ctx.owner, log },
    );
  // keepalived static_ipaddress / static_routes / static_rules: in place before the instances start.
  if (plan.static) await deps.staticSetup(plan.static);
  const daemon = new Daemon(plan, deps, opts.config);
  const report = () => {
    if (!process.send) return;
    const snapshot: InstanceSnapshot[] = daemon
      .instanceStates()
      .map((i) => ({ cfg: i.cfg, src: i.src, state: i.state.state }));
    process.send({ type: 'snapshot', snapshot });
  };
  daemon.events.on('transition', report);
  log.log(
    'info',
    `Starting tandem on node ${plan.node} with ${opts.config}: ${plan.instances.length} VRRP instance(s)`,
  );
  daemon.start();
  report();

  const reload = (): ReturnType<Parameters<typeof startControlServer>[1]['reload']> => {
    const next = loadPlan(opts.config, opts.node ?? plan.node, log, opts.configId);
    if ('errors' in next) {
      for (const e of next.errors) log.log('error', e);
      log.log('error', 'Reload refused: the new config has errors; the running config is kept');
      return { ok: false, diagnostics: next.errors };
    }
    if (lb) {
      void lb
        .reload(next.plan.lb ?? { services: [], maxConcurrentChecks: 64 })
        .then((r) =>
          log.log(
            'info',
            `Reloaded virtual services: kept ${r.kept.join(' ') || '-'}, changed ${r.changed.join(' ') || '-'}, ` +
              `added ${r.added.join(' ') || '-'}, removed ${r.removed.join(' ') || '-'}`,
          ),
        )
        .catch((e: unknown) => log.log('error', `reloading virtual services failed: ${String(e)}`));
    } else ensureLb(next.plan);
    const summary = daemon.reload(next.plan, opts.config);
    log.log(
      'info',
      `Reloaded ${opts.config}: kept ${summary.kept.join(' ') || '-'}, restarted ${summary.restarted.join(' ') || '-'}, ` +
        `started ${summary.started.join(' ') || '-'}, stopped ${summary.stopped.join(' ') || '-'}`,
    );
    report();
    return { ok: true, summary };
  };
  const control = await startControlServer(opts.control ?? DEFAULT_CONTROL_SOCKET, {
    status: async () => {
      const st = daemon.status();
      return lb ? { ...st, lb: await lb.status() } : st;
    },
    group: (name, action) => {
      const g = daemon.group(name);
      if (!g) return false;
      if (action === 'cleanup') g.cleanup();
      else g.setMaintenance(action === 'maintenance');
      log.log('info', `group ${name}: ${action} requested`, { event: 'group-admin', group: name, action });
      return true;
    },
    rs: (service, req) => {
      if (!lb)
        return Promise.resolve({ ok: false, reason: 'unknown-service', message: 'no virtual services configured' });
      return lb.rs(service, req, 'cli');
    },
    standby: (n, clear) => daemon.standby(n, clear),
    takeover: (n, clear) => daemon.takeover(n, clear),
    reload,
  });

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.log('info', `Stopping on ${signal}`);
      // Resources stop right to left while this node still holds its VIPs; then VRRP hands over.
      await daemon.stopResourceGroups();
      daemon.stop();
      report();
      // Give the priority-0 adverts and address removals a moment to leave before the sockets close.
      setTimeout(() => {
        deps.close();
        void Promise.all([control.close(), lb?.stop()]).then(() => {
          log.log('info', 'Stopped');
          resolve(0);
        });
      }, 100);
    };
    process.on('SIGTERM', () => void stop('SIGTERM'));
    process.on('SIGINT', () => void stop('SIGINT'));
    process.on('SIGHUP', () => {
      log.log('info', 'Reloading on SIGHUP');
      reload();
    });
    // The supervisor going away (SIGKILL) must not leave an orphan that nobody can stop cleanly.
    process.on('disconnect', () => void stop('supervisor exit'));
  });
}

/** The supervisor: starts the child, forwards signals, releases what a dead child held, and starts it again. */
async function supervise(opts: RunOptions, log: Logger): Promise<number> {
  const { releaseHeld } = await import('./real-deps.ts');
  const bin = fileURLToPath(new URL('../../bin/tandem', import.meta.url));
  const args = ['run', '--child', '-c', opts.config, '--log-format', opts.logFormat];
  if (opts.node) args.push('--node', opts.node);
  if (opts.control) args.push('--control', opts.control);
  if (opts.verbose) args.push('--verbose');
  if (opts.configId !== undefined) args.push('--config-id', opts.configId);
  let stopping = false;
  let child: ChildProcess | undefined;
  const starts: number[] = [];
  const forward = (sig: NodeJS.Signals) => () => {
    if (sig !== 'SIGHUP') stopping = true;
    child?.kill(sig);
  };
  process.on('SIGTERM', forward('SIGTERM'));
  process.on('SIGINT', forward('SIGINT'));
  process.on('SIGHUP', forward('SIGHUP'));

  for (;;) {
    starts.push(Date.now());
    let snapshot: InstanceSnapshot[] = [];
    child = fork(bin, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    log.log('info', `Supervisor: started daemon pid ${child.pid}`);
    child.on('message', (m: { type?: string; snapshot?: InstanceSnapshot[] }) => {
      if (m?.type === 'snapshot' && m.snapshot) snapshot = m.snapshot;
    });
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child!.once('exit', (code, signal) => resolve({ code, signal })),
    );
    if (stopping && exit.code === 0) return 0;
    const why = exit.signal ? `killed by ${exit.signal}` : `exited with ${exit.code}`;
    log.log('error', `Supervisor: daemon pid ${child.pid} ${why}; releasing what it held`);
    await releaseHeld(snapshot, log);
    if (stopping) return exit.code ?? 1;
    // A child that keeps dying is not restarted forever: 5 starts within a minute means something is wrong.
    const recent = starts.filter((t) => Date.now() - t < 60_000);
    if (recent.length >= 5) {
      log.log('error', 'Supervisor: the daemon died 5 times within a minute; giving up');
      return 1;
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

/**
 * `tandem release`: for a node whose daemon and supervisor are both gone (SIGKILL of the whole unit, OOM): every
 * instance whose VIPs are still on this host is treated as having been MASTER — it gets a priority-0 advert and its
 * VIPs are removed. Meant for systemd's ExecStopPost; harmless when nothing is left.
 */
export async function releaseCommand(opts: {
  config: string;
  node?: string;
  logFormat: LogFormat;
  configId?: string;
}): Promise<number> {
  const log = lineLogger({ format: opts.logFormat, write: out });
  const loaded = loadPlan(opts.config, opts.node, log, opts.configId);
  if ('errors' in loaded) {
    for (const e of loaded.errors) log.log('error', e);
    return 1;
  }
  const { releaseHeld, primaryAddress, heldAddresses } = await import('./real-deps.ts');
  const vips = new Set(loaded.plan.instances.flatMap((i) => i.vips.map((v) => v.addr)));
  const held: InstanceSnapshot[] = [];
  for (const cfg of loaded.plan.instances) {
    const present = await heldAddresses(cfg);
    if (present.length === 0) continue;
    const src = cfg.unicastSrc ?? cfg.mcastSrc ?? primaryAddress(cfg.interface, cfg.family, vips) ?? '';
    held.push({ cfg, src, state: 'MASTER' });
  }
  if (loaded.plan.lb?.services.some((s) => s.dataplane === 'nft')) {
    // The kernel data plane of a dead daemon would keep NATing for a VIP that another node now serves.
    const { createNftRunner } = await import('../os/nft.ts');
    if (
      await createNftRunner()
        .deleteTable('tandem')
        .catch(() => false)
    )
      log.log('info', 'release: removed the nft table tandem left by the daemon');
  }
  if (held.length === 0) {
    log.log('info', 'release: no VIP of this node is on its interfaces; nothing to do');
    return 0;
  }
  await releaseHeld(held, log);
  return 0;
}
