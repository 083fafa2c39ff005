import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { Ms } from '../core/time.ts';
import { instanceConfig } from '../sim/fixtures.ts';
import {
  advertFor,
  compareAddresses,
  effectivePriority,
  HANDOVER_LINGER_MIN_MS,
  handoverDeadlineMs,
  handoverLingerMs,
  type InstanceState,
  initialState,
  step,
  TRANSITIONS,
  type TransitionRow,
  type VrrpEffect,
  type VrrpInput,
} from './machine.ts';
import { exploreStates } from './test-support.ts';
import type { InstanceConfig, VrrpPacket } from './types.ts';

// Our address and two neighbours, chosen so that comparing them as text would give the wrong order.
const ME = '10.0.0.10';
const LOWER = '10.0.0.9';
const HIGHER = '10.0.0.11';

type Effect<K extends VrrpEffect['kind']> = Extract<VrrpEffect, { kind: K }>;
const only = <K extends VrrpEffect['kind']>(fx: readonly VrrpEffect[], kind: K): Effect<K>[] =>
  fx.filter((e): e is Effect<K> => e.kind === kind);
const transitions = (fx: readonly VrrpEffect[]) => only(fx, 'transition').map((t) => `${t.from}→${t.to}:${t.cause}`);
const sentPriorities = (fx: readonly VrrpEffect[]) => only(fx, 'send').map((e) => e.packet.priority);
const armed = (fx: readonly VrrpEffect[], timer: string) => only(fx, 'arm').find((e) => e.timer === timer)?.at;

/** A machine under test: feeds inputs at given times and keeps the last effects. */
class Harness {
  state: InstanceState;
  fx: VrrpEffect[] = [];
  constructor(readonly cfg: InstanceConfig) {
    this.state = initialState(cfg);
  }
  feed(input: VrrpInput, now: Ms): VrrpEffect[] {
    const r = step(this.cfg, this.state, input, now);
    this.state = r.state;
    this.fx = r.effects;
    return r.effects;
  }
  start(now: Ms = 0): VrrpEffect[] {
    return this.feed({ kind: 'startup', primaryAddr: ME }, now);
  }
  advert(priority: number, now: Ms, src = HIGHER, extra: Partial<VrrpPacket> = {}): VrrpEffect[] {
    return this.feed({ kind: 'advert', packet: packet(this.cfg, priority, extra), src }, now);
  }
  fire(timer: 'advert' | 'masterDown' | 'garp' | 'guard' | 'handover', now: Ms, lateMs = 0): VrrpEffect[] {
    return this.feed({ kind: 'timer', timer, lateMs }, now);
  }
  /** Fires the handover timer at its deadline: the linger (or the wait for a new master) is over. */
  released(): VrrpEffect[] {
    const at = this.state.timers.handover;
    assert.notEqual(at, null, 'a handover is running');
    return this.fire('handover', at!);
  }
  /** Starts and waits out Master_Down_Interval: a master with nobody else around. */
  master(now: Ms = 0): this {
    this.start(now);
    if (this.state.state === 'BACKUP') this.fire('masterDown', this.state.timers.masterDown ?? now);
    assert.equal(this.state.state, 'MASTER');
    return this;
  }
}

function packet(cfg: InstanceConfig, priority: number, extra: Partial<VrrpPacket> = {}): VrrpPacket {
  return { ...advertFor(cfg, priority), auth: { type: 'none' }, ...extra };
}

// ── Initialize ────────────────────────────────────────────────────────────────────────────────────────────────────

test('RFC 5798 §6.4.1: if the Priority is 255, send an ADVERTISEMENT, broadcast gratuitous ARP, set Adver_Timer and go to Master', () => {
  const m = new Harness(instanceConfig({ priority: 255 }));
  const fx = m.start(0);
  assert.deepEqual(transitions(fx), ['INIT→MASTER:owner']);
  assert.deepEqual(sentPriorities(fx), [255]);
  assert.equal(only(fx, 'garp').length, 1);
  assert.equal(only(fx, 'addVips').length, 1);
  assert.equal(armed(fx, 'advert'), 1000);
  assert.equal(m.state.timers.masterDown, null, 'the owner never waits for Master_Down_Timer');
});

test('RFC 5798 §6.4.1: otherwise set Master_Down_Timer to Master_Down_Interval and transition to Backup', () => {
  const m = new Harness(instanceConfig({ priority: 100 }));
  const fx = m.start(500);
  assert.deepEqual(transitions(fx), ['INIT→BACKUP:startup']);
  assert.equal(armed(fx, 'masterDown'), 500 + 3609);
  assert.deepEqual(sentPriorities(fx), []);
});

test('RFC 5798 §6.4.1: a v3 backup starts with Master_Adver_Interval = Advertisement_Interval', () => {
  const m = new Harness(instanceConfig({ version: 3, advertIntervalMs: 200 }));
  const fx = m.start(0);
  assert.equal(m.state.masterAdverIntervalMs, 200);
  assert.equal(armed(fx, 'masterDown'), 3 * 200 + 121); // skew (156 * 200) / 256 = 121.875
});

test('keepalived: startup removes VIPs that a killed predecessor may have left behind', () => {
  const fx = new Harness(instanceConfig()).start(0);
  assert.equal(only(fx, 'delVips').length, 1);
});

test('keepalived: state MASTER waits one advert interval plus the smallest skew, not Master_Down_Interval', () => {
  const m = new Harness(instanceConfig({ initialState: 'MASTER', priority: 150 }));
  assert.equal(armed(m.start(0), 'masterDown'), 1000 + 3);
  // ...and still yields to a running higher-priority master it hears meanwhile.
  m.advert(200, 400);
  assert.equal(m.state.timers.masterDown, 400 + 3414);
});

// ── Backup ────────────────────────────────────────────────────────────────────────────────────────────────────────

