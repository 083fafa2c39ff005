/** Log lines for health changes, in the words a keepalived / Piranha operator greps for. */
import type { CheckResult } from './types.ts';

/**
 * "real server 198.18.1.12:80 down: L4CON connection refused (ECONNREFUSED)"; with a virtual server,
 * "real server 198.18.1.12:80 (VS 198.18.0.100:80) down: …". Endpoints come from `hostPort`.
 * @see keepalived check_tcp.c "TCP_CHECK on service %s failed"; Piranha nanny "shutting down %s due to …"
 * @example formatHealthChange(null, '198.18.1.12:80', true, { code: 'L7OK', detail: 'HTTP 200', durationMs: 3 })
 */
export function formatHealthChange(vs: string | null, rs: string, up: boolean, result: CheckResult): string {
  const where = vs ? `${rs} (VS ${vs})` : rs;
  return `real server ${where} ${up ? 'up' : 'down'}: ${result.code} ${result.detail}`;
}
