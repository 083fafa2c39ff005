/**
 * The real host adapters of resource agents (src/resources/agents/deps.ts): processes through runCommand, addresses
 * through `ip` or netlink, gratuitous ARP through the native addon, file checks, and the systemd test. Only daemon/
 * (and namespace tests) choose these over fakes.
 *
 * With `netns` every command and address change happens inside that network namespace (`ip netns exec NS …`,
 * `ip -n NS …`), which is how the namespace tests run unmodified OCF agents without touching the host. Gratuitous ARP
 * then is not sent by tandem (the addon sends from the daemon's own namespace); agents such as IPaddr2 send their own.
 */
import { existsSync } from 'node:fs';
import type { AgentDeps, CommandRunner } from '../resources/agents/deps.ts';
import { type AddressAdapter, IpAddressAdapter, NetlinkAddressAdapter } from './addresses.ts';
import { announce } from './garp.ts';
import { runCommand, splitCommandLine } from './process.ts';

/** Options of {@link realAgentDeps}. */
export interface RealAgentDepsOptions {
  /** Run everything inside this network namespace (tests). */
  netns?: string;
  /** The address adapter. @default netlink (or `ip -n NS` with netns) */
  addresses?: AddressAdapter;
  /** The environment agents get. @default process.env */
  env?: Record<string, string | undefined>;
  /** @default '/usr/lib/ocf' */
  ocfRoot?: string;
  /** Gratuitous ARP rounds after a vip start. @default 5 */
  garpRepeat?: number;
  lb?: AgentDeps['lb'];
}

/** Whether systemd is the init system: the test sd_booted(3) makes. */
export function systemdBooted(): boolean {
  return existsSync('/run/systemd/system');
}

/**
 * Real agent dependencies.
 * @example createGroupRunner(spec, { ...realAgentDeps(), defaultInterface: 'eth0' }, { clock, owner })
 */
export function realAgentDeps(opts: RealAgentDepsOptions = {}): AgentDeps {
  const ns = opts.netns;
  const run: CommandRunner = ns
    ? (command, o) => {
        if (typeof command !== 'string') return runCommand(['ip', 'netns', 'exec', ns, ...command], o);
        const split = splitCommandLine(command);
        // An unsplittable line fails the same way without the namespace: let runCommand report it.
        return runCommand(split.ok ? ['ip', 'netns', 'exec', ns, ...split.argv] : command, o);
      }
    : (command, o) => runCommand(command, o);
  return {
    run,
    exists: (path) => existsSync(path),
    systemd: systemdBooted,
    addresses: opts.addresses ?? (ns ? new IpAddressAdapter({ netns: ns }) : new NetlinkAddressAdapter()),
    ...(ns ? {} : { garp: { announce: (dev, vips, repeat) => announce(dev, vips, repeat) } }),
    env: opts.env ?? process.env,
    ...(opts.ocfRoot ? { ocfRoot: opts.ocfRoot } : {}),
    ...(opts.garpRepeat !== undefined ? { garpRepeat: opts.garpRepeat } : {}),
    ...(opts.lb ? { lb: opts.lb } : {}),
  };
}
