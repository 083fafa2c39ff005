import type { ErrorCode } from '../core/errors.ts';
import { printable } from '../core/text.ts';

/** Where something is in the user's own file. Lines and columns count from 1. */
export interface SourcePos {
  file: string;
  line: number;
  col: number;
}

/** A path into the native config object, e.g. `['vrrp', 'instances', 0, 'priority']`. */
export type ConfigPath = readonly (string | number)[];

/** One problem found in a config (Rule 7). */
export interface Diagnostic extends SourcePos {
  severity: 'error' | 'warning';
  code: ErrorCode;
  /** How the user names the place: `vrrp.instances[0].priority` in YAML, `vrrp_instance VI_1: priority` in keepalived.conf. */
  path: string;
  message: string;
}

/**
 * Maps a path in the native config object back to the user's file. Each format (YAML, keepalived.conf, …) provides
 * one, so semantic checks written once report positions in whatever file the user wrote.
 */
export interface Locator {
  /**
   * The position and the user-facing name of the deepest known place along `path`: of its value, or of its key
   * when `at` is 'key' (formats that record one position per place may ignore `at`).
   */
  locate(path: ConfigPath, at?: 'key' | 'value'): { pos: SourcePos; label: string };
}

/**
 * Formats a diagnostic as `file:line:col severity CODE path: message`, on one line: names and values quoted from the
 * file keep their control characters as visible escapes (`\x1b`), so a hostile file cannot drive the terminal.
 */
export function formatDiagnostic(d: Diagnostic): string {
  return printable(`${d.file}:${d.line}:${d.col} ${d.severity} ${d.code} ${d.path}: ${d.message}`);
}

/** Sorts diagnostics by file, line, column, so output reads top to bottom. */
export function sortDiagnostics(ds: readonly Diagnostic[]): Diagnostic[] {
  return [...ds].sort((a, b) => (a.file === b.file ? a.line - b.line || a.col - b.col : a.file < b.file ? -1 : 1));
}

/** Formats a native path as the YAML user writes it: `vrrp.instances[0].priority`. */
export function dottedPath(path: ConfigPath): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${p}` : p;
  return out || '(root)';
}

/** Drops repeats of the same problem at the same place (two readers, or reader and validator, may both see it). */
export function dedupeDiagnostics(ds: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return ds.filter((d) => {
    const k = `${d.file}:${d.line}:${d.col}:${d.code}:${d.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
