/**
 * The VRRP socket, gratuitous ARP / unsolicited NA and the interface transport on a real (namespaced) Ethernet
 * segment, and the transport against keepalived 2.2.7. Sockets are opened by test/netns/vrrp-agent.ts running inside
 * each lab host, so nothing binds to an interface of the host's own namespace.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { InterfaceTransportStats } from '../../src/os/vrrp-transport.ts';
import { instanceConfig } from '../../src/sim/fixtures.ts';
import { decodeVrrp, encodeVrrp } from '../../src/vrrp/codec.ts';
import type { InstanceConfig, VrrpPacket } from '../../src/vrrp/types.ts';
import { canBuildLabs, createLab, type Lab } from './lab.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const AGENT = join(ROOT, 'test/netns/vrrp-agent.ts');
const ADDON = join(ROOT, 'build/Release/tandem_vrrp.node');
const KEEPALIVED = '/usr/sbin/keepalived';

const skip = !canBuildLabs()
  ? 'needs root and ip netns'
  : !existsSync(ADDON)
    ? 'the native addon is not built (npm install)'
    : false;
const skipKeepalived =
  skip || (existsSync(KEEPALIVED) ? false : 'keepalived is not installed (apt-get install keepalived)');

type Obj = Record<string, unknown>;
interface Msg {
  ev: 'msg';
  data: string;
  src: string;
  dst: string;
  ttl: number;
  ifindex: number;
  family: 4 | 6;
}

/** The vrrp-agent process in one lab host, driven line by line. */
class Agent {
  readonly #events: Obj[] = [];
  readonly #waiters = new Set<() => void>();
  readonly #child: ChildProcess;
  #stderr = '';
  #nextId = 1;

  private constructor(child: ChildProcess) {
    this.#child = child;
    if (!child.stdout || !child.stderr) throw new Error('agent without pipes');
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        this.#events.push(JSON.parse(line) as Obj);
      } catch {
        this.#stderr += `${line}\n`;
      }
      for (const w of this.#waiters) w();
    });
    child.stderr.on('data', (d: Buffer) => {
      this.#stderr += d.toString();
    });
  }

  static async start(lab: Lab, host: string): Promise<Agent> {
    const child = lab.spawn(host, process.execPath, ['--import', 'tsx', AGENT], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const agent = new Agent(child);
    await agent.waitFor((e) => e.ev === 'ready', 20_000, `agent in ${host} to start`);
    return agent;
  }

  /** How many events so far: pass it to {@link waitFor} to look only at later ones. */
  get mark(): number {
    return this.#events.length;
  }

  /** The first event (from `from` on) that satisfies `pred`; rejects after `timeoutMs`. */
  waitFor(pred: (e: Obj) => boolean, timeoutMs: number, what: string, from = 0): Promise<Obj> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const hit = this.#events.slice(from).find(pred);
        if (!hit) return false;
        done();
        resolve(hit);
        return true;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; agent stderr: ${this.#stderr}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(onEvent);
      };
      const onEvent = (): void => {
        check();
      };
      if (!check()) this.#waiters.add(onEvent);
    });
  }

  /** Runs one command; rejects with the agent's error (its `code` kept). */
  async call(cmd: Obj): Promise<Obj> {
    const id = this.#nextId++;
    this.#child.stdin?.write(`${JSON.stringify({ id, ...cmd })}\n`);
    const r = await this.waitFor((e) => e.id === id, 10_000, `reply to ${String(cmd.op)}`);
    if (r.ok !== true) throw Object.assign(new Error(String(r.error)), { code: r.code });
    return r;
  }

  /** Waits for the next datagram on the raw socket (after `from`). */
  async message(from: number, pred: (m: Msg) => boolean = () => true): Promise<Msg> {
    return (await this.waitFor(
      (e) => e.ev === 'msg' && pred(e as unknown as Msg),
      5_000,
      'a datagram',
      from,
    )) as unknown as Msg;
  }

  async stop(): Promise<void> {
    this.#child.stdin?.end();
  }
}

