/**
 * `tandem config apply|status|history|rollback|diff` and `tandem check --peer|--peer-live`: the cluster's one config,
 * through the local daemon's control socket (the daemon talks to its peers over mutual TLS).
 */
import { readFileSync } from 'node:fs';
import { callDaemon, controlPath } from '../api/client.ts';
import type { PeerComparison } from '../cluster/compare.ts';
import type { ConfigStatusReport } from '../cluster/peer-node.ts';
import { type Diagnostic, formatDiagnostic } from '../config/diagnostics.ts';
import type { ConfigFs } from '../config/load.ts';
import { printComparison, runPeerCheck } from './check-peer.ts';
import type { CliIo } from './io.ts';

/** Exit codes of `tandem config`. */
export const CONFIG_EXIT = { OK: 0, REFUSED: 1, DIVERGENT: 1, USAGE: 2, NO_DAEMON: 3, UNREACHABLE: 4 } as const;

async function call(io: CliIo, control: string | undefined, method: 'GET' | 'POST', path: string, body?: unknown) {
  const r = await callDaemon(controlPath(control), method, path, body, 60_000);
  if (!r.ok) {
    io.err(`tandem config: TND_CTL_NO_DAEMON ${r.message}`);
    return undefined;
  }
  return r;
}

/** `tandem config status`. */
export async function runConfigStatus(opts: { control?: string; json?: boolean }, io: CliIo): Promise<number> {
  const r = await call(io, opts.control, 'GET', '/v1/config/status');
  if (!r) return CONFIG_EXIT.NO_DAEMON;
  const s = r.body as ConfigStatusReport;
  if (opts.json) io.out(JSON.stringify(s));
  else {
    const rows = s.nodes.map((n) => [
      `${n.node}${n.self ? '*' : ''}`,
      n.url,
      n.reachable ? String(n.version ?? '-') : '-',
      n.reachable ? (n.hash ?? '-') : `unreachable: ${n.error ?? ''}`,
    ]);
    const head = ['NODE', 'PEER URL', 'VERSION', 'HASH'];
    const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    for (const row of [head, ...rows])
      io.out(row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(w[i]!))).join('  '));
    const reachable = s.nodes.filter((n) => n.reachable);
    if (s.divergent)
      io.out(
        `DIVERGED: the nodes run ${new Set(reachable.map((n) => n.hash)).size} different configs (TND_CLUSTER_DIVERGED)`,
      );
    else
      io.out(
        `in sync: ${reachable.length} node${reachable.length === 1 ? '' : 's'} run version ${reachable[0]?.version ?? '-'}${s.unreachable ? `; ${s.unreachable} unreachable` : ''}`,
      );
  }
  if (s.divergent) return CONFIG_EXIT.DIVERGENT;
  return s.unreachable ? CONFIG_EXIT.UNREACHABLE : CONFIG_EXIT.OK;
}

/** Prints an apply's (or rollback's) reply. */
function printApply(status: number, body: unknown, io: CliIo): number {
  const b = body as {
    ok: boolean;
    code?: string;
    message?: string;
    node?: string;
    version?: { version: number; hash: string };
    nodes?: { node: string; outcome: string; message?: string }[];
    refusals?: { node: string; reason: string; diagnostics?: Diagnostic[]; message?: string; current?: number }[];
  };
  if (status === 200 && b.ok && b.version) {
    io.out(`applied version ${b.version.version} (${b.version.hash})`);
    for (const n of b.nodes ?? []) io.out(`  ${n.node}: ${n.outcome}${n.message ? ` (${n.message})` : ''}`);
    return (b.nodes ?? []).some((n) => n.outcome === 'failed') ? CONFIG_EXIT.REFUSED : CONFIG_EXIT.OK;
  }
  io.err(`tandem config: ${b.code ?? 'error'} ${b.message ?? status}`);
  for (const r of b.refusals ?? []) {
    if (r.reason === 'invalid') for (const d of r.diagnostics ?? []) io.out(`${r.node}: ${formatDiagnostic(d)}`);
    else if (r.reason === 'conflict') io.out(`${r.node}: at version ${r.current}`);
    else io.out(`${r.node}: ${r.message ?? r.reason}`);
  }
  return CONFIG_EXIT.REFUSED;
}

/** `tandem config apply FILE`. */
export async function runConfigApply(
  file: string,
  opts: { control?: string; expect?: number; requireAll?: boolean; format?: string },
  io: CliIo,
): Promise<number> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    io.err(`tandem config apply: TND_CFG_IO cannot read ${file}: ${(e as Error).message}`);
    return CONFIG_EXIT.REFUSED;
  }
  const r = await call(io, opts.control, 'POST', '/v1/config/apply', {
    text,
    file,
    ...(opts.format ? { format: opts.format } : {}),
    ...(opts.expect !== undefined ? { expected: opts.expect } : {}),
    requireAll: !!opts.requireAll,
  });
  if (!r) return CONFIG_EXIT.NO_DAEMON;
  return printApply(r.status, r.body, io);
}

