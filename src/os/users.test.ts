import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveUser } from './users.ts';

const db = {
  passwd:
    'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\nweb:x:1001:1002::/home/web:/bin/sh\n',
  group: 'root:x:0:\nnogroup:x:65534:\nwww:x:33:\n',
};

test('a user name resolves to its uid and primary group; a group after it (space or colon) overrides', () => {
  assert.deepEqual(resolveUser('web', db), { ok: true, uid: 1001, gid: 1002 });
  assert.deepEqual(resolveUser('web www', db), { ok: true, uid: 1001, gid: 33 });
  assert.deepEqual(resolveUser('nobody:nogroup', db), { ok: true, uid: 65534, gid: 65534 });
  assert.deepEqual(resolveUser('1234', db), { ok: true, uid: 1234, gid: 1234 });
});

test('an unknown user or group is an error that says which', () => {
  assert.deepEqual(resolveUser('ghost', db), { ok: false, reason: 'no user ghost in /etc/passwd' });
  assert.deepEqual(resolveUser('web ghosts', db), { ok: false, reason: 'no group ghosts in /etc/group' });
  assert.equal(resolveUser('  ', db).ok, false);
});

test('the real databases know root', () => {
  assert.deepEqual(resolveUser('root'), { ok: true, uid: 0, gid: 0 });
});
