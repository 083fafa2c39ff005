/**
 * The HAProxy data plane's pure part: tandem's service programs → haproxy.cfg text, the server-state file a new
 * worker starts from, and the runtime-API commands that move a running HAProxy to the desired server states.
 *
 * What maps to what (docs/haproxy.md):
 * - one `frontend` + one `backend` per service (`mode http` for proxy.mode http, else `mode tcp`), bound on
 *   listen:port with `transparent` (IP_TRANSPARENT: the bind succeeds before the VIP arrives);
 * - scheduler: rr/wrr → `balance roundrobin` (weights), lc/wlc → `balance leastconn`, sh → `balance source`,
 *   mh (Maglev) → `balance source` with `hash-type consistent` (a consistent hash of the client address);
 * - persistence → `stick-table type ip|ipv6 … expire T` + `stick on src[,ipmask(M)]`;
 * - the sorry server → a `backup` server (HAProxy sends to it only when no active server is usable; tandem keeps it
 *   in maint unless the model says the sorry server takes new connections);
 * - health checks stay tandem's: servers carry no `check`; the model's verdicts become `set server … state
 *   ready|drain|maint` and `set server … weight N` over the runtime API (a server absent from the desired backends is
 *   maint, weight 0 is drain).
 * HAProxy weights are 0..256: a pool whose configured weights exceed 256 is scaled down in proportion.
 * Pure: no clock, no I/O.
 */
import { TandemError } from '../../core/errors.ts';
import type { ServiceProgram } from '../../lb/dataplane.ts';
import { serverKey } from '../../lb/types.ts';

/** Where the running HAProxy's files are (tandem's run dir). */
export interface HaproxyPaths {
  /** The runtime API socket (`stats socket … mode 600 level admin`). */
  apiSocket: string;
  /** The server-state file a (re)started worker loads. */
  stateFile: string;
}

/** HAProxy's largest server weight. */
export const HAPROXY_MAX_WEIGHT = 256;

/** The admin state tandem sets on a server. */
export type ServerAdmin = 'ready' | 'drain' | 'maint';

/** One server as HAProxy should hold it. */
export interface DesiredServer {
  backend: string;
  server: string;
  /** tandem's key (`addr:port`), `sorry` for the backup. */
  key: string;
  addr: string;
  port: number;
  admin: ServerAdmin;
  /** The weight to set (HAProxy scale), meaningful when ready. */
  weight: number;
  /** The weight the config gives (HAProxy scale). */
  configWeight: number;
  backup: boolean;
}

/** The backend and frontend name of a service. */
export const backendName = (id: string): string => `svc_${id}`;

/** A server's name: its key with the brackets of IPv6 dropped and ':' before the port made '_'. */
export function serverName(key: string): string {
  return `rs_${key
    .replace(/^\[/, '')
    .replace(/\]:(\d+)$/, '_$1')
    .replace(/:(\d+)$/, '_$1')}`;
}

export const SORRY_SERVER = 'sorry';

/** Checks that HAProxy can carry `p`; throws TND_HAPROXY_UNSUPPORTED with what to do instead. */
export function checkHaproxyProgram(p: ServiceProgram): void {
  const no = (why: string): never => {
    throw new TandemError('TND_HAPROXY_UNSUPPORTED', `service ${p.id}: ${why}`);
  };
  if (p.protocol !== 'tcp') no(`HAProxy carries TCP only, not ${p.protocol}; use dataplane: nft`);
  if (p.method !== 'nat') no(`method ${p.method} needs dataplane: nft (HAProxy opens its own server connections)`);
  if (p.port === 0) no('port 0 (every port) cannot be carried by HAProxy; give the service a port');
  if (p.fwmark !== undefined) no('a fwmark service cannot be carried by HAProxy (it binds an address and port)');
  if (!p.proxy) no('no proxy settings (lb.services[].proxy)');
  if (!p.pool) no('no server pool (the runtime passes it for dataplane haproxy)');
  for (const s of [...(p.pool ?? []), ...(p.sorry ? [p.sorry] : [])])
    if (s.port < 1 || s.port > 65_535) no(`real server ${serverKey(s.addr, s.port)} needs a port 1..65535`);
}

/** The factor that brings a pool's configured weights into HAProxy's 0..256. */
function weightScale(p: ServiceProgram): (w: number) => number {
  const max = Math.max(0, ...(p.pool ?? []).map((s) => s.weight));
  if (max <= HAPROXY_MAX_WEIGHT) return (w) => Math.min(HAPROXY_MAX_WEIGHT, w);
  return (w) => (w <= 0 ? 0 : Math.min(HAPROXY_MAX_WEIGHT, Math.max(1, Math.round((w * HAPROXY_MAX_WEIGHT) / max))));
}

