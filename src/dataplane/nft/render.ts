/**
 * The nftables renderer: turns the desired state of virtual services (`ServiceProgram[]`) into nft **text** — the
 * whole table ({@link renderTable}), or one transaction that moves a running table from one desired state to the next
 * ({@link renderUpdate}) without touching the services that did not change, so their connections and counters live
 * on. Pure: no clock, no randomness, no OS (Rule 1); the applier (index.ts) hands the text to `nft -f -`.
 *
 * Why text: spawned from Node, `nft -j -f -` fails (stdin is a socketpair), and nft 1.0.6's JSON cannot create these
 * maps (reference/ecosystem.md §3). Text on stdin works, and one `nft -f` run is one atomic transaction.
 *
 * Layout of a table (`table inet NAME`, IPv4 and IPv6 side by side):
 * ```
 * map dispatch4     { type inet_proto . ipv4_addr . inet_service : verdict }  # tcp . VIP . port : goto svc_ID
 * map dispatch4any  { type inet_proto . ipv4_addr : verdict }                 # port 0 services (every port)
 * map dispatch6 / dispatch6any                                                # the same for IPv6
 * map dispatchmark4 { type inet_proto . mark : verdict }                      # fwmark services: tcp . MARK
 * map dispatchmark6                                                           # (consulted first, as IPVS does)
 * chain prerouting  { type nat hook prerouting priority dstnat }   # traffic arriving for a VIP
 * chain output      { type nat hook output priority -100 }          # traffic to a VIP from this host itself
 * chain postrouting { type nat hook postrouting priority srcnat; ct status dnat jump lb_snat }
 * chain lb_snat     { one rule per service with snat: ct original ip daddr VIP ct original proto-dst PORT masquerade }
 * map svc_ID_slots  { slot number : backend address . port }      # the scheduler's slot table
 * chain svc_ID      { meta l4proto tcp dnat ip to numgen inc mod N map @svc_ID_slots }
 * ```
 * Only the first packet of a connection passes nat chains; conntrack carries the rest, so replacing a slot map
 * (`flush map` + `add element` in one transaction) moves new connections only — existing ones keep their backend.
 *
 * Schedulers in the kernel (see {@link kernelScheduler}): rr `numgen inc mod N` over the live backends; wrr
 * `numgen inc mod S` over an interleaved weighted slot table; sh `jhash ip saddr mod S` over a weighted slot table;
 * mh `jhash ip saddr mod M` over a Maglev table; lc and wlc need live connection counts, which nft cannot read per
 * backend: they run as weighted random (`numgen random mod S`). Slot-table sizes: {@link kernelSlotCount}.
 *
 * A service with no backend of weight > 0 and no sorry server rejects new connections (`reject with tcp reset`;
 * udp: ICMP port unreachable), so clients fail fast. An active sorry server takes every new connection.
 *
 * Persistence (keepalived `persistence_timeout`/`persistence_granularity`): each backend has a dynamic set of client
 * networks with the timeout, and a chain that refreshes the client's entry and DNATs to the backend. The service
 * chain first looks the client up in the sets of the backends that take new connections (weight > 0) and goes to the
 * first that has it; otherwise the scheduler picks a slot of a verdict map that goes to a backend chain. So an
 * affinity lapses `timeoutMs` after the client's last new connection, and an affinity to a backend that takes no new
 * connections (weight 0: draining, inhibited, quorum) is not honoured (lb/persistence.ts `stickyBackend`); it is
 * honoured again if the backend gets its weight back before the entry expires. A backend that leaves the desired
 * state (down, maintenance, removed) loses its set. Cost: one set lookup per live backend for a new connection of a
 * persistent service.
 *
 * Direct routing (`method: 'dr'`) is not in this table: it lives in a netdev table of the same name (render-dr.ts).
 * @see https://wiki.nftables.org/wiki-nftables/index.php/Load_balancing
 */
import { TandemError } from '../../core/errors.ts';
import { formatAddr, maskBytes, parseIp } from '../../core/inet.ts';
import type { ServiceProgram } from '../../lb/dataplane.ts';
import { isMaglevSize, maglevTable } from '../../lb/schedulers/mh.ts';
import { rrSlotTable, slotTable } from '../../lb/schedulers/slots.ts';
import { gcd, usableWeight } from '../../lb/schedulers/types.ts';
import type { Endpoint, IpFamily, SchedulerName } from '../../lb/types.ts';

// ---------------------------------------------------------------------------------------------------------------
// Schedulers and slot tables

/**
 * What the kernel data plane actually does for a scheduler: the same thing for rr, wrr, sh and mh; weighted random
 * for lc and wlc (nft cannot count connections per backend while it picks). The config check warns when this differs
 * from the configured scheduler.
 */
export type KernelScheduler = 'rr' | 'wrr' | 'sh' | 'mh' | 'weighted-random';

/**
 * The scheduling the nft data plane applies for a configured scheduler.
 * @example kernelScheduler('wlc') // 'weighted-random'
 */
export function kernelScheduler(name: SchedulerName): KernelScheduler {
  return name === 'lc' || name === 'wlc' ? 'weighted-random' : name;
}