test('RFC 5798 §6.4.2: if the Master_Down_Timer fires, send an ADVERTISEMENT, broadcast gratuitous ARP, set the Adver_Timer and transition to Master', () => {
  const m = new Harness(instanceConfig());
  m.start(0);
  const fx = m.fire('masterDown', 3609);
  assert.deepEqual(transitions(fx), ['BACKUP→MASTER:master-down']);
  assert.deepEqual(sentPriorities(fx), [100]);
  assert.equal(only(fx, 'garp')[0]?.repeat, 5);
  assert.equal(only(fx, 'addVips').length, 1);
  assert.equal(armed(fx, 'advert'), 4609);
});

test('RFC 5798 §6.4.2: a backup receiving priority 0 sets Master_Down_Timer to Skew_Time', () => {
  const m = new Harness(instanceConfig({ priority: 100 }));
  m.start(0);
  const fx = m.advert(0, 2000);
  assert.equal(armed(fx, 'masterDown'), 2000 + 609);
  assert.deepEqual(transitions(fx), []);
});

test('RFC 5798 §6.4.2: if Preempt_Mode is False a backup accepts any advert and resets Master_Down_Timer', () => {
  const m = new Harness(instanceConfig({ priority: 200, preempt: false }));
  m.start(0);
  const fx = m.advert(50, 2000, LOWER);
  assert.equal(armed(fx, 'masterDown'), 2000 + 3000 + 218);
  assert.deepEqual(m.state.master, { addr: LOWER, priority: 50 });
});

test('RFC 5798 §6.4.2: an advert with a priority greater than or equal to the local one resets Master_Down_Timer', () => {
  const m = new Harness(instanceConfig({ priority: 100 }));
  m.start(0);
  assert.equal(armed(m.advert(100, 1000, LOWER), 'masterDown'), 1000 + 3609);
  assert.equal(armed(m.advert(101, 2000, LOWER), 'masterDown'), 2000 + 3609);
});

test('RFC 5798 §6.4.2: with Preempt_Mode True a backup discards a lower-priority advert, so Master_Down_Timer fires and it preempts', () => {
  const m = new Harness(instanceConfig({ priority: 200 }));
  m.start(0);
  const fx = m.advert(100, 1000, LOWER);
  assert.deepEqual(only(fx, 'arm'), [], 'the timer keeps running');
  assert.equal(only(fx, 'discard')[0]?.reason, 'lower-priority');
  assert.deepEqual(transitions(m.fire('masterDown', 3218)), ['BACKUP→MASTER:master-down']);
});

test('RFC 5798 §6.4.2: a v3 backup sets Master_Adver_Interval to the Max Adver Int of the advert and recomputes Master_Down_Interval', () => {
  const m = new Harness(instanceConfig({ version: 3, advertIntervalMs: 1000, priority: 100 }));
  m.start(0);
  const fx = m.advert(150, 500, HIGHER, { advertIntervalMs: 100 });
  assert.equal(m.state.masterAdverIntervalMs, 100);
  assert.equal(armed(fx, 'masterDown'), 500 + 300 + 60);
  // Priority 0 then waits the skew of the learned interval.
  assert.equal(armed(m.advert(0, 600, HIGHER, { advertIntervalMs: 100 }), 'masterDown'), 600 + 60);
});

test('RFC 3768 §7.1: a v2 instance discards an advert whose interval differs from its own', () => {
  const m = new Harness(instanceConfig({ version: 2 }));
  m.start(0);
  const fx = m.advert(150, 500, HIGHER, { advertIntervalMs: 2000 });
  assert.deepEqual(
    only(fx, 'discard').map((d) => d.reason),
    ['interval-mismatch'],
  );
  assert.equal(m.state.timers.masterDown, 3609);
});

test('RFC 5798 §6.4.2: on Shutdown a backup cancels Master_Down_Timer and transitions to Initialize', () => {
  const m = new Harness(instanceConfig());
  m.start(0);
  const fx = m.feed({ kind: 'shutdown' }, 100);
  assert.deepEqual(transitions(fx), ['BACKUP→INIT:shutdown']);
  assert.deepEqual(
    only(fx, 'disarm').map((d) => d.timer),
    ['masterDown'],
  );
  assert.deepEqual(sentPriorities(fx), []);
});

// ── Master ────────────────────────────────────────────────────────────────────────────────────────────────────────

test('RFC 5798 §6.4.3: if the Adver_Timer fires, send an ADVERTISEMENT and reset the Adver_Timer', () => {
  const m = new Harness(instanceConfig()).master();
  const fx = m.fire('advert', 4609);
  assert.deepEqual(sentPriorities(fx), [100]);
  assert.equal(armed(fx, 'advert'), 5609);
});

test('RFC 5798 §6.4.3: a master receiving priority 0 sends an ADVERTISEMENT and resets the Adver_Timer', () => {
  const m = new Harness(instanceConfig()).master();
  const fx = m.advert(0, 4000, LOWER);
  assert.deepEqual(sentPriorities(fx), [100]);
  assert.equal(armed(fx, 'advert'), 5000);
  assert.equal(m.state.state, 'MASTER');
});

test('RFC 5798 §6.4.3: a master receiving a higher priority cancels the Adver_Timer, sets Master_Down_Timer and transitions to Backup (after the handover linger: make-before-break)', () => {
  const m = new Harness(instanceConfig({ priority: 100 })).master();
  const fx = m.advert(150, 5000, LOWER);
  assert.ok(only(fx, 'disarm').some((d) => d.timer === 'advert'));
  // The VIPs stay while the new master adds and announces them (docs/handover.md): no transition, no delVips yet.
  assert.deepEqual(transitions(fx), []);
  assert.equal(only(fx, 'delVips').length, 0);
  assert.equal(m.state.handover?.newMaster?.addr, LOWER);
  assert.equal(armed(fx, 'handover'), 5000 + handoverLingerMs(1000));
  const done = m.released();
  assert.deepEqual(transitions(done), ['MASTER→BACKUP:higher-priority']);
  assert.equal(only(done, 'delVips').length, 1);
  assert.equal(armed(done, 'masterDown'), 5500 + 3609);
  assert.deepEqual(m.state.master, { addr: LOWER, priority: 150 });
  assert.equal(m.state.handover, null);
});

