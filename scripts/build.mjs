#!/usr/bin/env node
// Builds the runtime: the CLI/daemon and the two worker-thread entries, bundled by esbuild into dist/ as ES modules
// with code splitting, so that each command loads only what it needs (`tandem --help` loads commander and the
// command table; the config schema, YAML, the proxy and the daemon come in chunks that load on first use).
// bin/tandem runs dist/tandem.js; tests run the TypeScript sources through tsx and spawn bin/tandem.
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
rmSync(`${root}dist`, { recursive: true, force: true });
const started = performance.now();
await build({
  absWorkingDir: root,
  entryPoints: {
    tandem: 'src/cli/main.ts',
    'lb-host': 'src/daemon/lb-host.ts',
    'script-host': 'src/daemon/script-host.ts',
  },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  chunkNames: 'chunks/[name]-[hash]',
  // CommonJS packages in the bundle (commander) call require() for Node's own modules; ESM has none, so give them one.
  banner: {
    js: "import { createRequire as __tandemRequire } from 'node:module'; const require = __tandemRequire(import.meta.url);",
  },
  logLevel: 'warning',
  // etcd issue: etcd3 loads its gRPC .proto files from beside its own sources (__dirname), so it is not bundled but
  // imported from node_modules at run time (its gRPC and protobuf dependencies with it).
  external: ['etcd3'],
});
// The web console (src/console/web): one browser bundle, app.js and app.css (Preact, uPlot and its stylesheet inside),
// and index.html, into dist/console, which the API listener serves at / (src/console/plugin.ts). No inline script or
// style and nothing from elsewhere, so the strict Content-Security-Policy holds.
mkdirSync(`${root}dist/console`, { recursive: true });
await build({
  absWorkingDir: root,
  entryPoints: { app: 'src/console/web/main.ts' },
  outdir: 'dist/console',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome100', 'firefox100', 'safari15'],
  minify: true,
  sourcemap: false,
  legalComments: 'eof',
  logLevel: 'warning',
});
copyFileSync(`${root}src/console/web/index.html`, `${root}dist/console/index.html`);
console.log(`build: dist/ in ${Math.round(performance.now() - started)} ms`);
