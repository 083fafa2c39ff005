/**
 * Validation of a native config object, whatever file format it came from: the zod schema first, then semantic
 * checks. Pure; positions come from the format's Locator so every diagnostic points into the user's own file.
 */
import { isIPv4, isIPv6, SocketAddress } from 'node:net';
import { ERROR_CODES, type ErrorCode } from '../core/errors.ts';
import type { ConfigPath, Diagnostic, Locator } from './diagnostics.ts';
import { formatDurationMs } from './duration.ts';
import {
  configSchema,
  type InstanceSpec,
  instanceSchema,
  nodeSchema,
  parsePrefixed,
  type SyncGroupSpec,
  syncGroupSchema,
  type TandemConfig,
} from './schema.ts';
import {
  type CheckSpecYaml,
  type ConntrackSyncSpec,
  conntrackSyncSchema,
  type RealServerSpec,
  realServerSchema,
  type ServiceSpec,
  serviceSchema,
} from './schema-lb.ts';
import { etcdChecks } from './validate-etcd.ts';
import { splitBrainChecks } from './validate-split-brain.ts';

/** The result of validation: the config when there is no error, and every diagnostic found in one run. */
export interface ValidationResult {
  config?: TandemConfig;
  diagnostics: Diagnostic[];
}

type ZodIssueLike = {
  code: string;
  path: PropertyKey[];
  message: string;
  expected?: string;
  input?: unknown;
  origin?: string;
  minimum?: number | bigint;
  maximum?: number | bigint;
  keys?: string[];
  values?: unknown[];
  params?: { code?: string };
  errors?: ZodIssueLike[][];
};

/**
 * Validates `raw` against any zod schema and turns its issues into diagnostics located by `locator`
 * (used for config files and for other YAML inputs such as simulation scenarios).
 */
export function validateWith<T>(
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: unknown[] } } },
  raw: unknown,
  locator: Locator,
): { value?: T; diagnostics: Diagnostic[] } {
  const r = schema.safeParse(raw);
  if (r.success) return { value: r.data, diagnostics: [] };
  const diagnostics = expandUnions(r.error.issues as ZodIssueLike[]).map((issue) => {
    const { code, path, message } = describeIssue(issue, raw);
    const { pos, label } = locator.locate(path, code === 'TND_CFG_UNKNOWN_KEY' ? 'key' : 'value');
    return { ...pos, severity: 'error' as const, code, path: label, message };
  });
  return { diagnostics };
}

/** Validates `raw` against the schema and the semantic rules. */
export function validateConfig(raw: unknown, locator: Locator): ValidationResult {
  const diagnostics: Diagnostic[] = [];
  const report = (severity: Diagnostic['severity'], code: ErrorCode, path: ConfigPath, message: string): void => {
    // An unknown key is shown at the key itself; everything else at its value.
    const { pos, label } = locator.locate(path, code === 'TND_CFG_UNKNOWN_KEY' ? 'key' : 'value');
    diagnostics.push({ ...pos, severity, code, path: label, message });
  };
  const parsed = configSchema.safeParse(raw ?? {});
  if (parsed.success) {
    semanticChecks(partsOf(parsed.data, raw), report);
    splitBrainChecks(parsed.data, report);
    etcdChecks(parsed.data, report); // etcd issue
    const hasError = diagnostics.some((d) => d.severity === 'error');
    return hasError ? { diagnostics } : { config: deepFreeze(parsed.data), diagnostics };
  }
  for (const issue of expandUnions(parsed.error.issues as unknown as ZodIssueLike[])) {
    const { code, path, message } = describeIssue(issue, raw);
    report('error', code, path, message);
  }
  // Schema errors must not hide semantic ones: check every part that is valid on its own, so the user gets every
  // problem in one run (a VRID conflict next to a priority out of range).
  // Warnings wait for a config without schema errors: a value dropped here would make them speak of a wrong config.
  semanticChecks(partialParts(raw), (severity, code, path, message) => {
    if (severity === 'error') report(severity, code, path, message);
  });
  return { diagnostics };
}

/** A service as the semantic checks see it: a real server that failed the schema is undefined (indices are kept). */
type ServicePart = Omit<ServiceSpec, 'real_servers'> & {
  real_servers: (RealServerSpec | undefined)[];
  /** Whether the user wrote a port (the schema defaults it to 0, which only a fwmark service may leave out). */
  portGiven: boolean;
};

/** The parts semantic checks look at; an element that failed the schema is undefined (indices are kept). */
interface Parts {
  nodes: ({ name: string } | undefined)[];
  scriptNames: Set<string>;
  trackFileNames: Set<string>;
  instances: (InstanceSpec | undefined)[];
  syncGroups: (SyncGroupSpec | undefined)[];
  services: (ServicePart | undefined)[];
  /** Names as written, valid or not, so that a reference is not reported only because its target has an error. */
  names: { instances: Set<string>; syncGroups: Set<string>; services: Set<string> };
  /** Service names listed by the lb resources of resource groups, with where. */
  lbRefs: { service: string; path: ConfigPath }[];
  /** lb.conntrack_sync, when present and well-formed. */
  conntrackSync?: ConntrackSyncSpec | undefined;
}

