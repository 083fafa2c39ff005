/**
 * Turns the `lb` section of the config into what the load-balancer runtime needs: frozen virtual services for the
 * model, data-plane settings, health-check targets and the owner that decides where each service runs. Pure; lives
 * in daemon/ because it is where config meets lb/, health/ and dataplane/ (config/ imports only core/).
 */
import { isIPv4 } from 'node:net';
import type { TandemConfig } from '../config/schema.ts';
import type { CheckSpecYaml, ServiceSpec } from '../config/schema-lb.ts';
import type { ProxySettings, Snat } from '../dataplane/types.ts';
import type { CheckSpec, StatusRange } from '../health/types.ts';
import { type RealServerConfig, serverKey, type VirtualService } from '../lb/types.ts';

/** Who decides whether this node serves a service. */
export type LbOwner =
  /** The master of this VRRP instance (named, or the one holding the vip). */
  | { kind: 'instance'; name: string }
  /** The master of every member of this sync group. */
  | { kind: 'group'; name: string; members: string[] }
  /** No VRRP instance holds the vip: every node serves it (a single director, or a vip managed elsewhere). */
  | { kind: 'always' };

/** A health-check target of one real server: id `service/addr:port`. */
export interface LbCheckTarget {
  id: string;
  service: string;
  server: string;
  check: CheckSpec;
  /** A script check's `user`, resolved to ids where the daemon runs (lb-host.ts). */
  user?: string;
}

/** One service as the runtime runs it. */
export interface ServicePlan {
  svc: VirtualService;
  dataplane: 'nft' | 'proxy';
  snat: Snat;
  proxy: ProxySettings;
  owner: LbOwner;
  drainTimeoutMs: number;
  quorumUp?: string;
  quorumDown?: string;
  /** Start every server down until its check passes (keepalived alpha): any check with start_down. */
  alpha: boolean;
  /** Checks by server key; a server without one is always up. */
  checks: LbCheckTarget[];
}

/** The whole LB plan of a node. */
export interface LbPlan {
  services: ServicePlan[];
  maxConcurrentChecks: number;
}

/** The id of a real server's health-check target. */
export const checkId = (service: string, server: string): string => `${service}/${server}`;

/** Builds the LB plan. Services of instances this node does not run are still planned: their owner never says yes. */
export function lbPlan(cfg: TandemConfig): LbPlan {
  return {
    services: cfg.lb.services.map((s) => servicePlan(cfg, s)),
    maxConcurrentChecks: cfg.lb.max_concurrent_checks,
  };
}

function servicePlan(cfg: TandemConfig, s: ServiceSpec): ServicePlan {
  const family = isIPv4(s.vip) ? 4 : 6;
  const realServers: RealServerConfig[] = s.real_servers.map((rs) => ({
    addr: rs.address,
    port: rs.port ?? s.port,
    weight: rs.weight,
  }));
  const svc: VirtualService = {
    id: s.name,
    vip: s.vip,
    port: s.port,
    protocol: s.protocol,
    family,
    scheduler: s.scheduler,
    method: s.method,
    persistence: s.persistence
      ? { timeoutMs: s.persistence.timeout, netmaskPrefix: s.persistence.netmask ?? (family === 4 ? 32 : 128) }
      : null,
    sorry: s.sorry_server ? { addr: s.sorry_server.address, port: s.sorry_server.port } : null,
    inhibitOnFailure: s.inhibit_on_failure,
    slowStartMs: s.slow_start,
    quorum: { min: s.quorum.min, hysteresis: s.quorum.hysteresis },
    realServers,
  };
  const checks: LbCheckTarget[] = [];
  let alpha = false;
  s.real_servers.forEach((rs, i) => {
    const spec = rs.check === false ? undefined : (rs.check ?? s.check);
    if (!spec) return;
    const server = realServers[i]!;
    alpha ||= spec.start_down;
    const key = serverKey(server.addr, server.port);
    checks.push({
      id: checkId(s.name, key),
      service: s.name,
      server: key,
      check: checkSpec(spec, server),
      ...(spec.type === 'script' && spec.user ? { user: spec.user } : {}),
    });
  });
  return {
    svc,
    dataplane: s.dataplane,
    snat:
      s.snat === false
        ? { kind: 'none' }
        : s.snat === true
          ? { kind: 'masquerade' }
          : { kind: 'address', addr: s.snat },
    proxy: {
      mode: s.proxy.mode,
      listen: s.proxy.listen ?? s.vip,
      retries: s.proxy.retries,
      passiveFailures: s.proxy.passive_failures,
      connectTimeoutMs: s.proxy.connect_timeout,
      idleTimeoutMs: s.proxy.idle_timeout,
      forwardedFor: s.proxy.forwarded_for,
      clientHeaderTimeoutMs: s.proxy.client_header_timeout,
      clientBodyTimeoutMs: s.proxy.client_body_timeout,
      keepAliveTimeoutMs: s.proxy.keepalive_timeout,
      responseTimeoutMs: s.proxy.response_timeout,
      maxConnections: s.proxy.max_connections,
      maxHeaders: s.proxy.max_headers,
      maxHeaderBytes: s.proxy.max_header_size,
    },
    owner: ownerOf(cfg, s),
    drainTimeoutMs: s.drain_timeout,
    ...(s.quorum.up ? { quorumUp: s.quorum.up } : {}),
    ...(s.quorum.down ? { quorumDown: s.quorum.down } : {}),
    alpha,
    checks,
  };
}

