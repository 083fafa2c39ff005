import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configHash } from './hash.ts';
import { memCluster, twoNodeYaml } from './test-support.ts';

const VI_2 = '    - { name: VI_2, interface: eth0, vrid: 52, vips: [198.18.0.101/24] }';

test('an apply is prepared on every node, then committed: both store the version, write the file and reload', async () => {
  const c = memCluster(['d1', 'd2'], twoNodeYaml());
  const next = twoNodeYaml({ extra: VI_2 });
  const r = await c.get('d1')!.node.apply({ text: next, file: 'new.yaml', appliedBy: 'root@local' });
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(r.version.version, 1);
  assert.equal(r.version.hash, configHash(next));
  assert.deepEqual(
    r.nodes.map((n) => [n.node, n.outcome]),
    [
      ['d1', 'committed'],
      ['d2', 'committed'],
    ],
  );
  for (const n of c.values()) {
    assert.equal(n.file.text, next);
    assert.equal(n.reloads, 1);
    assert.deepEqual(n.node.statusFields(), { configVersion: 1, configHash: configHash(next), configDivergent: false });
  }
  const s = await c.get('d2')!.node.configStatus();
  assert.equal(s.divergent, false);
  assert.deepEqual(
    s.nodes.map((n) => [n.node, n.version]),
    [
      ['d2', 1],
      ['d1', 1],
    ],
  );
});

test('a node that refuses in prepare aborts the apply everywhere, with its own diagnostics at the line of the file', async () => {
  const start = twoNodeYaml();
  const c = memCluster(['d1', 'd2'], start, { d2: { interfaces: new Set(['lo', 'ens3']) } });
  const r = await c
    .get('d1')!
    .node.apply({ text: twoNodeYaml({ extra: VI_2 }), file: 'new.yaml', appliedBy: 'root@local' });
  assert.equal(r.ok, false);
  if (r.ok || r.reason !== 'invalid') throw new Error(JSON.stringify(r));
  assert.equal(r.node, 'd2');
  const d = r.diagnostics as { file: string; line: number; code: string; path: string; message: string }[];
  assert.deepEqual(
    d.map((x) => `${x.file}:${x.line} ${x.code} ${x.path}`),
    [
      'new.yaml:7 TND_HOST_INTERFACE vrrp.instances[0].interface',
      'new.yaml:8 TND_HOST_INTERFACE vrrp.instances[1].interface',
    ],
  );
  assert.match(d[0]!.message, /on d2: no interface eth0 on this host \(it has ens3, lo\)/);
  for (const n of c.values()) {
    assert.equal(n.file.text, start, `${n.name} unchanged`);
    assert.equal(n.reloads, 0);
    assert.equal(n.files.files.has('staged.json'), false, `${n.name} unstaged`);
    assert.equal(n.node.history(10).length, 0);
  }
});

test('a config with a syntax error is refused by the coordinator itself, with tandem check’s diagnostic', async () => {
  const c = memCluster(['d1', 'd2'], twoNodeYaml());
  const r = await c.get('d1')!.node.apply({ text: 'vrrp: [\n', file: 'broken.yaml', appliedBy: 'x' });
  assert.ok(!r.ok && r.reason === 'invalid');
  assert.match(JSON.stringify(r.diagnostics), /TND_CFG_SYNTAX/);
  assert.deepEqual([...new Set(r.refusals.map((x) => x.node))].sort(), ['d1', 'd2']);
});

test('expected is checked: an apply started from an older version is a conflict and changes nothing', async () => {
  const c = memCluster(['d1', 'd2'], twoNodeYaml());
  const d1 = c.get('d1')!.node;
  assert.ok((await d1.apply({ text: twoNodeYaml({ extra: VI_2 }), file: 'a', appliedBy: 'x', expected: 0 })).ok);
  const r = await c.get('d2')!.node.apply({ text: twoNodeYaml(), file: 'b', appliedBy: 'y', expected: 0 });
  assert.ok(!r.ok && r.reason === 'conflict' && r.current === 1);
  assert.equal(c.get('d2')!.file.text, twoNodeYaml({ extra: VI_2 }));
});

