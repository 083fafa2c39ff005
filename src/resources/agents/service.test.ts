import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serviceAgent } from './service.ts';
import { fakeDeps, fakeRunner, NEVER } from './test-support.ts';

test('with systemd: systemctl start / stop, and is-active for monitor', async () => {
  const f = fakeRunner((argv) => (argv[1] === 'is-active' ? { exit: 0, stdout: 'active\n' } : { exit: 0 }));
  const a = serviceAgent('nginx', fakeDeps(f.run, { systemd: true }));
  assert.equal((await a.start(NEVER, 1_000)).code, 'ok');
  assert.equal((await a.monitor(NEVER, 1_000)).code, 'ok');
  assert.equal((await a.stop(NEVER, 1_000)).code, 'ok');
  assert.deepEqual(f.lines(), ['systemctl start nginx', 'systemctl is-active nginx', 'systemctl stop nginx']);
  assert.equal(a.describe(), 'service:nginx (systemd)');
});

test('is-active words: inactive is not running; failed and activating are failures', async () => {
  for (const [word, exit, code] of [
    ['inactive', 3, 'not-running'],
    ['failed', 3, 'generic-error'],
    ['activating', 3, 'generic-error'],
    ['reloading', 0, 'ok'],
  ] as const) {
    const a = serviceAgent('app', fakeDeps(fakeRunner(() => ({ exit, stdout: `${word}\n` })).run, { systemd: true }));
    const r = await a.monitor(NEVER, 1_000);
    assert.equal(r.code, code, word);
    assert.equal(r.detail, word);
  }
});

test('stopping a unit that is not loaded is ok', async () => {
  const a = serviceAgent(
    'gone',
    fakeDeps(fakeRunner(() => ({ exit: 5, stderr: 'Unit gone.service not loaded.' })).run, { systemd: true }),
  );
  assert.equal((await a.stop(NEVER, 1_000)).code, 'ok');
  assert.equal((await a.start(NEVER, 1_000)).code, 'not-installed');
});

test('without systemd: the init script, else the service command, as an LSB script', async () => {
  const f = fakeRunner((argv) => ({ exit: argv.at(-1) === 'status' ? 3 : 0 }));
  await serviceAgent('nginx', fakeDeps(f.run, { files: ['/etc/init.d/nginx'] })).start(NEVER, 1_000);
  await serviceAgent('app', fakeDeps(f.run)).start(NEVER, 1_000);
  assert.deepEqual(f.lines(), [
    '/etc/init.d/nginx status',
    '/etc/init.d/nginx start',
    'service app status',
    'service app start',
  ]);
});
