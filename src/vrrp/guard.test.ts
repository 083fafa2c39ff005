import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { Ms } from '../core/time.ts';
import { instanceConfig } from '../sim/fixtures.ts';
import {
  decideVerdict,
  defaultGuardTimeoutMs,
  GUARD_TABLE,
  type GuardRow,
  type GuardVerdict,
  pauseThresholdMs,
} from './guard.ts';
import { advertFor, type InstanceState, initialState, step, type VrrpEffect, type VrrpInput } from './machine.ts';
import { exploreStates } from './test-support.ts';
import type { GuardConfig, InstanceConfig } from './types.ts';

const ME = '10.0.0.10';
const MASTER = '10.0.0.11';
const LOWER = '10.0.0.9';

const GUARD: GuardConfig = { timeoutMs: 100, peerChannel: true, icmp: true, ports: [80] };
const FENCED: GuardConfig = { ...GUARD, fence: { device: 'ipmi', timeoutMs: 2_000, retryMs: 10_000 } };

type Effect<K extends VrrpEffect['kind']> = Extract<VrrpEffect, { kind: K }>;
const only = <K extends VrrpEffect['kind']>(fx: readonly VrrpEffect[], kind: K): Effect<K>[] =>
  fx.filter((e): e is Effect<K> => e.kind === kind);
const transitions = (fx: readonly VrrpEffect[]) => only(fx, 'transition').map((t) => `${t.from}→${t.to}:${t.cause}`);
const phases = (fx: readonly VrrpEffect[]) => only(fx, 'guard').map((g) => `${g.from ?? '-'}→${g.phase}:${g.on}`);

/** A guarded backup (priority 100, v3 at 100 ms) that has heard a master (150) at t=0. */
class Backup {
  state: InstanceState;
  fx: VrrpEffect[] = [];
  now: Ms = 0;
  constructor(readonly cfg: InstanceConfig) {
    this.state = initialState(cfg);
    this.feed({ kind: 'startup', primaryAddr: ME }, 0);
  }
  feed(input: VrrpInput, now: Ms): VrrpEffect[] {
    this.now = now;
    const r = step(this.cfg, this.state, input, now);
    this.state = r.state;
    this.fx = r.effects;
    return r.effects;
  }
  advert(priority: number, now: Ms, src = MASTER): VrrpEffect[] {
    return this.feed({ kind: 'advert', packet: advertFor(this.cfg, priority), src }, now);
  }
  /** Lets Master_Down_Timer fire. */
  silence(): VrrpEffect[] {
    return this.feed({ kind: 'timer', timer: 'masterDown' }, this.state.timers.masterDown!);
  }
  verdict(verdict: GuardVerdict, remote?: { priority: number; addr: string }, at = this.now + 1): VrrpEffect[] {
    const round = this.state.guard!.round;
    return this.feed(
      { kind: 'guardVerdict', round, verdict, via: ['peer channel'], detail: 'test', ...(remote ? { remote } : {}) },
      at,
    );
  }
}

const guarded = (guard: GuardConfig = GUARD, extra: Partial<InstanceConfig> = {}) =>
  instanceConfig({ version: 3, advertIntervalMs: 100, guard, ...extra });

function heardMaster(cfg = guarded()): Backup {
  const b = new Backup(cfg);
  b.advert(150, 0);
  return b;
}

test('guard: Master_Down_Timer on a guarded backup that heard a master probes it instead of taking over', () => {
  const b = heardMaster();
  const fx = b.silence();
  assert.deepEqual(transitions(fx), []);
  assert.equal(b.state.state, 'BACKUP');
  const [probe] = only(fx, 'probe');
  assert.deepEqual(probe?.master, { addr: MASTER, priority: 150 });
  assert.equal(probe?.deadline, b.now + 100);
  assert.deepEqual(phases(fx), ['-→probing:master-down']);
  assert.equal(only(fx, 'addVips').length, 0, 'no address is claimed while asking');
});

test('guard: alive keeps BACKUP, says so, and asks again every Master_Adver_Interval', () => {
  const b = heardMaster();
  b.silence();
  const fx = b.verdict('alive');
  assert.equal(b.state.state, 'BACKUP');
  assert.deepEqual(phases(fx), ['probing→held:alive']);
  assert.equal(b.state.guard?.phase, 'held');
  assert.deepEqual(b.state.guard?.last?.via, ['peer channel']);
  const recheck = b.state.timers.guard!;
  assert.equal(recheck, b.now + 100);
  const again = b.feed({ kind: 'timer', timer: 'guard' }, recheck);
  assert.deepEqual(phases(again), ['held→probing:recheck']);
  assert.equal(only(again, 'probe').length, 1);
  assert.equal(b.state.guard?.rounds, 2);
});