function partsOf(cfg: TandemConfig, raw: unknown): Parts {
  const rawServices = valueAt(raw, ['lb', 'services']);
  const portGiven = (i: number): boolean => {
    const item = Array.isArray(rawServices) ? (rawServices[i] as unknown) : undefined;
    return !!item && typeof item === 'object' && Object.hasOwn(item, 'port');
  };
  return {
    nodes: cfg.cluster.nodes,
    scriptNames: new Set(Object.keys(cfg.vrrp.scripts)),
    trackFileNames: new Set(Object.keys(cfg.vrrp.track_files)),
    instances: cfg.vrrp.instances,
    syncGroups: cfg.vrrp.sync_groups,
    services: cfg.lb.services.map((svc, i) => ({ ...svc, portGiven: portGiven(i) })),
    names: {
      instances: new Set(cfg.vrrp.instances.map((i) => i.name)),
      syncGroups: new Set(cfg.vrrp.sync_groups.map((g) => g.name)),
      services: new Set(cfg.lb.services.map((s) => s.name)),
    },
    lbRefs: lbRefsOf(cfg.groups),
    conntrackSync: cfg.lb.conntrack_sync,
  };
}

/** The services named by the lb resources of resource groups (read from raw input or a parsed config alike). */
function lbRefsOf(groups: unknown): { service: string; path: ConfigPath }[] {
  const refs: { service: string; path: ConfigPath }[] = [];
  if (!Array.isArray(groups)) return refs;
  groups.forEach((g, gi) => {
    const resources = (g as { resources?: unknown } | null)?.resources;
    if (!Array.isArray(resources)) return;
    resources.forEach((r, ri) => {
      const res = r as { type?: unknown; services?: unknown } | null;
      if (res?.type !== 'lb' || !Array.isArray(res.services)) return;
      res.services.forEach((name, si) => {
        if (typeof name === 'string')
          refs.push({ service: name, path: ['groups', gi, 'resources', ri, 'services', si] });
      });
    });
  });
  return refs;
}

type Parser<T> = {
  safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: readonly unknown[] } };
};

/**
 * Parses `item`, dropping the values the schema rejects (defaults take their place) until it parses; undefined when
 * that does not converge. Only for semantic checks next to schema errors, never for a config that runs.
 */
function parseLenient<T>(schema: Parser<T>, item: unknown): T | undefined {
  const cur: unknown = structuredClone(item);
  for (let round = 0; round < 32; round++) {
    const r = schema.safeParse(cur);
    if (r.success) return r.data;
    let removed = false;
    for (const issue of r.error.issues as ZodIssueLike[]) {
      const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
      if (issue.code === 'unrecognized_keys')
        for (const k of issue.keys ?? []) removed = removeAt(cur, [...path, k]) || removed;
      else if (path.length > 0) removed = removeAt(cur, path) || removed;
    }
    if (!removed) return undefined;
  }
  return undefined;
}

function removeAt(root: unknown, path: readonly (string | number)[]): boolean {
  const parent = valueAt(root, path.slice(0, -1));
  const last = path[path.length - 1]!;
  if (Array.isArray(parent) && typeof last === 'number' && last < parent.length) {
    parent.splice(last, 1);
    return true;
  }
  if (parent && typeof parent === 'object' && Object.hasOwn(parent, last)) {
    delete (parent as Record<string | number, unknown>)[last];
    return true;
  }
  return false;
}

function partialParts(raw: unknown): Parts {
  const list = (path: string[]): unknown[] => {
    const v = valueAt(raw, path);
    return Array.isArray(v) ? v : [];
  };
  const names = (path: string[]): Set<string> => {
    const v = valueAt(raw, path);
    return new Set(v && typeof v === 'object' && !Array.isArray(v) ? Object.keys(v) : []);
  };
  const each = <T>(items: unknown[], schema: Parser<T>) => items.map((item) => parseLenient(schema, item));
  const namesIn = (path: string[]): Set<string> =>
    new Set(
      list(path).flatMap((o) =>
        typeof (o as { name?: unknown })?.name === 'string' ? [(o as { name: string }).name] : [],
      ),
    );
  return {
    nodes: each(list(['cluster', 'nodes']), nodeSchema),
    scriptNames: names(['vrrp', 'scripts']),
    trackFileNames: names(['vrrp', 'track_files']),
    instances: each(list(['vrrp', 'instances']), instanceSchema),
    syncGroups: each(list(['vrrp', 'sync_groups']), syncGroupSchema),
    services: list(['lb', 'services']).map(lenientService),
    names: {
      instances: namesIn(['vrrp', 'instances']),
      syncGroups: namesIn(['vrrp', 'sync_groups']),
      services: namesIn(['lb', 'services']),
    },
    lbRefs: lbRefsOf(valueAt(raw, ['groups'])),
    conntrackSync: parseLenient(conntrackSyncSchema, valueAt(raw, ['lb', 'conntrack_sync'])),
  };
}

