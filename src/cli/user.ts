/**
 * `tandem user add|del|list|passwd` and `tandem token create|list|revoke`: edit the API's users file (api.users_file,
 * 0600, written atomically). A password comes from a prompt with echo off (twice), or from the first line of stdin
 * with `--password-stdin`; a token is printed once and only its hash is stored. The daemon re-reads the file, so a
 * change applies at once.
 */

import { hashPassword, nameProblem, newToken, readUsersFile, type UsersDb, writeUsersFile } from '../api/http/users.ts';
import type { Role } from '../api/http-plugin.ts';
import { DEFAULT_USERS_FILE } from '../config/schema-api.ts';
import type { CliIo } from './io.ts';

/** Where the users file is: --users-file, then api.users_file of --config, then the default. */
export async function usersFilePath(opts: { usersFile?: string; config?: string }): Promise<string> {
  if (opts.usersFile) return opts.usersFile;
  if (opts.config) {
    const { loadConfig } = await import('../config/load.ts');
    const { diskFs } = await import('../config/load-files.ts');
    const r = loadConfig(opts.config, diskFs);
    if (r.config?.api?.users_file) return r.config.api.users_file;
  }
  return process.env.TANDEM_USERS_FILE ?? DEFAULT_USERS_FILE;
}

/** The shortest password accepted. */
export const MIN_PASSWORD = 8;

/** Reads a password: a prompt with echo off on the terminal (asked twice), or the first line of stdin. */
export type PasswordSource = () => Promise<string>;

/** The first line of stdin (at most 4 KiB). */
export const passwordFromStdin: PasswordSource = async () => {
  let text = '';
  for await (const chunk of process.stdin) {
    text += chunk;
    if (text.includes('\n') || text.length > 4096) break;
  }
  return text.split(/\r?\n/)[0] ?? '';
};

// Keys typed ahead of a prompt (a paste of both lines) wait here for the next one.
let typedAhead = '';

function promptOnce(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    if (!stdin.isTTY) {
      reject(new Error('stdin is not a terminal: pass --password-stdin and pipe the password'));
      return;
    }
    stdin.setEncoding('utf8');
    process.stderr.write(prompt);
    let pw = '';
    const done = (v: string | Error) => {
      stdin.off('data', onData);
      stdin.pause();
      process.stderr.write('\n');
      if (v instanceof Error) reject(v);
      else resolve(v);
    };
    const consume = (): boolean => {
      while (typedAhead.length) {
        const c = typedAhead[0]!;
        typedAhead = typedAhead.slice(1);
        if (c === '\r' || c === '\n') {
          if (typedAhead[0] === '\n' && c === '\r') typedAhead = typedAhead.slice(1);
          done(pw);
          return true;
        }
        if (c === '\u0003') {
          done(new Error('interrupted'));
          return true;
        }
        if (c === '\u007f' || c === '\b') pw = pw.slice(0, -1);
        else if (pw.length < 4096) pw += c;
      }
      return false;
    };
    const onData = (s: string) => {
      typedAhead += s;
      consume();
    };
    if (consume()) return;
    stdin.on('data', onData);
    stdin.resume();
  });
}

/** The prompt: asks twice and insists they match. */
export const passwordFromPrompt: PasswordSource = async () => {
  if (!process.stdin.isTTY) throw new Error('stdin is not a terminal: pass --password-stdin and pipe the password');
  // Raw mode before the first prompt and until after the second: the terminal echoes nothing typed in between, and
  // each key arrives as typed.
  process.stdin.setRawMode(true);
  try {
    const a = await promptOnce('Password: ');
    const b = await promptOnce('Again: ');
    if (a !== b) throw new Error('the two passwords differ');
    return a;
  } finally {
    process.stdin.setRawMode(false);
  }
};

const fail = (io: CliIo, cmd: string, message: string): number => {
  io.err(`tandem ${cmd}: TND_API_USERS ${message}`);
  return 1;
};

function load(io: CliIo, cmd: string, path: string): UsersDb | undefined {
  try {
    return readUsersFile(path);
  } catch (e) {
    fail(io, cmd, (e as Error).message);
    return undefined;
  }
}

function save(io: CliIo, cmd: string, path: string, db: UsersDb): boolean {
  try {
    writeUsersFile(path, db);
    return true;
  } catch (e) {
    fail(io, cmd, (e as Error).message);
    return false;
  }
}