test('guard: dead takes over at once, as plain VRRP would have (cause master-down)', () => {
  const b = heardMaster();
  b.silence();
  const fx = b.verdict('dead');
  assert.deepEqual(transitions(fx), ['BACKUP→MASTER:master-down']);
  assert.deepEqual(phases(fx), ['probing→released:took-over']);
  assert.equal(b.state.guard, null);
  assert.equal(b.state.timers.guard, null);
});

test('guard: unconfirmed without a fence device takes over', () => {
  const b = heardMaster();
  b.silence();
  assert.deepEqual(transitions(b.verdict('unconfirmed')), ['BACKUP→MASTER:master-down']);
});

test('guard: no verdict by the deadline counts as unconfirmed (the backstop cannot strand the instance)', () => {
  const b = heardMaster();
  b.silence();
  const fx = b.feed({ kind: 'timer', timer: 'guard' }, b.state.timers.guard!);
  assert.deepEqual(transitions(fx), ['BACKUP→MASTER:master-down']);
  assert.ok(b.now - 0 <= 360 + 100 + 100, 'the backstop fires within the deadline plus its margin');
});

test('guard: a verdict of another round changes nothing', () => {
  const b = heardMaster();
  b.silence();
  const round = b.state.guard!.round;
  const fx = b.feed({ kind: 'guardVerdict', round: round - 1, verdict: 'dead', via: [], detail: '' }, b.now + 1);
  assert.deepEqual(fx, []);
  assert.equal(b.state.guard?.phase, 'probing');
});

test('guard: an advert from the master ends the guard and restarts Master_Down_Timer', () => {
  const b = heardMaster();
  b.silence();
  b.verdict('alive');
  const fx = b.advert(150, b.now + 30);
  assert.deepEqual(phases(fx), ['held→released:adverts-resumed']);
  assert.equal(b.state.guard, null);
  assert.equal(b.state.timers.masterDown, b.now + 360 - 100, 'one probe deadline early (guardLeadMs)');
  assert.equal(b.state.timers.guard, null);
});

test('guard: it asks one probe deadline before Master_Down_Interval, so an unanswered round takes over at Master_Down_Interval', () => {
  const b = heardMaster();
  assert.equal(b.state.timers.masterDown, 360 - 100);
  const [probe] = only(b.silence(), 'probe');
  assert.equal(probe?.deadline, 360, 'the verdict is due when plain VRRP would take over');
  assert.deepEqual(transitions(b.verdict('unconfirmed', undefined, 360)), ['BACKUP→MASTER:master-down']);
  // an unguarded backup, or one preempting a lower master, keeps the plain timer
  const plain = new Backup(instanceConfig({ version: 3, advertIntervalMs: 100 }));
  plain.advert(150, 0);
  assert.equal(plain.state.timers.masterDown, 360);
  // the lead never eats more than Master_Down_Interval less one advert interval
  const slow = heardMaster(guarded({ ...GUARD, timeoutMs: 5_000 }));
  assert.equal(slow.state.timers.masterDown, 100);
});

test('guard: a priority-0 release is never second-guessed: Skew_Time, then takeover', () => {
  const b = heardMaster();
  b.silence();
  b.verdict('alive');
  const fx = b.advert(0, b.now + 30);
  assert.deepEqual(phases(fx), ['held→released:priority-zero']);
  assert.equal(b.state.master, null);
  const take = b.silence();
  assert.deepEqual(transitions(take), ['BACKUP→MASTER:master-down']);
  assert.equal(only(take, 'probe').length, 0);
});

test('guard: a backup that starts and never heard a master takes over unguarded', () => {
  const b = new Backup(guarded());
  const fx = b.silence();
  assert.deepEqual(transitions(fx), ['BACKUP→MASTER:master-down']);
  assert.equal(only(fx, 'probe').length, 0);
});

test('guard: preempting a lower-priority master that still advertises is not guarded (RFC 5798 §6.4.2)', () => {
  const b = new Backup(guarded());
  b.advert(50, 0, LOWER);
  const fx = b.silence();
  assert.deepEqual(transitions(fx), ['BACKUP→MASTER:master-down']);
});

test('guard: the guarded master speaking again below our priority is preempted at once', () => {
  const b = heardMaster();
  b.silence();
  b.verdict('alive');
  const fx = b.advert(50, b.now + 20);
  assert.deepEqual(phases(fx), ['held→released:adverts-resumed']);
  assert.equal(b.state.timers.masterDown, b.now);
  assert.deepEqual(transitions(b.silence()), ['BACKUP→MASTER:master-down']);
});