/** A service parsed apart from its real servers, each parsed on its own: one bad server hides no other rule. */
function lenientService(item: unknown): ServicePart | undefined {
  if (!item || typeof item !== 'object' || Array.isArray(item)) return undefined;
  const servers = (item as { real_servers?: unknown }).real_servers;
  const svc = parseLenient(serviceSchema, { ...item, real_servers: [] });
  if (!svc) return undefined;
  // A vip or port the schema refused leaves the service without its endpoint: its other rules cannot be judged.
  const given = item as { vip?: unknown; port?: unknown };
  if ((Object.hasOwn(item, 'vip') && svc.vip !== given.vip) || (Object.hasOwn(item, 'port') && svc.port !== given.port))
    return undefined;
  return {
    ...svc,
    real_servers: Array.isArray(servers) ? servers.map((rs) => parseLenient(realServerSchema, rs)) : [],
    portGiven: Object.hasOwn(item, 'port'),
  };
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = raw;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : String(JSON.stringify(v) ?? v));

/**
 * Replaces each union failure by the issues of the branch the user meant, when one branch clearly matched the shape
 * of the value (an object for `check: { type: http, … }` rather than `false`): every mistake inside it is then
 * reported, not only one. A union where no branch matched stays whole, for describeUnion to word.
 */
function expandUnions(issues: readonly ZodIssueLike[]): ZodIssueLike[] {
  return issues.flatMap((issue) => {
    if (issue.code !== 'invalid_union') return [issue];
    const branch = matchedBranch(issue);
    if (!branch) return [issue];
    return expandUnions(branch.map((i) => ({ ...i, path: [...issue.path, ...i.path] })));
  });
}

/** The one branch of a union whose failure is not a mere mismatch of type or literal at the union itself. */
function matchedBranch(issue: ZodIssueLike): ZodIssueLike[] | undefined {
  const mismatch = (b: ZodIssueLike[]) =>
    b.every((i) => i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'invalid_value'));
  const matched = (issue.errors ?? []).filter((b) => b.length > 0 && !mismatch(b));
  return matched.length === 1 ? matched[0] : undefined;
}

/** Turns one zod issue into a diagnostic code, path and plain-language message. */
function describeIssue(issue: ZodIssueLike, raw: unknown): { code: ErrorCode; path: ConfigPath; message: string } {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  const got = issue.input !== undefined ? issue.input : valueAt(raw, path);
  switch (issue.code) {
    case 'custom': {
      const c = issue.params?.code;
      const code = c && c in ERROR_CODES ? (c as ErrorCode) : 'TND_CFG_TYPE';
      return { code, path, message: issue.message };
    }
    case 'too_small':
    case 'too_big': {
      if (issue.origin === 'array' || issue.origin === 'string') {
        const bound = issue.code === 'too_small' ? `at least ${issue.minimum}` : `at most ${issue.maximum}`;
        const unit = issue.origin === 'array' ? 'entries' : 'characters';
        return { code: 'TND_CFG_RANGE', path, message: `must have ${bound} ${unit}` };
      }
      const range = rangeText(raw, path, issue);
      return { code: 'TND_CFG_RANGE', path, message: `must be ${range}, got ${show(got)}` };
    }
    case 'invalid_type': {
      if (got === undefined) return { code: 'TND_CFG_REQUIRED', path, message: `is required (${issue.expected})` };
      if (issue.expected === 'int')
        return { code: 'TND_CFG_NUMBER', path, message: `must be a whole number, got ${show(got)}` };
      const code = issue.expected === 'number' ? 'TND_CFG_NUMBER' : 'TND_CFG_TYPE';
      return { code, path, message: `must be ${article(issue.expected ?? 'value')}, got ${show(got)}` };
    }
    case 'unrecognized_keys': {
      const key = issue.keys?.[0] ?? '';
      return {
        code: 'TND_CFG_UNKNOWN_KEY',
        path: [...path, key],
        message: `unknown key ${show(key)}${issue.keys && issue.keys.length > 1 ? ` (and ${issue.keys.slice(1).join(', ')})` : ''}`,
      };
    }
    case 'invalid_value':
      return {
        code: 'TND_CFG_ENUM',
        path,
        message: `must be one of ${(issue.values ?? []).map(show).join(', ')}, got ${show(got)}`,
      };
    case 'invalid_union':
      return describeUnion(issue, raw, path, got);
    case 'invalid_format':
      return { code: 'TND_CFG_TYPE', path, message: `${issue.message}, got ${show(got)}` };
    default:
      return { code: 'TND_CFG_TYPE', path, message: issue.message };
  }
}

