import assert from 'node:assert/strict';
import { test } from 'node:test';
import { instanceConfig } from '../sim/fixtures.ts';
import { type InstanceState, initialState, step, type VrrpInput } from './machine.ts';
import { groupState, type SyncChange, type SyncMemberView, syncGroupInputs, syncMemberView } from './sync-group.ts';
import type { InstanceConfig, VrrpState } from './types.ts';

const view = (name: string, state: VrrpState, trackerFault = false, syncFault = false): SyncMemberView => ({
  name,
  state,
  trackerFault,
  syncFault,
});
const orders = (members: SyncMemberView[], change?: SyncChange) =>
  syncGroupInputs(members, change).map((o) => `${o.member}:${o.input.to}`);

test('keepalived: "Syncing instances to FAULT state" — one member faulted puts every other member in FAULT', () => {
  const members = [view('VI_1', 'FAULT', true), view('VI_2', 'MASTER'), view('VI_3', 'BACKUP')];
  assert.deepEqual(orders(members, { member: 'VI_1', from: 'MASTER', to: 'FAULT', cause: 'tracker-fault' }), [
    'VI_2:FAULT',
    'VI_3:FAULT',
  ]);
});

test('keepalived: the group leaves FAULT only when no member is faulted on its own', () => {
  // VI_1 recovered on its own, but VI_2 is still faulted: VI_1 must be held, VI_3 stays held, and VI_2 (down on its
  // own account) is no longer held by anyone.
  const stillFaulted = [view('VI_1', 'BACKUP'), view('VI_2', 'FAULT', true, true), view('VI_3', 'FAULT', false, true)];
  assert.deepEqual(orders(stillFaulted), ['VI_1:FAULT', 'VI_2:BACKUP']);
  // Nobody is faulted on its own any more: release every held member.
  const clear = [view('VI_1', 'FAULT', false, true), view('VI_2', 'BACKUP'), view('VI_3', 'FAULT', false, true)];
  assert.deepEqual(orders(clear), ['VI_1:BACKUP', 'VI_3:BACKUP']);
});

test('keepalived: a member faulted on its own is also held, so it stays down while another member is faulted', () => {
  const both = [view('VI_1', 'FAULT', true, false), view('VI_2', 'FAULT', true, true)];
  assert.deepEqual(orders(both), ['VI_1:FAULT']);
});

test('keepalived TSM MASTER → BACKUP: "Syncing instances to BACKUP state" — the other masters follow', () => {
  const members = [view('VI_1', 'BACKUP'), view('VI_2', 'MASTER'), view('VI_3', 'BACKUP')];
  assert.deepEqual(orders(members, { member: 'VI_1', from: 'MASTER', to: 'BACKUP', cause: 'higher-priority' }), [
    'VI_2:BACKUP',
  ]);
});

test('keepalived TSM → MASTER: "Syncing instances to MASTER state" — the other backups follow', () => {
  const members = [view('VI_1', 'MASTER'), view('VI_2', 'BACKUP'), view('VI_3', 'MASTER')];
  assert.deepEqual(orders(members, { member: 'VI_1', from: 'BACKUP', to: 'MASTER', cause: 'master-down' }), [
    'VI_2:MASTER',
  ]);
});

test('transitions ordered by the group itself do not cascade', () => {
  const members = [view('VI_1', 'MASTER'), view('VI_2', 'BACKUP')];
  assert.deepEqual(orders(members, { member: 'VI_1', from: 'BACKUP', to: 'MASTER', cause: 'sync-group' }), []);
});

test('the group state is the most severe member state: FAULT over BACKUP over MASTER', () => {
  assert.equal(groupState([view('a', 'MASTER'), view('b', 'BACKUP')]), 'BACKUP');
  assert.equal(groupState([view('a', 'MASTER'), view('b', 'MASTER')]), 'MASTER');
  assert.equal(groupState([view('a', 'MASTER'), view('b', 'FAULT')]), 'FAULT');
  assert.equal(groupState([view('a', 'BACKUP', true), view('b', 'BACKUP')]), 'FAULT');
  assert.equal(groupState([view('a', 'INIT'), view('b', 'INIT')]), 'INIT');
});

/** Runs members through the real reducer, settling the group after each step as the driver does. */
function runGroup(cfgs: InstanceConfig[]) {
  const states = new Map<string, InstanceState>(cfgs.map((c) => [c.name, initialState(c)]));
  const cfgOf = (n: string) => cfgs.find((c) => c.name === n) as InstanceConfig;
  const log: string[] = [];
  const feed = (member: string, input: VrrpInput, now: number): void => {
    const r = step(cfgOf(member), states.get(member) as InstanceState, input, now);
    states.set(member, r.state);
    let change: SyncChange | undefined;
    for (const e of r.effects) {
      if (e.kind === 'transition') {
        change = { member, from: e.from, to: e.to, cause: e.cause };
        log.push(`${member} ${e.from}→${e.to} ${e.cause}`);
      }
    }
    const views = [...states].map(([n, s]) => syncMemberView(n, s));
    for (const o of syncGroupInputs(views, change)) feed(o.member, o.input, now);
  };
  return { states, feed, log };
}

test('sync group through the reducer: a fault, a second fault, and recovery in either order leave no member behind', () => {
  const cfgs = ['VI_1', 'VI_2', 'VI_3'].map((name, i) =>
    instanceConfig({ name, vrid: 51 + i, trackers: [{ id: 'chk', weight: 0 }] }),
  );
  const g = runGroup(cfgs);
  for (const c of cfgs) g.feed(c.name, { kind: 'startup', primaryAddr: '10.0.0.1' }, 0);
  g.feed('VI_1', { kind: 'timer', timer: 'masterDown' }, 3609);
  assert.deepEqual(
    [...g.states.values()].map((s) => s.state),
    ['MASTER', 'MASTER', 'MASTER'],
  );
  g.feed('VI_2', { kind: 'tracker', id: 'chk', up: false }, 5000);
  assert.deepEqual(
    [...g.states.values()].map((s) => s.state),
    ['FAULT', 'FAULT', 'FAULT'],
  );
  g.feed('VI_3', { kind: 'tracker', id: 'chk', up: false }, 6000);
  const before = g.log.length;
  g.feed('VI_2', { kind: 'tracker', id: 'chk', up: true }, 7000);
  assert.deepEqual(g.log.slice(before), [], 'VI_2 recovers on its own but stays held: no flapping');
  g.feed('VI_3', { kind: 'tracker', id: 'chk', up: true }, 8000);
  assert.deepEqual(
    [...g.states.values()].map((s) => s.state),
    ['BACKUP', 'BACKUP', 'BACKUP'],
  );
});
