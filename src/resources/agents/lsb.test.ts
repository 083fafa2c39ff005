import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lsbAgent, lsbStatusResult, resolveScript } from './lsb.ts';
import { fakeDeps, fakeRunner, NEVER } from './test-support.ts';

test('LSB status codes: 0 running; 1, 2, 3 not running; 4 unknown; 150/151 not installed / no privileges', () => {
  assert.equal(lsbStatusResult(0, 'nginx is running.'), 'ok');
  assert.equal(lsbStatusResult(1, ''), 'not-running');
  assert.equal(lsbStatusResult(2, ''), 'not-running');
  assert.equal(lsbStatusResult(3, ''), 'not-running');
  assert.equal(lsbStatusResult(4, ''), 'generic-error');
  assert.equal(lsbStatusResult(150, ''), 'not-installed');
  assert.equal(lsbStatusResult(151, ''), 'insufficient-privileges');
  assert.equal(lsbStatusResult(9, ''), 'generic-error');
});

test("heartbeat's text fallback: a script that exits 0 either way is read by its words", () => {
  assert.equal(lsbStatusResult(0, 'OK'), 'ok');
  assert.equal(lsbStatusResult(0, 'httpd (pid 42) is running...'), 'ok');
  assert.equal(lsbStatusResult(0, 'httpd is stopped'), 'not-running');
  assert.equal(lsbStatusResult(0, 'httpd is not running'), 'not-running');
  assert.equal(lsbStatusResult(0, 'Not  Running'), 'not-running');
});

test('a bare script name is looked up in /etc/ha.d/resource.d, then /etc/init.d', () => {
  const deps = { exists: (p: string) => p === '/etc/init.d/httpd' || p === '/etc/ha.d/resource.d/IPaddr' };
  assert.equal(resolveScript('httpd', deps), '/etc/init.d/httpd');
  assert.equal(resolveScript('IPaddr', deps), '/etc/ha.d/resource.d/IPaddr');
  assert.equal(resolveScript('/etc/init.d/httpd', deps), '/etc/init.d/httpd');
  assert.equal(resolveScript('nope', deps), undefined);
});

/** A fake init script: `running` is its state; start and stop exit with the given codes. */
function fakeInit(opts: { running: boolean; startExit?: number; stopExit?: number; statusText?: boolean }) {
  const state = { running: opts.running };
  const f = fakeRunner((argv) => {
    const action = argv.at(-1);
    if (action === 'status')
      return opts.statusText
        ? { exit: 0, stdout: state.running ? 'running' : 'stopped' }
        : { exit: state.running ? 0 : 3 };
    if (action === 'start') {
      const exit = opts.startExit ?? 0;
      if (exit === 0) state.running = true;
      return { exit };
    }
    const exit = opts.stopExit ?? 0;
    if (exit === 0) state.running = false;
    return { exit };
  });
  return { f, state, deps: fakeDeps(f.run, { files: ['/etc/init.d/app'] }) };
}

test('start asks status first and does nothing when the service runs', async () => {
  const { f, deps } = fakeInit({ running: true });
  const a = lsbAgent({ script: 'app', args: ['web'] }, deps);
  const r = await a.start(NEVER, 5_000);
  assert.equal(r.code, 'ok');
  assert.equal(r.detail, 'already running');
  assert.deepEqual(f.lines(), ['/etc/init.d/app web status']);
});

test('start on a stopped service runs start; its exit code is mapped like OCF', async () => {
  const { f, deps } = fakeInit({ running: false, startExit: 1 });
  const r = await lsbAgent({ script: 'app' }, deps).start(NEVER, 5_000);
  assert.equal(r.code, 'generic-error');
  assert.deepEqual(f.lines(), ['/etc/init.d/app status', '/etc/init.d/app start']);
});

test('a stop that fails on a stopped service is ok (a script that is not LSB-compliant)', async () => {
  const { deps } = fakeInit({ running: false, stopExit: 1 });
  const r = await lsbAgent({ script: 'app' }, deps).stop(NEVER, 5_000);
  assert.equal(r.code, 'ok');
  assert.match(r.detail ?? '', /not LSB-compliant/);
});

test('a stop that fails on a running service fails', async () => {
  const { deps } = fakeInit({ running: true, stopExit: 1 });
  assert.equal((await lsbAgent({ script: 'app' }, deps).stop(NEVER, 5_000)).code, 'generic-error');
});

test('monitor reads a script that exits 0 either way by its words', async () => {
  const { deps, state } = fakeInit({ running: true, statusText: true });
  const a = lsbAgent({ script: 'app' }, deps);
  assert.equal((await a.monitor(NEVER, 5_000)).code, 'ok');
  state.running = false;
  assert.equal((await a.monitor(NEVER, 5_000)).code, 'not-running');
});

test('a missing script is not-installed for start and monitor, and stopped for stop', async () => {
  const f = fakeRunner(() => ({ exit: 0 }));
  const a = lsbAgent({ script: 'ghost' }, fakeDeps(f.run));
  assert.equal((await a.start(NEVER, 1_000)).code, 'not-installed');
  assert.equal((await a.monitor(NEVER, 1_000)).code, 'not-installed');
  assert.equal((await a.stop(NEVER, 1_000)).code, 'ok');
  assert.deepEqual(f.calls, []);
});
