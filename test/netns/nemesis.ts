/**
 * The partition suite's nemeses. Every fault is applied inside the lab's own namespaces and removed again: nft rules
 * in a director's namespace (table `t14s_nemesis`, deleted on heal; the namespace goes at teardown anyway), a link
 * taken down on the lab's switch, signals to the PIDs of the director's own processes, and the wall clock of the
 * director's processes only, through libfaketime.
 *
 * Why libfaketime for the clock: CLOCK_REALTIME is one clock for the whole machine. Linux time namespaces
 * (unshare --time) offset only CLOCK_MONOTONIC and CLOCK_BOOTTIME, and `date -s` in a network namespace sets the
 * host's clock. So the jump is given to the director's processes alone: Debian's libfaketime is preloaded into them
 * with FAKETIME_DONT_FAKE_MONOTONIC=1 (their monotonic clock stays true) and reads its offset from a file that the
 * nemesis rewrites (FAKETIME_TIMESTAMP_FILE, re-read at most every FAKETIME_CACHE_DURATION = 1 s). That is what a
 * wall-clock step (NTP, an operator's `date -s`) looks like to a daemon; the host's clock is never changed.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Lab } from './lab.ts';
import type { FaultWindow } from './partition-check.ts';
import { ETCD_NEMESES } from './partition-etcd.ts';
import type { Director, Nemesis, NemesisContext, Topology } from './partition-types.ts';

/** Debian's libfaketime (package libfaketime, pulled in by faketime); the multi-threaded variant, for Node. */
export const FAKETIME_LIB = '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1';

/** The environment that gives a process a wall clock it reads from `file` (an offset like `+0` or `-3600`). */
export function faketimeEnv(file: string): Record<string, string> {
  return {
    LD_PRELOAD: FAKETIME_LIB,
    FAKETIME_TIMESTAMP_FILE: file,
    FAKETIME_CACHE_DURATION: '1',
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
  };
}

/** Writes the offset libfaketime reads (seconds, signed). */
export function writeClockOffset(file: string, offsetSeconds: number): void {
  writeFileSync(file, `${offsetSeconds >= 0 ? '+' : ''}${offsetSeconds}\n`);
}

const TABLE = 't14s_nemesis';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const addrOf = (topo: Topology, host: string) => topo.addrs[host]!;
const set = (addrs: readonly string[]) => `{ ${addrs.join(', ')} }`;

/** nft rules for one director: input/output rule lines of an `ip` table, optional `arp` table rules. */
interface Rules {
  input?: readonly string[];
  output?: readonly string[];
  arpInput?: readonly string[];
  arpOutput?: readonly string[];
}

function ruleset(r: Rules): string {
  const chain = (name: string, hook: string, prio: string, lines: readonly string[] | undefined) =>
    lines?.length
      ? `  chain ${name} {\n    type filter hook ${hook} priority ${prio}; policy accept;\n${lines.map((l) => `    ${l}\n`).join('')}  }\n`
      : '';
  let text = `table ip ${TABLE} {\n${chain('input', 'input', '-300', r.input)}${chain('output', 'output', '-300', r.output)}}\n`;
  if (r.arpInput?.length || r.arpOutput?.length)
    text += `table arp ${TABLE} {\n${chain('input', 'input', '0', r.arpInput)}${chain('output', 'output', '0', r.arpOutput)}}\n`;
  return text;
}

/** Loads rules into hosts' namespaces, runs `body`, and deletes the tables again whatever happens. */
async function withRules(ctx: NemesisContext, rules: Record<string, Rules>, body: () => Promise<void>): Promise<void> {
  const loaded: string[] = [];
  try {
    for (const [host, r] of Object.entries(rules)) {
      const file = ctx.file(`nft-${host}.nft`);
      writeFileSync(file, ruleset(r));
      loaded.push(host);
      await ctx.lab.run(host, 'nft', ['-f', file]);
    }
    await body();
  } finally {
    for (const host of loaded) await unloadRules(ctx.lab, host);
  }
}

async function unloadRules(lab: Lab, host: string): Promise<void> {
  for (const family of ['ip', 'arp']) {
    const r = await lab.exec(host, 'nft', ['list', 'table', family, TABLE]);
    if (r.code === 0) await lab.run(host, 'nft', ['delete', 'table', family, TABLE]);
  }
}

/** The backups' addresses, and the master's. */
function sides(ctx: NemesisContext): { master: string; backups: string[] } {
  return { master: addrOf(ctx.topo, ctx.master.host), backups: ctx.backups.map((b) => addrOf(ctx.topo, b.host)) };
}

/**
 * A fault made of nft rules that lasts `faultMs`. With `masterHealthy: false` (the rules cut the master off) the whole
 * time is a fault window.
 */
