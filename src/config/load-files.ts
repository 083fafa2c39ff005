/** The real file access for config loading (the only file in config/ that touches the OS). */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { expandBraces } from './import/keepalived-lexer.ts';
import { globToRegExp } from './import/memory-fs.ts';
import type { ConfigFs } from './load.ts';

/**
 * Reads files from the local disk; globs support `*`, `?`, `[…]` and `{a,b}` in any path segment. `mode` gives a
 * file's permission bits (the heartbeat reader refuses an authkeys file readable by others, as heartbeat does).
 */
export const diskFs: ConfigFs & { mode(path: string): number | undefined } = {
  mode(path) {
    try {
      return statSync(path).mode & 0o7777;
    } catch {
      return undefined;
    }
  },
  read(path) {
    try {
      if (!statSync(path).isFile()) return undefined;
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  },
  glob(pattern) {
    const out = new Set<string>();
    for (const p of expandBraces(pattern)) for (const m of globOne(resolve(p))) out.add(m);
    return [...out].sort();
  },
};

function globOne(abs: string): string[] {
  const parts = abs.split(sep).filter(Boolean);
  let bases: string[] = [sep];
  for (const [i, part] of parts.entries()) {
    const last = i === parts.length - 1;
    const next: string[] = [];
    for (const b of bases) {
      if (!/[*?[]/.test(part)) {
        next.push(join(b, part));
        continue;
      }
      const re = globToRegExp(part);
      let entries: string[] = [];
      try {
        entries = readdirSync(b);
      } catch {
        continue;
      }
      for (const e of entries.sort())
        if (re.test(e) && !(e.startsWith('.') && !part.startsWith('.'))) next.push(join(b, e));
    }
    bases = last ? next : next.filter((n) => isDir(n));
  }
  return bases.filter((f) => isFile(f));
}

const isDir = (p: string): boolean => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};
const isFile = (p: string): boolean => {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
};
