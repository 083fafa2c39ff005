/**
 * The takeover gate of the VRRP elector (docs/split-brain.md §1): how the answers of a probe round — tandem's peer
 * channel, ICMP echo, TCP connects to the service ports — become one verdict on whether the silent master is alive.
 * Ownership still follows the instance state (election/vrrp.ts); this decides whether a backup may claim it. Pure.
 *
 * The order, and why: the peer channel is the one path that speaks of VRRP itself, so it decides when it answers
 * (MASTER → alive; anything else → not master). ICMP and service ports speak of the host: an answer means the host is
 * up and serving, so taking over would put the address on two hosts (alive). Refusals everywhere mean nobody serves
 * (dead). Anything less certain — a timeout — is unconfirmed: the master may be alive behind a broken network, the
 * case fencing is for.
 */
import type { GuardVerdict } from '../vrrp/guard.ts';
import type { VrrpState } from '../vrrp/types.ts';

/** What a tandem node answers over the peer channel about one instance. */
export interface PeerAnswer {
  /** The instance's state there; `absent` = it does not run there. */
  state: VrrpState | 'absent';
  priority: number;
  /** Its VIPs are on the interface (a master whose address change finished). */
  vipsHeld: boolean;
  /** The answering node's name. */
  node: string;
}

/** One probe's outcome. */
export type PathResult =
  | { path: 'peer'; addr: string; outcome: 'answer'; answer: PeerAnswer }
  | { path: 'peer'; addr: string; outcome: 'refused' | 'timeout' | 'error'; detail: string }
  | { path: 'icmp'; addr: string; outcome: 'reply' | 'timeout' | 'unreachable' | 'error'; detail: string }
  /** ICMP echo to the instance's (first) VIP: does anybody hold the address? */
  | { path: 'vip'; addr: string; outcome: 'reply' | 'timeout' | 'unreachable' | 'error'; detail: string }
  | {
      path: 'tcp';
      addr: string;
      port: number;
      outcome: 'open' | 'refused' | 'timeout' | 'unreachable' | 'error';
      detail: string;
    };

/** A verdict with what it rests on. */
export interface CombinedVerdict {
  verdict: GuardVerdict;
  /** The paths that decided it, as status shows them: `peer channel`, `icmp`, `tcp:80`. */
  via: string[];
  detail: string;
  /** For not-master: the answering node's priority and address (the election tie-break). */
  remote?: { priority: number; addr: string };
}

/** How status and logs name a path. */
export function pathLabel(r: PathResult): string {
  return r.path === 'peer' ? 'peer channel' : r.path === 'tcp' ? `tcp:${r.port}` : r.path;
}

const uniq = (xs: string[]): string[] => [...new Set(xs)];

/**
 * Combines the results in so far. With `complete` false (probes still running) it decides only what cannot change —
 * the peer channel's answer, or an ICMP / service answer once no peer channel query and no VIP probe is still out
 * (`pending`: the peer channel outranks them, so a host that pings cannot hide that its tandem is not master, and the
 * VIP probe tells whether it holds the address) — and returns null otherwise; with `complete` true (every probe
 * finished, or the deadline passed) it always decides.
 * @example combineResults([{ path: 'icmp', addr: '198.18.0.11', outcome: 'reply', detail: '0.2 ms' }], false)
 */
