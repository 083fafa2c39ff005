// The nft data plane on real kernels: a director namespace runs tandem's nftables table (through
// `ip netns exec DIRECTOR nft -f -`), three real servers answer with their own name, and clients connect to virtual
// services. Two NAT topologies: two-armed (the client 198.18.2.10 sits behind the director, the real servers route
// back through it) and one-armed (client c2 shares the servers' segment; the director masquerades). One lab for the
// whole file, one service set per test; every load loop is bounded in count and time. Needs root; skipped otherwise.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, test } from 'node:test';
import { createNftDataPlane } from '../../src/dataplane/nft/index.ts';
import type { ConnCounts, DataPlane, ServiceProgram } from '../../src/lb/dataplane.ts';
import type { DesiredBackend } from '../../src/lb/types.ts';
import { createConntrackReader, parseConntrack } from '../../src/os/conntrack.ts';
import { createNftRunner, type NftRunner } from '../../src/os/nft.ts';
import { canBuildLabs, createLab, type Lab } from './lab.ts';
import { eventually, Output } from './tandem-lab.ts';

const skip = canBuildLabs() ? false : 'needs root and ip netns (run the suite as root to build network namespaces)';

const VIP = '198.18.0.100';
const VIP_NOWHERE = '198.18.0.101';
const VIP6 = '2001:db8::100';
const TABLE = `tndlb${process.pid.toString(36)}`;
const SERVERS = ['be1', 'be2', 'be3'] as const;
const ADDR: Record<string, string> = {
  dir: '198.18.0.10',
  cli: '198.18.2.10',
  c2: '198.18.0.12',
  be1: '198.18.0.21',
  be2: '198.18.0.22',
  be3: '198.18.0.23',
};
const ADDR6: Record<string, string> = { be1: '2001:db8::21', be2: '2001:db8::22', be3: '2001:db8::23' };

// A responder for every real server: TCP on the given ports (IPv4 and IPv6), UDP on others; each request line or
// datagram gets one line back, "NAME PEER", so a test sees who answered and whom the server saw.
const RESPONDER = `
const net = require('node:net'), dgram = require('node:dgram');
const [name, tcp, udp] = process.argv.slice(1);
const peer = (a) => a.replace(/^::ffff:/, '');
for (const p of tcp.split(',').filter(Boolean))
  net.createServer((s) => {
    s.setEncoding('utf8');
    s.on('error', () => {});
    s.on('data', (d) => { for (const c of d) if (c === '\\n') s.write(name + ' ' + peer(s.remoteAddress) + '\\n'); });
  }).listen({ port: Number(p), host: '::', ipv6Only: false });
for (const p of udp.split(',').filter(Boolean)) {
  const u = dgram.createSocket('udp4');
  u.on('message', (_m, r) => u.send(name + ' ' + r.address + '\\n', r.port, r.address));
  u.bind(Number(p));
}
setTimeout(() => process.stdout.write('listening\\n'), 100);
`;

