import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunResult } from '../../os/process.ts';
import { pingArgv, runPingCheck } from './ping.ts';

const never = new AbortController().signal;

test('pingArgv: numeric, one echo, a whole-second deadline of at least 1 s, the family of the address', () => {
  assert.deepEqual(pingArgv({ kind: 'ping', addr: '198.18.0.2', timeoutMs: 2_500 }), [
    'ping',
    '-n',
    '-c',
    '1',
    '-W',
    '3',
    '-4',
    '198.18.0.2',
  ]);
  assert.deepEqual(pingArgv({ kind: 'ping', addr: '::1', timeoutMs: 100, bindAddr: '::1' }).slice(4), [
    '-W',
    '1',
    '-I',
    '::1',
    '-6',
    '::1',
  ]);
});

test('a real echo reply from 127.0.0.1 and ::1 is L4OK', async () => {
  for (const addr of ['127.0.0.1', '::1']) {
    const r = await runPingCheck({ kind: 'ping', addr, timeoutMs: 2_000 }, never);
    assert.equal(r.code, 'L4OK', `${addr}: ${r.detail}`);
  }
});

test("ping's exit tells the code: 1 without an ICMP error is L4TOUT, an ICMP error is L4CON, no ping is SOCKERR", async () => {
  const fake = (r: Partial<RunResult>) => async (): Promise<RunResult> =>
    ({ outcome: 'failed', code: 1, signal: null, stdout: '', stderr: '', durationMs: 5, ...r }) as RunResult;
  const spec = { kind: 'ping', addr: '198.18.0.9', timeoutMs: 1_000 } as const;
  assert.equal((await runPingCheck(spec, never, fake({}))).code, 'L4TOUT');
  const unreach = await runPingCheck(
    spec,
    never,
    fake({ stdout: 'From 198.18.0.1 icmp_seq=1 Destination Host Unreachable\n' }),
  );
  assert.equal(unreach.code, 'L4CON');
  assert.equal(unreach.detail, 'Destination Host Unreachable');
  assert.equal((await runPingCheck(spec, never, fake({ outcome: 'spawn-error', error: 'ENOENT' }))).code, 'SOCKERR');
});
