/**
 * Fakes of os/routes' RouteAdapter and os/vmac's VmacAdapter for daemon tests: state in memory, converging like
 * `ip` (adding a present route or deleting an absent one reports false), with a call log. sim/ does not import os/:
 * the shapes are matched structurally.
 */

/** os/routes IpRoute. */
export interface FakeRoute {
  kind: 'route' | 'rule';
  args: readonly string[];
}

/** In-memory routes and rules. */
export class FakeRouteAdapter {
  readonly calls: { op: 'add' | 'del'; route: string; changed: boolean }[] = [];
  readonly #held = new Set<string>();

  async ensurePresent(r: FakeRoute): Promise<boolean> {
    return this.#apply('add', r);
  }

  async ensureAbsent(r: FakeRoute): Promise<boolean> {
    return this.#apply('del', r);
  }

  /** What is in place, as `route ARGS` / `rule ARGS`, sorted. */
  held(): string[] {
    return [...this.#held].sort();
  }

  #apply(op: 'add' | 'del', r: FakeRoute): boolean {
    const key = `${r.kind} ${r.args.join(' ')}`;
    const changed = op === 'add' ? !this.#held.has(key) : this.#held.has(key);
    if (op === 'add') this.#held.add(key);
    else this.#held.delete(key);
    this.calls.push({ op, route: key, changed });
    return changed;
  }
}

/** os/vmac Vmac. */
export interface FakeVmac {
  name: string;
  base: string;
  mac: string;
}

/** In-memory vmac interfaces. */
export class FakeVmacAdapter {
  readonly links = new Map<string, FakeVmac>();

  async ensurePresent(v: FakeVmac): Promise<boolean> {
    return this.ensurePresentSync(v);
  }

  ensurePresentSync(v: FakeVmac): boolean {
    if (this.links.has(v.name)) return false;
    this.links.set(v.name, { ...v });
    return true;
  }

  async ensureAbsent(v: FakeVmac): Promise<boolean> {
    return this.ensureAbsentSync(v);
  }

  ensureAbsentSync(v: FakeVmac): boolean {
    return this.links.delete(v.name);
  }
}