export function combineResults(
  results: readonly PathResult[],
  complete: boolean,
  pending: { peer?: boolean; vip?: boolean } = {},
): CombinedVerdict | null {
  const peerAnswers = results.filter(
    (r): r is Extract<PathResult, { outcome: 'answer' }> => r.path === 'peer' && r.outcome === 'answer',
  );
  const master = peerAnswers.find((r) => r.answer.state === 'MASTER');
  if (master)
    return {
      verdict: 'alive',
      via: ['peer channel'],
      detail: `${master.answer.node} (${master.addr}) answers MASTER at priority ${master.answer.priority}`,
    };
  const notMaster = peerAnswers[0];
  if (notMaster) {
    const a = notMaster.answer;
    return {
      verdict: 'not-master',
      via: ['peer channel'],
      detail:
        a.state === 'absent'
          ? `${a.node} (${notMaster.addr}) does not run the instance`
          : `${a.node} (${notMaster.addr}) answers ${a.state} at priority ${a.priority}`,
      ...(a.state === 'absent' ? {} : { remote: { priority: a.priority, addr: notMaster.addr } }),
    };
  }
  const refusedPeer = results.find((r) => r.path === 'peer' && r.outcome === 'refused');
  const vip = results.filter((r) => r.path === 'vip' && (r.outcome === 'reply' || r.outcome === 'timeout'));
  const vipHeld = vip.some((r) => r.outcome === 'reply');
  const alive = results.filter((r) => r.path !== 'vip' && (r.outcome === 'reply' || r.outcome === 'open'));
  const waiting = !complete && (pending.peer || pending.vip);
  if (alive.length > 0 && !waiting && !(refusedPeer && alive.every((r) => r.path === 'icmp'))) {
    if (vip.length > 0 && !vipHeld)
      // The host is up, but nobody answers for the address: it does not hold it (a faulted master whose priority 0
      // was lost, a host that forged an advert). Taking over puts the address on one host, not two.
      return {
        verdict: 'not-master',
        via: uniq([...alive.map(pathLabel), 'vip']),
        detail: `${alive[0]!.addr} answers, but nobody answers for ${vip[0]!.addr}: the old master does not hold it`,
      };
    return {
      verdict: 'alive',
      via: uniq(alive.map(pathLabel)),
      detail: alive.map((r) => `${pathLabel(r)} ${r.addr}${r.path === 'tcp' ? ' open' : ' replies'}`).join(', '),
    };
  }
  if (!complete) return null;
  if (vipHeld && alive.length === 0 && !refusedPeer)
    // The master cannot be reached, but somebody answers for the address: taking over would make two holders.
    return {
      verdict: 'alive',
      via: ['vip'],
      detail: `${vip.find((r) => r.outcome === 'reply')!.addr} answers though ${results[0]?.addr ?? 'the master'} does not`,
    };
  if (refusedPeer && alive.length > 0)
    // The host answers pings but no tandem listens there: whatever holds the address is not a running tandem.
    return {
      verdict: 'not-master',
      via: ['peer channel'],
      detail: `tandem is not running on ${refusedPeer.addr} (peer channel refused), though the host answers ping`,
    };
  const tried = results.filter((r) => r.outcome !== 'error');
  const refused = tried.filter((r) => r.outcome === 'refused' || r.outcome === 'unreachable');
  if (tried.length > 0 && refused.length === tried.length)
    return {
      verdict: refusedPeer ? 'not-master' : 'dead',
      via: uniq(tried.map(pathLabel)),
      detail: `every probe refused: ${tried.map((r) => `${pathLabel(r)} ${r.addr}`).join(', ')}`,
    };
  const timedOut = results.filter((r) => r.outcome === 'timeout');
  return {
    verdict: 'unconfirmed',
    via: uniq(results.map(pathLabel)),
    detail:
      results.length === 0
        ? 'no probe could be sent'
        : `no answer: ${timedOut.map((r) => `${pathLabel(r)} ${r.addr}`).join(', ') || 'none'}` +
          (results.some((r) => r.outcome === 'error')
            ? `; errors: ${results
                .filter((r) => r.outcome === 'error')
                .map((r) => `${pathLabel(r)} ${'detail' in r ? r.detail : ''}`)
                .join(', ')}`
            : ''),
  };
}

/**
 * The status line of a guarded backup, as an operator reads it.
 * @example guardMessage('held', '198.18.0.11', ['peer channel']) // 'master 198.18.0.11 alive via peer channel; adverts lost'
 */
export function guardMessage(
  phase: 'probing' | 'held' | 'fencing' | 'fence-failed',
  master: string,
  via: readonly string[],
  detail = '',
  device = '',
): string {
  switch (phase) {
    case 'probing':
      return `master ${master} silent: asking it over other paths before taking over`;
    case 'held':
      return `master ${master} alive via ${via.join(', ') || 'another path'}; adverts lost`;
    case 'fencing':
      return `master ${master} not confirmed dead: fencing it with ${device || 'the fence device'} before taking over`;
    case 'fence-failed':
      return `fencing ${master} with ${device || 'the fence device'} failed${detail ? ` (${detail})` : ''}; not taking over`;
  }
}
