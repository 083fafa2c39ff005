import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Diagnostic } from '../diagnostics.ts';
import { readYaml } from '../load.ts';
import { validateConfig } from '../validate.ts';
import { type ImportNote, renderImportYaml, SourceMap, sortByPlace } from './to-yaml.ts';

const F = '/etc/ha.d/ha.cf';
const pos = (line: number, col = 1) => ({ file: F, line, col });

/** A small native config and its source map. */
function sample() {
  const map = new SourceMap(F);
  const raw = {
    cluster: { nodes: [{ name: 'n1' }, { name: 'n2' }] },
    vrrp: {
      instances: [
        {
          name: 'VI_1',
          interface: 'eth0',
          vrid: 1,
          version: 3,
          advert_interval: 1500,
          preempt_delay: 60_000,
          down_timer_adverts: 20,
          vips: ['198.18.0.10/24'],
        },
      ],
      scripts: { __proto__: { command: 'true', interval: 2000 } } as Record<string, unknown>,
    },
    groups: [],
  };
  // A key named __proto__ must stay data (JSON.parse makes it an own property, as a reader does).
  raw.vrrp.scripts = JSON.parse('{"__proto__":{"command":"true","interval":2000}}');
  map.record(['cluster', 'nodes', 0], pos(5), 'ha.cf: node');
  map.record(['cluster', 'nodes', 1], pos(6), 'ha.cf: node');
  map.record(['vrrp', 'instances', 0], pos(1), 'haresources: 198.18.0.10');
  map.record(['vrrp', 'instances', 0, 'interface'], pos(3, 7), 'ha.cf: bcast');
  map.record(['vrrp', 'instances', 0, 'advert_interval'], pos(2, 11), 'ha.cf: keepalive');
  map.record(['vrrp', 'instances', 0, 'vips'], pos(1), 'haresources: 198.18.0.10');
  return { raw, map };
}

const render = (notCarried: (Diagnostic | ImportNote)[] = []) => {
  const { raw, map } = sample();
  return renderImportYaml({ raw, locator: map.locator(), format: 'heartbeat', files: [F], notCarried });
};

test('each block whose source line differs from its parent is preceded by "from FILE:LINE (label)"', () => {
  const y = render();
  assert.match(y, /\n {4}# from \/etc\/ha\.d\/ha\.cf:5 \(ha\.cf: node\)\n {4}- name: n1\n/);
  assert.match(y, /\n {4}# from \/etc\/ha\.d\/ha\.cf:1 \(haresources: 198\.18\.0\.10\)\n {4}- name: VI_1\n/);
  // A value from another line carries its line after it; one from the block's own line, or unrecorded, carries none.
  assert.match(y, /\n {6}interface: eth0 # \/etc\/ha\.d\/ha\.cf:3\n/);
  assert.match(y, /\n {6}vrid: 1\n/);
  assert.match(y, /\n {6}vips:\n {8}- 198\.18\.0\.10\/24\n/);
  // Top-level sections and paths nobody recorded get no comment.
  assert.match(y, /\ncluster:\n {2}nodes:\n/);
  assert.doesNotMatch(y, /\(cluster/);
});

test('durations are written with units and read back to the same milliseconds; empty sections are left out', () => {
  const y = render();
  assert.match(y, /advert_interval: 1\.5s # /);
  assert.match(y, /preempt_delay: 1m\n/);
  assert.match(y, /down_timer_adverts: 20\n/, 'a count is not a duration');
  assert.match(y, /interval: 2s\n/);
  assert.doesNotMatch(y, /groups:/);
  const back = readYaml('/out.yaml', y);
  assert.deepEqual(back.diagnostics, []);
  const v = validateConfig(back.raw, back.locator);
  assert.ok(v.config, JSON.stringify(v.diagnostics));
  assert.equal(v.config.vrrp.instances[0]!.advert_interval, 1500);
  assert.equal(v.config.vrrp.instances[0]!.preempt_delay, 60_000);
  assert.equal(Object.hasOwn((back.raw as { vrrp: { scripts: object } }).vrrp.scripts, '__proto__'), true);
});

test('the header names the sources; the closing block lists each left-out setting with file:line:col and why', () => {
  const notes: ImportNote[] = [{ ...pos(9), code: 'TND_CFG_NOT_CARRIED', path: 'ha.cf: udpport', message: 'no UDP' }];
  const warnings: Diagnostic[] = [
    { ...pos(4), severity: 'warning', code: 'TND_CFG_UNSUPPORTED', path: 'ha.cf: ping', message: 'ping\nnodes' },
  ];
  const y = render(sortByPlace([...notes, ...warnings]));
  assert.match(y, /^# tandem configuration imported by `tandem import` from heartbeat: \/etc\/ha\.d\/ha\.cf\n/);
  assert.match(
    y,
    /\n# Not carried over, or carried over with a change \(2\):\n# {3}\/etc\/ha\.d\/ha\.cf:4:1 TND_CFG_UNSUPPORTED ha\.cf: ping: ping nodes\n# {3}\/etc\/ha\.d\/ha\.cf:9:1 TND_CFG_NOT_CARRIED ha\.cf: udpport: no UDP\n$/,
  );
  assert.doesNotMatch(render(), /Not carried over/);
});

test('a source map answers with the deepest recorded place, and the start of the entry file when none', () => {
  const { map } = sample();
  const loc = map.locator();
  assert.deepEqual(loc.locate(['vrrp', 'instances', 0, 'vips', 0]), { pos: pos(1), label: 'haresources: 198.18.0.10' });
  assert.deepEqual(loc.locate(['lb', 'services']), { pos: pos(1), label: 'lb.services' });
  assert.equal(map.has(['vrrp', 'instances', 0]), true);
  assert.equal(map.has(['vrrp', 'instances', 1]), false);
  assert.deepEqual(
    sortByPlace([
      { file: 'b', line: 1, col: 1 },
      { file: 'a', line: 2, col: 5 },
      { file: 'a', line: 2, col: 1 },
    ]),
    [
      { file: 'a', line: 2, col: 1 },
      { file: 'a', line: 2, col: 5 },
      { file: 'b', line: 1, col: 1 },
    ],
  );
});