function rulesNemesis(
  name: string,
  describe: string,
  rules: (ctx: NemesisContext) => Record<string, Rules>,
  masterHealthy = true,
): Nemesis {
  return {
    name,
    describe,
    masterHealthy,
    durationMs: (p) => p.faultMs,
    async run(ctx) {
      const from = Date.now();
      await withRules(ctx, rules(ctx), () => sleep(ctx.params.faultMs));
      return masterHealthy ? [] : [{ from, to: Date.now() }];
    },
  };
}

const vrrpFrom = (addrs: readonly string[]) => `ip saddr ${set(addrs)} ip protocol 112 drop`;

/** The backups stop hearing the master's adverts; everything else flows (the issue's keepalived measurement). */
const vrrpDropOneWay = rulesNemesis(
  'vrrp-1way',
  "VRRP (IP protocol 112) from the master dropped on the backups' input; all else flows",
  (ctx) => {
    const s = sides(ctx);
    return Object.fromEntries(ctx.backups.map((b) => [b.host, { input: [vrrpFrom([s.master])] }]));
  },
);

/** Adverts lost both ways between the master and the backups. */
const vrrpDropTwoWay = rulesNemesis(
  'vrrp-2way',
  "VRRP dropped on every director's input (master ↔ backups); all else flows",
  (ctx) => {
    const s = sides(ctx);
    return {
      [ctx.master.host]: { input: [vrrpFrom(s.backups)] },
      ...Object.fromEntries(ctx.backups.map((b) => [b.host, { input: [vrrpFrom([s.master])] }])),
    };
  },
);

/** Everything between the master and the backups cut (IP and ARP); the client still reaches every director. */
const partition = rulesNemesis(
  'partition',
  'all traffic master ↔ backups dropped (IP and ARP, both ways); the client reaches both',
  (ctx) => {
    const s = sides(ctx);
    const cut = (peers: readonly string[]): Rules => ({
      input: [`ip saddr ${set(peers)} drop`],
      output: [`ip daddr ${set(peers)} drop`],
      arpInput: [`arp saddr ip ${set(peers)} drop`],
      arpOutput: [`arp daddr ip ${set(peers)} drop`],
    });
    return {
      [ctx.master.host]: cut(s.backups),
      ...Object.fromEntries(ctx.backups.map((b) => [b.host, cut([s.master])])),
    };
  },
);

/** Random loss of `pct` % of the packets between the directors, each way (nft numgen: this kernel has no netem). */
function loss(pct: number): Nemesis {
  return rulesNemesis(
    `loss-${pct}`,
    `${pct} % of the packets between the directors dropped at random, each way (nft numgen); client traffic not`,
    (ctx) => {
      const all = [ctx.master, ...ctx.backups].map((d) => d.host);
      return Object.fromEntries(
        all.map((h) => {
          const others = all.filter((o) => o !== h).map((o) => addrOf(ctx.topo, o));
          return [h, { input: [`ip saddr ${set(others)} numgen random mod 100 < ${pct} drop`] }];
        }),
      );
    },
  );
}

/** The master silently cut from everything (carrier stays up): it cannot tell, unless it pings something. */
const isolate = rulesNemesis(
  'isolate',
  "every packet in and out of the master's eth0 dropped, carrier up (a dead switch port)",
  (ctx) => ({
    [ctx.master.host]: {
      input: ['iifname "eth0" drop'],
      output: ['oifname "eth0" drop'],
      arpInput: ['drop'],
      arpOutput: ['drop'],
    },
  }),
  false,
);

/** The master's cable pulled and put back on a period (its carrier goes; the switch side of its veth). */
const flap: Nemesis = {
  name: 'flap',
  describe: "the master's link down 1.5 × and up 1.5 × Master_Down_Interval, repeated for the fault time",
  masterHealthy: false,
  durationMs: (p) => p.faultMs,
  async run(ctx) {
    const half = Math.round(1.5 * ctx.masterDownMs);
    const cycles = Math.max(1, Math.floor(ctx.params.faultMs / (2 * half)));
    const windows: FaultWindow[] = [];
    try {
      for (let i = 0; i < cycles; i++) {
        const from = Date.now();
        await ctx.lab.setLink(ctx.master.host, false);
        await sleep(half);
        await ctx.lab.setLink(ctx.master.host, true);
        windows.push({ from, to: Date.now() });
        await sleep(half);
      }
    } finally {
      await ctx.lab.setLink(ctx.master.host, true);
    }
    return windows;
  },
};

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // gone already
  }
}

