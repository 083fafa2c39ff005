/**
 * `tandem nagios`: the checks, in the Monitoring Plugins format, as pure functions of the nodes' status DTOs (the
 * edges that fetch them are in nagios.ts). One line `STATUS - text | perfdata`, exit 0 OK, 1 WARNING, 2 CRITICAL,
 * 3 UNKNOWN; thresholds in the plugin range syntax.
 * @see https://www.monitoring-plugins.org/doc/guidelines.html (Plugin Output, Threshold and Ranges, Performance data)
 */
import type { DaemonStatus, LbServiceStatus } from '../api/contract.ts';

/** The plugin's exit status. */
export const NAGIOS = { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 } as const;
export type NagiosCode = (typeof NAGIOS)[keyof typeof NAGIOS];
const NAMES = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'] as const;

/** One performance datum: `'label'=value[uom];warn;crit;min;max`. */
export interface Perf {
  label: string;
  value: number;
  uom?: '' | 's' | 'B' | 'c' | '%';
  warn?: string;
  crit?: string;
  min?: number;
  max?: number;
}

/** A check's result. */
export interface CheckResult {
  code: NagiosCode;
  text: string;
  perf: Perf[];
}

const result = (code: NagiosCode, text: string, perf: Perf[] = []): CheckResult => ({ code, text, perf });

/** The one output line. `|` in the text would start perfdata, and a newline would start long output: both replaced. */
export function formatResult(r: CheckResult): string {
  const text = r.text.replace(/[\r\n]+/g, ' ').replace(/\|/g, '/');
  const perf = r.perf.map(formatPerf).join(' ');
  return `${NAMES[r.code]} - ${text}${perf ? ` | ${perf}` : ''}`;
}

function formatPerf(p: Perf): string {
  const label = /^[A-Za-z0-9_.-]+$/.test(p.label) ? p.label : `'${p.label.replace(/'/g, "''")}'`;
  const tail = [p.warn ?? '', p.crit ?? '', p.min ?? '', p.max ?? ''].join(';').replace(/;+$/, '');
  return `${label}=${p.value}${p.uom ?? ''}${tail ? `;${tail}` : ''}`;
}

/** A threshold range: alert when the value is outside [start, end], or inside with `@`. */
export interface Range {
  start: number;
  end: number;
  inside: boolean;
  /** As given, for perfdata. */
  text: string;
}

const NUM = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

/**
 * Parses the plugin range syntax: `10` (0..10), `10:` (10..∞), `~:10` (−∞..10), `10:20`, `@10:20` (alert inside).
 * Returns the sentence that says what is wrong otherwise.
 */
export function parseRange(text: string): Range | { error: string } {
  const inside = text.startsWith('@');
  const body = inside ? text.slice(1) : text;
  const bad = { error: `threshold "${text}" is not a range (10, 10:, ~:10, 10:20, @10:20)` };
  const colon = body.indexOf(':');
  let start = 0;
  let end = Number.POSITIVE_INFINITY;
  if (colon < 0) {
    if (!NUM.test(body)) return bad;
    end = Number(body);
  } else {
    const a = body.slice(0, colon);
    const b = body.slice(colon + 1);
    if (a === '~') start = Number.NEGATIVE_INFINITY;
    else if (a !== '') {
      if (!NUM.test(a)) return bad;
      start = Number(a);
    }
    if (b !== '') {
      if (!NUM.test(b)) return bad;
      end = Number(b);
    }
  }
  if (start > end) return { error: `threshold "${text}": start ${start} is above end ${end}` };
  return { start, end, inside, text };
}

/** Whether `v` raises the alert of `r`. */
export function alerts(r: Range, v: number): boolean {
  const within = v >= r.start && v <= r.end;
  return r.inside ? within : !within;
}

/**
 * A threshold of a "at least N" check: a bare number `N` means at least N (`N:`), since "at most N healthy servers"
 * is never what is meant; every other form is the standard range syntax.
 */
