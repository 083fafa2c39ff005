import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { FileProbe } from '../types.ts';
import { judgeFileValue, runFileCheck } from './file.ts';

const never = new AbortController().signal;
const dir = mkdtempSync(join(tmpdir(), 'tandem-file-check-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const probe = (path: string, more: Partial<FileProbe> = {}): FileProbe => ({
  kind: 'file',
  path,
  weight: 0,
  reverse: false,
  baseWeight: 10,
  ...more,
});

test('weight 0: 0 in the file keeps the server up, any other value takes it down; a missing file is 0', async () => {
  const f = join(dir, 'web1');
  writeFileSync(f, '0\n');
  assert.equal((await runFileCheck(probe(f), never)).code, 'FILEOK');
  writeFileSync(f, '1\n');
  const down = await runFileCheck(probe(f), never);
  assert.equal(down.code, 'FILEERR');
  assert.match(down.detail, /web1: 1 \(weight 0/);
  assert.equal((await runFileCheck(probe(join(dir, 'missing')), never)).code, 'FILEOK');
});

test('a weight: value × weight is added to the configured weight; at or below -254 the server is down', async () => {
  const f = join(dir, 'web2');
  writeFileSync(f, '-3');
  const r = await runFileCheck(probe(f, { weight: 2 }), never);
  assert.equal(r.code, 'FILEOK');
  assert.equal(r.weight, 4);
  assert.equal(judgeFileValue(-3, { ...probe(f), weight: 2, reverse: true }).weight, 16);
  assert.equal(judgeFileValue(-127, { ...probe(f), weight: 2 }).code, 'FILEERR');
  assert.equal(judgeFileValue(-20, { ...probe(f), weight: 1 }).weight, 0);
});