const V2_PASS: VrrpPacket = {
  version: 2,
  family: 4,
  vrid: 51,
  priority: 150,
  advertIntervalMs: 1000,
  addrs: ['198.18.0.100'],
  auth: { type: 'pass', password: 'secret12' },
};
const V3: VrrpPacket = { ...V2_PASS, version: 3, auth: { type: 'none' } };
const V3_V6: VrrpPacket = { ...V3, family: 6, addrs: ['2001:db8::100', 'fe80::100'] };

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));

/** IPv6 on the lab link: fixed link-local and global addresses, without DAD so they are usable at once. */
async function addIpv6(lab: Lab): Promise<void> {
  for (const [host, n] of [
    ['a', 11],
    ['b', 12],
  ] as const) {
    await lab.run(host, 'ip', ['-6', 'addr', 'add', `fe80::${n}/64`, 'dev', 'eth0', 'nodad']);
    await lab.run(host, 'ip', ['-6', 'addr', 'add', `2001:db8::${n}/64`, 'dev', 'eth0', 'nodad']);
  }
}

/** A lab of hosts a and b with an agent in each; everything torn down afterwards. */
async function withLab(fn: (lab: Lab, a: Agent, b: Agent) => Promise<void>): Promise<void> {
  const lab = await createLab(['a', 'b']);
  const agents: Agent[] = [];
  try {
    await addIpv6(lab);
    agents.push(await Agent.start(lab, 'a'), await Agent.start(lab, 'b'));
    await fn(lab, agents[0] as Agent, agents[1] as Agent);
  } finally {
    for (const a of agents) await a.stop();
    await lab.teardown();
  }
}

test('IPv4: v2 PASS and v3 adverts arrive with TTL 255, their addresses and the interface index, and decode', {
  skip,
}, async () => {
  await withLab(async (_lab, a, b) => {
    await a.call({ op: 'open', family: 4 });
    const { ifindex } = await b.call({ op: 'open', family: 4 });
    const tx = { src: '198.18.0.11', dst: '224.0.0.18' };
    for (const packet of [V2_PASS, V3]) {
      const from = b.mark;
      await a.call({ op: 'send', family: 4, hex: hex(encodeVrrp(packet, tx)), ...tx });
      const m = await b.message(from);
      assert.deepEqual({ src: m.src, dst: m.dst, ttl: m.ttl, ifindex: m.ifindex }, { ...tx, ttl: 255, ifindex });
      const d = decodeVrrp(bytes(m.data), { ttl: m.ttl, family: 4, src: m.src, dst: m.dst });
      assert.ok(d.ok, JSON.stringify(d));
      assert.deepEqual(d.packet, packet);
      if (packet.version === 3) assert.equal(d.checksumForm, 'pseudo-header');
    }
  });
});

test('IPv6: a v3 advert to ff02::12 from the link-local address and a unicast one, with hop limit 255', {
  skip,
}, async () => {
  await withLab(async (_lab, a, b) => {
    await a.call({ op: 'open', family: 6 });
    const { ifindex } = await b.call({ op: 'open', family: 6 });
    for (const tx of [
      { src: 'fe80::11', dst: 'ff02::12' },
      { src: '2001:db8::11', dst: '2001:db8::12' },
    ]) {
      const from = b.mark;
      await a.call({ op: 'send', family: 6, hex: hex(encodeVrrp(V3_V6, tx)), ...tx });
      const m = await b.message(from);
      assert.deepEqual({ src: m.src, dst: m.dst, ttl: m.ttl, ifindex: m.ifindex }, { ...tx, ttl: 255, ifindex });
      const d = decodeVrrp(bytes(m.data), { ttl: m.ttl, family: 6, src: m.src, dst: m.dst });
      assert.ok(d.ok, JSON.stringify(d));
      assert.deepEqual(d.packet, V3_V6);
    }
  });
});

