/** The virtual MAC of a VRRP instance (RFC 5798 §7.3) and keepalived's name for its vmac interface. Pure. */

/** The virtual router MAC of a VRID (RFC 5798 §7.3). Pure. */
export function virtualRouterMac(vrid: number, family: 4 | 6): string {
  return `00:00:5e:00:0${family === 4 ? 1 : 2}:${vrid.toString(16).padStart(2, '0')}`;
}

/** keepalived's default name of a VRID's vmac interface. Pure. */
export function defaultVmacName(vrid: number): string {
  return `vrrp.${vrid}`;
}
