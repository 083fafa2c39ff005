// Prometheus metrics and the nagios checks against a live two-node lab (issue 12): two directors running `tandem
// run` with one VRRP instance and a virtual service over two real servers (nft data plane). `tandem metrics` (the
// text GET /metrics serves) passes `promtool check metrics` on both nodes, and its values move: a failover changes
// the state gauges, the priority and the transition counters; a drained server's weight and state change; a reload
// is counted and the config hash follows the file.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { execFile, spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { configHashOf } from '../../src/metrics/config-hash.ts';
import { canBuildLabs, createLab, type Lab } from './lab.ts';
import { eventually, startResponder, startTandem, TANDEM, type TandemProc, untilState, workDir } from './tandem-lab.ts';

const execFileP = promisify(execFile);
const hasPromtool = spawnSync('promtool', ['--version']).status === 0;
const skip = !canBuildLabs() ? 'needs root and ip netns' : !hasPromtool ? 'needs promtool (scripts/setup.sh)' : false;
const VIP = '198.18.0.100';
const RS = { rs1: '198.18.0.21', rs2: '198.18.0.22' } as const;

const config = `
cluster:
  nodes: [{ name: d1, address: 198.18.0.11 }, { name: d2, address: 198.18.0.12 }]
vrrp:
  instances:
    - name: VI_1
      interface: eth0
      vrid: 71
      version: 3
      priority: { d1: 150, d2: 100 }
      advert_interval: 100ms
      vips: [${VIP}/24]
lb:
  services:
    - name: web
      vip: ${VIP}
      port: 80
      scheduler: wrr
      dataplane: nft
      snat: true
      drain_timeout: 5s
      check: { type: tcp, interval: 300ms, rise: 1, fall: 2, connect_timeout: 200ms, warmup: 0 }
      real_servers:
        - { address: ${RS.rs1}, weight: 3 }
        - { address: ${RS.rs2}, weight: 2 }
    - name: api
      vip: ${VIP}
      port: 8080
      scheduler: rr
      dataplane: proxy
      proxy: { mode: http }
      check: { type: tcp, interval: 300ms, rise: 1, fall: 2, connect_timeout: 200ms, warmup: 0 }
      real_servers:
        - { address: ${RS.rs1}, port: 80 }
        - { address: ${RS.rs2}, port: 80 }
`;

