// contrib/grafana-tandem.json: valid JSON, every metric name it uses is one the renderer emits, and every query is
// valid PromQL (promtool check rules, with Grafana's variables given values).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CATALOGUE, catalogueNames } from './families.ts';

const file = new URL('../../contrib/grafana-tandem.json', import.meta.url);
interface Panel {
  id: number;
  type: string;
  title: string;
  targets?: { expr: string; refId: string }[];
}
const dash = JSON.parse(readFileSync(file, 'utf8')) as {
  uid: string;
  panels: Panel[];
  annotations: { list: { expr?: string }[] };
  templating: { list: { name: string; query: unknown }[] };
};
/** PromQL: the panels' and the annotations' queries. */
const exprs = [
  ...dash.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
  ...dash.annotations.list.flatMap((a) => (a.expr ? [a.expr] : [])),
];
/** Grafana's own functions (label_values) in the variables. */
const variables = dash.templating.list.flatMap((v) =>
  typeof v.query === 'object' && v.query && 'query' in v.query ? [String((v.query as { query: string }).query)] : [],
);
const used = new Set([...exprs, ...variables].flatMap((e) => e.match(/\btandem_[a-z0-9_]+/g) ?? []));

test('the dashboard is JSON with unique panel ids and a query in every panel', () => {
  assert.equal(dash.uid, 'tandem-overview');
  const ids = dash.panels.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length);
  for (const p of dash.panels.filter((x) => x.type !== 'row'))
    assert.ok((p.targets?.length ?? 0) > 0 && p.targets!.every((t) => t.expr.includes('tandem_')), p.title);
});

test('every metric name in the dashboard is one the renderer emits', () => {
  const known = catalogueNames();
  const unknown = [...used].filter((n) => !known.has(n));
  assert.deepEqual(unknown, []);
  // and it shows every one of them: a new family needs its panel.
  const left = Object.keys(CATALOGUE).filter((n) => ![...used].some((u) => u === n || u.startsWith(`${n}_`)));
  assert.deepEqual(left, []);
});

test('every query is valid PromQL (promtool check rules)', {
  skip: spawnSync('promtool', ['--version']).status !== 0 && 'no promtool (scripts/setup.sh installs it)',
}, () => {
  const dir = mkdtempSync(join(tmpdir(), `t12m-${process.pid}-`));
  try {
    const rules = exprs.map((e, i) => {
      const q = e.replace(/\$__rate_interval/g, '5m').replace(/\$instance/g, '.*');
      return `      - record: tandem:dashboard_query_${i}\n        expr: ${JSON.stringify(q)}`;
    });
    const path = join(dir, 'rules.yml');
    writeFileSync(path, `groups:\n  - name: dashboard\n    rules:\n${rules.join('\n')}\n`);
    const r = spawnSync('promtool', ['check', 'rules', path], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    assert.match(r.stdout, new RegExp(`SUCCESS: ${exprs.length} rules found`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