/** `tandem user add|passwd NAME`. */
export async function runUserSet(
  verb: 'add' | 'passwd',
  name: string,
  opts: { role?: Role; path: string },
  password: PasswordSource,
  io: CliIo,
  now = new Date(),
): Promise<number> {
  const cmd = `user ${verb}`;
  const bad = nameProblem(name);
  if (bad) return fail(io, cmd, bad);
  const db = load(io, cmd, opts.path);
  if (!db) return 1;
  const existing = db.users.find((u) => u.name === name);
  if (verb === 'add' && existing)
    return fail(io, cmd, `user ${name} exists (role ${existing.role}); use tandem user passwd, or del it first`);
  if (verb === 'passwd' && !existing) return fail(io, cmd, `no user ${name} in ${opts.path}`);
  let pw: string;
  try {
    pw = await password();
  } catch (e) {
    return fail(io, cmd, (e as Error).message);
  }
  if (pw.length < MIN_PASSWORD) return fail(io, cmd, `the password must have at least ${MIN_PASSWORD} characters`);
  const hash = await hashPassword(pw);
  const role = opts.role ?? existing?.role ?? 'viewer';
  const users = db.users.filter((u) => u.name !== name);
  users.push({ name, role, hash, created: existing?.created ?? now.toISOString() });
  if (!save(io, cmd, opts.path, { ...db, users })) return 1;
  io.err(`user ${name} (${role}) ${verb === 'add' ? 'added to' : 'updated in'} ${opts.path}`);
  return 0;
}

/** `tandem user del NAME`. */
export function runUserDel(name: string, opts: { path: string }, io: CliIo): number {
  const db = load(io, 'user del', opts.path);
  if (!db) return 1;
  if (!db.users.some((u) => u.name === name)) return fail(io, 'user del', `no user ${name} in ${opts.path}`);
  if (!save(io, 'user del', opts.path, { ...db, users: db.users.filter((u) => u.name !== name) })) return 1;
  io.err(`user ${name} deleted; its sessions end at their next request`);
  return 0;
}

/** `tandem user list` / `tandem token list`. */
export function runList(what: 'user' | 'token', opts: { path: string; json?: boolean }, io: CliIo): number {
  const db = load(io, `${what} list`, opts.path);
  if (!db) return 1;
  const rows =
    what === 'user'
      ? db.users.map((u) => ({ name: u.name, role: u.role, created: u.created }))
      : db.tokens.map((t) => ({ id: t.id, name: t.name, role: t.role, created: t.created }));
  if (opts.json) {
    io.out(JSON.stringify(rows));
    return 0;
  }
  if (rows.length === 0) io.err(`no ${what}s in ${opts.path}`);
  for (const r of rows) io.out(Object.values(r).join('  '));
  return 0;
}

/** `tandem token create --role R [--name N]`: prints the token once. */
export function runTokenCreate(opts: { role: Role; name?: string; path: string }, io: CliIo, now = new Date()): number {
  const db = load(io, 'token create', opts.path);
  if (!db) return 1;
  const t = newToken(opts.name ?? '', opts.role, now);
  const name = opts.name ?? `token-${t.record.id}`;
  const bad = nameProblem(name);
  if (bad) return fail(io, 'token create', bad);
  if (db.tokens.some((x) => x.name === name)) return fail(io, 'token create', `a token named ${name} exists`);
  if (!save(io, 'token create', opts.path, { ...db, tokens: [...db.tokens, { ...t.record, name }] })) return 1;
  io.out(t.token);
  io.err(`token ${name} (id ${t.record.id}, role ${opts.role}) created; it is shown only this once`);
  return 0;
}

/** `tandem token revoke ID|NAME`. */
export function runTokenRevoke(which: string, opts: { path: string }, io: CliIo): number {
  const db = load(io, 'token revoke', opts.path);
  if (!db) return 1;
  const keep = db.tokens.filter((t) => t.id !== which && t.name !== which);
  if (keep.length === db.tokens.length) return fail(io, 'token revoke', `no token with id or name ${which}`);
  if (!save(io, 'token revoke', opts.path, { ...db, tokens: keep })) return 1;
  io.err(`token ${which} revoked`);
  return 0;
}
