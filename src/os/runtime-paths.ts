/**
 * Where tandem's own files are, whether it runs from the compiled bundle (dist/, what `bin/tandem` loads) or from the
 * TypeScript sources (tests, through tsx): the package root, the `tandem` executable a supervisor forks, the worker
 * thread entries, and the native addon. Found by walking up from this module to tandem's package.json, so the
 * answer does not depend on how deep the bundler put this code.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 10; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'tandem') return dir;
      } catch {
        // not ours; keep walking
      }
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new Error(`cannot find tandem's package.json above ${fileURLToPath(import.meta.url)}`);
}

/** The directory that holds tandem's package.json, bin/, dist/ and build/. */
export const PACKAGE_ROOT = findRoot();

/** Whether this process runs the TypeScript sources (tests under tsx) rather than the compiled bundle. */
export const FROM_SOURCE = import.meta.url.endsWith('.ts');

/** The `tandem` executable (what the supervisor forks for its child). */
export function tandemExecutable(): string {
  return join(PACKAGE_ROOT, 'bin', 'tandem');
}

/** The worker threads tandem starts. */
export type WorkerName = 'lb-host' | 'script-host';

const SOURCE_ENTRIES: Readonly<Record<WorkerName, string>> = {
  'lb-host': 'src/daemon/lb-worker-entry.mjs',
  'script-host': 'src/daemon/script-worker-entry.mjs',
};

/** The entry of a worker thread: the bundle's `dist/NAME.js`, or, from the sources, an entry that loads them with tsx. */
export function workerUrl(name: WorkerName): URL {
  return pathToFileURL(join(PACKAGE_ROOT, FROM_SOURCE ? SOURCE_ENTRIES[name] : `dist/${name}.js`));
}

/** The native addon node-gyp builds (`npm install`, `npm run build:native`). */
export const NATIVE_ADDON = join(PACKAGE_ROOT, 'build', 'Release', 'tandem_vrrp.node');
