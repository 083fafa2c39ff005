/**
 * Loads tandem's native addon (native/vrrp.cc, built by `npm install` into build/Release). Loaded on first use, not
 * on import, so commands that never touch the wire (`tandem check`, the simulator) run where the addon is not built.
 */

import { createRequire } from 'node:module';
import { TandemError } from '../core/errors.ts';
import { NATIVE_ADDON } from './runtime-paths.ts';

/** One datagram as the addon delivers it: the VRRP message (IPv4 header stripped) and what recvmsg told. */
export interface NativeMessage {
  data: Uint8Array;
  src: string;
  dst: string;
  /** IPv4 TTL or IPv6 hop limit; -1 when the kernel did not report it. */
  ttl: number;
  ifindex: number;
}

/** The addon's raw VRRP socket (one interface, one family). */
export interface NativeVrrpSocket {
  readonly ifindex: number;
  send(bytes: Uint8Array, dst: string, src?: string): number;
  start(cb: (err: Error | null, msg?: NativeMessage) => void): void;
  close(): void;
}

/** The addon's exports. */
export interface NativeAddon {
  VrrpSocket: new (ifname: string, family: 4 | 6) => NativeVrrpSocket;
  announce(
    ifname: string,
    ipv4: readonly string[],
    ipv6: readonly string[],
    repeat: number,
  ): { arp: number; na: number };
  /** Adds or removes one address over rtnetlink; true when something changed. */
  address(op: 'add' | 'del', ifname: string, family: 4 | 6, addr: string, prefix: number, label?: string): boolean;
  /** flock(fd, LOCK_EX | LOCK_NB): true when this process holds the lock now, false when another process does. */
  lock(fd: number): boolean;
  /** sd_notify: one datagram on the AF_UNIX socket `path` (`@…` = abstract); throws with errno on failure. */
  notify(path: string, message: string): void;
  /** An ICMP echo socket (os/icmp.ts): a ping socket where allowed, else raw. */
  IcmpSocket: new (
    family: 4 | 6,
  ) => import('./icmp.ts').NativeIcmpSocket;
}

let cached: NativeAddon | undefined;

/** The native addon; throws with a how-to-fix message when it was not built. */
export function nativeAddon(): NativeAddon {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  try {
    cached = require(NATIVE_ADDON) as NativeAddon;
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new TandemError(
      'TND_OS_ADDON',
      `tandem's native addon (build/Release/tandem_vrrp.node) cannot be loaded: ${why}. ` +
        'Build it with `npm install` or `npm run build:native` (needs python3, make and g++).',
      { cause: e },
    );
  }
  return cached;
}
