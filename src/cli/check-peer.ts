/**
 * `tandem check d1.conf --peer d2.conf`: both files checked as `tandem check` does, then compared (cluster/compare):
 * what must match between two directors and what is expected to differ. Exit 0 when everything that must match
 * does, 1 on a mismatch or an error in either file.
 */
import { compareConfigs, type PeerComparison, type Side } from '../cluster/compare.ts';
import { locatorOf } from '../cluster/config-check.ts';
import { formatDiagnostic } from '../config/diagnostics.ts';
import { type ConfigFormat, type ConfigFs, loadConfig } from '../config/load.ts';
import type { CliIo } from './io.ts';

/** Options of the peer comparison. */
export interface PeerCheckOptions {
  format?: ConfigFormat;
  json?: boolean;
  configId?: string;
  /** keepalived config id of the peer's file; default the same as this one. */
  peerConfigId?: string;
}

function load(file: string, fs: ConfigFs, opts: PeerCheckOptions, configId: string | undefined, io: CliIo) {
  const r = loadConfig(file, fs, opts.format, configId === undefined ? {} : { configId });
  // Errors stop the comparison and are shown; warnings are `tandem check FILE`'s business, counted here.
  for (const d of r.diagnostics)
    if (d.severity === 'error') io.out(opts.json ? JSON.stringify(d) : formatDiagnostic(d));
  const warnings = r.diagnostics.filter((d) => d.severity === 'warning').length;
  if (warnings && !opts.json) io.err(`${file}: ${warnings} warning${warnings === 1 ? '' : 's'} (tandem check ${file})`);
  if (!r.config) return undefined;
  const text = fs.read(file) ?? '';
  return {
    name: file,
    config: r.config,
    locator: locatorOf({ text, file }, fs, r.format, configId),
  } satisfies Side;
}

/** Prints a comparison; returns its exit code. */
export function printComparison(a: string, b: string, c: PeerComparison, json: boolean | undefined, io: CliIo): number {
  if (json) {
    for (const m of c.mismatches) io.out(JSON.stringify(m));
    for (const d of c.differences) io.out(JSON.stringify({ expected: true, ...d }));
  } else {
    io.out(`${a} against ${b}:`);
    io.out(`  must match: ${c.matched} equal, ${c.mismatches.length} mismatch${c.mismatches.length === 1 ? '' : 'es'}`);
    for (const m of c.mismatches) io.out(formatDiagnostic(m));
    io.out(`  expected to differ${c.differences.length ? ':' : ': nothing differs'}`);
    const w = Math.max(0, ...c.differences.map((d) => d.what.length));
    for (const d of c.differences) io.out(`    ${d.what.padEnd(w)}  ${d.a}  |  ${d.b}`);
  }
  return c.mismatches.length ? 1 : 0;
}

/** Checks `a` and `b` and compares them. */
export function runPeerCheck(a: string, b: string, opts: PeerCheckOptions, fs: ConfigFs, io: CliIo): number {
  const sa = load(a, fs, opts, opts.configId, io);
  const sb = load(b, fs, opts, opts.peerConfigId ?? opts.configId, io);
  if (!sa || !sb) {
    io.err(`${!sa ? a : b}: has errors; fix them before comparing`);
    return 1;
  }
  return printComparison(a, b, compareConfigs(sa, sb), opts.json, io);
}
