/**
 * Interface addresses through `ip` (iproute2). Converging: `ensurePresent` on a present address and `ensureAbsent`
 * on an absent one change nothing and report false. The daemon runs inside the namespace it manages, so production
 * passes no `netns`; tests pass the lab namespace (`ip -n NS …`) and never touch the host's own.
 */

import { execFileSync } from 'node:child_process';
import { isIPv6 } from 'node:net';
import { TandemError } from '../core/errors.ts';
import { type NativeAddon, nativeAddon } from './native.ts';
import { errorText, runCommand } from './process.ts';

/** An address on a device (a VipConfig with its device resolved). */
export interface IfAddr {
  /** Address text without prefix. */
  addr: string;
  /** Prefix length. */
  prefix: number;
  dev: string;
  /** IPv4 label (`eth0:vi1`); ignored for IPv6, which has none. */
  label?: string;
}

/** Puts addresses on and takes them off devices; each call reports whether it changed anything. */
export interface AddressAdapter {
  /** Adds the address unless present; true when it was added. */
  ensurePresent(a: IfAddr): Promise<boolean>;
  /** Removes the address if present; true when it was removed. A missing device holds nothing: false. */
  ensureAbsent(a: IfAddr): Promise<boolean>;
  /** The addresses on `dev` (empty when the device does not exist). */
  list(dev: string): Promise<IfAddr[]>;
}

/** Options of IpAddressAdapter. */
export interface IpAddressAdapterOptions {
  /** Network namespace name for `ip -n` (tests); none = the daemon's own namespace. */
  netns?: string;
  /** Deadline of each `ip` call. @default 5000 */
  timeoutMs?: number;
  /** Aborts running and future calls (daemon shutdown). */
  signal?: AbortSignal;
  /** The `ip` binary. @default 'ip' */
  ipPath?: string;
}

// ip's messages for "nothing to do": netlink extack text (iproute2 ≥ 5.x kernels) and the older strerror forms.
const ALREADY_PRESENT = /File exists|already assigned/i;
const ALREADY_ABSENT = /Cannot assign requested address|address not found|Cannot find device|does not exist/i;

/**
 * The `ip` address adapter. IPv4: `ip addr add A/P dev D [label L]`; IPv6: `ip -6 addr add A/P dev D nodad` (a
 * virtual address must answer at once, not after duplicate address detection).
 * @example const a = new IpAddressAdapter(); await a.ensurePresent({ addr: '198.18.0.100', prefix: 24, dev: 'eth0', label: 'eth0:vi1' });
 */
export class IpAddressAdapter implements AddressAdapter {
  readonly #opts: IpAddressAdapterOptions;

  constructor(opts: IpAddressAdapterOptions = {}) {
    this.#opts = opts;
  }

