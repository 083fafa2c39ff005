/**
 * Sessions and the login limiter of the HTTP API. Both keep plain maps and take the time as a parameter, so tests
 * drive them without sleeping. A session is a random id (the `tandem_session` cookie, HttpOnly, SameSite=Strict)
 * mapped server-side to the user and a CSRF token, for a fixed TTL; the limiter counts failed logins per user and per
 * source address within a window and locks either out for a period after too many, and caps attempts per address
 * per minute.
 */
import { randomBytes } from 'node:crypto';
import type { Role } from '../http-plugin.ts';

/** A live session. */
export interface Session {
  id: string;
  user: string;
  role: Role;
  csrf: string;
  expiresAt: number;
}

/** The most sessions kept at once; beyond, the oldest is dropped (a login flood cannot grow memory unbounded). */
export const MAX_SESSIONS = 10_000;

/** The server-side session map. */
export class Sessions {
  readonly #ttlMs: number;
  readonly #byId = new Map<string, Session>();

  constructor(ttlMs: number) {
    this.#ttlMs = ttlMs;
  }

  create(user: string, role: Role, now: number): Session {
    this.#sweep(now);
    while (this.#byId.size >= MAX_SESSIONS) this.#byId.delete(this.#byId.keys().next().value as string);
    const s: Session = {
      id: randomBytes(32).toString('base64url'),
      user,
      role,
      csrf: randomBytes(24).toString('base64url'),
      expiresAt: now + this.#ttlMs,
    };
    this.#byId.set(s.id, s);
    return s;
  }

  get(id: string, now: number): Session | undefined {
    const s = this.#byId.get(id);
    if (!s) return undefined;
    if (s.expiresAt <= now) {
      this.#byId.delete(id);
      return undefined;
    }
    return s;
  }

  delete(id: string): void {
    this.#byId.delete(id);
  }

  /** Ends every session of a user (deleted, or its role changed). */
  dropUser(user: string): void {
    for (const [id, s] of this.#byId) if (s.user === user) this.#byId.delete(id);
  }

  get size(): number {
    return this.#byId.size;
  }

  #sweep(now: number): void {
    for (const [id, s] of this.#byId) if (s.expiresAt <= now) this.#byId.delete(id);
  }
}

/** The limiter's settings (`api.login`). */
export interface LoginLimits {
  maxFailures: number;
  windowMs: number;
  lockoutMs: number;
  perAddressPerMinute: number;
}

/** Whether a login may be tried now. */
export type LoginGate =
  | { ok: true }
  | { ok: false; code: 'TND_API_LOCKED_OUT'; who: 'user' | 'address'; retryAfterMs: number }
  | { ok: false; code: 'TND_API_RATE_LIMITED'; retryAfterMs: number };

interface Counter {
  failures: number[];
  lockedUntil: number;
}

/** The most keys tracked; beyond, the stalest is forgotten (bounded memory under a spray of user names). */
export const MAX_TRACKED = 50_000;

/** Failed-login counting and lockout per user and per address, and an attempt rate per address. */
export class LoginLimiter {
  readonly #limits: LoginLimits;
  readonly #users = new Map<string, Counter>();
  readonly #addresses = new Map<string, Counter>();
  readonly #attempts = new Map<string, number[]>();

  constructor(limits: LoginLimits) {
    this.#limits = limits;
  }

  /** Called before checking a password; counts the attempt against the address's rate. */
  check(user: string, from: string, now: number): LoginGate {
    const a = this.#attempts.get(from)?.filter((t) => t > now - 60_000) ?? [];
    if (a.length >= this.#limits.perAddressPerMinute)
      return { ok: false, code: 'TND_API_RATE_LIMITED', retryAfterMs: a[0]! + 60_000 - now };
    a.push(now);
    this.#put(this.#attempts, from, a);
    for (const [who, map, key] of [
      ['address', this.#addresses, from],
      ['user', this.#users, user],
    ] as const) {
      const c = map.get(key);
      if (c && c.lockedUntil > now)
        return { ok: false, code: 'TND_API_LOCKED_OUT', who, retryAfterMs: c.lockedUntil - now };
    }
    return { ok: true };
  }

  /**
   * Records a failed login; returns which of user and address it has just locked out (for the log and the audit).
   */
  fail(user: string, from: string, now: number): Array<'user' | 'address'> {
    const locked: Array<'user' | 'address'> = [];
    for (const [who, map, key] of [
      ['user', this.#users, user],
      ['address', this.#addresses, from],
    ] as const) {
      const c = map.get(key) ?? { failures: [], lockedUntil: 0 };
      c.failures = c.failures.filter((t) => t > now - this.#limits.windowMs);
      c.failures.push(now);
      if (c.failures.length >= this.#limits.maxFailures && c.lockedUntil <= now) {
        c.lockedUntil = now + this.#limits.lockoutMs;
        c.failures = [];
        locked.push(who);
      }
      this.#put(map, key, c);
    }
    return locked;
  }

  /** A successful login clears the user's failures (not the address's: one good account must not shield a spray). */
  succeed(user: string): void {
    this.#users.delete(user);
  }

  #put<V>(map: Map<string, V>, key: string, v: V): void {
    map.delete(key);
    map.set(key, v);
    if (map.size > MAX_TRACKED) map.delete(map.keys().next().value as string);
  }
}

/** Parses a Cookie header into name → value (first wins). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const k = part.slice(0, i).trim();
    if (!out.has(k)) out.set(k, part.slice(i + 1).trim());
  }
  return out;
}
