/**
 * A config imported from another tool's files, and its rendering as tandem YAML with comments that point back to the
 * source: each block says which file and line it came from, each value carries its line, and a closing comment block
 * lists what was not carried over and why. The importers (keepalived.ts, heartbeat.ts, piranha.ts) produce the
 * native input object and a Locator; this file turns the two into text. Pure.
 */
import { Document, isMap, isScalar, isSeq, type Node, type Pair, type Scalar } from 'yaml';
import type { ErrorCode } from '../../core/errors.ts';
import { type ConfigPath, type Diagnostic, dottedPath, type Locator, type SourcePos } from '../diagnostics.ts';
import { formatDurationMs } from '../duration.ts';

/**
 * Something the importer read and left out on purpose, too minor for a warning (a log file, a UDP port that VRRP
 * does not use). Shown in the import's closing comment block, never by `tandem check`.
 */
export interface ImportNote extends SourcePos {
  code: ErrorCode;
  /** The user's name for the place, e.g. `ha.cf: udpport`. */
  path: string;
  message: string;
}

/** What every importer returns: the native input object, where each part came from, problems and notes. */
export interface ImportedConfig {
  /** An object in the native schema's input shape; validate it with the schema and the semantic checks. */
  raw: unknown;
  /** Maps a native path back to the line it came from, with the source tool's own wording. */
  locator: Locator;
  /** Every problem the reader found, sorted by file, line and column. */
  diagnostics: Diagnostic[];
  /** Settings left out that do not deserve a warning. */
  notes: ImportNote[];
  /** Every file read, the entry file first. */
  files: string[];
}

type Located = { pos: SourcePos; label: string };

/** Sorts by file, line and column, so a listing reads top to bottom. */
export function sortByPlace<T extends SourcePos>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => (a.file === b.file ? a.line - b.line || a.col - b.col : a.file < b.file ? -1 : 1));
}

/**
 * Records where each native path came from and answers Locator queries with the deepest recorded place along a
 * path (so a default filled in by schema falls back to the block that holds it).
 * @example const m = new SourceMap('/etc/ha.d/ha.cf'); m.record(['vrrp'], pos, 'ha.cf'); m.locator().locate(['vrrp'])
 */
export class SourceMap {
  readonly #records = new Map<string, Located>();
  constructor(readonly entry: string) {}

  /** Records that `path` came from `pos`; the label is how the source tool's user names the place. */
  record(path: ConfigPath, pos: SourcePos, label: string): void {
    this.#records.set(JSON.stringify(path), { pos, label });
  }

  /** Whether `path` itself has a record. */
  has(path: ConfigPath): boolean {
    return this.#records.has(JSON.stringify(path));
  }

  /** A Locator over the records (later records are seen too). */
  locator(): Locator {
    return {
      locate: (path: ConfigPath): Located => {
        for (let n = path.length; n > 0; n--) {
          const hit = this.#records.get(JSON.stringify(path.slice(0, n)));
          if (hit) return hit;
        }
        return { pos: { file: this.entry, line: 1, col: 1 }, label: dottedPath(path) };
      },
    };
  }
}

/** Keys whose numeric values are durations in ms in the native schema: rendered as `2s`, `500ms`. */
const DURATION_KEYS = new Set([
  'advert_interval',
  'preempt_delay',
  'master_delay',
  'master_refresh',
  'interval',
  'timeout',
  'connect_timeout',
  'delay_before_retry',
  'warmup',
  'slow_start',
  'drain_timeout',
  'idle_timeout',
  'monitor_interval',
  'monitor_timeout',
  'start_timeout',
  'stop_timeout',
  'failure_timeout',
]);

/** What to render. */
export interface RenderInput {
  /** The native input object. */
  raw: unknown;
  /** Where each part came from. */
  locator: Locator;
  /** The source format, named in the header (`keepalived`, `heartbeat`, `piranha`). */
  format: string;
  /** The files read, named in the header. */
  files: readonly string[];
  /** Warnings and notes: the closing comment block lists each with file:line and why. */
  notCarried: readonly (Diagnostic | ImportNote)[];
}

