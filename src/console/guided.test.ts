import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../config/load.ts';
import { defaultForm, guidedYaml, scalar } from './guided.ts';

const load = (text: string) =>
  loadConfig('guided.yaml', { read: (p) => (p === 'guided.yaml' ? text : undefined), glob: () => [] }, 'yaml');

test('the guided form writes a config that tandem check accepts, with both routers and the real servers', () => {
  const r = load(guidedYaml(defaultForm()));
  assert.deepEqual(
    r.diagnostics.filter((d) => d.severity === 'error'),
    [],
  );
  const text = guidedYaml(defaultForm());
  assert.match(text, /priority: \{ d1: 150, d2: 100 \}/);
  assert.match(text, /- \{ address: 198\.18\.0\.22, weight: 1 \}/);
});

test('a wrong value in the form is a diagnostic on its line, not a YAML structure', () => {
  const f = defaultForm();
  f.vrid = '300';
  f.realServers[0]!.address = 'x: [evil]';
  const text = guidedYaml(f);
  const lines = text.split('\n');
  const r = load(text);
  const vrid = r.diagnostics.find((d) => d.path.includes('vrid'));
  assert.ok(vrid, JSON.stringify(r.diagnostics));
  assert.match(lines[vrid.line - 1]!, /vrid: 300/);
  assert.ok(
    r.diagnostics.some((d) => lines[d.line - 1]!.includes('"x: [evil]"')),
    JSON.stringify(r.diagnostics),
  );
});

test('scalar quotes what YAML would read as something else', () => {
  assert.equal(scalar('eth0'), 'eth0');
  assert.equal(scalar('yes'), '"yes"');
  assert.equal(scalar('a: b'), '"a: b"');
  assert.equal(scalar('-x'), '"-x"');
  assert.equal(scalar('say "hi"'), '"say \\"hi\\""');
});