test('RFC 5798 §6.4.3: on equal priority the higher primary IP address wins, compared as numbers (IPv4)', () => {
  const keeps = new Harness(instanceConfig()).master();
  keeps.advert(100, 5000, LOWER); // 10.0.0.9 < 10.0.0.10, although '10.0.0.9' > '10.0.0.10' as text
  assert.equal(keeps.state.state, 'MASTER');
  const yields = new Harness(instanceConfig()).master();
  yields.advert(100, 5000, HIGHER);
  assert.deepEqual(transitions(yields.released()), ['MASTER→BACKUP:equal-priority-higher-address']);
});

test('RFC 5798 §6.4.3: on equal priority the higher primary IP address wins, compared as numbers (IPv6)', () => {
  const cfg = instanceConfig({ family: 6, version: 3 });
  const m = new Harness(cfg);
  m.feed({ kind: 'startup', primaryAddr: 'fe80::a' }, 0);
  m.fire('masterDown', m.state.timers.masterDown ?? 0);
  m.advert(100, 5000, 'fe80::9');
  assert.equal(m.state.state, 'MASTER');
  m.advert(100, 6000, 'fe80::10');
  assert.deepEqual(transitions(m.released()), ['MASTER→BACKUP:equal-priority-higher-address']);
});

test('RFC 9568 §6.4.3: a master that discards a lower-priority advert sends an advertisement at once', () => {
  const m = new Harness(instanceConfig({ priority: 150 })).master();
  const fx = m.advert(100, 4000, HIGHER);
  assert.deepEqual(
    only(fx, 'discard').map((d) => d.reason),
    ['lower-priority'],
  );
  assert.deepEqual(sentPriorities(fx), [150]);
  assert.equal(armed(fx, 'advert'), 5000);
});

test('keepalived lower_prio_no_advert: a master discards a lower-priority advert without answering', () => {
  const m = new Harness(instanceConfig({ priority: 150, lowerPrioNoAdvert: true })).master();
  assert.deepEqual(sentPriorities(m.advert(100, 4000, HIGHER)), []);
});

test('keepalived garp_lower_prio_repeat: a master that hears a lower-priority master (a healed split brain) re-sends its gratuitous ARPs, master_repeat of them by default', () => {
  const m = new Harness(instanceConfig({ priority: 150 })).master();
  const bursts = only(m.advert(100, 4000, HIGHER), 'garp');
  assert.deepEqual(
    bursts.map((g) => g.repeat),
    [5],
  );
  const off = new Harness(
    instanceConfig({
      priority: 150,
      garp: { masterDelayMs: 5000, masterRepeat: 5, masterRefreshMs: 0, lowerPrioRepeat: 0 },
    }),
  ).master();
  assert.deepEqual(only(off.advert(100, 4000, HIGHER), 'garp'), []);
  const two = new Harness(
    instanceConfig({
      priority: 150,
      garp: { masterDelayMs: 5000, masterRepeat: 5, masterRefreshMs: 0, lowerPrioRepeat: 2 },
    }),
  ).master();
  assert.deepEqual(
    only(two.advert(100, 4000, HIGHER), 'garp').map((g) => g.repeat),
    [2],
  );
});

test('RFC 5798 §6.4.3: a v3 master that yields adopts the new master’s Max Adver Int for Master_Down_Interval', () => {
  const m = new Harness(instanceConfig({ version: 3, priority: 100 })).master();
  m.advert(200, 5000, HIGHER, { advertIntervalMs: 100 });
  const fx = m.released();
  assert.equal(m.state.masterAdverIntervalMs, 100);
  assert.equal(armed(fx, 'masterDown'), 5000 + handoverLingerMs(100) + 300 + 60);
});

test('RFC 5798 §6.4.3: on Shutdown a master cancels the Adver_Timer, sends an ADVERTISEMENT with Priority 0 and transitions to Initialize', () => {
  const m = new Harness(instanceConfig()).master();
  const fx = m.feed({ kind: 'shutdown' }, 6000);
  assert.deepEqual(transitions(fx), ['MASTER→INIT:shutdown']);
  assert.deepEqual(sentPriorities(fx), [0]);
  assert.equal(only(fx, 'delVips').length, 1);
  assert.deepEqual(m.state.timers, { advert: null, masterDown: null, garp: null, guard: null, handover: null });
});

test('keepalived: an advert with our priority from our own address is ignored', () => {
  const m = new Harness(instanceConfig()).master();
  assert.deepEqual(
    only(m.advert(100, 4000, ME), 'discard').map((d) => d.reason),
    ['own-address'],
  );
  assert.equal(m.state.state, 'MASTER');
});

test('keepalived: when two address owners hear each other, the one that hears steps down to 254', () => {
  const m = new Harness(instanceConfig({ priority: 255 }));
  m.start(0);
  m.advert(255, 1000, LOWER);
  assert.equal(m.state.effectivePriority, 254);
  assert.deepEqual(transitions(m.released()), ['MASTER→BACKUP:higher-priority']);
});

// ── Address owner, trackers, FAULT ────────────────────────────────────────────────────────────────────────────────

test('keepalived: the address owner’s priority is not tracked', () => {
  const cfg = instanceConfig({ priority: 255, trackers: [{ id: 'script:a', weight: -50 }] });
  const m = new Harness(cfg);
  m.start(0);
  const fx = m.feed({ kind: 'tracker', id: 'script:a', up: false }, 100);
  assert.equal(m.state.effectivePriority, 255);
  assert.deepEqual(only(fx, 'priority'), []);
  assert.equal(m.state.state, 'MASTER');
});

