/**
 * `tandem run`: the composition root. Loads the config, checks capabilities, takes the one-daemon lock, then either
 * supervises a child (supervisor.ts) or is the daemon: it picks the real adapters (real-deps.ts), the load balancer's
 * worker thread and the resource agents, and starts the parts in order — adapters, load balancer, control socket,
 * node — stopping them in reverse (core/lifecycle.ts). Signals: SIGTERM/SIGINT stop, SIGHUP reloads.
 */
import { hostname, setPriority } from 'node:os';
import type { ReloadSummary } from '../api/contract.ts';
// HTTP API (issue 12)
import type { ControlHandlers } from '../api/control-server.ts';
import { controlPathProblem, DEFAULT_CONTROL_SOCKET, startControlServer } from '../api/control-server.ts';
import { type Diagnostic, formatDiagnostic } from '../config/diagnostics.ts';
import { loadConfig } from '../config/load.ts';
import { diskFs } from '../config/load-files.ts';
import type { TandemConfig } from '../config/schema.ts';
import type { ApiConfig } from '../config/schema-api.ts';
import { TandemError } from '../core/errors.ts';
import { Lifecycle } from '../core/lifecycle.ts';
// issue 12, metrics
import { configFileHash } from '../metrics/config-hash.ts';
import { attachMetrics, DaemonMetrics } from '../metrics/daemon-metrics.ts';
import { TandemNode } from '../node/node.ts';
import { type NodePlan, nodePlan } from '../plan/node-plan.ts';
import { ApiPart, apiStartProblem, tapEvents } from './api-part.ts';
import { apiPlugins } from './api-plugins.ts';
import { conntrackSyncPart } from './conntrack-sync.ts';
import { EXIT, type RunOptions } from './exit.ts';
import { type Logger, lineLogger } from './log.ts';
import type { InstanceSnapshot } from './supervisor.ts';

export { EXIT, type RunOptions } from './exit.ts';

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

/**
 * Loads the config and the node plan, logging its warnings: the plan, or the diagnostics (as objects) of a config that
 * cannot run here.
 */
export function loadPlan(
  file: string,
  nodeFlag: string | undefined,
  log: Logger,
  configId?: string,
): { plan: NodePlan; api?: ApiConfig; config?: TandemConfig } | { errors: Diagnostic[] } {
  const r = loadConfig(file, diskFs, undefined, configId === undefined ? {} : { configId });
  for (const d of r.diagnostics) if (d.severity === 'warning') log.log('warn', formatDiagnostic(d));
  if (!r.config) return { errors: r.diagnostics.filter((d) => d.severity === 'error') };
  const node = resolveNode(r.config, nodeFlag);
  if ('error' in node)
    return {
      errors: [
        { file, line: 1, col: 1, severity: 'error', code: 'TND_DAEMON_NODE', path: '(node)', message: node.error },
      ],
    };
  return { plan: nodePlan(r.config, node.node), config: r.config, ...(r.config.api ? { api: r.config.api } : {}) };
}

/** Entry point of `tandem run`; resolves with the exit code. */
export async function runCommand(opts: RunOptions): Promise<number> {
  // systemd (issue 12 item 7): under journald, plain lines carry <N> priorities.
  const { isJournalStream } = await import('../os/sd-notify.ts');
  const log = lineLogger({
    format: opts.logFormat,
    write: out,
    level: opts.verbose ? 'debug' : 'info',
    journal: opts.logFormat === 'plain' && isJournalStream(),
  });
  const first = loadPlan(opts.config, opts.node, log, opts.configId);
  if ('errors' in first) {
    for (const e of first.errors) log.log('error', formatDiagnostic(e));
    log.log('error', `${opts.config}: not starting: the config has errors (tandem check ${opts.config})`);
    return EXIT.CONFIG;
  }
  // VRRP needs raw sockets and address changes; a node that only runs the user-space proxy needs neither.
  const needsCaps =
    first.plan.instances.length > 0 || (first.plan.lb?.services.some((s) => s.dataplane === 'nft') ?? false);
  const { checkCapabilities, capabilityMessage } = await import('../os/capabilities.ts');
  const missing = needsCaps ? checkCapabilities() : [];
  if (missing.length) {
    log.log('error', `TND_DAEMON_CAPS ${capabilityMessage(missing)}`);
    return EXIT.CAPS;
  }
  // HTTP API (issue 12): a listener that may not start refuses before anything runs.
  const apiProblem = apiStartProblem(opts.api, first.api);
  if (apiProblem) {
    log.log('error', apiProblem);
    return EXIT.CONFIG;
  }
  if (opts.child) return runDaemon(opts, first.plan, log, first.api, first.config);
  // One daemon per control socket: the supervisor (or an unsupervised daemon) holds the lock for its whole life; a
  // supervised child runs under its parent's lock.
  const control = opts.control ?? DEFAULT_CONTROL_SOCKET;
  const lock = await takeLock(control, log);
  if (!lock) return EXIT.LOCKED;
  try {
    if (opts.noSupervisor) return await runDaemon(opts, first.plan, log, first.api, first.config);
    const { supervise } = await import('./supervisor.ts');
    return await supervise(opts, log);
  } finally {
    lock.release();
  }
}

