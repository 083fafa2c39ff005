/** `tandem check`: validates config files and reports every problem as `file:line:col severity CODE path: message`. */
import { formatDiagnostic } from '../config/diagnostics.ts';
import { type ConfigFormat, type ConfigFs, loadConfig } from '../config/load.ts';
import type { CliIo } from './io.ts';

/** Options of `tandem check`. */
export interface CheckOptions {
  /** Force a format instead of detecting it. */
  format?: ConfigFormat;
  /** Print diagnostics as JSON lines. @default false */
  json?: boolean;
  /** Print only problems, not the per-file summary. @default false */
  quiet?: boolean;
  /** keepalived's config id (`-i`); the caller passes the host name by default. */
  configId?: string;
}

/** Checks each file; returns the exit code: 0 = no errors (warnings allowed), 1 = errors. */
export function runCheck(files: readonly string[], opts: CheckOptions, fs: ConfigFs, io: CliIo): number {
  let failed = false;
  for (const file of files) {
    const r = loadConfig(file, fs, opts.format, opts.configId === undefined ? {} : { configId: opts.configId });
    for (const d of r.diagnostics) io.out(opts.json ? JSON.stringify(d) : formatDiagnostic(d));
    const errors = r.diagnostics.filter((d) => d.severity === 'error').length;
    const warnings = r.diagnostics.length - errors;
    if (errors) failed = true;
    if (opts.quiet || opts.json) continue;
    if (r.config) {
      const n = r.config.vrrp.instances.length;
      const g = r.config.vrrp.sync_groups.length;
      io.err(
        `${file}: OK (${r.format}; ${n} VRRP instance${n === 1 ? '' : 's'}, ${g} sync group${g === 1 ? '' : 's'}` +
          `${warnings ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''})`,
      );
    } else
      io.err(`${file}: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`);
  }
  return failed ? 1 : 0;
}