test('keepalived: a weight-0 tracker still faults the address owner, which goes straight back to MASTER when it recovers', () => {
  const cfg = instanceConfig({ priority: 255, trackers: [{ id: 'interface:eth1', weight: 0 }] });
  const m = new Harness(cfg);
  m.start(0);
  assert.deepEqual(transitions(m.feed({ kind: 'tracker', id: 'interface:eth1', up: false }, 100)), [
    'MASTER→FAULT:tracker-fault',
  ]);
  assert.deepEqual(transitions(m.feed({ kind: 'tracker', id: 'interface:eth1', up: true }, 200)), [
    'FAULT→MASTER:owner',
  ]);
});

test('keepalived: a failed tracker of weight 0 forces FAULT', () => {
  const cfg = instanceConfig({ trackers: [{ id: 'script:chk', weight: 0 }] });
  const b = new Harness(cfg);
  b.start(0);
  const fx = b.feed({ kind: 'tracker', id: 'script:chk', up: false }, 100);
  assert.deepEqual(transitions(fx), ['BACKUP→FAULT:tracker-fault']);
  assert.equal(b.state.timers.masterDown, null);
  const m = new Harness(cfg).master();
  const mfx = m.feed({ kind: 'tracker', id: 'script:chk', up: false }, 5000);
  assert.deepEqual(transitions(mfx), ['MASTER→FAULT:tracker-fault']);
  assert.deepEqual(sentPriorities(mfx), [0], 'keepalived sends priority 0 when a master faults');
  assert.equal(only(mfx, 'delVips').length, 1);
  assert.deepEqual(m.state.timers, { advert: null, masterDown: null, garp: null, guard: null, handover: null });
});

test('keepalived: a faulted instance at startup enters FAULT, not BACKUP', () => {
  const m = new Harness(instanceConfig({ trackers: [{ id: 'script:chk', weight: 0 }] }));
  m.feed({ kind: 'tracker', id: 'script:chk', up: false }, 0);
  assert.deepEqual(transitions(m.start(0)), ['INIT→FAULT:tracker-fault']);
});

test('keepalived: FAULT is left for BACKUP only when every weight-0 tracker is up again', () => {
  const cfg = instanceConfig({
    trackers: [
      { id: 'a', weight: 0 },
      { id: 'b', weight: 0 },
    ],
  });
  const m = new Harness(cfg);
  m.start(0);
  m.feed({ kind: 'tracker', id: 'a', up: false }, 10);
  m.feed({ kind: 'tracker', id: 'b', up: false }, 20);
  assert.deepEqual(transitions(m.feed({ kind: 'tracker', id: 'a', up: true }, 30)), []);
  const fx = m.feed({ kind: 'tracker', id: 'b', up: true }, 40);
  assert.deepEqual(transitions(fx), ['FAULT→BACKUP:tracker-recovered']);
  assert.equal(armed(fx, 'masterDown'), 40 + 3609);
});

test('keepalived: FAULT ignores adverts', () => {
  const m = new Harness(instanceConfig({ trackers: [{ id: 'a', weight: 0 }] }));
  m.start(0);
  m.feed({ kind: 'tracker', id: 'a', up: false }, 10);
  assert.deepEqual(
    only(m.advert(0, 20), 'discard').map((d) => d.reason),
    ['not-running'],
  );
  assert.deepEqual(only(m.fx, 'arm'), []);
});

test('keepalived: a positive weight adds to the priority while the tracker is up', () => {
  const cfg = instanceConfig({ priority: 100, trackers: [{ id: 'a', weight: 20 }] });
  const m = new Harness(cfg);
  assert.equal(m.state.effectivePriority, 120);
  m.start(0);
  const fx = m.feed({ kind: 'tracker', id: 'a', up: false }, 10);
  assert.deepEqual(only(fx, 'priority'), [{ kind: 'priority', from: 120, to: 100 }]);
});

test('keepalived: a negative weight subtracts from the priority while the tracker is down', () => {
  const cfg = instanceConfig({ priority: 100, trackers: [{ id: 'a', weight: -30 }] });
  const m = new Harness(cfg);
  assert.equal(m.state.effectivePriority, 100);
  m.start(0);
  m.feed({ kind: 'tracker', id: 'a', up: false }, 10);
  assert.equal(m.state.effectivePriority, 70);
  assert.equal(m.state.state, 'BACKUP', 'a weighted tracker never faults');
});

test('keepalived: reverse flips the direction of a tracker’s adjustment', () => {
  const prio = (weight: number, up: boolean) =>
    effectivePriority({ priority: 100, trackers: [{ id: 'a', weight, reverse: true }] }, { a: up });
  assert.equal(prio(20, true), 80);
  assert.equal(prio(20, false), 100);
  assert.equal(prio(-20, false), 120);
  assert.equal(prio(-20, true), 100);
  // weight 0 with reverse: FAULT while the tracked object is up.
  const m = new Harness(instanceConfig({ trackers: [{ id: 'a', weight: 0, reverse: true }] }));
  assert.deepEqual(transitions(m.start(0)), ['INIT→FAULT:tracker-fault']);
  assert.deepEqual(transitions(m.feed({ kind: 'tracker', id: 'a', up: false }, 10)), [
    'FAULT→BACKUP:tracker-recovered',
  ]);
});

test('keepalived: the effective priority is clamped to 1..254', () => {
  const trackers = [
    { id: 'up', weight: 200 },
    { id: 'down', weight: -253 },
  ];
  assert.equal(effectivePriority({ priority: 100, trackers }, { up: true, down: true }), 254);
  assert.equal(effectivePriority({ priority: 100, trackers }, { up: false, down: false }), 1);
});

