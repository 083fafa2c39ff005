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
  TND_CFG_INTERNAL: 'a config reader failed unexpectedly on a file (a bug); the file is refused and nothing changes',
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
  TND_CFG_UNSUPPORTED:
    'a valid keyword of a foreign format (keepalived, heartbeat, Piranha) that tandem does not implement yet; it is ignored',
  TND_CFG_IGNORED_BLOCK: 'a keepalived block tandem does not implement (e.g. bfd_instance, BFD_CHECK), skipped whole',
  TND_CFG_AS_KEEPALIVED:
    'a setting keepalived itself ignores, corrects or reads leniently (an argument of a flag, strict mode, auth_type pass); tandem does the same',
  TND_CFG_REJECTED: 'a valid keepalived setting that tandem cannot honour without breaking the peers; refused',
  TND_CFG_DEPRECATED: 'an old spelling that still works',
  // VRRP runtime
  TND_VRRP_ENCODE: 'a VRRP packet cannot be encoded (a field out of its wire range)',
  TND_VRRP_TRANSPORT: 'a VRRP transport was used after it closed, or for an instance of the other address family',
  // host adapters (os/)
  TND_OS_ADDRESS: 'an address could not be added to or removed from an interface (ip or rtnetlink refused)',
  TND_OS_ADDON: "tandem's native addon cannot be loaded (not built)",
  TND_OS_SYSCTL: 'a kernel setting (sysctl) cannot be changed (no such setting, or no permission)',
  TND_OS_CONNTRACKD: 'conntrackd cannot be started, steered or stopped (not installed, a bad config, a command failed)',
  // load balancer thread
  TND_LB_WORKER: 'the load balancer worker is stopped, died, or failed a request',
  // control socket
  TND_CTL_NOT_FOUND: 'the control socket has no such route',
  TND_CTL_BAD_REQUEST: 'a control request is malformed',
  TND_CTL_UNKNOWN_INSTANCE: 'a command names an instance this node does not run',
  TND_CTL_UNKNOWN_GROUP: 'a command names a resource group this node does not run',
  TND_CTL_INTERNAL:
    'the daemon failed while handling a control request (a bug); nothing was changed by the failed part',
  TND_CTL_RELOAD_REFUSED: 'a reload was refused because the new config has errors; the running config is kept',
  TND_CTL_NO_DAEMON: 'the CLI cannot reach the daemon on its control socket',
  TND_CTL_RS_REFUSED: 'a `tandem rs` request was refused (unknown service or server, bad weight or address)',
  // daemon
  TND_DAEMON_CAPS: 'the daemon lacks CAP_NET_RAW or CAP_NET_ADMIN',
  TND_DAEMON_NODE: 'the node name is not one of the config file nodes',
  TND_DAEMON_LOCKED: 'another tandem daemon already runs with this control socket',
  TND_DAEMON_CONTROL: 'the control socket path is not usable (a file that is not a socket, or no permission)',
  TND_DAEMON_GAVE_UP: 'the supervisor stopped restarting a daemon that kept dying; the node serves nothing',
  // health checks
  TND_HEALTH_TARGET: 'a health check target or scheduler option is malformed (empty id, rise/fall < 1, listed twice)',
  // simulation and CLI
  TND_SIM_SCENARIO: 'a simulation scenario step is malformed',
  TND_CLI_USAGE: 'a command line is malformed',
  TND_CLI_OUTPUT: 'an output file cannot be written safely (a symlink, not a regular file, no permission)',
  // nft data plane (dataplane/nft, os/nft, os/conntrack)
  TND_NFT_APPLY: 'nft refused or failed to run a ruleset transaction; the kernel kept the previous ruleset',
  TND_NFT_PROGRAM: 'a desired state cannot be rendered for nft (bad address, duplicate service, bad table name)',
  TND_NFT_UNSUPPORTED: 'a service setting the nft data plane cannot carry (method dr)',
  TND_CONNTRACK_READ: 'the connection tracking table cannot be read',
  // configuration: heartbeat and Piranha importers (src/config/import/heartbeat*.ts, piranha*.ts)
  TND_CFG_TIMING: 'timing settings contradict each other (heartbeat deadtime ≤ 2 × keepalive, initdead < deadtime)',
  TND_CFG_PERMISSIONS: 'a secrets file (heartbeat authkeys) is readable or writable by group or others',
  TND_CFG_NOT_CARRIED: 'a setting of a heartbeat or Piranha file that tandem does not carry over; the message says why',
  // user-space proxy data plane (dataplane/proxy)
  TND_PROXY_UNSUPPORTED: 'a service asks the proxy for what it cannot carry (udp, method dr, port 0)',
  TND_PROXY_SETTINGS: 'a service handed to the proxy has no or malformed proxy settings, or is listed twice',
  TND_PROXY_LISTEN: 'the proxy cannot listen on a service address (in use, not permitted, not on this host)',
  TND_PROXY_CLOSED: 'the proxy data plane was closed and takes no more changes',
  // configuration: load balancer (lb.services checks, keepalived virtual_server import)
  TND_CFG_LB_PORT: 'a service on port 0 (every port) has no persistence, or one of its real servers names a port',
  TND_CFG_LB_CHECK_TARGET: 'a tcp or http health check has no port to connect to',
  TND_CFG_LB_DATAPLANE:
    'a service setting its data plane cannot carry (proxy: udp, dr, port 0; nft dr: snat, a port change, no interface)',
  TND_CFG_LB_SCHEDULER: 'the data plane approximates the scheduler named (nft: lc, wlc by feedback; dr: by hash)',
  TND_CFG_LB_QUORUM: 'a quorum the real servers can never reach, or a hysteresis not below the quorum',
  TND_CFG_LB_NO_OWNER: 'no VRRP instance holds the vip of a service and it names no owner: every node serves it',
  // resource groups (resources/)
  TND_RES_GROUP: 'a resource group handed to the runner is malformed (no resources, an id twice, bad threshold)',
  // split-brain defences (docs/split-brain.md)
  TND_CFG_KEY: 'a key file (cluster.key_file, auth_hmac.key_file) is missing, readable by others, or not 32..64 bytes',
  TND_PEER_LISTEN: 'the peer channel cannot listen on its UDP port (in use, or not permitted)',
  TND_FENCE_CONFIG: "a fence device's parameters do not match its agent's metadata (unknown or missing required)",
  // HTTP API: users, roles, tokens, audit (src/api/http/)
  TND_API_UNAUTHENTICATED: 'an API request carries no valid session cookie or bearer token, or a login failed',
  TND_API_FORBIDDEN: "the caller's role does not allow the action",
  TND_API_CSRF: 'a cookie-authenticated request that changes something lacks the right X-CSRF-Token header',
  TND_API_RATE_LIMITED: 'too many login attempts from one address in a short time',
  TND_API_LOCKED_OUT: 'a user or address is locked out for a while after repeated failed logins',
  TND_API_TOO_LARGE: 'an API request body is larger than the limit',
  TND_API_TLS_REQUIRED: 'the API would listen on a non-loopback address without TLS',
  TND_API_LISTEN: 'the API cannot listen (bad address, port in use, unreadable TLS certificate or key)',
  TND_API_USERS: 'the users file cannot be read or written, or a user or token command is malformed',
  // the cluster's one config (src/cluster/, docs/cluster.md)
  TND_CLUSTER_TLS:
    "the peer listener's certificates (cluster CA, node cert, key) are missing, unreadable or not the cluster's",
  TND_CLUSTER_JOIN:
    'tandem cluster join was refused: a wrong or used token, a CA fingerprint that does not match, a bad name',
  TND_CLUSTER_PEER: 'a peer cannot be reached over the peer listener, or answered something unexpected',
  TND_CLUSTER_CONFLICT: 'a config apply raced another: the cluster is no longer at the expected version',
  TND_CLUSTER_REFUSED: 'a node refused the config in the prepare phase; nothing changed on any node',
  TND_CLUSTER_DIVERGED: 'the nodes do not all run the same config version and hash',
  TND_CLUSTER_VERSION: 'a config version asked for (rollback, history) is not kept on this node',
  TND_CLUSTER_OFF: 'this node has no peer listener (cluster.listen), so it shares no config',
  TND_HOST_INTERFACE: 'a config names an interface this host does not have',
  TND_HOST_ADDRESS: "a config names, as one of this node's own addresses, an address this host does not have",
  TND_HOST_AGENT: 'a config names a resource agent, init script or command this host does not have',
  TND_PEER_MISMATCH:
    "two directors' configs differ in a setting that must match (VRID, VIPs, authentication, virtual or real servers)",
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
