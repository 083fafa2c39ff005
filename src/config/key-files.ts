/**
 * `tandem check` and the daemon refuse a config whose key files (cluster.key_file, auth_hmac.key_file) cannot serve:
 * missing, readable by group or others, or not a 32..64-byte key. Read through ConfigFs like the config itself, so
 * the check is pure and runs on the file the node will use.
 */
import { parseKeyText } from '../core/key-text.ts';
import type { ConfigPath, Diagnostic, Locator } from './diagnostics.ts';
import type { ConfigFs } from './import/keepalived-lexer.ts';
import type { TandemConfig } from './schema.ts';

/** The key files a config names, with where. */
function keyFiles(cfg: TandemConfig): { file: string; path: ConfigPath }[] {
  const out: { file: string; path: ConfigPath }[] = [];
  if (cfg.cluster.key_file) out.push({ file: cfg.cluster.key_file, path: ['cluster', 'key_file'] });
  cfg.vrrp.instances.forEach((inst, i) => {
    if (inst.auth_hmac?.key_file)
      out.push({ file: inst.auth_hmac.key_file, path: ['vrrp', 'instances', i, 'auth_hmac', 'key_file'] });
  });
  return out;
}

/** Diagnostics for the key files of `cfg`. */
export function keyFileDiagnostics(
  cfg: TandemConfig,
  fs: ConfigFs & { mode?(path: string): number | undefined },
  locator: Locator,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const done = new Set<string>();
  for (const { file, path } of keyFiles(cfg)) {
    if (done.has(file)) continue;
    done.add(file);
    const problem = (message: string): void => {
      const { pos, label } = locator.locate(path);
      out.push({ ...pos, severity: 'error', code: 'TND_CFG_KEY', path: label, message });
    };
    const text = fs.read(file);
    if (text === undefined) {
      problem(`cannot read the key file ${file}`);
      continue;
    }
    const mode = fs.mode?.(file);
    if (mode !== undefined && mode & 0o077)
      problem(
        `${file} is mode ${mode.toString(8).padStart(4, '0')}: a key must not be readable by group or others (chmod 600)`,
      );
    const k = parseKeyText(text);
    if (!k.ok) problem(`${file}: ${k.reason}`);
  }
  return out;
}