test('IPv4 unicast leaves from the chosen source, so a v3 pseudo-header checksum over it verifies', {
  skip,
}, async () => {
  await withLab(async (lab, a, b) => {
    await lab.run('a', 'ip', ['addr', 'add', '198.18.0.21/24', 'dev', 'eth0']);
    await a.call({ op: 'open', family: 4 });
    await b.call({ op: 'open', family: 4 });
    const tx = { src: '198.18.0.21', dst: '198.18.0.12' };
    const from = b.mark;
    await a.call({ op: 'send', family: 4, hex: hex(encodeVrrp(V3, tx)), ...tx });
    const m = await b.message(from);
    assert.deepEqual({ src: m.src, dst: m.dst, ttl: m.ttl }, { ...tx, ttl: 255 });
    const d = decodeVrrp(bytes(m.data), { ttl: m.ttl, family: 4, src: m.src, dst: m.dst });
    assert.equal(d.ok && d.checksumForm, 'pseudo-header');
    // A source the host does not have is refused by the kernel (its route lookup: ENETUNREACH on Linux 6), as a JS
    // error with the errno name.
    await assert.rejects(
      a.call({ op: 'send', family: 4, hex: hex(encodeVrrp(V3, tx)), dst: tx.dst, src: '198.18.0.99' }),
      (e: Error & { code?: string }) =>
        /^E[A-Z]+$/.test(e.code ?? '') && /^sendmsg to 198\.18\.0\.12 from 198\.18\.0\.99 on eth0: /.test(e.message),
    );
    // So is an interface that does not exist.
    await assert.rejects(a.call({ op: 'open', family: 4, ifname: 'nosuch0' }), (e: Error & { code?: string }) => {
      return e.code === 'ENODEV' && /if_nametoindex\(nosuch0\)/.test(e.message);
    });
  });
});

/** Host b's neighbour entry for `addr` (its link-layer address), if any. */
async function neighbour(lab: Lab, addr: string): Promise<string | undefined> {
  const out = await lab.run('b', 'ip', ['-j', 'neigh', 'show', 'to', addr, 'dev', 'eth0']);
  const entries = JSON.parse(out || '[]') as { dst: string; lladdr?: string }[];
  return entries.find((e) => e.dst === addr)?.lladdr;
}

