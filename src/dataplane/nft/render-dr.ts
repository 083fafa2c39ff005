/**
 * Direct routing (`method: 'dr'`, keepalived `lb_kind DR`, lvs.cf `network = direct`) in nftables: the director
 * forwards each client packet for a VIP:port **unchanged** to the chosen real server's MAC address, and the real
 * server (holding the VIP on lo, `tandem realserver up`) answers the client directly. nftables can do that only in the
 * netdev family's ingress hook (`fwd ip to ADDR device DEV` resolves the real server's neighbour entry and sends the
 * frame out of DEV), which runs before conntrack: there is no per-connection state, every packet is scheduled again.
 * So the scheduling is a pure function of the packet, plus a flow table:
 *
 * - **Consistent hashing of the flow.** rr, wrr, lc, wlc and mh hash the flow (`jhash ip saddr . th sport`; mh and
 *   persistent services the client or its network, sh the client) onto a weighted Maglev table (lb/schedulers/mh.ts;
 *   sh: its slot table), the same `JHASH_SEED` and table on every director. A director failover therefore sends every
 *   packet of an established flow to the same real server: **nothing to sync**, as long as both directors see the
 *   same servers with the same weights.
 * - **A flow table** per real server: a dynamic set `dr_ID_fl_SERVER` of `ip saddr . th sport` with a timeout (tcp
 *   {@link DR_TCP_FLOW_TIMEOUT_MS}, udp {@link DR_UDP_FLOW_TIMEOUT_MS}), refreshed by every packet forwarded to that
 *   server. The service chain looks a packet up in the flow sets of every desired server first (weight 0 included),
 *   so a change of the server set or of a weight (a drain, a slow start step, a server coming back) moves **no
 *   established flow**; a server that leaves the desired state (down, maintenance, removed) loses its set, and its
 *   flows move to the table's choice. Cost: one set lookup per desired server per packet.
 * - **Persistence** keeps its meaning: per-server affinity sets of client networks (timeout = persistence_timeout,
 *   refreshed by every packet of the client), honoured for servers of weight > 0, and the table hashes the client
 *   network, so a new director sends a client to the same server too.
 * - **Sorry server**: while active it takes every new flow (it must hold the VIP on lo like the real servers).
 *   **No server**: `reject` (tcp reset / ICMP port unreachable) from the director.
 *
 * Layout (`table netdev NAME`, one per data plane, beside its `table inet NAME`):
 * ```
 * map drd4_DEV / drd4any_DEV / drd6_DEV / drd6any_DEV   # ip daddr . meta l4proto . th dport : goto dr_ID
 * chain in_DEV { type filter hook ingress device "DEV" priority 0; meta pkttype host … vmap @drd4_DEV … }
 * chain dr_ID          { flow lookups; persistence lookups; jhash … vmap @dr_ID_slots }
 * map dr_ID_slots      { slot : goto dr_ID_be_SERVER }
 * set dr_ID_fl_SERVER  { typeof ip saddr . th sport; flags dynamic,timeout }
 * chain dr_ID_be_SERVER { update @dr_ID_fl_SERVER { ip saddr . th sport }; fwd ip to ADDR device "DEV" }
 * ```
 * Updates are computed object by object ({@link renderDrTransition}): a dynamic set whose declaration is unchanged is
 * never touched, so its flows live on across every apply. Pure (Rule 1).
 *
 * Not here: tunnelling (keepalived `lb_kind TUN`): nftables has no encapsulation statement, see docs/dr.md.
 */
import { TandemError } from '../../core/errors.ts';
import { formatAddr, parseIp } from '../../core/inet.ts';
import type { ServiceProgram } from '../../lb/dataplane.ts';
import { usableWeight } from '../../lb/schedulers/types.ts';
import type { IpFamily } from '../../lb/types.ts';
import { clientNet, ipKw, JHASH_SEED, kernelSlotTable, nameOf, nftTime } from './render.ts';