/** Every server of every service as HAProxy should hold it now, in config order. */
export function desiredServers(programs: readonly ServiceProgram[]): DesiredServer[] {
  const out: DesiredServer[] = [];
  for (const p of programs) {
    checkHaproxyProgram(p);
    const scale = weightScale(p);
    const backend = backendName(p.id);
    const desired = new Map(p.backends.map((b) => [b.key, b]));
    for (const s of p.pool ?? []) {
      const d = desired.get(s.key);
      const weight = d ? scale(d.weight) : 0;
      out.push({
        backend,
        server: serverName(s.key),
        key: s.key,
        addr: s.addr,
        port: s.port,
        admin: !d ? 'maint' : weight === 0 ? 'drain' : 'ready',
        weight: d && weight > 0 ? weight : scale(s.weight) || 1,
        configWeight: scale(s.weight),
        backup: false,
      });
    }
  }
  return out.concat(sorryServers(programs));
}

function sorryServers(programs: readonly ServiceProgram[]): DesiredServer[] {
  const out: DesiredServer[] = [];
  for (const p of programs) {
    const sorry = sorryOf(p);
    if (!sorry) continue;
    out.push({
      backend: backendName(p.id),
      server: SORRY_SERVER,
      key: SORRY_SERVER,
      addr: sorry.addr,
      port: sorry.port,
      admin: p.sorry ? 'ready' : 'maint',
      weight: 1,
      configWeight: 1,
      backup: true,
    });
  }
  return out;
}

/** The configured sorry server (`sorryServer`; the desired `sorry` is set only while it takes new connections). */
function sorryOf(p: ServiceProgram): { addr: string; port: number } | null {
  return p.sorryServer ?? p.sorry ?? null;
}

/** Options of {@link renderHaproxyConfig}. */
export interface HaproxyRenderOptions {
  paths: HaproxyPaths;
  /** `nbthread`. @default 1 */
  threads?: number;
}

const ms = (v: number): string => `${Math.max(1, Math.round(v))}ms`;

/**
 * haproxy.cfg for `programs`. The text depends only on what needs a reload to change (services, their servers and
 * settings), never on server states or runtime weights: those live in the state file and the runtime API, so a drain
 * or a health verdict never reloads HAProxy.
 * @example renderHaproxyConfig([program], { paths: { apiSocket: '/run/tandem/haproxy/api.sock', stateFile: '…' } })
 */
export function renderHaproxyConfig(programs: readonly ServiceProgram[], opts: HaproxyRenderOptions): string {
  const servers = desiredServers(programs);
  const L: string[] = [
    '# Rendered by tandem (dataplane: haproxy). Do not edit: tandem rewrites it on every config change.',
    'global',
    '    master-worker',
    `    nbthread ${opts.threads ?? 1}`,
    `    stats socket ${opts.paths.apiSocket} mode 600 level admin expose-fd listeners`,
    '    stats timeout 30s',
    `    server-state-file ${opts.paths.stateFile}`,
    '    log stderr format short local0 notice',
    '',
    'defaults',
    '    log global',
    '    load-server-state-from-file global',
    '    timeout connect 3000ms',
    '    timeout client 60000ms',
    '    timeout server 60000ms',
    '    timeout http-request 10000ms',
    '    timeout http-keep-alive 60000ms',
    '    timeout tunnel 60000ms',
    '    option idle-close-on-response',
  ];
  for (const p of [...programs].sort((a, b) => a.id.localeCompare(b.id))) {
    const s = p.proxy!;
    const name = backendName(p.id);
    const http = s.mode === 'http';
    const listen = s.listen.includes(':') ? `[${s.listen}]` : s.listen;
    L.push('', `frontend ${name}`, `    mode ${http ? 'http' : 'tcp'}`);
    L.push(`    bind ${listen}:${p.port} transparent`);
    if (s.maxConnections !== undefined) L.push(`    maxconn ${s.maxConnections}`);
    L.push(`    timeout client ${ms(s.idleTimeoutMs)}`);
    if (http) {
      L.push(`    timeout http-request ${ms(s.clientHeaderTimeoutMs ?? Math.min(10_000, s.idleTimeoutMs))}`);
      L.push(`    timeout http-keep-alive ${ms(s.keepAliveTimeoutMs ?? s.idleTimeoutMs)}`);
      if (s.forwardedFor) L.push('    option forwardfor');
    } else L.push('    option tcplog');
    L.push(`    default_backend ${name}`);

    L.push('', `backend ${name}`, `    mode ${http ? 'http' : 'tcp'}`);
    L.push(`    balance ${balanceOf(p)}`);
    if (p.scheduler === 'mh') L.push('    hash-type consistent');
    if (p.persistence) {
      const v6 = p.family === 6;
      const full = v6 ? 128 : 32;
      const prefix = p.persistence.netmaskPrefix;
      L.push(`    stick-table type ${v6 ? 'ipv6' : 'ip'} size 1m expire ${ms(p.persistence.timeoutMs)}`);
      L.push(`    stick on src${prefix < full ? (v6 ? `,ipmask(32,${prefix})` : `,ipmask(${prefix})`) : ''}`);
    }
    L.push(`    timeout connect ${ms(s.connectTimeoutMs)}`);
    L.push(`    timeout server ${ms(s.responseTimeoutMs ?? s.idleTimeoutMs)}`);
    L.push(`    timeout tunnel ${ms(s.idleTimeoutMs)}`);
    if (s.retries > 0) L.push(`    retries ${s.retries}`, '    option redispatch');
    // Idle server connections serve any client's next request, as the Node proxy's pool does (HAProxy's default,
    // `safe`, opens a server connection for the first request of every client connection).
    if (http) L.push('    http-reuse always');
    if (http && s.forwardedFor) L.push('    http-request set-header X-Forwarded-Proto http');
    for (const d of servers.filter((x) => x.backend === name)) {
      const addr = d.addr.includes(':') ? `[${d.addr}]` : d.addr;
      L.push(
        `    server ${d.server} ${addr}:${d.port}${d.backup ? ' backup' : ` weight ${d.configWeight}`}` +
          ` # ${d.backup ? 'sorry server' : d.key}`,
      );
    }
  }
  L.push('');
  return L.join('\n');
}

