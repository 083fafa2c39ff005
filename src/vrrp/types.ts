import type { Ms } from '../core/time.ts';

/** VRRP protocol version: 2 (RFC 3768) or 3 (RFC 5798 / RFC 9568). */
export type VrrpVersion = 2 | 3;
/** IP address family of an instance: all its virtual addresses and adverts are of one family. */
export type { AddressFamily } from '../core/inet.ts';

import type { AddressFamily } from '../core/inet.ts';

/** v2 authentication. keepalived still speaks the legacy RFC 2338 PASS type (1); v3 has none. */
export type VrrpAuth = { type: 'none' } | { type: 'pass'; password: string };

/** A decoded VRRP ADVERTISEMENT. Intervals are milliseconds here; centiseconds exist only inside the codec (Rule 2). */
export interface VrrpPacket {
  version: VrrpVersion;
  family: AddressFamily;
  /** Virtual Router ID, 1..255. */
  vrid: number;
  /** 0 = the master is releasing, 1..254 backups, 255 = address owner. */
  priority: number;
  /** v2: Adver Int (whole seconds) in ms; v3: Max Adver Int (centiseconds) in ms. */
  advertIntervalMs: Ms;
  /** The virtual addresses in the advert, in wire order, as text (`198.18.0.100`, `fe80::1`). */
  addrs: readonly string[];
  /** v2 authentication; always `{ type: 'none' }` for v3. */
  auth: VrrpAuth;
}

/** How a v3/IPv4 checksum is formed: keepalived's default adds the IPv4 pseudo-header; RFC 9568 covers the message only. */
export type V3ChecksumForm = 'pseudo-header' | 'message';

/** What the receiver knows about a packet besides its bytes (from recvmsg). */
export interface RxMeta {
  /** Received IPv4 TTL or IPv6 hop limit. */
  ttl: number;
  family: AddressFamily;
  /** Source and destination IP address as text; needed for pseudo-header checksums. */
  src: string;
  dst: string;
  /** RFC 3768 §7.1: drop when TTL ≠ 255. keepalived skips this for unicast. @default true */
  checkTtl?: boolean;
}

/** What the sender needs besides the packet: addresses for the pseudo-header, and the v3/IPv4 checksum form. */
export interface TxMeta {
  src: string;
  dst: string;
  /** @default 'pseudo-header' (keepalived-compatible) */
  v3Checksum?: V3ChecksumForm;
}

/**
 * Why a received packet was dropped: a closed set that flows unchanged to logs, metrics and `tandem status` (Rule 5).
 * The first group comes from decoding alone, the second from matching the packet against an instance.
 */
export type VrrpDrop =
  | 'short'
  | 'version'
  | 'type'
  | 'ttl'
  | 'checksum'
  | 'auth'
  | 'interval'
  | 'addr-count'
  | 'family'
  // instance matching
  | 'vrid'
  | 'version-mismatch'
  | 'auth-mismatch'
  | 'interval-mismatch'
  | 'addr-list'
  | 'owner'
  // the transport: a unicast instance hears only its configured peers
  | 'unicast-peer'
  // auth_hmac (vrrp/auth-hmac.ts): no valid trailer, a stale one, or a replayed one
  | 'hmac'
  | 'stale'
  | 'replay';

/** Every VrrpDrop value, in a fixed order (for counters and tests). */
export const VRRP_DROPS: readonly VrrpDrop[] = [
  'short',
  'version',
  'type',
  'ttl',
  'checksum',
  'auth',
  'interval',
  'addr-count',
  'family',
  'vrid',
  'version-mismatch',
  'auth-mismatch',
  'interval-mismatch',
  'addr-list',
  'owner',
  'unicast-peer',
  'hmac',
  'stale',
  'replay',
];

/** Instance states: RFC's Initialize/Backup/Master plus keepalived's Fault. */
export type VrrpState = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT';

/** A virtual address moved with an instance. */
export interface VipConfig {
  /** Address text without prefix. */
  addr: string;
  /** Prefix length. @default 32 (IPv4) / 128 (IPv6) */
  prefix: number;
  /** Device to put it on. @default the instance's interface */
  dev?: string;
  /** IPv4 label (`eth0:1`). */
  label?: string;
}

/**
 * A tracked object's reference from an instance. keepalived semantics: weight 0 and down → FAULT;
 * weight > 0 adds when up; weight < 0 subtracts when down; `reverse` inverts the direction.
 */
export interface TrackerRef {
  /** Unique id within the instance, e.g. `script:chk_nginx`, `interface:eth1`, `file:/run/prio`. */
  id: string;
  weight: number;
  reverse?: boolean;
}