/** A union (a number or a per-node map, a string or an object) failed: report the branch the user meant. */
function describeUnion(
  issue: ZodIssueLike,
  raw: unknown,
  path: ConfigPath,
  got: unknown,
): { code: ErrorCode; path: ConfigPath; message: string } {
  // Prefer the branch whose failure is deepest or most specific: it is the one the user was trying to write.
  const branches = (issue.errors ?? []).filter((b) => b.length > 0);
  const specific = branches
    .flat()
    .filter((i) => i.code !== 'invalid_type')
    .sort((a, b) => b.path.length - a.path.length)[0];
  if (specific) {
    const inner = describeIssue({ ...specific, path: [...path, ...specific.path] }, raw);
    return inner;
  }
  const expected = [...new Set(branches.flat().map((i) => i.expected ?? 'value'))].join(' or ');
  if (got === undefined) return { code: 'TND_CFG_REQUIRED', path, message: `is required (${expected})` };
  return { code: 'TND_CFG_TYPE', path, message: `must be ${expected}, got ${show(got)}` };
}

function rangeText(_raw: unknown, _path: ConfigPath, issue: ZodIssueLike): string {
  const lo = issue.minimum;
  const hi = issue.maximum;
  if (lo !== undefined && hi === undefined) return `≥ ${lo}`;
  if (hi !== undefined && lo === undefined) return `≤ ${hi}`;
  return `${lo}..${hi}`;
}

const article = (w: string): string => (/^[aeiou]/i.test(w) ? `an ${w}` : `a ${w}`);

type Report = (severity: Diagnostic['severity'], code: ErrorCode, path: ConfigPath, message: string) => void;

/** Rules that span several values; every one of them reports and goes on. */
function semanticChecks(parts: Parts, report: Report): void {
  const nodes = parts.nodes.flatMap((n) => (n ? [n.name] : []));
  const seenNodes = new Set<string>();
  parts.nodes.forEach((n, i) => {
    if (!n) return;
    if (seenNodes.has(n.name))
      report('error', 'TND_CFG_DUPLICATE', ['cluster', 'nodes', i, 'name'], `node ${n.name} is already defined`);
    seenNodes.add(n.name);
  });

  const byName = new Set<string>();
  parts.instances.forEach((inst, i) => {
    if (!inst) return;
    const base: ConfigPath = ['vrrp', 'instances', i];
    if (byName.has(inst.name))
      report('error', 'TND_CFG_DUPLICATE', [...base, 'name'], `instance ${inst.name} is already defined`);
    byName.add(inst.name);
    checkInstance(inst, base, parts, nodes, report);
  });
  checkVridConflicts(parts.instances, report);

  const memberOf = new Map<string, string>();
  const groupNames = new Set<string>();
  parts.syncGroups.forEach((g, gi) => {
    if (!g) return;
    const base: ConfigPath = ['vrrp', 'sync_groups', gi];
    if (groupNames.has(g.name))
      report('error', 'TND_CFG_DUPLICATE', [...base, 'name'], `sync group ${g.name} is already defined`);
    groupNames.add(g.name);
    if (g.members.length < 2)
      report('warning', 'TND_CFG_SYNC_GROUP', [...base, 'members'], 'a sync group with one member has no effect');
    g.members.forEach((m, mi) => {
      if (!byName.has(m))
        report('error', 'TND_CFG_UNKNOWN_REF', [...base, 'members', mi], `no VRRP instance named ${m}`);
      const other = memberOf.get(m);
      if (other !== undefined && other !== g.name)
        report(
          'error',
          'TND_CFG_SYNC_GROUP',
          [...base, 'members', mi],
          `instance ${m} is already in sync group ${other}`,
        );
      memberOf.set(m, g.name);
    });
  });

  checkLb(parts, report);
}

