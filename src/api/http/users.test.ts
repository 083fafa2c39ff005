import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { TandemError } from '../../core/errors.ts';
import { LoginLimiter, Sessions } from './auth.ts';
import {
  hashPassword,
  matchToken,
  newToken,
  readUsersFile,
  roleAllows,
  UserStore,
  verifyPassword,
  writeUsersFile,
} from './users.ts';

const dir = mkdtempSync(join(tmpdir(), `t12a-users-${process.pid}-`));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a password is stored as scrypt N=2^15 r=8 p=1 with a random salt, and verifies only with itself', async () => {
  const h = await hashPassword('correct horse');
  assert.match(h, /^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}$/);
  assert.notEqual(h, await hashPassword('correct horse'), 'salted');
  assert.equal(await verifyPassword('correct horse', h), true);
  assert.equal(await verifyPassword('correct horsE', h), false);
  assert.equal(await verifyPassword('correct horse', undefined), false, 'an unknown user never verifies');
  assert.equal(await verifyPassword('x', 'plain'), false);
  assert.equal(await verifyPassword('x', 'scrypt$1048576$8$1$AA==$AA=='), false, 'a hostile cost is refused');
});

test('a token is tnd_ID_SECRET; only its SHA-256 is stored, and it matches only itself', () => {
  const t = newToken('ci', 'operator', new Date(0));
  assert.match(t.token, /^tnd_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
  assert.ok(!JSON.stringify(t.record).includes(t.token.slice(17)), 'the secret (which may hold _) is not stored');
  const db = { users: [], tokens: [t.record] };
  assert.equal(matchToken(db, t.token)?.name, 'ci');
  assert.equal(matchToken(db, `${t.token.slice(0, -1)}${t.token.endsWith('A') ? 'B' : 'A'}`), undefined);
  assert.equal(matchToken(db, 'tnd_000000000000_' + 'A'.repeat(43)), undefined);
  assert.equal(matchToken(db, 'nonsense'), undefined);
});

test('the users file is written 0600 atomically; one readable by others is refused with TND_API_USERS naming it', () => {
  const p = join(dir, 'u.json');
  writeUsersFile(p, { users: [], tokens: [] });
  assert.equal(statSync(p).mode & 0o777, 0o600);
  chmodSync(p, 0o644);
  assert.throws(
    () => readUsersFile(p),
    (e: TandemError) => e.code === 'TND_API_USERS' && /mode 644.*chmod 600/.test(e.message),
  );
  const link = join(dir, 'link.json');
  symlinkSync(p, link);
  assert.throws(
    () => writeUsersFile(link, { users: [], tokens: [] }),
    (e: TandemError) => /symbolic link/.test(e.message),
  );
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{"users": [{"name": "x", "role": "root", "hash": ""}], "tokens": []}', { mode: 0o600 });
  assert.throws(() => readUsersFile(bad), /users\[0\] needs a name, a role/);
  assert.deepEqual(readUsersFile(join(dir, 'missing.json')), { users: [], tokens: [] });
});

test('the store re-reads a changed file and keeps the last good one when it turns bad (reporting it)', async () => {
  const p = join(dir, 's.json');
  writeUsersFile(p, { users: [{ name: 'a', role: 'viewer', hash: 'h', created: '' }], tokens: [] });
  const errors: string[] = [];
  const s = new UserStore(p, (m) => errors.push(m));
  assert.equal(s.user('a')?.role, 'viewer');
  writeUsersFile(p, { users: [{ name: 'a', role: 'admin', hash: 'h', created: '' }], tokens: [] });
  assert.equal(s.user('a')?.role, 'admin');
  writeFileSync(p, 'not json', { mode: 0o600 });
  assert.equal(s.user('a')?.role, 'admin');
  assert.match(errors[0]!, /not JSON/);
  assert.equal(readFileSync(p, 'utf8'), 'not json');
});

test('roles are ordered viewer < operator < admin', () => {
  assert.ok(roleAllows('admin', 'operator') && roleAllows('operator', 'viewer') && roleAllows('viewer', 'viewer'));
  assert.ok(!roleAllows('viewer', 'operator') && !roleAllows('operator', 'admin'));
});

test('sessions: random ids, a fixed TTL, bounded in number', () => {
  const s = new Sessions(1000);
  const a = s.create('u', 'viewer', 0);
  assert.notEqual(a.id, s.create('u', 'viewer', 0).id);
  assert.equal(s.get(a.id, 999)?.user, 'u');
  assert.equal(s.get(a.id, 1000), undefined);
  s.dropUser('u');
  assert.equal(s.size, 0);
});

test('the limiter: failures outside the window do not count; a lockout ends after its period', () => {
  const l = new LoginLimiter({ maxFailures: 3, windowMs: 1000, lockoutMs: 5000, perAddressPerMinute: 1000 });
  l.fail('u', 'a1', 0);
  l.fail('u', 'a2', 100);
  assert.deepEqual(l.fail('u', 'a3', 1200), [], 'the first two are out of the window now');
  assert.deepEqual(l.fail('u', 'a4', 1300), []);
  assert.deepEqual(l.check('u', 'a5', 1350), { ok: true });
  assert.deepEqual(l.fail('u', 'a5', 1400), ['user']);
  const g = l.check('u', 'a6', 1500);
  assert.equal(g.ok, false);
  assert.deepEqual(l.check('u', 'a6', 6401), { ok: true });
});

test('the audit log refuses a symlink and a file others can read; reopen() follows logrotate to a new 0600 file', async () => {
  const { AuditLog } = await import('./audit.ts');
  const { renameSync, symlinkSync: link, writeFileSync: write } = await import('node:fs');
  const who = { name: 'root', role: 'admin', via: 'local', from: 'local' } as const;
  const p = join(dir, 'audit.log');
  const a = new AuditLog(p);
  a.write(who, 'reload', 'config', 'ok');
  renameSync(p, `${p}.1`);
  a.write(who, 'reload', 'config', 'ok');
  a.reopen();
  a.write(who, 'rs.drain', 'web/x', 'ok');
  a.close();
  assert.equal(readFileSync(`${p}.1`, 'utf8').trim().split('\n').length, 2);
  assert.match(readFileSync(p, 'utf8'), /^\{"time":.*"action":"rs\.drain".*\}\n$/);
  assert.equal(statSync(p).mode & 0o777, 0o600);
  link(p, join(dir, 'audit-link.log'));
  assert.throws(() => new AuditLog(join(dir, 'audit-link.log')), /cannot open the audit log/);
  write(join(dir, 'open.log'), '', { mode: 0o644 });
  chmodSync(join(dir, 'open.log'), 0o644);
  assert.throws(() => new AuditLog(join(dir, 'open.log')), /mode 644; the audit log must be 0600/);
});
