// etcd as the elector, with a real etcd: three members (Debian's etcd 3.4) and three tandem directors under
// `election: etcd`, each in its own namespace of one lab (prefix t16). One lab, one run, in order:
//   1. the first listed director owns the group and alone holds the VIP;
//   2. the owner cut from etcd (nft in its namespace) steps down before its lease can expire; another takes over;
//      the checker (ip -ts monitor in every director) sees 0 ms with two holders;
//   3. the owner director dies (every tandem process SIGKILLed, its link down: a dead machine) — another owns
//      within lease TTL + one renew period (+ etcd's lease-expiry tick, 500 ms in 3.4);
//   4. one etcd member killed: no effect on ownership;
//   5. a second member killed (no quorum): `no_quorum_policy: stop` — the owner gives the group up before its
//      lease could expire; members restarted: a director owns it again.
// Throughout, never two live holders of the VIP.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type EtcdCluster, etcdUnavailable, startLabEtcd } from './etcd-lab.ts';
import { canBuildLabs, createLab, type Lab } from './lab.ts';
import { parseMonitorLine } from './partition-check.ts';
import { ETCD_HOSTS, etcdYaml } from './partition-etcd.ts';
import { eventually, startTandem, type TandemProc, workDir } from './tandem-lab.ts';

const VIP = '198.18.0.100';
const DIRECTORS = ['d1', 'd2', 'd3'];
const TTL_MS = 2_000;
const RENEW_MS = 250;
const MARGIN_MS = 750;
/** etcd 3.4's lessor looks for expired leases every 500 ms: an expiry is seen up to that late. */
const ETCD_EXPIRY_TICK_MS = 500;
/** The lab members' election timeout (etcd-lab.ts). */
const ETCD_ELECTION_MS = 500;

const skip = (!canBuildLabs() ? 'needs root and ip netns' : etcdUnavailable()) ?? false;

let lab: Lab;
let dir: string;
let etcd: EtcdCluster;
const tandems = new Map<string, TandemProc>();
/** VIP add/del events from ip -ts monitor in every director. */
const events: { t: number; host: string; op: 'add' | 'del' }[] = [];
const dead = new Map<string, number>();

/** Time with two or more live holders (a dead director's leftover address serves nobody) from `from` on. */
function twoHoldersMs(from: number, to = Date.now()): number {
  const holders = new Set<string>();
  let last = from;
  let two = 0;
  for (const e of [...events].sort((a, b) => a.t - b.t)) {
    const live = [...holders].filter((h) => !(dead.has(h) && dead.get(h)! <= Math.max(e.t, from)));
    if (e.t > from && live.length > 1) two += e.t - Math.max(last, from);
    last = e.t;
    if (e.op === 'add') holders.add(e.host);
    else holders.delete(e.host);
  }
  const live = [...holders].filter((h) => !dead.has(h));
  if (live.length > 1) two += to - Math.max(last, from);
  return two;
}

async function owners(): Promise<string[]> {
  const out: string[] = [];
  for (const [h, t] of tandems) {
    if (dead.has(h)) continue;
    const s = await t.status().catch(() => null);
    if (s?.ownership?.some((o) => o.group === 'lease:web' && o.owned)) out.push(h);
  }
  return out;
}

const firstAdd = (host: string | null, after: number) =>
  events.find((e) => e.op === 'add' && e.t >= after && (host === null || e.host === host) && !dead.has(e.host));

/** The last lines a director logged about etcd, for failure messages. */
const tail = (h: string) =>
  tandems
    .get(h)!
    .out.lines.filter((l) => /etcd|group web/.test(l))
    .slice(-15)
    .join('\n');

before(async () => {
  if (skip) return;
  const addrs: Record<string, string> = { ...ETCD_HOSTS, client: '198.18.0.50' };
  DIRECTORS.forEach((d, i) => {
    addrs[d] = `198.18.0.${11 + i}`;
  });
  dir = workDir('t16-etcd-');
  lab = await createLab([...DIRECTORS, 'client', ...Object.keys(ETCD_HOSTS)], addrs, { prefix: 't16' });
  etcd = await startLabEtcd(lab, Object.keys(ETCD_HOSTS), dir);
  for (const h of DIRECTORS) {
    const mon = lab.spawn(h, 'ip', ['-ts', 'monitor', 'address']);
    let buf = '';
    mon.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      for (;;) {
        const i = buf.indexOf('\n');
        if (i < 0) break;
        const e = parseMonitorLine(buf.slice(0, i), VIP);
        buf = buf.slice(i + 1);
        if (e) events.push({ ...e, host: h });
      }
    });
  }
  const topo = { directors: DIRECTORS, addrs, vip: VIP };
  const params = { advertMs: 100, faultMs: 3_000, settleMs: 1_000 };
  const text = etcdYaml({ topo, params, dir })
    .replace(/lease_ttl: \S+/, `lease_ttl: ${TTL_MS}ms`)
    .replace(/renew_interval: \S+/, `renew_interval: ${RENEW_MS}ms`)
    .replace(/safety_margin: \S+/, `safety_margin: ${MARGIN_MS}ms`);
  writeFileSync(join(dir, 'cluster.yaml'), text);
  // d1 first, so that it is the one the others find holding the key (it also campaigns first: k × lease_ttl).
  for (const h of DIRECTORS) tandems.set(h, await startTandem(lab, h, text, { dir }));
});

after(async () => {
  if (skip) return;
  await lab?.teardown();
  rmSync(dir, { recursive: true, force: true });
});