// The client. Modes (all bounded; each connection has a 3 s deadline):
//   fresh HOST PORT N [LOCAL]  N new TCP connections one after another → {"who":[…],"peers":[…],"errors":[…]}
//   udp HOST PORT N            N datagrams, each from a new socket → {"who":[…],"errors":[…]}
//   connect HOST PORT          one connection attempt → {"outcome":"connected"|"ECONNREFUSED"|…,"ms":…}
//   hold HOST PORT N           N connections kept open; stdin "ask" asks on each → {"who":[…]}, "end" closes them
const CLIENT = `
const net = require('node:net'), dgram = require('node:dgram');
const [mode, host, portText, nText, local] = process.argv.slice(1);
const port = Number(portText), n = Math.min(Number(nText || 1), 500);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
setTimeout(() => { out({ error: 'client deadline' }); process.exit(2); }, 60000).unref();
function open() {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port, ...(local ? { localAddress: local } : {}) });
    s.setTimeout(3000, () => s.destroy(new Error('timeout')));
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}
function ask(s) {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d) => { buf += d; const i = buf.indexOf('\\n'); if (i >= 0) { done(); resolve(buf.slice(0, i)); } };
    const onErr = (e) => { done(); reject(e); };
    const onEnd = () => { done(); reject(new Error('closed')); };
    const done = () => { s.off('data', onData); s.off('error', onErr); s.off('end', onEnd); };
    s.setEncoding('utf8'); s.on('data', onData); s.once('error', onErr); s.once('end', onEnd);
    s.write('hi\\n');
  });
}
(async () => {
  if (mode === 'fresh') {
    const who = [], peers = [], errors = [];
    for (let i = 0; i < n; i++) {
      try { const s = await open(); const [w, p] = (await ask(s)).split(' '); who.push(w); peers.push(p); s.end(); }
      catch (e) { errors.push(e.code || e.message); }
    }
    out({ who, peers, errors });
  } else if (mode === 'udp') {
    const who = [], errors = [];
    for (let i = 0; i < n; i++) {
      const u = dgram.createSocket('udp4');
      try {
        who.push(await new Promise((resolve, reject) => {
          const t = setTimeout(() => reject(new Error('timeout')), 3000);
          u.on('message', (m) => { clearTimeout(t); resolve(String(m).split(' ')[0]); });
          u.on('error', reject);
          u.send('hi\\n', port, host);
        }));
      } catch (e) { errors.push(e.code || e.message); }
      u.close();
    }
    out({ who, errors });
  } else if (mode === 'connect') {
    const t0 = Date.now();
    try { const s = await open(); out({ outcome: 'connected', ms: Date.now() - t0 }); s.destroy(); }
    catch (e) { out({ outcome: e.code || e.message, ms: Date.now() - t0 }); }
  } else if (mode === 'hold') {
    const socks = [], who = [];
    for (let i = 0; i < n; i++) { const s = await open(); s.setTimeout(0); socks.push(s); who.push((await ask(s)).split(' ')[0]); }
    out({ who });
    let line = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', async (d) => {
      line += d;
      for (let i = line.indexOf('\\n'); i >= 0; i = line.indexOf('\\n')) {
        const cmd = line.slice(0, i); line = line.slice(i + 1);
        if (cmd === 'ask') {
          const r = [];
          for (const s of socks) { try { r.push((await ask(s)).split(' ')[0]); } catch (e) { r.push('error:' + (e.code || e.message)); } }
          out({ who: r });
        } else if (cmd === 'end') { for (const s of socks) s.end(); setTimeout(() => { out({ closed: true }); process.exit(0); }, 200); }
      }
    });
  }
})().catch((e) => { out({ error: String(e) }); process.exit(1); });
`;

let lab: Lab;
let nft: NftRunner;
let dp: DataPlane;
const logs: string[] = [];

function be(host: string, port: number, weight = 1, family: 4 | 6 = 4): DesiredBackend {
  const addr = family === 4 ? ADDR[host]! : ADDR6[host]!;
  const key = family === 4 ? `${addr}:${port}` : `[${addr}]:${port}`;
  return { key, addr, port, weight, op: weight > 0 ? 'up' : 'draining', reason: weight > 0 ? 'up' : 'draining' };
}

function svc(over: Partial<ServiceProgram> & { id: string }): ServiceProgram {
  return {
    vip: VIP,
    port: 80,
    protocol: 'tcp',
    family: 4,
    scheduler: 'rr',
    method: 'nat',
    persistence: null,
    quorum: 'up',
    backends: SERVERS.map((h) => be(h, 80)),
    sorry: null,
    ...over,
  };
}

async function client<T>(host: string, args: (string | number)[]): Promise<T> {
  const r = await lab.exec(host, process.execPath, ['-e', CLIENT, ...args.map(String)], 90_000);
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new Error(`client ${args.join(' ')} in ${host} failed (${r.code}): ${r.stdout}${r.stderr}`);
  }
}

type Fresh = { who: string[]; peers: string[]; errors: string[] };
const fresh = (host: string, target: string, port: number, n: number, local?: string) =>
  client<Fresh>(host, ['fresh', target, port, n, ...(local ? [local] : [])]);

function tally(names: readonly string[]): Record<string, number> {
  const t: Record<string, number> = {};
  for (const n of names) t[n] = (t[n] ?? 0) + 1;
  return t;
}

