/**
 * Socket errors in plain language, and which layer they belong to: a problem on our side (SOCKERR), the connection
 * (L4CON / L4TOUT), or a later layer that the caller picks. Shared by the health checkers and the proxy.
 */

import type { CheckResultCode } from './check-codes.ts';

/** Where a failed connect went wrong, in HAProxy's words: the layer-4 subset of the check result codes. */
export type ConnectErrorCode = Extract<CheckResultCode, 'SOCKERR' | 'L4TOUT' | 'L4CON'>;

const PLAIN: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ECONNABORTED: 'connection aborted',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network unreachable',
  EHOSTDOWN: 'host is down',
  ENETDOWN: 'network is down',
  ETIMEDOUT: 'connection timed out',
  EPIPE: 'connection closed by the server',
  EACCES: 'not permitted (firewall?)',
  EPERM: 'not permitted (firewall?)',
  EADDRNOTAVAIL: 'address not available on this host',
  EADDRINUSE: 'address already in use',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  ENOBUFS: 'no buffer space',
  ENOMEM: 'out of memory',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed, try again',
  ERR_INVALID_IP_ADDRESS: 'invalid IP address',
  ERR_SOCKET_BAD_PORT: 'invalid port',
};

/** Errors that say nothing about the server: our socket could not be made or bound. */
const LOCAL: ReadonlySet<string> = new Set([
  'EADDRNOTAVAIL',
  'EADDRINUSE',
  'EMFILE',
  'ENFILE',
  'ENOBUFS',
  'ENOMEM',
  'ERR_INVALID_IP_ADDRESS',
  'ERR_SOCKET_BAD_PORT',
  'ERR_INVALID_ARG_TYPE',
  'ERR_INVALID_ARG_VALUE',
]);

/** The error's code (`ECONNREFUSED`), if it has one. */
export function errnoOf(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** "connection refused (ECONNREFUSED)"; the message when the code is unknown. */
export function describeSocketError(e: unknown): string {
  const code = errnoOf(e);
  const plain = code ? PLAIN[code] : undefined;
  if (plain && code) return `${plain} (${code})`;
  const message = e instanceof Error ? e.message : String(e);
  return code && !message.includes(code) ? `${message} (${code})` : message;
}

/** The code for an error while connecting: SOCKERR for our side, L4TOUT for a kernel timeout, else L4CON. */
export function connectErrorCode(e: unknown): ConnectErrorCode {
  const code = errnoOf(e);
  if (code && LOCAL.has(code)) return 'SOCKERR';
  if (code === 'ETIMEDOUT') return 'L4TOUT';
  return 'L4CON';
}