test('gratuitous ARP and unsolicited NA repoint an existing neighbour entry at the announcing host', {
  skip,
}, async () => {
  await withLab(async (lab, a) => {
    const mac = (await lab.run('a', 'cat', ['/sys/class/net/eth0/address'])).trim();
    const old = '02:00:00:00:00:99';
    // arp_accept=0 (the default) only updates entries that exist: as if the VIPs were on another host before.
    for (const vip of ['198.18.0.100', '2001:db8::100']) {
      await lab.run('b', 'ip', ['neigh', 'replace', vip, 'lladdr', old, 'dev', 'eth0', 'nud', 'stale']);
      assert.equal(await neighbour(lab, vip), old);
    }
    await lab.run('a', 'ip', ['addr', 'add', '198.18.0.100/32', 'dev', 'eth0']);
    await lab.run('a', 'ip', ['-6', 'addr', 'add', '2001:db8::100/128', 'dev', 'eth0', 'nodad']);
    const r = await a.call({
      op: 'announce',
      vips: [
        { addr: '198.18.0.100', prefix: 32 },
        { addr: '2001:db8::100', prefix: 128 },
      ],
      repeat: 2,
    });
    assert.deepEqual(r.sent, { eth0: { arp: 2, na: 2 } });
    let seen: (string | undefined)[] = [];
    for (let i = 0; i < 40; i++) {
      seen = [await neighbour(lab, '198.18.0.100'), await neighbour(lab, '2001:db8::100')];
      if (seen.every((m) => m === mac)) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.deepEqual(seen, [mac, mac]);
  });
});

/** keepalived running in host b with its own config; its console output is kept. */
class Keepalived {
  output = '';
  readonly #child: ChildProcess;
  readonly #dir: string;

  private constructor(child: ChildProcess, dir: string) {
    this.#child = child;
    this.#dir = dir;
    const add = (d: Buffer): void => {
      this.output += d.toString();
    };
    child.stdout?.on('data', add);
    child.stderr?.on('data', add);
  }

  static async start(lab: Lab, conf: string): Promise<Keepalived> {
    const dir = await mkdtemp(join(tmpdir(), 'tandem-keepalived-'));
    const file = join(dir, 'keepalived.conf');
    await writeFile(file, conf);
    // -n no fork, -l -D log in detail to the console, -G no syslog, -P VRRP only; pid files in our temp dir.
    const args = ['-n', '-l', '-D', '-G', '-P', '-f', file, '-p', join(dir, 'k.pid'), '-r', join(dir, 'v.pid')];
    return new Keepalived(lab.spawn('b', KEEPALIVED, args), dir);
  }

  /** Resolves when the output after `from` matches `re` (checked as output arrives); rejects after `timeoutMs`. */
  waitFor(re: RegExp, timeoutMs: number, from = 0): Promise<void> {
    const c = this.#child;
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (re.test(this.output.slice(from))) finish(null);
      };
      const onExit = (): void => finish(new Error(`keepalived exited (${c.exitCode}):\n${this.output}`));
      const timer = setTimeout(
        () => finish(new Error(`keepalived did not log ${re} in ${timeoutMs} ms:\n${this.output}`)),
        timeoutMs,
      );
      const finish = (e: Error | null): void => {
        clearTimeout(timer);
        c.stdout?.off('data', check);
        c.stderr?.off('data', check);
        c.off('exit', onExit);
        if (e) reject(e);
        else resolve();
      };
      // Registered after the constructor's listeners, so `output` already holds the chunk when check runs.
      c.stdout?.on('data', check);
      c.stderr?.on('data', check);
      c.once('exit', onExit);
      check();
    });
  }

  /** SIGTERM by PID, then wait (bounded) for it to go; the lab kills it harder at teardown if it does not. */
  async stop(): Promise<void> {
    const c = this.#child;
    if (c.exitCode === null && c.signalCode === null && c.pid) {
      const gone = new Promise<void>((resolve) => c.once('exit', () => resolve()));
      process.kill(c.pid, 'SIGTERM');
      await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    }
    await rm(this.#dir, { recursive: true, force: true });
  }
}

/** One keepalived interop scenario. */
interface Interop {
  version: 2 | 3;
  family: 4 | 6;
  unicast: boolean;
}

/** Our side (host a) and keepalived's (host b) of a scenario: addresses, and the advert both sides agree on. */
function sides({ version, family, unicast }: Interop) {
  const v6 = family === 6;
  // RFC 5798 §5.2.9: the first IPv6 address of an advert is the virtual router's link-local one (keepalived warns
  // otherwise).
  const base: VrrpPacket = v6
    ? { ...V3, family: 6, addrs: ['fe80::100', '2001:db8::100'] }
    : version === 2
      ? V2_PASS
      : V3;
  // IPv6 adverts leave from the link-local address (RFC 5798 §5.1.2.1); unicast ones from the global one.
  const [a, b] = v6
    ? unicast
      ? ['2001:db8::11', '2001:db8::12']
      : ['fe80::11', 'fe80::12']
    : ['198.18.0.11', '198.18.0.12'];
  const prefix = v6 ? 64 : 24;
  return { base, a: a as string, b: b as string, prefix, vips: base.addrs.map((addr) => `${addr}/${prefix}`) };
}

/** keepalived's config for host b: MASTER, priority 150, VRID 51, one VIP. */
function keepalivedConf(s: Interop): string {
  const { a, b, vips } = sides(s);
  return [
    'global_defs {',
    '  router_id tandem_lab_b',
    '}',
    'vrrp_instance VI_1 {',
    '  state MASTER',
    '  interface eth0',
    '  virtual_router_id 51',
    '  priority 150',
    '  advert_int 1',
    `  version ${s.version}`,
    ...(s.version === 2 ? ['  authentication {', '    auth_type PASS', '    auth_pass secret12', '  }'] : []),
    ...(s.unicast ? [`  unicast_src_ip ${b}`, '  unicast_peer {', `    ${a}`, '  }'] : []),
    '  virtual_ipaddress {',
    ...vips.map((v) => `    ${v}`),
    '  }',
    '}',
    '',
  ].join('\n');
}

