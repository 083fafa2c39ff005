/**
 * Generates docs/config.md from the schema (Rule 7: one schema, and the reference cannot drift from it; a test
 * compares the committed file with a fresh rendering).
 */
import { z } from 'zod';
import { configSchema } from './schema.ts';

type JsonSchema = {
  type?: string | string[];
  description?: string;
  default?: unknown;
  /** A default as text, for values whose default the JSON schema cannot carry (durations). */
  defaultText?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  additionalProperties?: JsonSchema | boolean;
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
};

interface Row {
  path: string;
  type: string;
  required: boolean;
  def: string;
  description: string;
}

/** Renders the configuration reference as Markdown. */
export function renderConfigReference(): string {
  const root = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const rows: Row[] = [];
  walk(root, '', rows);
  const out = [
    '# Configuration reference (tandem YAML)',
    '',
    'Generated from `src/config/schema.ts` by `npm run gen:docs`; CI fails when this file is out of date.',
    'One file describes the whole cluster and is identical on every node. Durations are whole milliseconds or text',
    'with a unit (`100ms`, `1s`, `1.5s`, `2m`). Values marked *per node* take either one value or a map from node name',
    'to value. `tandem check FILE` validates a file and prints every problem as `file:line:col severity CODE path: message`.',
    '',
    '| key | type | default | description |',
    '|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| \`${r.path}\`${r.required ? ' (required)' : ''} | ${r.type} | ${r.def ? `\`${r.def}\`` : ''} | ${esc(r.description)} |`,
    ),
    '',
  ];
  return out.join('\n');
}

const esc = (s: string): string => s.replace(/\|/g, '\\|');

function walk(s: JsonSchema, path: string, rows: Row[], required = false): void {
  if (path) rows.push({ path, type: typeOf(s), required, def: defaultOf(s), description: s.description ?? '' });
  const obj = objectBranch(s);
  if (obj?.properties) {
    for (const [k, v] of Object.entries(obj.properties))
      walk(v, path ? `${path}.${k}` : k, rows, obj.required?.includes(k) ?? false);
  }
  if (obj && typeof obj.additionalProperties === 'object') walk(obj.additionalProperties, `${path}.<name>`, rows);
  const items = s.type === 'array' ? s.items : undefined;
  if (items && (objectBranch(items)?.properties || items.anyOf || items.oneOf)) walk(items, `${path}[]`, rows);
  const tagged = taggedBranches(s);
  if (tagged) walkTagged(tagged, path, rows);
}

/** The branches of a union tagged by a `type` const (a discriminated union: health checks), or undefined. */
function taggedBranches(s: JsonSchema): { tag: string; schema: JsonSchema }[] | undefined {
  const branches = (s.oneOf ?? s.anyOf ?? []).filter((b) => b.type === 'object' && b.properties);
  const tagged = branches.flatMap((b) => {
    const t = b.properties?.type;
    const tags = typeof t?.const === 'string' ? [t.const] : (t?.enum?.filter((e) => typeof e === 'string') ?? []);
    return tags.length ? [{ tag: tags.join('/'), schema: b }] : [];
  });
  return tagged.length > 1 && tagged.length === branches.length ? tagged : undefined;
}

/**
 * One row per key of a tagged union, for every branch that has it, saying which `type`s take it: `check.port` is the
 * same setting for tcp, http and udp checks, so it is documented once.
 */
function walkTagged(branches: { tag: string; schema: JsonSchema }[], path: string, rows: Row[]): void {
  const keys: string[] = [];
  for (const b of branches) for (const k of Object.keys(b.schema.properties ?? {})) if (!keys.includes(k)) keys.push(k);
  for (const k of keys) {
    const having = branches.filter((b) => b.schema.properties?.[k]);
    const v = having[0]!.schema.properties![k]!;
    const types = having.length === branches.length ? '' : ` (type ${having.map((b) => b.tag).join(', ')})`;
    const required = having.every((b) => b.schema.required?.includes(k));
    const sub: Row[] = [];
    walk(v, `${path}.${k}`, sub, required);
    if (k === 'type')
      sub[0] = {
        ...sub[0]!,
        type: branches.flatMap((b) => b.tag.split('/').map((t) => JSON.stringify(t))).join(' \\| '),
      };
    // One meaning per key reads as one sentence; a key that means something else per type says so per type.
    const descs = [...new Set(having.map((b) => b.schema.properties![k]!.description ?? ''))];
    const description =
      descs.length > 1
        ? having.map((b) => `${b.tag}: ${b.schema.properties![k]!.description ?? ''}`).join('; ')
        : `${descs[0] ?? ''}${types}`;
    if (sub[0]) sub[0] = { ...sub[0], description };
    rows.push(...sub);
  }
}

/** For a union of a scalar and an object, the object part is documented in its own rows. */
function objectBranch(s: JsonSchema): JsonSchema | undefined {
  if (s.type === 'object') return s;
  return s.anyOf?.find((b) => b.type === 'object' && b.properties);
}

function typeOf(s: JsonSchema): string {
  const tagged = taggedBranches(s);
  if (tagged) return `one of the types below (${tagged.map((b) => b.tag).join(', ')})`;
  if (s.anyOf) {
    const parts = s.anyOf.map(typeOf);
    // A union with a string-keyed map of the same type is a per-node value.
    const perNode = s.anyOf.find((b) => b.type === 'object' && typeof b.additionalProperties === 'object');
    if (perNode && s.anyOf.length === 2) return `${typeOf(s.anyOf.find((b) => b !== perNode)!)} (per node)`;
    return [...new Set(parts)].join(' \\| ');
  }
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((e) => JSON.stringify(e)).join(' \\| ');
  if (Array.isArray(s.type))
    return s.type.includes('string') && s.type.includes('number') ? 'duration' : s.type.join(' \\| ');
  if (s.type === 'array') return `list of ${s.items ? typeOf(s.items) : 'any'}`;
  if (s.type === 'object' && typeof s.additionalProperties === 'object' && !s.properties) return 'map';
  let t = s.type ?? 'any';
  if (s.minimum !== undefined || s.maximum !== undefined) t += ` ${s.minimum ?? ''}..${s.maximum ?? ''}`;
  if (s.maxLength !== undefined) t += ` (≤ ${s.maxLength} chars)`;
  return t;
}

function defaultOf(s: JsonSchema): string {
  if (s.defaultText !== undefined) return s.defaultText;
  if (s.default === undefined) return '';
  if (typeof s.default === 'object') return '';
  return String(s.default);
}
