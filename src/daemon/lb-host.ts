/**
 * The load balancer's worker thread (started by {@link LbWorker}): health checks, nft runs and the user-space proxy's
 * traffic cost this thread, at the ordinary priority, never the main thread that sends VRRP adverts (Rule 10). The
 * main thread sends the plan, the scope (which services this node may serve and serves now) and `tandem rs`
 * requests; log records and replies come back as messages.
 */

import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { TandemError } from '../core/errors.ts';
import { seededRng } from '../core/rng.ts';
import type { DataPlane, DataPlaneKind } from '../lb/dataplane.ts';
import { LbRuntime } from '../lb/runtime.ts';
import type { RsVerb } from '../lb/status.ts';
import { wallClock } from '../os/clock.ts';
import { errorText, runCommand } from '../os/process.ts';
import { forwardingOff } from '../os/sysctl.ts';
import { resolveUser } from '../os/users.ts';
import type { LbPlan } from '../plan/lb-plan.ts';
import type { LogLevel } from './log.ts';

/** Messages to the worker. */
export type LbCommand =
  | { t: 'scope'; may: string[]; active: string[] }
  | { t: 'reload'; id: number; plan: LbPlan }
  | { t: 'rs'; id: number; service: string; req: RsVerb; source: 'cli' | 'api' }
  | { t: 'status'; id: number }
  | { t: 'stop'; id: number };

/** Messages from the worker. */
export type LbMessage =
  | { t: 'log'; level: LogLevel; msg: string; fields?: Record<string, unknown> }
  | { t: 'reply'; id: number; ok: true; value: unknown }
  | { t: 'reply'; id: number; ok: false; error: string };

/** What the worker starts with. */
export interface LbWorkerData {
  plan: LbPlan;
  /** nft table name. @default 'tandem' */
  nftTable: string;
  /** dataplane haproxy: the directory of the managed HAProxy (config, sockets, state). */
  haproxyDir?: string;
}

// Threads inherit the nice value of the thread that creates them (the raised VRRP thread): back to the ordinary one.
try {
  setPriority(0);
} catch {
  // Lowering one's own priority is always allowed; nothing to do if the platform has no per-thread nice.
}

/**
 * NAT to real servers on other hosts forwards packets: the kernel must be a router. tandem does not change sysctls
 * behind the operator's back (neither does keepalived); it says what is missing.
 */
function warnForwarding(): void {
  for (const name of forwardingOff())
    parentPort?.postMessage({
      t: 'log',
      level: 'warn',
      msg: `${name} is 0: NAT to real servers on other hosts needs forwarding (sysctl -w ${name}=1)`,
    } satisfies LbMessage);
}

/**
 * Resolves the `user` of script checks to ids; a user that does not exist makes its check fail (PROCERR, saying
 * why) instead of running the command as the daemon's user.
 */
function withUsers(plan: LbPlan, post: (m: LbMessage) => void): LbPlan {
  return {
    ...plan,
    services: plan.services.map((sp) => ({
      ...sp,
      checks: sp.checks.map((t) => {
        if (!t.user || t.check.kind !== 'script') return t;
        const who = resolveUser(t.user);
        if (who.ok) return { ...t, check: { ...t.check, uid: who.uid, gid: who.gid } };
        post({
          t: 'log',
          level: 'error',
          msg: `(${t.service}) MISC_CHECK of ${t.server}: cannot run as user ${t.user}: ${who.reason}`,
        });
        return { ...t, check: { ...t.check, refuse: `cannot run as user ${t.user}: ${who.reason}` } };
      }),
    })),
  };
}

const port = parentPort;
if (port) {
  const data = workerData as LbWorkerData;
  const post = (m: LbMessage) => port.postMessage(m);
  const abort = new AbortController();
  // Spreads the first checks (warmup); a fresh seed per start is enough.
  const rng = seededRng(Date.now() >>> 0);
  const makePlane = async (kind: DataPlaneKind): Promise<DataPlane> => {
    const log = (line: string) => post({ t: 'log', level: 'debug', msg: `${kind}: ${line}` });
    if (kind === 'nft') {
      const { createNftDataPlane } = await import('../dataplane/nft/index.ts');
      warnForwarding();
      return createNftDataPlane({ table: data.nftTable, log });
    }
    if (kind === 'haproxy') {
      const { createHaproxyDataPlane } = await import('../dataplane/haproxy/index.ts');
      return createHaproxyDataPlane({ dir: data.haproxyDir ?? '/run/tandem/haproxy', log });
    }
    const { createProxyDataPlane } = await import('../dataplane/proxy/index.ts');
    return createProxyDataPlane({ log });
  };
  const planes = new Map<DataPlaneKind, DataPlane>();
  // Data planes load lazily (the proxy pulls in node:http); both are loaded before the runtime needs them.
  for (const kind of ['nft', 'proxy', 'haproxy'] as const) {
    if (data.plan.services.some((sp) => sp.dataplane === kind)) planes.set(kind, await makePlane(kind));
  }
  const runtime = new LbRuntime(withUsers(data.plan, post), {
    clock: wallClock(),
    rng,
    log: { log: (level, msg, fields) => post({ t: 'log', level, msg, ...(fields ? { fields } : {}) }) },
    dataplane: (kind) => {
      const p = planes.get(kind);
      if (!p) throw new TandemError('TND_LB_WORKER', `data plane ${kind} is not loaded`);
      return p;
    },
    command: (cmd, why) => {
      void runCommand(cmd, { timeoutMs: 30_000, signal: abort.signal }).then((r) =>
        post({
          t: 'log',
          level: r.outcome === 'ok' ? 'info' : 'warn',
          msg: `${why}: ${cmd}: ${r.outcome}${r.code !== null ? ` (exit ${r.code})` : ''}${r.error ? ` ${r.error}` : ''}`,
        }),
      );
    },
  });
  runtime.start();
  port.on('message', (m: LbCommand) => {
    const reply = (id: number, p: Promise<unknown> | unknown) =>
      Promise.resolve(p).then(
        (value) => post({ t: 'reply', id, ok: true, value }),
        (e: unknown) => post({ t: 'reply', id, ok: false, error: errorText(e) }),
      );
    switch (m.t) {
      case 'scope':
        runtime.setScope(m.may, m.active);
        return;
      case 'reload':
        void reply(
          m.id,
          (async () => {
            for (const kind of ['nft', 'proxy', 'haproxy'] as const)
              if (!planes.has(kind) && m.plan.services.some((sp) => sp.dataplane === kind))
                planes.set(kind, await makePlane(kind));
            return runtime.reload(withUsers(m.plan, post));
          })(),
        );
        return;
      case 'rs':
        void reply(m.id, runtime.rs(m.service, m.req, m.source));
        return;
      case 'status':
        void reply(m.id, runtime.status());
        return;
      case 'stop':
        abort.abort();
        void reply(m.id, runtime.stop());
        return;
    }
  });
}
