/**
 * The load balancer's vocabulary: a virtual service's frozen configuration, the plain runtime state of its real
 * servers (operational state apart from admin state, every change with a cause), and the desired state handed to a
 * data plane. Words follow keepalived's `virtual_server` / `real_server` and ipvsadm (anchors §5.1, §5.4).
 */
import type { CheckResultCode } from '../core/check-codes.ts';
import type { Ms } from '../core/time.ts';

/** Transport protocol of a virtual service (keepalived `protocol TCP|UDP`; SCTP is not supported). */
export type LbProtocol = 'tcp' | 'udp';

/** Address family of a virtual service and of its real servers. */
export type IpFamily = 4 | 6;

/**
 * A scheduler (keepalived `lvs_sched`, alias `lb_algo`; ipvsadm `-s`).
 * @see keepalived.conf(5) virtual_server; Linux net/netfilter/ipvs/ip_vs_{rr,wrr,lc,wlc,sh,mh}.c
 */
export type SchedulerName = 'rr' | 'wrr' | 'lc' | 'wlc' | 'sh' | 'mh';

/** Every scheduler name, in keepalived's order. */
export const SCHEDULER_NAMES: readonly SchedulerName[] = ['rr', 'wrr', 'lc', 'wlc', 'sh', 'mh'];

/**
 * Forwarding method (keepalived `lvs_method`, alias `lb_kind`; ipvsadm `-m` Masq / `-g` Route).
 * @default 'nat'
 */
export type ForwardMethod = 'nat' | 'dr';

/** An address and a port; port 0 means "the port the client asked for" (a service on all ports). */
export interface Endpoint {
  addr: string;
  port: number;
}

/**
 * A real server as configured (keepalived `real_server IP PORT { weight N }`).
 * @see keepalived.conf(5): "relative weight to use, default: 1"
 */
export interface RealServerConfig extends Endpoint {
  /** Relative weight, 0..65535 (IPVS's range); 0 takes no new connections. @default 1 */
  weight: number;
}

/**
 * Persistence (keepalived `persistence_timeout` + `persistence_granularity`; ipvsadm `-p` / `-M`): connections from
 * one client network go to one real server while the affinity is younger than `timeoutMs`.
 */
export interface PersistenceConfig {
  /** @default 360_000 ({@link DEFAULT_PERSISTENCE_TIMEOUT_MS}, the keyword alone) */
  timeoutMs: Ms;
  /** Prefix length of the client network that shares one affinity (32 / 128 = one address). @default 32 or 128 */
  netmaskPrefix: number;
}

/**
 * Real-server quorum (keepalived `quorum`, `hysteresis`).
 * @see keepalived.conf(5): quorum "Minimum total weight of all live servers in the pool necessary to operate VS with
 *   no quality regression. Defaults to 1." hysteresis "Tolerate this much weight units compared to the nominal
 *   quorum, when considering quorum gain or loss. A flap dampener. Defaults to 0."
 */
export interface QuorumConfig {
  /** @default 1 */
  min: number;
  /** @default 0 */
  hysteresis: number;
}

/** A virtual service: VIP:port (or all ports) spread over real servers. Frozen configuration, never runtime state. */
export interface VirtualService {
  /** Stable name used in state, events, logs and the API. */
  id: string;
  vip: string;
  /** 0 = every port (keepalived allows it for persistent services; LVS "port 0"). */
  port: number;
  protocol: LbProtocol;
  family: IpFamily;
  /** @default 'wlc' (keepalived's and ipvsadm's default) */
  scheduler: SchedulerName;
  method: ForwardMethod;
  persistence: PersistenceConfig | null;
  /** keepalived `sorry_server`: takes new connections while the quorum is lost (or no real server is eligible). */
  sorry: Endpoint | null;
  /** keepalived `inhibit_on_failure`: a server that fails its checks stays in the pool with weight 0. @default false */
  inhibitOnFailure: boolean;
  /** Weight ramp after a server comes back (HAProxy `slowstart`); 0 = none. @default 0 */
  slowStartMs: Ms;
  /** @default { min: 1, hysteresis: 0 } */
  quorum: QuorumConfig;
  realServers: readonly RealServerConfig[];
  /**
   * keepalived `virtual_server fwmark N` (ipvsadm -f): the service takes the packets that carry this firewall mark,
   * whatever their destination, instead of those to vip:port. The operator's own rules set the mark. @default none
   */
  fwmark?: number;
}

/** keepalived's `persistence_timeout` with no value: IPVS_SVC_PERSISTENT_TIMEOUT = 6*60 s. @see anchors §5.4 */
export const DEFAULT_PERSISTENCE_TIMEOUT_MS: Ms = 360_000;

/** keepalived's defaults for `quorum` (1) and `hysteresis` (0). @see keepalived.conf(5) virtual_server */
export const DEFAULT_QUORUM: Readonly<QuorumConfig> = Object.freeze({ min: 1, hysteresis: 0 });

