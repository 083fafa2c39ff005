/**
 * The API's users and tokens: one JSON file, mode 0600, written atomically (os/secret-file.ts). Passwords are scrypt
 * hashes (node:crypto, N=2^15, r=8, p=1, 64 MiB maxmem, 16-byte salt); tokens are 32 random bytes shown once and
 * stored as their SHA-256 (a token has full entropy, so a fast hash is enough and keeps every request cheap).
 * `tandem user` / `tandem token` edit the file; the daemon re-reads it when it changes, so a new user can log in and a
 * revoked token stops working without a restart.
 */
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { TandemError } from '../../core/errors.ts';
import { writeSecretFile } from '../../os/secret-file.ts';
import type { Role } from '../http-plugin.ts';

/** The roles, weakest first. */
export const ROLES: readonly Role[] = ['viewer', 'operator', 'admin'];

/** Whether `have` includes what `need` may do. */
export const roleAllows = (have: Role, need: Role): boolean => ROLES.indexOf(have) >= ROLES.indexOf(need);

/** scrypt cost parameters (OWASP's interactive-login minimum for scrypt is N=2^17 with r=8 at 128 MiB; 2^15 keeps a login near 0.1 s on a small director). */
export const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024, keyLength: 32 } as const;

/** One user. */
export interface UserRecord {
  name: string;
  role: Role;
  /** `scrypt$N$r$p$SALT$HASH` (base64). */
  hash: string;
  created: string;
}

/** One token, as stored: never the token itself. */
export interface TokenRecord {
  /** The public part of the token (`tnd_ID_SECRET`), for lookup, listing and revoking. */
  id: string;
  name: string;
  role: Role;
  /** SHA-256 of the secret part, hex. */
  sha256: string;
  created: string;
}

/** The users file. */
export interface UsersDb {
  users: UserRecord[];
  tokens: TokenRecord[];
}

const NAME = /^[A-Za-z0-9_.@-]{1,64}$/;

/** Why `name` cannot be a user or token name, or null. */
export function nameProblem(name: string): string | null {
  return NAME.test(name) ? null : `name ${JSON.stringify(name)} must be 1..64 of A-Z a-z 0-9 _ . @ -`;
}

const isRole = (v: unknown): v is Role => v === 'viewer' || v === 'operator' || v === 'admin';

function scrypt(password: string, salt: Buffer, N: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCb(password, salt, SCRYPT.keyLength, { N, r, p, maxmem: SCRYPT.maxmem }, (e, key) =>
      e ? reject(e) : resolve(key),
    ),
  );
}

/** Hashes a password (off the event loop: libuv's thread pool). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, SCRYPT.N, SCRYPT.r, SCRYPT.p);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

// A hash nobody has the password of: an unknown user costs the same scrypt as a known one, so timing does not tell.
let dummy: Promise<string> | undefined;

/** Checks a password against a stored hash; an unknown user (undefined) is checked against a dummy and fails. */
export async function verifyPassword(password: string, stored: string | undefined): Promise<boolean> {
  if (!dummy) dummy = hashPassword(randomBytes(16).toString('hex'));
  const target = stored ?? (await dummy);
  const parts = target.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (N > SCRYPT.N * 4 || r > 16 || p > 4) return false;
  const want = Buffer.from(parts[5]!, 'base64');
  const got = await scrypt(password, Buffer.from(parts[4]!, 'base64'), N, r, p);
  return want.length === got.length && timingSafeEqual(want, got) && stored !== undefined;
}

/** A new token: the text to show once, and the record to store. */
export function newToken(name: string, role: Role, now: Date): { token: string; record: TokenRecord } {
  const id = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return {
    token: `tnd_${id}_${secret}`,
    record: { id, name, role, sha256: sha256(secret), created: now.toISOString() },
  };
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** The token record `token` proves, or undefined. */
export function matchToken(db: UsersDb, token: string): TokenRecord | undefined {
  const m = /^tnd_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m) return undefined;
  const rec = db.tokens.find((t) => t.id === m[1]);
  if (!rec) return undefined;
  const want = Buffer.from(rec.sha256, 'hex');
  const got = Buffer.from(sha256(m[2]!), 'hex');
  return want.length === got.length && timingSafeEqual(want, got) ? rec : undefined;
}

