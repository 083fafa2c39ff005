import assert from 'node:assert/strict';
import { test } from 'node:test';
import { advance } from '../sim/advance.ts';
import { SimClock } from '../sim/sim-clock.ts';
import { Lifecycle } from './lifecycle.ts';

test('components start in order and stop in reverse, each awaited', async () => {
  const clock = new SimClock();
  const trail: string[] = [];
  const comp = (name: string) => ({
    name,
    start: async () => {
      trail.push(`start ${name}`);
    },
    stop: async () => {
      trail.push(`stop ${name}`);
    },
  });
  const lc = new Lifecycle({ clock }).add(comp('a')).add(comp('b')).add(comp('c'));
  await lc.start();
  assert.deepEqual(await lc.stop(), { c: 'stopped', b: 'stopped', a: 'stopped' });
  assert.deepEqual(trail, ['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a']);
});

test('a failed start stops what had started, in reverse, and rethrows', async () => {
  const clock = new SimClock();
  const trail: string[] = [];
  const lc = new Lifecycle({ clock })
    .add({ name: 'a', start: () => void trail.push('start a'), stop: () => void trail.push('stop a') })
    .add({
      name: 'b',
      start: () => {
        throw new Error('port in use');
      },
    });
  await assert.rejects(lc.start(), /port in use/);
  assert.deepEqual(trail, ['start a', 'stop a']);
});

test('a stop that overruns its deadline is aborted and reported; the others still stop', async () => {
  const clock = new SimClock();
  let aborted = false;
  const lc = new Lifecycle({ clock, stopDeadlineMs: 1_000 }).add({ name: 'a', stop: () => undefined }).add({
    name: 'slow',
    stop: (s) =>
      new Promise<void>(() => {
        s.addEventListener('abort', () => {
          aborted = true;
        });
      }),
  });
  await lc.start();
  const done = lc.stop();
  await advance(clock, 1_000);
  assert.deepEqual(await done, { slow: 'overran', a: 'stopped' });
  assert.ok(aborted);
});
