import assert from 'node:assert/strict';
import { test } from 'node:test';
import { combineResults, guardMessage, type PathResult } from './takeover-guard.ts';

const A = '198.18.0.11';
const B = '198.18.1.11';
const peer = (state: 'MASTER' | 'BACKUP' | 'FAULT' | 'absent', priority = 150): PathResult => ({
  path: 'peer',
  addr: A,
  outcome: 'answer',
  answer: { state, priority, vipsHeld: state === 'MASTER', node: 'd1' },
});
const icmp = (outcome: 'reply' | 'timeout' | 'unreachable' | 'error', addr = A): PathResult => ({
  path: 'icmp',
  addr,
  outcome,
  detail: outcome,
});
const tcp = (outcome: 'open' | 'refused' | 'timeout', port = 80): PathResult => ({
  path: 'tcp',
  addr: A,
  port,
  outcome,
  detail: outcome,
});
const peerFail = (outcome: 'refused' | 'timeout' | 'error'): PathResult => ({
  path: 'peer',
  addr: A,
  outcome,
  detail: outcome,
});

test('the peer channel saying MASTER is alive at once, whatever else is pending or says', () => {
  const v = combineResults([icmp('timeout'), peer('MASTER')], false);
  assert.equal(v?.verdict, 'alive');
  assert.deepEqual(v?.via, ['peer channel']);
  assert.match(v!.detail, /d1 \(198\.18\.0\.11\) answers MASTER at priority 150/);
});

test('the peer channel saying BACKUP is not master, with the remote priority for the election, even if it pings', () => {
  const v = combineResults([icmp('reply'), peer('BACKUP', 120)], false);
  assert.equal(v?.verdict, 'not-master');
  assert.deepEqual(v?.remote, { priority: 120, addr: A });
  const absent = combineResults([peer('absent')], false);
  assert.equal(absent?.verdict, 'not-master');
  assert.equal(absent?.remote, undefined, 'a node that does not run the instance does not compete');
});

test('a keepalived master (no peer channel): an ICMP reply or an open service port is alive', () => {
  assert.deepEqual(combineResults([icmp('reply')], false)?.via, ['icmp']);
  const both = combineResults([icmp('timeout'), tcp('open'), icmp('reply', B)], true);
  assert.equal(both?.verdict, 'alive');
  assert.deepEqual(both?.via, ['tcp:80', 'icmp']);
});

test('an ICMP or service answer waits for a peer channel query still out: the peer channel outranks them', () => {
  assert.equal(combineResults([icmp('reply'), tcp('open')], false, { peer: true }), null);
  assert.equal(combineResults([icmp('reply'), peer('FAULT')], false)?.verdict, 'not-master');
  assert.equal(
    combineResults([icmp('reply'), peerFail('timeout')], true)?.verdict,
    'alive',
    'a frozen tandem on a live host',
  );
});

const vip = (outcome: 'reply' | 'timeout'): PathResult => ({
  path: 'vip',
  addr: '198.18.0.100',
  outcome,
  detail: outcome,
});

test('the VIP probe: a master that pings but holds nothing (nobody answers for the VIP) does not hold the backup back', () => {
  assert.equal(combineResults([icmp('reply')], false, { vip: true }), null, 'wait for the VIP probe');
  const free = combineResults([icmp('reply'), vip('timeout')], true);
  assert.equal(free?.verdict, 'not-master');
  assert.match(free!.detail, /nobody answers for 198\.18\.0\.100: the old master does not hold it/);
  assert.equal(combineResults([icmp('reply'), vip('reply')], false)?.verdict, 'alive');
  // the master unreachable, but the address answers: taking over would make two holders
  const held = combineResults([icmp('timeout'), vip('reply')], true);
  assert.deepEqual([held?.verdict, held?.via], ['alive', ['vip']]);
  assert.equal(combineResults([icmp('timeout'), vip('timeout')], true)?.verdict, 'unconfirmed');
});

test('nothing decisive yet: wait for the other probes', () => {
  assert.equal(combineResults([icmp('timeout'), tcp('refused')], false), null);
  assert.equal(combineResults([], false), null);
});

test('every probe refused is dead (confirmed): the host is up and nothing serves', () => {
  const v = combineResults([tcp('refused'), tcp('refused', 443), icmp('unreachable')], true);
  assert.equal(v?.verdict, 'dead');
  assert.match(v!.detail, /every probe refused/);
});

test('a timeout anywhere without an alive answer is unconfirmed: the case fencing is for', () => {
  const v = combineResults([tcp('refused'), icmp('timeout'), peerFail('timeout')], true);
  assert.equal(v?.verdict, 'unconfirmed');
  assert.match(v!.detail, /no answer: icmp 198\.18\.0\.11, peer channel 198\.18\.0\.11/);
  assert.equal(combineResults([], true)?.verdict, 'unconfirmed');
  assert.match(combineResults([icmp('error')], true)!.detail, /errors: icmp error/);
});

test('tandem not running on a host that pings (peer channel refused): not master; with the service port open: alive', () => {
  assert.equal(combineResults([peerFail('refused'), icmp('reply')], false), null, 'wait: a port may still answer');
  assert.equal(combineResults([peerFail('refused'), icmp('reply')], true)?.verdict, 'not-master');
  assert.equal(combineResults([peerFail('refused'), icmp('reply'), tcp('open')], false)?.verdict, 'alive');
  assert.equal(combineResults([peerFail('refused'), tcp('refused')], true)?.verdict, 'not-master');
});

test('status wording', () => {
  assert.equal(guardMessage('held', A, ['peer channel']), 'master 198.18.0.11 alive via peer channel; adverts lost');
  assert.equal(
    guardMessage('fence-failed', A, [], 'exit 1', 'ipmi'),
    'fencing 198.18.0.11 with ipmi failed (exit 1); not taking over',
  );
});
