/**
 * The partition suite's parts and how they plug together: an {@link Implementation} runs a director in a lab host,
 * a {@link Mode} generates each director's config (and any helper hosts it needs), a {@link Nemesis} applies a fault
 * inside the lab's namespaces and heals it. A cell is one nemesis × one mode × one implementation. Later issues add
 * their own modes and implementations (etcd as the election) to the registries in partition-modes.ts and nemesis.ts
 * without touching the runner (partition.ts).
 */
import type { Lab } from './lab.ts';
import type { FaultWindow } from './partition-check.ts';

/** Timing of every run, derived from the advert interval. */
export interface SuiteParams {
  /** The VRRP advert interval (v3). @default 100 */
  advertMs: number;
  /** How long a nemesis lasts (the pauses are multiples of the Master_Down_Interval instead). */
  faultMs: number;
  /** Observation after the fault is healed, for the cluster to settle. */
  settleMs: number;
}

/** A director's config file. */
export interface DirectorConfig {
  text: string;
  /** `conf` = keepalived.conf (tandem reads it as-is), `yaml` = tandem's own. */
  ext: 'yaml' | 'conf';
}

/** One director running in a lab host. */
export interface Director {
  host: string;
  /**
   * The process that runs the election: tandem's daemon (the supervisor's child), keepalived's VRRP child. SIGSTOP
   * and SIGKILL go to it; after a restart it is the new one.
   */
  electionPid(): Promise<number>;
  /** Every process of the implementation on this host (tandem's supervisor and daemon; keepalived's parent and child). */
  allPids(): Promise<number[]>;
  /** Whether it says it is master (its status API or its log). */
  isMaster(): Promise<boolean>;
  /** What it logged, for failure messages. */
  log(): string;
}

/** What an implementation needs to start a director. */
export interface StartContext {
  /** The run's directory for configs, sockets and pid files. */
  dir: string;
  /** Extra environment for the implementation's processes only (libfaketime for the clock nemesis). */
  env?: Record<string, string>;
}

/** A program that can be a director (tandem, keepalived, …). */
export interface Implementation {
  name: string;
  /** Why it cannot run on this machine, or null. */
  unavailable(): string | null;
  start(lab: Lab, host: string, config: DirectorConfig, ctx: StartContext): Promise<Director>;
}

/** Where the suite's hosts live: every lab has the directors, a client, and what the mode adds. */
export interface Topology {
  /** The directors, preferred master first. */
  directors: readonly string[];
  /** Host name → address, for every host of the lab. */
  addrs: Readonly<Record<string, string>>;
  vip: string;
}

/** What a mode's config generator gets. */
export interface ConfigContext {
  topo: Topology;
  params: SuiteParams;
  /** The run's directory: a generator may put files its config names there (a cluster key, mode 0600). */
  dir: string;
}

/** A way to run the directors: plain VRRP, with the guard, with ping targets, … */
export interface Mode {
  name: string;
  /** One line for the table's legend. */
  describe: string;
  /** The implementations this mode has configs for. */
  implementations: readonly string[];
  /** Hosts the mode needs besides the directors and the client (name → address), e.g. a ping target. */
  extraHosts: Readonly<Record<string, string>>;
  /** The directors, preferred master first (two unless the mode says otherwise). */
  directors?: readonly string[];
  /** The config of one director. */
  config(impl: string, host: string, ctx: ConfigContext): DirectorConfig;
  /** Why this mode cannot run with `impl` on this build (e.g. `tandem check` rejects its keys), or null. */
  unavailable(impl: string, ctx: Omit<ConfigContext, 'dir'>): string | null;
  /** Starts what the extra hosts run, before the directors start. */
  setup?(lab: Lab, dir: string): Promise<void>;
  /** Why a nemesis does not apply to this mode (e.g. a VRRP-only drop where no VRRP runs), or null. */
  declines?(nemesis: string): string | null;
}

/** Sets a director's wall clock offset (seconds; libfaketime reads it from a file). */
export type SetClock = (host: string, offsetSeconds: number) => void;

/** What a nemesis acts on. */
export interface NemesisContext {
  lab: Lab;
  topo: Topology;
  params: SuiteParams;
  /** The preferred master, which holds the VIP when the nemesis starts. */
  master: Director;
  /** The other directors. */
  backups: readonly Director[];
  /** The backups' Master_Down_Interval. */
  masterDownMs: number;
  /** A file for nft rules and such in the run's directory. */
  file(name: string): string;
  /** Only for nemeses with `needsClock`: moves a director's wall clock. */
  setClock: SetClock;
  /** Only for nemeses with `needsClock`: the environment the director's processes run with (libfaketime). */
  clockEnv(host: string): Record<string, string>;
}

/** A fault applied inside the lab and healed. */
export interface Nemesis {
  name: string;
  /** One line for the table's legend. */
  describe: string;
  /**
   * Whether the master stays healthy (serving, alive, reachable by the client) throughout: then every takeover
   * is a false failover. Otherwise `run` reports the windows when it was not.
   */
  masterHealthy: boolean;
  /** The directors must run under libfaketime so that their wall clock can be moved. */
  needsClock?: boolean;
  /** How long `run` will take, about (the client probes for this plus the settle time). */
  durationMs(p: SuiteParams, masterDownMs: number): number;
  /** Why it does not apply to this mode and implementation, or null. */
  unavailable?(mode: Mode, impl: string): string | null;
  /**
   * Applies the fault, lets it last, heals it (also when something throws) and resolves with the windows during
   * which the master was not healthy (an open-ended window ends at `Infinity`).
   */
  run(ctx: NemesisContext): Promise<FaultWindow[]>;
}