test('guard: not master, and we win the election: take over now', () => {
  const b = heardMaster();
  b.silence();
  assert.deepEqual(transitions(b.verdict('not-master', { priority: 50, addr: MASTER })), ['BACKUP→MASTER:master-down']);
});

test('guard: not master, but the answering node wins the election: let it, with a fresh Master_Down_Timer', () => {
  const b = heardMaster();
  b.silence();
  const fx = b.verdict('not-master', { priority: 150, addr: MASTER });
  assert.deepEqual(transitions(fx), []);
  assert.deepEqual(phases(fx), ['probing→released:deferred']);
  assert.equal(b.state.timers.masterDown, b.now + 360);
  // equal priority: the higher address wins (RFC 5798 §6.4.3)
  const c = heardMaster();
  c.silence();
  assert.deepEqual(phases(c.verdict('not-master', { priority: 100, addr: MASTER })), ['probing→released:deferred']);
  const d = heardMaster();
  d.silence();
  assert.deepEqual(transitions(d.verdict('not-master', { priority: 100, addr: LOWER })), ['BACKUP→MASTER:master-down']);
});

test('fencing: unconfirmed with a fence device fences first; success takes over with cause fenced', () => {
  const b = heardMaster(guarded(FENCED));
  b.silence();
  const fx = b.verdict('unconfirmed');
  assert.deepEqual(transitions(fx), []);
  assert.deepEqual(phases(fx), ['probing→fencing:unconfirmed']);
  const [fence] = only(fx, 'fence');
  assert.deepEqual(fence?.master, { addr: MASTER, priority: 150 });
  assert.equal(fence?.deadline, b.now + 2_000);
  const done = b.feed({ kind: 'fenceResult', round: fence!.round, ok: true, detail: 'exit 0' }, b.now + 500);
  assert.deepEqual(transitions(done), ['BACKUP→MASTER:fenced']);
  assert.deepEqual(phases(done), ['fencing→released:took-over-fenced']);
});

test('fencing: a failed agent means no takeover; the backup keeps asking and fences again only after retry', () => {
  const b = heardMaster(guarded(FENCED));
  b.silence();
  const round = only(b.verdict('unconfirmed'), 'fence')[0]!.round;
  const failed = b.feed({ kind: 'fenceResult', round, ok: false, detail: 'exit 1' }, b.now + 100);
  assert.deepEqual(transitions(failed), []);
  assert.deepEqual(phases(failed), ['fencing→fence-failed:fence-failed']);
  assert.equal(b.state.state, 'BACKUP');
  const failedAt = b.now;
  // rechecks every advert interval: still unconfirmed, but too soon to fence again
  b.feed({ kind: 'timer', timer: 'guard' }, b.state.timers.guard!);
  const soon = b.verdict('unconfirmed');
  assert.deepEqual(phases(soon), ['probing→fence-failed:unconfirmed']);
  assert.equal(only(soon, 'fence').length, 0);
  // once `retry` has passed, an unconfirmed round runs the agent again
  b.feed({ kind: 'timer', timer: 'guard' }, failedAt + 10_000);
  assert.equal(only(b.verdict('unconfirmed'), 'fence').length, 1, 'retry is due');
});

test('fencing: an agent that never reports fails at the backstop', () => {
  const b = heardMaster(guarded(FENCED));
  b.silence();
  b.verdict('unconfirmed');
  const fx = b.feed({ kind: 'timer', timer: 'guard' }, b.state.timers.guard!);
  assert.deepEqual(phases(fx), ['fencing→fence-failed:fence-failed']);
  assert.deepEqual(transitions(fx), []);
});

test('guard: leaving BACKUP otherwise (a fault) ends the guard', () => {
  const b = heardMaster(guarded(GUARD, { trackers: [{ id: 'f', weight: 0 }] }));
  b.silence();
  const fx = b.feed({ kind: 'tracker', id: 'f', up: false }, b.now + 1);
  assert.deepEqual(transitions(fx), ['BACKUP→FAULT:tracker-fault']);
  assert.deepEqual(phases(fx), ['probing→released:left-backup']);
  assert.equal(b.state.timers.guard, null);
});

