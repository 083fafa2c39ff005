/**
 * What agents need from the host, as interfaces matched structurally by the real adapters in os/ (resources/ imports
 * only core/; src/os/agent-runner.ts builds the real ones, tests pass fakes). Every OS effect an agent has goes
 * through one of these (Rule 4).
 */
import type { Ms } from '../../core/time.ts';

/** How a command ended (os/process.ts RunOutcome). */
export type CommandOutcome = 'ok' | 'failed' | 'timeout' | 'aborted' | 'spawn-error';

/** The result of one command (os/process.ts RunResult). */
export interface CommandResult {
  outcome: CommandOutcome;
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  truncated: boolean;
  durationMs: Ms;
  error?: string;
}

/** Runs a command without a shell, with a deadline and a signal; never rejects (os/process.ts runCommand). */
export type CommandRunner = (
  command: readonly string[] | string,
  opts: { timeoutMs: Ms; signal: AbortSignal; env?: Record<string, string | undefined>; maxOutputBytes?: number },
) => Promise<CommandResult>;

/** An address on a device (os/addresses.ts IfAddr). */
export interface AgentIfAddr {
  addr: string;
  prefix: number;
  dev: string;
  label?: string;
}

/** Converging address changes (os/addresses.ts AddressAdapter). */
export interface AgentAddresses {
  ensurePresent(a: AgentIfAddr): Promise<boolean>;
  ensureAbsent(a: AgentIfAddr): Promise<boolean>;
  list(dev: string): Promise<AgentIfAddr[]>;
}

/** Gratuitous ARP / unsolicited NA (os/garp.ts announce). */
export interface AgentGarp {
  announce(dev: string, vips: readonly { addr: string; prefix: number; dev?: string }[], repeat: number): unknown;
}

/** The load balancer's side of an `lb` resource: serve, or stop serving, some virtual services on this node. */
export interface LbHook {
  startServices(names: readonly string[], signal: AbortSignal): Promise<unknown> | unknown;
  stopServices(names: readonly string[], signal: AbortSignal): Promise<unknown> | unknown;
  /** Whether all of them are served here now; without it the agent remembers what it did. */
  servicesRunning?(names: readonly string[]): Promise<boolean> | boolean;
}

/** Everything an agent may use. */
export interface AgentDeps {
  run: CommandRunner;
  /** Whether a file exists (OCF agents, init scripts). */
  exists(path: string): boolean;
  /** Whether systemd is the init system (`/run/systemd/system` exists). */
  systemd(): boolean;
  addresses?: AgentAddresses;
  garp?: AgentGarp;
  lb?: LbHook;
  /** The environment agents run with (PATH and the like); OCF variables are added to it. @default {} */
  env?: Record<string, string | undefined>;
  /** @default '/usr/lib/ocf' */
  ocfRoot?: string;
  /** Gratuitous ARP rounds after adding a vip (IPaddr2's arp_count). @default 5 */
  garpRepeat?: number;
}

/** Where agents of a group learn their context. */
export interface AgentContext extends AgentDeps {
  /** The group name (part of OCF_RESOURCE_INSTANCE). */
  group: string;
  /** The owner instance's interface, the default device of a vip. */
  defaultInterface?: string;
}