function balanceOf(p: ServiceProgram): string {
  switch (p.scheduler) {
    case 'rr':
    case 'wrr':
      return 'roundrobin';
    case 'lc':
    case 'wlc':
      return 'leastconn';
    case 'sh':
    case 'mh':
      return 'source';
  }
}

/** The columns of `show servers state` (version 1), in HAProxy 2.6's order. */
export const SERVER_STATE_COLUMNS = [
  'be_id',
  'be_name',
  'srv_id',
  'srv_name',
  'srv_addr',
  'srv_op_state',
  'srv_admin_state',
  'srv_uweight',
  'srv_iweight',
  'srv_time_since_last_change',
  'srv_check_status',
  'srv_check_result',
  'srv_check_health',
  'srv_check_state',
  'srv_agent_state',
  'bk_f_forced_id',
  'srv_f_forced_id',
  'srv_fqdn',
  'srv_port',
  'srvrecord',
  'srv_use_ssl',
  'srv_check_port',
  'srv_check_addr',
  'srv_agent_addr',
  'srv_agent_port',
] as const;

/** HAProxy's admin flags (SRV_ADMF_*): forced maint and forced drain, the two the runtime API sets. */
export const ADMF_FMAINT = 0x01;
export const ADMF_FDRAIN = 0x08;
/** Any maintenance flag: forced, inherited, configured (`disabled`), resolver, hostname. */
const ADMF_ANY_MAINT = 0x01 | 0x02 | 0x04 | 0x20 | 0x40;
const ADMF_ANY_DRAIN = 0x08 | 0x10;

/**
 * The server-state file (version 1) for `programs`: what a new worker starts with (load-server-state-from-file), so
 * that a server tandem holds down is in maint from a reloaded worker's first connection, not after a round trip.
 * Matched by backend and server name (no forced ids); the op state is always "running" (no HAProxy checks).
 */
export function renderServerState(programs: readonly ServiceProgram[]): string {
  const lines = ['1', `# ${SERVER_STATE_COLUMNS.join(' ')}`];
  for (const d of desiredServers(programs)) {
    const admin = d.admin === 'maint' ? ADMF_FMAINT : d.admin === 'drain' ? ADMF_FDRAIN : 0;
    lines.push(
      [0, d.backend, 0, d.server, d.addr, 2, admin, d.weight, d.configWeight, 0, 1, 0, 0, 0, 0, 0, 0, '-', d.port]
        .concat(['-', 0, 0, '-', '-', 0])
        .join(' '),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** One row of `show servers state`, the fields tandem reads. */
export interface ServerStateRow {
  backend: string;
  server: string;
  opState: number;
  adminState: number;
  weight: number;
}

/** Parses `show servers state` output; lines that are not rows (version, comments, blanks) are skipped. */
export function parseServersState(text: string): ServerStateRow[] {
  const rows: ServerStateRow[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#') || !line.includes(' ')) continue;
    const f = line.trim().split(/\s+/);
    if (f.length < 9) continue;
    const n = (i: number) => Number(f[i]);
    if (!Number.isInteger(n(6)) || !Number.isInteger(n(7))) continue;
    rows.push({ backend: f[1]!, server: f[3]!, opState: n(5), adminState: n(6), weight: n(7) });
  }
  return rows;
}

/** The admin state a row shows. */
export function adminOf(row: ServerStateRow): ServerAdmin {
  return row.adminState & ADMF_ANY_MAINT ? 'maint' : row.adminState & ADMF_ANY_DRAIN ? 'drain' : 'ready';
}

/**
 * The runtime-API commands that move HAProxy from `rows` to `want`: a weight first (so a server made ready takes its
 * share at once), then the state. Servers HAProxy does not know are skipped (a reload adds them).
 */
export function runtimeCommands(want: readonly DesiredServer[], rows: readonly ServerStateRow[]): string[] {
  const have = new Map(rows.map((r) => [`${r.backend}/${r.server}`, r]));
  const cmds: string[] = [];
  for (const d of want) {
    const id = `${d.backend}/${d.server}`;
    const r = have.get(id);
    if (!r) continue;
    if (d.admin === 'ready' && r.weight !== d.weight) cmds.push(`set server ${id} weight ${d.weight}`);
    if (adminOf(r) !== d.admin) cmds.push(`set server ${id} state ${d.admin}`);
  }
  return cmds;
}
