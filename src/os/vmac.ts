/**
 * keepalived's `use_vmac`: a macvlan interface on the instance's interface whose MAC is the VRRP virtual router MAC
 * (RFC 5798 §7.3: 00:00:5e:00:01:VRID for IPv4, 00:00:5e:00:02:VRID for IPv6), mode private, named `vrrp.VRID` unless
 * the config names it. The VIPs live on it and the master's adverts and gratuitous ARPs leave from it, so the
 * switches learn the virtual MAC and a failover needs no ARP cache to change; with `vmac_xmit_base` the adverts go
 * out (and are read) on the base interface instead. Converging: each call reports whether it changed anything.
 * @see keepalived.conf(5) use_vmac, vmac_xmit_base; keepalived vrrp_vmac.c netlink_link_add_vmac
 */
import { defaultVmacName, virtualRouterMac } from '../vrrp/vmac.ts';

export { defaultVmacName, virtualRouterMac };

import { execFileSync } from 'node:child_process';
import { runCommand } from './process.ts';

/** A virtual MAC interface. */
export interface Vmac {
  name: string;
  /** The interface it sits on. */
  base: string;
  /** `00:00:5e:00:01:XX`. */
  mac: string;
}

/** Creates and deletes vmac interfaces; each call reports whether it changed anything. */
export interface VmacAdapter {
  ensurePresent(v: Vmac): Promise<boolean>;
  ensureAbsent(v: Vmac): Promise<boolean>;
}

/** The argv lists that create `v` (link, then up). Pure. */
export function vmacArgv(v: Vmac, netns?: string): string[][] {
  const ip = ['ip', ...(netns ? ['-n', netns] : [])];
  return [
    [...ip, 'link', 'add', 'link', v.base, 'name', v.name, 'address', v.mac, 'type', 'macvlan', 'mode', 'private'],
    [...ip, 'link', 'set', 'dev', v.name, 'up'],
  ];
}

const EXISTS = /File exists/i;
const ABSENT = /Cannot find device|does not exist|No such device/i;
const NEVER = new AbortController().signal;

/**
 * The `ip link` vmac adapter. `ensurePresentSync` exists because the VRRP socket of a vmac instance binds to the
 * vmac interface when the instance starts, so it must be there first (a few milliseconds, once per start).
 */
export class IpVmacAdapter implements VmacAdapter {
  readonly #netns: string | undefined;

  constructor(opts: { netns?: string } = {}) {
    this.#netns = opts.netns;
  }

  async ensurePresent(v: Vmac): Promise<boolean> {
    const [add, up] = vmacArgv(v, this.#netns) as [string[], string[]];
    const r = await runCommand(add, { timeoutMs: 5_000, signal: NEVER });
    const created = r.outcome === 'ok';
    if (!created && !(r.outcome === 'failed' && EXISTS.test(r.stderr)))
      throw new Error(`${add.join(' ')}: ${r.stderr.trim() || r.error || r.outcome}`);
    const u = await runCommand(up, { timeoutMs: 5_000, signal: NEVER });
    if (u.outcome !== 'ok') throw new Error(`${up.join(' ')}: ${u.stderr.trim() || u.error || u.outcome}`);
    return created;
  }

  /** As ensurePresent, blocking: for the moment an instance starts. */
  ensurePresentSync(v: Vmac): boolean {
    const [add, up] = vmacArgv(v, this.#netns) as [string[], string[]];
    let created = true;
    try {
      execFileSync(add[0]!, add.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], timeout: 5_000 });
    } catch (e) {
      const stderr = String((e as { stderr?: unknown }).stderr ?? '');
      if (!EXISTS.test(stderr)) throw new Error(`${add.join(' ')}: ${stderr.trim() || String(e)}`);
      created = false;
    }
    execFileSync(up[0]!, up.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], timeout: 5_000 });
    return created;
  }

  async ensureAbsent(v: Vmac): Promise<boolean> {
    const argv = ['ip', ...(this.#netns ? ['-n', this.#netns] : []), 'link', 'del', 'dev', v.name];
    const r = await runCommand(argv, { timeoutMs: 5_000, signal: NEVER });
    if (r.outcome === 'ok') return true;
    if (r.outcome === 'failed' && ABSENT.test(r.stderr)) return false;
    throw new Error(`${argv.join(' ')}: ${r.stderr.trim() || r.error || r.outcome}`);
  }

  /** As ensureAbsent, blocking: for the daemon's exit. */
  ensureAbsentSync(v: Vmac): boolean {
    try {
      execFileSync('ip', [...(this.#netns ? ['-n', this.#netns] : []), 'link', 'del', 'dev', v.name], {
        stdio: ['ignore', 'ignore', 'pipe'],
        timeout: 5_000,
      });
      return true;
    } catch {
      return false;
    }
  }
}
