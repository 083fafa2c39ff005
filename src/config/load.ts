/**
 * Loading a config file of any supported format into a validated TandemConfig with diagnostics. Pure: file access
 * comes through ConfigFs (the real one is in load-files.ts).
 */
import { posix } from 'node:path';
import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument, visit } from 'yaml';
import type { ConfigPath, Diagnostic, Locator, SourcePos } from './diagnostics.ts';
import { dedupeDiagnostics, dottedPath, sortDiagnostics } from './diagnostics.ts';
import { keepForeignMeaning } from './foreign-meaning.ts';
import { isHeartbeatFile, readHeartbeat } from './import/heartbeat.ts';
import { type ConfigFs, readKeepalived } from './import/keepalived.ts';
import { isPiranhaFile, readPiranha } from './import/piranha.ts';
import { keyFileDiagnostics } from './key-files.ts';
import type { TandemConfig } from './schema.ts';
import { validateConfig } from './validate.ts';

export type { ConfigFs };

/** The formats tandem reads. */
export type ConfigFormat = 'yaml' | 'keepalived' | 'heartbeat' | 'piranha';

/** A loaded config: the config when it has no error, every diagnostic, and the files read. */
export interface LoadResult {
  format: ConfigFormat;
  config?: TandemConfig;
  diagnostics: Diagnostic[];
  files: string[];
}

/** Guesses the format from the name and the text: `.yaml`/`.yml` is native, keepalived keywords mean keepalived. */
export function detectFormat(path: string, text: string): ConfigFormat {
  if (/\.ya?ml$/i.test(path)) return 'yaml';
  if (/^\s*(global_defs|vrrp_instance|vrrp_script|vrrp_sync_group|virtual_server|include)\b/m.test(text))
    return 'keepalived';
  if (/(^|\/)keepalived[^/]*\.conf$/i.test(path)) return 'keepalived';
  // heartbeat (ha.cf, haresources, authkeys) and Piranha (lvs.cf)
  if (isHeartbeatFile(path, text)) return 'heartbeat';
  if (isPiranhaFile(path, text)) return 'piranha';
  return 'yaml';
}

/** Options of loading a config. */
export interface LoadOptions {
  /**
   * keepalived's config id (`-i` / `--config-id`): selects `@ID` lines and fills `${_INSTANCE}`. The CLI passes the
   * host name's first label by default, as keepalived does; undefined skips every `@ID` line, with a warning.
   */
  configId?: string;
}

/** keepalived's default config id: the host name up to its first dot (keepalived takes the node name). */
export function defaultConfigId(hostname: string): string {
  return hostname.split('.')[0] ?? hostname;
}

/**
 * Loads and validates one config file (and its includes). Never throws: whatever a reader does with hostile or
 * broken text ends as a diagnostic, so that check, run, SIGHUP and reload all refuse the file the same way and a
 * running daemon keeps its config.
 */
export function loadConfig(path: string, fs: ConfigFs, format?: ConfigFormat, options: LoadOptions = {}): LoadResult {
  try {
    return loadUnchecked(path, fs, format, options);
  } catch (e) {
    // A reader bug, not the user's: say so, with the file, rather than crash the caller.
    const why = e instanceof Error ? `${e.name}: ${firstLine(e.message)}` : String(e);
    return {
      format: format ?? 'yaml',
      diagnostics: [
        {
          file: path,
          line: 1,
          col: 1,
          severity: 'error',
          code: 'TND_CFG_INTERNAL',
          path: '(file)',
          message: `tandem failed while reading this file (${why}); nothing was changed — please report it`,
        },
      ],
      files: [path],
    };
  }
}