/** How long a TCP flow stays pinned to its server after its last packet (IPVS's tcp established timeout). */
export const DR_TCP_FLOW_TIMEOUT_MS = 900_000;
/** How long a UDP flow stays pinned after its last packet (IPVS's udp timeout). */
export const DR_UDP_FLOW_TIMEOUT_MS = 300_000;
/** Flows per server the flow table records; beyond it a flow is still forwarded by the table's choice. */
export const DR_FLOW_SET_SIZE = 262_144;
/** Client networks per server a persistent DR service records. */
export const DR_AFFINITY_SET_SIZE = 65_536;

/** An interface name as the kernel takes it (IFNAMSIZ − 1 bytes, no `/`, no whitespace, not `.` or `..`). */
const DEVICE = /^[A-Za-z0-9_.:@+-]{1,15}$/;

/** One nft object of the DR table. */
export interface DrObject {
  kind: 'set' | 'map' | 'chain' | 'base';
  name: string;
  /** set/map: its declaration (`typeof …; flags …`); base chain: its hook line; chain: ''. A change re-creates it. */
  decl: string;
  /** Static map: its elements; chain: its rules; dynamic set: always empty (its elements live in the kernel). */
  content: string[];
}

/** The whole DR table as objects by name (a Map keeps a stable order for printing). */
export type DrTable = ReadonlyMap<string, DrObject>;

function fail(message: string): never {
  throw new TandemError('TND_NFT_PROGRAM', message);
}

function canonical(text: string, family: IpFamily, what: string): string {
  const bytes = parseIp(text, family);
  if (!bytes) fail(`${what}: ${JSON.stringify(text)} is not an IPv${family} address`);
  return formatAddr(bytes);
}

/** The hash input of the table: the flow, or the client (sh, mh) / its network (persistence). */
function hashKey(svc: ServiceProgram): string {
  const f = svc.family;
  if (svc.persistence) return clientNet(f, svc.persistence.netmaskPrefix);
  if (svc.scheduler === 'sh' || svc.scheduler === 'mh') return `${ipKw(f)} saddr`;
  return `${ipKw(f)} saddr . th sport`;
}

/**
 * The slot table of a DR service: indexes into its backends. sh keeps its own weighted table; every other scheduler
 * is a weighted Maglev table sized from all backends (weight 0 included, so a drain does not resize it).
 */
export function drSlotTable(svc: Pick<ServiceProgram, 'scheduler' | 'backends'>): number[] {
  const backends = svc.backends.map((b) => ({ key: b.key, weight: b.weight }));
  return kernelSlotTable({ scheduler: svc.scheduler === 'sh' ? 'sh' : 'mh', backends });
}

/** What a DR service's scheduler does in the kernel, for `tandem check` and the docs. */
export function drScheduling(svc: Pick<ServiceProgram, 'scheduler' | 'persistence'>): string {
  if (svc.persistence) return 'weighted Maglev hash of the client network';
  if (svc.scheduler === 'sh') return 'weighted hash of the client address';
  if (svc.scheduler === 'mh') return 'weighted Maglev hash of the client address';
  return 'weighted Maglev hash of the flow (client address and port)';
}

/** The name part of a device. */
const devPart = (dev: string): string => nameOf(dev);

/** The name part of a server: its address with `:` as `_`, then `-port`. */
const serverPart = (addr: string, port: number): string => `${addr.replaceAll(':', '_')}-${port}`;

const DISPATCH = [
  { suffix: '4', type: 'ipv4_addr . inet_proto . inet_service', match: 'ip daddr . meta l4proto . th dport' },
  { suffix: '4any', type: 'ipv4_addr . inet_proto', match: 'ip daddr . meta l4proto' },
  { suffix: '6', type: 'ipv6_addr . inet_proto . inet_service', match: 'ip6 daddr . meta l4proto . th dport' },
  { suffix: '6any', type: 'ipv6_addr . inet_proto', match: 'ip6 daddr . meta l4proto' },
] as const;

function checkDevice(dev: string | undefined, id: string): string {
  if (dev === undefined || dev.length === 0)
    fail(`service ${id}: method dr needs the director's interface toward the real servers (interface)`);
  if (!DEVICE.test(dev) || dev === '.' || dev === '..')
    fail(`service ${id}: ${JSON.stringify(dev)} is not an interface name`);
  return dev;
}

