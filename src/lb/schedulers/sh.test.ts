import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientSlot, pickSh, SH_DEFAULT_SLOTS } from './sh.ts';
import type { SchedBackend, TableState } from './types.ts';

const backends: SchedBackend[] = [
  { key: '10.0.0.1:80', weight: 1 },
  { key: '10.0.0.2:80', weight: 2 },
  { key: '10.0.0.3:80', weight: 1 },
];
const client = (i: number) => ({ addr: `198.51.${i >> 8}.${i & 255}` });

test('sh: one client always lands on one backend while the backend set is unchanged', () => {
  let state: TableState = null;
  for (let i = 0; i < 50; i++) {
    const first = pickSh({ backends, state, client: client(i) });
    state = first.state;
    for (let again = 0; again < 3; again++) {
      assert.equal(pickSh({ backends, state, client: client(i) }).index, first.index);
      assert.equal(pickSh({ backends, state: null, client: client(i) }).index, first.index, 'fresh table, same answer');
    }
  }
});

test('sh spreads many clients in proportion to the weights over a 256-slot table', () => {
  let state: TableState = null;
  const hits = [0, 0, 0];
  for (let i = 0; i < 20_000; i++) {
    const r = pickSh({ backends, state, client: client(i) });
    state = r.state;
    hits[r.index ?? 0] = (hits[r.index ?? 0] ?? 0) + 1;
  }
  assert.equal(state?.table.length, SH_DEFAULT_SLOTS);
  assert.ok(Math.abs((hits[1] ?? 0) / 20_000 - 0.5) < 0.05, `${hits}`);
  assert.ok(Math.abs((hits[0] ?? 0) / 20_000 - 0.25) < 0.05, `${hits}`);
});

test('sh with sh-port hashes the client port too; without a client it picks nothing', () => {
  assert.notEqual(clientSlot({ addr: '198.51.100.1', port: 1 }, 65_536), clientSlot({ addr: '198.51.100.1' }, 65_536));
  assert.equal(pickSh({ backends, state: null }).index, null);
  assert.equal(pickSh({ backends: [{ key: 'a', weight: 0 }], state: null, client: client(1) }).index, null);
});

test('sh caches its table per backend set and rebuilds it when a weight changes', () => {
  const r1 = pickSh({ backends, state: null, client: client(1) });
  const r2 = pickSh({ backends, state: r1.state, client: client(2) });
  assert.equal(r2.state, r1.state);
  const changed = backends.map((b, i) => (i === 0 ? { ...b, weight: 0 } : b));
  const r3 = pickSh({ backends: changed, state: r1.state, client: client(1) });
  assert.notEqual(r3.state, r1.state);
  assert.ok(!r3.state?.table.includes(0));
});
