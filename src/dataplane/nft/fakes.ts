/**
 * In-memory stand-ins for the nft runner and the conntrack reader, for unit tests of the data plane and for the
 * simulator (they belong with the other fakes in sim/ once that folder takes them). The fake runner records every
 * script, tracks which tables exist from the scripts' own `table` / `delete table` statements, and fails on demand.
 */
import { TandemError } from '../../core/errors.ts';
import type { ConntrackEntry, ConntrackReader } from '../../os/conntrack.ts';
import type { NftCallOptions, NftRunner } from '../../os/nft.ts';

/** A recording nft runner. */
export class FakeNftRunner implements NftRunner {
  /** Every script applied (successful or not), in order. */
  readonly scripts: string[] = [];
  /** Tables that exist, with the last full text seen for each. */
  readonly tables = new Map<string, string>();
  #failures: string[] = [];

  /** The next `apply` fails with this nft message (queue several for several failures). */
  failNext(message = 'Error: Could not process rule: No such file or directory'): void {
    this.#failures.push(message);
  }

  async apply(script: string, opts: NftCallOptions = {}): Promise<void> {
    this.scripts.push(script);
    if (opts.signal?.aborted) throw new TandemError('TND_NFT_APPLY', 'nft -f - failed (aborted)');
    const failure = this.#failures.shift();
    if (failure !== undefined) throw new TandemError('TND_NFT_APPLY', `nft -f - failed (exit 1):\n${failure}`);
    for (const m of script.matchAll(/^delete table inet (\S+)$/gm)) this.tables.delete(m[1]!);
    for (const m of script.matchAll(/^table inet (\S+) \{$/gm)) this.tables.set(m[1]!, script);
    // netdev tables (direct routing), statement by statement: `add` then `delete` leaves none.
    for (const m of script.matchAll(/^(add|delete) table netdev (\S+)$/gm)) {
      if (m[1] === 'add') this.tables.set(`netdev ${m[2]!}`, script);
      else this.tables.delete(`netdev ${m[2]!}`);
    }
  }

  async deleteTable(table: string): Promise<boolean> {
    return this.tables.delete(table);
  }

  async listTable(table: string, opts: { family?: 'inet' | 'netdev' } = {}): Promise<string | null> {
    return this.tables.get(opts.family === 'netdev' ? `netdev ${table}` : table) ?? null;
  }
}

/** A conntrack reader over a list the test sets. */
export class FakeConntrackReader implements ConntrackReader {
  constructor(public list: ConntrackEntry[] = []) {}

  async *entries(signal?: AbortSignal): AsyncIterable<ConntrackEntry> {
    for (const e of this.list) {
      if (signal?.aborted) throw new TandemError('TND_CONNTRACK_READ', 'aborted');
      yield e;
    }
  }
}
