/**
 * Comparing plain config data and diffing lists of it by stable ids: the one engine behind every reload (VRRP
 * instances and resource groups in the node, virtual services in the load balancer, check targets in the health
 * scheduler, and config/diff's view of a whole config). Equality ignores object key order and `undefined` members, so
 * two configs that mean the same compare equal however they were built (Rule 6: reload is diff(old, new)).
 */

/**
 * JSON with object keys sorted and `undefined` members left out: equal texts mean equal plain data.
 * @example stableKey({ b: 1, a: [2, undefined] }) // '{"a":[2,null],"b":1}'
 */
export function stableKey(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : stableKey(x))).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableKey(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** Whether two pieces of plain data are equal (key order and `undefined` members do not matter). */
export function sameValue(a: unknown, b: unknown): boolean {
  return a === b || stableKey(a) === stableKey(b);
}

/** What changed between two lists of things with ids, as ids (in the new list's order; removed in the old one's). */
export interface Diff {
  kept: string[];
  changed: string[];
  added: string[];
  removed: string[];
}

/**
 * Diffs `old` against `next` by `id`: the same id with equal data is kept, with other data changed; new ids are
 * added, missing ones removed. `same` decides equality. @default sameValue
 * @example diffById([{ name: 'a', v: 1 }], [{ name: 'a', v: 2 }, { name: 'b', v: 1 }], (x) => x.name)
 *   // { kept: [], changed: ['a'], added: ['b'], removed: [] }
 */
export function diffById<T>(
  old: readonly T[],
  next: readonly T[],
  id: (t: T) => string,
  same: (a: T, b: T) => boolean = sameValue,
): Diff {
  const before = new Map(old.map((t) => [id(t), t]));
  const out: Diff = { kept: [], changed: [], added: [], removed: [] };
  const seen = new Set<string>();
  for (const t of next) {
    const k = id(t);
    seen.add(k);
    const o = before.get(k);
    if (o === undefined) out.added.push(k);
    else if (same(o, t)) out.kept.push(k);
    else out.changed.push(k);
  }
  for (const k of before.keys()) if (!seen.has(k)) out.removed.push(k);
  return out;
}