/** A client holding connections open, driven over its stdin. */
class Held {
  readonly out: Output;
  #seen = 0;
  constructor(readonly child: ChildProcess) {
    this.out = new Output(child);
  }
  static async open(host: string, target: string, port: number, n: number): Promise<{ held: Held; who: string[] }> {
    const child = lab.spawn(host, process.execPath, ['-e', CLIENT, 'hold', target, String(port), String(n)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const held = new Held(child);
    return { held, who: await held.next() };
  }
  /** The next {"who":[…]} line. */
  async next(): Promise<string[]> {
    const want = ++this.#seen;
    const line = await eventually(
      'client answer',
      () => this.out.lines.filter((l) => l.startsWith('{"who"')),
      (ls) => ls.length >= want,
      15_000,
    );
    return (JSON.parse(line[want - 1]!) as { who: string[] }).who;
  }
  async ask(): Promise<string[]> {
    this.child.stdin?.write('ask\n');
    return this.next();
  }
  async end(): Promise<void> {
    this.child.stdin?.write('end\n');
    await this.out.waitFor(/"closed":true/, 10_000);
  }
}

const plain = (c: ConnCounts) => Object.fromEntries([...c].map(([id, m]) => [id, Object.fromEntries(m)]));

before(async () => {
  if (skip) return;
  lab = await createLab(['dir', 'cli', 'c2', 'be1', 'be2', 'be3'], ADDR);
  const sys = (host: string, kv: string[]) => lab.run(host, 'sysctl', ['-q', '-w', ...kv]);
  // The director routes between the client network and the servers' segment (its own namespace only), and must not
  // tell the servers to reply to the client directly (ICMP redirects would bypass the reverse NAT).
  await sys('dir', [
    'net.ipv4.ip_forward=1',
    'net.ipv4.conf.all.send_redirects=0',
    'net.ipv4.conf.eth0.send_redirects=0',
    'net.ipv6.conf.all.forwarding=1',
  ]);
  await lab.run('dir', 'ip', ['addr', 'add', '198.18.2.1/24', 'dev', 'eth0']);
  await lab.run('dir', 'ip', ['addr', 'add', `${VIP}/32`, 'dev', 'eth0']);
  await lab.run('dir', 'ip', ['-6', 'addr', 'add', '2001:db8::1/64', 'dev', 'eth0', 'nodad']);
  await lab.run('dir', 'ip', ['-6', 'addr', 'add', '2001:db8:2::1/64', 'dev', 'eth0', 'nodad']);
  await lab.run('cli', 'ip', ['addr', 'add', '198.18.2.11/24', 'dev', 'eth0']);
  await lab.run('cli', 'ip', ['route', 'add', '198.18.0.0/24', 'via', '198.18.2.1']);
  await lab.run('cli', 'ip', ['-6', 'addr', 'add', '2001:db8:2::10/64', 'dev', 'eth0', 'nodad']);
  await lab.run('cli', 'ip', ['-6', 'route', 'add', '2001:db8::/64', 'via', '2001:db8:2::1']);
  const ready: Promise<string>[] = [];
  for (const h of SERVERS) {
    // IPv6 takes accept_redirects per interface: 'all' alone would leave eth0 following the director's redirects.
    await sys(h, [
      'net.ipv4.conf.all.accept_redirects=0',
      'net.ipv6.conf.all.accept_redirects=0',
      'net.ipv6.conf.eth0.accept_redirects=0',
    ]);
    await lab.run(h, 'ip', ['route', 'add', '198.18.2.0/24', 'via', ADDR.dir!]);
    await lab.run(h, 'ip', ['-6', 'addr', 'add', `${ADDR6[h]}/64`, 'dev', 'eth0', 'nodad']);
    await lab.run(h, 'ip', ['-6', 'route', 'add', '2001:db8:2::/64', 'via', '2001:db8::1']);
    const child = lab.spawn(h, process.execPath, ['-e', RESPONDER, h, '80,8080,8081,8082', '5353,5354']);
    ready.push(new Output(child).waitFor(/listening/, 15_000));
  }
  await Promise.all(ready);
  const wrap = ['ip', 'netns', 'exec', lab.host('dir').ns];
  nft = createNftRunner({ wrap });
  dp = createNftDataPlane({
    table: TABLE,
    nft,
    conntrack: createConntrackReader({ wrap }),
    log: (l) => logs.push(l),
  });
});

after(async () => {
  if (skip) return;
  await dp?.close().catch(() => undefined);
  await lab?.teardown();
});

test('rr spreads 30 new connections exactly 10/10/10 over three servers, which see the real client', {
  skip,
}, async () => {
  const r = await dp.apply([svc({ id: 'rr' })]);
  assert.deepEqual(r.added, ['rr']);
  const f = await fresh('cli', VIP, 80, 30);
  assert.deepEqual(f.errors, []);
  assert.deepEqual(tally(f.who), { be1: 10, be2: 10, be3: 10 });
  assert.deepEqual(f.who.slice(0, 3), ['be1', 'be2', 'be3'], 'round robin in pool order');
  assert.deepEqual([...new Set(f.peers)], [ADDR.cli], 'two-armed NAT: the servers see the client address');
});

test('wrr follows the weights (3:1) and weight 0 takes nothing', { skip }, async () => {
  await dp.apply([
    svc({ id: 'wrr', scheduler: 'wrr', backends: [be('be1', 80, 3), be('be2', 80, 1), be('be3', 80, 0)] }),
  ]);
  const f = await fresh('cli', VIP, 80, 40);
  assert.deepEqual(f.errors, []);
  assert.deepEqual(tally(f.who), { be1: 30, be2: 10 });
});

test('sh and mh keep one client on one server; persistence-free', { skip }, async () => {
  for (const scheduler of ['sh', 'mh'] as const) {
    await dp.apply([svc({ id: scheduler, scheduler })]);
    for (const local of ['198.18.2.10', '198.18.2.11']) {
      const f = await fresh('cli', VIP, 80, 12, local);
      assert.deepEqual(f.errors, []);
      assert.equal(new Set(f.who).size, 1, `${scheduler} from ${local}: ${f.who.join(' ')}`);
    }
  }
});

test('persistence keeps a client network on one server across connections, then expires', { skip }, async () => {
  // rr would move every connection; the affinity (one /24: both client addresses) pins them to the first pick.
  const s = svc({ id: 'sticky', persistence: { timeoutMs: 3_000, netmaskPrefix: 24 } });
  await dp.apply([s]);
  const a = await fresh('cli', VIP, 80, 6, '198.18.2.10');
  const b = await fresh('cli', VIP, 80, 6, '198.18.2.11');
  assert.deepEqual([...a.errors, ...b.errors], []);
  assert.deepEqual([...new Set([...a.who, ...b.who])], ['be1']);
  // Wait for the kernel to expire the affinity (3 s after the last connection), then rr picks its next slot.
  const set = `svc_sticky_aff_${ADDR.be1}-80`;
  await eventually(
    'affinity expired',
    () => lab.run('dir', 'nft', ['list', 'set', 'inet', TABLE, set]),
    (text) => !/elements = /.test(text),
    10_000,
  );
  const c = await fresh('cli', VIP, 80, 3);
  assert.deepEqual(c.who, ['be2', 'be2', 'be2'], 'a new affinity, to the next server in turn');
  // An affinity to a server that drains is not honoured: its clients are scheduled afresh.
  await dp.apply([{ ...s, backends: [be('be1', 80), be('be2', 80, 0), be('be3', 80)] }]);
  const d = await fresh('cli', VIP, 80, 3);
  assert.ok(!d.who.includes('be2'), d.who.join(' '));
  assert.equal(new Set(d.who).size, 1);
});

test('an atomic update moves new connections; a keep-alive connection on the removed server keeps being served', {
  skip,
}, async () => {
  const s = svc({ id: 'swap', port: 8080, backends: SERVERS.map((h) => be(h, 8080)) });
  await dp.apply([s]);
  const { held, who } = await Held.open('cli', VIP, 8080, 1);
  try {
    assert.deepEqual(who, ['be1']);
    // New connections in flight while the map is replaced several times: none may fail.
    const during = fresh('cli', VIP, 8080, 40);
    const without1 = { ...s, backends: [be('be2', 8080), be('be3', 8080)] };
    for (const next of [without1, s, without1]) {
      const r = await dp.apply([next]);
      assert.deepEqual(r.changed, ['swap']);
    }
    assert.deepEqual((await during).errors, []);
    assert.deepEqual(await held.ask(), ['be1'], 'the established connection still reaches be1');
    const after = await fresh('cli', VIP, 8080, 10);
    assert.deepEqual(after.errors, []);
    assert.ok(!after.who.includes('be1'), after.who.join(' '));
    assert.deepEqual(await held.ask(), ['be1']);
  } finally {
    await held.end();
  }
});

test('drain (weight 0): no new connections, the established ones are still served', { skip }, async () => {
  const s = svc({ id: 'drain', port: 8081, backends: SERVERS.map((h) => be(h, 8081)) });
  await dp.apply([s]);
  const { held, who } = await Held.open('cli', VIP, 8081, 3);
  try {
    assert.deepEqual(who, ['be1', 'be2', 'be3']);
    await dp.apply([{ ...s, backends: [be('be1', 8081), be('be2', 8081, 0), be('be3', 8081)] }]);
    const f = await fresh('cli', VIP, 8081, 10);
    assert.deepEqual(tally(f.who), { be1: 5, be3: 5 });
    assert.deepEqual(await held.ask(), ['be1', 'be2', 'be3']);
  } finally {
    await held.end();
  }
});

test('an active sorry server takes every new connection', { skip }, async () => {
  const backends = [be('be1', 80, 0), be('be2', 80, 0)].map((b) => ({ ...b, reason: 'quorum' as const }));
  await dp.apply([svc({ id: 'sorry', backends, sorry: { addr: ADDR.be3!, port: 80 } })]);
  const f = await fresh('cli', VIP, 80, 6);
  assert.deepEqual(f.errors, []);
  assert.deepEqual(tally(f.who), { be3: 6 });
});

test('no backends and no sorry server: the client gets a TCP reset at once', { skip }, async () => {
  // VIP_NOWHERE is on no host: without the reject rule the SYN would go unanswered until the client gave up.
  await dp.apply([svc({ id: 'empty', vip: VIP_NOWHERE, backends: [] })]);
  const r = await client<{ outcome: string; ms: number }>('cli', ['connect', VIP_NOWHERE, 80]);
  assert.equal(r.outcome, 'ECONNREFUSED');
  assert.ok(r.ms < 1_000, `${r.ms} ms`);
  // The same when every backend is drained.
  await dp.apply([svc({ id: 'empty', vip: VIP_NOWHERE, backends: [be('be1', 80, 0)] })]);
  assert.equal((await client<{ outcome: string }>('cli', ['connect', VIP_NOWHERE, 80])).outcome, 'ECONNREFUSED');
});

test('UDP services are balanced per flow', { skip }, async () => {
  await dp.apply([svc({ id: 'udp', protocol: 'udp', port: 5353, backends: SERVERS.map((h) => be(h, 5353)) })]);
  const r = await client<{ who: string[]; errors: string[] }>('cli', ['udp', VIP, 5353, 6]);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(tally(r.who), { be1: 2, be2: 2, be3: 2 });
});

test('IPv6 services: rr over three IPv6 servers', { skip }, async () => {
  await dp.apply([svc({ id: 'v6', family: 6, vip: VIP6, backends: SERVERS.map((h) => be(h, 80, 1, 6)) })]);
  const f = await fresh('cli', VIP6, 80, 6);
  assert.deepEqual(f.errors, []);
  assert.deepEqual(tally(f.who), { be1: 2, be2: 2, be3: 2 });
});

test('port 0 services carry every port to the same port on the server', { skip }, async () => {
  await dp.apply([svc({ id: 'any', port: 0, backends: SERVERS.map((h) => be(h, 0)) })]);
  const a = await fresh('cli', VIP, 8080, 3);
  const b = await fresh('cli', VIP, 8081, 3);
  assert.deepEqual([...a.errors, ...b.errors], []);
  assert.deepEqual(tally([...a.who, ...b.who]), { be1: 2, be2: 2, be3: 2 });
});

test('one-armed: with snat masquerade a client on the servers segment is served, and servers see the director', {
  skip,
}, async () => {
  await dp.apply([svc({ id: 'onearm', snat: { kind: 'masquerade' } })]);
  const f = await fresh('c2', VIP, 80, 3);
  assert.deepEqual(f.errors, []);
  assert.deepEqual(tally(f.who), { be1: 1, be2: 1, be3: 1 });
  assert.deepEqual([...new Set(f.peers)], [ADDR.dir]);
  // The two-armed client is masqueraded too now (snat applies per service).
  const g = await fresh('cli', VIP, 80, 1);
  assert.deepEqual(g.peers, [ADDR.dir]);
});

test('a client on the director itself reaches the service (output hook)', { skip }, async () => {
  await dp.apply([svc({ id: 'local' })]);
  const f = await fresh('dir', VIP, 80, 3);
  assert.deepEqual(f.errors, []);
  assert.deepEqual(tally(f.who), { be1: 1, be2: 1, be3: 1 });
});

test('connections() counts open connections per backend as active, closed ones as inactive', { skip }, async () => {
  const s = svc({ id: 'count', port: 8082, backends: SERVERS.map((h) => be(h, 8082)) });
  await dp.apply([s]);
  const { held, who } = await Held.open('cli', VIP, 8082, 6);
  let ended = false;
  try {
    assert.deepEqual(tally(who), { be1: 2, be2: 2, be3: 2 });
    const open = await dp.connections();
    assert.deepEqual(plain(open), {
      count: Object.fromEntries(SERVERS.map((h) => [`${ADDR[h]}:8082`, { active: 2, inactive: 0 }])),
    });
    await held.end();
    ended = true;
    const closed = await eventually(
      'connections closed',
      () => dp.connections(),
      (c) => [...(c.get('count')?.values() ?? [])].every((x) => x.active === 0 && x.inactive === 2),
    );
    assert.equal(closed.get('count')?.size, 3);
  } finally {
    if (!ended) await held.end();
  }
});

test('the conntrack parser reads what this kernel prints (a UDP flow, both directions)', { skip }, async () => {
  // Its own port: the UDP test's flows to 5353 are still in the table.
  await dp.apply([svc({ id: 'ct', protocol: 'udp', port: 5354, backends: [be('be2', 5354)] })]);
  await client('cli', ['udp', VIP, 5354, 1]);
  const text = await lab.run('dir', 'conntrack', ['-L', '-o', 'extended', '-p', 'udp']);
  const e = parseConntrack(text).find((x) => x.orig.dst === VIP && x.orig.dport === 5354);
  assert.ok(e, text);
  assert.deepEqual(
    { family: e.family, protocol: e.protocol, state: e.state, dst: e.orig.dst, backend: e.reply.src },
    { family: 4, protocol: 'udp', state: null, dst: VIP, backend: ADDR.be2 },
  );
});

test('every shape the renderer makes loads into nft, and so do updates between them', { skip }, async () => {
  const v4 = SERVERS.map((h) => be(h, 80));
  const v6 = SERVERS.map((h) => be(h, 80, 1, 6));
  const all: ServiceProgram[] = [
    ...(['rr', 'wrr', 'lc', 'wlc', 'sh', 'mh'] as const).map((scheduler, i) =>
      svc({ id: `s-${scheduler}`, port: 9000 + i, scheduler, backends: v4 }),
    ),
    svc({ id: 'p4', port: 9100, scheduler: 'mh', persistence: { timeoutMs: 90_500, netmaskPrefix: 24 } }),
    svc({
      id: 'p6',
      family: 6,
      vip: VIP6,
      port: 9101,
      persistence: { timeoutMs: 60_000, netmaskPrefix: 64 },
      backends: v6,
    }),
    svc({ id: 'u0', protocol: 'udp', port: 0, vip: '198.18.0.103', backends: SERVERS.map((h) => be(h, 0)) }),
    svc({ id: 'e6', family: 6, vip: VIP6, port: 9102, protocol: 'udp', backends: [] }),
    svc({ id: 'sn', port: 9103, snat: { kind: 'address', addr: ADDR.dir! } }),
    svc({ id: 'sn6', family: 6, vip: VIP6, port: 9104, backends: v6, snat: { kind: 'masquerade' } }),
    svc({ id: 'so6', family: 6, vip: VIP6, port: 9105, backends: [], sorry: { addr: ADDR6.be1!, port: 0 } }),
  ];
  await dp.apply(all);
  // Shift every service: drains, removals, new weights, schedulers, persistence off and on, snat moved.
  const shifted = all.map((s, i): ServiceProgram => {
    const backends = s.backends.map((b, k) => ({ ...b, weight: (i + k) % 3 }));
    if (s.id === 'p4') return { ...s, persistence: null, backends };
    if (s.id === 's-rr') return { ...s, persistence: { timeoutMs: 1_000, netmaskPrefix: 32 }, backends };
    if (s.id === 'sn') return { ...s, snat: { kind: 'none' }, backends };
    if (s.id === 's-wrr') return { ...s, snat: { kind: 'masquerade' }, backends: backends.slice(1) };
    return { ...s, backends };
  });
  const r = await dp.apply(shifted);
  assert.ok(r.changed.length >= 10, JSON.stringify(r));
  await dp.apply(all);
  const listed = await nft.listTable(TABLE);
  assert.match(listed ?? '', /chain svc_p6_be_2001_db8__21-80/);
});

test('fwmark: the operator marks with its own nft rule; tandem balances the marked packets by meta mark and leaves that rule alone', {
  skip,
}, async () => {
  // The operator's marking rule, in a table of its own at priority mangle (before dstnat), as an iptables-nft
  // `-t mangle -A PREROUTING … -j MARK --set-mark 7` or a hand-written nft chain would be.
  const own = `opmark${process.pid.toString(36)}`;
  await nft.apply(
    `table inet ${own} {\n\tchain pre {\n\t\ttype filter hook prerouting priority mangle; policy accept;\n` +
      `\t\tip daddr 198.18.0.102 tcp dport { 8080, 8081 } meta mark set 0x7\n\t}\n}\n`,
  );
  try {
    const before = await nft.listTable(own);
    const mark = svc({
      id: 'fwm7',
      vip: '',
      port: 0,
      fwmark: 7,
      backends: [be('be1', 0), be('be2', 0)],
    });
    const r = await dp.apply([mark]);
    assert.deepEqual(r.added, ['fwm7']);
    const listed = (await nft.listTable(TABLE)) ?? '';
    assert.match(listed, /meta nfproto ipv4 meta l4proto \. meta mark vmap @dispatchmark4/);
    assert.match(listed, /tcp \. 0x00000007 : goto svc_fwm7/);
    // Both marked ports reach the real servers on the port the client asked for (no port named: IPVS keeps it).
    for (const port of [8080, 8081]) {
      const f = await fresh('cli', '198.18.0.102', port, 10);
      assert.deepEqual(f.errors, [], `port ${port}`);
      assert.deepEqual(tally(f.who), { be1: 5, be2: 5 }, `port ${port}`);
    }
    // Real servers with a port: every marked connection goes to that port.
    await dp.apply([{ ...mark, backends: [be('be3', 80)] }]);
    const f80 = await fresh('cli', '198.18.0.102', 8081, 4);
    assert.deepEqual(f80.errors, []);
    assert.deepEqual(tally(f80.who), { be3: 4 });
    // Unmarked traffic to the same address is not the service's: nothing answers for 198.18.0.102:8082.
    const unmarked = await client<{ outcome: string }>('cli', ['connect', '198.18.0.102', 8082]);
    assert.notEqual(unmarked.outcome, 'connected');
    await dp.apply([]);
    assert.equal(await nft.listTable(own), before, "the operator's marking table is untouched");
  } finally {
    await nft.deleteTable(own);
  }
});

test('a stale table of the same name is replaced on the first apply; close() leaves no table', { skip }, async () => {
  const table = `${TABLE}x`;
  await nft.apply(`table inet ${table} {\n\tchain stale {\n\t}\n}\n`);
  const fresh2 = createNftDataPlane({ table, nft, conntrack: createConntrackReader({ wrap: [] }) });
  await fresh2.apply([svc({ id: 'x', vip: '198.18.0.102' })]);
  const listed = await nft.listTable(table);
  assert.ok(listed && !listed.includes('chain stale') && listed.includes('chain svc_x'), listed ?? '');
  await fresh2.close();
  assert.equal(await nft.listTable(table), null);
  await dp.close();
  assert.equal(await nft.listTable(TABLE), null);
  assert.equal(await nft.deleteTable(TABLE), false, 'deleting an absent table is fine');
});
