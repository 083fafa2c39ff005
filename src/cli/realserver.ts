/**
 * `tandem realserver up|down VIP…`: prepares a real server for direct routing, as seed 004's `lvs_real` script does.
 * The director forwards client packets for a VIP unchanged, so the real server must accept them (the VIP on `lo`,
 * /32 or /128) without answering ARP for it, else clients would send straight to it and bypass the director:
 * `net.ipv4.conf.{all,lo}.arp_ignore = 1` (answer ARP only for addresses of the interface the request came in on)
 * and `arp_announce = 2` (never use the VIP as the source of an ARP request). IPv6 needs no setting: Linux answers a
 * neighbour solicitation only for addresses of the interface it arrives on, and `lo` is never one.
 *
 * Idempotent, and undone exactly: `up` records in a state file (0600, default /run/tandem/realserver.json) each
 * address it added and each sysctl's value before it first changed it; `down VIP…` removes the addresses `up` added
 * (an address that was there before stays), and when no VIP is left, puts every recorded sysctl back and deletes the
 * state file. `down` with no VIP undoes everything.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { TandemError } from '../core/errors.ts';
import { formatAddr, parseIp } from '../core/inet.ts';
import type { AddressAdapter } from '../os/addresses.ts';
import { writeSecretFile } from '../os/secret-file.ts';
import type { SysctlAdapter } from '../os/sysctl.ts';
import type { CliIo } from './io.ts';

/** The default state file. */
export const REALSERVER_STATE = '/run/tandem/realserver.json';

/** The ARP settings of a direct-routing real server (lvs_real). */
export const REALSERVER_SYSCTLS: readonly (readonly [string, string])[] = [
  ['net.ipv4.conf.all.arp_ignore', '1'],
  ['net.ipv4.conf.lo.arp_ignore', '1'],
  ['net.ipv4.conf.all.arp_announce', '2'],
  ['net.ipv4.conf.lo.arp_announce', '2'],
];

/** What `up` did, so that `down` undoes exactly that. */
export interface RealserverState {
  version: 1;
  /** VIPs `up` was asked for, with whether it added the address (false: it was there before). */
  vips: { addr: string; prefix: number; added: boolean }[];
  /** Each sysctl's value before `up` first changed it. */
  sysctls: Record<string, string>;
}

/** What the command needs from the host. */
export interface RealserverDeps {
  addresses: AddressAdapter;
  sysctl: SysctlAdapter;
  /** The state file. @default REALSERVER_STATE */
  statePath?: string;
}

const DEV = 'lo';

function parseVips(texts: readonly string[]): { addr: string; prefix: number }[] {
  return texts.map((t) => {
    const bytes = parseIp(t.replace(/\/(32|128)$/, ''));
    if (!bytes) throw new TandemError('TND_CLI_USAGE', `${JSON.stringify(t)} is not an IP address (a VIP: ADDRESS)`);
    return { addr: formatAddr(bytes), prefix: bytes.length === 4 ? 32 : 128 };
  });
}

function readState(path: string): RealserverState {
  if (!existsSync(path)) return { version: 1, vips: [], sysctls: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new TandemError('TND_CLI_USAGE', `${path}: not a tandem realserver state file: ${(e as Error).message}`);
  }
  const s = parsed as Partial<RealserverState>;
  if (s?.version !== 1 || !Array.isArray(s.vips) || typeof s.sysctls !== 'object' || s.sysctls === null)
    throw new TandemError('TND_CLI_USAGE', `${path}: not a tandem realserver state file (version 1)`);
  return { version: 1, vips: s.vips, sysctls: s.sysctls };
}

function saveState(path: string, state: RealserverState): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  writeSecretFile(path, `${JSON.stringify(state, null, 2)}\n`);
}

/**
 * Runs `tandem realserver VERB VIP…`; returns the exit status (0 done, 1 a host change failed, 2 usage).
 * @example await runRealserver('up', ['198.18.0.100'], io, { addresses, sysctl })
 */
export async function runRealserver(
  verb: 'up' | 'down',
  vipTexts: readonly string[],
  io: CliIo,
  deps: RealserverDeps,
): Promise<number> {
  const path = deps.statePath ?? REALSERVER_STATE;
  let vips: { addr: string; prefix: number }[];
  let state: RealserverState;
  try {
    vips = parseVips(vipTexts);
    state = readState(path);
  } catch (e) {
    io.err(`tandem realserver: ${(e as Error).message}`);
    return 2;
  }
  if (verb === 'up' && vips.length === 0) {
    io.err('tandem realserver up: name at least one VIP');
    return 2;
  }
  try {
    const run = { state, path, io, deps };
    if (verb === 'up') await up(vips, run);
    else await down(vips, run);
    return 0;
  } catch (e) {
    io.err(`tandem realserver ${verb}: ${(e as Error).message}`);
    return 1;
  }
}

/** What up and down work on. */
interface Run {
  state: RealserverState;
  path: string;
  io: CliIo;
  deps: RealserverDeps;
}

async function up(vips: { addr: string; prefix: number }[], { state, path, io, deps }: Run): Promise<void> {
  // Record before changing, and save after each change: an interrupted run can still be undone.
  for (const [name, value] of REALSERVER_SYSCTLS) {
    const before = deps.sysctl.read(name);
    if (before === undefined) throw new TandemError('TND_OS_SYSCTL', `${name}: no such setting on this kernel`);
    if (!(name in state.sysctls)) state.sysctls[name] = before;
    saveState(path, state);
    if (deps.sysctl.write(name, value)) io.out(`${name} = ${value} (was ${before})`);
  }
  for (const v of vips) {
    const known = state.vips.find((x) => x.addr === v.addr);
    const added = await deps.addresses.ensurePresent({ addr: v.addr, prefix: v.prefix, dev: DEV });
    if (!known) state.vips.push({ ...v, added });
    else if (added) known.added = true;
    saveState(path, state);
    io.out(added ? `${v.addr}/${v.prefix} added on ${DEV}` : `${v.addr}/${v.prefix} already on ${DEV}`);
  }
}

async function down(vips: { addr: string; prefix: number }[], { state, path, io, deps }: Run): Promise<void> {
  const which = vips.length === 0 ? [...state.vips] : vips;
  for (const v of which) {
    const i = state.vips.findIndex((x) => x.addr === v.addr);
    const known = state.vips[i];
    if (!known) {
      io.out(`${v.addr}: not set up by tandem realserver up, left as it is`);
      continue;
    }
    if (known.added && (await deps.addresses.ensureAbsent({ addr: known.addr, prefix: known.prefix, dev: DEV })))
      io.out(`${known.addr}/${known.prefix} removed from ${DEV}`);
    else if (!known.added) io.out(`${known.addr}/${known.prefix} was on ${DEV} before up: kept`);
    state.vips.splice(i, 1);
    saveState(path, state);
  }
  if (state.vips.length > 0) {
    io.out(`still set up: ${state.vips.map((v) => v.addr).join(' ')} (the ARP settings stay)`);
    return;
  }
  for (const [name, before] of Object.entries(state.sysctls)) {
    if (deps.sysctl.write(name, before)) io.out(`${name} = ${before} (restored)`);
  }
  rmSync(path, { force: true });
}