  /** Adds `a` unless present; true when it was added. Rejects with ip's message on any other failure. */
  async ensurePresent(a: IfAddr): Promise<boolean> {
    const v6 = isIPv6(a.addr);
    const args = [...(v6 ? ['-6'] : []), 'addr', 'add', `${a.addr}/${a.prefix}`, 'dev', a.dev];
    if (v6) args.push('nodad');
    else if (a.label) args.push('label', a.label);
    const r = await this.#ip(args);
    if (r.ok) return true;
    if (ALREADY_PRESENT.test(r.stderr)) return false;
    // An unknown message: converge on what the device really holds rather than guess from the text.
    if (r.ran && (await this.#holds(a))) return false;
    throw new TandemError('TND_OS_ADDRESS', `ip ${args.join(' ')}: ${r.detail}`);
  }

  /** Removes `a` if present; true when it was removed. */
  async ensureAbsent(a: IfAddr): Promise<boolean> {
    const v6 = isIPv6(a.addr);
    const args = [...(v6 ? ['-6'] : []), 'addr', 'del', `${a.addr}/${a.prefix}`, 'dev', a.dev];
    const r = await this.#ip(args);
    if (r.ok) return true;
    if (ALREADY_ABSENT.test(r.stderr)) return false;
    if (r.ran && !(await this.#holds(a))) return false;
    throw new TandemError('TND_OS_ADDRESS', `ip ${args.join(' ')}: ${r.detail}`);
  }

  /** The addresses on `dev`, from `ip -j addr show` (JSON works for `show`; only `monitor` ignores -j). */
  async list(dev: string): Promise<IfAddr[]> {
    const args = ['-j', 'addr', 'show', 'dev', dev];
    const r = await this.#ip(args);
    if (!r.ok) {
      if (ALREADY_ABSENT.test(r.stderr)) return [];
      throw new TandemError('TND_OS_ADDRESS', `ip ${args.join(' ')}: ${r.detail}`);
    }
    return parseAddrJson(r.stdout, dev);
  }

  async #holds(a: IfAddr): Promise<boolean> {
    try {
      return (await this.list(a.dev)).some((x) => sameAddr(x, a));
    } catch {
      return false;
    }
  }

  async #ip(args: string[]): Promise<{ ok: boolean; ran: boolean; stdout: string; stderr: string; detail: string }> {
    const argv = [this.#opts.ipPath ?? 'ip', ...(this.#opts.netns ? ['-n', this.#opts.netns] : []), ...args];
    const r = await runCommand(argv, {
      timeoutMs: this.#opts.timeoutMs ?? 5_000,
      signal: this.#opts.signal ?? NEVER,
    });
    const ran = r.outcome === 'ok' || r.outcome === 'failed';
    const detail =
      r.outcome === 'failed' ? r.stderr.trim() || `exit ${r.code}` : r.outcome === 'ok' ? '' : (r.error ?? r.outcome);
    return { ok: r.outcome === 'ok', ran, stdout: r.stdout, stderr: r.stderr, detail };
  }
}

/** A signal that never fires, for callers that pass none. */
const NEVER = new AbortController().signal;

/** Same address and prefix (IPv6 text compared after normalisation by `ip`, which prints the canonical form). */
function sameAddr(x: IfAddr, a: IfAddr): boolean {
  return x.prefix === a.prefix && x.addr.toLowerCase() === canonical(a.addr);
}

/** IPv6 text in the compressed lower-case form `ip` prints; IPv4 unchanged. */
function canonical(addr: string): string {
  if (!isIPv6(addr)) return addr;
  try {
    return new URL(`http://[${addr}]/`).hostname.slice(1, -1);
  } catch {
    return addr.toLowerCase();
  }
}

/** Parses `ip -j addr show dev D` output. Lenient: anything unexpected yields no entry rather than an exception. */
export function parseAddrJson(text: string, dev: string): IfAddr[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(data)) return [];
  const out: IfAddr[] = [];
  for (const link of data as { ifname?: unknown; addr_info?: unknown }[]) {
    if (!Array.isArray(link?.addr_info)) continue;
    const name = typeof link.ifname === 'string' ? link.ifname : dev;
    for (const info of link.addr_info as { local?: unknown; prefixlen?: unknown; label?: unknown }[]) {
      if (typeof info?.local !== 'string' || typeof info.prefixlen !== 'number') continue;
      out.push({
        addr: info.local,
        prefix: info.prefixlen,
        dev: name,
        ...(typeof info.label === 'string' ? { label: info.label } : {}),
      });
    }
  }
  return out;
}

/** A virtual address as the VRRP driver hands it over (structurally vrrp's VipConfig; os/ imports only core/). */
export interface VipLike {
  addr: string;
  prefix: number;
  dev?: string;
  label?: string;
}

/** What one add/remove batch changed. */
export interface VipBatchResult {
  /** Addresses actually added or removed (the rest were already in place). */
  changed: string[];
}

/**
 * The VRRP driver's VipEffects over an AddressAdapter. A VIP without `dev` goes on `defaultDev` (the instance's
 * interface). Batches run in call order (an add followed quickly by a remove must not end with the address present),
 * the addresses of one batch in parallel. Never throws: a failure rejects the returned promise with every failed
 * address named, after trying all of them, and the driver turns it into an `effectFailed` event.
 * @example new AddressVipEffects(new IpAddressAdapter(), cfg.interface)
 */
export class AddressVipEffects {
  readonly #adapter: AddressAdapter;
  readonly #defaultDev: string;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(adapter: AddressAdapter, defaultDev: string) {
    this.#adapter = adapter;
    this.#defaultDev = defaultDev;
  }

  /** Adds the addresses; resolves with what changed. */
  add(vips: readonly VipLike[]): Promise<VipBatchResult> {
    return this.#enqueue('add', vips);
  }

  /** Removes the addresses; resolves with what changed. */
  remove(vips: readonly VipLike[]): Promise<VipBatchResult> {
    return this.#enqueue('remove', vips);
  }

  #enqueue(op: 'add' | 'remove', vips: readonly VipLike[]): Promise<VipBatchResult> {
    const list = vips.map((v) => ({ ...v }));
    const run = this.#tail.then(() => this.#apply(op, list));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #apply(op: 'add' | 'remove', vips: readonly VipLike[]): Promise<VipBatchResult> {
    const settled = await Promise.allSettled(
      vips.map((v) => {
        const a: IfAddr = {
          addr: v.addr,
          prefix: v.prefix,
          dev: v.dev ?? this.#defaultDev,
          ...(v.label ? { label: v.label } : {}),
        };
        try {
          return op === 'add' ? this.#adapter.ensurePresent(a) : this.#adapter.ensureAbsent(a);
        } catch (e) {
          return Promise.reject(e); // an adapter that throws synchronously still fails only this address
        }
      }),
    );
    const changed: string[] = [];
    const failed: string[] = [];
    settled.forEach((s, i) => {
      const addr = vips[i]!.addr;
      if (s.status === 'fulfilled') {
        if (s.value) changed.push(addr);
      } else {
        failed.push(`${addr}: ${errorText(s.reason)}`);
      }
    });
    if (failed.length > 0) throw new TandemError('TND_OS_ADDRESS', `${op} failed for ${failed.join('; ')}`);
    return { changed };
  }
}