/** Seed of every `jhash` (sh, mh), fixed so that two directors with the same table send a client to the same backend. */
export const JHASH_SEED = 0x74616e64;

/** Smallest sh table (ip_vs_sh's 256 buckets). */
export const SH_MIN_SLOTS = 256;

/** Smallest wrr / weighted-random table cap; above it, weights are apportioned rather than exact. */
export const WEIGHTED_MAX_SLOTS = 4096;

/** Slots per live backend aimed for by sh, and by the cap of weighted tables. */
export const SLOTS_PER_BACKEND = 16;

/** Size of each backend's set of persistent clients (entries beyond it are not recorded; the client is scheduled). */
export const AFFINITY_SET_SIZE = 65_536;

/**
 * The Maglev table sizes the nft data plane uses: for each power of two from 2^8 to 2^17, the largest prime below it
 * that is ≡ 2 (mod 3), as the cubic walk needs (lb/schedulers/mh.ts) — 251, 509, 1019, 2039, 4091, … Sizes move
 * along this ladder only when the backend count crosses a factor of two, because a new size reshuffles every client.
 * (1021, a common choice, is ≡ 1 mod 3 and would not do.)
 */
export const MAGLEV_NFT_SIZES: readonly number[] = ladder();

function ladder(): number[] {
  const out: number[] = [];
  for (let k = 8; k <= 17; k++) {
    let p = 2 ** k - 1;
    while (!isMaglevSize(p)) p--;
    out.push(p);
  }
  return out;
}

/**
 * The Maglev table size for a service with `backends` backends (all of them, weight 0 included, so draining one does
 * not resize the table): the smallest ladder size with at least 10 slots per backend (the paper's imbalance bound
 * needs M ≫ N; 10× keeps each backend within about 10 % of its share while the map stays small for nft).
 * @example maglevSizeFor(3) // 251
 */
export function maglevSizeFor(backends: number): number {
  const want = 10 * Math.max(1, backends);
  return MAGLEV_NFT_SIZES.find((m) => m >= want) ?? MAGLEV_NFT_SIZES[MAGLEV_NFT_SIZES.length - 1]!;
}

/**
 * The number of slots of a service's table: rr one per live backend (exact round robin); wrr and weighted random one
 * LVS cycle (Σ weight / gcd), capped at max(4096, 16 × live backends) beyond which the weights are apportioned; sh
 * max(256, 16 × live backends); mh {@link maglevSizeFor} of all its backends. 0 when no backend takes new connections.
 */
export function kernelSlotCount(scheduler: SchedulerName, weights: readonly number[]): number {
  const live = weights.map((w) => usableWeight({ weight: w })).filter((w) => w > 0);
  if (live.length === 0) return 0;
  switch (kernelScheduler(scheduler)) {
    case 'rr':
      return live.length;
    case 'sh':
      return Math.max(SH_MIN_SLOTS, SLOTS_PER_BACKEND * live.length);
    case 'mh':
      return maglevSizeFor(weights.length);
    case 'wrr':
    case 'weighted-random': {
      const g = live.reduce((acc, w) => gcd(w, acc), 0);
      const cycle = live.reduce((s, w) => s + w / g, 0);
      return Math.min(cycle, Math.max(WEIGHTED_MAX_SLOTS, SLOTS_PER_BACKEND * live.length));
    }
  }
}

