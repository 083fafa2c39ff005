import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { TandemError } from '../../core/errors.ts';
import type { ProxySettings, ServiceProgram } from '../../lb/dataplane.ts';
import type { DesiredBackend } from '../../lb/types.ts';
import {
  desiredServers,
  parseServersState,
  renderHaproxyConfig,
  renderServerState,
  runtimeCommands,
  serverName,
} from './render.ts';

function be(addr: string, port: number, weight = 1, reason: DesiredBackend['reason'] = 'up'): DesiredBackend {
  const key = addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
  return { key, addr, port, weight, op: weight > 0 ? 'up' : 'draining', reason };
}

const proxy = (over: Partial<ProxySettings> = {}): ProxySettings => ({
  mode: 'http',
  listen: '198.18.0.100',
  retries: 1,
  passiveFailures: 3,
  connectTimeoutMs: 3000,
  idleTimeoutMs: 60_000,
  forwardedFor: true,
  ...over,
});

function svc(over: Partial<ServiceProgram> & { id: string }): ServiceProgram {
  const backends = over.backends ?? [be('198.18.1.21', 80, 3), be('198.18.1.22', 80, 1)];
  return {
    vip: '198.18.0.100',
    port: 80,
    protocol: 'tcp',
    family: 4,
    scheduler: 'wrr',
    method: 'nat',
    persistence: null,
    quorum: 'up',
    backends,
    sorry: null,
    proxy: proxy(),
    pool: backends.map((b) => ({ key: b.key, addr: b.addr, port: b.port, weight: b.weight })),
    ...over,
  };
}

const paths = { apiSocket: '/run/tandem/haproxy/api.sock', stateFile: '/run/tandem/haproxy/servers.state' };

const GOLDEN_WEB_DB = `# Rendered by tandem (dataplane: haproxy). Do not edit: tandem rewrites it on every config change.
global
    master-worker
    nbthread 1
    stats socket /run/tandem/haproxy/api.sock mode 600 level admin expose-fd listeners
    stats timeout 30s
    server-state-file /run/tandem/haproxy/servers.state
    log stderr format short local0 notice

defaults
    log global
    load-server-state-from-file global
    timeout connect 3000ms
    timeout client 60000ms
    timeout server 60000ms
    timeout http-request 10000ms
    timeout http-keep-alive 60000ms
    timeout tunnel 60000ms
    option idle-close-on-response

frontend svc_db
    mode tcp
    bind 198.18.0.101:5432 transparent
    maxconn 500
    timeout client 30000ms
    option tcplog
    default_backend svc_db

backend svc_db
    mode tcp
    balance leastconn
    stick-table type ip size 1m expire 600000ms
    stick on src,ipmask(24)
    timeout connect 1000ms
    timeout server 30000ms
    timeout tunnel 30000ms
    server rs_198.18.1.31_5432 198.18.1.31:5432 weight 1 # 198.18.1.31:5432
    server rs_198.18.1.32_5432 198.18.1.32:5432 weight 1 # 198.18.1.32:5432

frontend svc_web
    mode http
    bind 198.18.0.100:80 transparent
    timeout client 60000ms
    timeout http-request 10000ms
    timeout http-keep-alive 60000ms
    option forwardfor
    default_backend svc_web

backend svc_web
    mode http
    balance roundrobin
    timeout connect 3000ms
    timeout server 60000ms
    timeout tunnel 60000ms
    retries 1
    option redispatch
    http-reuse always
    http-request set-header X-Forwarded-Proto http
    server rs_198.18.1.21_80 198.18.1.21:80 weight 3 # 198.18.1.21:80
    server rs_198.18.1.22_80 198.18.1.22:80 weight 1 # 198.18.1.22:80
    server sorry 198.18.1.99:80 backup # sorry server
`;