/** `tandem metrics` of a node, checked by promtool; the samples as a map `name{labels}` → value. */
async function scrape(p: TandemProc): Promise<{ text: string; v: Map<string, number> }> {
  const { stdout } = await execFileP(process.execPath, [TANDEM, 'metrics', '--control', p.control], {
    timeout: 15_000,
    maxBuffer: 16 << 20,
  });
  const check = spawnSync('promtool', ['check', 'metrics'], { input: stdout, encoding: 'utf8', timeout: 15_000 });
  assert.equal(check.status, 0, `promtool check metrics on ${p.host}: ${check.stdout}${check.stderr}\n${stdout}`);
  const v = new Map<string, number>();
  for (const line of stdout.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    v.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return { text: stdout, v };
}

/** A `tandem nagios` run: its one output line and exit code, kept for the transcript. */
const transcript: string[] = [];
async function nagios(args: string[]): Promise<{ code: number; line: string }> {
  const r = await execFileP(process.execPath, [TANDEM, 'nagios', ...args], { timeout: 15_000 }).then(
    (x) => ({ code: 0, out: x.stdout }),
    (e: { code?: number; stdout?: string }) => ({ code: e.code ?? -1, out: e.stdout ?? '' }),
  );
  const line = r.out.trimEnd();
  assert.equal(line.split('\n').length, 1, `one line: ${r.out}`);
  transcript.push(`$ tandem nagios ${args.join(' ')}`, line, `exit ${r.code}`);
  return { code: r.code, line };
}

const state = (v: Map<string, number>, s: string) =>
  v.get(`tandem_vrrp_instance_state{vrrp_instance="VI_1",state="${s}"}`);
const transitions = (v: Map<string, number>, from: string, to: string) =>
  [...v]
    .filter(([k]) => k.startsWith(`tandem_vrrp_transitions_total{vrrp_instance="VI_1",from="${from}",to="${to}"`))
    .reduce((n, [, x]) => n + x, 0);
const rs = (addr: string) => `service="web",server="${addr}:80"`;

test('metrics and nagios checks of a live two-node lab: promtool passes, values move with a failover, a drain, a dead server and a reload', {
  skip,
  timeout: 90_000,
}, async () => {
  const dir = workDir(`t12m-${process.pid}-`);
  const lab: Lab = await createLab(
    ['d1', 'd2', 'rs1', 'rs2', 'client'],
    { d1: '198.18.0.11', d2: '198.18.0.12', client: '198.18.0.50', ...RS },
    {
      prefix: 't12m',
    },
  );
  const responders: ChildProcess[] = [];
  try {
    for (const d of ['d1', 'd2']) await lab.run(d, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    for (const h of Object.keys(RS)) responders.push(await startResponder(lab, h));
    const d1 = await startTandem(lab, 'd1', config, { dir });
    const d2 = await startTandem(lab, 'd2', config, { dir });
    await untilState(d1, 'MASTER');
    await untilState(d2, 'BACKUP');
    await eventually(
      'd1 serves web over two healthy servers',
      () => d1.status(),
      (s) => s.lb?.services.every((v) => v.role === 'serving' && v.servers.every((r) => r.op === 'up')) === true,
    );
    // Six requests through the proxied service from the client host (the first once the proxy listens on the VIP,
    // which it can only do after the VIP arrived; refused connections never reach the proxy and are not counted).
    const curl = () =>
      lab.exec('client', 'curl', [
        '-sS',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        '--max-time',
        '5',
        `http://${VIP}:8080/`,
      ]);
    await eventually('the proxy answers on the VIP', curl, (c) => c.stdout === '200', 20_000).catch(async (e) => {
      throw new Error(`${e}\n${JSON.stringify((await d1.status()).lb)}\n${d1.out.text()}`);
    });
    for (let i = 0; i < 5; i++) assert.equal((await curl()).stdout, '200');

    // Both nodes' output passes promtool; the state gauges say who is master.
    let m1 = await scrape(d1);
    let m2 = await scrape(d2);
    assert.equal(state(m1.v, 'MASTER'), 1);
    assert.equal(state(m1.v, 'BACKUP'), 0);
    assert.equal(state(m2.v, 'BACKUP'), 1);
    assert.equal(m1.v.get('tandem_vrrp_priority{vrrp_instance="VI_1"}'), 150);
    assert.equal(transitions(m1.v, 'BACKUP', 'MASTER'), 1);
    assert.ok((m1.v.get('tandem_vrrp_adverts_sent_total{vrrp_instance="VI_1"}') ?? 0) > 0);
    assert.ok((m2.v.get('tandem_vrrp_adverts_received_total{vrrp_instance="VI_1"}') ?? 0) > 0);
    assert.equal(m1.v.get(`tandem_lb_real_server_state{${rs(RS.rs1)},state="up"}`), 1);
    assert.equal(m1.v.get(`tandem_lb_real_server_weight{${rs(RS.rs1)}}`), 3);
    assert.equal(m1.v.get(`tandem_lb_real_server_check_result{${rs(RS.rs1)},code="L4OK"}`), 1);
    assert.equal(m1.v.get('tandem_lb_service_role{service="web",role="serving"}'), 1);
    const proxied = [...m1.v].filter(([k]) => k.startsWith('tandem_proxy_requests_total{service="api",'));
    assert.equal(
      proxied.filter(([k]) => k.endsWith('class="2xx"}')).reduce((n, [, x]) => n + x, 0),
      6,
      String(proxied),
    );
    assert.equal(m1.v.get('tandem_proxy_request_duration_seconds_count{service="api"}'), 6);
    assert.equal(m1.v.get('tandem_proxy_request_duration_seconds_bucket{service="api",le="+Inf"}'), 6);
    assert.ok((m1.v.get(`tandem_proxy_bytes_total{service="api",server="${RS.rs1}:80",direction="out"}`) ?? 0) > 0);
    const hash = configHashOf(readFileSync(join(dir, 'd1.yaml')));
    assert.equal(m1.v.get(`tandem_config_info{file="${join(dir, 'd1.yaml')}",hash="${hash}"}`), 1);
    assert.equal((await d1.status()).configHash, hash);
    const before = m1.text;

    // nagios: everything is as expected.
    const u1 = `unix:${d1.control}`;
    const u2 = `unix:${d2.control}`;
    let n = await nagios(['instance', 'VI_1', '--expect', 'master', '--control', d1.control]);
    assert.equal(n.code, 0, n.line);
    assert.match(n.line, /^OK - VI_1 on d1 is MASTER \(priority 150\)/);
    n = await nagios(['vip', VIP, '--node', u1, u2]);
    assert.equal(n.code, 0, n.line);
    assert.match(n.line, /^OK - 198\.18\.0\.100 is held by d1 \(VI_1\); d2 \(VI_1 BACKUP\) \| holders=1/);
    n = await nagios(['config', '--node', u1, u2]);
    assert.equal(n.code, 0, n.line);
    n = await nagios(['service', 'web', '-w', '2', '-c', '1', '--control', d1.control]);
    assert.equal(n.code, 0, n.line);
    assert.match(n.line, /2 of 2 real servers healthy \| healthy=2;2:;1:;0;2$/);

    // Failover: standby on d1; d2 becomes master, both nodes' gauges and counters move.
    const fo = await execFileP(process.execPath, [TANDEM, 'standby', 'VI_1', '--control', d1.control]);
    assert.match(fo.stdout + fo.stderr, /VI_1/);
    await untilState(d2, 'MASTER');
    await untilState(d1, 'BACKUP');
    m1 = await scrape(d1);
    m2 = await scrape(d2);
    assert.equal(state(m1.v, 'MASTER'), 0);
    assert.equal(state(m1.v, 'BACKUP'), 1);
    assert.equal(state(m2.v, 'MASTER'), 1);
    assert.equal(m1.v.get('tandem_vrrp_priority{vrrp_instance="VI_1"}'), 1, 'standby sets priority 1');
    assert.equal(m1.v.get('tandem_vrrp_configured_priority{vrrp_instance="VI_1"}'), 150);
    assert.equal(transitions(m1.v, 'MASTER', 'BACKUP'), 1);
    assert.equal(transitions(m2.v, 'BACKUP', 'MASTER'), 1);
    n = await nagios(['instance', 'VI_1', '--expect', 'master', '--control', d1.control]);
    assert.equal(n.code, 1, n.line);
    assert.match(
      n.line,
      /^WARNING - VI_1 on d1 is BACKUP \(priority 1, master 198\.18\.0\.12 priority 100\).*expected MASTER/,
    );
    n = await nagios(['vip', VIP, '--node', u1, u2]);
    assert.equal(n.code, 0, n.line);
    assert.match(n.line, /held by d2/);

    // A drain on the new master: the server's weight goes to 0, its state to draining, its drain flag is set.
    await eventually(
      'd2 serves web',
      () => d2.status(),
      (s) => s.lb?.services[0]?.role === 'serving' && s.lb.services[0].servers.every((r) => r.programmed),
    );
    const dr = await execFileP(
      process.execPath,
      [TANDEM, 'rs', 'drain', 'web', `${RS.rs2}:80`, '--control', d2.control],
      {
        timeout: 30_000,
      },
    );
    assert.match(dr.stdout + dr.stderr, /drain/);
    m2 = await scrape(d2);
    assert.equal(m2.v.get(`tandem_lb_real_server_weight{${rs(RS.rs2)}}`), 0);
    assert.equal(m2.v.get(`tandem_lb_real_server_configured_weight{${rs(RS.rs2)}}`), 2);
    assert.equal(m2.v.get(`tandem_lb_real_server_state{${rs(RS.rs2)},state="draining"}`), 1);
    assert.equal(m2.v.get(`tandem_lb_real_server_state{${rs(RS.rs2)},state="up"}`), 0);
    assert.equal(m2.v.get(`tandem_lb_real_server_admin{${rs(RS.rs2)},flag="drain"}`), 1);
    assert.equal(m2.v.get('tandem_lb_service_healthy_servers{service="web"}'), 1);
    n = await nagios(['service', 'web', '-w', '2', '-c', '1', '--node', u2]);
    assert.equal(n.code, 1, n.line);
    assert.match(n.line, /^WARNING - web .*1 of 2 real servers healthy; 198\.18\.0\.22:80 draining/);
    n = await nagios(['server', 'web', `${RS.rs2}:80`, '--node', u2]);
    assert.equal(n.code, 1, n.line);

    // A real server dies: its state and check code move; nagios says CRITICAL.
    responders[0]!.kill('SIGTERM');
    await eventually(
      'd2 sees rs1 down',
      () => d2.status(),
      (s) => s.lb?.services[0]?.servers.find((r) => r.addr === RS.rs1)?.op === 'down',
    );
    m2 = await scrape(d2);
    assert.equal(m2.v.get(`tandem_lb_real_server_state{${rs(RS.rs1)},state="down"}`), 1);
    assert.equal(m2.v.get(`tandem_lb_real_server_health_up{${rs(RS.rs1)}}`), 0);
    assert.equal(m2.v.get(`tandem_lb_real_server_check_result{${rs(RS.rs1)},code="L4CON"}`), 1);
    n = await nagios(['server', 'web', `${RS.rs1}:80`, '--node', u2]);
    assert.equal(n.code, 2, n.line);
    assert.match(n.line, /^CRITICAL - web 198\.18\.0\.21:80 on d2 is down, weight \d+\/3; last check L4CON/);
    n = await nagios(['service', 'web', '-w', '2', '-c', '1', '--node', u2]);
    assert.equal(n.code, 2, n.line);

    // A reload of a changed file is counted, and the hash follows the file's bytes.
    appendFileSync(join(dir, 'd2.yaml'), '# changed\n');
    const rl = await execFileP(process.execPath, [TANDEM, 'reload', '--control', d2.control]);
    assert.equal(rl.stderr.includes('refused'), false, rl.stderr);
    m2 = await scrape(d2);
    const newHash = configHashOf(readFileSync(join(dir, 'd2.yaml')));
    assert.equal(m2.v.get('tandem_config_reloads_total{result="success"}'), 1);
    assert.equal(m2.v.get(`tandem_config_info{file="${join(dir, 'd2.yaml')}",hash="${newHash}"}`), 1);
    assert.equal((await d2.status()).configHash, newHash);
    n = await nagios(['config', '--node', u1, u2]);
    assert.equal(n.code, 2, n.line);
    assert.match(n.line, /^CRITICAL - the nodes run 2 different configs: d1 sha256:\w{12}; d2 sha256:\w{12}/);
    // A refused reload is counted too, and the running hash stays.
    writeFileSync(join(dir, 'd2.yaml'), `${readFileSync(join(dir, 'd2.yaml'), 'utf8')}\nvrrp: [\n`);
    await execFileP(process.execPath, [TANDEM, 'reload', '--control', d2.control]).catch(() => undefined);
    m2 = await scrape(d2);
    assert.equal(m2.v.get('tandem_config_reloads_total{result="failure"}'), 1);
    assert.equal(m2.v.get('tandem_config_last_reload_successful'), 0);
    assert.equal((await d2.status()).configHash, newHash);

    if (process.env.T12M_SAMPLE) {
      writeFileSync(process.env.T12M_SAMPLE, `${before}\n# --- after failover, d1:\n${m1.text}`);
      writeFileSync(`${process.env.T12M_SAMPLE}.nagios`, `${transcript.join('\n')}\n`);
    }
  } finally {
    await lab.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
});
