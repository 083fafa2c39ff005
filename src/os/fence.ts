/**
 * Fencing (STONITH) before an unconfirmed takeover (docs/split-brain.md §4): runs a fence agent with the fence-agents
 * stdin protocol — `key=value` lines (`action=off`, `plug=…`, `ipaddr=…`), exit status 0 = done — within a
 * deadline, killing its process group when it overruns. Debian's agents (package fence-agents: fence_ipmilan,
 * fence_virsh, …) live in /usr/sbin; any script that reads the same lines works. Before use, an agent's
 * `-o metadata` (XML `<parameter name=… required=…>`) is read to check the configured parameters.
 */
import { type CommandRunner, runCommand } from './process.ts';

/** Where Debian's fence-agents installs its agents. */
export const FENCE_AGENT_DIR = '/usr/sbin';

/** A fence run. */
export interface FenceRequest {
  /** An agent name (looked up in /usr/sbin) or a path. */
  agent: string;
  action: 'off' | 'reboot';
  /** Parameters, already resolved for the node being fenced. */
  params: Readonly<Record<string, string>>;
  timeoutMs: number;
  signal: AbortSignal;
}

/** How a fence run ended. */
export interface FenceOutcome {
  outcome: 'ok' | 'failed' | 'timeout' | 'error';
  code: number | null;
  durationMs: number;
  /** The agent's last words (stderr, else stdout), or why it did not run. Never the parameters (passwords). */
  detail: string;
}

/** One parameter of an agent's metadata. */
export interface FenceParam {
  name: string;
  required: boolean;
  deprecated: boolean;
  /** The older name this one replaces (`ip` obsoletes `ipaddr`). */
  obsoletes?: string;
}

/** The agent's executable: a path as given, a bare name under /usr/sbin. */
export function fenceAgentPath(agent: string): string {
  return agent.includes('/') ? agent : `${FENCE_AGENT_DIR}/${agent}`;
}

/**
 * The agent's stdin: `action=…`, then each parameter, one per line. A value with a line break could smuggle in
 * another option, so it is refused (undefined).
 */
export function fenceStdin(action: string, params: Readonly<Record<string, string>>): string | undefined {
  const lines = [`action=${action}`];
  for (const [k, v] of Object.entries(params)) {
    if (/[\r\n]/.test(k) || /[\r\n]/.test(v)) return undefined;
    lines.push(`${k}=${v}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The last line worth showing: Python's deprecation noise of Debian's agents is not what went wrong. */
const lastLine = (text: string): string =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/DeprecationWarning|^from pipes import/.test(l))
    .at(-1) ?? '';

/**
 * Runs a fence agent. Never rejects.
 * @example await runFence({ agent: 'fence_virsh', action: 'off', params: { ip: 'host', plug: 'd1' }, timeoutMs: 30_000, signal })
 */
export async function runFence(req: FenceRequest, run: CommandRunner = runCommand): Promise<FenceOutcome> {
  const input = fenceStdin(req.action, req.params);
  if (input === undefined)
    return { outcome: 'error', code: null, durationMs: 0, detail: 'a fence parameter contains a line break' };
  const r = await run([fenceAgentPath(req.agent)], {
    timeoutMs: req.timeoutMs,
    signal: req.signal,
    input,
    maxOutputBytes: 8192,
    killGraceMs: 1_000,
  });
  const said = lastLine(r.stderr) || lastLine(r.stdout);
  switch (r.outcome) {
    case 'ok':
      return { outcome: 'ok', code: 0, durationMs: r.durationMs, detail: said || 'exit 0' };
    case 'failed':
      return {
        outcome: 'failed',
        code: r.code,
        durationMs: r.durationMs,
        detail: `${r.code === null ? `killed by ${r.signal}` : `exit ${r.code}`}${said ? `: ${said}` : ''}`,
      };
    case 'timeout':
      return {
        outcome: 'timeout',
        code: null,
        durationMs: r.durationMs,
        detail: `no result within ${req.timeoutMs} ms`,
      };
    default:
      return {
        outcome: 'error',
        code: null,
        durationMs: r.durationMs,
        detail: r.outcome === 'aborted' ? 'aborted' : `cannot run ${fenceAgentPath(req.agent)}: ${r.error ?? ''}`,
      };
  }
}

const attr = (tag: string, name: string): string | undefined => new RegExp(`\\b${name}="([^"]*)"`).exec(tag)?.[1];

/** The `<parameter>` list of an agent's metadata XML; undefined when the text is no fence-agents metadata. */
export function parseFenceMetadata(xml: string): FenceParam[] | undefined {
  if (!/<resource-agent\b/.test(xml) || !/<parameters>/.test(xml)) return undefined;
  const out: FenceParam[] = [];
  for (const m of xml.matchAll(/<parameter\b[^>]*>/g)) {
    const name = attr(m[0], 'name');
    if (!name) continue;
    const obsoletes = attr(m[0], 'obsoletes');
    out.push({
      name,
      required: attr(m[0], 'required') === '1',
      deprecated: attr(m[0], 'deprecated') === '1',
      ...(obsoletes ? { obsoletes } : {}),
    });
  }
  return out;
}

/**
 * Checks configured parameter names against an agent's metadata: every name must be one the agent knows, and every
 * required one (but `action`, which tandem sets) must be given under its name or the older name it obsoletes.
 * Returns the problems, one sentence each.
 */
export function checkFenceParams(agent: string, meta: readonly FenceParam[], configured: readonly string[]): string[] {
  const known = new Set(meta.map((p) => p.name));
  const given = new Set(configured);
  const problems: string[] = [];
  for (const name of configured)
    if (!known.has(name))
      problems.push(
        `${agent} has no parameter ${name} (it knows ${[...known]
          .filter((n) => !n.startsWith('help') && n !== 'version')
          .sort()
          .join(', ')})`,
      );
  for (const p of meta) {
    if (!p.required || p.deprecated || p.name === 'action') continue;
    const aliases = [p.name, ...(p.obsoletes ? [p.obsoletes] : [])];
    if (!aliases.some((a) => given.has(a)))
      problems.push(`${agent} needs the parameter ${aliases.join(' (or ')}${aliases.length > 1 ? ')' : ''}`);
  }
  return problems;
}

/**
 * Reads an agent's metadata (`AGENT -o metadata`). An agent that has none (a plain script) is `{ ok: false }` with
 * the reason, which callers take as "run it unchecked".
 */
export async function fenceMetadata(
  agent: string,
  signal: AbortSignal,
  run: CommandRunner = runCommand,
): Promise<{ ok: true; params: FenceParam[] } | { ok: false; reason: string }> {
  const r = await run([fenceAgentPath(agent), '-o', 'metadata'], {
    timeoutMs: 10_000,
    signal,
    maxOutputBytes: 1 << 20,
  });
  if (r.outcome === 'spawn-error')
    return { ok: false, reason: `cannot run ${fenceAgentPath(agent)}: ${r.error ?? ''}` };
  const params = r.outcome === 'ok' ? parseFenceMetadata(r.stdout) : undefined;
  if (!params) return { ok: false, reason: `${agent} -o metadata gave no fence-agents metadata (${r.outcome})` };
  return { ok: true, params };
}