test('decideVerdict and the defaults', () => {
  const none = { fenceRetryAt: null };
  assert.equal(decideVerdict({ guard: GUARD }, none, 'alive', false, 0), 'hold');
  assert.equal(decideVerdict({ guard: GUARD }, none, 'unconfirmed', false, 0), 'take-over');
  assert.equal(decideVerdict({ guard: FENCED }, none, 'unconfirmed', false, 0), 'fence');
  assert.equal(decideVerdict({ guard: FENCED }, none, 'dead', false, 0), 'take-over');
  assert.equal(decideVerdict({ guard: FENCED }, { fenceRetryAt: 10 }, 'unconfirmed', false, 5), 'wait-fence-retry');
  assert.equal(decideVerdict({ guard: GUARD }, none, 'not-master', true, 0), 'defer');
  assert.equal(defaultGuardTimeoutMs(100), 100);
  assert.equal(defaultGuardTimeoutMs(20), 50);
  assert.equal(defaultGuardTimeoutMs(3_000), 1000);
  assert.equal(pauseThresholdMs({ version: 3, downTimerAdverts: 3 }, 100), 300);
  assert.equal(pauseThresholdMs({ version: 2, downTimerAdverts: 3 }, 1000), 3003);
});

// ── the phase table ─────────────────────────────────────────────────────────────────────────────────────────────

function tableInComment(): GuardRow[] {
  const src = readFileSync(new URL('./guard.ts', import.meta.url), 'utf8');
  const body = src.slice(src.indexOf('<guard>'), src.indexOf('</guard>'));
  const rows: GuardRow[] = [];
  for (const line of body.split('\n').slice(2)) {
    const m = /^\s*\*\s+(\S+)\s+(\S+)\s+([a-z-]+)\s/.exec(line);
    if (m) rows.push({ from: m[1], to: m[2], on: m[3] } as GuardRow);
  }
  return rows;
}

const rowKey = (r: GuardRow) => `${r.from}→${r.to}:${r.on}`;

test('the guard table in the module comment is GUARD_TABLE, row for row', () => {
  assert.deepEqual(tableInComment().map(rowKey), GUARD_TABLE.map(rowKey));
});

test('every row of the guard table happens, and no input from any reachable state changes the phase otherwise', () => {
  const allowed = new Set(GUARD_TABLE.map(rowKey));
  const seen = new Set<string>();
  const cfgs = [
    guarded(FENCED, { trackers: [{ id: 'f', weight: 0 }] }),
    guarded({ ...FENCED, fence: { device: 'x', timeoutMs: 500, retryMs: 0 } }),
    guarded(GUARD),
  ];
  for (const cfg of cfgs) {
    const inputs = (s: InstanceState): VrrpInput[] => {
      const round = s.guard?.round ?? 0;
      const v = (verdict: GuardVerdict, p?: number): VrrpInput => ({
        kind: 'guardVerdict',
        round,
        verdict,
        via: [],
        detail: '',
        ...(p === undefined ? {} : { remote: { priority: p, addr: MASTER } }),
      });
      return [
        { kind: 'timer', timer: 'masterDown' },
        { kind: 'timer', timer: 'guard' },
        { kind: 'advert', packet: advertFor(cfg, 150), src: MASTER },
        { kind: 'advert', packet: advertFor(cfg, 50), src: MASTER },
        { kind: 'advert', packet: advertFor(cfg, 0), src: MASTER },
        { kind: 'tracker', id: 'f', up: false },
        { kind: 'tracker', id: 'f', up: true },
        { kind: 'sync', to: 'MASTER' },
        { kind: 'setPriority', priority: 255 },
        { kind: 'setPriority', priority: null },
        v('alive'),
        v('dead'),
        v('unconfirmed'),
        v('not-master', 50),
        v('not-master', 200),
        { kind: 'fenceResult', round, ok: true, detail: '' },
        { kind: 'fenceResult', round, ok: false, detail: '' },
      ];
    };
    const key = (r: InstanceState) =>
      JSON.stringify({
        st: r.state,
        g: r.guard?.phase,
        m: !!r.master,
        t: r.timers.masterDown !== null,
        f: r.trackers,
        r: r.guard?.fenceRetryAt !== null && r.guard?.fenceRetryAt !== undefined,
        p: r.priorityOverride,
      });
    exploreStates(cfg, heardMaster(cfg).state, inputs, { depth: 7, stepMs: 50, startMs: 10, key }, (s, input, r) => {
      const changes = only(r.effects, 'guard');
      for (const g of changes) {
        const k = `${g.from ?? '-'}→${g.phase === 'released' ? '-' : g.phase}:${g.on}`;
        assert.ok(allowed.has(k), `${k} is not in the table (input ${JSON.stringify(input)})`);
        seen.add(k);
      }
      // The phase in the state follows the effects: no silent change.
      const before = s.guard?.phase ?? '-';
      const after = r.state.guard?.phase ?? '-';
      if (changes.length === 0) assert.equal(after, before, `${before} + ${input.kind} changed silently`);
    });
  }
  assert.deepEqual(
    [...allowed].filter((k) => !seen.has(k)),
    [],
    'rows never produced',
  );
});
