/**
 * A fake of os/addresses' AddressAdapter for daemon tests: addresses per device in memory, converging like `ip`
 * (adding a present address or removing an absent one reports false), with a call log and injectable failures.
 * sim/ does not import os/, so the shape is matched structurally (test/os/contracts.test.ts checks it).
 */

/** An address on a device (os/addresses IfAddr). */
export interface FakeIfAddr {
  addr: string;
  prefix: number;
  dev: string;
  label?: string;
}

/** One call, in order. */
export interface FakeAddressCall {
  op: 'add' | 'remove';
  addr: FakeIfAddr;
  /** False when nothing changed; undefined when the call failed. */
  changed?: boolean;
  error?: string;
}

/**
 * In-memory addresses. Devices listed in `devices` exist; adding to any other rejects like `ip` ("Cannot find device").
 * @example const a = new FakeAddressAdapter(['eth0']); await a.ensurePresent({ addr: '198.18.0.100', prefix: 24, dev: 'eth0' }) // true
 */
export class FakeAddressAdapter {
  /** Every call, in order. */
  readonly calls: FakeAddressCall[] = [];
  /** Return an Error to make the next matching call fail with it (a stuck or broken host). */
  failWith: ((op: 'add' | 'remove', a: FakeIfAddr) => Error | undefined) | undefined;
  readonly #devices: Set<string> | null;
  readonly #held = new Map<string, FakeIfAddr[]>();

  /** `devices`: the devices that exist; omitted = any device exists. */
  constructor(devices?: readonly string[]) {
    this.#devices = devices ? new Set(devices) : null;
  }

  /** Adds the address unless present; true when it was added. */
  async ensurePresent(a: FakeIfAddr): Promise<boolean> {
    return this.#apply('add', a);
  }

  /** Removes the address if present; true when it was removed. */
  async ensureAbsent(a: FakeIfAddr): Promise<boolean> {
    return this.#apply('remove', a);
  }

  /** The addresses on `dev`, in the order they were added. */
  async list(dev: string): Promise<FakeIfAddr[]> {
    return (this.#held.get(dev) ?? []).map((a) => ({ ...a }));
  }

  /** Addresses held on every device as `addr/prefix@dev`, sorted (for assertions). */
  held(): string[] {
    return [...this.#held.values()]
      .flat()
      .map((a) => `${a.addr}/${a.prefix}@${a.dev}`)
      .sort();
  }

  #apply(op: 'add' | 'remove', a: FakeIfAddr): boolean {
    const err =
      this.failWith?.(op, a) ??
      (op === 'add' && this.#devices && !this.#devices.has(a.dev)
        ? new Error(`Cannot find device "${a.dev}"`)
        : undefined);
    if (err) {
      this.calls.push({ op, addr: { ...a }, error: err.message });
      throw err;
    }
    const list = this.#held.get(a.dev) ?? [];
    const i = list.findIndex((x) => x.addr === a.addr && x.prefix === a.prefix);
    let changed = false;
    if (op === 'add' && i < 0) {
      list.push({ ...a });
      changed = true;
    } else if (op === 'remove' && i >= 0) {
      list.splice(i, 1);
      changed = true;
    }
    this.#held.set(a.dev, list);
    this.calls.push({ op, addr: { ...a }, changed });
    return changed;
  }
}
