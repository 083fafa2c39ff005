/// <reference lib="dom" />
/**
 * The console's only way to the server: same-origin fetch with the session cookie, and the CSRF token (from login,
 * kept in sessionStorage so a reload keeps it) on every mutating request. Every reply is `{ ok, status, body }`; a 401
 * sends the app back to the login screen.
 */

/** A reply, whatever its status. */
export interface Reply<T = unknown> {
  ok: boolean;
  status: number;
  body: T;
}

const CSRF_KEY = 'tandem.csrf';
let onUnauthorized: () => void = () => undefined;

/** What the app does when the session is gone. */
export function setUnauthorizedHandler(f: () => void): void {
  onUnauthorized = f;
}

/** Remembers (or forgets) the CSRF token of this session. */
export function setCsrf(token: string | null): void {
  if (token) sessionStorage.setItem(CSRF_KEY, token);
  else sessionStorage.removeItem(CSRF_KEY);
}

/** Calls the API; never throws (a network failure is status 0). */
export async function call<T = unknown>(
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 15_000,
): Promise<Reply<T>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const csrf = sessionStorage.getItem(CSRF_KEY);
  if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
  const ctl = new AbortController();
  const t = setTimeout(() => ctl.abort(), timeoutMs);
  try {
    const res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      signal: ctl.signal,
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // plain text reply
    }
    if (res.status === 401 && !path.endsWith('/login')) onUnauthorized();
    return { ok: res.ok, status: res.status, body: parsed as T };
  } catch (e) {
    return { ok: false, status: 0, body: { message: `no answer from the server (${(e as Error).message})` } as T };
  } finally {
    clearTimeout(t);
  }
}

/** The sentence an error reply carries. */
export function errorText(r: Reply): string {
  const b = r.body as { message?: string; code?: string; error?: string } | string | null;
  if (typeof b === 'string') return b || `HTTP ${r.status}`;
  const msg = b?.message ?? b?.error ?? `HTTP ${r.status}`;
  return b?.code ? `${b.code}: ${msg}` : msg;
}
