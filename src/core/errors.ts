/**
 * The registry of stable error and diagnostic codes (Rule 8). Every code used anywhere in tandem is listed here with
 * a one-line meaning; docs/errors.md documents each one and a test keeps the two in sync.
 */
export const ERROR_CODES = {
  // configuration: syntax
  TND_CFG_IO: 'a configuration file (or an included one) cannot be read',
  TND_CFG_SYNTAX: 'the text cannot be parsed (YAML syntax, a stray token)',
  TND_CFG_UNCLOSED_BLOCK: "a keepalived.conf block opened with '{' is never closed",
  TND_CFG_EXTRA_BRACE: "a '}' closes no block",
  TND_CFG_FORMAT: 'the file format cannot be recognised',
  // configuration: values
  TND_CFG_TYPE: 'a value has the wrong type',
  TND_CFG_NUMBER: 'a value that must be a number is not one',
  TND_CFG_RANGE: 'a number is outside its allowed range',
  TND_CFG_ADDRESS: 'an IP address or prefix is malformed',
  TND_CFG_REQUIRED: 'a required setting is missing',
  TND_CFG_UNKNOWN_KEY: 'a key is not part of the schema',
  TND_CFG_ENUM: 'a value is not one of the allowed words',
  TND_CFG_ARGS: 'a keyword has too few or too many arguments',
  // configuration: semantics
  TND_CFG_DUPLICATE: 'a name is defined twice',
  TND_CFG_VRID_CONFLICT: 'two VRRP instances use one virtual_router_id on one interface',
  TND_CFG_AUTH_V3: 'VRRPv3 has no authentication; an instance sets both',
  TND_CFG_MIXED_FAMILY: 'one VRRP instance mixes IPv4 and IPv6 virtual addresses',
  TND_CFG_UNKNOWN_REF: 'a reference names something that is not defined',
  TND_CFG_INTERVAL: 'an advertisement interval cannot be carried by the chosen VRRP version',
  TND_CFG_NO_VIPS: 'a VRRP instance has no virtual address',
  TND_CFG_OWNER_TRACKED: 'an address owner (priority 255) has trackers, which cannot lower it',
  TND_CFG_SYNC_GROUP: 'a sync group is malformed (too few members, or an instance in two groups)',
  TND_CFG_INCLUDE: 'an include matches no file, or includes itself',
  // configuration: warnings
  TND_CFG_UNSUPPORTED: 'a valid keepalived keyword that tandem does not implement yet; it is ignored',
  TND_CFG_IGNORED_BLOCK: 'a keepalived block outside the VRRP part, skipped for now',
  TND_CFG_REJECTED: 'a valid keepalived setting that tandem cannot honour without breaking the peers; refused',
  TND_CFG_DEPRECATED: 'an old spelling that still works',
  // VRRP runtime
  TND_VRRP_ENCODE: 'a VRRP packet cannot be encoded (a field out of its wire range)',
  // control socket
  TND_CTL_NOT_FOUND: 'the control socket has no such route',
  TND_CTL_BAD_REQUEST: 'a control request is malformed',
  TND_CTL_UNKNOWN_INSTANCE: 'a command names an instance this node does not run',
  TND_CTL_RELOAD_REFUSED: 'a reload was refused because the new config has errors; the running config is kept',
  TND_CTL_NO_DAEMON: 'the CLI cannot reach the daemon on its control socket',
  TND_CTL_RS_REFUSED: 'a `tandem rs` request was refused (unknown service or server, bad weight or address)',
  // daemon
  TND_DAEMON_CAPS: 'the daemon lacks CAP_NET_RAW or CAP_NET_ADMIN',
  TND_DAEMON_NODE: 'the node name is not one of the config file nodes',
  // health checks
  TND_HEALTH_TARGET: 'a health check target or scheduler option is malformed (empty id, rise/fall < 1, listed twice)',
  // simulation and CLI
  TND_SIM_SCENARIO: 'a simulation scenario step is malformed',
  TND_CLI_USAGE: 'a command line is malformed',
  // configuration: heartbeat and Piranha importers (src/config/import/heartbeat*.ts, piranha*.ts)
  TND_CFG_TIMING: 'timing settings contradict each other (heartbeat deadtime ≤ 2 × keepalive, initdead < deadtime)',
  TND_CFG_PERMISSIONS: 'a secrets file (heartbeat authkeys) is readable or writable by group or others',
  TND_CFG_NOT_CARRIED: 'a setting of a heartbeat or Piranha file that tandem does not carry over; the message says why',
} as const;

/** A registered, stable error code. */
export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * An error with a stable code. Thrown only for programming errors and refused operations; expected outcomes are
 * return values.
 * @example throw new TandemError('TND_CFG_VRID_CONFLICT', 'virtual_router_id 51 is already used by VI_1 on eth0')
 */
export class TandemError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TandemError';
    this.code = code;
  }
}
