/**
 * Imported files keep their tool's meaning (docs/split-brain.md). keepalived, heartbeat and Piranha take over when
 * adverts (heartbeats) stop, without asking the old master anything; tandem's takeover guard would change that, so an
 * instance read from their files gets `guard: { enabled: false }` unless the reader set a guard itself. `tandem
 * import` writes the setting out, so the YAML an operator starts from still means what the old file meant, and
 * turning the guard on is one visible edit. Pure.
 */

/** Sets `guard.enabled: false` on every instance of an imported raw config that has no guard; returns `raw`. */
export function keepForeignMeaning<T>(raw: T): T {
  const instances = (raw as { vrrp?: { instances?: unknown } } | null)?.vrrp?.instances;
  if (!Array.isArray(instances)) return raw;
  for (const inst of instances) {
    if (inst && typeof inst === 'object' && !('guard' in inst))
      (inst as Record<string, unknown>).guard = { enabled: false };
  }
  return raw;
}