function checkInstance(inst: InstanceSpec, base: ConfigPath, parts: Parts, nodes: string[], report: Report): void {
  // Intervals must be representable on the wire: v2 carries whole seconds (8 bits), v3 centiseconds (12 bits).
  const iv = inst.advert_interval;
  if (inst.version === 2 && (iv % 1000 !== 0 || iv < 1000 || iv > 255_000))
    report(
      'error',
      'TND_CFG_INTERVAL',
      [...base, 'advert_interval'],
      `VRRPv2 carries whole seconds 1..255; got ${formatDurationMs(iv)} (use version 3 for sub-second adverts)`,
    );
  if (inst.version === 3 && (iv % 10 !== 0 || iv < 10 || iv > 40_950))
    report(
      'error',
      'TND_CFG_INTERVAL',
      [...base, 'advert_interval'],
      `VRRPv3 carries centiseconds 10ms..40.95s; got ${formatDurationMs(iv)}`,
    );
  if (inst.version === 3 && inst.auth)
    report(
      'error',
      'TND_CFG_AUTH_V3',
      [...base, 'auth'],
      'VRRPv3 has no authentication (RFC 5798 §9); remove it or use version 2',
    );

  const families = new Set<number>();
  inst.vips.forEach((v, vi) => {
    const text = typeof v === 'string' ? v : v.address;
    const p = parsePrefixed(text);
    if (p) families.add(p.family);
    if (families.size > 1) {
      report(
        'error',
        'TND_CFG_MIXED_FAMILY',
        [...base, 'vips', vi],
        `${text} is IPv${p?.family} but earlier addresses are IPv${p?.family === 4 ? 6 : 4}; one instance carries one family (RFC 5798 §5.2.9)`,
      );
      families.delete(p?.family ?? 0);
    }
  });
  if (inst.vips.length === 0)
    report('warning', 'TND_CFG_NO_VIPS', [...base, 'vips'], 'the instance has no virtual address');
  if (inst.vips.length > 255)
    report(
      'error',
      'TND_CFG_RANGE',
      [...base, 'vips'],
      `at most 255 addresses fit in one advert, got ${inst.vips.length}`,
    );
  if (families.has(6) && inst.version === 2)
    report('error', 'TND_CFG_MIXED_FAMILY', [...base, 'version'], 'VRRPv2 is IPv4 only; use version 3 for IPv6');

  if (typeof inst.priority === 'object') {
    for (const n of Object.keys(inst.priority))
      if (!nodes.includes(n))
        report('error', 'TND_CFG_UNKNOWN_REF', [...base, 'priority', n], `no node named ${n} in cluster.nodes`);
  }
  const priorities = typeof inst.priority === 'number' ? [inst.priority] : Object.values(inst.priority);
  const tracked = inst.track.interfaces.length + inst.track.scripts.length + inst.track.files.length;
  if (priorities.includes(255) && tracked > 0)
    report(
      'warning',
      'TND_CFG_OWNER_TRACKED',
      [...base, 'priority'],
      'an address owner (priority 255) is not tracked: its trackers cannot lower it',
    );
  inst.track.scripts.forEach((t, ti) => {
    if (!parts.scriptNames.has(t.name))
      report(
        'error',
        'TND_CFG_UNKNOWN_REF',
        [...base, 'track', 'scripts', ti, 'name'],
        `no vrrp script named ${t.name}`,
      );
  });
  inst.track.files.forEach((t, ti) => {
    if (!parts.trackFileNames.has(t.name))
      report('error', 'TND_CFG_UNKNOWN_REF', [...base, 'track', 'files', ti, 'name'], `no track file named ${t.name}`);
  });
}

/** RFC 5798 §7.3: a VRID identifies one virtual router per interface and family (multicast, or overlapping peers). */
function checkVridConflicts(instances: readonly (InstanceSpec | undefined)[], report: Report): void {
  const seen = new Map<string, { name: string; peers: Set<string> | undefined }[]>();
  instances.forEach((inst, i) => {
    if (!inst) return;
    const family = instanceFamily(inst);
    const key = `${inst.interface}/${family}/${inst.vrid}`;
    const peers = inst.unicast ? new Set(inst.unicast.peers) : undefined;
    const list = seen.get(key) ?? [];
    for (const other of list) {
      // keepalived allows one VRID twice on an interface only when both are unicast with disjoint peer sets.
      const disjoint = peers && other.peers && [...peers].every((p) => !other.peers?.has(p));
      if (!disjoint)
        report(
          'error',
          'TND_CFG_VRID_CONFLICT',
          ['vrrp', 'instances', i, 'vrid'],
          `virtual_router_id ${inst.vrid} is already used by ${other.name} on ${inst.interface}`,
        );
    }
    list.push({ name: inst.name, peers });
    seen.set(key, list);
  });
}

/** The address family of an instance, from its first VIP (IPv4 when it has none). */
export function instanceFamily(inst: InstanceSpec): 4 | 6 {
  const first = inst.vips[0];
  if (first === undefined) return 4;
  return parsePrefixed(typeof first === 'string' ? first : first.address)?.family ?? 4;
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
  }
  return v;
}

// ---- load balancer

/** The text of an address as the kernel would print it, so that 2001:DB8::1 and 2001:db8:0::1 compare equal. */
function canonicalIp(addr: string): string {
  return isIPv6(addr) ? new SocketAddress({ address: addr, family: 'ipv6' }).address : addr;
}

const familyOf = (addr: string): 4 | 6 => (isIPv4(addr) ? 4 : 6);
const hostPort = (addr: string, port: number): string => (isIPv6(addr) ? `[${addr}]:${port}` : `${addr}:${port}`);

