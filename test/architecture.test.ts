/**
 * The import graph of src/ against the Modules table of docs/architecture.md: every import from one folder into
 * another must be one the table allows, and every folder of src/ must be in the table. The table is read from the
 * document itself, so the map and the code cannot drift apart.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { test } from 'node:test';

const root = new URL('../', import.meta.url).pathname;
const src = join(root, 'src');

/** What one folder may import: a set of folders, or everything (but some). */
type Allowed = { kind: 'only'; folders: Set<string> } | { kind: 'all'; except: Set<string> };

/** Parses the Modules table: `| folder/ | holds | may import |`. */
export function parseTable(markdown: string): Map<string, Allowed> {
  const section = markdown.split(/^## /m).find((s) => s.startsWith('Modules'));
  if (!section) throw new Error('docs/architecture.md has no "## Modules" section');
  const table = new Map<string, Allowed>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 5 || !/^[a-z]+\/$/.test(cells[1] ?? '')) continue;
    const folder = cells[1]!.slice(0, -1);
    const may = cells[3]!;
    const names = (text: string) => new Set([...text.matchAll(/([a-z]+)\//g)].map((m) => m[1]!));
    if (may === 'nothing') table.set(folder, { kind: 'only', folders: new Set() });
    else if (may.startsWith('everything')) table.set(folder, { kind: 'all', except: names(may) });
    else table.set(folder, { kind: 'only', folders: names(may) });
  }
  return table;
}

/** One import from a file of src/ to another. */
export interface Edge {
  /** Importing file, relative to src/. */
  from: string;
  /** Imported file, relative to src/. */
  to: string;
}

/** The edges the table does not allow, as `from -> to` lines. */
export function violations(edges: readonly Edge[], table: ReadonlyMap<string, Allowed>): string[] {
  const out: string[] = [];
  for (const e of edges) {
    const a = e.from.split('/')[0]!;
    const b = e.to.split('/')[0]!;
    if (a === b) continue;
    const rule = table.get(a);
    const ok = !rule ? false : rule.kind === 'all' ? !rule.except.has(b) : rule.folders.has(b);
    if (!ok) out.push(`${e.from} -> ${e.to} (${a}/ may not import ${b}/)`);
  }
  return out;
}

/** Test code may import anything; the rules are for what ships. */
const isTestCode = (file: string): boolean => /\.test\.ts$/.test(file) || /(^|\/)test-support\.ts$/.test(file);

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g;

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(ts|mjs)$/.test(e)) out.push(p);
  }
  return out;
}

/** Every relative import of the shipped code in src/. */
function importGraph(): Edge[] {
  const edges: Edge[] = [];
  for (const file of sourceFiles(src)) {
    const from = relative(src, file);
    if (isTestCode(from)) continue;
    // Comments may quote imports in examples; only code counts.
    const code = readFileSync(file, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/^\s*\/\/.*$/gm, '');
    for (const m of code.matchAll(IMPORT)) {
      const to = relative(src, normalize(join(dirname(file), m[1]!)));
      if (to.startsWith('..')) continue;
      edges.push({ from, to });
    }
  }
  return edges;
}

const table = parseTable(readFileSync(join(root, 'docs/architecture.md'), 'utf8'));

test('every import in src/ is one the Modules table of docs/architecture.md allows', () => {
  assert.deepEqual(violations(importGraph(), table), []);
});

test('every folder of src/ has a row in the Modules table', () => {
  const folders = readdirSync(src).filter((e) => statSync(join(src, e)).isDirectory());
  assert.deepEqual(
    folders.filter((f) => !table.has(f)),
    [],
  );
});

test('the table reads as written: core/ imports nothing, daemon/ everything, vrrp/ only core/', () => {
  assert.deepEqual(table.get('core'), { kind: 'only', folders: new Set() });
  assert.deepEqual(table.get('daemon'), { kind: 'all', except: new Set() });
  assert.deepEqual(table.get('vrrp'), { kind: 'only', folders: new Set(['core']) });
});

test('the checker catches a forbidden edge (the pure core reaching the OS, a domain folder reaching the daemon)', () => {
  assert.deepEqual(
    violations(
      [
        { from: 'vrrp/machine.ts', to: 'os/addresses.ts' },
        { from: 'lb/runtime.ts', to: 'daemon/log.ts' },
        { from: 'daemon/run.ts', to: 'node/node.ts' },
        { from: 'lb/model.ts', to: 'lb/types.ts' },
      ],
      table,
    ),
    [
      'vrrp/machine.ts -> os/addresses.ts (vrrp/ may not import os/)',
      'lb/runtime.ts -> daemon/log.ts (lb/ may not import daemon/)',
    ],
  );
});