/** The master's election process stopped for `k` × Master_Down_Interval, then continued (a VM freeze, a long GC). */
function pause(k: number): Nemesis {
  return {
    name: `sigstop-${k}x`,
    describe: `SIGSTOP of the master's election process for ${k} × Master_Down_Interval, then SIGCONT`,
    masterHealthy: false,
    durationMs: (_p, mdi) => k * mdi,
    async run(ctx) {
      const pid = await ctx.master.electionPid();
      const from = Date.now();
      signal(pid, 'SIGSTOP');
      try {
        await sleep(k * ctx.masterDownMs);
      } finally {
        signal(pid, 'SIGCONT');
      }
      return [{ from, to: Date.now() }];
    },
  };
}

/**
 * SIGKILL of the master's processes (`pids` picks which). Several are first all stopped, then all killed, so that
 * none sees another die and reacts (keepalived's VRRP child gets SIGTERM when its parent dies and would release the
 * VIP; tandem's supervisor would release what a dead daemon held): they die at once, like an OOM kill of the unit.
 * The master counts as unhealthy to the end of the run.
 */
function kill(name: string, describe: string, pids: (d: Director) => Promise<number[]>): Nemesis {
  return {
    name,
    describe,
    masterHealthy: false,
    durationMs: (p) => p.faultMs,
    async run(ctx) {
      const targets = await pids(ctx.master);
      const from = Date.now();
      if (targets.length > 1) for (const pid of targets) signal(pid, 'SIGSTOP');
      for (const pid of targets) signal(pid, 'SIGKILL');
      await sleep(ctx.params.faultMs);
      return [{ from, to: Number.POSITIVE_INFINITY }];
    },
  };
}

const sigkill = kill(
  'sigkill',
  "SIGKILL of the master's election process (tandem's supervisor and keepalived's parent live on and restart it)",
  async (d) => [await d.electionPid()],
);

const sigkillAll = kill(
  'sigkill-all',
  "SIGKILL of all the master's processes at once (tandem's supervisor, keepalived's parent too): nothing restarts",
  (d) => d.allPids(),
);

/** Throws unless libfaketime is mapped into every process of `d`: else the jump would silently not happen. */
async function assertFaked(d: Director): Promise<void> {
  for (const pid of await d.allPids()) {
    const maps = await readFile(`/proc/${pid}/maps`, 'utf8').catch(() => '');
    if (!maps.includes('libfaketime')) throw new Error(`clock-jump: pid ${pid} in ${d.host} has no libfaketime`);
  }
}

/** Throws unless a process started with `host`'s clock environment reads a wall clock `offset` seconds off. */
async function assertOffset(ctx: NemesisContext, host: string, offset: number): Promise<void> {
  const env = Object.entries(ctx.clockEnv(host)).map(([k, v]) => `${k}=${v}`);
  const seen = Number((await ctx.lab.run(host, 'env', [...env, 'date', '+%s'])).trim()) - Date.now() / 1000;
  if (Math.abs(seen - offset) > 5) throw new Error(`clock-jump: ${host} reads ${seen.toFixed(0)} s, not ${offset} s`);
}

/** Wall clocks stepped: the master's back an hour, the backups' forward an hour; then back to true time. */
const clockJump: Nemesis = {
  name: 'clock-jump',
  describe: "the master's wall clock −1 h and the backups' +1 h (libfaketime, monotonic untouched), then back",
  masterHealthy: true,
  needsClock: true,
  durationMs: (p) => Math.max(p.faultMs, 3_000) + 1_200,
  unavailable: () => (existsSync(FAKETIME_LIB) ? null : `no ${FAKETIME_LIB} (apt-get install faketime)`),
  async run(ctx) {
    const hosts = [ctx.master, ...ctx.backups].map((d) => d.host);
    for (const d of [ctx.master, ...ctx.backups]) await assertFaked(d);
    try {
      ctx.setClock(ctx.master.host, -3600);
      for (const b of ctx.backups) ctx.setClock(b.host, 3600);
      await assertOffset(ctx, ctx.master.host, -3600);
      // libfaketime re-reads the file at most every second: the step lands within a second, and then lasts.
      await sleep(Math.max(ctx.params.faultMs, 3_000));
    } finally {
      for (const h of hosts) ctx.setClock(h, 0);
    }
    // The step back lands within the cache time too: it is part of the fault.
    await sleep(1_200);
    return [];
  },
};

/** Every nemesis, in table order. Issues that add faults add them here. */
export const NEMESES: readonly Nemesis[] = [
  vrrpDropOneWay,
  vrrpDropTwoWay,
  partition,
  flap,
  loss(20),
  loss(50),
  pause(2),
  pause(10),
  sigkill,
  sigkillAll,
  clockJump,
  isolate,
  // etcd issue: faults of etcd itself (partition-etcd.ts).
  ...ETCD_NEMESES,
];

/** The nemesis named `name`. */
export function nemesis(name: string): Nemesis {
  const n = NEMESES.find((x) => x.name === name);
  if (!n) throw new Error(`no nemesis ${name} (have: ${NEMESES.map((x) => x.name).join(', ')})`);
  return n;
}
