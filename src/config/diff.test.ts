import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffConfig, isEmptyDiff } from './diff.ts';
import { memoryFs } from './import/memory-fs.ts';
import { loadConfig } from './load.ts';
import type { TandemConfig } from './schema.ts';

const load = (text: string): TandemConfig => {
  const r = loadConfig('/t.yaml', memoryFs({ '/t.yaml': text }));
  assert.ok(r.config, JSON.stringify(r.diagnostics));
  return r.config;
};

const BASE = `vrrp:
  instances:
    - { name: VI_1, interface: eth0, vrid: 51, priority: 100, vips: [198.18.0.100/24] }
    - { name: VI_2, interface: eth0, vrid: 52, priority: 100, vips: [198.18.0.101/24] }
`;

test('diffConfig names what a reload keeps, changes, adds and removes, per kind', () => {
  const next = load(`vrrp:
  instances:
    - { name: VI_1, interface: eth0, vrid: 51, priority: 100, vips: [198.18.0.100/24] }
    - { name: VI_2, interface: eth0, vrid: 52, priority: 120, vips: [198.18.0.101/24] }
    - { name: VI_3, interface: eth0, vrid: 53, priority: 100, vips: [198.18.0.102/24] }
`);
  const d = diffConfig(load(BASE), next);
  assert.deepEqual(d.instances, { kept: ['VI_1'], changed: ['VI_2'], added: ['VI_3'], removed: [] });
  assert.equal(isEmptyDiff(d), false);
});

test('the same config written with its keys in another order is an empty diff', () => {
  const reordered = load(`vrrp:
  instances:
    - { vips: [198.18.0.100/24], priority: 100, vrid: 51, interface: eth0, name: VI_1 }
    - { priority: 100, name: VI_2, vrid: 52, interface: eth0, vips: [198.18.0.101/24] }
`);
  assert.ok(isEmptyDiff(diffConfig(load(BASE), reordered)));
});
