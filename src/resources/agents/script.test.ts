import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scriptAgent } from './script.ts';
import { fakeDeps, fakeRunner, NEVER } from './test-support.ts';

test('monitor: exit 0 is running, 7 is not running, others keep their OCF meaning', async () => {
  for (const [exit, code] of [
    [0, 'ok'],
    [7, 'not-running'],
    [1, 'generic-error'],
    [5, 'not-installed'],
  ] as const) {
    const a = scriptAgent({ start: 'up', stop: 'down', monitor: 'check' }, fakeDeps(fakeRunner(() => ({ exit })).run));
    assert.equal((await a.monitor(NEVER, 1_000)).code, code, `exit ${exit}`);
  }
});

test('start does nothing when the monitor says running; a failed stop is ok when it says stopped', async () => {
  let running = true;
  const f = fakeRunner((argv) => {
    if (argv[0] === 'check') return { exit: running ? 0 : 7 };
    if (argv[0] === 'down') {
      running = false;
      return { exit: 1 };
    }
    running = true;
    return { exit: 0 };
  });
  const a = scriptAgent({ start: 'up --fast', stop: 'down', monitor: 'check' }, fakeDeps(f.run));
  assert.equal((await a.start(NEVER, 1_000)).detail, 'already running');
  const stop = await a.stop(NEVER, 1_000);
  assert.equal(stop.code, 'ok');
  assert.equal((await a.start(NEVER, 1_000)).code, 'ok');
  assert.deepEqual(f.lines(), ['check', 'down', 'check', 'check', 'up --fast']);
  assert.equal(a.describe(), 'script:up');
});

test('without a monitor command the resource is never monitored', async () => {
  const f = fakeRunner(() => ({ exit: 0 }));
  const a = scriptAgent({ start: 'up', stop: 'down' }, fakeDeps(f.run));
  assert.equal(a.canMonitor, false);
  assert.equal((await a.monitor(NEVER, 1_000)).code, 'unimplemented');
  assert.equal((await a.start(NEVER, 1_000)).code, 'ok');
  assert.deepEqual(f.lines(), ['up']);
});
