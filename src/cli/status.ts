/** `tandem status`, `standby`, `takeover`, `reload`: ask the running daemon over its control socket. */

import { callDaemon, controlTarget } from '../api/client.ts';
import type { DaemonStatus, GroupStatus, InstanceStatus } from '../api/contract.ts';
import type { CliIo } from './io.ts';
import { formatLbTable } from './lb.ts';

/** Prints the daemon's status; returns the exit code (0 ok, 3 no daemon). */
export async function runStatus(
  opts: { control?: string; node?: string; tokenFile?: string; cacert?: string; json?: boolean },
  io: CliIo,
  nowMs = Date.now(),
): Promise<number> {
  const r = await callDaemon(controlTarget(opts), 'GET', '/v1/status');
  if (!r.ok) {
    io.err(`tandem status: TND_CTL_NO_DAEMON ${r.message}`);
    return 3;
  }
  if (r.status !== 200) {
    const b = r.body as { code?: string; message?: string };
    io.err(`tandem status: ${b.code} ${b.message}`);
    return 1;
  }
  if (opts.json) {
    io.out(JSON.stringify(r.body, null, 2));
    return 0;
  }
  for (const line of formatStatus(r.body as DaemonStatus, nowMs)) io.out(line);
  return 0;
}

/** The status as text: one block per instance, the way an operator reads keepalived's data dump. */
export function formatStatus(s: DaemonStatus, nowMs: number): string[] {
  const out = [`node ${s.node}  config ${s.config}  up since ${s.since}`, ''];
  if (s.instances.length === 0) out.push('no VRRP instances');
  for (const i of s.instances) out.push(...formatInstance(i, nowMs), '');
  if (s.lb) out.push(...formatLbTable(s.lb), '');
  for (const g of s.groups ?? []) out.push(...formatGroup(g), '');
  if (s.peerChannel) {
    const rejected = Object.entries(s.peerChannel.rejected).map(([r, n]) => `${r} ${n}`);
    out.push(
      `peer channel: UDP ${s.peerChannel.port}, answered ${s.peerChannel.answered}; dropped: ${rejected.join(', ') || 'none'}`,
    );
  }
  for (const f of s.interfaces ?? []) {
    const drops = Object.entries(f.drops)
      .filter(([, n]) => (n ?? 0) > 0)
      .map(([reason, n]) => `${reason} ${n}`);
    out.push(
      `${f.ifname} IPv${f.family}: received ${f.received}; not for an instance here: ${drops.join(', ') || 'none'}`,
    );
  }
  return out;
}

/** A resource group: phase and ownership, then each resource with its last result and failures. */
export function formatGroup(g: GroupStatus): string[] {
  const flags = [
    g.owned ? 'owned here' : 'not owned here',
    g.maintenance ? 'MAINTENANCE (not managed)' : '',
    g.banned ? `gave up: ${g.banned}` : '',
    g.busy ? `busy: ${g.busy.action} ${g.busy.resource}` : '',
  ].filter(Boolean);
  const lines = [`group ${g.name}  ${g.phase}  ${flags.join(', ')}`];
  g.resources.forEach((r, i) => {
    const last = r.last ? `last ${r.last.action} ${r.last.code} in ${r.last.durationMs} ms` : 'not run yet';
    lines.push(`  ${i + 1}/${g.resources.length} ${r.id} (${r.agent}): ${r.status}; ${last}; failures ${r.failCount}`);
  });
  return lines;
}

function formatInstance(i: InstanceStatus, nowMs: number): string[] {
  const p = i.priority;
  const why = p.trackers
    .filter((t) => t.effect !== 'none')
    .map(
      (t) => `${t.id} ${t.up ? 'up' : 'down'}: ${t.effect === 'fault' ? 'FAULT' : `${t.effect} ${Math.abs(t.weight)}`}`,
    );
  const prio =
    `priority ${p.effective}` +
    (p.override !== null
      ? ` (set to ${p.override} at runtime; configured ${p.configured})`
      : p.effective !== p.configured
        ? ` (configured ${p.configured})`
        : '') +
    (why.length ? ` — ${why.join(', ')}` : '');
  const master =
    i.master === null ? 'unknown' : i.master.self ? 'this node' : `${i.master.addr} (priority ${i.master.priority})`;
  const last = i.lastTransition
    ? `${i.lastTransition.from} -> ${i.lastTransition.to} (${i.lastTransition.cause}) ${agoText(nowMs - Date.parse(i.lastTransition.at))} ago, at ${i.lastTransition.at}`
    : 'none';
  const drops = Object.entries(i.counters.drops)
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => `${reason} ${n}`);
  return [
    `${i.name}  ${i.state}  VRRPv${i.version} VRID ${i.vrid} on ${i.interface}${i.syncGroup ? `  sync group ${i.syncGroup}` : ''}`,
    `  ${prio}`,
    `  master: ${master}   source: ${i.source || 'none'}`,
    `  vips: ${i.vips.join(', ') || 'none'}`,
    `  last transition: ${last}`,
    `  adverts: sent ${i.counters.advertsSent}, received ${i.counters.advertsReceived}; dropped: ${drops.length ? drops.join(', ') : 'none'}`,
    ...splitBrainLines(i, nowMs),
  ];
}