/** The owner named by `owner`, else the first instance whose vips hold the service's vip, else always. */
export function ownerOf(cfg: TandemConfig, s: Pick<ServiceSpec, 'owner' | 'vip'>): LbOwner {
  if (s.owner) {
    const group = cfg.vrrp.sync_groups.find((g) => g.name === s.owner);
    if (group) return { kind: 'group', name: group.name, members: [...group.members] };
    return { kind: 'instance', name: s.owner };
  }
  for (const inst of cfg.vrrp.instances) {
    for (const v of inst.vips) {
      const text = typeof v === 'string' ? v : v.address;
      if (text.split('/')[0] === s.vip) return { kind: 'instance', name: inst.name };
    }
  }
  return { kind: 'always' };
}

/** The health module's check for one real server, from the YAML check. */
export function checkSpec(c: CheckSpecYaml, rs: RealServerConfig): CheckSpec {
  const timing = {
    intervalMs: c.interval,
    rise: c.rise,
    fall: c.fall,
    retries: c.retries,
    delayBeforeRetryMs: c.delay_before_retry,
    warmupMs: c.warmup ?? c.interval,
    alpha: c.start_down,
  };
  switch (c.type) {
    case 'tcp':
      return {
        kind: 'tcp',
        addr: c.address ?? rs.addr,
        port: c.port ?? rs.port,
        connectTimeoutMs: c.connect_timeout,
        ...(c.bind ? { bindAddr: c.bind } : {}),
        ...timing,
      };
    case 'http':
    case 'https':
      return {
        kind: 'http',
        tls: c.type === 'https',
        addr: c.address ?? rs.addr,
        port: c.port ?? rs.port,
        path: c.path,
        ...(c.host ? { host: c.host } : {}),
        ...(c.sni ? { sni: c.sni } : {}),
        statusCodes: c.status.map(statusRange),
        ...(c.body_regex ? { bodyRegex: c.body_regex, regexNoMatch: c.regex_no_match } : {}),
        ...(c.digest ? { digest: c.digest.toLowerCase() } : {}),
        timeoutMs: c.timeout,
        rejectUnauthorized: c.verify_tls,
        ...(c.bind ? { bindAddr: c.bind } : {}),
        ...timing,
      };
    case 'script':
      return {
        kind: 'script',
        command: c.command,
        timeoutMs: c.timeout ?? c.interval,
        dynamic: c.dynamic,
        ...timing,
      };
  }
}

function statusRange(v: number | string): StatusRange {
  if (typeof v === 'number') return { from: v, to: v };
  const [from, to] = v.split('-').map(Number) as [number, number];
  return { from, to };
}