const web = svc({ id: 'web', sorryServer: { addr: '198.18.1.99', port: 80 } });
const db = svc({
  id: 'db',
  vip: '198.18.0.101',
  port: 5432,
  scheduler: 'wlc',
  persistence: { timeoutMs: 600_000, netmaskPrefix: 24 },
  backends: [be('198.18.1.31', 5432), be('198.18.1.32', 5432)],
  proxy: proxy({
    mode: 'tcp',
    listen: '198.18.0.101',
    retries: 0,
    connectTimeoutMs: 1000,
    idleTimeoutMs: 30_000,
    maxConnections: 500,
  }),
});

test('renderHaproxyConfig: an http and a tcp service, sorry server, persistence (golden)', () => {
  assert.equal(renderHaproxyConfig([web, db], { paths }), GOLDEN_WEB_DB);
});

test('the config does not change with server states or weights: those go through the runtime API', () => {
  const drained = svc({
    id: 'web',
    sorryServer: { addr: '198.18.1.99', port: 80 },
    backends: [be('198.18.1.21', 80, 0, 'draining')],
    sorry: { addr: '198.18.1.99', port: 80 },
    pool: web.pool!,
  });
  assert.equal(renderHaproxyConfig([drained, db], { paths }), GOLDEN_WEB_DB);
});

test('schedulers: rr/wrr roundrobin, lc/wlc leastconn, sh source, mh source with a consistent hash', () => {
  const balance = (scheduler: ServiceProgram['scheduler']) =>
    renderHaproxyConfig([svc({ id: 'x', scheduler })], { paths })
      .split('\n')
      .filter((l) => /^ {4}(balance|hash-type)/.test(l))
      .map((l) => l.trim());
  assert.deepEqual(balance('rr'), ['balance roundrobin']);
  assert.deepEqual(balance('wrr'), ['balance roundrobin']);
  assert.deepEqual(balance('lc'), ['balance leastconn']);
  assert.deepEqual(balance('wlc'), ['balance leastconn']);
  assert.deepEqual(balance('sh'), ['balance source']);
  assert.deepEqual(balance('mh'), ['balance source', 'hash-type consistent']);
});

test('IPv6: bracketed bind and server addresses, ipv6 stick table with an ipmask for both families', () => {
  const v6 = svc({
    id: 'v6',
    vip: '2001:db8::10',
    family: 6,
    persistence: { timeoutMs: 1000, netmaskPrefix: 64 },
    backends: [be('2001:db8::21', 80)],
    proxy: proxy({ listen: '2001:db8::10' }),
  });
  const text = renderHaproxyConfig([v6], { paths });
  assert.match(text, /bind \[2001:db8::10\]:80 transparent/);
  assert.match(text, /stick-table type ipv6 size 1m expire 1000ms\n {4}stick on src,ipmask\(32,64\)/);
  assert.match(text, /server rs_2001:db8::21_80 \[2001:db8::21\]:80 weight 1/);
  assert.equal(serverName('[2001:db8::21]:80'), 'rs_2001:db8::21_80');
});

test('weights above 256 are scaled into HAProxy 0..256 in proportion', () => {
  const big = svc({ id: 'big', backends: [be('198.18.1.21', 80, 1000), be('198.18.1.22', 80, 250)] });
  const ds = desiredServers([big]);
  assert.deepEqual(
    ds.map((d) => [d.configWeight, d.weight]),
    [
      [256, 256],
      [64, 64],
    ],
  );
});

test('refused clearly: udp, dr, port 0, fwmark', () => {
  for (const [over, re] of [
    [{ protocol: 'udp' }, /TCP only/],
    [{ method: 'dr' }, /method dr needs dataplane: nft/],
    [{ port: 0 }, /port 0/],
    [{ fwmark: 7 }, /fwmark/],
  ] as const) {
    assert.throws(
      () => renderHaproxyConfig([svc({ id: 'bad', ...over })], { paths }),
      (e: unknown) => e instanceof TandemError && e.code === 'TND_HAPROXY_UNSUPPORTED' && re.test(e.message),
    );
  }
});

