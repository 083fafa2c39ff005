/**
 * Two directors' configs side by side, for operators who keep one keepalived.conf per director (`tandem check d1.conf
 * --peer d2.conf`, and live between running peers): what must match for VRRP and the load balancer to work
 * (VRIDs, versions, advert intervals, authentication, VIPs, sync groups, virtual and real servers), and what is
 * expected to differ (state, priority, unicast source and peers, interface names). Pure. Secrets are never
 * printed: a differing auth_pass is reported as "differs", without either value.
 */
import type { ConfigPath, Diagnostic, Locator } from '../config/diagnostics.ts';
import type { InstanceSpec, TandemConfig } from '../config/schema.ts';
import type { ServiceSpec } from '../config/schema-lb.ts';

/** One side of the comparison. */
export interface Side {
  /** How the output names it: the file, or `NODE:FILE` live. */
  name: string;
  config: TandemConfig;
  locator: Locator;
  /** The node whose per-node values (a YAML map node → value) this side means; default the only one. */
  node?: string;
}

/** A difference that is expected between directors. */
export interface ExpectedDifference {
  what: string;
  a: string;
  b: string;
}

/** The comparison: mismatches as diagnostics (at side a, naming side b's place), expected differences, matches. */
export interface PeerComparison {
  mismatches: Diagnostic[];
  differences: ExpectedDifference[];
  /** How many must-match settings were equal. */
  matched: number;
}

const forNode = <T>(v: T | Record<string, T> | undefined, node: string | undefined): string => {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const r = v as Record<string, T>;
    return node !== undefined && node in r ? String(r[node]) : JSON.stringify(r);
  }
  return v === undefined ? '-' : String(v);
};

const vipList = (i: InstanceSpec): string =>
  i.vips
    .map((v) => (typeof v === 'string' ? v : `${v.address}${v.dev ? ` dev ${v.dev}` : ''}`))
    .map((v) => (v.includes('/') || v.includes(' ') ? v : `${v}/${v.includes(':') ? 128 : 32}`))
    .sort()
    .join(', ');

const serviceKey = (s: ServiceSpec): string =>
  s.fwmark !== undefined ? `fwmark ${s.fwmark}` : `${s.vip ?? '-'} ${s.port} ${s.protocol}`;

const servers = (s: ServiceSpec): string =>
  s.real_servers
    .map((r) => `${r.address}:${r.port ?? s.port} weight ${r.weight}`)
    .sort()
    .join(', ');

