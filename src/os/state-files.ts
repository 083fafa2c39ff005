/**
 * A directory of small state files (config versions, join tokens): each written 0600 and atomically
 * (os/secret-file.ts), read with a size bound, listed by name. A memory fake for tests is {@link memoryStateFiles}.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeSecretFile } from './secret-file.ts';

/** Files under one directory, by plain names (no slashes). */
export interface StateFiles {
  /** The text, or undefined when absent or larger than the bound. */
  read(name: string): string | undefined;
  /** Replaces the file atomically, mode 0600. */
  write(name: string, text: string): void;
  remove(name: string): void;
  /** Names in the directory, sorted. */
  list(): string[];
}

/** Largest state file read (a config version holds the config text). @default 4 MiB */
export const STATE_FILE_MAX_BYTES = 4 * 1024 * 1024;

const plain = (name: string): string => {
  if (!/^[A-Za-z0-9_.-]+$/.test(name) || name.startsWith('.')) throw new Error(`bad state file name ${name}`);
  return name;
};

/** The real directory `dir` (made 0700 when missing). */
export function diskStateFiles(dir: string): StateFiles {
  const ensure = () => mkdirSync(dir, { recursive: true, mode: 0o700 });
  return {
    read(name) {
      const p = join(dir, plain(name));
      try {
        if (statSync(p).size > STATE_FILE_MAX_BYTES) return undefined;
        return readFileSync(p, 'utf8');
      } catch {
        return undefined;
      }
    },
    write(name, text) {
      ensure();
      writeSecretFile(join(dir, plain(name)), text);
    },
    remove(name) {
      rmSync(join(dir, plain(name)), { force: true });
    },
    list() {
      try {
        return readdirSync(dir)
          .filter((n) => !n.startsWith('.'))
          .sort();
      } catch {
        return [];
      }
    },
  };
}

/** An in-memory StateFiles (tests, the simulator). */
export function memoryStateFiles(): StateFiles & { files: Map<string, string> } {
  const files = new Map<string, string>();
  return {
    files,
    read: (n) => files.get(n),
    write: (n, t) => void files.set(plain(n), t),
    remove: (n) => void files.delete(n),
    list: () => [...files.keys()].sort(),
  };
}
