import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OCF_EXIT_CODES } from '../types.ts';
import { DEFAULT_OCF_ROOT, exitReason, ocfAgent } from './ocf.ts';
import { fakeDeps, fakeRunner, NEVER } from './test-support.ts';

const PATH = `${DEFAULT_OCF_ROOT}/resource.d/heartbeat/Dummy`;

test('an OCF agent is called with the action as its sole argument and the OCF environment', async () => {
  const f = fakeRunner(() => ({ exit: 0 }));
  const a = ocfAgent(
    {
      provider: 'heartbeat',
      type: 'Dummy',
      params: { state: '/run/x.state' },
      instance: 'web-d1',
      monitorIntervalMs: 10_000,
    },
    fakeDeps(f.run, { files: [PATH] }),
  );
  await a.start(NEVER, 20_000);
  await a.monitor(NEVER, 5_000);
  assert.deepEqual(f.lines(), [`${PATH} start`, `${PATH} monitor`]);
  const [start, monitor] = f.calls;
  assert.deepEqual(
    Object.fromEntries(Object.entries(start!.env!).filter(([k]) => k.startsWith('OCF_') || k === 'PATH')),
    {
      PATH: '/usr/bin:/bin',
      OCF_ROOT: DEFAULT_OCF_ROOT,
      OCF_RA_VERSION_MAJOR: '1',
      OCF_RA_VERSION_MINOR: '1',
      OCF_RESOURCE_INSTANCE: 'web-d1',
      OCF_RESOURCE_TYPE: 'Dummy',
      OCF_RESOURCE_PROVIDER: 'heartbeat',
      OCF_RESKEY_CRM_meta_timeout: '20000',
      OCF_RESKEY_CRM_meta_interval: '0',
      OCF_RESKEY_state: '/run/x.state',
    },
  );
  assert.equal(start!.timeoutMs, 20_000);
  assert.equal(monitor!.env!.OCF_RESKEY_CRM_meta_interval, '10000');
  assert.equal(monitor!.env!.OCF_RESKEY_CRM_meta_timeout, '5000');
  assert.equal(monitor!.env!.OCF_CHECK_LEVEL, '0');
  await a.monitor(NEVER, 5_000, true);
  assert.equal(f.calls[2]!.env!.OCF_RESKEY_CRM_meta_interval, '0', 'a probe is a monitor with interval 0');
});

test('OCF exit codes 0..7 map to their results; anything else is a generic error', async () => {
  for (const row of [...OCF_EXIT_CODES, { exit: 8, code: 'generic-error' }, { exit: 190, code: 'generic-error' }]) {
    const f = fakeRunner(() => ({ exit: row.exit }));
    const a = ocfAgent(
      { provider: 'heartbeat', type: 'Dummy', params: {}, instance: 'i' },
      fakeDeps(f.run, { files: [PATH] }),
    );
    const r = await a.monitor(NEVER, 1_000);
    assert.equal(r.code, row.code, `exit ${row.exit}`);
    assert.equal(r.exitCode, row.exit);
  }
});

test('a missing agent file is not-installed, without running anything', async () => {
  const f = fakeRunner(() => ({ exit: 0 }));
  const a = ocfAgent({ provider: 'heartbeat', type: 'Nope', params: {}, instance: 'i' }, fakeDeps(f.run));
  const r = await a.start(NEVER, 1_000);
  assert.equal(r.code, 'not-installed');
  assert.match(r.detail ?? '', /resource\.d\/heartbeat\/Nope is missing/);
  assert.deepEqual(f.calls, []);
});

test('OCF_ROOT can be moved', async () => {
  const f = fakeRunner(() => ({ exit: 0 }));
  const a = ocfAgent(
    { provider: 'acme', type: 'app', params: {}, instance: 'i' },
    fakeDeps(f.run, { files: ['/opt/ocf/resource.d/acme/app'], ocfRoot: '/opt/ocf' }),
  );
  assert.equal((await a.stop(NEVER, 1_000)).code, 'ok');
  assert.equal(f.calls[0]!.env!.OCF_ROOT, '/opt/ocf');
});

test('a parameter name that is no environment name is invalid-args', async () => {
  const f = fakeRunner(() => ({ exit: 0 }));
  const a = ocfAgent(
    { provider: 'heartbeat', type: 'Dummy', params: { 'bad-name': 'x' }, instance: 'i' },
    fakeDeps(f.run, { files: [PATH] }),
  );
  assert.equal((await a.start(NEVER, 1_000)).code, 'invalid-args');
  assert.deepEqual(f.calls, []);
});

test('the ocf-exit-reason an agent prints becomes the detail, and output is kept', async () => {
  const f = fakeRunner(() => ({
    exit: 6,
    stderr: 'INFO: checking\nocf-exit-reason:State file "/x" is not writable\n',
  }));
  const a = ocfAgent(
    { provider: 'heartbeat', type: 'Dummy', params: {}, instance: 'i' },
    fakeDeps(f.run, { files: [PATH] }),
  );
  const r = await a.start(NEVER, 1_000);
  assert.equal(r.code, 'not-configured');
  assert.equal(r.detail, 'State file "/x" is not writable');
  assert.match(r.output ?? '', /INFO: checking/);
  assert.equal(exitReason('no reason here'), undefined);
});

test('timeouts, aborts and unstartable agents have their own results', async () => {
  const cases = [
    [{ outcome: 'timeout' as const }, 'timeout'],
    [{ outcome: 'aborted' as const }, 'cancelled'],
    [{ spawnError: 'EACCES: permission denied' }, 'insufficient-privileges'],
    [{ spawnError: 'ENOENT: no such file' }, 'not-installed'],
  ] as const;
  for (const [reply, code] of cases) {
    const a = ocfAgent(
      { provider: 'heartbeat', type: 'Dummy', params: {}, instance: 'i' },
      fakeDeps(fakeRunner(() => reply).run, { files: [PATH] }),
    );
    assert.equal((await a.monitor(NEVER, 1_000)).code, code);
  }
});

test('validate-all and meta-data are available', async () => {
  const f = fakeRunner((argv) => ({
    exit: 0,
    stdout: argv[1] === 'meta-data' ? '<resource-agent name="Dummy"/>' : '',
  }));
  const a = ocfAgent(
    { provider: 'heartbeat', type: 'Dummy', params: {}, instance: 'i' },
    fakeDeps(f.run, { files: [PATH] }),
  );
  assert.equal((await a.validate!(NEVER, 1_000)).code, 'ok');
  assert.equal((await a.metaData(NEVER)).xml, '<resource-agent name="Dummy"/>');
  assert.deepEqual(f.lines(), [`${PATH} validate-all`, `${PATH} meta-data`]);
  assert.equal(a.describe(), 'ocf:heartbeat:Dummy');
});