test('a node down during an apply is left to catch up; when it returns it takes the newest version', async () => {
  const c = memCluster(['d1', 'd2'], twoNodeYaml());
  const d2 = c.get('d2')!;
  d2.up = false;
  const next = twoNodeYaml({ extra: VI_2 });
  const r = await c.get('d1')!.node.apply({ text: next, file: 'n', appliedBy: 'x' });
  assert.ok(r.ok);
  assert.deepEqual(
    r.nodes.map((n) => n.outcome),
    ['committed', 'unreachable'],
  );
  assert.ok(!(await c.get('d1')!.node.apply({ text: next, file: 'n', appliedBy: 'x', requireAll: true })).ok);
  const before = await c.get('d1')!.node.configStatus();
  assert.equal(before.unreachable, 1);
  d2.up = true;
  assert.equal((await c.get('d1')!.node.configStatus()).divergent, true);
  await d2.node.syncOnce();
  assert.equal(d2.file.text, next);
  assert.equal(d2.reloads, 1);
  assert.equal(d2.node.statusFields().configVersion, 1);
  assert.equal((await c.get('d1')!.node.configStatus()).divergent, false);
});

test('a catch-up that does not fit this host is refused and the node keeps its config (and says it diverges)', async () => {
  const c = memCluster(['d1', 'd2'], twoNodeYaml(), {});
  const d2 = c.get('d2')!;
  d2.up = false;
  // d2's address is wrong in the new file; d1 accepts it while d2 is away.
  const next = twoNodeYaml({ d2Address: '198.18.0.99' });
  assert.ok((await c.get('d1')!.node.apply({ text: next, file: 'n', appliedBy: 'x' })).ok);
  d2.up = true;
  await d2.node.syncOnce();
  assert.equal(d2.file.text, twoNodeYaml());
  assert.equal(d2.node.statusFields().configDivergent, true);
});

test('history keeps the last N versions; rollback applies an old text again as a new version on every node', async () => {
  const c = memCluster(['d1', 'd2'], twoNodeYaml());
  const d1 = c.get('d1')!.node;
  const texts = [
    twoNodeYaml({ extra: VI_2 }),
    twoNodeYaml(),
    twoNodeYaml({ extra: VI_2.replace('52', '53') }),
    twoNodeYaml({ extra: VI_2.replace('52', '54') }),
  ];
  for (const t of texts) assert.ok((await d1.apply({ text: t, file: 'f', appliedBy: 'x' })).ok);
  assert.deepEqual(
    d1.history(10).map((v) => v.version),
    [4, 3, 2],
  );
  const r = await c.get('d2')!.node.rollback(2, 'root@local');
  assert.ok(r.ok && r.version.version === 5 && r.version.appliedBy === 'root@local (rollback to 2)');
  for (const n of c.values()) assert.equal(n.file.text, texts[1]);
  const missing = await d1.rollback(1, 'x');
  assert.ok(!missing.ok && missing.reason === 'missing');
});

test('the peer routes answer only a client with a cluster certificate naming a node of the cluster', async () => {
  const c = memCluster(['d1', 'd2'], twoNodeYaml());
  const d1 = c.get('d1')!.node;
  assert.equal((await d1.handle({ method: 'GET', path: '/peer/v1/head', body: undefined, from: 'x' })).status, 401);
  assert.equal(
    (await d1.handle({ method: 'GET', path: '/peer/v1/head', body: undefined, peer: 'mallory', from: 'x' })).status,
    401,
  );
  assert.equal(
    (await d1.handle({ method: 'GET', path: '/peer/v1/head', body: undefined, peer: 'd2', from: 'x' })).status,
    200,
  );
  // A commit of a version never prepared here is refused.
  const r = await d1.handle({
    method: 'POST',
    path: '/peer/v1/commit',
    body: { version: 9, hash: 'sha256:00' },
    peer: 'd2',
    from: 'x',
  });
  assert.deepEqual(r.body, { ok: false, message: 'version 9 is not the one prepared here' });
});

test('diff gives the unified text diff and the per-kind summary against the running config', () => {
  const c = memCluster(['d1'], twoNodeYaml());
  const d = c.get('d1')!.node.diff(twoNodeYaml({ extra: VI_2 }), 'editor');
  assert.match(d.unified, /^--- \/etc\/tandem\/d1\.yaml\n\+\+\+ editor\n@@ -5,3 \+5,4 @@\n/);
  assert.match(d.unified, /\n\+ {4}- \{ name: VI_2/);
  assert.deepEqual(d.summary?.instances, { kept: ['VI_1'], changed: [], added: ['VI_2'], removed: [] });
});