test('keepalived: a master whose effective priority drops advertises it, so a preempting backup takes over', () => {
  const master = new Harness(instanceConfig({ priority: 150, trackers: [{ id: 'a', weight: -60 }] })).master();
  master.feed({ kind: 'tracker', id: 'a', up: false }, 5000);
  const adv = only(master.fire('advert', 5609), 'send')[0]?.packet;
  assert.equal(adv?.priority, 90);
  const backup = new Harness(instanceConfig({ priority: 100 }));
  backup.start(0);
  backup.advert(150, 1000, HIGHER);
  const fx = backup.feed({ kind: 'advert', packet: adv as VrrpPacket, src: HIGHER }, 5610);
  assert.deepEqual(
    only(fx, 'discard').map((d) => d.reason),
    ['lower-priority'],
  );
  assert.deepEqual(transitions(backup.fire('masterDown', 1000 + 3609)), ['BACKUP→MASTER:master-down']);
});

test('keepalived: a backup’s Master_Down_Timer moves with its Skew_Time when its priority changes', () => {
  const m = new Harness(instanceConfig({ priority: 100, trackers: [{ id: 'a', weight: 100 }] }));
  m.start(0); // priority 200: MDI 3218
  assert.equal(m.state.timers.masterDown, 3218);
  m.feed({ kind: 'tracker', id: 'a', up: false }, 1000); // priority 100: skew 609 instead of 218
  assert.equal(m.state.timers.masterDown, 3609);
});

// ── preempt_delay ─────────────────────────────────────────────────────────────────────────────────────────────────

test('keepalived preempt_delay: a backup tolerates a lower-priority master for preempt_delay after first seeing it, then preempts', () => {
  const m = new Harness(instanceConfig({ priority: 200, preemptDelayMs: 5000 }));
  m.start(0);
  m.advert(100, 1000, LOWER);
  assert.equal(m.state.preemptAt, 6000);
  for (let t = 2000; t < 6000; t += 1000) {
    assert.equal(armed(m.advert(100, t, LOWER), 'masterDown'), t + 3218, `accepted at ${t}`);
  }
  assert.deepEqual(
    only(m.advert(100, 6000, LOWER), 'discard').map((d) => d.reason),
    ['lower-priority'],
  );
  assert.equal(m.state.timers.masterDown, 5000 + 3218, 'the timer runs out from the last accepted advert');
  assert.deepEqual(transitions(m.fire('masterDown', 8218)), ['BACKUP→MASTER:master-down']);
});

test('keepalived preempt_delay: an advert of higher or equal priority stops the delay', () => {
  const m = new Harness(instanceConfig({ priority: 200, preemptDelayMs: 5000 }));
  m.start(0);
  m.advert(100, 1000, LOWER);
  m.advert(220, 2000, HIGHER);
  assert.equal(m.state.preemptAt, null);
});

test('keepalived nopreempt: preempt_delay does not make a nopreempt backup preempt', () => {
  const m = new Harness(instanceConfig({ priority: 200, preempt: false, preemptDelayMs: 1000 }));
  m.start(0);
  for (let t = 1000; t < 10_000; t += 1000) assert.equal(armed(m.advert(100, t, LOWER), 'masterDown'), t + 3218);
});

// ── runtime priority, GARP, sync ──────────────────────────────────────────────────────────────────────────────────

test('runtime priority: setPriority changes the advertised priority, and null restores the configured one', () => {
  const m = new Harness(instanceConfig({ priority: 100 })).master();
  m.feed({ kind: 'setPriority', priority: 20 }, 4000);
  assert.deepEqual(sentPriorities(m.fire('advert', 4609)), [20]);
  m.feed({ kind: 'setPriority', priority: null }, 5000);
  assert.equal(m.state.effectivePriority, 100);
  assert.deepEqual(m.feed({ kind: 'setPriority', priority: 0 }, 5000), [], 'out of range: ignored');
});

test('runtime priority: a backup raised to 255 is the address owner and takes over at once', () => {
  const m = new Harness(instanceConfig({ priority: 100 }));
  m.start(0);
  assert.deepEqual(transitions(m.feed({ kind: 'setPriority', priority: 255 }, 100)), ['BACKUP→MASTER:priority-change']);
});

test('tandem standby (hb_standby): a master released with a low priority sends priority 0 and stays a backup', () => {
  const m = new Harness(instanceConfig({ priority: 150 })).master();
  const fx = m.feed({ kind: 'setPriority', priority: 1, release: true }, 4000);
  assert.deepEqual(sentPriorities(fx), [0]);
  assert.equal(m.state.effectivePriority, 1);
  // Make-before-break: the VIPs stay until the new master speaks.
  assert.deepEqual(transitions(fx), []);
  assert.ok(!fx.some((e) => e.kind === 'delVips'));
  m.advert(100, 4700, HIGHER);
  const done = m.released();
  assert.deepEqual(transitions(done), ['MASTER→BACKUP:standby']);
  assert.ok(done.some((e) => e.kind === 'delVips'));
  assert.notEqual(m.state.timers.masterDown, null, 'still in the election: alone, it takes the addresses back');
});

test('keepalived garp_master_delay: a second burst of garp_master_repeat after the delay, then garp_master_refresh', () => {
  const m = new Harness(instanceConfig({ garp: { masterDelayMs: 5000, masterRepeat: 5, masterRefreshMs: 60_000 } }));
  m.master(0);
  assert.equal(m.state.timers.garp, 3609 + 5000);
  assert.deepEqual(
    only(m.fire('garp', 8609), 'garp').map((g) => g.repeat),
    [5],
  );
  assert.equal(m.state.timers.garp, 8609 + 60_000);
  assert.deepEqual(
    only(m.fire('garp', 68_609), 'garp').map((g) => g.repeat),
    [1],
  );
  const off = new Harness(instanceConfig({ garp: { masterDelayMs: 0, masterRefreshMs: 0 } })).master();
  assert.equal(off.state.timers.garp, null);
});

