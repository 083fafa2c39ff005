/**
 * Checking a config text the way a node will run it: the checks of `tandem check` (config/load) on the text as the
 * operator wrote it, then, for one node, the node's name and its host facts (host-check.ts). Diagnostics name the
 * operator's own file, so a refusal from another node still points at the line to fix. Pure over ConfigFs and
 * HostFacts.
 */
import type { Diagnostic, Locator } from '../config/diagnostics.ts';
import { readKeepalived } from '../config/import/keepalived.ts';
import {
  type ConfigFormat,
  type ConfigFs,
  detectFormat,
  type LoadResult,
  loadConfig,
  readYaml,
} from '../config/load.ts';
import type { TandemConfig } from '../config/schema.ts';
import { type HostFacts, hostDiagnostics } from './host-check.ts';

/** The formats a shared config may have. */
export const CONFIG_FORMATS: readonly ConfigFormat[] = ['yaml', 'keepalived', 'heartbeat', 'piranha'];

/** A text to check: what the operator wrote and under which name. */
export interface ConfigText {
  text: string;
  /** The name diagnostics use (the operator's file). */
  file: string;
  /** The format; default: detected from `file` and the text. */
  format?: ConfigFormat;
}

/** `fs` with `file` reading as `text` (includes and key files still come from `fs`). */
export function overlayFs(fs: ConfigFs & { mode?(p: string): number | undefined }, file: string, text: string) {
  return {
    read: (p: string) => (p === file ? text : fs.read(p)),
    glob: (p: string) => fs.glob(p),
    mode: (p: string) => (p === file ? 0o600 : fs.mode?.(p)),
  };
}

/** Loads a text with the checks of `tandem check`. */
export function loadText(t: ConfigText, fs: ConfigFs, configId?: string): LoadResult {
  const format = t.format ?? detectFormat(t.file, t.text);
  return loadConfig(t.file, overlayFs(fs, t.file, t.text), format, configId === undefined ? {} : { configId });
}

/** The locator of a text, to place findings that come after loading (host facts, peer comparison). */
export function locatorOf(t: ConfigText, fs: ConfigFs, format: ConfigFormat, configId?: string): Locator {
  const over = overlayFs(fs, t.file, t.text);
  if (format === 'keepalived') return readKeepalived(t.file, over, configId === undefined ? {} : { configId }).locator;
  if (format === 'yaml') return readYaml(t.file, t.text).locator;
  return { locate: (path) => ({ pos: { file: t.file, line: 1, col: 1 }, label: path.join('.') || '(root)' }) };
}

/** The result of checking a text for one node. */
export interface NodeCheck {
  format: ConfigFormat;
  config?: TandemConfig;
  /** Every problem, warnings included; the text is refused when one is an error. */
  diagnostics: Diagnostic[];
}

/**
 * Checks `t` as `node` would run it on the host `facts` describes: the config checks, the node being one of
 * cluster.nodes (as `tandem run` requires), then the host facts.
 */
export function checkForNode(
  t: ConfigText,
  node: string,
  fs: ConfigFs,
  facts: HostFacts,
  configId?: string,
): NodeCheck {
  const r = loadText(t, fs, configId ?? node);
  if (!r.config) return { format: r.format, diagnostics: r.diagnostics };
  const names = r.config.cluster.nodes.map((n) => n.name);
  if (names.length > 0 && !names.includes(node))
    return {
      format: r.format,
      diagnostics: [
        ...r.diagnostics,
        {
          file: t.file,
          line: 1,
          col: 1,
          severity: 'error',
          code: 'TND_DAEMON_NODE',
          path: 'cluster.nodes',
          message: `node ${node} is not in cluster.nodes (${names.join(', ')}): it could not run this file`,
        },
      ],
    };
  const host = hostDiagnostics(r.config, node, facts, locatorOf(t, fs, r.format, configId ?? node));
  const diagnostics = [...r.diagnostics, ...host];
  return host.length ? { format: r.format, diagnostics } : { format: r.format, config: r.config, diagnostics };
}