/**
 * keepalived in b is MASTER; a's transport hears and decodes its adverts, then sends priority-200 adverts every
 * second until keepalived steps down to BACKUP, and keepalived must not complain about a single packet.
 */
async function interop(scenario: Interop): Promise<string> {
  const { version, family, unicast } = scenario;
  const { base, a: srcA, b: srcB, prefix } = sides(scenario);
  let kept = '';
  await withLab(async (lab, a) => {
    const cfg: InstanceConfig = instanceConfig({
      name: 'VI_1',
      version,
      family,
      vrid: 51,
      priority: 200,
      auth: base.auth,
      vips: base.addrs.map((addr) => ({ addr, prefix })),
      unicastPeers: unicast ? [srcB] : [],
    });
    await a.call({ op: 'instance', cfg, src: srcA });
    const k = await Keepalived.start(lab, keepalivedConf(scenario));
    let timer: NodeJS.Timeout | undefined;
    try {
      const heard = await a.waitFor(
        (e) => e.ev === 'rx' && (e.rx as { ok: boolean }).ok,
        10_000,
        "keepalived's advert",
      );
      const rx = heard.rx as { src: string; packet: VrrpPacket };
      assert.equal(rx.src, srcB);
      assert.deepEqual(rx.packet, { ...base, priority: 150 });

      const from = k.output.length;
      const packet: VrrpPacket = { ...base, priority: 200 };
      const advert = (): void => {
        a.call({ op: 'advert', name: 'VI_1', packet, ...(unicast ? { to: srcB } : {}) }).catch(() => undefined);
      };
      advert();
      let sent = 1;
      // Bounded: at most 10 adverts, one a second, like a master with advert_int 1.
      timer = setInterval(() => {
        if (sent++ < 10) advert();
      }, 1_000);
      await k.waitFor(/Entering BACKUP STATE\n/, 10_000, from);
      clearInterval(timer);
      timer = undefined;
      // Everything a heard decoded: no drop on the interface or the instance, and every send went out.
      const [stats] = (await a.call({ op: 'stats' })).stats as InterfaceTransportStats[];
      assert.deepEqual(stats?.drops, {});
      assert.deepEqual(stats?.instances[0]?.drops, {});
      assert.equal(stats?.instances[0]?.txErrors, 0);
      assert.ok((stats?.instances[0]?.tx ?? 0) >= 1);
    } finally {
      if (timer) clearInterval(timer);
      await k.stop();
      kept = k.output;
    }
    const complaints = kept.split('\n').filter((l) => /invalid|wrong|checksum/i.test(l));
    assert.deepEqual(complaints, [], kept);
  });
  return kept;
}

/** Shows keepalived's instance log lines (all of them with KEEPALIVED_LOG=all) as test diagnostics. */
const showLog = (t: TestContext, log: string): void => {
  for (const l of log.split('\n')) if (process.env.KEEPALIVED_LOG === 'all' || /VI_1\)/.test(l)) t.diagnostic(l);
};

const skipK = { skip: skipKeepalived };

test(
  'keepalived 2.2.7, VRRPv2 PASS multicast: we decode its adverts and it yields to our priority 200',
  skipK,
  async (t) => {
    showLog(t, await interop({ version: 2, family: 4, unicast: false }));
  },
);

test('keepalived 2.2.7, VRRPv3 multicast: pseudo-header checksums agree both ways', skipK, async (t) => {
  showLog(t, await interop({ version: 3, family: 4, unicast: false }));
});

test('keepalived 2.2.7, VRRPv3 unicast peers: adverts to and from unicast addresses agree', skipK, async (t) => {
  showLog(t, await interop({ version: 3, family: 4, unicast: true }));
});

test('keepalived 2.2.7, VRRPv3 over IPv6 from link-local addresses: the kernel checksums agree', skipK, async (t) => {
  showLog(t, await interop({ version: 3, family: 6, unicast: false }));
});
