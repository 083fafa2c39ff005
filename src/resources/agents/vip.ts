/**
 * A virtual address, what heartbeat's IPaddr/IPaddr2 do: start adds the address to the device and announces it by
 * gratuitous ARP (IPv4) or unsolicited neighbour advertisement (IPv6) so neighbours repoint their caches; stop removes
 * it; monitor checks that the device holds it. Through the address adapter, which converges: adding a present address
 * or removing an absent one changes nothing and succeeds.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { AgentResult, ResourceAgent } from '../types.ts';
import type { AgentDeps, AgentIfAddr } from './deps.ts';

/** A vip resource's address: `ADDR[/LEN]`, or an object with device and label (config's vipSchema). */
export type VipSpecAddress = string | { address: string; dev?: string; label?: string };

/** Parses `ADDR[/LEN]`; the prefix defaults to a host route (32 / 128), as keepalived's virtual_ipaddress does. */
export function parseVip(text: string): { addr: string; prefix: number } | undefined {
  const [addr = '', len, extra] = text.split('/');
  if (extra !== undefined) return undefined;
  const max = isIPv4(addr) ? 32 : isIPv6(addr) ? 128 : 0;
  if (max === 0) return undefined;
  if (len === undefined) return { addr, prefix: max };
  if (!/^\d{1,3}$/.test(len) || Number(len) > max) return undefined;
  return { addr, prefix: Number(len) };
}

/**
 * A vip agent. `dev`: the resource's `interface`, else the address object's `dev`, else the owner instance's interface.
 * @example vipAgent({ address: '198.18.0.100/24' }, { ...deps, defaultInterface: 'eth0' })
 */
export function vipAgent(
  spec: { address: VipSpecAddress; interface?: string },
  deps: AgentDeps & { defaultInterface?: string },
): ResourceAgent {
  const text = typeof spec.address === 'string' ? spec.address : spec.address.address;
  const parsed = parseVip(text);
  const dev =
    spec.interface ?? (typeof spec.address === 'string' ? undefined : spec.address.dev) ?? deps.defaultInterface;
  const label = typeof spec.address === 'string' ? undefined : spec.address.label;
  const ifAddr: AgentIfAddr | undefined =
    parsed && dev ? { ...parsed, dev, ...(label && isIPv4(parsed.addr) ? { label } : {}) } : undefined;
  const describe = (): string => `vip:${text}@${dev ?? '?'}`;

  /** Why the agent cannot act, or undefined. */
  const problem = (): AgentResult | undefined => {
    if (!parsed) return { code: 'invalid-args', detail: `not an address: ${JSON.stringify(text)}` };
    if (!dev)
      return { code: 'not-configured', detail: 'no interface: set `interface` or bind the group to an instance' };
    if (!deps.addresses) return { code: 'not-installed', detail: 'no address adapter' };
    return undefined;
  };
  const failed = (what: string, e: unknown): AgentResult => ({
    code: 'generic-error',
    detail: `${what}: ${e instanceof Error ? e.message : String(e)}`,
  });

  return {
    canMonitor: true,
    describe,
    async start() {
      const p = problem();
      if (p) return p;
      let changed: boolean;
      try {
        changed = await deps.addresses!.ensurePresent(ifAddr!);
      } catch (e) {
        return failed('add', e);
      }
      // Announce even when the address was already there: a takeover must repoint neighbours either way.
      let garp = '';
      if (deps.garp) {
        try {
          await deps.garp.announce(ifAddr!.dev, [ifAddr!], deps.garpRepeat ?? 5);
          garp = `, announced ×${deps.garpRepeat ?? 5}`;
        } catch (e) {
          // IPaddr2 does not fail a start for its ARPs either: the address is up, neighbours learn it on first use.
          garp = `, announce failed: ${e instanceof Error ? e.message : String(e)}`;
        }
      }
      return { code: 'ok', detail: `${changed ? 'added' : 'already present'}${garp}` };
    },
    async stop() {
      const p = problem();
      if (p) return p.code === 'not-configured' || p.code === 'invalid-args' ? { code: 'ok', detail: p.detail } : p;
      try {
        const changed = await deps.addresses!.ensureAbsent(ifAddr!);
        return { code: 'ok', detail: changed ? 'removed' : 'already absent' };
      } catch (e) {
        return failed('remove', e);
      }
    },
    async monitor() {
      const p = problem();
      if (p) return p;
      try {
        const held = await deps.addresses!.list(ifAddr!.dev);
        const here = held.some((a) => a.addr === ifAddr!.addr && a.prefix === ifAddr!.prefix);
        return here ? { code: 'ok' } : { code: 'not-running', detail: `${text} is not on ${ifAddr!.dev}` };
      } catch (e) {
        return failed('list', e);
      }
    },
  };
}