test('keepalived sync group: an instance held in FAULT by its group stays there after its own fault clears', () => {
  const m = new Harness(instanceConfig({ trackers: [{ id: 'a', weight: 0 }] }));
  m.start(0);
  m.feed({ kind: 'tracker', id: 'a', up: false }, 10);
  m.feed({ kind: 'sync', to: 'FAULT' }, 20);
  assert.deepEqual(transitions(m.feed({ kind: 'tracker', id: 'a', up: true }, 30)), []);
  assert.deepEqual(transitions(m.feed({ kind: 'sync', to: 'BACKUP' }, 40)), ['FAULT→BACKUP:sync-group']);
});

test('a timer fired after it was disarmed changes nothing', () => {
  const m = new Harness(instanceConfig()).master();
  const before = m.state;
  assert.deepEqual(m.fire('masterDown', 5000), []);
  assert.equal(m.state.state, before.state);
});

test('step never mutates the state it is given', () => {
  const deepFreeze = <T>(o: T): T => {
    if (o && typeof o === 'object') {
      for (const v of Object.values(o)) deepFreeze(v);
      Object.freeze(o);
    }
    return o;
  };
  const cfg = instanceConfig({
    trackers: [
      { id: 'a', weight: 0 },
      { id: 'b', weight: -10 },
    ],
  });
  let s = deepFreeze(initialState(cfg));
  [...allInputs(cfg), ...allInputs(cfg)].forEach((input, i) => {
    s = deepFreeze(step(cfg, s, input, 100 * (i + 1)).state);
  });
});

// ── addresses ─────────────────────────────────────────────────────────────────────────────────────────────────────

test('addresses compare as numbers: IPv4 and IPv6, IPv4 before IPv6, zone ids ignored', () => {
  assert.equal(compareAddresses('10.0.0.9', '10.0.0.10'), -1);
  assert.equal(compareAddresses('192.168.1.1', '10.255.255.255'), 1);
  assert.equal(compareAddresses('fe80::9', 'fe80::10'), -1);
  assert.equal(compareAddresses('fe80::a', 'fe80::9'), 1);
  assert.equal(compareAddresses('FE80::1', 'fe80:0:0:0:0:0:0:1'), 0);
  assert.equal(compareAddresses('fe80::1%eth0', 'fe80::1'), 0);
  assert.equal(compareAddresses('255.255.255.255', '::1'), -1);
  assert.equal(compareAddresses('nonsense', '10.0.0.1'), -1);
});

// ── the transition table ──────────────────────────────────────────────────────────────────────────────────────────

/** The rows of the table in machine.ts's module comment. */
function tableInComment(): TransitionRow[] {
  const src = readFileSync(new URL('./machine.ts', import.meta.url), 'utf8');
  const body = src.slice(src.indexOf('<transitions>'), src.indexOf('</transitions>'));
  const rows: TransitionRow[] = [];
  for (const line of body.split('\n').slice(2)) {
    const m = /^\s*\*\s+(INIT|BACKUP|MASTER|FAULT)\s+(INIT|BACKUP|MASTER|FAULT)\s+([a-z-]+)\s/.exec(line);
    if (m) rows.push({ from: m[1], to: m[2], cause: m[3] } as TransitionRow);
  }
  return rows;
}

const rowKey = (r: TransitionRow) => `${r.from}→${r.to}:${r.cause}`;

test('the transition table in the module comment is TRANSITIONS, row for row', () => {
  assert.deepEqual(tableInComment().map(rowKey), TRANSITIONS.map(rowKey));
});

/** Every kind of input, with adverts of each interesting priority from lower, equal and higher addresses. */
function allInputs(cfg: InstanceConfig): VrrpInput[] {
  const inputs: VrrpInput[] = [
    { kind: 'startup', primaryAddr: ME },
    { kind: 'shutdown' },
    { kind: 'timer', timer: 'advert' },
    { kind: 'timer', timer: 'masterDown' },
    { kind: 'timer', timer: 'garp' },
    { kind: 'sync', to: 'MASTER' },
    { kind: 'sync', to: 'BACKUP' },
    { kind: 'sync', to: 'FAULT' },
    { kind: 'setPriority', priority: null },
    { kind: 'setPriority', priority: 50 },
    { kind: 'setPriority', priority: 255 },
    { kind: 'setPriority', priority: 1, release: true },
    // a pause longer than any Master_Down_Interval (docs/split-brain.md §5)
    { kind: 'timer', timer: 'advert', lateMs: 60_000 },
    { kind: 'timer', timer: 'masterDown', lateMs: 60_000 },
    { kind: 'timer', timer: 'guard' },
    { kind: 'timer', timer: 'handover' },
    { kind: 'shutdown', handover: true },
  ];
  for (const t of cfg.trackers)
    inputs.push({ kind: 'tracker', id: t.id, up: false }, { kind: 'tracker', id: t.id, up: true });
  for (const priority of [0, 1, 50, 99, 100, 101, 254, 255]) {
    for (const src of [LOWER, ME, HIGHER]) {
      inputs.push({ kind: 'advert', packet: packet(cfg, priority), src });
      if (cfg.version === 3)
        inputs.push({ kind: 'advert', packet: packet(cfg, priority, { advertIntervalMs: 100 }), src });
    }
  }
  return inputs;
}

