#!/usr/bin/env node
// Runs every *.test.ts under the given folders (default: src test bench) with Node's test runner.
// Node 20's --test takes no globs, so the files are listed here.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const roots = process.argv.slice(2).length ? process.argv.slice(2) : ['src', 'test', 'bench'];
const files = [];
const walk = (p) => {
  if (statSync(p).isFile()) {
    if (p.endsWith('.test.ts')) files.push(p);
    return;
  }
  for (const e of readdirSync(p)) if (e !== 'node_modules') walk(join(p, e));
};
for (const r of roots) walk(r);
// The tests spawn bin/tandem, which runs the compiled bundle: build it from the sources under test first.
const built = spawnSync(process.execPath, [new URL('./build.mjs', import.meta.url).pathname], { stdio: 'inherit' });
if (built.status !== 0) process.exit(built.status ?? 1);
files.sort();
if (files.length === 0) {
  console.error('no test files found under', roots.join(' '));
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