/** lb.conntrack_sync: two directors of the cluster, an owner that exists. */
function checkConntrackSync(parts: Parts, report: Report): void {
  const c = parts.conntrackSync;
  if (!c) return;
  const base: ConfigPath = ['lb', 'conntrack_sync'];
  const names = Object.keys(c.addresses);
  const nodes = new Set(parts.nodes.flatMap((n) => (n ? [n.name] : [])));
  if (names.length !== 2)
    report(
      'error',
      'TND_CFG_RANGE',
      [...base, 'addresses'],
      `conntrackd replicates between two directors: name exactly two nodes, got ${names.length}`,
    );
  for (const n of names)
    if (nodes.size > 0 && !nodes.has(n))
      report('error', 'TND_CFG_UNKNOWN_REF', [...base, 'addresses', n], `no node named ${n} in cluster.nodes`);
  if (c.owner !== undefined && !parts.names.instances.has(c.owner) && !parts.names.syncGroups.has(c.owner))
    report('error', 'TND_CFG_UNKNOWN_REF', [...base, 'owner'], `no VRRP instance or sync group named ${c.owner}`);
}

/** Rules for `lb.services` that span several values; every one of them reports and goes on. */
function checkLb(parts: Parts, report: Report): void {
  checkConntrackSync(parts, report);
  const holders = new Set<string>();
  for (const inst of parts.instances)
    for (const v of inst?.vips ?? []) {
      const p = parsePrefixed(typeof v === 'string' ? v : v.address);
      if (p) holders.add(canonicalIp(p.addr));
    }
  const inGroups = new Set(parts.lbRefs.map((r) => r.service));
  const names = new Set<string>();
  const endpoints = new Map<string, string>();
  parts.services.forEach((s, i) => {
    if (!s) return;
    const base: ConfigPath = ['lb', 'services', i];
    if (!fwmarkRules(s, base, report)) return;
    const vip = s.vip ?? '';
    const endpoint =
      s.fwmark !== undefined ? `${s.protocol} fwmark ${s.fwmark}` : `${s.protocol} ${canonicalIp(vip)} ${s.port}`;
    const other = endpoints.get(endpoint);
    if (other !== undefined)
      report(
        'error',
        'TND_CFG_DUPLICATE',
        [...base, s.fwmark !== undefined ? 'fwmark' : 'vip'],
        `${s.fwmark !== undefined ? `fwmark ${s.fwmark}` : hostPort(vip, s.port)}/${s.protocol} is already served by service ${other}`,
      );
    else if (names.has(s.name))
      report('error', 'TND_CFG_DUPLICATE', [...base, 'name'], `service ${s.name} is already defined`);
    if (other === undefined) endpoints.set(endpoint, s.name);
    names.add(s.name);
    checkService(s, base, report);
    if (s.method === 'dr' && s.dataplane === 'nft' && s.interface === undefined) {
      const owner = parts.instances.find((inst) => inst?.name === s.owner);
      if ((s.vip === undefined || !holders.has(canonicalIp(s.vip))) && !owner)
        report(
          'warning',
          'TND_CFG_LB_DATAPLANE',
          [...base, 'method'],
          "direct routing needs the director's interface on the real servers' segment, and no VRRP instance holds " +
            `${s.vip ?? `the service's traffic (fwmark ${s.fwmark})`}: this service is health-checked but not programmed (set interface)`,
        );
    }
    if (s.owner !== undefined) {
      if (!parts.names.instances.has(s.owner) && !parts.names.syncGroups.has(s.owner))
        report('error', 'TND_CFG_UNKNOWN_REF', [...base, 'owner'], `no VRRP instance or sync group named ${s.owner}`);
    } else if (
      s.vip === undefined ? !inGroups.has(s.name) : !holders.has(canonicalIp(s.vip)) && !inGroups.has(s.name)
    ) {
      report(
        'warning',
        'TND_CFG_LB_NO_OWNER',
        [...base, s.vip === undefined ? 'fwmark' : 'vip'],
        `${s.vip === undefined ? `fwmark service ${s.name} names no vip` : `no VRRP instance holds ${s.vip}`} and no ` +
          'owner is named: every node serves this service (add the address to an instance, or set owner)',
      );
    }
  });
  for (const ref of parts.lbRefs)
    if (!parts.names.services.has(ref.service))
      report('error', 'TND_CFG_UNKNOWN_REF', ref.path, `no service named ${ref.service} in lb.services`);
}

/**
 * What a firewall-mark service changes: it needs no vip and no port (its mark selects its packets), a service
 * without a mark needs both, and only the kernel data plane reads marks. False when the service cannot be checked
 * further.
 */