/**
 * Addresses over rtnetlink through the native addon: the same converging contract as {@link IpAddressAdapter}, but a
 * change costs well under a millisecond instead of an `ip` process (about 10 ms), which matters on the takeover path
 * (the new master's address must be there before its gratuitous ARP). Works in the daemon's own namespace only;
 * listing still uses `ip`.
 */
export class NetlinkAddressAdapter implements AddressAdapter {
  readonly #list: IpAddressAdapter;
  readonly #native: Pick<NativeAddon, 'address'>;

  /** `native` is the addon (injected in tests). */
  constructor(native: Pick<NativeAddon, 'address'> = nativeAddon()) {
    this.#native = native;
    this.#list = new IpAddressAdapter();
  }

  /** Adds `a` unless present; true when it was added. */
  async ensurePresent(a: IfAddr): Promise<boolean> {
    return this.#native.address(
      'add',
      a.dev,
      isIPv6(a.addr) ? 6 : 4,
      a.addr,
      a.prefix,
      isIPv6(a.addr) ? undefined : a.label,
    );
  }

  /** Removes `a` if present; true when it was removed. A missing device holds nothing: false. */
  async ensureAbsent(a: IfAddr): Promise<boolean> {
    try {
      return this.#native.address('del', a.dev, isIPv6(a.addr) ? 6 : 4, a.addr, a.prefix);
    } catch (e) {
      if ((e as { code?: string }).code === 'ENODEV') return false;
      throw e;
    }
  }

  /** The addresses on `dev`. */
  list(dev: string): Promise<IfAddr[]> {
    return this.#list.list(dev);
  }
}

/** The interface's primary address of a family: the first one that is not secondary and not one of our VIPs. */
export function primaryAddress(
  ifname: string,
  family: 4 | 6,
  exclude: ReadonlySet<string> = new Set(),
): string | undefined {
  let out = '';
  try {
    out = execFileSync('ip', ['-o', family === 4 ? '-4' : '-6', 'addr', 'show', 'dev', ifname], {
      encoding: 'utf8',
      timeout: 5_000,
    });
  } catch {
    return undefined;
  }
  for (const line of out.split('\n')) {
    const m = /\sinet6? ([0-9a-f.:]+)\/\d+/.exec(line);
    if (!m || exclude.has(m[1]!) || /\bsecondary\b|\btentative\b|\bdadfailed\b/.test(line)) continue;
    // IPv6 adverts go out from the link-local address (RFC 5798 §5.1.2.1).
    if (family === 6 && !m[1]!.startsWith('fe80:')) continue;
    return m[1];
  }
  return undefined;
}
