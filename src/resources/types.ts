/**
 * The resource agent contract: what every kind of resource (vip, service, lsb, ocf, script, lb, fs) offers the group
 * runner. Results are a closed set named after the OCF resource-agent API 1.1 exit codes, plus the two outcomes a
 * caller adds (`timeout`, `cancelled`); they flow unchanged to logs, events and the API (Rule 5).
 * @see https://github.com/ClusterLabs/OCF-spec/blob/main/ra/1.1/resource-agent-api.md ("Exit status codes")
 */
import type { Ms } from '../core/time.ts';

/**
 * How an agent call ended.
 * `ok` 0 · `generic-error` 1 · `invalid-args` 2 · `unimplemented` 3 · `insufficient-privileges` 4 ·
 * `not-installed` 5 · `not-configured` 6 · `not-running` 7 (monitor only: cleanly stopped) ·
 * `timeout` the call outlived its timeout and was killed · `cancelled` the runner aborted it (a monitor cut short by
 * a stop, or shutdown).
 */
export type AgentResultCode =
  | 'ok'
  | 'generic-error'
  | 'invalid-args'
  | 'unimplemented'
  | 'insufficient-privileges'
  | 'not-installed'
  | 'not-configured'
  | 'not-running'
  | 'timeout'
  | 'cancelled';

/** Every AgentResultCode, in a fixed order (for counters and tests). */
export const AGENT_RESULT_CODES: readonly AgentResultCode[] = [
  'ok',
  'generic-error',
  'invalid-args',
  'unimplemented',
  'insufficient-privileges',
  'not-installed',
  'not-configured',
  'not-running',
  'timeout',
  'cancelled',
];

/** One row of the OCF exit code table. */
export interface OcfExitCode {
  exit: number;
  code: AgentResultCode;
  /** The OCF constant the shell functions define (`ocf-returncodes`). */
  name: string;
  meaning: string;
}

/**
 * The OCF 1.1 exit codes 0..7 with their meanings, as data. 8 and 9 (promoted roles) and 190/191 (degraded) belong
 * to later drafts and promotable resources, which tandem does not run: they map to `generic-error`, as does every
 * code outside this table.
 */
export const OCF_EXIT_CODES: readonly OcfExitCode[] = [
  { exit: 0, code: 'ok', name: 'OCF_SUCCESS', meaning: 'the action succeeded completely' },
  { exit: 1, code: 'generic-error', name: 'OCF_ERR_GENERIC', meaning: 'generic error; monitor: crashed or hung' },
  { exit: 2, code: 'invalid-args', name: 'OCF_ERR_ARGS', meaning: 'invalid or excess arguments or parameters' },
  { exit: 3, code: 'unimplemented', name: 'OCF_ERR_UNIMPLEMENTED', meaning: 'the action is not implemented' },
  { exit: 4, code: 'insufficient-privileges', name: 'OCF_ERR_PERM', meaning: 'the user lacks the privileges' },
  { exit: 5, code: 'not-installed', name: 'OCF_ERR_INSTALLED', meaning: 'the program is not installed' },
  { exit: 6, code: 'not-configured', name: 'OCF_ERR_CONFIGURED', meaning: 'the program is not configured' },
  {
    exit: 7,
    code: 'not-running',
    name: 'OCF_NOT_RUNNING',
    meaning: 'the resource is cleanly stopped (monitor only; a successful stop returns 0)',
  },
];

/**
 * The result code of an OCF exit status (also LSB's codes for actions other than `status`, which are the same 0..7).
 * @example ocfResultOf(7) // 'not-running'
 */
export function ocfResultOf(exit: number): AgentResultCode {
  return OCF_EXIT_CODES.find((r) => r.exit === exit)?.code ?? 'generic-error';
}

/**
 * Results that say the resource cannot run on this node whatever is retried (Pacemaker's "hard" errors): a start or
 * monitor returning one of them moves the group away at once instead of restarting in place.
 */
export const HARD_ERRORS: ReadonlySet<AgentResultCode> = new Set<AgentResultCode>([
  'invalid-args',
  'unimplemented',
  'insufficient-privileges',
  'not-installed',
  'not-configured',
]);

/** What one agent call returned: the code, and what the agent printed, for the log. */
export interface AgentResult {
  code: AgentResultCode;
  /** The process exit status, when a process ran and exited. */
  exitCode?: number | null;
  /** One line saying why, e.g. an OCF `ocf-exit-reason:` or an adapter's error message. */
  detail?: string;
  /** Captured stdout and stderr, bounded (see {@link MAX_OUTPUT_CHARS}), empty when nothing ran. */
  output?: string;
  /** How long the call took, by the agent's own measure; the runner measures with its clock too. */
  durationMs?: Ms;
}

/** How much captured output one result keeps for the log. */
export const MAX_OUTPUT_CHARS = 4_096;

/** The actions the runner calls. `probe` is a monitor run to learn the state, not to check a running resource. */
export type AgentAction = 'start' | 'stop' | 'monitor';

/**
 * One resource of a group, whatever its kind. Every call is idempotent (start on a running resource and stop on a
 * stopped one succeed), honours `signal`, and resolves (never rejects) within about `timeoutMs`; the runner also
 * enforces the timeout itself.
 * @example const r = await agent.start(signal, 20_000); if (r.code !== 'ok') …
 */
export interface ResourceAgent {
  /** For logs: the agent and its main parameter, e.g. `ocf:heartbeat:Dummy`, `vip 198.18.0.100/24 on eth0`. */
  describe(): string;
  /** Whether `monitor` can tell running from stopped; false = never monitored, probes assume stopped. */
  readonly canMonitor: boolean;
  start(signal: AbortSignal, timeoutMs: Ms): Promise<AgentResult>;
  stop(signal: AbortSignal, timeoutMs: Ms): Promise<AgentResult>;
  /**
   * `ok` running · `not-running` cleanly stopped · anything else failed. `probe`: the call only learns the state (no
   * start happened here yet, or maintenance just ended), as Pacemaker's interval-0 monitor.
   */
  monitor(signal: AbortSignal, timeoutMs: Ms, probe?: boolean): Promise<AgentResult>;
  /** Checks the parameters without touching the resource (OCF `validate-all`), where the kind can. */
  validate?(signal: AbortSignal, timeoutMs: Ms): Promise<AgentResult>;
}

/** Keeps the last `max` characters of output (the end says why something failed), marking the cut. */
export function boundOutput(text: string, max = MAX_OUTPUT_CHARS): string {
  const t = text.trim();
  return t.length <= max ? t : `…${t.slice(t.length - max + 1)}`;
}