export function parseMinimum(text: string): Range | { error: string } {
  return /^\d+$/.test(text) ? (parseRange(`${text}:`) as Range) : parseRange(text);
}

/** A node's status as a check receives it: the status, or why it could not be had. */
export type NodeReply = { node: string; ok: true; status: DaemonStatus } | { node: string; ok: false; reason: string };

const unreachable = (replies: readonly NodeReply[]): CheckResult | null => {
  const bad = replies.filter((r) => !r.ok) as Extract<NodeReply, { ok: false }>[];
  if (!bad.length) return null;
  return result(NAGIOS.UNKNOWN, bad.map((r) => `${r.node}: ${r.reason}`).join('; '));
};

/**
 * `instance NAME [--expect master|backup]`: OK in the expected state (MASTER or BACKUP when none is expected);
 * WARNING in the other of the two (a failover happened: the cluster serves, someone should look); CRITICAL in FAULT
 * or INIT (this node cannot take over).
 */
export function checkInstance(st: DaemonStatus, name: string, expect?: 'master' | 'backup'): CheckResult {
  const i = st.instances.find((x) => x.name === name);
  if (!i)
    return result(
      NAGIOS.UNKNOWN,
      `node ${st.node} runs no VRRP instance ${name} (it runs: ${st.instances.map((x) => x.name).join(', ') || 'none'})`,
    );
  const perf: Perf[] = [{ label: 'priority', value: i.priority.effective, min: 0, max: 255 }];
  const why = i.lastTransition ? `; since ${i.lastTransition.at} (${i.lastTransition.cause})` : '';
  const master =
    i.master && !i.master.self
      ? `, master ${i.master.addr} priority ${i.master.priority}`
      : i.master
        ? ''
        : ', no master heard';
  const text = `${i.name} on ${st.node} is ${i.state} (priority ${i.priority.effective}${master})${why}`;
  if (i.state === 'FAULT' || i.state === 'INIT') return result(NAGIOS.CRITICAL, text, perf);
  if (expect && i.state !== expect.toUpperCase())
    return result(NAGIOS.WARNING, `${text}; expected ${expect.toUpperCase()}`, perf);
  return result(NAGIOS.OK, text, perf);
}

/** An instance's VIP text (`198.18.0.100/24 dev eth1`) → the address, lower case. */
const vipAddr = (v: string): string => (v.split(/[/ ]/)[0] ?? '').toLowerCase();

/** `vip ADDR --node URL…`: the VIP is held by exactly one node (its instance MASTER); CRITICAL on none or several. */
export function checkVip(addr: string, replies: readonly NodeReply[]): CheckResult {
  const want = addr.toLowerCase();
  const ok = replies.filter((r) => r.ok) as Extract<NodeReply, { ok: true }>[];
  const carriers = ok.flatMap((r) =>
    r.status.instances
      .filter((i) => i.vips.some((v) => vipAddr(v) === want))
      .map((i) => ({ node: r.status.node, instance: i.name, state: i.state })),
  );
  const holders = carriers.filter((c) => c.state === 'MASTER');
  const perf: Perf[] = [{ label: 'holders', value: holders.length, crit: '1:1', min: 0, max: replies.length }];
  const who = (list: typeof carriers) => list.map((c) => `${c.node} (${c.instance} ${c.state})`).join(', ');
  if (holders.length >= 2)
    return result(NAGIOS.CRITICAL, `${addr} is held by ${holders.length} nodes: ${who(holders)} (split brain)`, perf);
  const down = unreachable(replies);
  if (down) return { ...down, text: `${addr}: cannot ask every node: ${down.text}` };
  if (carriers.length === 0)
    return result(NAGIOS.UNKNOWN, `no instance on ${ok.map((r) => r.status.node).join(', ')} carries ${addr}`);
  if (holders.length === 0) return result(NAGIOS.CRITICAL, `${addr} is held by no node: ${who(carriers)}`, perf);
  const others = carriers.filter((c) => c !== holders[0]);
  return result(
    NAGIOS.OK,
    `${addr} is held by ${holders[0]!.node} (${holders[0]!.instance})${others.length ? `; ${who(others)}` : ''}`,
    perf,
  );
}