test('server states: absent = maint, weight 0 = drain, the sorry backup ready only while active', () => {
  const s = svc({
    id: 'web',
    sorryServer: { addr: '198.18.1.99', port: 80 },
    backends: [be('198.18.1.21', 80, 0, 'draining')],
    pool: [
      { key: '198.18.1.21:80', addr: '198.18.1.21', port: 80, weight: 3 },
      { key: '198.18.1.22:80', addr: '198.18.1.22', port: 80, weight: 1 },
    ],
  });
  assert.deepEqual(
    desiredServers([s]).map((d) => `${d.server} ${d.admin}`),
    ['rs_198.18.1.21_80 drain', 'rs_198.18.1.22_80 maint', 'sorry maint'],
  );
  const state = renderServerState([s]);
  assert.equal(
    state.split('\n').slice(2).join('\n'),
    [
      '0 svc_web 0 rs_198.18.1.21_80 198.18.1.21 2 8 3 3 0 1 0 0 0 0 0 0 - 80 - 0 0 - - 0',
      '0 svc_web 0 rs_198.18.1.22_80 198.18.1.22 2 1 1 1 0 1 0 0 0 0 0 0 - 80 - 0 0 - - 0',
      '0 svc_web 0 sorry 198.18.1.99 2 1 1 1 0 1 0 0 0 0 0 0 - 80 - 0 0 - - 0',
      '',
    ].join('\n'),
  );
});

test('runtimeCommands: converge from show servers state (weight before state; unknown servers skipped)', () => {
  const shown = `1
# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port
3 svc_web 1 rs_198.18.1.21_80 198.18.1.21 2 1 3 3 5 1 0 2 0 0 0 0 - 80 - 0 0 - - 0
3 svc_web 2 rs_198.18.1.22_80 198.18.1.22 2 0 1 1 5 1 0 2 0 0 0 0 - 80 - 0 0 - - 0
3 svc_web 3 sorry 198.18.1.99 2 5 1 1 5 1 0 2 0 0 0 0 - 80 - 0 0 - - 0
`;
  const rows = parseServersState(shown);
  assert.equal(rows.length, 3);
  const want = desiredServers([
    svc({ id: 'web', sorryServer: { addr: '198.18.1.99', port: 80 }, backends: [be('198.18.1.21', 80, 2)] }),
  ]);
  // pool from the backends given: .21 only; .22 and others unknown to the program are left alone.
  assert.deepEqual(runtimeCommands(want, rows), [
    'set server svc_web/rs_198.18.1.21_80 weight 2',
    'set server svc_web/rs_198.18.1.21_80 state ready',
  ]);
  // Nothing to do once HAProxy shows the desired state.
  const after = rows.map((r) => (r.server === 'rs_198.18.1.21_80' ? { ...r, adminState: 0, weight: 2 } : r));
  assert.deepEqual(runtimeCommands(want, after), []);
});

test('haproxy -c accepts the rendered config and the state file (real HAProxy)', {
  skip: !existsSync('/usr/sbin/haproxy'),
}, () => {
  const dir = mkdtempSync(join(tmpdir(), 't15p-render-'));
  try {
    const p = { apiSocket: join(dir, 'api.sock'), stateFile: join(dir, 'servers.state') };
    const v6 = svc({
      id: 'v6',
      vip: '2001:db8::10',
      family: 6,
      scheduler: 'mh',
      persistence: { timeoutMs: 1000, netmaskPrefix: 64 },
      backends: [be('2001:db8::21', 80)],
      proxy: proxy({ listen: '2001:db8::10' }),
    });
    writeFileSync(join(dir, 'h.cfg'), renderHaproxyConfig([web, db, v6], { paths: p }));
    writeFileSync(p.stateFile, renderServerState([web, db, v6]));
    const r = spawnSync('/usr/sbin/haproxy', ['-c', '-f', join(dir, 'h.cfg')], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.status, 0, r.stderr + r.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