function fwmarkRules(s: ServicePart, base: ConfigPath, report: Report): boolean {
  if (s.fwmark === undefined) {
    if (s.vip === undefined) {
      report('error', 'TND_CFG_REQUIRED', [...base, 'vip'], 'is required (an address), unless fwmark is set');
      return false;
    }
    if (!s.portGiven)
      report('error', 'TND_CFG_REQUIRED', [...base, 'port'], 'is required (0 = every port), unless fwmark is set');
    return true;
  }
  if (s.portGiven && s.port !== 0)
    report(
      'error',
      'TND_CFG_LB_PORT',
      [...base, 'port'],
      `a fwmark service takes every packet with mark ${s.fwmark}, whatever its port: leave port out ` +
        "(each real server's port applies, or the client's when it names none, as IPVS does)",
    );
  if (s.dataplane === 'proxy' || s.dataplane === 'haproxy')
    report(
      'error',
      'TND_CFG_LB_DATAPLANE',
      [...base, 'fwmark'],
      'the proxy data plane listens on an address and port and cannot see firewall marks: use dataplane nft',
    );
  const ports = s.real_servers.filter((rs) => rs !== undefined).map((rs) => rs.port !== undefined);
  if (ports.includes(true) && ports.includes(false))
    report(
      'error',
      'TND_CFG_LB_PORT',
      [...base, 'real_servers'],
      'the real servers of a fwmark service name a port each, or none (then each connection keeps its port)',
    );
  return true;
}

/** The family of a service: its vip's, else (a fwmark service) its first real server's, else IPv4. */
export function serviceFamily(s: {
  vip?: string | undefined;
  real_servers: readonly ({ address: string } | undefined)[];
}): 4 | 6 {
  const addr = s.vip ?? s.real_servers.find((rs) => rs !== undefined)?.address;
  return addr === undefined ? 4 : familyOf(addr);
}

/** Direct routing (nft netdev ingress, dataplane/nft/render-dr.ts): what it cannot do as written. */
function checkDr(s: ServicePart, base: ConfigPath, report: Report): void {
  if (s.fwmark !== undefined)
    report(
      'error',
      'TND_CFG_LB_DATAPLANE',
      [...base, 'fwmark'],
      'direct routing forwards at netdev ingress, before netfilter sets any mark: a fwmark service cannot be ' +
        'direct-routed (use method nat, or a vip and port with method dr)',
    );
  if (s.snat !== false)
    report(
      'warning',
      'TND_CFG_LB_DATAPLANE',
      [...base, 'snat'],
      'direct routing forwards packets unchanged: snat does not apply (the real servers answer the client directly)',
    );
  if (s.scheduler === 'lc' || s.scheduler === 'wlc')
    report(
      'warning',
      'TND_CFG_LB_SCHEDULER',
      [...base, 'scheduler'],
      `${s.scheduler}: with method dr the director sees one direction of each connection and no connection ` +
        'states, so it cannot count connections; new flows go by a weighted Maglev hash of the flow (use method ' +
        'nat for least connections)',
    );
  s.real_servers.forEach((rs, j) => {
    if (!rs || rs.port === undefined || s.port === 0 || rs.port === s.port) return;
    report(
      'warning',
      'TND_CFG_LB_DATAPLANE',
      [...base, 'real_servers', j, 'port'],
      `direct routing forwards packets unchanged: the real server answers on the vip's port ${s.port}; ` +
        `port ${rs.port} is used by its health check only`,
    );
  });
}

