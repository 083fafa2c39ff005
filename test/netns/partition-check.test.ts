// The partition checker's arithmetic on hand-made event lists (no lab, no root): overlaps, gaps, false failovers,
// takeover times, and the parsing of `ip -ts monitor address` lines as iproute2 6.1 prints them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeRun, parseMonitorLine } from './partition-check.ts';

const ev = (t: number, host: string, op: 'add' | 'del') => ({ t, host, op });
const base = { from: 0, to: 10_000, master: 'd1', faults: [], faultAt: null, graceMs: 0 };

test('a backup taking the VIP while the master keeps it: two holders until the backup drops it, one false failover', () => {
  const r = analyzeRun({
    ...base,
    faultAt: 1_500,
    initial: ['d1'],
    events: [ev(2_000, 'd2', 'add'), ev(7_500, 'd2', 'del')],
  });
  assert.deepEqual(r, { twoHoldersMs: 5_500, noneMs: 0, falseFailovers: 1, takeoverMs: 500 });
});

test('a takeover inside a fault window is no false failover; its delay is measured from the fault', () => {
  const r = analyzeRun({
    ...base,
    initial: ['d1'],
    faults: [{ from: 1_000, to: 10_000 }],
    faultAt: 1_000,
    events: [ev(1_000.5, 'd1', 'del'), ev(1_361.25, 'd2', 'add')],
  });
  assert.deepEqual(r, { twoHoldersMs: 0, noneMs: 360.75, falseFailovers: 0, takeoverMs: 361.25 });
});

test('the grace after a fault window covers the settling; a takeover after it is false', () => {
  const events = [ev(3_200, 'd2', 'add'), ev(3_300, 'd2', 'del')];
  const faults = [{ from: 1_000, to: 3_000 }];
  assert.equal(analyzeRun({ ...base, initial: ['d1'], faults, graceMs: 500, events }).falseFailovers, 0);
  assert.equal(analyzeRun({ ...base, initial: ['d1'], faults, graceMs: 100, events }).falseFailovers, 1);
});

test('a repeated add of an address already held is no transition; the master regaining it is no failover', () => {
  const r = analyzeRun({
    ...base,
    initial: ['d1'],
    events: [ev(1_000, 'd1', 'add'), ev(2_000, 'd1', 'del'), ev(2_400, 'd1', 'add')],
  });
  assert.deepEqual(r, { twoHoldersMs: 0, noneMs: 400, falseFailovers: 0, takeoverMs: null });
});

test('no holder at all from the start counts the whole window as none; events outside it are ignored', () => {
  const r = analyzeRun({
    ...base,
    initial: [],
    events: [ev(-5, 'd2', 'add'), ev(10_001, 'd2', 'add')],
  });
  assert.deepEqual(r, { twoHoldersMs: 0, noneMs: 10_000, falseFailovers: 0, takeoverMs: null });
});

test('events given out of order (one monitor per host) are sorted by time', () => {
  const r = analyzeRun({
    ...base,
    initial: ['d1'],
    events: [ev(4_000, 'd2', 'del'), ev(3_000, 'd1', 'del'), ev(1_000, 'd2', 'add')],
  });
  assert.deepEqual(r, { twoHoldersMs: 2_000, noneMs: 6_000, falseFailovers: 1, takeoverMs: null });
});

test('ip -ts monitor lines: microsecond timestamps in local time, Deleted for removals, other addresses ignored', () => {
  const add = parseMonitorLine(
    '[2026-12-03T19:02:21.832575] 2: eth0    inet 198.18.0.100/24 scope global eth0',
    '198.18.0.100',
  );
  assert.deepEqual(add, { t: new Date(2026, 11, 3, 19, 2, 21).getTime() + 832.575, op: 'add' });
  const del = parseMonitorLine(
    '[2026-12-03T19:02:21.834382] Deleted 2: eth0    inet 198.18.0.100/24 scope global secondary eth0',
    '198.18.0.100',
  );
  assert.equal(del?.op, 'del');
  assert.equal(
    parseMonitorLine('[2026-12-03T19:02:21.834382] 2: eth0    inet 198.18.0.10/24 scope', '198.18.0.100'),
    null,
  );
  assert.equal(parseMonitorLine('       valid_lft forever preferred_lft forever', '198.18.0.100'), null);
});