function loadUnchecked(path: string, fs: ConfigFs, format: ConfigFormat | undefined, options: LoadOptions): LoadResult {
  const text = fs.read(path);
  if (text === undefined) {
    return {
      format: format ?? 'yaml',
      diagnostics: [
        {
          file: path,
          line: 1,
          col: 1,
          severity: 'error',
          code: 'TND_CFG_IO',
          path: '(file)',
          message: 'cannot read the file',
        },
      ],
      files: [],
    };
  }
  const fmt = format ?? detectFormat(path, text);
  if (fmt === 'keepalived') {
    const read = readKeepalived(path, fs, options.configId === undefined ? {} : { configId: options.configId });
    return finish(fmt, read.raw, read.locator, read.diagnostics, read.files, fs);
  }
  // heartbeat and Piranha formats: readers in src/config/import/heartbeat.ts, piranha.ts
  if (fmt === 'heartbeat' || fmt === 'piranha') {
    const read = fmt === 'heartbeat' ? readHeartbeat(path, fs) : readPiranha(path, fs);
    return finish(fmt, read.raw, read.locator, read.diagnostics, read.files, fs);
  }
  if (format === undefined && unrecognised(path, text)) return notAKnownFormat(path);
  const y = readYaml(path, text);
  if (y.diagnostics.some((d) => d.severity === 'error'))
    return { format: fmt, diagnostics: y.diagnostics, files: [path] };
  return finish(fmt, y.raw, y.locator, y.diagnostics, [path], fs);
}

/** The message for a file that is none of the formats tandem reads. */
export const UNRECOGNISED_FORMAT = 'not a keepalived.conf, ha.cf, lvs.cf or tandem YAML file';

/**
 * Whether a file that no reader claimed is not tandem YAML either: its name does not say YAML and its text is not a
 * YAML mapping (prose, an ini file, a shell script). Such a file gets one TND_CFG_FORMAT diagnostic instead of the
 * YAML parser's view of it.
 */
export function unrecognised(path: string, text: string): boolean {
  if (/\.ya?ml$/i.test(path)) return false;
  const doc = parseDocument(text, { prettyErrors: false });
  return doc.errors.length > 0 || !isMap(doc.contents);
}

function notAKnownFormat(path: string): LoadResult {
  const message = `${UNRECOGNISED_FORMAT}; name it with --format if it is one of them`;
  return {
    format: 'yaml',
    diagnostics: [{ file: path, line: 1, col: 1, severity: 'error', code: 'TND_CFG_FORMAT', path: '(file)', message }],
    files: [path],
  };
}

function finish(
  format: ConfigFormat,
  raw: unknown,
  locator: Locator,
  early: Diagnostic[],
  files: string[],
  fs: ConfigFs & { mode?(path: string): number | undefined },
): LoadResult {
  // Syntax-level errors do not stop validation: the user gets every problem in one run (Rule 7).
  const v = validateConfig(format === 'yaml' ? raw : keepForeignMeaning(raw), locator);
  const config = v.config ? withAbsoluteKeyFiles(v.config, files[0] ?? '') : undefined;
  // The heartbeat reader has judged the authkeys it names already: one root cause, one diagnostic.
  const keys = config && format !== 'heartbeat' ? keyFileDiagnostics(config, fs, locator) : [];
  const diagnostics = sortDiagnostics(dedupeDiagnostics([...early, ...v.diagnostics, ...keys]));
  const ok = !diagnostics.some((d) => d.severity === 'error');
  return ok && config ? { format, config, diagnostics, files } : { format, diagnostics, files };
}

/**
 * Key files named relative to the config (cluster.key_file, auth_hmac.key_file) are the config's neighbours: the
 * loaded config names them absolutely, so the checks and the daemon read the same file wherever it was started.
 */
