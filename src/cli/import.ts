/**
 * `tandem import FILE…`: converts a keepalived.conf, a heartbeat configuration (ha.cf with haresources and authkeys)
 * or a Piranha lvs.cf into tandem YAML, with comments naming the source line of each part and a closing list of what
 * was not carried over. Problems print to stderr as `file:line:col severity CODE path: message`; with an error
 * nothing is written and the exit status is 1.
 */
import { posix } from 'node:path';
import { type Diagnostic, dedupeDiagnostics, formatDiagnostic, sortDiagnostics } from '../config/diagnostics.ts';
import { keepForeignMeaning } from '../config/foreign-meaning.ts';
import { heartbeatFiles, readHeartbeat } from '../config/import/heartbeat.ts';
import { readKeepalived } from '../config/import/keepalived.ts';
import { readPiranha } from '../config/import/piranha.ts';
import { type ImportedConfig, renderImportYaml, sortByPlace } from '../config/import/to-yaml.ts';
import { type ConfigFormat, type ConfigFs, detectFormat, UNRECOGNISED_FORMAT, unrecognised } from '../config/load.ts';
import { validateConfig } from '../config/validate.ts';
import { TandemError } from '../core/errors.ts';
import type { CliIo } from './io.ts';

/** The formats `tandem import` converts. */
export type ImportFormat = Exclude<ConfigFormat, 'yaml'>;

/** Options of `tandem import`. */
export interface ImportOptions {
  /** Write the YAML to this file instead of stdout. */
  output?: string;
  /** Force the format instead of detecting it. */
  format?: ImportFormat;
  /** keepalived's config id (`-i`). */
  configId?: string;
}

/** What the command needs from the outside world (the real one passes the disk; tests pass memory). */
export interface ImportDeps {
  fs: ConfigFs & { mode?(path: string): number | undefined };
  io: CliIo;
  /** Writes the output file (0600, never through a symlink: it may hold `auth_pass`); throws to refuse. */
  writeFile(path: string, text: string): void;
}

/** The outcome of importing one configuration. */
export interface ImportOutcome {
  format?: ImportFormat;
  /** The YAML, when there is no error. */
  yaml?: string;
  /** Reader and validation problems, sorted. */
  diagnostics: Diagnostic[];
  /** What was read. */
  imported?: ImportedConfig;
}

/**
 * Imports the configuration made of `files` (one keepalived.conf or lvs.cf, or heartbeat's ha.cf with optionally its
 * haresources and authkeys named too). Pure: file access comes through `fs`.
 * @example importConfig(['/etc/ha.d/ha.cf'], diskFs).yaml
 */
export function importConfig(
  files: readonly string[],
  fs: ImportDeps['fs'],
  format?: ImportFormat,
  configId?: string,
): ImportOutcome {
  const usage = (message: string): ImportOutcome => ({
    diagnostics: [
      {
        file: files[0] ?? '(none)',
        line: 1,
        col: 1,
        severity: 'error',
        code: 'TND_CLI_USAGE',
        path: '(import)',
        message,
      },
    ],
  });
  if (files.length === 0) return usage('name the file(s) to import');
  const formats = new Map<string, ConfigFormat>();
  for (const f of files) {
    const text = fs.read(f);
    if (text === undefined) return fileProblem(f, 'TND_CFG_IO', 'cannot read the file');
    formats.set(f, format ?? detectFormat(f, text));
  }
  const kinds = new Set(formats.values());
  if (kinds.has('yaml')) {
    const f = [...formats].find(([, k]) => k === 'yaml')![0];
    if (unrecognised(f, fs.read(f) ?? ''))
      return fileProblem(f, 'TND_CFG_FORMAT', `${UNRECOGNISED_FORMAT}; name it with --format if it is one of them`);
    return usage(`${f} is tandem YAML already`);
  }
  const kind = [...kinds][0] as ImportFormat;
  if (kinds.size > 1 || (kind !== 'heartbeat' && files.length > 1))
    return usage(
      `import one configuration at a time (got ${[...formats].map(([f, k]) => `${f}: ${k}`).join(', ')}); ` +
        'several files go together only for heartbeat (ha.cf, haresources, authkeys)',
    );
  let imported: ImportedConfig;
  if (kind === 'keepalived')
    imported = { ...readKeepalived(files[0]!, fs, configId === undefined ? {} : { configId }), notes: [] };
  else if (kind === 'piranha') imported = readPiranha(files[0]!, fs);
  else {
    const named = (base: string) => files.find((f) => posix.basename(f) === base);
    const haCf = files.find((f) => !['haresources', 'authkeys'].includes(posix.basename(f))) ?? files[0]!;
    const hr = named('haresources');
    const ak = named('authkeys');
    const { haCf: entry } = heartbeatFiles(haCf);
    imported = readHeartbeat(entry, fs, { ...(hr ? { haresources: hr } : {}), ...(ak ? { authkeys: ak } : {}) });
  }
  keepForeignMeaning(imported.raw);
  const v = validateConfig(imported.raw, imported.locator);
  const diagnostics = sortDiagnostics(dedupeDiagnostics([...imported.diagnostics, ...v.diagnostics]));
  if (diagnostics.some((d) => d.severity === 'error')) return { format: kind, diagnostics, imported };
  const yaml = renderImportYaml({
    raw: imported.raw,
    locator: imported.locator,
    format: kind,
    files: imported.files,
    notCarried: sortByPlace([...diagnostics, ...imported.notes]),
  });
  return { format: kind, yaml, diagnostics, imported };
}

/** One error about a whole file (it cannot be read, or it is no format tandem reads). */
function fileProblem(file: string, code: 'TND_CFG_IO' | 'TND_CFG_FORMAT', message: string): ImportOutcome {
  return { diagnostics: [{ file, line: 1, col: 1, severity: 'error', code, path: '(file)', message }] };
}

/** Runs `tandem import`; returns the exit status: 0 imported (warnings allowed), 1 errors. */
export function runImport(files: readonly string[], opts: ImportOptions, deps: ImportDeps): number {
  const r = importConfig(files, deps.fs, opts.format, opts.configId);
  for (const d of r.diagnostics) deps.io.err(formatDiagnostic(d));
  const errors = r.diagnostics.filter((d) => d.severity === 'error').length;
  if (errors > 0 || r.yaml === undefined) {
    deps.io.err(`${files.join(' ')}: ${errors} error${errors === 1 ? '' : 's'}; nothing written`);
    return 1;
  }
  if (opts.output) {
    try {
      deps.writeFile(opts.output, r.yaml);
    } catch (e) {
      const code = e instanceof TandemError ? e.code : 'TND_CLI_OUTPUT';
      deps.io.err(`tandem import: ${code} ${(e as Error).message}; nothing written`);
      return 1;
    }
  } else for (const line of r.yaml.replace(/\n$/, '').split('\n')) deps.io.out(line);
  const raw = r.imported?.raw as {
    vrrp?: { instances?: unknown[] };
    groups?: unknown[];
    lb?: { services?: unknown[] };
  };
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  const warnings = r.diagnostics.length;
  const notes = r.imported?.notes.length ?? 0;
  deps.io.err(
    `${files.join(' ')}: imported (${r.format}; ${count(raw.vrrp?.instances?.length ?? 0, 'VRRP instance')}, ` +
      `${count(raw.groups?.length ?? 0, 'resource group')}, ${count(raw.lb?.services?.length ?? 0, 'virtual service')}; ` +
      `${count(warnings, 'warning')}, ${count(notes, 'other setting')} not carried over)` +
      (opts.output ? ` → ${opts.output}` : ''),
  );
  return 0;
}
