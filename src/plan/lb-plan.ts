/**
 * Turns the `lb` section of the config into what the load-balancer runtime runs (lb/service-plan.ts): frozen virtual
 * services, data-plane settings, health-check targets and each service's owner. Pure; shared by the daemon, `tandem
 * check` and the simulator.
 */
import { parseHexString } from '../config/hex.ts';
import type { TandemConfig } from '../config/schema.ts';
import type { CheckSpecYaml, ServiceSpec } from '../config/schema-lb.ts';
import { serviceFamily } from '../config/validate.ts';
import type { CheckSpec, HttpUrl, StatusRange } from '../health/types.ts';
import { checkId, type LbCheckTarget, type LbOwner, type LbPlan, type ServicePlan } from '../lb/service-plan.ts';
import { type RealServerConfig, serverKey, type VirtualService } from '../lb/types.ts';

export type { LbCheckTarget, LbOwner, LbPlan, ServicePlan };
export { checkId };

/** Builds the LB plan. Services of instances this node does not run are still planned: their owner never says yes. */
export function lbPlan(cfg: TandemConfig): LbPlan {
  return {
    services: cfg.lb.services.map((s) => servicePlan(cfg, s)),
    maxConcurrentChecks: cfg.lb.max_concurrent_checks,
  };
}

function servicePlan(cfg: TandemConfig, s: ServiceSpec): ServicePlan {
  const family = serviceFamily(s);
  const realServers: RealServerConfig[] = s.real_servers.map((rs) => ({
    addr: rs.address,
    port: rs.port ?? s.port,
    weight: rs.weight,
  }));
  const svc: VirtualService = {
    id: s.name,
    // A fwmark service has no address of its own; its vip, when given, only names its owner.
    vip: s.vip ?? '',
    port: s.port,
    ...(s.fwmark !== undefined ? { fwmark: s.fwmark } : {}),
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
      listen: s.proxy.listen ?? s.vip ?? '',
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
    ...drDeviceOf(cfg, s),
    ...resourceGroupOf(cfg, s.name),
    drainTimeoutMs: s.drain_timeout,
    ...(s.quorum.up ? { quorumUp: s.quorum.up } : {}),
    ...(s.quorum.down ? { quorumDown: s.quorum.down } : {}),
    alpha,
    checks,
  };
}

/**
 * A DR service's interface: `interface`, else the device of the VRRP vip that holds its address (its `dev`, else its
 * instance's interface), else the owner instance's interface. NAT services have none.
 */
export function drDeviceOf(cfg: TandemConfig, s: ServiceSpec): { device?: string } {
  if (s.method !== 'dr') return {};
  if (s.interface) return { device: s.interface };
  for (const inst of cfg.vrrp.instances)
    for (const v of inst.vips) {
      const text = typeof v === 'string' ? v : v.address;
      if (text.split('/')[0] === s.vip)
        return { device: (typeof v === 'string' ? undefined : v.dev) ?? inst.interface };
    }
  const owner = s.owner ? cfg.vrrp.instances.find((i) => i.name === s.owner) : undefined;
  return owner ? { device: owner.interface } : {};
}

/** The resource group an `lb` resource of which names the service, as a plan field. */
function resourceGroupOf(cfg: TandemConfig, service: string): { resourceGroup?: string } {
  const g = cfg.groups.find((x) => x.resources.some((r) => r.type === 'lb' && r.services.includes(service)));
  return g ? { resourceGroup: g.name } : {};
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
        ...(c.urls.length > 0 ? { urls: c.urls.map(httpUrl) } : {}),
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
    case 'udp': {
      const reply = c.reply === undefined ? undefined : parseHexString(c.reply, true);
      return {
        kind: 'udp',
        addr: c.address ?? rs.addr,
        port: c.port ?? rs.port,
        payload: (c.payload === undefined ? undefined : parseHexString(c.payload)?.data) ?? new Uint8Array(),
        requireReply: c.require_reply || reply !== undefined,
        ...(reply ? { reply: reply.data, ...(reply.mask ? { replyMask: reply.mask } : {}) } : {}),
        minReplyLength: c.min_reply_length,
        maxReplyLength: c.max_reply_length,
        timeoutMs: c.timeout,
        ...(c.bind ? { bindAddr: c.bind } : {}),
        ...timing,
      };
    }
    case 'ping':
      return {
        kind: 'ping',
        addr: c.address ?? rs.addr,
        timeoutMs: c.timeout,
        ...(c.bind ? { bindAddr: c.bind } : {}),
        ...timing,
      };
    case 'smtp': {
      const own = { address: c.address, port: c.port, bind: c.bind };
      const hosts = (c.hosts.length > 0 ? c.hosts : [{}]).map(
        (h: { address?: string; port?: number; bind?: string; timeout?: number }) => {
          const bind = h.bind ?? own.bind;
          return {
            addr: h.address ?? own.address ?? rs.addr,
            port: h.port ?? own.port ?? rs.port,
            ...(bind ? { bindAddr: bind } : {}),
            ...(h.timeout !== undefined ? { timeoutMs: h.timeout } : {}),
          };
        },
      );
      return { kind: 'smtp', hosts, heloName: c.helo_name, timeoutMs: c.timeout, ...timing };
    }
    case 'dns':
      return {
        kind: 'dns',
        addr: c.address ?? rs.addr,
        port: c.port ?? (rs.port || 53),
        type: c.query_type,
        name: c.name,
        timeoutMs: c.timeout,
        ...(c.bind ? { bindAddr: c.bind } : {}),
        ...timing,
      };
    case 'file':
      return { kind: 'file', path: c.path, weight: c.weight, reverse: c.reverse, baseWeight: rs.weight, ...timing };
  }
}

function httpUrl(u: Extract<CheckSpecYaml, { type: 'http' | 'https' }>['urls'][number]): HttpUrl {
  return {
    path: u.path,
    ...(u.host ? { host: u.host } : {}),
    statusCodes: u.status.map(statusRange),
    ...(u.body_regex ? { bodyRegex: u.body_regex, regexNoMatch: u.regex_no_match } : {}),
    ...(u.digest ? { digest: u.digest.toLowerCase() } : {}),
  };
}

function statusRange(v: number | string): StatusRange {
  if (typeof v === 'number') return { from: v, to: v };
  const [from, to] = v.split('-').map(Number) as [number, number];
  return { from, to };
}