function withAbsoluteKeyFiles(cfg: TandemConfig, configFile: string): TandemConfig {
  const abs = (f: string): string => (f.startsWith('/') ? f : posix.join(posix.dirname(configFile), f));
  const key = cfg.cluster.key_file;
  const relative =
    (key !== undefined && !key.startsWith('/')) ||
    cfg.vrrp.instances.some((i) => i.auth_hmac?.key_file !== undefined && !i.auth_hmac.key_file.startsWith('/'));
  if (!relative) return cfg;
  return {
    ...cfg,
    cluster: { ...cfg.cluster, ...(key !== undefined ? { key_file: abs(key) } : {}) },
    vrrp: {
      ...cfg.vrrp,
      instances: cfg.vrrp.instances.map((i) =>
        i.auth_hmac?.key_file ? { ...i, auth_hmac: { ...i.auth_hmac, key_file: abs(i.auth_hmac.key_file) } } : i,
      ),
    },
  };
}

/** Parses YAML keeping positions; returns the plain object and a locator over it. */
export function readYaml(file: string, text: string): { raw: unknown; locator: Locator; diagnostics: Diagnostic[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const offsetPos = (offset: number): SourcePos => {
    const p = lineCounter.linePos(offset);
    return { file, line: p.line, col: p.col };
  };
  const diagnostics: Diagnostic[] = [];
  for (const e of doc.errors) {
    const code = e.code === 'DUPLICATE_KEY' ? 'TND_CFG_DUPLICATE' : 'TND_CFG_SYNTAX';
    diagnostics.push({
      ...offsetPos(e.pos[0]),
      severity: 'error',
      code,
      path: '(yaml)',
      message: firstLine(e.message),
    });
  }
  const locator: Locator = {
    locate(path: ConfigPath, at: 'key' | 'value' = 'value') {
      let node: unknown = doc.contents;
      let pos: SourcePos = offsetPos(rangeStart(doc.contents) ?? 0);
      for (const [i, seg] of path.entries()) {
        const last = i === path.length - 1;
        if (isMap(node)) {
          const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
          if (!pair) break;
          const key = pair.key as Node;
          const value = pair.value as Node | null;
          // A scalar value is shown at the value; a block at its key.
          const showValue = value && isScalar(value) && !(last && at === 'key');
          pos = offsetPos((showValue ? rangeStart(value) : rangeStart(key)) ?? 0);
          node = value;
        } else if (isSeq(node) && typeof seg === 'number') {
          const item = node.items[seg] as Node | undefined;
          if (!item) break;
          pos = offsetPos(rangeStart(item) ?? 0);
          node = item;
        } else break;
      }
      return { pos, label: dottedPath(path) };
    },
  };
  if (doc.errors.length) return { raw: undefined, locator, diagnostics };
  try {
    return { raw: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }), locator, diagnostics };
  } catch (e) {
    // yaml throws (a ReferenceError) when aliases expand past maxAliasCount: a "billion laughs" document. It is a
    // property of the text, so it is a diagnostic like any other syntax problem, never an exception.
    const alias = doc.contents ? firstAlias(doc) : undefined;
    diagnostics.push({
      ...offsetPos(alias ?? 0),
      severity: 'error',
      code: 'TND_CFG_SYNTAX',
      path: '(yaml)',
      message:
        e instanceof ReferenceError
          ? `aliases expand to too many nodes (more than ${MAX_ALIAS_COUNT} alias uses): refused as a resource exhaustion attack`
          : `cannot build the document: ${firstLine(e instanceof Error ? e.message : String(e))}`,
    });
    return { raw: undefined, locator, diagnostics };
  }
}

/** How many alias uses a YAML document may expand (yaml's own guard against exponential "billion laughs" input). */
export const MAX_ALIAS_COUNT = 100;

/** The offset of the first alias (`*name`) in a document, to point the diagnostic at. */
function firstAlias(doc: ReturnType<typeof parseDocument>): number | undefined {
  let at: number | undefined;
  visit(doc, {
    Alias(_key, node) {
      at = node.range?.[0];
      return visit.BREAK;
    },
  });
  return at;
}

function rangeStart(n: unknown): number | undefined {
  return (n as { range?: [number, number, number] } | null)?.range?.[0];
}

const firstLine = (s: string): string => s.split('\n')[0] ?? s;
