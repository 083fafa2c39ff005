/**
 * `tandem user` and `tandem token` as an operator runs them (issue 12): the password prompt with echo off (on a real
 * pseudo-terminal from util-linux `script`), --password-stdin, the checks that refuse bad input without touching the
 * file, and a token printed once and stored hashed.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { verifyPassword } from '../../src/api/http/users.ts';

const root = new URL('../../', import.meta.url).pathname;
const TANDEM = join(root, 'bin/tandem');
const dir = mkdtempSync(join(tmpdir(), `t12a-users-cli-${process.pid}-`));
after(() => rmSync(dir, { recursive: true, force: true }));

const cli = (args: string[], input?: string) => {
  const r = spawnSync(process.execPath, [TANDEM, ...args], { cwd: root, encoding: 'utf8', timeout: 30_000, input });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const file = join(dir, 'users.json');
const db = () => JSON.parse(readFileSync(file, 'utf8'));

test('tandem user add prompts twice on a terminal with echo off; the password never appears on the screen', async () => {
  const pw = 'pty-Secret-42';
  const child = spawn(
    'script',
    ['-qec', `${process.execPath} ${TANDEM} user add pat --role admin --users-file ${file}`, '/dev/null'],
    {
      cwd: root,
    },
  );
  let screen = '';
  const waitFor = (re: RegExp) =>
    new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no ${re} on the screen: ${JSON.stringify(screen)}`)), 20_000);
      const check = () => {
        if (re.test(screen)) {
          clearTimeout(t);
          child.stdout.off('data', onData);
          resolve();
        }
      };
      const onData = (c: Buffer) => {
        screen += c.toString();
        check();
      };
      child.stdout.on('data', onData);
      check();
    });
  await waitFor(/Password: $/);
  child.stdin.write(`${pw}\r`);
  await waitFor(/Again: $/);
  child.stdin.write(`${pw}\r`);
  await waitFor(/user pat \(admin\) added/);
  child.stdin.end();
  await new Promise((r) => child.once('exit', r));
  assert.ok(!screen.includes(pw), `the screen shows the password: ${JSON.stringify(screen)}`);
  const u = db().users.find((x: { name: string }) => x.name === 'pat');
  assert.equal(u.role, 'admin');
  assert.equal(await verifyPassword(pw, u.hash), true);
  assert.equal(statSync(file).mode & 0o777, 0o600);
});

test('bad input is refused with TND_API_USERS and leaves the file as it was', () => {
  assert.equal(
    cli(['user', 'add', 'vera', '--role', 'viewer', '--password-stdin', '--users-file', file], 'long-enough-pw\n').code,
    0,
  );
  const before = readFileSync(file, 'utf8');
  const cases: Array<[string[], string | undefined, RegExp]> = [
    [
      ['user', 'add', 'vera', '--role', 'admin', '--password-stdin'],
      'another-pw-1\n',
      /user vera exists \(role viewer\)/,
    ],
    [['user', 'add', 'sam', '--role', 'viewer', '--password-stdin'], 'short\n', /at least 8 characters/],
    [['user', 'add', 'bad name', '--role', 'viewer', '--password-stdin'], 'long-enough-pw\n', /must be 1\.\.64 of/],
    [['user', 'del', 'nobody'], undefined, /no user nobody/],
    [['user', 'passwd', 'nobody', '--password-stdin'], 'long-enough-pw\n', /no user nobody/],
    [['token', 'revoke', 'nothing'], undefined, /no token with id or name nothing/],
  ];
  for (const [args, input, re] of cases) {
    const r = cli([...args, '--users-file', file], input);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /TND_API_USERS/);
    assert.match(r.stderr, re);
  }
  const role = cli(
    ['user', 'add', 'x', '--role', 'root', '--password-stdin', '--users-file', file],
    'long-enough-pw\n',
  );
  assert.equal(role.code, 2);
  assert.match(role.stderr, /Allowed choices are viewer, operator, admin/);
  const noTty = cli(['user', 'add', 'y', '--role', 'viewer', '--users-file', file], '');
  assert.equal(noTty.code, 1);
  assert.match(noTty.stderr, /stdin is not a terminal: pass --password-stdin/);
  assert.equal(readFileSync(file, 'utf8'), before);
});

test('tandem token create prints the token once; list shows id, name and role, never the token; revoke removes it', () => {
  const c = cli(['token', 'create', '--role', 'operator', '--name', 'ci', '--users-file', file]);
  assert.equal(c.code, 0, c.stderr);
  const token = c.stdout.trim();
  assert.match(token, /^tnd_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
  assert.match(c.stderr, /shown only this once/);
  assert.ok(!readFileSync(file, 'utf8').includes(token.slice(17)), 'the secret is not stored');
  const l = cli(['token', 'list', '--json', '--users-file', file]);
  const rows = JSON.parse(l.stdout);
  assert.deepEqual(
    rows.map((r: { name: string; role: string; id: string }) => [r.name, r.role, r.id]),
    [['ci', 'operator', token.slice(4, 16)]],
  );
  assert.ok(!l.stdout.includes(token));
  assert.equal(cli(['token', 'create', '--role', 'viewer', '--name', 'ci', '--users-file', file]).code, 1);
  assert.equal(cli(['token', 'revoke', token.slice(4, 16), '--users-file', file]).code, 0);
  assert.deepEqual(db().tokens, []);
  const users = cli(['user', 'list', '--users-file', file]);
  assert.match(users.stdout, /^pat {2}admin {2}\S+\nvera {2}viewer {2}\S+\n$/);
});