/** `tandem config rollback VERSION`. */
export async function runConfigRollback(version: number, opts: { control?: string }, io: CliIo): Promise<number> {
  const r = await call(io, opts.control, 'POST', '/v1/config/rollback', { version });
  if (!r) return CONFIG_EXIT.NO_DAEMON;
  if (r.status === 404) {
    const b = r.body as { code: string; message: string };
    io.err(`tandem config rollback: ${b.code} ${b.message}`);
    return CONFIG_EXIT.REFUSED;
  }
  return printApply(r.status, r.body, io);
}

/** `tandem config history`. */
export async function runConfigHistory(
  opts: { control?: string; limit: number; json?: boolean },
  io: CliIo,
): Promise<number> {
  const r = await call(io, opts.control, 'GET', `/v1/config/history?limit=${opts.limit}`);
  if (!r) return CONFIG_EXIT.NO_DAEMON;
  if (r.status !== 200) {
    io.err(`tandem config history: ${JSON.stringify(r.body)}`);
    return CONFIG_EXIT.REFUSED;
  }
  const list = r.body as { version: number; hash: string; format: string; appliedAt: string; appliedBy: string }[];
  if (opts.json) for (const v of list) io.out(JSON.stringify(v));
  else {
    io.out('VERSION  APPLIED AT                APPLIED BY            FORMAT      HASH');
    for (const v of list)
      io.out(
        `${String(v.version).padEnd(7)}  ${v.appliedAt.padEnd(24)}  ${v.appliedBy.padEnd(20)}  ${v.format.padEnd(10)}  ${v.hash}`,
      );
    if (!list.length) io.out('(no versions yet: apply one with tandem config apply FILE)');
  }
  return CONFIG_EXIT.OK;
}

/** `tandem config diff FILE`: the file against the running config. */
export async function runConfigDiff(file: string, opts: { control?: string }, io: CliIo): Promise<number> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    io.err(`tandem config diff: TND_CFG_IO cannot read ${file}: ${(e as Error).message}`);
    return CONFIG_EXIT.REFUSED;
  }
  const r = await call(io, opts.control, 'POST', '/v1/config/diff', { text, file });
  if (!r) return CONFIG_EXIT.NO_DAEMON;
  const b = r.body as { unified: string; summary?: Record<string, unknown> };
  io.out(b.unified.replace(/\n$/, '') || '(no change)');
  if (b.summary)
    for (const [kind, d] of Object.entries(b.summary)) {
      if (typeof d !== 'object' || d === null) continue;
      const x = d as { changed: string[]; added: string[]; removed: string[] };
      if (x.changed.length + x.added.length + x.removed.length === 0) continue;
      io.out(
        `${kind}: changed ${x.changed.join(' ') || '-'}, added ${x.added.join(' ') || '-'}, removed ${x.removed.join(' ') || '-'}`,
      );
    }
  return CONFIG_EXIT.OK;
}

/** `tandem check A --peer B`, or `tandem check --peer-live`. */
export async function runPeerCheckCommand(
  files: string[],
  opts: {
    peer?: string;
    peerLive: boolean;
    control?: string;
    json: boolean;
    configId: string;
    format?: 'yaml' | 'keepalived' | 'heartbeat' | 'piranha';
  },
  fs: ConfigFs,
  io: CliIo,
): Promise<number> {
  if (opts.peer) {
    if (files.length !== 1) {
      io.err('tandem check --peer: give exactly one file of this director');
      return CONFIG_EXIT.USAGE;
    }
    return runPeerCheck(
      files[0]!,
      opts.peer,
      { ...(opts.format ? { format: opts.format } : {}), json: opts.json, configId: opts.configId },
      fs,
      io,
    );
  }
  const r = await call(io, opts.control, 'GET', '/v1/config/compare');
  if (!r) return CONFIG_EXIT.NO_DAEMON;
  const list = r.body as { node: string; url: string; comparison?: PeerComparison; error?: string }[];
  if (!list.length) {
    io.err('tandem check --peer-live: TND_CLUSTER_OFF this node has no peers (cluster.peers)');
    return CONFIG_EXIT.USAGE;
  }
  let code: number = CONFIG_EXIT.OK;
  for (const p of list) {
    if (!p.comparison) {
      io.err(`${p.node} (${p.url}): TND_CLUSTER_PEER ${p.error}`);
      code = Math.max(code, CONFIG_EXIT.UNREACHABLE);
      continue;
    }
    code = Math.max(code, printComparison('this node', `${p.node}`, p.comparison, opts.json, io));
  }
  return code;
}