/**
 * Renders an imported config as tandem YAML: a header naming the sources, a `# from FILE:LINE (label)` comment above
 * each block whose source line differs from its parent's, a `# FILE:LINE` after each such value, and a closing block
 * listing what was not carried over. Durations are written with units.
 * @example renderImportYaml({ raw, locator, format: 'heartbeat', files: ['/etc/ha.d/ha.cf'], notCarried: [] })
 */
export function renderImportYaml(input: RenderInput): string {
  const doc = new Document(withUnits(pruneEmpty(stripUndefined(input.raw), 2)));
  const where = (path: ConfigPath): { tag: string; label: string } => {
    const { pos, label } = input.locator.locate(path);
    return { tag: `${pos.file}:${pos.line}`, label };
  };
  const annotate = (node: unknown, path: ConfigPath, parentTag: string): void => {
    const visit = (child: unknown, childPath: ConfigPath, setBefore: (c: string) => void): void => {
      const { tag, label } = where(childPath);
      // A path the importer did not record falls back to the file's start, labelled with the path itself: no comment.
      const fresh = tag !== parentTag && childPath.length > 1 && label !== dottedPath(childPath);
      if (isMap(child) || isSeq(child)) {
        if (fresh) setBefore(` from ${tag} (${label})`);
        annotate(child, childPath, fresh ? tag : parentTag);
      } else if (isScalar(child) && fresh) (child as Scalar).comment = ` ${tag}`;
    };
    if (isMap(node)) {
      for (const pair of node.items as Pair<Node, Node>[]) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        visit(pair.value, [...path, key], (c) => {
          (pair.key as Node).commentBefore = c;
        });
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        visit(item, [...path, i], (c) => {
          (item as Node).commentBefore = c;
        });
      });
    }
  };
  annotate(doc.contents, [], '');
  const files = input.files.join(', ');
  doc.commentBefore =
    ` tandem configuration imported by \`tandem import\` from ${input.format}: ${files}\n` +
    ' A "from FILE:LINE" comment names the line each part came from. Check it with `tandem check FILE`.';
  if (input.notCarried.length > 0) {
    const lines = input.notCarried.map(
      (d) => `   ${d.file}:${d.line}:${d.col} ${d.code} ${d.path}: ${d.message.replaceAll('\n', ' ')}`,
    );
    doc.comment = ` Not carried over, or carried over with a change (${input.notCarried.length}):\n${lines.join('\n')}`;
  }
  return doc.toString({ lineWidth: 0 });
}

function stripUndefined(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripUndefined);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) defineOwn(out, k, stripUndefined(x));
    return out;
  }
  return v;
}

/** Drops empty lists and maps in the first `depth` levels (`groups: []`): the schema defaults them to empty. */
function pruneEmpty(v: unknown, depth: number): unknown {
  if (depth === 0 || !v || typeof v !== 'object' || Array.isArray(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const y = pruneEmpty(x, depth - 1);
    const empty = Array.isArray(y) ? y.length === 0 : !!y && typeof y === 'object' && Object.keys(y).length === 0;
    if (!empty) defineOwn(out, k, y);
  }
  return out;
}

/** Numbers under duration keys become `2s`-style text, which the schema reads back to the same milliseconds. */
function withUnits(v: unknown, key?: string): unknown {
  if (typeof v === 'number' && key !== undefined && DURATION_KEYS.has(key) && Number.isSafeInteger(v) && v >= 0)
    return formatDurationMs(v);
  if (Array.isArray(v)) return v.map((x) => withUnits(x));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) defineOwn(out, k, withUnits(x, k));
    return out;
  }
  return v;
}

/** Sets an own property, so that a name like `__proto__` is data and not the prototype. */
function defineOwn(o: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}