/** The guard and the heartbeat paths of an instance (docs/split-brain.md). */
function splitBrainLines(i: InstanceStatus, nowMs: number): string[] {
  const out: string[] = [];
  const g = i.guard;
  if (g) {
    const since = g.since
      ? ` for ${agoText(nowMs - Date.parse(g.since))}, ${g.rounds} round${g.rounds === 1 ? '' : 's'}`
      : '';
    out.push(`  guard: ${g.message}${g.state === 'idle' ? '' : ` (${g.state}${since})`}`);
  }
  if (i.paths)
    out.push(
      `  paths: ${i.paths.map((p) => `${p.interface} heard ${p.advertsReceived} sent ${p.advertsSent}`).join('; ')}`,
    );
  return out;
}

function agoText(ms: number): string {
  if (ms < 0) return '0s';
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m${Math.floor((ms % 60_000) / 1000)}s`;
  return `${Math.floor(ms / 3_600_000)}h${Math.floor((ms % 3_600_000) / 60_000)}m`;
}

/** `tandem standby|takeover [INSTANCE…|--all] [--clear]`. */
export async function runOrder(
  order: 'standby' | 'takeover',
  instances: string[],
  opts: {
    all?: boolean;
    local?: boolean;
    foreign?: boolean;
    clear?: boolean;
    control?: string;
    node?: string;
    tokenFile?: string;
    cacert?: string;
  },
  io: CliIo,
): Promise<number> {
  const selector = opts.all ? 'all' : opts.local ? 'local' : opts.foreign ? 'foreign' : null;
  if (!selector && instances.length === 0) {
    io.err(`tandem ${order}: TND_CLI_USAGE name one or more instances, or --all, --local or --foreign`);
    return 2;
  }
  const r = await callDaemon(controlTarget(opts), 'POST', `/v1/${order}`, {
    instances: selector ?? instances,
    clear: !!opts.clear,
  });
  if (!r.ok) {
    io.err(`tandem ${order}: TND_CTL_NO_DAEMON ${r.message}`);
    return 3;
  }
  const body = r.body as { instances?: string[]; code?: string; message?: string };
  if (r.status !== 200) {
    io.err(`tandem ${order}: ${body.code} ${body.message}`);
    return 1;
  }
  const what =
    order === 'standby'
      ? opts.clear
        ? 'standby cleared for'
        : 'standby: handing over'
      : opts.clear
        ? 'takeover cleared for'
        : 'taking over';
  io.out(`${what} ${body.instances?.join(', ') || 'no instance'}`);
  return 0;
}

/** `tandem reload`: asks the daemon to reread its config (like SIGHUP, but with the answer). */
export async function runReload(
  opts: { control?: string; node?: string; tokenFile?: string; cacert?: string },
  io: CliIo,
): Promise<number> {
  const r = await callDaemon(controlTarget(opts), 'POST', '/v1/reload');
  if (!r.ok) {
    io.err(`tandem reload: TND_CTL_NO_DAEMON ${r.message}`);
    return 3;
  }
  const body = r.body as {
    code?: string;
    message?: string;
    kept?: string[];
    restarted?: string[];
    started?: string[];
    stopped?: string[];
  };
  if (r.status !== 200) {
    io.err(`tandem reload: ${body.code} ${body.message}`);
    return 1;
  }
  io.out(
    `reloaded: kept ${body.kept?.join(' ') || '-'}; restarted ${body.restarted?.join(' ') || '-'}; started ${body.started?.join(' ') || '-'}; stopped ${body.stopped?.join(' ') || '-'}`,
  );
  return 0;
}
