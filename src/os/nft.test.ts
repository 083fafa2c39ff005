import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { TandemError } from '../core/errors.ts';
import { createNftRunner, nftErrorSummary, runWithInput } from './nft.ts';

const dir = mkdtempSync(join(tmpdir(), 'tandem-nft-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in nft: a shell script that records its stdin and arguments, then behaves as told. */
function fakeNft(body: string): string {
  const path = join(dir, `nft-${Math.random().toString(36).slice(2)}`);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

/** Real nft in a throwaway network namespace of its own (`unshare -n`): never the host's ruleset. */
const canUnshare =
  process.getuid?.() === 0 && spawnSync('unshare', ['-n', 'nft', 'list', 'tables'], { stdio: 'ignore' }).status === 0;
const skipReal = canUnshare ? false : 'needs root, unshare and nft';

test('runWithInput: the script reaches the child on stdin and its output comes back', async () => {
  const r = await runWithInput(['cat'], 'add table inet t\n', { timeoutMs: 5_000 });
  assert.equal(r.outcome, 'ok');
  assert.equal(r.stdout, 'add table inet t\n');
});

test('runWithInput: a child past its deadline is killed with its process group', async () => {
  const r = await runWithInput(['sh', '-c', 'sleep 30 & sleep 30'], '', { timeoutMs: 100, killGraceMs: 100 });
  assert.equal(r.outcome, 'timeout');
  assert.ok(r.durationMs < 5_000, `${r.durationMs} ms`);
});

test('runWithInput: an abort kills the child; an already aborted signal starts nothing', async () => {
  const ac = new AbortController();
  const run = runWithInput(['sleep', '30'], '', { timeoutMs: 10_000, signal: ac.signal, killGraceMs: 100 });
  setTimeout(() => ac.abort(), 50);
  assert.equal((await run).outcome, 'aborted');
  assert.equal((await runWithInput(['sleep', '30'], '', { timeoutMs: 10_000, signal: ac.signal })).outcome, 'aborted');
});

test('runWithInput: a missing binary is a spawn error, not an exception', async () => {
  const r = await runWithInput(['/nonexistent/nft'], '', { timeoutMs: 1_000 });
  assert.equal(r.outcome, 'spawn-error');
  assert.match(r.error ?? '', /ENOENT/);
});

test('nftErrorSummary: keeps the error lines with stdin named as line numbers, and bounds the length', () => {
  const stderr =
    '/dev/stdin:2:1-4: Error: Could not process rule: No such file or directory\nflush map inet t nope\n^^^^^\n';
  assert.equal(
    nftErrorSummary(stderr),
    'line 2:1-4: Error: Could not process rule: No such file or directory\nflush map inet t nope\n^^^^^',
  );
  const many = Array.from({ length: 30 }, (_, i) => `Error ${i}`).join('\n');
  const s = nftErrorSummary(many, 5).split('\n');
  assert.equal(s.length, 6);
  assert.equal(s[5], '… (25 more lines)');
});

test('apply: the script goes to `nft -f -` on stdin, after the wrap argv', async () => {
  const log = join(dir, 'apply.log');
  const nft = fakeNft(`echo "$@" > ${log}.args; cat > ${log}`);
  const runner = createNftRunner({ nftPath: nft, wrap: ['env'] });
  await runner.apply('add table inet t\n');
  assert.equal(spawnSync('cat', [log], { encoding: 'utf8' }).stdout, 'add table inet t\n');
  assert.equal(spawnSync('cat', [`${log}.args`], { encoding: 'utf8' }).stdout.trim(), '-f -');
});

test("apply: nft's refusal becomes a TND_NFT_APPLY TandemError with nft's own words", async () => {
  const nft = fakeNft(
    'cat > /dev/null; echo "/dev/stdin:1:1-3: Error: syntax error, unexpected junk" >&2; echo "junk" >&2; exit 1',
  );
  await assert.rejects(
    createNftRunner({ nftPath: nft }).apply('junk\n'),
    (e: unknown) =>
      e instanceof TandemError &&
      e.code === 'TND_NFT_APPLY' &&
      e.message === 'nft -f - failed (exit 1):\nline 1:1-3: Error: syntax error, unexpected junk\njunk',
  );
});

test('apply: a hung nft is killed at the deadline and reported as such', async () => {
  const nft = fakeNft('sleep 30');
  await assert.rejects(
    createNftRunner({ nftPath: nft, timeoutMs: 100, killGraceMs: 100 }).apply('add table inet t\n'),
    /nft -f - failed \(no answer within 100 ms, killed\)/,
  );
});

test('deleteTable and listTable: an absent table is false / null, not an error', async () => {
  const nft = fakeNft('echo "Error: No such file or directory; did you mean table ‘x’ in family inet?" >&2; exit 1');
  const runner = createNftRunner({ nftPath: nft });
  assert.equal(await runner.deleteTable('t'), false);
  assert.equal(await runner.listTable('t'), null);
  const broken = createNftRunner({ nftPath: fakeNft('echo "Error: Operation not permitted" >&2; exit 1') });
  await assert.rejects(
    broken.deleteTable('t'),
    /nft delete table inet t failed \(exit 1\):\nError: Operation not permitted/,
  );
});

test('real nft: a transaction with an error changes nothing and the message names the line', {
  skip: skipReal,
}, async () => {
  // Each call is its own fresh namespace, so the second statement fails on a table that the first just made only
  // inside the failing transaction.
  const runner = createNftRunner({ wrap: ['unshare', '-n'] });
  await assert.rejects(
    runner.apply('add table inet t\nflush map inet t nosuch\n'),
    (e: unknown) => e instanceof TandemError && /line 2:.*No such file or directory/.test(e.message),
  );
  assert.equal(await runner.deleteTable('t'), false);
  assert.equal(await runner.listTable('t'), null);
  await runner.apply('add table inet t\n');
});
