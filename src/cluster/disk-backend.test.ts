import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConfigVersion } from './backend.ts';
import { DiskConfigBackend } from './disk-backend.ts';
import { memCluster, twoNodeYaml } from './test-support.ts';

test('the disk backend: publish is the two-phase apply; current, history and watch see it on every node', async () => {
  const c = memCluster(['d1', 'd2'], twoNodeYaml());
  const b1 = new DiskConfigBackend(c.get('d1')!.node);
  const b2 = new DiskConfigBackend(c.get('d2')!.node);
  const seen: ConfigVersion[] = [];
  const ac = new AbortController();
  b2.watch((v) => seen.push(v), ac.signal);
  assert.equal(await b1.current(), undefined);
  const next = twoNodeYaml({ extra: '    - { name: VI_2, interface: eth0, vrid: 52, vips: [198.18.0.101/24] }' });
  const r = await b1.publish(next, { format: 'yaml', appliedBy: 'root@local' }, 0);
  assert.ok(r.ok);
  assert.equal((await b2.current())?.version, 1);
  assert.deepEqual(
    seen.map((v) => v.version),
    [1],
  );
  const race = await b2.publish(twoNodeYaml(), { format: 'yaml', appliedBy: 'x' }, 0);
  assert.deepEqual(race, { ok: false, reason: 'conflict', current: 1 });
  const bad = await b2.publish(twoNodeYaml({ iface: 'eth9' }), { format: 'yaml', appliedBy: 'x' }, 1);
  assert.ok(!bad.ok && bad.reason === 'invalid' && bad.node === 'd2');
  ac.abort();
  assert.ok((await b1.publish(twoNodeYaml(), { format: 'yaml', appliedBy: 'x' }, 1)).ok);
  assert.deepEqual(
    seen.map((v) => v.version),
    [1],
    'no calls after abort',
  );
  assert.deepEqual(
    (await b2.history(5)).map((v) => v.version),
    [2, 1],
  );
});