/** Parses the users file's text; throws TND_API_USERS naming the file and what is wrong. */
export function parseUsersDb(text: string, path: string): UsersDb {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new TandemError('TND_API_USERS', `${path}: not JSON: ${(e as Error).message}`);
  }
  const o = v as { users?: unknown; tokens?: unknown };
  const bad = (what: string) => new TandemError('TND_API_USERS', `${path}: ${what}`);
  if (!o || typeof o !== 'object' || !Array.isArray(o.users) || !Array.isArray(o.tokens))
    throw bad('must be an object with "users" and "tokens" lists');
  o.users.forEach((u: Partial<UserRecord>, i) => {
    if (typeof u?.name !== 'string' || !isRole(u.role) || typeof u.hash !== 'string')
      throw bad(`users[${i}] needs a name, a role (viewer, operator, admin) and a hash`);
  });
  o.tokens.forEach((t: Partial<TokenRecord>, i) => {
    if (typeof t?.id !== 'string' || typeof t.name !== 'string' || !isRole(t.role) || typeof t.sha256 !== 'string')
      throw bad(`tokens[${i}] needs an id, a name, a role and a sha256`);
  });
  return o as UsersDb;
}

/** Reads the users file; a missing file is an empty one. Refuses a file readable by group or others. */
export function readUsersFile(path: string): UsersDb {
  let text: string;
  try {
    const st = statSync(path);
    if ((st.mode & 0o077) !== 0)
      throw new TandemError(
        'TND_API_USERS',
        `${path} is mode ${(st.mode & 0o777).toString(8)}; it holds password hashes and must be 0600 (chmod 600 ${path})`,
      );
    if (st.size > 16 * 1024 * 1024) throw new TandemError('TND_API_USERS', `${path} is larger than 16 MiB`);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof TandemError) throw e;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { users: [], tokens: [] };
    throw new TandemError('TND_API_USERS', `cannot read ${path}: ${(e as Error).message}`);
  }
  return parseUsersDb(text, path);
}

/** Writes the users file atomically, 0600; creates its directory (0700) when missing. */
export function writeUsersFile(path: string, db: UsersDb): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    writeSecretFile(path, `${JSON.stringify(db, null, 2)}\n`);
  } catch (e) {
    throw new TandemError('TND_API_USERS', (e as Error).message);
  }
}

/**
 * The daemon's view of the users file: re-read when its inode, size or mtime changes (a stat per request), so that
 * `tandem user` and `tandem token` take effect at once. A file that turns bad keeps the last good contents in force
 * and is reported through `onError` once per change.
 */
export class UserStore {
  readonly #path: string;
  readonly #onError: (message: string) => void;
  #db: UsersDb = { users: [], tokens: [] };
  #stamp = '';

  constructor(path: string, onError: (message: string) => void = () => {}) {
    this.#path = path;
    this.#onError = onError;
    this.current();
  }

  /** The file's contents now. */
  current(): UsersDb {
    let stamp = 'missing';
    try {
      const st = statSync(this.#path);
      stamp = `${st.ino}:${st.size}:${st.mtimeMs}:${st.mode}`;
    } catch {
      // missing: no users
    }
    if (stamp === this.#stamp) return this.#db;
    this.#stamp = stamp;
    try {
      this.#db = readUsersFile(this.#path);
    } catch (e) {
      this.#onError((e as Error).message);
    }
    return this.#db;
  }

  user(name: string): UserRecord | undefined {
    return this.current().users.find((u) => u.name === name);
  }

  token(token: string): TokenRecord | undefined {
    return matchToken(this.current(), token);
  }
}
