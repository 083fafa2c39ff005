/**
 * The `DataPlane` contract: what the daemon asks of whatever carries the traffic of virtual services, the kernel
 * (dataplane/nft) or a user-space proxy (dataplane/proxy). The daemon hands over the whole desired state every time
 * (lb/model.ts desiredState); a data plane converges to it, changing only what differs, and never drops connections
 * that the new state still allows (Rule 4: converge, report what changed).
 */
import type { ProxyStats } from './status.ts';
import type { DesiredService, Endpoint } from './types.ts';

/** Which data plane carries a service. */
export type DataPlaneKind = 'nft' | 'proxy' | 'haproxy';

/** How the user-space proxy carries one service (config lb.services[].proxy, in ms). */
export interface ProxySettings {
  mode: 'tcp' | 'http';
  /** Address to listen on (default: the vip); port is the service's. */
  listen: string;
  /** http: retry an idempotent request on another server when connecting to the first fails. */
  retries: number;
  /** Consecutive connection failures that report a server (onPassiveFailure) and stop using it; 0 = off. */
  passiveFailures: number;
  /** Give up connecting to a server after this long. */
  connectTimeoutMs: number;
  /**
   * The longest silence once a response, a WebSocket tunnel or a TCP stream is under way (either side), and the life
   * of an idle pooled server connection; the default of the other timeouts.
   */
  idleTimeoutMs: number;
  /** http: add X-Forwarded-For, X-Forwarded-Proto, X-Forwarded-Host. */
  forwardedFor: boolean;
  /** http: the whole request head must arrive within this, from its first byte. @default min(10 s, idleTimeoutMs) */
  clientHeaderTimeoutMs?: number;
  /** http: the longest pause between two reads of a request body. @default idleTimeoutMs */
  clientBodyTimeoutMs?: number;
  /** http: how long an idle keep-alive client connection waits for its next request. @default idleTimeoutMs */
  keepAliveTimeoutMs?: number;
  /** http: the longest the server may stay silent before its response head. @default idleTimeoutMs */
  responseTimeoutMs?: number;
  /** Client connections open at once; more are refused at once. @default half the process budget (RLIMIT_NOFILE) */
  maxConnections?: number;
  /** http: request header fields at most; more is 431. @default 100 */
  maxHeaders?: number;
  /** http: bytes of request line and header fields at most; more is 431. @default 16384 */
  maxHeaderBytes?: number;
}

/** A real server of a service's pool, whatever its state (haproxy). */
export interface PoolServer {
  key: string;
  addr: string;
  port: number;
  /** Configured (or added-with) weight. */
  weight: number;
}

/** Source NAT for one-armed setups (nft): none, masquerade, or a fixed address. */
export type Snat = { kind: 'none' } | { kind: 'masquerade' } | { kind: 'address'; addr: string };

/** A service as a data plane programs it: the model's desired state plus the data plane's own settings. */
export interface ServiceProgram extends DesiredService {
  /** nft only. @default { kind: 'none' } */
  snat?: Snat;
  /** proxy and haproxy (required there). */
  proxy?: ProxySettings;
  /**
   * haproxy only: every real server of the pool (configured and added at runtime, down ones too), so that the
   * rendered config names each server once and health, drain and weight changes go through the runtime API.
   */
  pool?: readonly PoolServer[];
  /** haproxy only: the configured sorry server, active or not (`sorry` is set only while it is active). */
  sorryServer?: Endpoint | null;
  /**
   * nft, method dr only: the director's interface where clients' packets for the VIP arrive and through which the
   * real servers are reached (one segment, as LVS-DR needs).
   */
  device?: string;
}

/** What one `apply` did, per service, for logs and tests. */
export interface ApplyReport {
  /** Services created (first apply with them). */
  added: string[];
  /** Services whose backends, weights or settings changed. */
  changed: string[];
  /** Services removed (absent from the new desired state). */
  removed: string[];
  /** Wall time of the whole apply, ms (measured by the data plane; for logs and the bench). */
  tookMs: number;
}

/**
 * Connection counts of one real server, as ipvsadm shows them: ActiveConn (established) and InActConn (every other
 * tracked state: SYN_RECV, TIME_WAIT, FIN_WAIT, …).
 */
export interface ConnCount {
  active: number;
  inactive: number;
}

/** Connection counts by service id, then by backend key (`addr:port`). Backends without connections may be absent. */
export type ConnCounts = Map<string, Map<string, ConnCount>>;

/**
 * Passive health (proxy only): a real server's connections failed `failures` times in a row. The daemon marks it down
 * until its active check passes again (HAProxy `observe layer4` + `on-error mark-down`).
 */
export interface PassiveFailure {
  service: string;
  backend: string;
  failures: number;
  /** The last error, in the checker's words: L4CON, L4TOUT, … */
  code: string;
  detail: string;
}

/**
 * A data plane. Every method converges and is safe to call again; `apply` with an empty list removes everything it
 * made. Nothing here may block the event loop for long (Rule 10): kernel changes go to a child process.
 */
export interface DataPlane {
  readonly kind: DataPlaneKind;
  /** Converge to `services` (the whole desired state of the services this data plane carries). */
  apply(services: readonly ServiceProgram[], signal?: AbortSignal): Promise<ApplyReport>;
  /** Connection counts per service and backend. */
  connections(signal?: AbortSignal): Promise<ConnCounts>;
  /** Remove everything this data plane made (table, listeners); existing connections may end. */
  close(): Promise<void>;
  /** Passive health reports (proxy); a data plane without them never calls it. */
  onPassiveFailure?: (f: PassiveFailure) => void;
  /** issue 12, metrics: traffic counted since the data plane started (proxy); a copy. */
  stats?(): ProxyStats;
}
