/**
 * Routes and policy rules through `ip route` / `ip rule` (iproute2), for keepalived's virtual_routes and
 * virtual_rules (present while an instance is master) and static_routes / static_rules (present while the daemon
 * runs). A route or rule is its `ip` arguments as keepalived writes them (`10.1.0.0/16 via 198.18.0.254 dev eth0
 * table 100`, `from 198.18.5.0/24 table 100 priority 100`). Converging: adding a present one (`File exists`) or
 * deleting an absent one (`No such process`, `not found`) changes nothing and reports false.
 * @see keepalived.conf(5) virtual_routes, virtual_rules, static_routes, static_rules
 */
import { isIPv6 } from 'node:net';
import { runCommand } from './process.ts';

/** A route (`kind: 'route'`) or a policy rule (`kind: 'rule'`) as its `ip` arguments. */
export interface IpRoute {
  kind: 'route' | 'rule';
  args: readonly string[];
}

/** Puts routes and rules in place and takes them away; each call reports whether it changed anything. */
export interface RouteAdapter {
  ensurePresent(r: IpRoute): Promise<boolean>;
  ensureAbsent(r: IpRoute): Promise<boolean>;
}

/** Options of IpRouteAdapter. */
export interface IpRouteAdapterOptions {
  /** Network namespace for `ip -n` (tests); none = the daemon's own. */
  netns?: string;
  /** Deadline of each `ip` call. @default 5000 */
  timeoutMs?: number;
  signal?: AbortSignal;
}

const EXISTS = /File exists/i;
const ABSENT = /No such process|No such file or directory|not found|Cannot find device|does not exist/i;
const NEVER = new AbortController().signal;

/** Whether a route or rule names an IPv6 address or prefix (then `ip -6`). Pure. */
export function isIpv6Route(r: IpRoute): boolean {
  return r.args.some((a) => isIPv6(a.split('/')[0]!) || a === 'inet6');
}

/** The argv that adds or deletes `r`. Pure. */
export function routeArgv(r: IpRoute, op: 'add' | 'del', netns?: string): string[] {
  return ['ip', ...(netns ? ['-n', netns] : []), ...(isIpv6Route(r) ? ['-6'] : []), r.kind, op, ...r.args];
}

/**
 * The `ip` route adapter.
 * @example await new IpRouteAdapter().ensurePresent({ kind: 'route', args: ['198.18.9.0/24', 'via', '198.18.0.254'] })
 */
export class IpRouteAdapter implements RouteAdapter {
  readonly #opts: IpRouteAdapterOptions;

  constructor(opts: IpRouteAdapterOptions = {}) {
    this.#opts = opts;
  }

  async ensurePresent(r: IpRoute): Promise<boolean> {
    if (r.kind === 'route') return this.#run(r, 'add', EXISTS);
    // The kernel keeps duplicate rules (`ip rule add` does not ask for an exclusive add), so a rule is converged by
    // deleting what matches first: present before means no change.
    const existed = await this.#run(r, 'del', ABSENT);
    await this.#run(r, 'add', EXISTS);
    return !existed;
  }

  async ensureAbsent(r: IpRoute): Promise<boolean> {
    return this.#run(r, 'del', ABSENT);
  }

  async #run(r: IpRoute, op: 'add' | 'del', unchanged: RegExp): Promise<boolean> {
    const argv = routeArgv(r, op, this.#opts.netns);
    const res = await runCommand(argv, {
      timeoutMs: this.#opts.timeoutMs ?? 5_000,
      signal: this.#opts.signal ?? NEVER,
    });
    if (res.outcome === 'ok') return true;
    if (res.outcome === 'failed' && unchanged.test(res.stderr)) return false;
    throw new Error(`${argv.join(' ')}: ${res.stderr.trim() || res.error || res.outcome}`);
  }
}

/**
 * Routes and rules that follow an instance's VIPs: put in place after the VIPs are added (master), taken away
 * before they are removed, as keepalived moves virtual_routes and virtual_rules with the instance. Rules go first
 * on the way up (a route in a table is useless without the rule that selects it) and last on the way down.
 * The VipEffects shape is matched structurally (os/ does not import vrrp/).
 */
export class RoutedVipEffects<V> {
  readonly #vips: { add(v: readonly V[]): unknown; remove(v: readonly V[]): unknown };
  readonly #routes: RouteAdapter;
  readonly #list: readonly IpRoute[];
  readonly #report: (op: 'add' | 'remove', r: IpRoute, e: unknown) => void;

  constructor(
    vips: { add(v: readonly V[]): unknown; remove(v: readonly V[]): unknown },
    routes: RouteAdapter,
    list: readonly IpRoute[],
    report: (op: 'add' | 'remove', r: IpRoute, e: unknown) => void = () => {},
  ) {
    this.#vips = vips;
    this.#routes = routes;
    this.#list = [...list.filter((r) => r.kind === 'rule'), ...list.filter((r) => r.kind === 'route')];
    this.#report = report;
  }

  async add(vips: readonly V[]): Promise<void> {
    await this.#vips.add(vips);
    for (const r of this.#list) await this.#routes.ensurePresent(r).catch((e: unknown) => this.#report('add', r, e));
  }

  async remove(vips: readonly V[]): Promise<void> {
    for (const r of [...this.#list].reverse())
      await this.#routes.ensureAbsent(r).catch((e: unknown) => this.#report('remove', r, e));
    await this.#vips.remove(vips);
  }
}