/** The slot table of a service: `kernelSlotCount` entries, each an index into its backends. */
export function kernelSlotTable(svc: {
  scheduler: SchedulerName;
  backends: readonly { key: string; weight: number }[];
}): number[] {
  const weights = svc.backends.map((b) => b.weight);
  const n = kernelSlotCount(svc.scheduler, weights);
  if (n === 0) return [];
  switch (kernelScheduler(svc.scheduler)) {
    case 'rr':
      return rrSlotTable(svc.backends, n);
    case 'mh':
      return maglevTable(
        svc.backends.map((b) => ({ key: b.key, weight: b.weight })),
        n,
      );
    default:
      // Exact when the cycle fits; else the largest-remainder apportionment of the capped size, interleaved alike.
      return slotTable(svc.backends, n);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Names

/**
 * The nft name part of a service id: letters, digits, `.` and `-` stay; `_` becomes `__`, `:` `_c`, anything else
 * `_xHHHH`. Injective, and a name part never contains a lone `_` followed by another letter, which is how the
 * renderer's own suffixes (`_slots`, `_be_…`, `_aff_…`) stay apart from ids.
 * @example nameOf('web:443') // 'web_c443'
 */
export function nameOf(id: string): string {
  let out = '';
  for (const ch of id) {
    if (/[A-Za-z0-9.-]/.test(ch)) out += ch;
    else if (ch === '_') out += '__';
    else if (ch === ':') out += '_c';
    else for (const unit of ch.split('')) out += `_x${unit.charCodeAt(0).toString(16).padStart(4, '0')}`;
  }
  return out;
}

/** The nft objects of one service, by name. */
export interface ServiceNames {
  chain: string;
  slots: string;
}

/** Names of a service's chain and slot map. */
export function serviceNames(id: string): ServiceNames {
  const n = nameOf(id);
  return { chain: `svc_${n}`, slots: `svc_${n}_slots` };
}

/** Longest nft object name the kernel takes (NFT_NAME_MAXLEN − 1). */
const NFT_NAME_MAX = 255;

const TABLE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

// ---------------------------------------------------------------------------------------------------------------
// Plans: a service as nft objects

/** A set or map declaration with its elements. */
export interface NftSet {
  kind: 'set' | 'map';
  name: string;
  /** Declaration lines (`typeof …`, `flags …`). */
  decl: string[];
  elements: string[];
}

/** A chain (regular, no hook) with its rules. */
export interface NftChain {
  name: string;
  rules: string[];
}

/** Per-backend objects of a persistent service. */
export interface PersistObjects {
  set: NftSet;
  chain: NftChain;
}

/** What the renderer makes of one service: its nft objects, as text. */
export interface ServicePlan {
  id: string;
  /** Changing any of these re-creates the service's objects (the map and set types depend on them). */
  identity: string;
  dispatch: { map: DispatchMap; key: string };
  slots: NftSet;
  chain: NftChain;
  /** Persistent services only, by backend key (all desired backends, weight 0 included). */
  persist: Map<string, PersistObjects>;
  /** The service's rule in lb_snat, or null. */
  snat: string | null;
}

/** The dispatch map a service's element lives in. */
export type DispatchMap =
  | 'dispatchmark4'
  | 'dispatchmark6'
  | 'dispatch4'
  | 'dispatch4any'
  | 'dispatch6'
  | 'dispatch6any';

/**
 * The dispatch maps, in the order the nat chains consult them. Firewall-mark services come first, as IPVS looks a
 * packet up by its mark before its address (ip_vs_service_find). The mark is the packet's (`meta mark`), set by the
 * operator's own rules in a chain that runs before dstnat (iptables' mangle table, or an nft chain at priority
 * mangle): tandem only reads it and never touches those rules, which live outside its table.
 */
const DISPATCH_MAPS: readonly { name: DispatchMap; type: string; match: string }[] = [
  { name: 'dispatchmark4', type: 'inet_proto . mark', match: 'meta nfproto ipv4 meta l4proto . meta mark' },
  { name: 'dispatchmark6', type: 'inet_proto . mark', match: 'meta nfproto ipv6 meta l4proto . meta mark' },
  { name: 'dispatch4', type: 'inet_proto . ipv4_addr . inet_service', match: 'meta l4proto . ip daddr . th dport' },
  { name: 'dispatch4any', type: 'inet_proto . ipv4_addr', match: 'meta l4proto . ip daddr' },
  { name: 'dispatch6', type: 'inet_proto . ipv6_addr . inet_service', match: 'meta l4proto . ip6 daddr . th dport' },
  { name: 'dispatch6any', type: 'inet_proto . ipv6_addr', match: 'meta l4proto . ip6 daddr' },
];

const SNAT_CHAIN = 'lb_snat';

function fail(message: string): never {
  throw new TandemError('TND_NFT_PROGRAM', message);
}

/** The canonical text of an address of `family`, or a TandemError naming `what`. */
function address(text: string, family: IpFamily, what: string): string {
  if (family === 4 && isCanonicalV4(text)) return text;
  const bytes = parseIp(text, family);
  if (!bytes) fail(`${what}: ${JSON.stringify(text)} is not an IPv${family} address`);
  return formatAddr(bytes);
}

/**
 * Whether text is a dotted quad in canonical form (no leading zeros): the common case, checked without allocating
 * (a thousand services hold tens of thousands of addresses).
 */
function isCanonicalV4(text: string): boolean {
  let parts = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46; // a virtual '.' ends the last part
    if (c === 46) {
      if (digits === 0 || value > 255) return false;
      parts++;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && value === 0) return false; // leading zero
      value = value * 10 + (c - 48);
      if (++digits > 3) return false;
    } else {
      return false;
    }
  }
  return parts === 4;
}

/** A private copy of a service (plain data: strings, numbers, small objects). */
function copyProgram(svc: ServiceProgram): ServiceProgram {
  return {
    ...svc,
    persistence: svc.persistence ? { ...svc.persistence } : null,
    sorry: svc.sorry ? { ...svc.sorry } : null,
    backends: svc.backends.map((b) => ({ ...b })),
    ...(svc.snat ? { snat: { ...svc.snat } } : {}),
    ...(svc.proxy ? { proxy: { ...svc.proxy } } : {}),
  };
}

function checkPort(port: number, what: string): void {
  if (!Number.isInteger(port) || port < 0 || port > 65_535) fail(`${what}: port ${port} is not 0..65535`);
}

/** The `ip`/`ip6` keyword of a family. */
export const ipKw = (f: IpFamily): 'ip' | 'ip6' => (f === 4 ? 'ip' : 'ip6');

