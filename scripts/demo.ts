// The README's main-job demo: a namespace lab with two directors, three real servers and a client. Two tandem nodes
// share a VIP and load-balance it over the real servers (kernel data plane, nftables). Shows `tandem status` (the
// VRRP instance and an ipvsadm-like table), the spread the client sees, a drain, a real server that dies and is
// taken out, direct routing over a second VIP (replies bypass the director), adverts lost while the master still
// serves (the takeover guard keeps the backup from taking the VIP: no split brain), the master losing its link, and
// tears everything down. Needs root (network namespaces); without it, it
// runs the VRRP story under simulated time and load-balances over the user-space proxy on 127.0.0.0/8 instead.
// Run: node --import tsx scripts/demo.ts
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import type { LbServiceStatus } from '../src/api/contract.ts';
import { canBuildLabs, createLab } from '../test/netns/lab.ts';
import {
  eventually,
  Output,
  probe,
  startProbe,
  startResponder,
  startTandem,
  TANDEM,
  type TandemProc,
  untilState,
  workDir,
} from '../test/netns/tandem-lab.ts';

const VIP = '198.18.0.100';
const DR_VIP = '198.18.0.101';
const RS = ['198.18.0.21', '198.18.0.22', '198.18.0.23'];
const CONFIG = `# One file for both directors: per-node values are maps by node name.
cluster:
  nodes:
    - { name: d1, address: 198.18.0.11 }
    - { name: d2, address: 198.18.0.12 }
vrrp:
  instances:
    - name: VI_1
      interface: eth0
      vrid: 51
      version: 3
      priority: { d1: 150, d2: 100 }
      advert_interval: 100ms
      vips: [${VIP}/24, ${DR_VIP}/24]
lb:
  services:
    - name: web
      vip: ${VIP}
      port: 80
      scheduler: rr
      snat: true            # one-armed: replies come back through the director
      check: { type: http, path: /, interval: 500ms, rise: 2, fall: 2, timeout: 300ms }
      real_servers:
${RS.map((a) => `        - { address: ${a} }`).join('\n')}
    - name: web-dr
      vip: ${DR_VIP}
      port: 80
      method: dr            # direct routing: frames forwarded unchanged, replies go straight to the client
      check: { type: tcp, interval: 500ms, rise: 2, fall: 2, connect_timeout: 300ms }
      real_servers:
${RS.map((a) => `        - { address: ${a} }`).join('\n')}
`;

/** The `web` service as a node's status shows it. */
const web = async (p: TandemProc, name = 'web'): Promise<LbServiceStatus | undefined> =>
  (await p.status()).lb?.services.find((s) => s.name === name);

const say = (s: string) => process.stdout.write(`\n== ${s}\n`);
const show = (args: string[], ns?: string) => {
  const argv = ns
    ? ['ip', 'netns', 'exec', ns, process.execPath, TANDEM, ...args]
    : [process.execPath, TANDEM, ...args];
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  process.stdout.write(r.stdout + r.stderr);
};

if (!canBuildLabs()) {
  say('not root (or no ip netns): the VRRP story under simulated time, then load balancing with the user-space proxy');
  show(['sim', join(new URL('..', import.meta.url).pathname, 'examples/two-directors.yaml')]);
  await proxyDemo();
  process.exit(0);
}

