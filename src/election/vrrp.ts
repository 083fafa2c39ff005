/**
 * The VRRP elector: ownership derived from this node's VRRP instances (RFC 5798's MASTER state) and sync groups. A
 * group is owned when every instance of it is MASTER here *and its VIPs are on the interface* (services bind to the
 * VIPs: the proxy listens on them, a group's daemon may too, so they start once the addresses exist, not in the
 * instant the machine asks for them). Instances attach when they start on this node and detach when they stop; a group
 * with an instance that does not run here is not this node's (ownership undefined).
 *
 * Tokens: per group, `base + n` where n counts the changes of owner this node has seen (its own gains and losses, and
 * a new master address heard while backup); `base` is the wall-clock ms at start, so tokens keep growing across
 * restarts of the daemon.
 */
import type { Clock } from '../core/time.ts';
import type { StepListener } from '../vrrp/instance.ts';
import type { InstanceState } from '../vrrp/machine.ts';
import type { VrrpState } from '../vrrp/types.ts';
import { type Elector, type OwnerRef, type Ownership, ownerKey } from './elector.ts';

/** What the elector reads of a running instance (a VrrpInstance). */
export interface ElectedInstance {
  readonly name: string;
  readonly state: InstanceState;
  /** Resolves once the last address change asked of the VIP adapter finished. */
  readonly vipsSettled: Promise<void>;
  onStep(listener: StepListener): () => void;
}

/** One instance as the derivation sees it. */
export interface MemberView {
  state: VrrpState;
  /** Its VIPs are on the interface since it last became MASTER. */
  settled: boolean;
}

/**
 * Whether this node owns `owner`: every member MASTER with its VIPs settled; undefined when a member does not run
 * here. Pure.
 * @example vrrpOwned({ kind: 'instance', name: 'VI_1' }, (n) => ({ state: 'MASTER', settled: true })) // true
 */
export function vrrpOwned(owner: OwnerRef, view: (name: string) => MemberView | undefined): boolean | undefined {
  if (owner.kind === 'lease') return undefined;
  const names = owner.kind === 'instance' ? [owner.name] : owner.members;
  let owned = names.length > 0;
  for (const n of names) {
    const v = view(n);
    if (!v) return undefined;
    owned &&= v.state === 'MASTER' && v.settled;
  }
  return owned;
}

interface Attached {
  vi: ElectedInstance;
  settled: boolean;
  off: () => void;
  /** Bumps on every transition, so a late vipsSettled of an earlier MASTER period is ignored. */
  gen: number;
}

interface Known {
  owner: OwnerRef;
  o: Ownership | undefined;
  master: string | null;
}

/** The VRRP elector of one node. */
export class VrrpElector implements Elector {
  readonly #clock: Clock;
  readonly #base: number;
  readonly #members = new Map<string, Attached>();
  readonly #known = new Map<string, Known>();
  readonly #listeners = new Set<(o: Ownership) => void>();
  #counters = new Map<string, number>();

  /** `tokenBase`: the wall-clock ms at start (see the module comment). @default 0 */
  constructor(opts: { clock: Clock; tokenBase?: number }) {
    this.#clock = opts.clock;
    this.#base = opts.tokenBase ?? 0;
  }

  /** An instance runs on this node now: its group (and sync groups of it) are this node's to decide. */
  attach(vi: ElectedInstance): void {
    this.detach(vi.name);
    const a: Attached = { vi, settled: vi.state.state === 'MASTER', off: () => {}, gen: 0 };
    a.off = vi.onStep((_state, effects) => {
      let cause: string | null = null;
      for (const e of effects) {
        if (e.kind !== 'transition') continue;
        cause = e.cause;
        a.gen++;
        a.settled = false;
        if (e.to === 'MASTER') {
          const gen = a.gen;
          void vi.vipsSettled.then(() => {
            if (a.gen !== gen || this.#members.get(vi.name) !== a || a.vi.state.state !== 'MASTER') return;
            a.settled = true;
            this.#recompute('vips-settled');
          });
        }
      }
      this.#recompute(cause ?? 'step');
    });
    this.#members.set(vi.name, a);
    this.#watch({ kind: 'instance', name: vi.name });
    this.#recompute('started');
  }

  /** The instance stopped on this node. */
  detach(name: string): void {
    const a = this.#members.get(name);
    if (!a) return;
    a.off();
    this.#members.delete(name);
    this.#recompute('stopped');
    this.#known.delete(ownerKey({ kind: 'instance', name }));
  }

  /** The sync groups of this node (their members' ownership is decided together). */
  setSyncGroups(groups: readonly { name: string; members: readonly string[] }[]): void {
    for (const [k, v] of [...this.#known]) if (v.owner.kind === 'sync-group') this.#known.delete(k);
    for (const g of groups) this.#watch({ kind: 'sync-group', name: g.name, members: [...g.members] });
    this.#recompute('sync-groups');
  }

  ownership(owner: OwnerRef): Ownership | undefined {
    return this.#watch(owner).o;
  }

  all(): Ownership[] {
    return [...this.#known.values()].flatMap((k) => (k.o ? [k.o] : []));
  }

  onChange(listener: (o: Ownership) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #watch(owner: OwnerRef): Known {
    const key = ownerKey(owner);
    let k = this.#known.get(key);
    if (!k) {
      k = { owner, o: undefined, master: null };
      this.#known.set(key, k);
      this.#refresh(k, 'watched', false);
    }
    return k;
  }

  #recompute(cause: string): void {
    const changed: Ownership[] = [];
    for (const k of this.#known.values()) if (this.#refresh(k, cause, true)) changed.push(k.o!);
    for (const o of changed) for (const l of [...this.#listeners]) l(o);
  }

  /** Re-derives one group; true when listeners must hear of it. */
  #refresh(k: Known, cause: string, notify: boolean): boolean {
    const owned = vrrpOwned(k.owner, (n) => {
      const a = this.#members.get(n);
      return a ? { state: a.vi.state.state, settled: a.settled } : undefined;
    });
    if (owned === undefined) {
      k.o = undefined;
      return false;
    }
    // The master this node hears (a backup's view), so that a change of remote owner also moves the token.
    const master = owned ? 'self' : this.#remoteMaster(k.owner);
    const key = ownerKey(k.owner);
    const prev = k.o;
    const ownerMoved = prev !== undefined && (prev.owned !== owned || (master !== null && master !== k.master));
    if (prev && !ownerMoved) return false;
    if (master !== null) k.master = master;
    const n = (this.#counters.get(key) ?? 0) + (ownerMoved || (prev === undefined && owned) ? 1 : 0);
    this.#counters.set(key, n);
    k.o = {
      key,
      owner: k.owner,
      owned,
      sinceMs: this.#clock.now(),
      token: n === 0 ? 0 : this.#base + n,
      cause,
    };
    return notify;
  }

  #remoteMaster(owner: OwnerRef): string | null {
    const first = owner.kind === 'instance' ? owner.name : owner.kind === 'lease' ? undefined : owner.members[0];
    const a = first === undefined ? undefined : this.#members.get(first);
    return a?.vi.state.master?.addr ?? null;
  }
}