function findService(st: DaemonStatus, name: string): LbServiceStatus | CheckResult {
  const s = st.lb?.services.find((x) => x.name === name);
  if (s) return s;
  const have = st.lb?.services.map((x) => x.name).join(', ') || 'none';
  return result(NAGIOS.UNKNOWN, `node ${st.node} has no virtual service ${name} (it has: ${have})`);
}

/**
 * `service NAME [-w RANGE] [-c RANGE]`: the number of healthy (up) real servers against the thresholds; by default
 * WARNING when any configured server is not up, CRITICAL when none is. UNKNOWN on a node the service is not for
 * (idle: its servers are not checked there).
 */
export function checkService(st: DaemonStatus, name: string, warn?: Range, crit?: Range): CheckResult {
  const s = findService(st, name);
  if ('code' in s) return s;
  if (s.role === 'idle')
    return result(
      NAGIOS.UNKNOWN,
      `${name} is not served or checked on ${st.node} (idle); ask a node that may serve it`,
    );
  const total = s.servers.length;
  const up = s.servers.filter((r) => r.op === 'up');
  const w = warn ?? (parseRange(`${total}:`) as Range);
  const c = crit ?? (parseRange('1:') as Range);
  const perf: Perf[] = [{ label: 'healthy', value: up.length, warn: w.text, crit: c.text, min: 0, max: total }];
  const notUp = s.servers
    .filter((r) => r.op !== 'up')
    .map((r) => `${r.key} ${r.op}${r.check?.last ? ` ${r.check.last.code}` : ''}`);
  const text =
    `${name} (${s.vip}:${s.port}, ${s.role} on ${st.node}): ${up.length} of ${total} real servers healthy` +
    (notUp.length ? `; ${notUp.join(', ')}` : '') +
    (s.quorum === 'down' ? '; quorum down' : '');
  const code = alerts(c, up.length) ? NAGIOS.CRITICAL : alerts(w, up.length) ? NAGIOS.WARNING : NAGIOS.OK;
  return result(code, text, perf);
}

/**
 * `server SERVICE ADDR:PORT`: OK when up; WARNING when draining, in maintenance or ramping up (starting); CRITICAL
 * when down, with the last check result.
 */
export function checkServer(st: DaemonStatus, service: string, server: string): CheckResult {
  const s = findService(st, service);
  if ('code' in s) return s;
  const key = server.toLowerCase();
  const r = s.servers.find((x) => x.key.toLowerCase() === key);
  if (!r)
    return result(
      NAGIOS.UNKNOWN,
      `${service} has no real server ${server} (it has: ${s.servers.map((x) => x.key).join(', ') || 'none'})`,
    );
  const perf: Perf[] = [
    { label: 'weight', value: r.weight, min: 0 },
    { label: 'active', value: r.conns.active, min: 0 },
    { label: 'inactive', value: r.conns.inactive, min: 0 },
  ];
  if (r.check?.last) perf.push({ label: 'check_time', value: r.check.last.durationMs / 1000, uom: 's', min: 0 });
  const last = r.check?.last ? `; last check ${r.check.last.code}: ${r.check.last.detail}` : '';
  const text = `${service} ${r.key} on ${st.node} is ${r.op}, weight ${r.weight}/${r.configuredWeight}`;
  if (r.admin.maint) return result(NAGIOS.WARNING, `${text}, in maintenance (by ${r.admin.maint})${last}`, perf);
  if (r.op === 'down') return result(NAGIOS.CRITICAL, `${text}${last}`, perf);
  if (r.op === 'draining')
    return result(NAGIOS.WARNING, `${text}${r.admin.drain ? ` (drained by ${r.admin.drain})` : ''}${last}`, perf);
  if (r.op === 'starting') return result(NAGIOS.WARNING, `${text} (slow start)${last}`, perf);
  return result(NAGIOS.OK, `${text}${last}`, perf);
}

