/**
 * Source hashing: a client's address (and port, when given: keepalived `sh-port`) hashes into a weighted slot table,
 * so one client keeps landing on one backend while the backend set is unchanged. Like LVS, the table covers only
 * backends with a weight above 0 and a change of the set may move many clients (use mh to move few). Pure.
 *
 * Differences from ip_vs_sh, on purpose: the table is {@link slotTable} (exact weight shares, spread) rather than
 * runs of `weight` consecutive buckets, and the hash is MurmurHash3 (hash.ts) rather than the kernel's hash_32 — the
 * same table drives the nftables data plane, so user space and kernel agree.
 * @see Linux net/netfilter/ipvs/ip_vs_sh.c (256 buckets: IP_VS_SH_TAB_BITS = 8)
 */
import { hashString } from '../hash.ts';
import { slotTable } from './slots.ts';
import type { PickContext, PickResult, SchedClient, Scheduler, TableState } from './types.ts';
import { tableFingerprint } from './types.ts';

/** ip_vs_sh's table size, 2^CONFIG_IP_VS_SH_TAB_BITS with the default 8. */
export const SH_DEFAULT_SLOTS = 256;

/** The text a client is hashed by: its address, plus the port when given. */
export function clientHashKey(client: SchedClient): string {
  return client.port === undefined ? client.addr : `${client.addr}#${client.port}`;
}

/**
 * The slot a client hashes to in a table of `slots` entries.
 * @example clientSlot({ addr: '198.51.100.7' }, 256)
 */
export function clientSlot(client: SchedClient, slots: number): number {
  return hashString(clientHashKey(client)) % slots;
}

/**
 * Picks the backend of the client's slot; null without a client or without a backend of weight > 0.
 * @example pickSh({ backends, state: null, client: { addr: '198.51.100.7' } }).index
 */
export function pickSh(ctx: PickContext<TableState>): PickResult<TableState> {
  const slots = ctx.slots ?? SH_DEFAULT_SLOTS;
  const fingerprint = tableFingerprint(ctx.backends, slots);
  const state =
    ctx.state?.fingerprint === fingerprint ? ctx.state : { fingerprint, table: slotTable(ctx.backends, slots) };
  if (!ctx.client || state.table.length === 0) return { index: null, state };
  return { index: state.table[clientSlot(ctx.client, state.table.length)] ?? null, state };
}

/** The sh scheduler; its state caches the slot table. */
export const sh: Scheduler<TableState> = { name: 'sh', initialState: null, pick: pickSh };