async function takeLock(control: string, log: Logger): Promise<{ release(): void } | null> {
  const { acquireDaemonLock } = await import('../os/daemon-lock.ts');
  const problem = controlPathProblem(control);
  if (problem) {
    log.log('error', `TND_DAEMON_CONTROL ${problem}`);
    return null;
  }
  const l = acquireDaemonLock(control);
  if ('reason' in l) {
    if (l.reason === 'held')
      log.log(
        'error',
        `TND_DAEMON_LOCKED another tandem daemon${l.pid ? ` (pid ${l.pid})` : ''} already runs with the control socket ` +
          `${control} (lock ${l.path}); stop it first, or give this one its own --control PATH`,
      );
    else log.log('error', `TND_DAEMON_CONTROL cannot use the lock ${l.path}: ${l.message}`);
    return null;
  }
  return l;
}

/** Nice value of the thread that sends adverts (keepalived's `vrrp_priority`). @default -10 */
export const VRRP_NICE = -10;

async function runDaemon(
  opts: RunOptions,
  plan: NodePlan,
  baseLog: Logger,
  apiCfg?: ApiConfig,
  config?: TandemConfig,
): Promise<number> {
  // alerts (issue 12 item 5): a tap on the log records' typed events, so every part below logs through it.
  const { startAlertsPart } = await import('./alerts-part.ts');
  const alerts = startAlertsPart(config, plan.node, baseLog);
  // HTTP API (issue 12): every log record with an `event` field also goes to the API's event stream.
  const api = new ApiPart(apiCfg, alerts.log);
  const log = tapEvents(alerts.log, api.hub);
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
  // Fence devices are checked against their agents now, not found wrong during a partition.
  const { fenceDeviceProblems } = await import('./fence-check.ts');
  const fenceProblems = await fenceDeviceProblems(plan, log, new AbortController().signal);
  if (fenceProblems.length) {
    for (const p of fenceProblems) log.log('error', p);
    log.log('error', `${opts.config}: not starting: fence devices do not match their agents`);
    return EXIT.CONFIG;
  }
  // issue 12, metrics: the running config's hash, and counters from the event buses (gauges come at scrape time).
  const metrics = new DaemonMetrics({ file: opts.config, hash: configFileHash(opts.config), nowMs: Date.now() });
  const { resourceEvents } = await import('../resources/runner.ts');
  const groupEvents = resourceEvents();
  metrics.watchGroups(groupEvents);
  const { realDeps } = await import('./real-deps.ts');
  const deps = realDeps(log, new Set(plan.instances.flatMap((i) => i.vips.map((v) => v.addr))));
  // The load balancer runs in a worker thread of its own (checks, nft, proxied traffic), started with the first plan
  // that has virtual services.
  const { LbWorker, haproxyDir } = await import('./lb-worker.ts');
  let lb: InstanceType<typeof LbWorker> | undefined;
  const ensureLb = (p: NodePlan): void => {
    if (lb || !p.lb) return;
    // dataplane haproxy (issue 15 item 5): its HAProxy's files beside the control socket.
    lb = new LbWorker(p.lb, log, { haproxyDir: haproxyDir(opts.control ?? DEFAULT_CONTROL_SOCKET) });
    lb.start();
    deps.lb = lb;
  };
  // Resource groups: real agents (OCF, LSB, systemd, scripts, addresses) driven on the daemon's clock.
  const { createGroupRunner } = await import('../resources/agents/index.ts');
  const { realAgentDeps } = await import('../os/agent-runner.ts');
  deps.groupRunner = (def, ctx) =>
    createGroupRunner(
      def,
      { ...realAgentDeps({ lb: ctx.lb }), ...(ctx.defaultInterface ? { defaultInterface: ctx.defaultInterface } : {}) },
      { clock: deps.clock, owner: ctx.owner, log, events: groupEvents },
    );
  // keepalived static_ipaddress / static_routes / static_rules: in place before the instances start.
  if (plan.static) await deps.staticSetup(plan.static);
  const node = new TandemNode(plan, deps, opts.config);
  const report = () => {
    if (!process.send) return;
    const snapshot: InstanceSnapshot[] = node
      .instanceStates()
      .map((i) => ({ cfg: i.cfg, src: i.src, state: i.state.state }));
    process.send({ type: 'snapshot', snapshot });
  };
  node.events.on('transition', report);
  metrics.watchVrrp(node.events);
  attachMetrics(node, metrics);

  const reload = (): { ok: true; summary: ReloadSummary } | { ok: false; diagnostics: Diagnostic[] } => {
    const nextHash = configFileHash(opts.config);
    const next = loadPlan(opts.config, opts.node ?? plan.node, log, opts.configId);
    metrics.reloaded('errors' in next ? { ok: false } : { ok: true, hash: nextHash, nowMs: Date.now() });
    if ('errors' in next) {
      for (const e of next.errors) log.log('error', formatDiagnostic(e));
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
    // alerts (issue 12 item 5), runtime state (item 6)
    if (next.config) alerts.reload(next.config, next.plan.node);
    if (next.config) runtime.setConfig(next.config);
    const summary = node.reload(next.plan, opts.config);
    log.log(
      'info',
      `Reloaded ${opts.config}: kept ${summary.kept.join(' ') || '-'}, restarted ${summary.restarted.join(' ') || '-'}, ` +
        `started ${summary.started.join(' ') || '-'}, stopped ${summary.stopped.join(' ') || '-'}`,
    );
    report();
    return { ok: true, summary };
  };

  // runtime state (issue 12 item 6): rs drain/maint/weight and standby/takeover survive a restart.
  const { RuntimeState, stateFilePath } = await import('./runtime-state.ts');
  const controlPath = opts.control ?? DEFAULT_CONTROL_SOCKET;
  const runtime = new RuntimeState(stateFilePath(controlPath, DEFAULT_CONTROL_SOCKET), plan.node, config, log);
  // the cluster's shared config (src/cluster/): versions, the two-phase apply over the peer listener, catching up
  const { clusterPart } = await import('../cluster/daemon-part.ts');
  const { clusterControlRoute } = await import('../cluster/control-routes.ts');
  const nodeStatus = async () => {
    const st = node.status();
    return lb ? { ...st, lb: await lb.status() } : st;
  };
  const cluster = clusterPart({
    configFile: opts.config,
    node: plan.node,
    ...(opts.configId !== undefined ? { configId: opts.configId } : {}),
    fs: diskFs,
    log,
    reload: () => reload(),
    status: nodeStatus,
  });
  const status = async () => {
    // The hash of the config running now (metrics follows every reload; the cluster part's fields carry version and divergence).
    const st = { ...(await nodeStatus()), ...cluster.node.statusFields(), configHash: metrics.configHash };
    // alerts (issue 12 item 5): delivery counters
    const al = alerts.status();
    return al ? { ...st, alerts: al } : st;
  };
  // What the control socket (source 'cli') and the HTTP API (source 'api') ask of the node.
  const handlersFor = (source: 'cli' | 'api'): ControlHandlers => ({
    status,
    // issue 12, metrics
    metrics: async () => metrics.render(await status()),
    group: (name, action) => {
      const g = node.requireGroup(name);
      if (action === 'cleanup') g.cleanup();
      else g.setMaintenance(action === 'maintenance');
      log.log('info', `group ${name}: ${action} requested`, { event: 'group-admin', group: name, action });
    },
    rs: (service, req) => {
      if (!lb)
        return Promise.resolve({
          ok: false,
          reason: 'unknown-service',
          message: 'no virtual services configured',
        });
      // runtime state (issue 12 item 6): what succeeded is saved
      return lb.rs(service, req, source).then((out) => {
        if (out.ok) runtime.recordRs(service, req);
        return out;
      });
    },
    standby: (n, clear) => {
      const done = node.standby(n, clear);
      runtime.recordMode('standby', done, clear);
      return done;
    },
    takeover: (n, clear) => {
      const done = node.takeover(n, clear);
      runtime.recordMode('takeover', done, clear);
      return done;
    },
    reload,
    // the cluster's shared config (src/cluster/)
    cluster: (method, url, body) => clusterControlRoute(cluster.node, method, url, body, 'root@local'),
  });
  const handlers = handlersFor('cli');
  let control: Awaited<ReturnType<typeof startControlServer>> | undefined;
  // Started in this order, stopped in reverse: the node hands over (resources right to left, then priority 0 and
  // the VIPs removed, awaited) before the control socket closes, the load balancer removes its nft table, and the
  // raw sockets close last.
  const lifecycle = new Lifecycle({ clock: deps.clock, log })
    // alerts (issue 12 item 5): stopped last, so the instances' Stopping alerts still go out (bounded).
    .add({ name: 'alerts', stop: () => alerts.close(5_000) })
    .add({ name: 'adapters', stop: () => deps.close() })
    .add({
      name: 'load balancer',
      start: () => ensureLb(plan),
      stop: () => lb?.stop(),
    })
    .add({
      name: 'control socket',
      // A path that cannot be used stops the start before any VIP is touched.
      start: async () => {
        control = await startControlServer(opts.control ?? DEFAULT_CONTROL_SOCKET, handlers, {
          onAction: api.onSocketAction,
        });
      },
      stop: () => control?.close(),
    })
    // HTTP API (issue 12): the same handlers over TCP, with users, roles and audit
    .add({
      name: 'HTTP API',
      start: async () =>
        api.start(
          opts.api,
          handlersFor('api'),
          await apiPlugins({
            plan,
            node,
            lb: () => lb,
            log,
            metricsAuth: apiCfg?.metrics_auth ?? false,
            cluster: cluster.node,
          }),
        ),
      stop: () => api.stop(),
    })
    // (end of the HTTP API part)
    // NAT connection-state replication (lb.conntrack_sync): conntrackd runs before the node may become master.
    .add(
      plan.conntrackSync
        ? conntrackSyncPart(plan.conntrackSync, node.owners, opts.control ?? DEFAULT_CONTROL_SOCKET, log)
        : { name: 'conntrackd (not configured)' },
    )
    .add({
      name: 'node',
      start: () => {
        log.log(
          'info',
          `Starting tandem on node ${plan.node} with ${opts.config}: ${plan.instances.length} VRRP instance(s)`,
        );
        node.start();
        report();
      },
      stop: async () => {
        // Resources stop right to left while this node still holds its VIPs; then VRRP hands over.
        await node.stopResourceGroups();
        // issue 15 handover: make-before-break, the VIPs stay until a new master is heard (docs/handover.md).
        const gone = node.stop({ handover: true });
        report();
        await gone;
      },
    })
    // the cluster's shared config: the peer listener, and catching up with the peers' newest version (after the
    // node, so that a catch-up reloads a running node; stopped first)
    .add({ name: 'cluster config', start: () => cluster.start(), stop: () => cluster.stop() });
  try {
    await lifecycle.start();
  } catch (e) {
    // HTTP API (issue 12): a listener that cannot start (TLS files, port in use) is a config problem.
    if (e instanceof TandemError && e.code.startsWith('TND_API_')) {
      log.log('error', `${e.code} ${e.message}; not starting`);
      return EXIT.CONFIG;
    }
    log.log('error', `TND_DAEMON_CONTROL cannot serve the control socket: ${(e as Error).message}`);
    return EXIT.LOCKED;
  }
  // runtime state (issue 12 item 6): put back what was set at runtime before this start, unless the config changed it.
  await runtime.restore({
    rs: (service, req) =>
      lb
        ? lb.rs(service, req, 'cli')
        : Promise.resolve({ ok: false, reason: 'unknown-service', message: 'no virtual services configured' }),
    standby: (names) => node.standby(names),
    takeover: (names) => node.takeover(names),
  });
  // systemd (issue 12 item 7): READY=1 now, WATCHDOG=1 at half of WATCHDOG_USEC, STOPPING=1 on the way out.
  const { daemonNotify } = await import('./systemd.ts');
  const sd = daemonNotify(log, `${plan.instances.length} VRRP instance(s) on node ${plan.node}`);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.log('info', `Stopping on ${signal}`);
      sd.stopping();
      await lifecycle.stop();
      log.log('info', 'Stopped');
      resolve(EXIT.OK);
    };
    process.on('SIGTERM', () => void stop('SIGTERM'));
    process.on('SIGINT', () => void stop('SIGINT'));
    process.on('SIGHUP', () => {
      log.log('info', 'Reloading on SIGHUP');
      // HTTP API (issue 12): logrotate moved the audit log
      api.reopenLogs();
      try {
        reload();
      } catch (e) {
        // loadConfig never throws; this guards the rest of the reload path, so a signal can never kill the node.
        log.log('error', `Reload failed: ${(e as Error).stack ?? String(e)}; the running config is kept`);
      }
    });
    // The supervisor going away (SIGKILL) must not leave an orphan that nobody can stop cleanly.
    process.on('disconnect', () => void stop('supervisor exit'));
  });
}