/** Compares two directors' configs. */
export function compareConfigs(a: Side, b: Side): PeerComparison {
  const mismatches: Diagnostic[] = [];
  const differences: ExpectedDifference[] = [];
  let matched = 0;
  const where = (s: Side, path: ConfigPath) => s.locator.locate(path);
  const must = (what: string, pa: ConfigPath, pb: ConfigPath, va: string, vb: string, secret = false): void => {
    if (va === vb) {
      matched++;
      return;
    }
    const at = where(a, pa);
    const other = where(b, pb).pos;
    const values = secret ? 'differs' : `${va} here, ${vb} in ${b.name}`;
    mismatches.push({
      ...at.pos,
      severity: 'error',
      code: 'TND_PEER_MISMATCH',
      path: at.label,
      message: `${what.slice(what.lastIndexOf(': ') + 1).trim()} must match: ${values} (${other.file}:${other.line}:${other.col})`,
    });
  };
  const missing = (side: Side, other: Side, path: ConfigPath, what: string): void => {
    const at = where(side, path);
    mismatches.push({
      ...at.pos,
      severity: 'error',
      code: 'TND_PEER_MISMATCH',
      path: at.label,
      message: `${what} is not in ${other.name}`,
    });
  };
  const differ = (what: string, va: string, vb: string): void => {
    if (va !== vb) differences.push({ what, a: va, b: vb });
  };

  const bInst = new Map(b.config.vrrp.instances.map((x, i) => [x.name, { x, i }]));
  a.config.vrrp.instances.forEach((ia, i) => {
    const pa = (...p: (string | number)[]): ConfigPath => ['vrrp', 'instances', i, ...p];
    const m = bInst.get(ia.name);
    if (!m) {
      missing(a, b, pa('name'), `vrrp_instance ${ia.name}`);
      return;
    }
    const ib = m.x;
    const pb = (...p: (string | number)[]): ConfigPath => ['vrrp', 'instances', m.i, ...p];
    const n = `vrrp_instance ${ia.name}`;
    must(`${n}: virtual_router_id`, pa('vrid'), pb('vrid'), String(ia.vrid), String(ib.vrid));
    must(`${n}: version`, pa('version'), pb('version'), String(ia.version), String(ib.version));
    must(
      `${n}: advert_int`,
      pa('advert_interval'),
      pb('advert_interval'),
      `${ia.advert_interval} ms`,
      `${ib.advert_interval} ms`,
    );
    must(`${n}: virtual_ipaddress`, pa('vips'), pb('vips'), vipList(ia), vipList(ib));
    must(`${n}: authentication type`, pa('auth'), pb('auth'), ia.auth?.type ?? 'none', ib.auth?.type ?? 'none');
    must(
      `${n}: auth_pass`,
      pa('auth', 'password'),
      pb('auth', 'password'),
      ia.auth?.password ?? '',
      ib.auth?.password ?? '',
      true,
    );
    must(`${n}: auth_hmac`, pa('auth_hmac'), pb('auth_hmac'), ia.auth_hmac ? 'on' : 'off', ib.auth_hmac ? 'on' : 'off');
    must(
      `${n}: unicast or multicast`,
      pa('unicast'),
      pb('unicast'),
      ia.unicast ? 'unicast' : 'multicast',
      ib.unicast ? 'unicast' : 'multicast',
    );
    // Each director's unicast source must be among the other's peers, or the adverts never arrive.
    for (const [x, y, sx, sy] of [
      [ia, ib, a, b],
      [ib, ia, b, a],
    ] as const) {
      const src = forNode(x.unicast?.source, sx.node);
      if (x.unicast && y.unicast && src !== '-' && !y.unicast.peers.includes(src)) {
        const at = where(sy, sy === b ? pb('unicast', 'peers') : pa('unicast', 'peers'));
        mismatches.push({
          ...at.pos,
          severity: 'error',
          code: 'TND_PEER_MISMATCH',
          path: at.label,
          message: `${n}: ${sx.name}'s unicast source ${src} is not among these unicast peers (${y.unicast.peers.join(', ')})`,
        });
      }
    }
    differ(`${n}: state`, ia.initial_state.toUpperCase(), ib.initial_state.toUpperCase());
    differ(`${n}: priority`, forNode(ia.priority, a.node), forNode(ib.priority, b.node));
    differ(`${n}: unicast source`, forNode(ia.unicast?.source, a.node), forNode(ib.unicast?.source, b.node));
    differ(`${n}: unicast peers`, ia.unicast?.peers.join(', ') ?? '-', ib.unicast?.peers.join(', ') ?? '-');
    differ(`${n}: interface`, ia.interface, ib.interface);
    differ(`${n}: preempt`, String(ia.preempt), String(ib.preempt));
  });
  const aNames = new Set(a.config.vrrp.instances.map((x) => x.name));
  b.config.vrrp.instances.forEach((ib, i) => {
    if (!aNames.has(ib.name)) missing(b, a, ['vrrp', 'instances', i, 'name'], `vrrp_instance ${ib.name}`);
  });

  const bGroups = new Map(b.config.vrrp.sync_groups.map((g, i) => [g.name, { g, i }]));
  a.config.vrrp.sync_groups.forEach((ga, i) => {
    const m = bGroups.get(ga.name);
    if (!m) {
      missing(a, b, ['vrrp', 'sync_groups', i, 'name'], `vrrp_sync_group ${ga.name}`);
      return;
    }
    must(
      `vrrp_sync_group ${ga.name}: members`,
      ['vrrp', 'sync_groups', i, 'members'],
      ['vrrp', 'sync_groups', m.i, 'members'],
      [...ga.members].sort().join(', '),
      [...m.g.members].sort().join(', '),
    );
  });
  const aGroups = new Set(a.config.vrrp.sync_groups.map((g) => g.name));
  b.config.vrrp.sync_groups.forEach((gb, i) => {
    if (!aGroups.has(gb.name)) missing(b, a, ['vrrp', 'sync_groups', i, 'name'], `vrrp_sync_group ${gb.name}`);
  });

  const bSvc = new Map(b.config.lb.services.map((s, i) => [serviceKey(s), { s, i }]));
  a.config.lb.services.forEach((sa, i) => {
    const key = serviceKey(sa);
    const m = bSvc.get(key);
    const pa = (...p: (string | number)[]): ConfigPath => ['lb', 'services', i, ...p];
    if (!m) {
      missing(a, b, pa('name'), `virtual_server ${key}`);
      return;
    }
    const pb = (...p: (string | number)[]): ConfigPath => ['lb', 'services', m.i, ...p];
    const n = `virtual_server ${key}`;
    must(`${n}: lb_algo`, pa('scheduler'), pb('scheduler'), String(sa.scheduler), String(m.s.scheduler));
    must(`${n}: lb_kind`, pa('method'), pb('method'), String(sa.method), String(m.s.method));
    must(
      `${n}: persistence`,
      pa('persistence'),
      pb('persistence'),
      JSON.stringify((sa as { persistence?: unknown }).persistence ?? null),
      JSON.stringify((m.s as { persistence?: unknown }).persistence ?? null),
    );
    must(`${n}: real servers`, pa('real_servers'), pb('real_servers'), servers(sa), servers(m.s));
  });
  const aSvc = new Set(a.config.lb.services.map(serviceKey));
  b.config.lb.services.forEach((sb, i) => {
    if (!aSvc.has(serviceKey(sb))) missing(b, a, ['lb', 'services', i, 'name'], `virtual_server ${serviceKey(sb)}`);
  });
  return { mismatches, differences, matched };
}
