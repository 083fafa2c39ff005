/**
 * Validation of a native config object, whatever file format it came from: the zod schema first, then semantic
 * checks. Pure; positions come from the format's Locator so every diagnostic points into the user's own file.
 */
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
  const diagnostics = (r.error.issues as ZodIssueLike[]).map((issue) => {
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
    semanticChecks(partsOf(parsed.data), report);
    const hasError = diagnostics.some((d) => d.severity === 'error');
    return hasError ? { diagnostics } : { config: deepFreeze(parsed.data), diagnostics };
  }
  for (const issue of parsed.error.issues as unknown as ZodIssueLike[]) {
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

/** The parts semantic checks look at; an element that failed the schema is undefined (indices are kept). */
interface Parts {
  nodes: ({ name: string } | undefined)[];
  scriptNames: Set<string>;
  trackFileNames: Set<string>;
  instances: (InstanceSpec | undefined)[];
  syncGroups: (SyncGroupSpec | undefined)[];
}

function partsOf(cfg: TandemConfig): Parts {
  return {
    nodes: cfg.cluster.nodes,
    scriptNames: new Set(Object.keys(cfg.vrrp.scripts)),
    trackFileNames: new Set(Object.keys(cfg.vrrp.track_files)),
    instances: cfg.vrrp.instances,
    syncGroups: cfg.vrrp.sync_groups,
  };
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
  return {
    nodes: each(list(['cluster', 'nodes']), nodeSchema),
    scriptNames: names(['vrrp', 'scripts']),
    trackFileNames: names(['vrrp', 'track_files']),
    instances: each(list(['vrrp', 'instances']), instanceSchema),
    syncGroups: each(list(['vrrp', 'sync_groups']), syncGroupSchema),
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
