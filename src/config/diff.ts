/**
 * A whole config against another, per kind of object, keyed by the names the operator gave them: what a reload, an
 * apply or the console's diff view will keep, change, add and remove. Pure; the engine is core/diff (the node and the
 * load balancer diff their resolved, per-node plans with it, so that an instance whose per-node values did not change
 * for this node is kept even when the file changed them for another).
 */
import { type Diff, diffById, sameValue } from '../core/diff.ts';
import type { TandemConfig } from './schema.ts';

/** The kinds of named objects a config holds. */
export type ConfigKind = 'nodes' | 'instances' | 'syncGroups' | 'scripts' | 'trackFiles' | 'services' | 'groups';

/** A config diff: one {@link Diff} per kind, plus whether settings outside the named objects changed. */
export type ConfigDiff = Record<ConfigKind, Diff> & {
  /** Top-level settings that are not named objects (cluster name, lb.max_concurrent_checks). */
  settingsChanged: boolean;
};

const entries = <T>(r: Readonly<Record<string, T>>): { name: string; v: T }[] =>
  Object.entries(r).map(([name, v]) => ({ name, v }));

/**
 * Diffs two validated configs.
 * @example diffConfig(running, next).instances // { kept: ['VI_1'], changed: [], added: ['VI_2'], removed: [] }
 */
export function diffConfig(old: TandemConfig, next: TandemConfig): ConfigDiff {
  const byName = (x: { name: string }) => x.name;
  return {
    nodes: diffById(old.cluster.nodes, next.cluster.nodes, byName),
    instances: diffById(old.vrrp.instances, next.vrrp.instances, byName),
    syncGroups: diffById(old.vrrp.sync_groups, next.vrrp.sync_groups, byName),
    scripts: diffById(entries(old.vrrp.scripts), entries(next.vrrp.scripts), byName),
    trackFiles: diffById(entries(old.vrrp.track_files), entries(next.vrrp.track_files), byName),
    services: diffById(old.lb.services, next.lb.services, byName),
    groups: diffById(old.groups, next.groups, byName),
    settingsChanged:
      old.cluster.name !== next.cluster.name || !sameValue(old.lb.max_concurrent_checks, next.lb.max_concurrent_checks),
  };
}

/** Whether a diff changes nothing at all. */
export function isEmptyDiff(d: ConfigDiff): boolean {
  if (d.settingsChanged) return false;
  return (Object.keys(d) as (keyof ConfigDiff)[]).every((k) => {
    const v = d[k];
    return typeof v === 'boolean' || (v.changed.length === 0 && v.added.length === 0 && v.removed.length === 0);
  });
}
