/**
 * The versions of the cluster's config kept on this node's disk: one file per version (`v000042.json`, 0600, written
 * atomically), the newest `keep` of them, plus at most one staged version between prepare and commit. The seeds'
 * "copies of the config as backup", made by tandem at every apply.
 */
import type { StateFiles } from '../os/state-files.ts';
import type { ConfigVersion } from './backend.ts';
import { configHash } from './hash.ts';

const FILE = /^v(\d{6,})\.json$/;
const STAGED = 'staged.json';
const name = (v: number): string => `v${String(v).padStart(6, '0')}.json`;

/** Checks a parsed version file: every field present and the hash the text's own. */
export function parseVersion(text: string | undefined): ConfigVersion | undefined {
  if (text === undefined) return undefined;
  try {
    const v = JSON.parse(text) as Partial<ConfigVersion>;
    if (
      typeof v.version !== 'number' ||
      !Number.isInteger(v.version) ||
      v.version < 1 ||
      typeof v.text !== 'string' ||
      typeof v.hash !== 'string' ||
      typeof v.format !== 'string' ||
      typeof v.appliedAt !== 'string' ||
      typeof v.appliedBy !== 'string'
    )
      return undefined;
    // A file edited by hand (or half-restored from a backup) is not trusted as a version.
    if (configHash(v.text) !== v.hash) return undefined;
    return v as ConfigVersion;
  } catch {
    return undefined;
  }
}

/** This node's kept versions. */
export class VersionStore {
  readonly #files: StateFiles;
  readonly #keep: number;
  constructor(files: StateFiles, keep: number) {
    this.#files = files;
    this.#keep = keep;
  }

  /** Version numbers kept, newest first. */
  numbers(): number[] {
    return this.#files
      .list()
      .flatMap((n) => {
        const m = FILE.exec(n);
        return m ? [Number(m[1])] : [];
      })
      .sort((a, b) => b - a);
  }

  get(version: number): ConfigVersion | undefined {
    const v = parseVersion(this.#files.read(name(version)));
    return v && v.version === version ? v : undefined;
  }

  /** The newest valid version. */
  current(): ConfigVersion | undefined {
    for (const n of this.numbers()) {
      const v = this.get(n);
      if (v) return v;
    }
    return undefined;
  }

  /** The newest `limit` valid versions, newest first. */
  history(limit: number): ConfigVersion[] {
    const out: ConfigVersion[] = [];
    for (const n of this.numbers()) {
      if (out.length >= limit) break;
      const v = this.get(n);
      if (v) out.push(v);
    }
    return out;
  }

  /** Stores a committed version and drops the oldest beyond `keep`. */
  put(v: ConfigVersion): void {
    this.#files.write(name(v.version), `${JSON.stringify(v, null, 1)}\n`);
    for (const old of this.numbers().slice(this.#keep)) this.#files.remove(name(old));
  }

  /** Stages a prepared version (replacing any other). */
  stage(v: ConfigVersion): void {
    this.#files.write(STAGED, JSON.stringify(v));
  }

  staged(): ConfigVersion | undefined {
    return parseVersion(this.#files.read(STAGED));
  }

  unstage(): void {
    this.#files.remove(STAGED);
  }
}