/** nft time text: whole seconds as `Ns`, else `Nms`. */
export function nftTime(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** `ip saddr` or `ip saddr & MASK` for a client-network prefix. */
export function clientNet(family: IpFamily, prefix: number): string {
  const bits = family === 4 ? 32 : 128;
  const p = Math.min(bits, Math.max(0, Math.trunc(prefix)));
  const kw = `${ipKw(family)} saddr`;
  if (p === bits) return kw;
  return `${kw} & ${formatAddr(maskBytes(new Uint8Array(bits / 8).fill(0xff), p))}`;
}

/** A DNAT target: `198.18.0.21:80`, `[2001:db8::1]:80`, or the address alone (keep the client's port). */
function dnatTarget(addr: string, port: number, family: IpFamily): string {
  if (port === 0) return addr;
  return family === 4 ? `${addr}:${port}` : `[${addr}]:${port}`;
}

/** The scheduler's slot expression. */
function selector(scheduler: SchedulerName, family: IpFamily, slots: number): string {
  switch (kernelScheduler(scheduler)) {
    case 'rr':
    case 'wrr':
      return `numgen inc mod ${slots}`;
    case 'weighted-random':
      return `numgen random mod ${slots}`;
    case 'sh':
    case 'mh':
      return `jhash ${ipKw(family)} saddr mod ${slots} seed 0x${JHASH_SEED.toString(16)}`;
  }
}

/** A map element value: `addr . port`, or the address alone when the client's port is kept. */
function endpointValue(addr: string, port: number, keepPort: boolean): string {
  return keepPort ? addr : `${addr} . ${port}`;
}

/** A firewall mark as nft writes it (`0x00000001`). */
function markText(mark: number): string {
  return `0x${mark.toString(16).padStart(8, '0')}`;
}

/** Name part of a backend: its address with `:` as `_`, then `-port` (injective: addresses hold no `_`). */
function backendPart(addr: string, port: number): string {
  return `${addr.replaceAll(':', '_')}-${port}`;
}

function checkName(name: string, id: string): string {
  if (name.length > NFT_NAME_MAX) fail(`service ${id}: the nft name ${name.slice(0, 40)}… is longer than 255`);
  return name;
}

/** Validates one service and builds its plan. */
function planService(svc: ServiceProgram): ServicePlan {
  const id = svc.id;
  if (typeof id !== 'string' || id.length === 0) fail('a service has an empty id');
  if (svc.method === 'dr') {
    // Direct routing is a netdev table of its own (render-dr.ts); the data plane sends DR services there.
    throw new TandemError('TND_NFT_UNSUPPORTED', `service ${id}: method dr belongs in the netdev table (render-dr.ts)`);
  }
  if (svc.method !== 'nat') fail(`service ${id}: unknown method ${String(svc.method)}`);
  if (svc.family !== 4 && svc.family !== 6) fail(`service ${id}: family must be 4 or 6`);
  if (svc.protocol !== 'tcp' && svc.protocol !== 'udp') fail(`service ${id}: protocol must be tcp or udp`);
  const f = svc.family;
  const proto = svc.protocol;
  const ip = ipKw(f);
  checkPort(svc.port, `service ${id}`);
  const fwmark = svc.fwmark;
  if (fwmark !== undefined && (!Number.isInteger(fwmark) || fwmark < 1 || fwmark > 0xffff_ffff))
    fail(`service ${id}: fwmark must be a whole number 1..4294967295, got ${fwmark}`);
  // A firewall-mark service has no address of its own: the mark selects its packets.
  const vip = fwmark === undefined ? address(svc.vip, f, `service ${id} vip`) : '';
  const names = serviceNames(id);
  checkName(names.slots, id);
  // Whether each connection keeps the port the client asked for: a port-0 service, or a firewall-mark service
  // whose real servers name no port (IPVS forwards to the real server's port when it has one).
  const keepPort = fwmark === undefined ? svc.port === 0 : svc.backends.every((b) => b.port === 0);
  if (fwmark !== undefined && !keepPort && svc.backends.some((b) => b.port === 0))
    fail(`service ${id}: the real servers of a fwmark service name a port each or none`);

  const seen = new Set<string>();
  const backends = svc.backends.map((b) => {
    const addr = address(b.addr, f, `service ${id} backend ${b.key}`);
    checkPort(b.port, `service ${id} backend ${b.key}`);
    // A backend port 0 means "the port the client asked for": the service's port.
    const port = keepPort ? 0 : b.port === 0 ? svc.port : b.port;
    const part = backendPart(addr, port);
    if (seen.has(part)) fail(`service ${id}: backend ${addr} port ${port} is listed twice`);
    seen.add(part);
    return { addr, port, part, key: b.key, weight: usableWeight(b) };
  });

  const l4 = `meta l4proto ${proto}`;
  const persistence = svc.persistence;
  const table = kernelSlotTable({ scheduler: svc.scheduler, backends });
  const sel = selector(svc.scheduler, f, table.length);
  // The typeof of the slot map's values.
  const valueType = keepPort ? `${ip} daddr` : `${ip} daddr . ${proto} dport`;

  const persist = new Map<string, PersistObjects>();
  let slots: NftSet;
  const rules: string[] = [];
  if (persistence) {
    if (!Number.isInteger(persistence.timeoutMs) || persistence.timeoutMs < 1) {
      fail(`service ${id}: persistence timeout must be a whole number of ms ≥ 1, got ${persistence.timeoutMs}`);
    }
    if (!Number.isInteger(persistence.netmaskPrefix) || persistence.netmaskPrefix < 0) {
      fail(`service ${id}: persistence netmask prefix must be a whole number ≥ 0, got ${persistence.netmaskPrefix}`);
    }
    const client = clientNet(f, persistence.netmaskPrefix);
    for (const b of backends) {
      const set = checkName(`${names.chain}_aff_${b.part}`, id);
      const chain = checkName(`${names.chain}_be_${b.part}`, id);
      persist.set(b.part, {
        set: {
          kind: 'set',
          name: set,
          decl: [
            `typeof ${ip} saddr`,
            `size ${AFFINITY_SET_SIZE}`,
            'flags dynamic,timeout',
            `timeout ${nftTime(persistence.timeoutMs)}`,
          ],
          elements: [],
        },
        // Two rules: when the set is full the update fails, and the DNAT must still happen.
        chain: {
          name: chain,
          rules: [`update @${set} { ${client} }`, `${l4} dnat ${ip} to ${dnatTarget(b.addr, b.port, f)}`],
        },
      });
    }
    slots = {
      kind: 'map',
      name: names.slots,
      // The key is a 32-bit integer; nft 1.0.6 text needs a typeof expression to say so (its modulus is irrelevant).
      decl: ['typeof numgen inc mod 1 : verdict'],
      elements: svc.sorry ? [] : table.map((i, s) => `${s} : goto ${persist.get(backends[i]!.part)!.chain.name}`),
    };
  } else {
    slots = {
      kind: 'map',
      name: names.slots,
      decl: [`typeof numgen inc mod 1 : ${valueType}`],
      elements: svc.sorry
        ? []
        : table.map((i, s) => `${s} : ${endpointValue(backends[i]!.addr, backends[i]!.port, keepPort)}`),
    };
  }

  if (svc.sorry) {
    const addr = address(svc.sorry.addr, f, `service ${id} sorry server`);
    checkPort(svc.sorry.port, `service ${id} sorry server`);
    const port = keepPort ? 0 : svc.sorry.port === 0 ? svc.port : svc.sorry.port;
    rules.push(`${l4} dnat ${ip} to ${dnatTarget(addr, port, f)}`);
  } else if (table.length === 0) {
    rules.push(proto === 'tcp' ? `${l4} reject with tcp reset` : `${l4} reject`);
  } else if (persistence) {
    const client = clientNet(f, persistence.netmaskPrefix);
    for (const b of backends) {
      if (b.weight <= 0) continue;
      const o = persist.get(b.part)!;
      rules.push(`${client} @${o.set.name} goto ${o.chain.name}`);
    }
    rules.push(`${sel} vmap @${slots.name}`);
  } else {
    rules.push(`${l4} dnat ${ip} to ${sel} map @${slots.name}`);
  }

  let snat: string | null = null;
  const s = svc.snat ?? { kind: 'none' };
  if (s.kind !== 'none') {
    // The first packet of a connection still carries its mark in postrouting (only first packets pass nat chains).
    const match =
      fwmark !== undefined
        ? `meta nfproto ipv${f} ${l4} meta mark ${markText(fwmark)}`
        : `${l4} ct original ${ip} daddr ${vip}${svc.port === 0 ? '' : ` ct original proto-dst ${svc.port}`}`;
    if (s.kind === 'masquerade') snat = `${match} masquerade`;
    else if (s.kind === 'address') snat = `${match} snat ${ip} to ${address(s.addr, f, `service ${id} snat`)}`;
    else fail(`service ${id}: unknown snat kind`);
  }

  const dispatchMap: DispatchMap =
    fwmark !== undefined
      ? (`dispatchmark${f}` as DispatchMap)
      : (`dispatch${f}${svc.port === 0 ? 'any' : ''}` as DispatchMap);
  const key =
    fwmark !== undefined
      ? `${proto} . ${markText(fwmark)}`
      : svc.port === 0
        ? `${proto} . ${vip}`
        : `${proto} . ${vip} . ${svc.port}`;
  const identity = JSON.stringify([
    f,
    proto,
    vip,
    svc.port,
    persistence?.timeoutMs,
    persistence?.netmaskPrefix,
    fwmark,
    keepPort,
  ]);
  return {
    id,
    identity,
    dispatch: { map: dispatchMap, key },
    slots,
    chain: { name: names.chain, rules },
    persist,
    snat,
  };
}

/**
 * A desired state checked and turned into nft objects, with a private copy of the services it came from. Pass the
 * previous one to {@link compilePrograms} so that unchanged services are not planned again (the slot tables of a
 * thousand services cost tens of milliseconds).
 */
export interface CompiledProgram {
  /** Copies of the services, in the order given (a reused service keeps its earlier copy). */
  readonly services: readonly ServiceProgram[];
  /** Plans by service id. */
  readonly plans: ReadonlyMap<string, ServicePlan>;
}

const sameEndpoint = (a: Endpoint | null, b: Endpoint | null): boolean =>
  a === b || (a !== null && b !== null && a.addr === b.addr && a.port === b.port);

/** Whether two services would plan alike: every field the renderer reads is equal (op and reason are not read). */
function samePlanInput(a: ServiceProgram, b: ServiceProgram): boolean {
  if (
    a.id !== b.id ||
    a.vip !== b.vip ||
    a.port !== b.port ||
    a.protocol !== b.protocol ||
    a.family !== b.family ||
    a.scheduler !== b.scheduler ||
    a.method !== b.method ||
    a.fwmark !== b.fwmark ||
    !sameEndpoint(a.sorry, b.sorry)
  ) {
    return false;
  }
  const p = a.persistence;
  const q = b.persistence;
  if (p !== q && (!p || !q || p.timeoutMs !== q.timeoutMs || p.netmaskPrefix !== q.netmaskPrefix)) return false;
  const s = a.snat ?? { kind: 'none' };
  const t = b.snat ?? { kind: 'none' };
  if (s.kind !== t.kind || (s.kind === 'address' && t.kind === 'address' && s.addr !== t.addr)) return false;
  if (a.backends.length !== b.backends.length) return false;
  for (let i = 0; i < a.backends.length; i++) {
    const x = a.backends[i]!;
    const y = b.backends[i]!;
    if (x.key !== y.key || x.addr !== y.addr || x.port !== y.port || x.weight !== y.weight) return false;
  }
  return true;
}

/**
 * Checks every service (ids and protocol/VIP/port unique, addresses of the right family, …) and plans its nft
 * objects, reusing the plans of `reuse` for services that would plan alike. Throws `TND_NFT_PROGRAM` /
 * `TND_NFT_UNSUPPORTED`.
 * @example const next = compilePrograms(desired, current)
 */
export function compilePrograms(services: readonly ServiceProgram[], reuse?: CompiledProgram): CompiledProgram {
  const plans = new Map<string, ServicePlan>();
  const copies: ServiceProgram[] = [];
  const keys = new Map<string, string>();
  const earlier = new Map<string, ServiceProgram>();
  if (reuse) for (const svc of reuse.services) earlier.set(svc.id, svc);
  for (const svc of services) {
    const old = earlier.get(svc.id);
    const same = old !== undefined && samePlanInput(old, svc);
    const p = same ? reuse!.plans.get(svc.id)! : planService(svc);
    if (plans.has(p.id)) fail(`service ${p.id} is listed twice`);
    const other = keys.get(`${p.dispatch.map}|${p.dispatch.key}`);
    if (other !== undefined) fail(`services ${other} and ${p.id} both claim ${p.dispatch.key.replaceAll(' . ', ' ')}`);
    keys.set(`${p.dispatch.map}|${p.dispatch.key}`, p.id);
    plans.set(p.id, p);
    copies.push(same ? old : copyProgram(svc));
  }
  return { services: copies, plans };
}

function planAll(services: readonly ServiceProgram[] | CompiledProgram): ReadonlyMap<string, ServicePlan> {
  return 'plans' in services ? services.plans : compilePrograms(services).plans;
}

function checkTable(table: string): void {
  if (!TABLE_NAME.test(table)) {
    fail(`table name ${JSON.stringify(table)} must start with a letter and hold only letters, digits, _ and - (≤ 64)`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Printing

/** Elements per line in printed sets and maps (nft takes any number; this keeps the text readable and diffable). */
const ELEMENTS_PER_LINE = 8;

function elementLines(elements: readonly string[]): string[] {
  const lines: string[] = [];
  for (let i = 0; i < elements.length; i += ELEMENTS_PER_LINE) {
    lines.push(elements.slice(i, i + ELEMENTS_PER_LINE).join(', '));
  }
  return lines;
}

function blockSet(s: NftSet): string[] {
  const out = [`\t${s.kind} ${s.name} {`, ...s.decl.map((d) => `\t\t${d}`)];
  if (s.elements.length > 0) {
    const lines = elementLines(s.elements);
    out.push(`\t\telements = { ${lines.join(',\n\t\t\t')} }`);
  }
  out.push('\t}');
  return out;
}

function blockChain(name: string, head: string | null, rules: readonly string[]): string[] {
  return [`\tchain ${name} {`, ...(head ? [`\t\t${head}`] : []), ...rules.map((r) => `\t\t${r}`), '\t}'];
}

/** `add element` commands for a set or map, in chunks. */
function addElements(table: string, name: string, elements: readonly string[]): string[] {
  return elementLines(elements).map((line) => `add element inet ${table} ${name} { ${line} }`);
}

function addSet(table: string, s: NftSet): string[] {
  return [`add ${s.kind} inet ${table} ${s.name} { ${s.decl.join('; ')}; }`, ...addElements(table, s.name, s.elements)];
}

function addChain(table: string, c: NftChain): string[] {
  return [`add chain inet ${table} ${c.name}`, ...c.rules.map((r) => `add rule inet ${table} ${c.name} ${r}`)];
}

const BASE_CHAINS: readonly { name: string; head: string; rules: readonly string[] }[] = [
  {
    name: 'prerouting',
    head: 'type nat hook prerouting priority dstnat; policy accept;',
    rules: DISPATCH_MAPS.map((d) => `${d.match} vmap @${d.name}`),
  },
  {
    // Locally generated traffic to a VIP (a client on the director, the one-machine demo). nft 1.0.6 has no
    // `dstnat` keyword for the output hook: -100 is its value.
    name: 'output',
    head: 'type nat hook output priority -100; policy accept;',
    rules: DISPATCH_MAPS.map((d) => `${d.match} vmap @${d.name}`),
  },
  {
    name: 'postrouting',
    head: 'type nat hook postrouting priority srcnat; policy accept;',
    rules: [`ct status dnat jump ${SNAT_CHAIN}`],
  },
];

function sortedPlans(plans: ReadonlyMap<string, ServicePlan>): ServicePlan[] {
  return [...plans.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * The whole table as one nft block: `table inet NAME { … }`. Loading it into a kernel where the table exists adds to
 * it; use {@link renderReplace} to start from scratch.
 * @example renderTable('tandem', desired) // 'table inet tandem {\n\tmap dispatch4 {…'
 */
export function renderTable(table: string, services: readonly ServiceProgram[] | CompiledProgram): string {
  checkTable(table);
  const plans = sortedPlans(planAll(services));
  const out: string[] = [`table inet ${table} {`];
  const sections: string[][] = [];
  for (const d of DISPATCH_MAPS) {
    const elements = plans
      .filter((p) => p.dispatch.map === d.name)
      .map((p) => `${p.dispatch.key} : goto ${p.chain.name}`);
    sections.push(blockSet({ kind: 'map', name: d.name, decl: [`type ${d.type} : verdict`], elements }));
  }
  for (const p of plans) {
    for (const o of p.persist.values()) {
      sections.push(blockSet(o.set));
      sections.push(blockChain(o.chain.name, null, o.chain.rules));
    }
    sections.push(blockSet(p.slots));
    sections.push(blockChain(p.chain.name, null, p.chain.rules));
  }
  sections.push(
    blockChain(
      SNAT_CHAIN,
      null,
      plans.flatMap((p) => (p.snat ? [p.snat] : [])),
    ),
  );
  for (const b of BASE_CHAINS) sections.push(blockChain(b.name, b.head, b.rules));
  sections.forEach((s, i) => {
    if (i > 0) out.push('');
    out.push(...s);
  });
  out.push('}');
  return `${out.join('\n')}\n`;
}

/**
 * One transaction that replaces whatever table of that name exists (a stale one from an earlier run, or none) with
 * the whole desired table. `add table` first makes the `delete` succeed when the table is absent. Connections already
 * NATed keep flowing: their translation lives in conntrack, not in the rules.
 */
export function renderReplace(table: string, services: readonly ServiceProgram[] | CompiledProgram): string {
  const body = renderTable(table, services);
  return `add table inet ${table}\ndelete table inet ${table}\n${body}`;
}

/** What differs between two desired states, by service id (ids sorted). */
export interface ProgramDiff {
  added: string[];
  changed: string[];
  removed: string[];
}

function samePersist(a: PersistObjects, b: PersistObjects): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

const sameList = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** Whether the kernel objects of two plans of one service differ. */
function planChanged(a: ServicePlan, b: ServicePlan): boolean {
  if (a.identity !== b.identity || a.snat !== b.snat) return true;
  if (!sameList(a.chain.rules, b.chain.rules) || !sameList(a.slots.elements, b.slots.elements)) return true;
  if (a.persist.size !== b.persist.size) return true;
  for (const [k, o] of a.persist) {
    const p = b.persist.get(k);
    if (!p || !samePersist(o, p)) return true;
  }
  return false;
}

function diffPlans(prev: ReadonlyMap<string, ServicePlan>, next: ReadonlyMap<string, ServicePlan>): ProgramDiff {
  const added: string[] = [];
  const changed: string[] = [];
  const removed: string[] = [];
  for (const [id, p] of next) {
    const q = prev.get(id);
    if (!q) added.push(id);
    else if (q !== p && planChanged(q, p)) changed.push(id);
  }
  for (const id of prev.keys()) if (!next.has(id)) removed.push(id);
  return { added: added.sort(), changed: changed.sort(), removed: removed.sort() };
}

/**
 * Which services a move from `prev` to `next` adds, changes (backends, weights, scheduler, sorry, snat, or settings
 * that re-create its objects) or removes, as the kernel sees them: a change that leaves the nft objects alike (a
 * server going from `starting` to `up` at the same weight) is no change.
 */
export function diffPrograms(
  prev: readonly ServiceProgram[] | CompiledProgram,
  next: readonly ServiceProgram[] | CompiledProgram,
): ProgramDiff {
  return diffPlans(planAll(prev), planAll(next));
}

/**
 * One transaction (text for one `nft -f -` run) that moves table `table`, holding exactly `prev`, to `next`; empty
 * when nothing changes. Unchanged services are not touched. A changed service gets `flush map` + `add element` of its
 * slot map, and `flush chain` + `add rule` of its chain when its rules change (a new slot count, sorry server, reject,
 * persistence lookups); a service whose address, port, protocol, family or persistence settings changed is deleted
 * and re-created; persistent backends that left lose their affinity set. Order inside the transaction: unlink
 * (dispatch elements, chain and map flushes), delete, then create — nft refuses to delete what is still referenced.
 */
export function renderUpdate(
  table: string,
  prev: readonly ServiceProgram[] | CompiledProgram,
  next: readonly ServiceProgram[] | CompiledProgram,
): string {
  return renderTransition(table, prev, next).script;
}

/** {@link renderUpdate}'s script together with the {@link diffPrograms} of the same move, from one planning. */
export function renderTransition(
  table: string,
  prev: readonly ServiceProgram[] | CompiledProgram,
  next: readonly ServiceProgram[] | CompiledProgram,
): { script: string; diff: ProgramDiff } {
  checkTable(table);
  const before = planAll(prev);
  const after = planAll(next);
  const diff = diffPlans(before, after);
  const T = `inet ${table}`;
  const unlink: string[] = [];
  const del: string[] = [];
  const create: string[] = [];

  const recreate = new Set(diff.changed.filter((id) => before.get(id)!.identity !== after.get(id)!.identity));
  const gone = [...diff.removed, ...recreate].sort().map((id) => before.get(id)!);
  const fresh = [...diff.added, ...recreate].sort().map((id) => after.get(id)!);

  for (const p of gone) {
    unlink.push(`delete element ${T} ${p.dispatch.map} { ${p.dispatch.key} }`);
    // The service chain refers to the map and the sets; the map's elements to the backend chains; those to the sets.
    del.push(`delete chain ${T} ${p.chain.name}`, `delete map ${T} ${p.slots.name}`);
    for (const o of p.persist.values()) del.push(`delete chain ${T} ${o.chain.name}`);
    for (const o of p.persist.values()) del.push(`delete set ${T} ${o.set.name}`);
  }

  for (const id of diff.changed) {
    if (recreate.has(id)) continue;
    const a = before.get(id)!;
    const b = after.get(id)!;
    const rulesChanged = !sameList(a.chain.rules, b.chain.rules);
    const slotsChanged = !sameList(a.slots.elements, b.slots.elements);
    if (rulesChanged) unlink.push(`flush chain ${T} ${a.chain.name}`);
    if (slotsChanged) unlink.push(`flush map ${T} ${a.slots.name}`);
    for (const [k, o] of a.persist) {
      const n = b.persist.get(k);
      if (n && samePersist(o, n)) continue;
      // A backend that left (or whose chain changed: it cannot, short of its identity): drop its objects.
      del.push(`delete chain ${T} ${o.chain.name}`, `delete set ${T} ${o.set.name}`);
    }
    for (const [k, o] of b.persist) {
      const n = a.persist.get(k);
      if (n && samePersist(o, n)) continue;
      create.push(...addSet(table, o.set), ...addChain(table, o.chain));
    }
    if (slotsChanged) create.push(...addElements(table, b.slots.name, b.slots.elements));
    if (rulesChanged) create.push(...b.chain.rules.map((r) => `add rule ${T} ${b.chain.name} ${r}`));
  }

  for (const p of fresh) {
    for (const o of p.persist.values()) create.push(...addSet(table, o.set), ...addChain(table, o.chain));
    create.push(...addSet(table, p.slots), ...addChain(table, p.chain));
    create.push(`add element ${T} ${p.dispatch.map} { ${p.dispatch.key} : goto ${p.chain.name} }`);
  }

  const snatBefore = sortedPlans(before).flatMap((p) => (p.snat ? [p.snat] : []));
  const snatAfter = sortedPlans(after).flatMap((p) => (p.snat ? [p.snat] : []));
  // lb_snat holds one rule per service; rules are deleted by handle only, so the chain is rebuilt when it changes.
  if (!sameList(snatBefore, snatAfter)) {
    unlink.unshift(`flush chain ${T} ${SNAT_CHAIN}`);
    create.push(...snatAfter.map((r) => `add rule ${T} ${SNAT_CHAIN} ${r}`));
  }

  const lines = [...unlink, ...del, ...create];
  return { script: lines.length === 0 ? '' : `${lines.join('\n')}\n`, diff };
}

/**
 * The map keys a data plane uses to attribute a tracked connection to a service: `tcp 198.18.0.100 80` for a
 * service on one port, `tcp 198.18.0.100 0` for a port-0 service (the address in canonical form).
 */
export function serviceLookupKey(protocol: string, addr: string, port: number): string {
  return `${protocol} ${addr} ${port}`;
}

/** The canonical form of an address (IPv6 compressed, lower case), or the text unchanged when it is not one. */
export function canonicalAddress(text: string): string {
  const bytes = parseIp(text);
  return bytes ? formatAddr(bytes) : text;
}
