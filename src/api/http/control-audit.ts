/**
 * What an audit line says about a control request: the action and its target from the route and body, the result
 * from the reply. Shared by the HTTP API and the local socket, so an action reads the same in the log whichever way
 * it came. Reads (`GET /v1/status`) are not actions and are not audited.
 */

import { type ControlError, ROUTES } from '../contract.ts';
import type { DispatchReply } from '../control-server.ts';
import type { AuditResult } from '../http-plugin.ts';

const str = (v: unknown): string => (typeof v === 'string' ? v : (JSON.stringify(v) ?? ''));

/** The action and target of a mutating control request, or undefined for a read or an unknown route. */
export function describeAction(
  route: string,
  body: Record<string, unknown> | undefined,
): { action: string; target: string } | undefined {
  switch (route) {
    case ROUTES.standby:
    case ROUTES.takeover: {
      const verb = route === ROUTES.standby ? 'standby' : 'takeover';
      const names = body?.instances;
      return {
        action: body?.clear === true ? `${verb}.clear` : verb,
        target: Array.isArray(names) ? names.map(str).join(',') : str(names),
      };
    }
    case ROUTES.group:
      return { action: `group.${str(body?.action)}`, target: str(body?.name) };
    case ROUTES.rs: {
      const w = body?.weight;
      return {
        action: `rs.${str(body?.verb)}`,
        target: `${str(body?.service)}/${str(body?.server)}${w !== undefined ? ` weight=${str(w)}` : ''}`,
      };
    }
    case ROUTES.reload:
      return { action: 'reload', target: 'config' };
  }
  return undefined;
}

/** The audit result and detail of a reply. */
export function resultOf(reply: DispatchReply): { result: AuditResult; detail?: string } {
  if (reply.status < 400) return { result: 'ok' };
  const e = reply.body as ControlError;
  return {
    result: reply.status >= 500 ? 'failed' : 'refused',
    detail: `${e.code} ${e.message.split('\n')[0]}`,
  };
}