const dir = workDir('tandem-demo-');
const lab = await createLab(['d1', 'd2', 'client', 'rs1', 'rs2', 'rs3'], {
  d1: '198.18.0.11',
  d2: '198.18.0.12',
  client: '198.18.0.50',
  rs1: RS[0]!,
  rs2: RS[1]!,
  rs3: RS[2]!,
});
try {
  say(`lab ${lab.id}: directors d1, d2; real servers rs1..rs3 (${RS.join(', ')}); client 198.18.0.50; VIP ${VIP}`);
  for (const d of ['d1', 'd2']) await lab.run(d, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
  const responders: Record<string, ChildProcess> = {};
  for (const h of ['rs1', 'rs2', 'rs3']) {
    // seed 004's lvs_real: the DR VIP on lo, arp_ignore=1 / arp_announce=2 (undone by `tandem realserver down`)
    await lab.run(h, process.execPath, [TANDEM, 'realserver', 'up', DR_VIP, '--state', join(dir, `${h}-rs.json`)]);
    responders[h] = await startResponder(lab, h);
  }
  const d1 = await startTandem(lab, 'd1', CONFIG, { dir });
  const d2 = await startTandem(lab, 'd2', CONFIG, { dir });
  await untilState(d1, 'MASTER');
  await eventually(
    'd1 serves web over three healthy servers',
    () => web(d1),
    (w) => w?.role === 'serving' && w.servers.filter((x) => x.programmed && x.health === 'up').length === 3,
    20_000,
  );

  say('tandem status on d1 (the master: it programs the kernel; d2 checks the servers too, ready to take over)');
  show(['status', '--control', d1.control]);

  const spread = await probe(lab, 'client', VIP, 10, 1_500);
  say('the client requests the VIP every 10 ms for 1.5 s, each on a new connection');
  process.stdout.write(`answered ${spread.ok}/${spread.sent}, by ${JSON.stringify(spread.who)}\n`);

  say(
    `direct routing: the same real servers behind ${DR_VIP} (method: dr); the client's packets pass d1, the replies do not`,
  );
  await eventually(
    'd1 forwards web-dr to three healthy servers',
    () => web(d1, 'web-dr'),
    (w) => w?.role === 'serving' && w.servers.filter((x) => x.programmed && x.health === 'up').length === 3,
    20_000,
  );
  await countOnD1(lab.host('d1').ns, 'add');
  const viaDr = await probe(lab, 'client', DR_VIP, 10, 1_500);
  const c = await countOnD1(lab.host('d1').ns, 'read');
  process.stdout.write(
    `answered ${viaDr.ok}/${viaDr.sent}, by ${JSON.stringify(viaDr.who)}; d1 saw ${c.requests} client packets and ${c.replies} replies\n`,
  );
  await countOnD1(lab.host('d1').ns, 'delete');

  say('drain rs3 under load: new connections go elsewhere, open ones finish, the command waits for them');
  const during = startProbe(lab, 'client', VIP, 10, 2_000);
  await during.answered(30);
  show(['rs', 'drain', 'web', `${RS[2]}:80`, '--control', d1.control], lab.host('d1').ns);
  const d = await during.done;
  process.stdout.write(
    `client during the drain: failed ${d.failed} of ${d.sent}; answered by ${JSON.stringify(d.who)}\n`,
  );
  show(['rs', 'enable', 'web', `${RS[2]}:80`, '--control', d1.control], lab.host('d1').ns);

  say('rs2 dies: its check fails twice (fall 2 × 500 ms) and tandem takes it out');
  const kill = startProbe(lab, 'client', VIP, 10, 3_000);
  await kill.answered(30);
  responders.rs2!.kill('SIGTERM');
  const k = await kill.done;
  process.stdout.write(
    `client: failed ${k.failed} of ${k.sent} until rs2 was out; answered by ${JSON.stringify(k.who)}\n`,
  );
  show(['status', '--control', d1.control]);

  say('split brain that does not happen: d2 stops hearing the adverts for 3 s while d1 still serves');
  process.stdout.write('(an nft rule in d2 drops VRRP; keepalived 2.2.7 here: both MASTER for the whole drop)\n');
  const sb = startProbe(lab, 'client', VIP, 10, 4_000);
  await sb.answered(30);
  const table = `tnddemo${lab.id}sb`;
  await lab.run('d2', 'nft', ['add', 'table', 'inet', table]);
  await lab.run('d2', 'nft', ['add', 'chain', 'inet', table, 'in', '{ type filter hook input priority 0; }']);
  await lab.run('d2', 'nft', ['add', 'rule', 'inet', table, 'in', 'ip', 'protocol', 'vrrp', 'drop']);
  const holders = { both: 0, samples: 0 };
  let guardLine = '';
  const until = Date.now() + 3_000;
  while (Date.now() < until) {
    const [a, b] = await Promise.all(['d1', 'd2'].map((h) => lab.run(h, 'ip', ['-o', 'addr', 'show', 'dev', 'eth0'])));
    holders.samples++;
    if (a!.includes(` ${VIP}/`) && b!.includes(` ${VIP}/`)) holders.both++;
    const g = (await d2.status()).instances[0]?.guard;
    if (g?.state === 'held') guardLine = g.message;
  }
  await lab.run('d2', 'nft', ['delete', 'table', 'inet', table]);
  const sbr = await sb.done;
  process.stdout.write(
    `both directors held the VIP in ${holders.both} of ${holders.samples} samples; d2's guard: ${guardLine || '(not engaged)'}\n` +
      `client: failed ${sbr.failed} of ${sbr.sent}, answered by ${JSON.stringify(sbr.who)}\n`,
  );

  say('the master (d1) loses its link: d2 takes the VIP and serves the virtual service');
  const client = startProbe(lab, 'client', VIP, 10, 4_000);
  await client.answered(80);
  await lab.setLink('d1', false);
  const r = await client.done;
  process.stdout.write(
    `requests ${r.sent}, answered ${r.ok}, failed ${r.failed}; longest gap ${r.maxGapMs} ms; answered by ${JSON.stringify(r.who)}\n`,
  );
  say('tandem status on d2');
  show(['status', '--control', d2.control]);

  say('d1 gets its link back and takes over again (it has the higher priority); d2 hands back make-before-break');
  // The client runs across the return: d2 keeps the VIP until d1 has it and has announced it (docs/handover.md).
  const returning = startProbe(lab, 'client', VIP, 10, 6_000);
  await returning.answered(50);
  await lab.setLink('d1', true);
  await untilState(d1, 'MASTER', 20_000);
  await eventually(
    'd1 serves web again',
    () => web(d1),
    (w) => w?.role === 'serving',
    20_000,
  );
  const ret = await returning.done;
  process.stdout.write(
    `during d1's return: requests ${ret.sent}, answered ${ret.ok}, failed ${ret.failed}; longest gap ${ret.maxGapMs} ms; ` +
      `answered by ${JSON.stringify(ret.who)}\n`,
  );
  const back = await probe(lab, 'client', VIP, 10, 1_000);
  process.stdout.write(`client: ${back.ok}/${back.sent} answered, by ${JSON.stringify(back.who)}\n`);
} finally {
  say('tearing the lab down');
  await lab.teardown();
  rmSync(dir, { recursive: true, force: true });
}

/** A counting table in d1's ingress (before tandem's): client packets to the DR VIP, and replies from it. */
async function countOnD1(ns: string, what: 'add' | 'read' | 'delete'): Promise<{ requests: number; replies: number }> {
  const t = `${ns}cnt`;
  const nft = (args: string[], input?: string) =>
    spawnSync('ip', ['netns', 'exec', ns, 'nft', ...args], { encoding: 'utf8', input });
  if (what === 'add')
    nft(
      ['-f', '-'],
      `table netdev ${t} {\n chain c {\n  type filter hook ingress device "eth0" priority -500; policy accept;\n` +
        `  ip saddr ${DR_VIP} counter comment "replies"\n  ip daddr ${DR_VIP} meta l4proto tcp counter comment "requests"\n }\n}\n`,
    );
  if (what === 'delete') nft(['delete', 'table', 'netdev', t]);
  const text = what === 'read' ? nft(['list', 'table', 'netdev', t]).stdout : '';
  const n = (c: string) => Number(new RegExp(`packets (\\d+) bytes \\d+ comment "${c}"`).exec(text)?.[1] ?? 0);
  return { requests: n('requests'), replies: n('replies') };
}

/** Without root: `tandem run` with only a user-space proxy service on loopback, three responders behind it. */
async function proxyDemo(): Promise<void> {
  const root = new URL('..', import.meta.url).pathname;
  const work = workDir('tandem-demo-');
  const children: ChildProcess[] = [];
  try {
    const backends = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
    for (const [i, addr] of backends.entries()) {
      const c = spawn(
        process.execPath,
        ['--import', 'tsx', join(root, 'test/netns/tools/responder.ts'), `rs${i + 1}`, '18081', addr],
        {
          cwd: root,
        },
      );
      children.push(c);
      await new Output(c).waitFor(/listening/, 15_000);
    }
    const config = join(work, 'proxy.yaml');
    writeFileSync(
      config,
      `lb:
  services:
    - name: web
      vip: 127.0.0.1
      port: 18080
      dataplane: proxy
      proxy: { mode: http }
      scheduler: rr
      check: { type: http, interval: 500ms, rise: 1, fall: 2, timeout: 300ms }
      real_servers:
${backends.map((a) => `        - { address: ${a}, port: 18081 }`).join('\n')}
`,
    );
    const control = join(work, 'tandem.sock');
    const daemon = spawn(process.execPath, [TANDEM, 'run', '-c', config, '--control', control, '--node', 'demo'], {
      cwd: root,
    });
    children.push(daemon);
    const out = new Output(daemon);
    await out.waitFor(/serving virtual service web/, 20_000);
    // Served means programmed and checked: wait until every responder answers through the proxy.
    await eventually(
      'the proxy answers from all three responders',
      async () => {
        const seen = new Set<string>();
        for (let i = 0; i < 6; i++) seen.add(await get('http://127.0.0.1:18080/'));
        return seen.size;
      },
      (n) => n === 3,
      20_000,
    );
    say(`tandem run -c ${config} (no VRRP: a proxy on 127.0.0.1:18080 over three responders)`);
    show(['status', '--control', control]);
    const who: Record<string, number> = {};
    for (let i = 0; i < 30; i++) {
      const name = await get('http://127.0.0.1:18080/');
      who[name] = (who[name] ?? 0) + 1;
    }
    say('30 requests through the proxy');
    process.stdout.write(`${JSON.stringify(who)}\n`);
  } finally {
    for (const c of children.reverse()) c.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  }
}

function get(url: string): Promise<string> {
  return new Promise((resolve) => {
    const req = request(url, { timeout: 2_000 }, (res) => {
      let body = '';
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolve(body.trim() || `HTTP ${res.statusCode}`));
    });
    req.on('error', (e) => resolve(`error ${(e as NodeJS.ErrnoException).code ?? e.message}`));
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}
