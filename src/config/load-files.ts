/** The real file access for config loading (the only file in config/ that touches the OS). */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import type { ConfigFs } from './load.ts';

/** Reads files from the local disk; globs support `*`, `?`, `[…]` and `{a,b}` in any path segment. */
export const diskFs: ConfigFs = {
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

/** Expands csh-style braces: `a{b,c}d` → `abd`, `acd`. */
export function expandBraces(p: string): string[] {
  const m = /\{([^{}]*)\}/.exec(p);
  if (!m) return [p];
  const head = p.slice(0, m.index);
  const tail = p.slice(m.index + m[0].length);
  return m[1]!.split(',').flatMap((alt) => expandBraces(head + alt + tail));
}

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

function globToRegExp(part: string): RegExp {
  let re = '';
  for (let i = 0; i < part.length; i++) {
    const c = part[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = part.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        re += `[${part
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
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
