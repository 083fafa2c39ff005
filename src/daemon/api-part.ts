/**
 * The HTTP API's part of the daemon (issue 12): the event hub every log record with an `event` field is published into
 * (the node's VRRP events, health and real-server changes from the load balancer's worker, resource groups), the
 * audit log, the users file, and the TCP listener when `--api` or `api.listen` asks for one. run.ts hooks it in.
 */
import type { ControlHandlers, DispatchReply } from '../api/control-server.ts';
import { AuditLog } from '../api/http/audit.ts';
import { describeAction, resultOf } from '../api/http/control-audit.ts';
import { EventHub } from '../api/http/events.ts';
import { type ApiServer, type ListenSource, listenProblem, startApiServer } from '../api/http/server.ts';
import { UserStore } from '../api/http/users.ts';
import type { ApiPlugin, Principal } from '../api/http-plugin.ts';
import { API_DEFAULTS, type ApiConfig } from '../config/schema-api.ts';
import type { Logger } from '../core/log.ts';

/** The caller on the root-only local socket. */
export const LOCAL_ROOT: Principal = { name: 'root', role: 'admin', via: 'local', from: 'local' };

/** A logger that also publishes each record carrying an `event` field (info and above) on the hub. */
export function tapEvents(log: Logger, hub: EventHub, now: () => number = Date.now): Logger {
  return {
    log(level, msg, fields) {
      log.log(level, msg, fields);
      const type = fields?.event;
      if (typeof type !== 'string' || level === 'debug' || hub.subscribers === 0) return;
      const { event: _, ...rest } = fields!;
      hub.publish({ type, time: new Date(now()).toISOString(), level, msg, ...rest });
    },
  };
}

/** Which listen address applies: `--api` wins over `api.listen`. */
export function apiListen(
  flag: string | undefined,
  cfg: ApiConfig | undefined,
): { listen: string; source: ListenSource } | undefined {
  if (flag) return { listen: flag, source: '--api' };
  if (cfg?.listen) return { listen: cfg.listen, source: 'api.listen' };
  return undefined;
}

/** Checks the listen setting before anything starts: the error line, or null. */
export function apiStartProblem(flag: string | undefined, cfg: ApiConfig | undefined): string | null {
  const l = apiListen(flag, cfg);
  if (!l) return null;
  const p = listenProblem(l.listen, cfg ?? API_DEFAULTS, l.source);
  return p ? `${p.code} ${p.message}` : null;
}

/** The API part: hub, audit, users, listener. */
export class ApiPart {
  readonly hub = new EventHub();
  readonly #log: Logger;
  #cfg: ApiConfig;
  #audit: AuditLog | undefined;
  #server: ApiServer | undefined;

  constructor(cfg: ApiConfig | undefined, log: Logger) {
    this.#cfg = cfg ?? API_DEFAULTS;
    this.#log = log;
  }

  /** Audits an action that came over the local socket. */
  readonly onSocketAction = (route: string, body: Record<string, unknown> | undefined, reply: DispatchReply): void => {
    const what = describeAction(route, body);
    if (!what || !this.#audit) return;
    const { result, detail } = resultOf(reply);
    this.#audit.write(LOCAL_ROOT, what.action, what.target, result, detail);
  };

  /** Opens the audit log and, when asked to, starts the listener; throws a TandemError when it cannot. */
  async start(flag: string | undefined, handlers: ControlHandlers, plugins: readonly ApiPlugin[] = []): Promise<void> {
    const onError = (m: string) => this.#log.log('error', `TND_API_USERS ${m}`);
    this.#audit = new AuditLog(this.#cfg.audit_log, {
      hub: this.hub,
      onError: (m) => this.#log.log('error', m),
    });
    const l = apiListen(flag, this.#cfg);
    if (!l) return;
    const log = (level: 'info' | 'warn' | 'error', msg: string) => this.#log.log(level, msg);
    this.#server = await startApiServer(l.listen, l.source, {
      handlers,
      users: new UserStore(this.#cfg.users_file, onError),
      audit: this.#audit,
      hub: this.hub,
      config: this.#cfg,
      plugins,
      log,
    });
    this.#log.log(
      'info',
      `HTTP API listening on ${this.#server.url} (users ${this.#cfg.users_file}, audit ${this.#cfg.audit_log})`,
      {
        event: 'api-listen',
        url: this.#server.url,
      },
    );
  }

  /** SIGHUP: reopens the audit log (logrotate). */
  reopenLogs(): void {
    this.#audit?.reopen();
  }

  async stop(): Promise<void> {
    await this.#server?.close();
    this.#server = undefined;
    this.#audit?.close();
    this.#audit = undefined;
  }
}