const CONFIGS: InstanceConfig[] = [
  instanceConfig({
    priority: 100,
    trackers: [
      { id: 'f', weight: 0 },
      { id: 'w', weight: -60 },
    ],
  }),
  instanceConfig({ priority: 255, trackers: [{ id: 'f', weight: 0 }] }),
  instanceConfig({ version: 3, priority: 100, preempt: false, preemptDelayMs: 2000, initialState: 'MASTER' }),
  instanceConfig({
    priority: 100,
    preemptDelayMs: 1500,
    lowerPrioNoAdvert: true,
    trackers: [{ id: 'f', weight: 0, reverse: true }],
  }),
  // the takeover guard with fencing (guard.ts)
  instanceConfig({
    priority: 100,
    guard: {
      timeoutMs: 200,
      peerChannel: true,
      icmp: true,
      ports: [],
      fence: { device: 'f', timeoutMs: 500, retryMs: 0 },
    },
  }),
];

/** The guard's inputs for the state's current round (stale rounds are dropped, so they would explore nothing). */
function guardInputs(s: InstanceState): VrrpInput[] {
  const round = s.guard?.round ?? 0;
  const verdict = (v: 'alive' | 'not-master' | 'dead' | 'unconfirmed', remote?: number): VrrpInput => ({
    kind: 'guardVerdict',
    round,
    verdict: v,
    via: ['icmp'],
    detail: '',
    ...(remote === undefined ? {} : { remote: { priority: remote, addr: HIGHER } }),
  });
  return [
    verdict('alive'),
    verdict('dead'),
    verdict('unconfirmed'),
    verdict('not-master', 50),
    verdict('not-master', 200),
    { kind: 'fenceResult', round, ok: true, detail: '' },
    { kind: 'fenceResult', round, ok: false, detail: '' },
  ];
}

test('every row of the transition table happens, and no input from any reachable state produces another transition', () => {
  const allowed = new Set(TRANSITIONS.map(rowKey));
  const seen = new Set<string>();
  // Time is abstracted away in the visited-set key (deadlines become "armed"), so the search stays finite.
  const keyOf = (s: InstanceState): string =>
    JSON.stringify({
      ...s,
      lastTransition: null,
      // Whether a master is known matters (the guard engages only then); who it is does not.
      master: s.master !== null,
      preemptAt: s.preemptAt !== null,
      timers: Object.values(s.timers).map((t) => t !== null),
      handover: s.handover && { to: s.handover.to, cause: s.handover.cause, heard: s.handover.newMaster !== null },
    });
  for (const cfg of CONFIGS) {
    const inputs = allInputs(cfg);
    exploreStates(
      cfg,
      initialState(cfg),
      (s) => [...inputs, ...guardInputs(s)],
      { depth: 6, stepMs: 700, key: keyOf },
      (s, input, r) => {
        const ts = only(r.effects, 'transition');
        // A transition effect is emitted exactly when the state changes, and names both ends.
        if (ts.length === 0) assert.equal(r.state.state, s.state, `${s.state} + ${input.kind} changed silently`);
        else {
          assert.equal(ts.length, 1);
          assert.equal(ts[0]?.from, s.state);
          assert.equal(ts[0]?.to, r.state.state);
        }
        for (const t of ts) {
          const k = rowKey(t);
          assert.ok(allowed.has(k), `${k} is not in the table (input ${JSON.stringify(input)})`);
          seen.add(k);
        }
      },
    );
  }
  assert.deepEqual(
    [...allowed].filter((k) => !seen.has(k)),
    [],
    'rows never produced',
  );
});

test('regression (bench/failover jitter): a late Adver_Timer does not push every later advert back', () => {
  const m = new Harness(instanceConfig({ priority: 255, advertIntervalMs: 100, version: 3 }));
  m.start(0);
  const first = m.state.timers.advert!;
  m.fire('advert', first + 7); // the event loop fired it 7 ms late
  assert.equal(m.state.timers.advert, first + 100, 'next advert on the grid');
  m.fire('advert', first + 100 + 250); // more than an interval behind: start afresh from now
  assert.equal(m.state.timers.advert, first + 350 + 100);
});

// ── a paused node (docs/split-brain.md §5) ──────────────────────────────────────────────────────────────────────────

test('pause: a master whose Adver_Timer fires later than any Master_Down_Interval steps down to BACKUP without a word', () => {
  const m = new Harness(instanceConfig({ version: 3, advertIntervalMs: 100 })).master();
  const due = m.state.timers.advert!;
  const fx = m.fire('advert', due + 5_000, 5_000);
  assert.deepEqual(transitions(fx), ['MASTER→BACKUP:paused']);
  assert.deepEqual(sentPriorities(fx), [], 'no advert: it has not heard the cluster yet');
  assert.equal(only(fx, 'delVips').length, 1);
  assert.deepEqual(only(fx, 'paused'), [{ kind: 'paused', lateMs: 5_000, action: 'stepped-down' }]);
  // It listens one advert interval plus the smallest skew before it may claim the addresses again.
  assert.equal(m.state.timers.masterDown, due + 5_000 + 100 + 0);
  assert.equal(m.state.timers.advert, null);
});

test('pause: a master whose timer is late by less than down_timer_adverts intervals keeps advertising', () => {
  const m = new Harness(instanceConfig({ version: 3, advertIntervalMs: 100 })).master();
  const due = m.state.timers.advert!;
  const fx = m.fire('advert', due + 250, 250);
  assert.deepEqual(transitions(fx), []);
  assert.deepEqual(sentPriorities(fx), [100]);
});

test('pause: a backup whose Master_Down_Timer fires that late waits a fresh Master_Down_Interval instead of taking over', () => {
  const m = new Harness(instanceConfig({ version: 3, advertIntervalMs: 100 }));
  m.start(0);
  m.advert(150, 50);
  const due = m.state.timers.masterDown!;
  const fx = m.fire('masterDown', due + 10_000, 10_000);
  assert.deepEqual(transitions(fx), []);
  assert.equal(m.state.state, 'BACKUP');
  assert.deepEqual(only(fx, 'paused'), [{ kind: 'paused', lateMs: 10_000, action: 'relistening' }]);
  assert.equal(m.state.timers.masterDown, due + 10_000 + 360);
});