/** The objects of one DR service, added to `out`; returns its dispatch element (device, map suffix, element). */
function planDrService(svc: ServiceProgram, out: Map<string, DrObject>): { dev: string; map: string; elem: string } {
  const id = svc.id;
  if (typeof id !== 'string' || id.length === 0) fail('a service has an empty id');
  if (svc.family !== 4 && svc.family !== 6) fail(`service ${id}: family must be 4 or 6`);
  if (svc.protocol !== 'tcp' && svc.protocol !== 'udp') fail(`service ${id}: protocol must be tcp or udp`);
  if (!Number.isInteger(svc.port) || svc.port < 0 || svc.port > 65_535) fail(`service ${id}: bad port ${svc.port}`);
  const dev = checkDevice(svc.device, id);
  const f = svc.family;
  const ip = ipKw(f);
  const vip = canonical(svc.vip, f, `service ${id} vip`);
  const n = `dr_${nameOf(id)}`;
  const flowKey = `${ip} saddr . th sport`;
  const flowTimeout = svc.protocol === 'tcp' ? DR_TCP_FLOW_TIMEOUT_MS : DR_UDP_FLOW_TIMEOUT_MS;
  const persistence = svc.persistence;
  if (persistence && (!Number.isInteger(persistence.timeoutMs) || persistence.timeoutMs < 1))
    fail(`service ${id}: persistence timeout must be a whole number of ms ≥ 1, got ${persistence.timeoutMs}`);
  const client = persistence ? clientNet(f, persistence.netmaskPrefix) : '';

  // One forwarding target (a real server or the sorry server): its flow set, affinity set and chain.
  const seen = new Set<string>();
  const target = (addr: string, what: string): { part: string; chain: string; flows: string; aff: string } => {
    const a = canonical(addr, f, `service ${id} ${what}`);
    // DR cannot change the port: the real server answers on the VIP's port. The port is part of the name only.
    const part = serverPart(a, svc.port);
    if (seen.has(part)) fail(`service ${id}: ${what} ${a} is listed twice (direct routing keeps the port)`);
    seen.add(part);
    const chain = `${n}_be_${part}`;
    const flows = `${n}_fl_${part}`;
    const aff = `${n}_aff_${part}`;
    out.set(flows, {
      kind: 'set',
      name: flows,
      decl: `typeof ${flowKey}; size ${DR_FLOW_SET_SIZE}; flags dynamic,timeout; timeout ${nftTime(flowTimeout)};`,
      content: [],
    });
    const rules = [`update @${flows} { ${flowKey} }`];
    if (persistence) {
      out.set(aff, {
        kind: 'set',
        name: aff,
        decl:
          `typeof ${ip} saddr; size ${DR_AFFINITY_SET_SIZE}; flags dynamic,timeout; ` +
          `timeout ${nftTime(persistence.timeoutMs)};`,
        content: [],
      });
      rules.push(`update @${aff} { ${client} }`);
    }
    rules.push(`fwd ${ip} to ${a} device "${dev}"`);
    out.set(chain, { kind: 'chain', name: chain, decl: '', content: rules });
    return { part, chain, flows, aff };
  };

  const backends = svc.backends.map((b) => ({ ...target(b.addr, `backend ${b.key}`), weight: usableWeight(b) }));
  const sorry = svc.sorry ? target(svc.sorry.addr, 'sorry server') : null;
  const table = sorry ? [] : drSlotTable(svc);
  const rules: string[] = [];
  // Established flows first: every desired server's flows stay where they are, whatever the weights say.
  for (const b of backends) rules.push(`${flowKey} @${b.flows} goto ${b.chain}`);
  if (sorry) {
    rules.push(`${flowKey} @${sorry.flows} goto ${sorry.chain}`, `goto ${sorry.chain}`);
  } else if (table.length === 0) {
    rules.push(svc.protocol === 'tcp' ? 'meta l4proto tcp reject with tcp reset' : 'reject');
  } else {
    if (persistence) for (const b of backends) if (b.weight > 0) rules.push(`${client} @${b.aff} goto ${b.chain}`);
    rules.push(`jhash ${hashKey(svc)} mod ${table.length} seed 0x${JHASH_SEED.toString(16)} vmap @${n}_slots`);
  }
  out.set(`${n}_slots`, {
    kind: 'map',
    name: `${n}_slots`,
    decl: 'typeof numgen inc mod 1 : verdict;',
    content: table.map((i, s) => `${s} : goto ${backends[i]!.chain}`),
  });
  out.set(n, { kind: 'chain', name: n, decl: '', content: rules });
  const suffix = `${f}${svc.port === 0 ? 'any' : ''}`;
  const elem = svc.port === 0 ? `${vip} . ${svc.protocol}` : `${vip} . ${svc.protocol} . ${svc.port}`;
  return { dev, map: suffix, elem: `${elem} : goto ${n}` };
}

