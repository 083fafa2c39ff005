import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { IcmpEcho, IcmpResult } from '../os/icmp.ts';
import { watchPing } from './ping-watch.ts';

/** A pinger whose targets answer as the test says. */
function fakeIcmp(answers: Map<string, boolean>): IcmpEcho & { sent: string[] } {
  const sent: string[] = [];
  return {
    sent,
    echo: async (addr): Promise<IcmpResult> => {
      sent.push(addr);
      return answers.get(addr) ? { outcome: 'reply', detail: '' } : { outcome: 'timeout', detail: '' };
    },
    close: () => {},
  };
}

/** Resolves on the n-th change. */
function changes(n: number) {
  const seen: boolean[] = [];
  let resolve!: () => void;
  const done = new Promise<void>((r) => {
    resolve = r;
  });
  return {
    seen,
    done,
    onChange: (up: boolean) => {
      seen.push(up);
      if (seen.length === n) resolve();
    },
  };
}

test('ping target: the first round decides; a group is up while any target answers; fall rounds bring it down', async () => {
  const answers = new Map([
    ['198.18.0.1', false],
    ['198.18.0.2', true],
  ]);
  const icmp = fakeIcmp(answers);
  const ctl = new AbortController();
  const c = changes(2);
  let rounds = 0;
  watchPing(
    { targets: ['198.18.0.1', '198.18.0.2'], intervalMs: 5, timeoutMs: 5, rise: 1, fall: 3 },
    icmp,
    c.onChange,
    ctl.signal,
    () => {
      rounds++;
      if (rounds === 2) answers.set('198.18.0.2', false); // the group loses its last target
    },
  );
  await c.done;
  ctl.abort();
  assert.deepEqual(c.seen, [true, false]);
  assert.ok(rounds >= 2 + 3, `down after fall = 3 failed rounds (${rounds} rounds)`);
  assert.ok(icmp.sent.includes('198.18.0.1') && icmp.sent.includes('198.18.0.2'));
});