/** `config --node URL…`: every node runs the same config (the same `configHash`). */
export function checkConfig(replies: readonly NodeReply[]): CheckResult {
  const down = unreachable(replies);
  if (down) return { ...down, text: `cannot compare configs: ${down.text}` };
  const ok = replies as Extract<NodeReply, { ok: true }>[];
  const missing = ok.filter((r) => !r.status.configHash);
  if (missing.length)
    return result(
      NAGIOS.UNKNOWN,
      `${missing.map((r) => r.status.node).join(', ')} report no configHash (a tandem without it): cannot compare`,
    );
  const byHash = new Map<string, string[]>();
  for (const r of ok) byHash.set(r.status.configHash!, [...(byHash.get(r.status.configHash!) ?? []), r.status.node]);
  const short = (h: string) => h.slice(0, 'sha256:'.length + 12);
  const perf: Perf[] = [{ label: 'configs', value: byHash.size, crit: '1:1', min: 1, max: ok.length }];
  if (byHash.size === 1)
    return result(
      NAGIOS.OK,
      `${ok.length} nodes run the same config ${short([...byHash.keys()][0]!)} (${ok.map((r) => r.status.node).join(', ')})`,
      perf,
    );
  const parts = [...byHash].map(([h, nodes]) => `${nodes.join(', ')} ${short(h)}`);
  return result(NAGIOS.CRITICAL, `the nodes run ${byHash.size} different configs: ${parts.join('; ')}`, perf);
}

/** A parsed command line. */
export type NagiosArgs = {
  nodes: string[];
  control?: string;
  tokenFile?: string;
  timeoutMs: number;
  ca?: string;
} & (
  | { check: 'instance'; name: string; expect?: 'master' | 'backup' }
  | { check: 'vip'; addr: string }
  | { check: 'service'; name: string; warn?: Range; crit?: Range }
  | { check: 'server'; service: string; server: string }
  | { check: 'config' }
);

/** The usage text. */
export const NAGIOS_USAGE = [
  'tandem nagios instance NAME [--expect master|backup] [--node URL]',
  'tandem nagios vip ADDR --node URL --node URL…',
  'tandem nagios service NAME [-w RANGE] [-c RANGE] [--node URL]',
  'tandem nagios server SERVICE ADDR:PORT [--node URL]',
  'tandem nagios config --node URL --node URL…',
  'options: --control PATH (local socket), --node URL|local|unix:SOCKET (repeatable; also --node URL URL…),',
  '         --token-file FILE (else $TANDEM_TOKEN), --ca FILE (https), -t SECONDS (timeout, default 10)',
].join('\n');

