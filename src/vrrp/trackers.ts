/**
 * What tracked objects (interfaces, vrrp_scripts, track files, resource groups) do to an instance's priority, with
 * keepalived's weight and `reverse` semantics: the one place these rules live. The machine (machine.ts) applies fixed
 * weights to up/down trackers; these functions say what a tracker does now (for status) and what up/down a track
 * file's value means.
 * @see keepalived vrrp_track.c process_track_file, update_track_file_status; keepalived.conf(5) track_* weight
 */

/** What a tracker does to the priority now, for `tandem status` (keepalived's weight and reverse semantics). */
export function trackerEffect(weight: number, reverse: boolean, up: boolean): 'none' | 'adds' | 'subtracts' | 'fault' {
  // reverse inverts the direction: a weight-0 tracker faults while up, a weighted one acts on the other state.
  const active = up !== reverse;
  if (weight === 0) return active ? 'none' : 'fault';
  const w = reverse ? -weight : weight;
  if (w > 0) return up ? 'adds' : 'none';
  return up ? 'none' : 'subtracts';
}

/**
 * keepalived's effect of a value on one tracking instance: `'fault'`, or the priority change (value × weight, negated
 * with `reverse`, clamped to -254..253).
 */
export function trackFileDelta(value: number, weight: number, reverse = false): number | 'fault' {
  if (weight === 0) return (value !== 0) !== reverse ? 'fault' : 0;
  const delta = value * weight * (reverse ? -1 : 1);
  return Math.min(253, Math.max(-254, delta));
}

/**
 * The up/down a file tracker reports to today's VRRP machine (fixed weights, `reverse` applied by the machine), chosen
 * so that the machine's result equals keepalived's for the values 0 and 1:
 * weight 0 → up when the value is 0 (non-zero faults); weight > 0 → up when the value is non-zero (keepalived adds
 * value × weight); weight < 0 → down when the value is non-zero (keepalived subtracts value × |weight|).
 * Larger values lose their size (value 2 with weight -10 subtracts 10 here, 20 in keepalived) and negative values their
 * sign (value -1 with weight 10 adds 10 here, subtracts 10 in keepalived): both need variable weights in the machine.
 */
export function trackFileUp(value: number, weight: number): boolean {
  if (weight > 0) return value !== 0;
  return value === 0;
}