/**
 * The DR table of `services` (method dr only) as objects. Throws `TND_NFT_PROGRAM` for a service it cannot program
 * (no interface, an address of the wrong family, two services on one VIP:port, …).
 */
export function planDrTable(services: readonly ServiceProgram[]): DrTable {
  const objects = new Map<string, DrObject>();
  const byDev = new Map<string, Map<string, string[]>>();
  const ids = new Set<string>();
  const claims = new Map<string, string>();
  for (const svc of [...services].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    if (svc.method !== 'dr') fail(`service ${svc.id}: method ${String(svc.method)} is not direct routing`);
    if (ids.has(svc.id)) fail(`service ${svc.id} is listed twice`);
    ids.add(svc.id);
    const { dev, map, elem } = planDrService(svc, objects);
    const key = elem.slice(0, elem.indexOf(' : goto'));
    const other = claims.get(key);
    if (other !== undefined) fail(`services ${other} and ${svc.id} both claim ${key.replaceAll(' . ', ' ')}`);
    claims.set(key, svc.id);
    const maps = byDev.get(dev) ?? new Map<string, string[]>();
    byDev.set(dev, maps);
    maps.set(map, [...(maps.get(map) ?? []), elem]);
  }
  for (const [dev, maps] of [...byDev].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const d = devPart(dev);
    for (const m of DISPATCH) {
      const name = `drd${m.suffix}_${d}`;
      objects.set(name, { kind: 'map', name, decl: `type ${m.type} : verdict;`, content: maps.get(m.suffix) ?? [] });
    }
    const base = `in_${d}`;
    objects.set(base, {
      kind: 'base',
      name: base,
      decl: `type filter hook ingress device "${dev}" priority 0; policy accept;`,
      // Only frames sent to this node's MAC: a frame a switch floods (to a MAC it has not learnt) reaches every
      // director, and only the VIP's holder may forward it, else the real server gets it twice.
      content: DISPATCH.map((m) => `meta pkttype host ${m.match} vmap @drd${m.suffix}_${d}`),
    });
  }
  return objects;
}

/** Names an object's content refers to (`@set`, `goto chain`). */
function refs(o: DrObject): Set<string> {
  const out = new Set<string>();
  for (const line of o.content) for (const m of line.matchAll(/(?:@|goto )([A-Za-z0-9_.-]+)/g)) out.add(m[1]!);
  return out;
}

const sameList = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

const ELEMENTS_PER_LINE = 8;

function chunks(items: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < items.length; i += ELEMENTS_PER_LINE) out.push(items.slice(i, i + ELEMENTS_PER_LINE).join(', '));
  return out;
}

/**
 * One transaction that moves the DR table `table` (netdev family) from `prev` to `next`, object by object; empty
 * when nothing changes. A dynamic set whose declaration is unchanged is never flushed (its flows live on); a chain or
 * static map whose content changed, or that refers to an object being re-created, is flushed and refilled; objects
 * that left are flushed, then deleted. Order: flush, delete, add sets and maps, add chains, add elements, add rules.
 */
