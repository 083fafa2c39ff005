/**
 * keepalived's static_ipaddress, static_routes and static_rules: network state the daemon puts in place when it
 * starts, whatever the VRRP state, through the same converging adapters as the VIPs and virtual routes (addresses
 * first, then rules, then routes, so a route's source address and table selector exist before it). Left in place
 * when the daemon stops: they are the host's own configuration (management addresses), not something that fails
 * over. A failure is logged and the rest still applied.
 */
import type { AddressAdapter, IfAddr } from './addresses.ts';
import type { IpRoute, RouteAdapter } from './routes.ts';

/** What static setup needs: the address and route adapters, and a logger. */
export interface StaticAdapters {
  addresses: Pick<AddressAdapter, 'ensurePresent'>;
  routes: Pick<RouteAdapter, 'ensurePresent'>;
}

/** Puts the static addresses, rules and routes in place; reports each change and failure to `log`. */
export async function ensureStatic(
  plan: { addresses: readonly IfAddr[]; routes: readonly IpRoute[] },
  adapters: StaticAdapters,
  log: { log(level: 'info' | 'error', line: string): void },
): Promise<void> {
  for (const a of plan.addresses) {
    try {
      if (await adapters.addresses.ensurePresent(a))
        log.log('info', `static address ${a.addr}/${a.prefix} on ${a.dev}`);
    } catch (e) {
      log.log('error', `static address ${a.addr}/${a.prefix} on ${a.dev}: ${String(e)}`);
    }
  }
  const ordered = [...plan.routes.filter((r) => r.kind === 'rule'), ...plan.routes.filter((r) => r.kind === 'route')];
  for (const r of ordered) {
    try {
      if (await adapters.routes.ensurePresent(r)) log.log('info', `static ${r.kind} ${r.args.join(' ')}`);
    } catch (e) {
      log.log('error', `static ${r.kind} ${r.args.join(' ')}: ${String(e)}`);
    }
  }
}