/** The rules of one virtual service on its own. */
function checkService(s: ServicePart, base: ConfigPath, report: Report): void {
  const family = serviceFamily(s);
  const nft = s.dataplane === 'nft';
  // The kernel's NAT keeps the address family; only a user-space proxy can bridge IPv4 clients to IPv6 servers.
  const sameFamily = (addr: string, path: ConfigPath, what: string): void => {
    if (nft && familyOf(addr) !== family)
      report(
        'error',
        'TND_CFG_MIXED_FAMILY',
        path,
        `${what} ${addr} is IPv${familyOf(addr)} but the ${s.vip ? `vip ${s.vip}` : 'service'} is IPv${family}: kernel NAT keeps the address ` +
          'family (use a server of the same family, or dataplane proxy)',
      );
  };

  if (s.port === 0 && !s.persistence && s.fwmark === undefined)
    report(
      'error',
      'TND_CFG_LB_PORT',
      [...base, 'port'],
      'port 0 (every port) needs persistence, as LVS does: add persistence (keepalived persistence_timeout)',
    );
  if (s.sorry_server) sameFamily(s.sorry_server.address, [...base, 'sorry_server'], 'the sorry server');
  if (s.persistence?.netmask !== undefined && family === 4 && s.persistence.netmask > 32)
    report(
      'error',
      'TND_CFG_RANGE',
      [...base, 'persistence', 'netmask'],
      `must be 0..32 for the IPv4 vip ${s.vip}, got ${s.persistence.netmask}`,
    );

  // dataplane haproxy (issue 15 item 5) carries what the proxy carries: TCP, method nat, a fixed port.
  if (s.dataplane === 'proxy' || s.dataplane === 'haproxy') {
    if (s.protocol === 'udp')
      report(
        'error',
        'TND_CFG_LB_DATAPLANE',
        [...base, 'protocol'],
        'the proxy data plane carries TCP only: use dataplane nft for UDP',
      );
    if (s.method === 'dr')
      report(
        'error',
        'TND_CFG_LB_DATAPLANE',
        [...base, 'method'],
        'the proxy data plane ends each connection itself: direct routing does not apply (use method nat)',
      );
    if (s.port === 0)
      report(
        'error',
        'TND_CFG_LB_DATAPLANE',
        [...base, 'port'],
        'the proxy data plane listens on one port: port 0 (every port) needs dataplane nft',
      );
  } else {
    if (s.method === 'dr') checkDr(s, base, report);
    else if (s.scheduler === 'lc' || s.scheduler === 'wlc')
      report(
        'warning',
        'TND_CFG_LB_SCHEDULER',
        [...base, 'scheduler'],
        `${s.scheduler}: nft approximates least connections: new connections go by weighted random over slot ` +
          "weights that tandem steers every 0.5 s from the service's connection counts (conntrack), when a server " +
          'is more than max(2, 5 % of a fair share) connections off its share; dataplane proxy counts exactly',
      );
  }

  const seen = new Map<string, number>();
  let serviceCheckWithoutTarget = false;
  s.real_servers.forEach((rs, j) => {
    if (!rs) return;
    const rbase: ConfigPath = [...base, 'real_servers', j];
    sameFamily(rs.address, [...rbase, 'address'], 'real server');
    const key = `${canonicalIp(rs.address)} ${rs.port ?? s.port}`;
    const first = seen.get(key);
    if (first !== undefined)
      report(
        'error',
        'TND_CFG_DUPLICATE',
        [...rbase, 'address'],
        `real server ${hostPort(rs.address, rs.port ?? s.port)} is already listed (real_servers[${first}])`,
      );
    else seen.set(key, j);
    if (s.port === 0 && s.fwmark === undefined && rs.port !== undefined)
      report(
        'error',
        'TND_CFG_LB_PORT',
        [...rbase, 'port'],
        'a service on port 0 (every port) sends each connection to the port the client asked for: ' +
          'a real server of it cannot name a port',
      );
    if (rs.check === false) return;
    const check = rs.check ?? s.check;
    // Checks of a command, a file or an echo need no port; an SMTP check whose host blocks all name one neither.
    if (!check || check.type === 'script' || check.type === 'ping' || check.type === 'file') return;
    if (check.type === 'smtp' && check.hosts.length > 0 && check.hosts.every((h) => h.port)) return;
    if ((check.port ?? rs.port ?? (s.port || undefined)) !== undefined) return;
    if (rs.check) reportNoTarget(report, [...rbase, 'check'], check, `real server ${rs.address} names no port`);
    else serviceCheckWithoutTarget = true;
  });
  if (serviceCheckWithoutTarget && s.check)
    reportNoTarget(report, [...base, 'check'], s.check, 'some of its real servers name no port');
  checkRegex(s.check, [...base, 'check'], report);
  s.real_servers.forEach((rs, j) => {
    if (rs?.check) checkRegex(rs.check, [...base, 'real_servers', j, 'check'], report);
  });

  const total = s.real_servers.reduce((sum, rs) => sum + (rs?.weight ?? 0), 0);
  if (s.real_servers.length > 0 && s.quorum.min > total)
    report(
      'warning',
      'TND_CFG_LB_QUORUM',
      [...base, 'quorum', 'min'],
      `quorum ${s.quorum.min} is more than the total weight of the real servers (${total}): the service can ` +
        `never be up (keepalived would lower the quorum to ${total})`,
    );
  else if (s.quorum.hysteresis > 0 && s.quorum.hysteresis >= s.quorum.min)
    report(
      'warning',
      'TND_CFG_LB_QUORUM',
      [...base, 'quorum', 'hysteresis'],
      `hysteresis ${s.quorum.hysteresis} is not below the quorum ${s.quorum.min}: the quorum is never lost ` +
        `(keepalived would lower it to ${s.quorum.min - 1})`,
    );
}

function reportNoTarget(report: Report, path: ConfigPath, check: CheckSpecYaml, why: string): void {
  report(
    'error',
    'TND_CFG_LB_CHECK_TARGET',
    path,
    `this ${check.type} check has no port to connect to: the service is on port 0 (every port) and ${why}; ` +
      'set the check port (keepalived connect_port)',
  );
}

/** A body regex must compile as a JavaScript regular expression (keepalived's PCRE syntax differs in places). */
function checkRegex(check: CheckSpecYaml | undefined, path: ConfigPath, report: Report): void {
  if (check?.type !== 'http' && check?.type !== 'https') return;
  const each: [string | undefined, ConfigPath][] = [
    [check.body_regex, [...path, 'body_regex']],
    ...check.urls.map((u, k): [string | undefined, ConfigPath] => [u.body_regex, [...path, 'urls', k, 'body_regex']]),
  ];
  for (const [regex, at] of each) {
    if (regex === undefined) continue;
    try {
      new RegExp(regex);
    } catch (e) {
      report(
        'error',
        'TND_CFG_TYPE',
        at,
        `not a valid JavaScript regular expression: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }
}