export function renderDrTransition(table: string, prev: DrTable, next: DrTable): string {
  const T = `netdev ${table}`;
  const removed = [...prev.values()].filter((o) => !next.has(o.name));
  const recreated = new Set<string>();
  for (const o of next.values()) {
    const p = prev.get(o.name);
    if (p && (p.kind !== o.kind || p.decl !== o.decl)) recreated.add(o.name);
  }
  const refill = new Set<string>();
  for (const o of next.values()) {
    const p = prev.get(o.name);
    if (!p || recreated.has(o.name) || o.kind === 'set') continue;
    if (!sameList(p.content, o.content) || [...refs(o)].some((r) => recreated.has(r))) refill.add(o.name);
  }
  const unlink: string[] = [];
  const del: string[] = [];
  const gone = [...removed, ...[...recreated].map((n) => prev.get(n)!)];
  for (const o of [...gone, ...[...refill].map((n) => prev.get(n)!)]) {
    if (o.kind === 'chain') unlink.push(`flush chain ${T} ${o.name}`);
    else if (o.kind === 'map') unlink.push(`flush map ${T} ${o.name}`);
  }
  // Base chains first (they refer to the dispatch maps), then chains (they refer to maps and sets), then the rest.
  const order = { base: 0, chain: 1, map: 2, set: 3 } as const;
  for (const o of [...gone].sort((a, b) => order[a.kind] - order[b.kind])) {
    del.push(`delete ${o.kind === 'base' ? 'chain' : o.kind} ${T} ${o.name}`);
  }
  const create: string[] = [];
  const fresh = [...next.values()].filter((o) => !prev.has(o.name) || recreated.has(o.name));
  for (const o of fresh)
    if (o.kind === 'set' || o.kind === 'map') create.push(`add ${o.kind} ${T} ${o.name} { ${o.decl} }`);
  for (const o of fresh) {
    if (o.kind === 'chain') create.push(`add chain ${T} ${o.name}`);
    if (o.kind === 'base') create.push(`add chain ${T} ${o.name} { ${o.decl} }`);
  }
  const fill = [...fresh, ...[...refill].map((n) => next.get(n)!)];
  for (const o of fill)
    if (o.kind === 'map') for (const line of chunks(o.content)) create.push(`add element ${T} ${o.name} { ${line} }`);
  for (const o of fill)
    if (o.kind === 'chain' || o.kind === 'base') for (const r of o.content) create.push(`add rule ${T} ${o.name} ${r}`);
  const lines = [...unlink, ...del, ...create];
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** One transaction that replaces any DR table of that name (a stale one, or none) with `next`. */
export function renderDrReplace(table: string, next: DrTable): string {
  return `add table netdev ${table}\ndelete table netdev ${table}\nadd table netdev ${table}\n${renderDrTransition(table, new Map(), next)}`;
}

/** One transaction that deletes the DR table (absent is fine). */
export function renderDrDelete(table: string): string {
  return `add table netdev ${table}\ndelete table netdev ${table}\n`;
}

/**
 * Flows per server of a DR service, counted from `nft list table netdev NAME` text: the elements of each
 * `dr_ID_fl_SERVER` set (flows seen within the flow timeout). Keys: the set names.
 */
export function countDrFlows(listing: string): Map<string, number> {
  const out = new Map<string, number>();
  const re = /\bset (dr_\S+_fl_\S+) \{([\s\S]*?)\n\t\}/g;
  for (const m of listing.matchAll(re)) {
    const body = m[2]!;
    const at = body.indexOf('elements = {');
    if (at < 0) {
      out.set(m[1]!, 0);
      continue;
    }
    const inner = body.slice(at + 'elements = {'.length, body.lastIndexOf('}'));
    out.set(m[1]!, inner.trim().length === 0 ? 0 : inner.split(',').length);
  }
  return out;
}

/** The flow set name of a DR service's server (for {@link countDrFlows}). */
export function drFlowSetName(id: string, addr: string, port: number): string {
  return `dr_${nameOf(id)}_fl_${serverPart(addr, port)}`;
}
