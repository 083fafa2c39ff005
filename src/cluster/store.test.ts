import assert from 'node:assert/strict';
import { test } from 'node:test';
import { memoryStateFiles } from '../os/state-files.ts';
import { configHash } from './hash.ts';
import { VersionStore } from './store.ts';
import { unifiedDiff } from './text-diff.ts';

const v = (n: number, text = `t${n}\n`) => ({
  version: n,
  hash: configHash(text),
  text,
  format: 'yaml',
  appliedAt: '2026-12-04T15:00:00Z',
  appliedBy: 'root@local',
});

test('the store keeps the newest N versions, one 0600 file each, and ignores a file whose text does not match its hash', () => {
  const files = memoryStateFiles();
  const s = new VersionStore(files, 2);
  for (const n of [1, 2, 3]) s.put(v(n));
  assert.deepEqual(files.list(), ['v000002.json', 'v000003.json']);
  assert.equal(s.current()?.version, 3);
  files.write('v000003.json', JSON.stringify({ ...v(3), text: 'edited by hand\n' }));
  assert.equal(s.current()?.version, 2, 'a tampered version is not trusted');
  s.stage(v(4));
  assert.equal(s.staged()?.version, 4);
  s.unstage();
  assert.equal(s.staged(), undefined);
});

test('configHash is sha256 of the exact bytes', () => {
  assert.equal(configHash(''), 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.notEqual(configHash('a\n'), configHash('a\r\n'));
});

test('the unified diff is the one diff -u prints', () => {
  const a = 'a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n';
  const b = 'a\nB\nc\nd\ne\nf\ng\nh\ni\nj\nk\n';
  assert.equal(
    unifiedDiff(a, b, 'old', 'new'),
    '--- old\n+++ new\n@@ -1,5 +1,5 @@\n a\n-b\n+B\n c\n d\n e\n@@ -8,3 +8,4 @@\n h\n i\n j\n+k\n',
  );
  assert.equal(unifiedDiff('x\n', 'x\n', 'a', 'b'), '');
  assert.equal(unifiedDiff('', 'y\n', 'a', 'b'), '--- a\n+++ b\n@@ -0,0 +1 @@\n+y\n');
});
