import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CommandRunner } from '../../os/process.ts';
import type { ScriptProbe } from '../types.ts';
import { runScriptCheck } from './script.ts';

const never = new AbortController().signal;

function probe(command: ScriptProbe['command'], extra: Partial<ScriptProbe> = {}): ScriptProbe {
  return { kind: 'script', command, timeoutMs: 5_000, dynamic: false, ...extra };
}

test('MISC_CHECK: exit 0 is PROCOK, any other exit PROCERR quoting the first line the script printed', async () => {
  const ok = await runScriptCheck(probe(['sh', '-c', 'exit 0']), never);
  assert.deepEqual([ok.code, ok.detail, ok.weight], ['PROCOK', 'exit 0', undefined]);
  const bad = await runScriptCheck(probe(['sh', '-c', 'echo "db replica lagging 42 s" >&2; exit 3']), never);
  assert.deepEqual([bad.code, bad.detail], ['PROCERR', 'exit 3: db replica lagging 42 s']);
  const quiet = await runScriptCheck(probe(['sh', '-c', 'exit 12']), never);
  assert.deepEqual([quiet.code, quiet.detail, quiet.weight], ['PROCERR', 'exit 12', undefined]);
});

test('misc_path is a command line split without a shell', async () => {
  const r = await runScriptCheck(probe(`sh -c 'test "$0" = "two words"' "two words"`), never);
  assert.equal(r.code, 'PROCOK');
});

test('misc_dynamic: exit 0 passes with the configured weight, 1 fails, 2..255 pass with weight code − 2', async () => {
  const run = (code: number) => runScriptCheck(probe(['sh', '-c', `exit ${code}`], { dynamic: true }), never);
  const zero = await run(0);
  assert.deepEqual([zero.code, zero.weight], ['PROCOK', undefined]);
  const one = await run(1);
  assert.deepEqual([one.code, one.detail, one.weight], ['PROCERR', 'exit 1', undefined]);
  const two = await run(2);
  assert.deepEqual([two.code, two.detail, two.weight], ['PROCOK', 'exit 2, weight 0', 0]);
  const twelve = await run(12);
  assert.deepEqual([twelve.code, twelve.detail, twelve.weight], ['PROCOK', 'exit 12, weight 10', 10]);
  const top = await run(255);
  assert.deepEqual([top.code, top.weight], ['PROCOK', 253]);
});

test('misc_timeout: a script still running at the deadline is killed, PROCTOUT', async () => {
  const r = await runScriptCheck(probe(['sleep', '5'], { timeoutMs: 100 }), never);
  assert.deepEqual([r.code, r.detail], ['PROCTOUT', 'no exit within 100 ms, killed']);
  assert.ok(r.durationMs < 2_000, `took ${r.durationMs} ms`);
});

test('a script that cannot start, or dies of a signal, is PROCERR saying so', async () => {
  const missing = await runScriptCheck(probe(['/nonexistent/tandem-check']), never);
  assert.equal(missing.code, 'PROCERR');
  assert.match(missing.detail, /^cannot start: .*ENOENT/);
  const killed = await runScriptCheck(probe(['sh', '-c', 'kill -9 $$']), never);
  assert.deepEqual([killed.code, killed.detail], ['PROCERR', 'killed by SIGKILL']);
});

test('a long first line of output is cut in the detail', async () => {
  const r = await runScriptCheck(probe(['sh', '-c', `printf '%0300d' 0; exit 4`]), never);
  assert.equal(r.code, 'PROCERR');
  assert.equal(r.detail, `exit 4: ${'0'.repeat(120)}…`);
});

test('the runner is injectable, and gets the timeout, the signal, the user and the environment', async () => {
  const calls: Parameters<CommandRunner>[] = [];
  const fake: CommandRunner = async (command, opts) => {
    calls.push([command, opts]);
    return { outcome: 'aborted', code: null, signal: null, stdout: '', stderr: '', truncated: false, durationMs: 1 };
  };
  const ac = new AbortController();
  const r = await runScriptCheck(
    probe('/bin/check', { uid: 1000, gid: 1000, env: { A: '1' }, timeoutMs: 70 }),
    ac.signal,
    fake,
  );
  assert.deepEqual([r.code, r.detail], ['PROCERR', 'aborted']);
  assert.equal(calls[0]?.[0], '/bin/check');
  assert.deepEqual(
    { ...calls[0]?.[1], signal: undefined },
    { timeoutMs: 70, signal: undefined, uid: 1000, gid: 1000, env: { A: '1' } },
  );
  assert.equal(calls[0]?.[1].signal, ac.signal);
});

test('a check that cannot run as its user fails with PROCERR saying why, without starting anything', async () => {
  let started = 0;
  const run: CommandRunner = async () => {
    started++;
    throw new Error('must not run');
  };
  const r = await runScriptCheck(
    { kind: 'script', command: '/bin/true', timeoutMs: 1_000, dynamic: false, refuse: 'cannot run as user ghost' },
    new AbortController().signal,
    run,
  );
  assert.deepEqual([r.code, r.detail, started], ['PROCERR', 'cannot run as user ghost', 0]);
});
