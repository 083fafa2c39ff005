/**
 * Rise/fall as one counter, the way HAProxy (`check->health`) and keepalived (`vrrp_script->result`) keep it. Pure.
 *
 * `health` runs over 0..rise+fall-1. Values below `rise` mean DOWN, values from `rise` up mean UP:
 *
 * ```
 *   0 … rise-1 │ rise … rise+fall-1
 *   DOWN       │ UP
 * ```
 *
 * A pass while DOWN climbs one step; the pass that reaches `rise` jumps to the top (rise+fall-1), so a fresh UP needs
 * `fall` failures to go down again. A failure while UP steps down one; the failure at `rise` (the last UP step)
 * drops to 0, so a fresh DOWN needs `rise` passes to come back. Hence: `rise` consecutive passes bring a DOWN check
 * UP, `fall` consecutive failures bring an UP check DOWN, and a mixed sequence never flaps on a single result.
 * @see keepalived vrrp_scheduler.c vrrp_script_child_thread; HAProxy src/check.c set_server_check_status
 */

/**
 * The counter after one check result (clamped into 0..rise+fall-1 first, so a counter from an older config with
 * other rise/fall values is still meaningful).
 * @example applyCheck(0, true, 2, 3) // 1: one pass of two needed
 */
export function applyCheck(health: number, passed: boolean, rise: number, fall: number): number {
  const top = rise + fall - 1;
  const h = Math.min(top, Math.max(0, Math.trunc(health)));
  if (passed) return h < rise - 1 ? h + 1 : top;
  return h > rise ? h - 1 : 0;
}

/** Whether a counter means UP. */
export function isHealthy(health: number, rise: number): boolean {
  return health >= rise;
}

/**
 * Where a counter starts. keepalived: a script with `init_fail` starts at 0 (DOWN, `rise` passes to come up); any
 * other starts at `rise - 1`, *unknown*: its first result alone decides (a pass jumps to the top, a failure to 0).
 * `isHealthy` calls `rise - 1` DOWN; a caller that must tell "not yet known" apart keeps that flag itself.
 * @see keepalived vrrp_scheduler.c vrrp_init_script ("one success is enough")
 */
export function initialHealth(rise: number, initFail: boolean): number {
  return initFail ? 0 : rise - 1;
}
