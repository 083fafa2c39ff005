import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseKeyText } from '../core/key-text.ts';
import { loadConfig } from './load.ts';

const SECRET = 'Xq7-shared-cluster-secret-of-32-bytes';
const yaml = (keyFile: string) => `cluster:\n  key_file: ${keyFile}\n`;

/** An in-memory disk with permission bits. */
function disk(files: Record<string, { text: string; mode: number }>) {
  return {
    read: (p: string) => files[p]?.text,
    glob: () => [],
    mode: (p: string) => files[p]?.mode,
  };
}

test('cluster.key_file: a 0600 authkeys or a one-line key loads; the key is in no diagnostic', () => {
  const fs = disk({
    '/etc/tandem/tandem.yaml': { text: yaml('/etc/ha.d/authkeys'), mode: 0o644 },
    '/etc/ha.d/authkeys': { text: `auth 2\n2 sha1 ${SECRET}\n`, mode: 0o600 },
    '/etc/tandem/plain.yaml': { text: yaml('cluster.key'), mode: 0o644 },
    '/etc/tandem/cluster.key': { text: `${SECRET}\n`, mode: 0o400 },
  });
  for (const f of ['/etc/tandem/tandem.yaml', '/etc/tandem/plain.yaml']) {
    const r = loadConfig(f, fs);
    assert.deepEqual(r.diagnostics, [], f);
    assert.ok(r.config);
  }
});

test('cluster.key_file: unreadable, readable by others, or holding no key is an error at key_file, without the key', () => {
  const fs = disk({
    '/c/missing.yaml': { text: yaml('/c/nope'), mode: 0o644 },
    '/c/open.yaml': { text: yaml('/c/open.key'), mode: 0o644 },
    '/c/open.key': { text: `${SECRET}\n`, mode: 0o644 },
    '/c/crc.yaml': { text: yaml('/c/crc'), mode: 0o644 },
    '/c/crc': { text: 'auth 1\n1 crc\n', mode: 0o600 },
  });
  const codes = (f: string) => loadConfig(f, fs).diagnostics.map((d) => [d.code, d.line, d.path]);
  assert.deepEqual(codes('/c/missing.yaml'), [['TND_CFG_IO', 2, 'cluster.key_file']]);
  assert.deepEqual(codes('/c/open.yaml'), [['TND_CFG_PERMISSIONS', 2, 'cluster.key_file']]);
  assert.deepEqual(codes('/c/crc.yaml'), [['TND_CFG_KEY', 2, 'cluster.key_file']]);
  const open = loadConfig('/c/open.yaml', fs);
  assert.match(open.diagnostics[0]!.message, /mode 0644: group or others can read the key; chmod 600/);
  assert.ok(!JSON.stringify(open.diagnostics).includes(SECRET));
});

test('a key file is read as heartbeat reads authkeys (the key of auth N; crc has none), or as a key of 32..64 bytes', () => {
  const ok = (t: string) => parseKeyText(t).ok;
  assert.equal(ok('# keys\nauth 3\n1 crc\n3 md5 k3\n'), true);
  assert.equal(ok('auth 1\n1 crc\n3 md5 k3\n'), false);
  assert.equal(ok('auth 2\n1 sha1 k1\n'), false);
  assert.equal(ok(`${'k'.repeat(32)}\n`), true);
  assert.equal(ok('just-a-short-key\n'), false);
  assert.equal(ok(`hex:${'ab'.repeat(32)}`), true);
  // The same secret gives the same key wherever it was written: an imported authkeys keys the peer channel.
  const a = parseKeyText('auth 1\n1 sha1 s3cret\n');
  const b = parseKeyText('auth 1\n1 sha1   s3cret   # comment\n');
  assert.ok(a.ok && b.ok);
  assert.deepEqual(a.ok && a.key, b.ok && b.key);
});
