import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lbAgent } from './lb.ts';
import { NEVER } from './test-support.ts';

test('an lb resource starts and stops its virtual services through the hook', async () => {
  const calls: string[] = [];
  const a = lbAgent(['web', 'api'], {
    startServices: (n) => calls.push(`start ${n.join(',')}`),
    stopServices: (n) => calls.push(`stop ${n.join(',')}`),
  });
  assert.equal((await a.monitor(NEVER, 1)).code, 'not-running');
  assert.equal((await a.start(NEVER, 1)).code, 'ok');
  assert.equal((await a.monitor(NEVER, 1)).code, 'ok', 'without servicesRunning the agent remembers');
  assert.equal((await a.stop(NEVER, 1)).code, 'ok');
  assert.deepEqual(calls, ['start web,api', 'stop web,api']);
  assert.equal(a.describe(), 'lb:web,api');
});

test('an lb hook that throws fails the call; servicesRunning answers monitors', async () => {
  const a = lbAgent(['web'], {
    startServices: () => Promise.reject(new Error('nft: table busy')),
    stopServices: () => undefined,
    servicesRunning: () => true,
  });
  const r = await a.start(NEVER, 1);
  assert.equal(r.code, 'generic-error');
  assert.match(r.detail ?? '', /table busy/);
  assert.equal((await a.monitor(NEVER, 1)).code, 'ok');
});

test('without a load balancer in the daemon, start is not-installed and stop is ok', async () => {
  const a = lbAgent(['web'], undefined);
  assert.equal((await a.start(NEVER, 1)).code, 'not-installed');
  assert.equal((await a.stop(NEVER, 1)).code, 'ok');
});