// ── make-before-break handover (docs/handover.md) ──────────────────────────────────────────────────────────────────

test('handover: a leaving master repeats priority 0 every interval, sends no GARP, and keeps its VIPs until a new master is heard', () => {
  const cfg = instanceConfig({ priority: 150, garp: { masterDelayMs: 5000, masterRepeat: 5, masterRefreshMs: 0 } });
  const m = new Harness(cfg).master();
  assert.notEqual(m.state.timers.garp, null, 'the delayed GARP burst is armed');
  const fx = m.feed({ kind: 'setPriority', priority: 1, release: true }, 4000);
  assert.ok(
    only(fx, 'disarm').some((d) => d.timer === 'garp'),
    'no GARP may pull the clients back',
  );
  assert.deepEqual(sentPriorities(fx), [0]);
  assert.equal(armed(fx, 'handover'), 4000 + handoverDeadlineMs(cfg));
  assert.deepEqual(
    only(fx, 'handover').map((h) => h.phase),
    ['started'],
  );
  assert.deepEqual(sentPriorities(m.fire('advert', 5000)), [0], 'priority 0 again: one lost advert costs nothing');
  assert.equal(m.state.state, 'MASTER');
  // Another leaving router's priority 0 and our own looped-back advert are not a new master.
  assert.deepEqual(m.advert(0, 5100, HIGHER), []);
  assert.deepEqual(m.advert(1, 5150, ME), []);
  const heard = m.advert(100, 5200, HIGHER);
  assert.deepEqual(sentPriorities(heard), [], 'it does not answer the new master');
  assert.ok(
    only(heard, 'disarm').some((d) => d.timer === 'advert'),
    'and stops advertising',
  );
  assert.equal(armed(heard, 'handover'), 5200 + handoverLingerMs(1000));
  assert.equal(only(heard, 'delVips').length, 0);
  assert.deepEqual(m.advert(100, 5300, HIGHER), [], 'later adverts change nothing');
  const done = m.released();
  assert.deepEqual(transitions(done), ['MASTER→BACKUP:standby']);
  assert.equal(only(done, 'delVips').length, 1);
  assert.deepEqual(
    only(done, 'handover').map((h) => [h.phase, h.reason, h.newMaster, h.elapsedMs]),
    [['released', 'new-master', HIGHER, 1200 + handoverLingerMs(1000)]],
  );
  assert.deepEqual(m.state.master, { addr: HIGHER, priority: 100 });
});

test('handover: with no new master by the deadline the VIPs go anyway', () => {
  const cfg = instanceConfig({ version: 3, advertIntervalMs: 100, priority: 150 });
  const m = new Harness(cfg).master();
  m.feed({ kind: 'shutdown', handover: true }, 1000);
  assert.equal(m.state.state, 'MASTER');
  assert.equal(handoverDeadlineMs(cfg), 300 + 99 + 100);
  const done = m.released();
  assert.deepEqual(transitions(done), ['MASTER→INIT:shutdown']);
  assert.equal(only(done, 'delVips').length, 1);
  assert.equal(only(done, 'handover')[0]?.reason, 'deadline');
  assert.deepEqual(Object.values(m.state.timers), [null, null, null, null, null]);
});

test('handover: a graceful stop fed while beaten ends the same handover in INIT', () => {
  const m = new Harness(instanceConfig({ priority: 100 })).master();
  m.advert(200, 4000, HIGHER);
  const fx = m.feed({ kind: 'shutdown', handover: true }, 4100);
  assert.deepEqual(fx, [], 'no priority 0 and no new timer: the new master is known');
  assert.deepEqual(transitions(m.released()), ['MASTER→INIT:shutdown']);
});

test('handover: a beaten master sends nothing and hands over after the linger of the new master’s interval', () => {
  const m = new Harness(instanceConfig({ version: 3, advertIntervalMs: 20, priority: 100 })).master();
  const fx = m.advert(150, 4000, HIGHER, { advertIntervalMs: 20 });
  assert.deepEqual(sentPriorities(fx), []);
  assert.equal(armed(fx, 'handover'), 4000 + HANDOVER_LINGER_MIN_MS);
  assert.deepEqual(sentPriorities(m.fire('advert', 4020)), [], 'the advert timer was disarmed');
  assert.equal(m.state.state, 'MASTER');
});

test('handover: a fault, a sync-group order or a plain stop ends it at once', () => {
  const cfg = instanceConfig({ priority: 150, trackers: [{ id: 'f', weight: 0 }] });
  const f = new Harness(cfg).master();
  f.feed({ kind: 'setPriority', priority: 1, release: true }, 4000);
  const fault = f.feed({ kind: 'tracker', id: 'f', up: false }, 4100);
  assert.deepEqual(transitions(fault), ['MASTER→FAULT:tracker-fault']);
  assert.equal(only(fault, 'delVips').length, 1);
  assert.equal(only(fault, 'handover')[0]?.reason, 'interrupted');
  assert.equal(f.state.timers.handover, null);
  const s = new Harness(cfg).master();
  s.advert(200, 4000, HIGHER);
  assert.deepEqual(transitions(s.feed({ kind: 'sync', to: 'BACKUP' }, 4050)), ['MASTER→BACKUP:sync-group']);
  assert.equal(s.state.handover, null);
  const p = new Harness(cfg).master();
  p.feed({ kind: 'shutdown', handover: true }, 4000);
  const now = p.feed({ kind: 'shutdown' }, 4010);
  assert.deepEqual(transitions(now), ['MASTER→INIT:shutdown']);
  assert.equal(only(now, 'delVips').length, 1);
  assert.equal(p.state.timers.handover, null);
});

test('handover linger: two of the new master’s intervals, within 100..500 ms', () => {
  assert.equal(handoverLingerMs(20), 100);
  assert.equal(handoverLingerMs(100), 200);
  assert.equal(handoverLingerMs(1000), 500);
});
