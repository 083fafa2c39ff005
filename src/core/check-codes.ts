/**
 * The check result codes, HAProxy's closed table: every checker (real-server checks, vrrp_script, passive health in
 * the proxy) reports one, and it flows unchanged to the LB model, logs, metrics and the API (Rule 5). One set, one
 * type, used everywhere a check outcome is stored.
 * @see HAProxy configuration.txt "show servers state" / `%[check_status]` for the code table
 */

/**
 * HAProxy's meaning of every check result code tandem reports (the `check_status` table). Codes ending in OK pass.
 * `L7OKC` (conditional pass, HAProxy's `disable-on-404`) is left out: no tandem check has a conditional pass.
 * @see HAProxy configuration.txt, "check_status" in the log format section
 */
export const CHECK_RESULT_MEANING = {
  SOCKERR: 'socket error on our side (source address, file descriptors)',
  L4OK: 'check passed on layer 4, no upper layers testing enabled',
  L4TOUT: 'layer 1-4 timeout',
  L4CON: 'layer 1-4 connection problem, e.g. "Connection refused" (tcp rst) or "No route to host" (icmp)',
  L6OK: 'check passed on layer 6',
  L6TOUT: 'layer 6 (SSL) timeout',
  L6RSP: 'layer 6 invalid response - protocol error',
  L7OK: 'check passed on layer 7',
  L7STS: 'layer 7 response error, for example HTTP 5xx',
  L7TOUT: 'layer 7 (HTTP/SMTP) timeout',
  L7RSP: 'layer 7 invalid response - protocol error',
  PROCOK: 'external check passed',
  PROCERR: 'external check error',
  PROCTOUT: 'external check timeout',
  // Not HAProxy's: keepalived's FILE_CHECK judges a number in a file, which no HAProxy check does.
  FILEOK: 'the tracked file keeps the server up (keepalived FILE_CHECK)',
  FILEERR: 'the tracked file takes the server down (keepalived FILE_CHECK: its value is a fault)',
} as const;

/** A check result code, with HAProxy's meaning (see `CHECK_RESULT_MEANING`). @see HAProxy configuration.txt check_status */
export type CheckResultCode = keyof typeof CHECK_RESULT_MEANING;

/** Every CheckResultCode, in a fixed order (for counters, metrics labels and tests). */
export const CHECK_RESULT_CODES: readonly CheckResultCode[] = Object.keys(CHECK_RESULT_MEANING) as CheckResultCode[];

const PASSING: ReadonlySet<CheckResultCode> = new Set(['L4OK', 'L6OK', 'L7OK', 'PROCOK', 'FILEOK']);

/** Whether a code is a pass (L4OK, L6OK, L7OK, PROCOK, FILEOK). @see HAProxy configuration.txt check_status */
export function passed(code: CheckResultCode): boolean {
  return PASSING.has(code);
}