test('the first listed director owns the group, with the key create revision as fencing token', { skip }, async () => {
  await eventually('d1 owns web', owners, (o) => o.join() === 'd1', 20_000);
  const s = await tandems.get('d1')!.status();
  const o = s.ownership!.find((x) => x.group === 'lease:web')!;
  assert.ok(o.token > 0, JSON.stringify(o));
  await eventually('d1 holds the VIP', () => firstAdd('d1', 0), Boolean, 5_000);
  assert.equal(twoHoldersMs(0), 0);
});

let owner = 'd1';

test('the owner cut from etcd steps down before its lease can expire; 0 ms with two holders', { skip }, async () => {
  const file = join(dir, 't16-cut.nft');
  const set = `{ ${Object.values(ETCD_HOSTS).join(', ')} }`;
  writeFileSync(
    file,
    `table ip t16_cut {\n  chain output {\n    type filter hook output priority -300; policy accept;\n` +
      `    ip daddr ${set} tcp dport 2379 drop\n  }\n  chain input {\n` +
      `    type filter hook input priority -300; policy accept;\n    ip saddr ${set} tcp sport 2379 drop\n  }\n}\n`,
  );
  const from = Date.now();
  await lab.run(owner, 'nft', ['-f', file]);
  try {
    const next = await eventually('another director owns web', owners, (o) => o.length === 1 && o[0] !== owner, 10_000);
    const gone = events.find((e) => e.host === owner && e.op === 'del' && e.t >= from);
    const took = firstAdd(next[0]!, from);
    assert.ok(gone && took, JSON.stringify(events));
    // Stepped down at most TTL − margin after the cut (its last renewal was sent before it), and before the other
    // added the VIP.
    assert.ok(gone.t - from <= TTL_MS - MARGIN_MS + 300, `stepped down ${gone.t - from} ms after the cut`);
    assert.ok(gone.t < took.t, `stepped down at ${gone.t - from}, other took at ${took.t - from}`);
    const s = await tandems.get(owner)!.status();
    assert.equal(s.ownership!.find((x) => x.group === 'lease:web')!.cause, 'lease-unrenewed');
    console.log(
      `# cut: stepped down after ${Math.round(gone.t - from)} ms, ${next[0]} took over after ${Math.round(took.t - from)} ms`,
    );
    owner = next[0]!;
  } finally {
    await lab.run('d1', 'nft', ['delete', 'table', 'ip', 't16_cut']);
  }
  // Healed: d1 finds its lease gone and does not take the group back.
  await new Promise((r) => setTimeout(r, 1_500));
  assert.deepEqual(await owners(), [owner]);
  assert.equal(twoHoldersMs(from), 0);
});

test('the owner director dies: another owns within lease TTL + one renew period', { skip }, async () => {
  const t = tandems.get(owner)!;
  const daemon = Number(/Supervisor: started daemon pid (\d+)/.exec(t.out.text())?.[1]);
  const pids = [t.child.pid!, daemon].filter((p) => p > 0);
  for (const p of pids) process.kill(p, 'SIGSTOP');
  const from = Date.now();
  for (const p of pids) process.kill(p, 'SIGKILL');
  dead.set(owner, from);
  await lab.setLink(owner, false);
  const next = await eventually('a survivor owns web', owners, (o) => o.length === 1, 10_000);
  const took = await eventually('the new owner holds the VIP', () => firstAdd(next[0]!, from), Boolean, 5_000);
  const ms = took!.t - from;
  console.log(
    `# kill: ${next[0]} holds the VIP ${Math.round(ms)} ms after SIGKILL (TTL ${TTL_MS} + renew ${RENEW_MS})`,
  );
  assert.ok(ms <= TTL_MS + RENEW_MS + ETCD_EXPIRY_TICK_MS, `took ${ms} ms`);
  assert.equal(twoHoldersMs(from), 0);
  owner = next[0]!;
});

test('one etcd member killed: no effect on ownership', { skip }, async () => {
  const from = Date.now();
  const before = (await tandems.get(owner)!.status()).ownership!.find((x) => x.group === 'lease:web')!.token;
  await etcd.kill('e1');
  await new Promise((r) => setTimeout(r, 3 * TTL_MS));
  assert.deepEqual(await owners(), [owner]);
  const now = (await tandems.get(owner)!.status()).ownership!.find((x) => x.group === 'lease:web')!.token;
  assert.equal(now, before, 'the same ownership (token) throughout');
  const moved = events.filter((e) => e.t >= from);
  assert.equal(moved.length, 0, `the VIP moved: ${JSON.stringify(moved)}\n${tail(owner)}`);
});

test('two etcd members killed (no quorum), policy stop: the owner gives up; restarted, a director owns again', {
  skip,
}, async () => {
  const from = Date.now();
  await etcd.kill('e2');
  await eventually('nobody owns web', owners, (o) => o.length === 0, 2 * TTL_MS);
  const gone = events.find((e) => e.host === owner && e.op === 'del' && e.t >= from);
  // A leader left alone still renews leases (etcd 3.4's lessor) until it notices it lost the quorum, one election
  // timeout (500 ms in the lab) later: the last renewal may come that long after the kill.
  const bound = TTL_MS - MARGIN_MS + ETCD_ELECTION_MS + 300;
  assert.ok(gone && gone.t - from <= bound, `gave up ${gone ? gone.t - from : 'never'} ms after (bound ${bound})`);
  const s = await tandems.get(owner)!.status();
  assert.equal(s.ownership!.find((x) => x.group === 'lease:web')!.cause, 'lease-unrenewed');
  etcd.start('e1');
  etcd.start('e2');
  await etcd.healthy();
  const back = await eventually('a director owns web again', owners, (o) => o.length === 1, 15_000);
  console.log(`# quorum: gave up after ${Math.round(gone!.t - from)} ms; ${back[0]} owns again after restart`);
  assert.equal(twoHoldersMs(0), 0);
});
