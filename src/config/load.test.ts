import assert from 'node:assert/strict';
import { test } from 'node:test';
import { memoryFs } from './import/memory-fs.ts';
import { loadConfig, MAX_ALIAS_COUNT } from './load.ts';

const BOMB = `a: &a [x, x, x, x, x, x, x, x, x]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
`;

test('regression: a YAML alias bomb is a TND_CFG_SYNTAX diagnostic at the first alias, not a thrown ReferenceError', () => {
  const r = loadConfig('/etc/tandem/bomb.yaml', memoryFs({ '/etc/tandem/bomb.yaml': BOMB }));
  assert.equal(r.config, undefined);
  assert.deepEqual(
    r.diagnostics.map((d) => [d.line, d.severity, d.code]),
    [[2, 'error', 'TND_CFG_SYNTAX']],
  );
  assert.match(r.diagnostics[0]!.message, new RegExp(`more than ${MAX_ALIAS_COUNT} alias uses`));
});

test('a few aliases (a YAML anchor reused for shared settings) still load', () => {
  const text = `lb:
  services:
    - { name: a, vip: 198.18.0.100, port: 80, check: &d { type: tcp, interval: 1s }, real_servers: [{ address: 198.18.0.21 }] }
    - { name: b, vip: 198.18.0.100, port: 81, check: *d, real_servers: [{ address: 198.18.0.21 }] }
`;
  const r = loadConfig('/t.yaml', memoryFs({ '/t.yaml': text }));
  assert.deepEqual(
    r.diagnostics.filter((d) => d.severity === 'error'),
    [],
  );
});

test('loadConfig never throws: a reader that fails unexpectedly becomes TND_CFG_INTERNAL on that file', () => {
  const fs = {
    read: () => {
      throw new Error('disk on fire');
    },
    glob: (p: string) => [p],
  };
  const r = loadConfig('/etc/keepalived/keepalived.conf', fs as never);
  assert.equal(r.config, undefined);
  const internal = r.diagnostics.filter((d) => d.code === 'TND_CFG_INTERNAL');
  assert.equal(internal.length, 1, JSON.stringify(r.diagnostics));
  assert.equal(internal[0]!.file, '/etc/keepalived/keepalived.conf');
  assert.match(internal[0]!.message, /disk on fire/);
});
