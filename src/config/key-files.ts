/**
 * `tandem check` and the daemon refuse a config whose key files (cluster.key_file, auth_hmac.key_file) cannot serve:
 * missing (TND_CFG_IO), readable by group or others (TND_CFG_PERMISSIONS, as heartbeat refuses such an authkeys), or
 * not a key (TND_CFG_KEY: 32..64 bytes, `hex:…`, or heartbeat's authkeys with a secret; core/key-text.ts). Read through ConfigFs like the config itself, so
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
    // Where and why, never a byte of the key.
    const problem = (code: 'TND_CFG_IO' | 'TND_CFG_PERMISSIONS' | 'TND_CFG_KEY', message: string): void => {
      const { pos, label } = locator.locate(path);
      out.push({ ...pos, severity: 'error', code, path: label, message });
    };
    let text: string | undefined;
    try {
      text = fs.read(file);
    } catch {
      text = undefined;
    }
    if (text === undefined) {
      problem('TND_CFG_IO', `cannot read the key file ${file}`);
      continue;
    }
    const mode = fs.mode?.(file);
    if (mode !== undefined && mode & 0o077) {
      problem(
        'TND_CFG_PERMISSIONS',
        `${file} has mode ${mode.toString(8).padStart(4, '0')}: group or others can read the key; chmod 600 ${file}`,
      );
      continue;
    }
    const k = parseKeyText(text);
    if (!k.ok) problem('TND_CFG_KEY', `${file}: ${k.reason}`);
  }
  return out;
}
