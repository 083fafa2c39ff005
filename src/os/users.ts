/**
 * Resolves keepalived's `user USERNAME [GROUPNAME]` (tandem: `user: NAME`, `NAME GROUP` or `NAME:GROUP`) to ids from
 * /etc/passwd and /etc/group, as keepalived does at load (`set_uid_gid`). Numeric ids are taken as they are. Local
 * files only (no NSS): a user that only LDAP knows is reported as not found rather than silently run as root.
 */
import { readFileSync } from 'node:fs';

/** A resolved user, or why it cannot be. */
export type UserLookup = { ok: true; uid: number; gid: number } | { ok: false; reason: string };

/** Where the databases live (tests give their own text). */
export interface UserDb {
  passwd: string;
  group: string;
}

function readDb(): UserDb {
  const read = (p: string): string => {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      return '';
    }
  };
  return { passwd: read('/etc/passwd'), group: read('/etc/group') };
}

function field(text: string, name: string, index: number): number | undefined {
  for (const line of text.split('\n')) {
    const parts = line.split(':');
    if (parts[0] === name && parts[index] !== undefined && /^\d+$/.test(parts[index])) return Number(parts[index]);
  }
  return undefined;
}

/**
 * `nobody`, `nobody nogroup`, `nobody:nogroup`, `65534`.
 * @example resolveUser('nobody') // { ok: true, uid: 65534, gid: 65534 }
 */
export function resolveUser(spec: string, db: UserDb = readDb()): UserLookup {
  const [user = '', group] = spec.trim().split(/[\s:]+/, 2);
  if (!user) return { ok: false, reason: 'no user name given' };
  const uid = /^\d+$/.test(user) ? Number(user) : field(db.passwd, user, 2);
  if (uid === undefined) return { ok: false, reason: `no user ${user} in /etc/passwd` };
  let gid: number | undefined;
  if (group) {
    gid = /^\d+$/.test(group) ? Number(group) : field(db.group, group, 2);
    if (gid === undefined) return { ok: false, reason: `no group ${group} in /etc/group` };
  } else {
    gid = /^\d+$/.test(user) ? uid : field(db.passwd, user, 3);
    if (gid === undefined) return { ok: false, reason: `no primary group for ${user} in /etc/passwd` };
  }
  return { ok: true, uid, gid };
}
