import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { formatDiagnostic } from './diagnostics.ts';
import { loadConfig } from './load.ts';

const fixture = (name: string): string => new URL(`../../test/fixtures/yaml/${name}`, import.meta.url).pathname;
const memFs = (files: Record<string, string>) => ({
  read: (p: string) => files[p],
  glob: () => [],
});
const loadText = (text: string) => loadConfig('/etc/tandem/tandem.yaml', memFs({ '/etc/tandem/tandem.yaml': text }));
const lines = (text: string) => loadText(text).diagnostics.map(formatDiagnostic);

test('a valid two-director YAML loads with defaults filled in and no diagnostics', () => {
  const path = fixture('two-directors.yaml');
  const r = loadConfig(path, memFs({ [path]: readFileSync(path, 'utf8') }));
  assert.deepEqual(r.diagnostics, []);
  assert.ok(r.config);
  const vi1 = r.config.vrrp.instances[0]!;
  assert.equal(vi1.advert_interval, 1000);
  assert.equal(vi1.preempt, true);
  assert.deepEqual(vi1.priority, { d1: 150, d2: 100 });
  assert.equal(r.config.vrrp.instances[1]!.advert_interval, 100);
  assert.equal(r.config.vrrp.scripts.chk_web!.interval, 2000);
  assert.ok(Object.isFrozen(r.config.vrrp.instances[0]), 'config is frozen (Rule 6)');
});

test('every problem in a YAML file is reported in one run with file:line:col', () => {
  const path = fixture('three-mistakes.yaml');
  const r = loadConfig(path, memFs({ [path]: readFileSync(path, 'utf8') }));
  const got = r.diagnostics.map((d) => `${d.line}:${d.col} ${d.code} ${d.path}`);
  assert.deepEqual(got, [
    '10:17 TND_CFG_RANGE vrrp.instances[0].priority',
    '14:13 TND_CFG_VRID_CONFLICT vrrp.instances[1].vrid',
    '16:7 TND_CFG_AUTH_V3 vrrp.instances[1].auth',
    '17:31 TND_CFG_MIXED_FAMILY vrrp.instances[1].vips[1]',
  ]);
  assert.equal(r.config, undefined);
  assert.match(
    formatDiagnostic(r.diagnostics[0]!),
    /three-mistakes\.yaml:10:17 error TND_CFG_RANGE vrrp\.instances\[0\]\.priority: must be ≤ 255, got 300$/,
  );
});

test('a YAML syntax error is reported at its line', () => {
  const out = lines('vrrp:\n  instances:\n    - name: VI_1\n     interface: eth0\n');
  assert.equal(out.length >= 1, true);
  assert.match(out[0]!, /^\/etc\/tandem\/tandem\.yaml:4:\d+ error TND_CFG_SYNTAX/);
});

test('a typo in a key is an error that names the key', () => {
  const out = lines('vrrp:\n  instances:\n    - name: VI_1\n      interface: eth0\n      vrid: 1\n      priorty: 5\n');
  assert.deepEqual(out, [
    '/etc/tandem/tandem.yaml:6:7 error TND_CFG_UNKNOWN_KEY vrrp.instances[0].priorty: unknown key "priorty"',
  ]);
});

test('a bad duration and a bad address are reported at the value', () => {
  const out = lines(
    'vrrp:\n  instances:\n    - name: VI_1\n      interface: eth0\n      vrid: 1\n      advert_interval: 1x\n      vips: [198.18.0.300/24]\n',
  );
  assert.equal(out.length, 2);
  assert.match(out[0]!, /:6:24 error TND_CFG_NUMBER vrrp\.instances\[0\]\.advert_interval: advert_interval must be/);
  assert.match(out[1]!, /:7:14 error TND_CFG_ADDRESS vrrp\.instances\[0\]\.vips\[0\]: not an address/);
});

test('VRRPv2 refuses a sub-second interval; v3 takes 10 ms steps only', () => {
  const base =
    'vrrp:\n  instances:\n    - name: VI_1\n      interface: eth0\n      vrid: 1\n      vips: [198.18.0.1]\n';
  assert.match(
    lines(`${base}      version: 2\n      advert_interval: 500ms\n`)[0]!,
    /TND_CFG_INTERVAL .*whole seconds/,
  );
  assert.match(lines(`${base}      version: 3\n      advert_interval: 15ms\n`)[0]!, /TND_CFG_INTERVAL .*centiseconds/);
  assert.deepEqual(lines(`${base}      version: 3\n      advert_interval: 20ms\n`), []);
});

test('one VRID may be reused on an interface by unicast instances with disjoint peers, and across families', () => {
  const inst = (name: string, vip: string, peers?: string) =>
    `    - name: ${name}\n      interface: eth0\n      vrid: 7\n      vips: ["${vip}"]\n${peers ? `      unicast: { peers: [${peers}] }\n` : ''}`;
  assert.deepEqual(
    lines(`vrrp:\n  instances:\n${inst('A', '198.18.0.1', '198.18.0.11')}${inst('B', '198.18.0.2', '198.18.0.12')}`),
    [],
  );
  assert.deepEqual(lines(`vrrp:\n  instances:\n${inst('A', '198.18.0.1')}${inst('B', '2001:db8::1')}`), []);
  assert.equal(
    lines(`vrrp:\n  instances:\n${inst('A', '198.18.0.1', '198.18.0.11')}${inst('B', '198.18.0.2', '198.18.0.11')}`)
      .length,
    1,
  );
});

test('references: track scripts, sync group members and per-node priorities must name things that exist', () => {
  const out = lines(
    [
      'cluster: { nodes: [{ name: d1 }] }',
      'vrrp:',
      '  instances:',
      '    - name: VI_1',
      '      interface: eth0',
      '      vrid: 1',
      '      priority: { d1: 100, d9: 50 }',
      '      vips: [198.18.0.1]',
      '      track: { scripts: [{ name: chk_missing }] }',
      '  sync_groups:',
      '    - name: G',
      '      members: [VI_1, VI_9]',
      '',
    ].join('\n'),
  );
  assert.deepEqual(
    out.map((l) => l.replace(/^\S+ /, '')),
    [
      'error TND_CFG_UNKNOWN_REF vrrp.instances[0].priority.d9: no node named d9 in cluster.nodes',
      'error TND_CFG_UNKNOWN_REF vrrp.instances[0].track.scripts[0].name: no vrrp script named chk_missing',
      'error TND_CFG_UNKNOWN_REF vrrp.sync_groups[0].members[1]: no VRRP instance named VI_9',
    ],
  );
});

test('an unreadable file is one TND_CFG_IO error, not a crash', () => {
  const r = loadConfig('/nope.yaml', memFs({}));
  assert.deepEqual(
    r.diagnostics.map((d) => d.code),
    ['TND_CFG_IO'],
  );
});
