import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { runCommand, splitCommandLine } from './process.ts';

const never = new AbortController().signal;

/** Live (non-zombie) processes whose process group is `pgid`, from /proc. */
function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // pid (comm) state ppid pgrp …: comm may hold spaces, so split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] !== 'Z' && Number(fields[2]) === pgid) out.push(Number(entry));
  }
  return out;
}

/** Polls a condition until it holds or `ms` pass (bounded: for process death, which has no event to await). */
async function eventually(cond: () => boolean, ms = 2_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

function killPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

test('exit 0 is ok, with stdout and stderr captured', async () => {
  const r = await runCommand(['sh', '-c', 'echo out; echo err >&2'], { timeoutMs: 5_000, signal: never });
  assert.equal(r.outcome, 'ok');
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
  assert.equal(r.truncated, false);
  assert.ok(r.pid && r.pid > 0);
});

test('a non-zero exit is failed with its code', async () => {
  const r = await runCommand(['sh', '-c', 'exit 3'], { timeoutMs: 5_000, signal: never });
  assert.equal(r.outcome, 'failed');
  assert.equal(r.code, 3);
  assert.equal(r.signal, null);
});

test('a command line is split without a shell and run', async () => {
  const r = await runCommand(`printf '%s|' "two words" plain a\\ b`, { timeoutMs: 5_000, signal: never });
  assert.equal(r.outcome, 'ok');
  assert.equal(r.stdout, 'two words|plain|a b|');
});

test('env reaches the command', async () => {
  const r = await runCommand(['sh', '-c', 'echo "$TANDEM_X"'], {
    timeoutMs: 5_000,
    signal: never,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TANDEM_X: 'yes' },
  });
  assert.equal(r.stdout, 'yes\n');
});

test('a missing program is a spawn-error, not a rejection', async () => {
  const r = await runCommand(['/nonexistent/tandem-check'], { timeoutMs: 5_000, signal: never });
  assert.equal(r.outcome, 'spawn-error');
  assert.match(r.error ?? '', /ENOENT/);
  assert.equal(r.code, null);
});

test('an unsplittable or empty command line is a spawn-error with the reason', async () => {
  const r1 = await runCommand('/bin/true "oops', { timeoutMs: 5_000, signal: never });
  assert.deepEqual([r1.outcome, r1.error], ['spawn-error', 'unterminated-quote']);
  const r2 = await runCommand('   ', { timeoutMs: 5_000, signal: never });
  assert.deepEqual([r2.outcome, r2.error], ['spawn-error', 'empty']);
  const r3 = await runCommand([], { timeoutMs: 5_000, signal: never });
  assert.deepEqual([r3.outcome, r3.error], ['spawn-error', 'empty']);
});

test('a timeout kills the whole process group, background children included', async () => {
  const r = await runCommand(['sh', '-c', 'sleep 30 & echo $!; sleep 30'], { timeoutMs: 200, signal: never });
  const bg = Number(r.stdout.trim());
  try {
    assert.equal(r.outcome, 'timeout');
    assert.equal(r.code, null);
    assert.ok(r.durationMs >= 190 && r.durationMs < 5_000, `took ${r.durationMs} ms`);
    assert.ok(bg > 0, `background pid in ${JSON.stringify(r.stdout)}`);
    assert.ok(await eventually(() => groupMembers(r.pid!).length === 0), `left: ${groupMembers(r.pid!)}`);
  } finally {
    killPid(bg);
  }
});

test('a command that ignores SIGTERM is killed with SIGKILL after the grace', async () => {
  const r = await runCommand(['sh', '-c', 'trap "" TERM; sleep 30 & sleep 30'], {
    timeoutMs: 100,
    killGraceMs: 200,
    signal: never,
  });
  assert.equal(r.outcome, 'timeout');
  assert.equal(r.signal, 'SIGKILL');
  assert.ok(r.durationMs >= 290 && r.durationMs < 5_000, `took ${r.durationMs} ms`);
  assert.ok(await eventually(() => groupMembers(r.pid!).length === 0), `left: ${groupMembers(r.pid!)}`);
});

test('an abort kills the group and reports aborted', async () => {
  const ac = new AbortController();
  const t = setTimeout(() => ac.abort(), 100);
  const r = await runCommand(['sh', '-c', 'sleep 30 & sleep 30'], { timeoutMs: 10_000, signal: ac.signal });
  clearTimeout(t);
  assert.equal(r.outcome, 'aborted');
  assert.ok(r.durationMs < 5_000);
  assert.ok(await eventually(() => groupMembers(r.pid!).length === 0), `left: ${groupMembers(r.pid!)}`);
});

test('an already aborted signal starts nothing', async () => {
  const ac = new AbortController();
  ac.abort();
  const r = await runCommand(['sh', '-c', 'exit 0'], { timeoutMs: 5_000, signal: ac.signal });
  assert.equal(r.outcome, 'aborted');
  assert.equal(r.pid, undefined);
});

test('output beyond maxOutputBytes is read and dropped, and the run still completes', async () => {
  const r = await runCommand(['sh', '-c', "head -c 300000 /dev/zero | tr '\\0' a; echo done >&2"], {
    timeoutMs: 5_000,
    signal: never,
    maxOutputBytes: 1_000,
  });
  assert.equal(r.outcome, 'ok');
  assert.equal(r.stdout.length, 1_000);
  assert.equal(r.stdout, 'a'.repeat(1_000));
  assert.equal(r.stderr, 'done\n');
  assert.equal(r.truncated, true);
});

test('a command that leaves a background child holding its output resolves soon after it exits', async () => {
  const r = await runCommand(['sh', '-c', 'sleep 30 & echo $!'], { timeoutMs: 10_000, signal: never });
  const bg = Number(r.stdout.trim());
  try {
    assert.equal(r.outcome, 'ok');
    assert.ok(r.durationMs < 2_000, `took ${r.durationMs} ms`);
  } finally {
    killPid(bg);
  }
});

test('splitCommandLine: blanks separate words, quotes group them, like keepalived script lines', () => {
  const cases: [string, string[]][] = [
    ['/usr/bin/check', ['/usr/bin/check']],
    ['  a   b\tc  ', ['a', 'b', 'c']],
    [`check --name "web 1"`, ['check', '--name', 'web 1']],
    [`check 'a "b" c'`, ['check', 'a "b" c']],
    [`check "it's"`, ['check', "it's"]],
    [`a"b c"d`, ['ab cd']],
    [`x "" y`, ['x', '', 'y']],
    [`x ''`, ['x', '']],
    [`a\\ b`, ['a b']],
    [`"say \\"hi\\" \\\\ \\n"`, ['say "hi" \\ \\n']],
    [`'no \\escape'`, ['no \\escape']],
    [`$HOME *`, ['$HOME', '*']],
  ];
  for (const [line, argv] of cases) assert.deepEqual(splitCommandLine(line), { ok: true, argv }, line);
});

test('splitCommandLine: an empty line and an unterminated quote are reported', () => {
  assert.deepEqual(splitCommandLine(''), { ok: false, reason: 'empty' });
  assert.deepEqual(splitCommandLine(' \t '), { ok: false, reason: 'empty' });
  assert.deepEqual(splitCommandLine(`a "b`), { ok: false, reason: 'unterminated-quote' });
  assert.deepEqual(splitCommandLine(`a 'b`), { ok: false, reason: 'unterminated-quote' });
});
