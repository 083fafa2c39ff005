// Load balancing through the real daemon: a client, two directors running `tandem run`, three real servers (HTTP
// responders naming themselves), all on one segment. The directors rewrite the client's source too (snat: true,
// a one-armed setup), so replies come back through the director that served the connection. The same story runs
// with the kernel data plane (nft) and with the user-space proxy: traffic spreads per the scheduler; a killed real
// server is taken out after fall × interval and client errors stop; it comes back after rise × interval; a drain
// completes with 0 failed requests; after a VIP failover the new master serves the virtual service.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import type { LbServiceStatus } from '../../src/api/contract.ts';
import { canBuildLabs, createLab, type Lab } from './lab.ts';
import {
  eventually,
  type ProbeResult,
  probe,
  startProbe,
  startResponder,
  startTandem,
  TANDEM,
  type TandemProc,
  untilState,
  workDir,
} from './tandem-lab.ts';

const skip = canBuildLabs() ? false : 'needs root and ip netns';
const VIP = '198.18.0.100';
const RS = { rs1: '198.18.0.21', rs2: '198.18.0.22', rs3: '198.18.0.23' } as const;
const INTERVAL_MS = 300;

const config = (dataplane: 'nft' | 'proxy') => `
cluster:
  nodes: [{ name: d1, address: 198.18.0.11 }, { name: d2, address: 198.18.0.12 }]
vrrp:
  instances:
    - name: VI_1
      interface: eth0
      vrid: 61
      version: 3
      priority: { d1: 150, d2: 100 }
      advert_interval: 100ms
      vips: [${VIP}/24]
lb:
  services:
    - name: web
      vip: ${VIP}
      port: 80
      scheduler: rr
      dataplane: ${dataplane}
      snat: true
      proxy: { mode: http, retries: 2, passive_failures: 0 }
      drain_timeout: 20s
      check: { type: tcp, interval: ${INTERVAL_MS}ms, rise: 2, fall: 2, connect_timeout: 200ms, warmup: 0 }
      real_servers:
        - { address: ${RS.rs1} }
        - { address: ${RS.rs2} }
        - { address: ${RS.rs3} }
`;

interface Ctx {
  lab: Lab;
  d1: TandemProc;
  d2: TandemProc;
  responders: Record<string, ChildProcess>;
}