/** Parses `tandem nagios …` arguments; a usage error is a sentence (printed as UNKNOWN). */
export function parseNagiosArgs(argv: readonly string[]): NagiosArgs | { error: string } {
  const pos: string[] = [];
  const nodes: string[] = [];
  const opt: Record<string, string> = {};
  const isNode = (s: string | undefined) =>
    s !== undefined && (/^https?:\/\//i.test(s) || s === 'local' || /^unix:.+/.test(s));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const inline = eq > 0 ? a.slice(eq + 1) : undefined;
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '--node': {
        const v = value();
        if (!isNode(v))
          return {
            error: `--node needs a URL (http://host:port or https://…), "local" or unix:SOCKET, got ${v ?? 'nothing'}`,
          };
        nodes.push(v!);
        while (inline === undefined && isNode(argv[i + 1])) nodes.push(argv[++i]!);
        break;
      }
      case '-w':
      case '--warning':
      case '-c':
      case '--critical':
      case '-t':
      case '--timeout':
      case '--expect':
      case '--control':
      case '--token-file':
      case '--ca': {
        const v = value();
        if (v === undefined) return { error: `${flag} needs a value` };
        opt[flag.replace(/^-+/, '').replace(/^w$/, 'warning').replace(/^c$/, 'critical').replace(/^t$/, 'timeout')] = v;
        break;
      }
      default:
        if (a.startsWith('-') && a.length > 1 && !/^-\d/.test(a)) return { error: `unknown option ${a}` };
        pos.push(a);
    }
  }
  const timeoutS = opt.timeout === undefined ? 10 : Number(opt.timeout);
  if (!(timeoutS > 0 && timeoutS <= 300)) return { error: `-t must be seconds in (0, 300], got ${opt.timeout}` };
  const common = {
    nodes,
    timeoutMs: Math.round(timeoutS * 1000),
    ...(opt.control !== undefined ? { control: opt.control } : {}),
    ...(opt['token-file'] !== undefined ? { tokenFile: opt['token-file'] } : {}),
    ...(opt.ca !== undefined ? { ca: opt.ca } : {}),
  };
  const [check, ...rest] = pos;
  const arity = (n: number, what: string): string | null =>
    rest.length === n ? null : `${check} takes ${what}, got ${rest.length ? rest.join(' ') : 'nothing'}`;
  const only = (allowed: string[]): string | null => {
    const extra = Object.keys(opt).filter((k) => !['timeout', 'control', 'token-file', 'ca', ...allowed].includes(k));
    return extra.length ? `${check} does not take --${extra.join(', --')}` : null;
  };
  const oneNode = nodes.length > 1 ? `${check} asks one node; got ${nodes.length} --node` : null;
  switch (check) {
    case 'instance': {
      const e = arity(1, 'one instance name') ?? only(['expect']) ?? oneNode;
      if (e) return { error: e };
      const x = opt.expect?.toLowerCase();
      if (x !== undefined && x !== 'master' && x !== 'backup')
        return { error: `--expect must be master or backup, got ${opt.expect}` };
      return { ...common, check, name: rest[0]!, ...(x ? { expect: x } : {}) };
    }
    case 'vip': {
      const e = arity(1, 'one address') ?? only([]);
      if (e) return { error: e };
      if (nodes.length < 1) return { error: 'vip needs --node for every node that may hold it' };
      return { ...common, check, addr: rest[0]! };
    }
    case 'service': {
      const e = arity(1, 'one virtual service name') ?? only(['warning', 'critical']) ?? oneNode;
      if (e) return { error: e };
      const w = opt.warning === undefined ? undefined : parseMinimum(opt.warning);
      const c = opt.critical === undefined ? undefined : parseMinimum(opt.critical);
      if (w && 'error' in w) return { error: `-w: ${w.error}` };
      if (c && 'error' in c) return { error: `-c: ${c.error}` };
      return { ...common, check, name: rest[0]!, ...(w ? { warn: w } : {}), ...(c ? { crit: c } : {}) };
    }
    case 'server': {
      const e = arity(2, 'a virtual service name and ADDR:PORT') ?? only([]) ?? oneNode;
      if (e) return { error: e };
      if (!/^(\[[0-9a-fA-F:.]+\]|[0-9.]+):\d{1,5}$/.test(rest[1]!))
        return { error: `server must be ADDR:PORT ([v6]:PORT), got ${rest[1]}` };
      return { ...common, check, service: rest[0]!, server: rest[1]! };
    }
    case 'config': {
      const e = arity(0, 'no arguments') ?? only([]);
      if (e) return { error: e };
      if (nodes.length < 2)
        return { error: 'config compares nodes: give --node for at least two (one may be "local")' };
      return { ...common, check };
    }
    default:
      return { error: check ? `unknown check ${check}` : 'which check? instance, vip, service, server or config' };
  }
}