/** Gratuitous ARP / unsolicited NA settings after becoming master (keepalived's garp_master_*). */
export interface GarpConfig {
  /** Delay before the second burst. @default 5000 */
  masterDelayMs: Ms;
  /** Packets per burst. @default 5 */
  masterRepeat: number;
  /** Periodic refresh while master; 0 = off. @default 0 */
  masterRefreshMs: Ms;
  /**
   * Gratuitous ARPs sent when a master hears a lower-priority advert (keepalived garp_lower_prio_repeat): after a
   * split brain heals, clients that followed the other master's GARPs come back at once. 0 = none.
   * @default masterRepeat
   */
  lowerPrioRepeat?: number;
  /** Gap between the gratuitous ARPs of one burst (keepalived vrrp_garp_interval). @default 0 */
  intervalMs?: Ms;
  /** Gap between the unsolicited NAs of one burst (keepalived vrrp_gna_interval). @default 0 */
  naIntervalMs?: Ms;
}

/** keepalived use_vmac: the vips live on a macvlan with the virtual router MAC. */
export interface VmacConfig {
  /** The macvlan interface, `vrrp.VRID` by default. */
  name: string;
  /** 00:00:5e:00:01:VRID (IPv4) or 00:00:5e:00:02:VRID (IPv6), RFC 5798 §7.3. */
  mac: string;
  /** keepalived vmac_xmit_base: adverts go out on (and are read from) the base interface. */
  xmitBase: boolean;
}

/**
 * The takeover guard of an instance (docs/split-brain.md): before a backup whose master went silent takes over, the
 * node asks that master over other paths. The machine needs the deadline and whether to fence; the paths are the
 * node's business.
 */
export interface GuardConfig {
  /** Deadline of one probe round: the most the guard adds to a real failover. */
  timeoutMs: Ms;
  /** Ask tandem's peer channel (cluster nodes only). */
  peerChannel: boolean;
  /** ICMP echo to the master's addresses. */
  icmp: boolean;
  /** TCP ports on the master; open = alive (`peer_probe`). */
  ports: readonly number[];
  /** A fence device to run when the master's death cannot be confirmed; absent = take over without fencing. */
  fence?: { device: string; timeoutMs: Ms; retryMs: Ms };
}

/** One more heartbeat path: the interface, and unicast peers on it (empty = multicast). */
export interface PathConfig {
  interface: string;
  unicastPeers: readonly string[];
  unicastSrc?: string;
  mcastSrc?: string;
}

/** keepalived 2.4's auth_hmac: an HMAC-SHA256 trailer with anti-replay (vrrp/auth-hmac.ts). */
export interface HmacConfig {
  /** The key file (read by the daemon, never part of the config). */
  keyFile: string;
  keyId: number;
  mode: 'enforce' | 'permissive' | 'receive-only';
  antiReplay: 'time' | 'monotonic';
  /** Freshness window in `time` mode. */
  timeWindowMs: Ms;
}

/** What one VRRP instance needs to run: frozen config, produced from any config format by config/. */
export interface InstanceConfig {
  name: string;
  version: VrrpVersion;
  family: AddressFamily;
  interface: string;
  vrid: number;
  /** Configured (base) priority 1..255; 255 = address owner. */
  priority: number;
  /** Advertisement_Interval. v2 needs whole seconds, v3 a multiple of 10 ms in 10..40950. */
  advertIntervalMs: Ms;
  /**
   * keepalived `state MASTER`: a non-owner starts as BACKUP with a short timer (one advert interval plus the
   * minimum skew) instead of a full Master_Down_Interval, so it still hears a running higher-priority master first.
   */
  initialState: 'BACKUP' | 'MASTER';
  /** Preempt_Mode; keepalived's `nopreempt` sets false. @default true */
  preempt: boolean;
  /** keepalived preempt_delay: a backup waits this long before preempting a lower-priority master. @default 0 */
  preemptDelayMs: Ms;
  /** Accept_Mode (RFC 5798); keepalived accept/no_accept. @default true */
  accept: boolean;
  auth: VrrpAuth;
  v3Checksum: V3ChecksumForm;
  vips: readonly VipConfig[];
  /** Unicast peers; empty = multicast. */
  unicastPeers: readonly string[];
  /** Source address for unicast adverts. */
  unicastSrc?: string;
  /** Source address for multicast adverts. */
  mcastSrc?: string;
  trackers: readonly TrackerRef[];
  garp: GarpConfig;
  /** keepalived down_timer_adverts: adverts missed before Master_Down. @default 3 */
  downTimerAdverts: number;
  /** keepalived lower_prio_no_advert; false = RFC 9568's immediate advert on a lower-priority advert. @default false */
  lowerPrioNoAdvert: boolean;
  /** keepalived use_vmac. @default none */
  vmac?: VmacConfig;
  /** keepalived virtual_routes / virtual_rules: `ip route` / `ip rule` arguments, present while master. */
  virtualRoutes?: readonly { kind: 'route' | 'rule'; args: readonly string[] }[];
  /** keepalived skip_check_adv_addr: a backup does not check the address list of its current master's adverts. */
  skipCheckAdvAddr?: boolean;
  /** The takeover guard; absent = plain VRRP. */
  guard?: GuardConfig;
  /** More heartbeat paths besides `interface` (and its unicast peers). @default none */
  paths?: readonly PathConfig[];
  /** HMAC-authenticated adverts; absent = none (or `auth` PASS). */
  hmac?: HmacConfig;
}