async function withLab(dataplane: 'nft' | 'proxy', body: (ctx: Ctx) => Promise<void>): Promise<void> {
  const dir = workDir();
  const lab = await createLab(['d1', 'd2', 'client', 'rs1', 'rs2', 'rs3'], {
    d1: '198.18.0.11',
    d2: '198.18.0.12',
    client: '198.18.0.50',
    ...RS,
  });
  try {
    // Directors forward between the client and the real servers (NAT).
    for (const d of ['d1', 'd2']) await lab.run(d, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    const responders: Record<string, ChildProcess> = {};
    for (const h of Object.keys(RS)) responders[h] = await startResponder(lab, h);
    const d1 = await startTandem(lab, 'd1', config(dataplane), { dir });
    const d2 = await startTandem(lab, 'd2', config(dataplane), { dir });
    await untilState(d1, 'MASTER');
    await untilState(d2, 'BACKUP');
    await eventually(
      'd1 serves web with 3 real servers up',
      () => web(d1),
      (s) => s?.role === 'serving' && s.servers.every((r) => r.health === 'up' && r.programmed),
    );
    await body({ lab, d1, d2, responders });
    if (dataplane === 'nft') {
      d1.child.kill('SIGTERM');
      await new Promise((r) => d1.child.once('exit', r));
      const tables = await lab.run('d1', 'nft', ['list', 'tables']);
      assert.doesNotMatch(tables, /tandem/, 'a stopped daemon leaves no nft table behind');
    }
  } finally {
    await lab.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
}

const web = (p: TandemProc): Promise<LbServiceStatus | undefined> =>
  p.status().then((s) => s.lb?.services.find((x) => x.name === 'web'));

const server = (s: LbServiceStatus | undefined, addr: string) => s?.servers.find((r) => r.addr === addr);

async function rs(lab: Lab, d: TandemProc, args: string[]): Promise<{ code: number; out: string }> {
  const r = await lab.exec(d.host, process.execPath, [TANDEM, 'rs', ...args, '--control', d.control], 60_000);
  return { code: r.code, out: r.stdout + r.stderr };
}

/** Requests every 10 ms over fresh connections for `ms`. */
const load = (lab: Lab, ms: number): Promise<ProbeResult> => probe(lab, 'client', VIP, 10, ms);

async function story(dataplane: 'nft' | 'proxy', { lab, d1, d2, responders }: Ctx): Promise<void> {
  // 1. Spread: round robin over three servers.
  const spread = await load(lab, 900);
  assert.equal(spread.failed, 0, JSON.stringify(spread));
  for (const h of Object.keys(RS)) {
    const n = spread.who[h] ?? 0;
    assert.ok(Math.abs(n - spread.ok / 3) <= 2, `rr spread ${JSON.stringify(spread.who)}`);
  }

  // 2. A real server dies: out after fall × interval; the client's errors stop.
  const running = startProbe(lab, 'client', VIP, 10, 3_000);
  await running.answered(30);
  const during = running.done;
  const killedAt = Date.now();
  responders.rs2!.kill('SIGTERM');
  const out = await eventually(
    'rs2 taken out',
    () => web(d1),
    (s) => server(s, RS.rs2)?.health === 'down' && !server(s, RS.rs2)?.programmed,
    10_000,
  );
  const outAfterMs = Date.now() - killedAt;
  const r2 = await during;
  assert.ok(!server(out, RS.rs2)?.programmed, 'a down server is not programmed');
  // fall × interval, plus up to one interval until the next check and the check's own timeout.
  assert.ok(outAfterMs <= 2 * INTERVAL_MS + INTERVAL_MS + 1_500, `taken out after ${outAfterMs} ms`);
  const after = await load(lab, 600);
  assert.equal(after.failed, 0, `errors stopped once rs2 was out: ${JSON.stringify(after)}`);
  assert.equal(after.who.rs2 ?? 0, 0);
  process.stdout.write(
    `# ${dataplane}: rs2 killed: out after ${outAfterMs} ms; failed client requests meanwhile ${r2.failed} of ${r2.sent} ${JSON.stringify(r2.who)}\n`,
  );
  if (dataplane === 'proxy') assert.equal(r2.failed, 0, 'the proxy retries idempotent requests on another server');

  // 3. It comes back after rise × interval.
  responders.rs2 = await startResponder(lab, 'rs2');
  await eventually(
    'rs2 back',
    () => web(d1),
    (s) => server(s, RS.rs2)?.health === 'up' && !!server(s, RS.rs2)?.programmed,
    10_000,
  );
  const back = await load(lab, 600);
  assert.ok((back.who.rs2 ?? 0) > 0, `rs2 serves again: ${JSON.stringify(back.who)}`);

  // 4. Drain rs3 under load: 0 failed requests, and it takes no new ones.
  const draining = startProbe(lab, 'client', VIP, 10, 2_000);
  await draining.answered(30);
  const drainLoad = draining.done;
  const drained = await rs(lab, d1, ['drain', 'web', `${RS.rs3}:80`]);
  assert.equal(drained.code, 0, drained.out);
  assert.match(drained.out, /drained in/);
  const dl = await drainLoad;
  assert.equal(dl.failed, 0, `drain under load: ${JSON.stringify(dl)}`);
  const afterDrain = await load(lab, 600);
  assert.equal(afterDrain.who.rs3 ?? 0, 0, `a drained server takes no new connections: ${JSON.stringify(afterDrain)}`);
  const en = await rs(lab, d1, ['enable', 'web', `${RS.rs3}:80`]);
  assert.equal(en.code, 0, en.out);

  // The status table names everything.
  const table = await lab.exec('d1', process.execPath, [TANDEM, 'status', '--control', d1.control]);
  assert.match(table.stdout, /TCP {2}198\.18\.0\.100:80 rr/);
  assert.match(table.stdout, new RegExp(`-> 198\\.18\\.0\\.21:80 +${dataplane === 'nft' ? 'Masq' : 'Proxy'} +1 `));

  // 5. Failover: the new master serves the virtual service.
  await rs(lab, d1, ['enable', 'web', `${RS.rs3}:80`]);
  const fo = await lab.exec('d1', process.execPath, [TANDEM, 'standby', 'VI_1', '--control', d1.control]);
  assert.equal(fo.code, 0, fo.stdout + fo.stderr);
  await untilState(d2, 'MASTER');
  await eventually(
    'd2 serves web',
    () => web(d2),
    (s) => s?.role === 'serving' && s.servers.filter((r) => r.programmed).length === 3,
  );
  const onD2 = await load(lab, 600);
  assert.equal(onD2.failed, 0, JSON.stringify(onD2));
  assert.equal(Object.keys(onD2.who).length, 3, `d2 spreads over three: ${JSON.stringify(onD2.who)}`);
  assert.equal((await web(d1))?.role, 'standby');
}

test('nft data plane through the daemon: spread, kill, return, drain, failover', { skip, timeout: 120_000 }, () =>
  withLab('nft', (ctx) => story('nft', ctx)),
);

test(
  'user-space proxy through the daemon: spread, kill with retries, return, drain, failover',
  {
    skip,
    timeout: 120_000,
  },
  () => withLab('proxy', (ctx) => story('proxy', ctx)),
);