/** keepalived's default real-server `weight`. */
export const DEFAULT_WEIGHT = 1;

/** The largest weight IPVS takes (`ipvsadm -w` is an int, 0..65535). */
export const MAX_WEIGHT = 65_535;

/** Who set an admin flag or weight: the configuration, the CLI, or the HTTP API. */
export type AdminSource = 'config' | 'cli' | 'api';

/**
 * Why a real server's state last changed: a health verdict, or an admin action from one of its sources. A closed set
 * that flows unchanged to logs, metrics and the API (Rule 5).
 */
export type LbChangeCause = 'health' | AdminSource;

/** What changed (closed set, Rule 5); paired with an {@link LbChangeCause}. */
export type LbChangeDetail =
  /** The server entered the state with the service (start-up, or reload). */
  | 'initial'
  /** The checker's rise/fall counter went UP / DOWN. */
  | 'health-up'
  | 'health-down'
  /** The slow-start ramp ended: `starting` → `up`. */
  | 'slow-start-done'
  /** Admin: stop new connections, keep the existing ones. */
  | 'drain'
  /** Admin: take out of the pool (HAProxy MAINT). */
  | 'maint'
  /** Admin: clear drain and maint. */
  | 'enable'
  /** Admin: runtime weight set or reset. */
  | 'weight'
  /** Admin: added / removed at runtime. */
  | 'added'
  | 'removed';

/**
 * Operational state, derived from health, admin flags and the slow-start ramp (the table in model.ts):
 * `down` takes nothing new, `starting` takes a ramping share, `up` its full weight, `draining` only what it has.
 */
export type OpState = 'down' | 'starting' | 'up' | 'draining';

/** The checker's verdict after its rise/fall hysteresis (health/hysteresis.ts). */
export type HealthState = 'up' | 'down';

/** Admin flags, each recording who set it (HAProxy keeps its MAINT/DRAIN flags the same way). */
export interface AdminState {
  maint?: AdminSource;
  drain?: AdminSource;
}

/** A runtime weight that replaces the configured one until reset. */
export interface WeightOverride {
  weight: number;
  source: AdminSource;
}

/** When, why and what last changed on a real server. */
export interface LbChange {
  at: Ms;
  cause: LbChangeCause;
  detail: LbChangeDetail;
  /** The checker's result code (L4CON, L7STS, …) that caused a health change, passed through unchanged. */
  check?: CheckResultCode;
}

/** Runtime state of one real server: plain, serialisable data that survives a reload (Rule 6). */
export interface RealServerState {
  /** `addr:port`, or `[addr]:port` for IPv6 ({@link serverKey}). */
  key: string;
  addr: string;
  port: number;
  /** The weight it was configured or added with. */
  weight: number;
  /** Who put it in the pool: `config`, or the source of a runtime `add`. */
  origin: AdminSource;
  health: HealthState;
  op: OpState;
  admin: AdminState;
  weightOverride: WeightOverride | null;
  /** When the current slow-start ramp began (the server last became eligible); null = no ramp. */
  rampFromMs: Ms | null;
  changed: LbChange;
}

/** Whether a service has its real-server quorum (keepalived `quorum_state_up`). */
export type QuorumState = 'up' | 'down';

/** Runtime state of one virtual service. */
export interface ServiceState {
  id: string;
  quorum: QuorumState;
  /** In pool order: configured servers first, then runtime additions. */
  servers: readonly RealServerState[];
}

/** Why a backend is in the desired state with the weight it has (closed set, Rule 5). */
export type BackendReason =
  /** Full weight. */
  | 'up'
  /** Ramping weight (slow start). */
  | 'starting'
  /** Weight 0: admin drain. */
  | 'draining'
  /** Weight 0: failed its checks, kept because of `inhibit_on_failure`. */
  | 'inhibited'
  /** Weight 0: healthy, but the quorum is lost and the sorry server takes new connections. */
  | 'quorum';

/** One backend as a data plane should program it. Weight 0 = no new connections, keep the existing ones. */
export interface DesiredBackend extends Endpoint {
  key: string;
  weight: number;
  op: OpState;
  reason: BackendReason;
}

/** A virtual service as a data plane should program it, with everything it needs and nothing it must derive. */
export interface DesiredService {
  id: string;
  vip: string;
  port: number;
  protocol: LbProtocol;
  family: IpFamily;
  scheduler: SchedulerName;
  method: ForwardMethod;
  persistence: PersistenceConfig | null;
  quorum: QuorumState;
  /** Backends in pool order; a server that is down (and not inhibited) or in maintenance is absent. */
  backends: readonly DesiredBackend[];
  /** Non-null when the sorry server takes the new connections. */
  sorry: Endpoint | null;
  /** A firewall-mark service: matched by `meta mark` instead of vip and port (see VirtualService.fwmark). */
  fwmark?: number;
}

/** The key of a real server: `10.0.0.1:80`, `[2001:db8::1]:80`. */
export function serverKey(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}
