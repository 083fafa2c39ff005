/**
 * An in-memory ConfigFs over a map from absolute path to text, for tests and the simulator: the importers never
 * touch the disk, so the same code reads a real /etc/keepalived and a fixture held in a string.
 */
import type { ConfigFs } from './keepalived-lexer.ts';

/**
 * A ConfigFs over `files` (path → text). Globs support `*`, `?` and `[…]` (`[!…]` negates); none crosses a `/`.
 * @example memoryFs({ '/etc/keepalived/keepalived.conf': 'vrrp_instance VI_1 {\n}\n' })
 */
export function memoryFs(files: Readonly<Record<string, string>>): ConfigFs {
  return {
    read: (path) => (Object.hasOwn(files, path) ? files[path] : undefined),
    glob: (pattern) => {
      const re = globToRegExp(pattern);
      return Object.keys(files)
        .filter((f) => re.test(f))
        .sort();
    },
  };
}

/** Translates a glob pattern (without braces) to an anchored regular expression. */
export function globToRegExp(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end === -1) {
        out += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, end);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      out += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = end;
    } else out += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  try {
    return new RegExp(`^${out}$`);
  } catch {
    return /(?!)/; // a malformed class such as [z-a] matches nothing, as glob(3) does
  }
}
