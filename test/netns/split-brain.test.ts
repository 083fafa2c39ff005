// Split brain with real daemons in network namespaces (docs/split-brain.md): the takeover guard against VRRP dropped
// on the backup's input (an nft rule inside its namespace), a real master death at 0.1 s adverts (guarded against
// unguarded), a SIGSTOPped master, forged and replayed adverts against auth_hmac, redundant heartbeat paths, ping
// targets and fencing. Every test builds its own lab (names prefixed t14-) and tears it down.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DaemonStatus } from '../../src/api/contract.ts';
import { encodeVrrp } from '../../src/vrrp/codec.ts';
import { masterDownIntervalMs } from '../../src/vrrp/timers.ts';
import { canBuildLabs, createLab, type Lab } from './lab.ts';
import {
  eventually,
  heardMoreAdverts,
  Output,
  startProbe,
  startResponder,
  startTandem,
  TANDEM,
  type TandemProc,
  untilState,
  VipWatch,
  workDir,
} from './tandem-lab.ts';

const skip = canBuildLabs() ? false : 'needs root and ip netns';
const VIP = '198.18.0.100';
const SEND_RAW = new URL('./tools/send-raw.py', import.meta.url).pathname;
const SEND_SPOOFED = new URL('./tools/send-raw-spoofed.py', import.meta.url).pathname;
let tables = 0;
/** An nft table name unique to this test run (other test files run in parallel on the same machine). */
const tableName = () => `t14_${process.pid.toString(36)}_${tables++}`;

/** The two-director file: d1 150, d2 100, v3 at `advert`; `extra` goes into VI_1, `top` at the end. */
function config(dir: string, opts: { advert?: string; instance?: string; top?: string; cluster?: string } = {}) {
  return `cluster:
  key_file: ${join(dir, 'cluster.key')}
  nodes: [{ name: d1, address: 198.18.0.11 }, { name: d2, address: 198.18.0.12 }]
${opts.cluster ?? ''}vrrp:
  instances:
    - name: VI_1
      interface: eth0
      vrid: 51
      version: 3
      priority: { d1: 150, d2: 100 }
      advert_interval: ${opts.advert ?? '100ms'}
      vips: [${VIP}/24]
${opts.instance ?? ''}${opts.top ?? ''}`;
}

interface Pair {
  lab: Lab;
  dir: string;
  d1: TandemProc;
  d2: TandemProc;
}

/** Builds d1, d2 (with HTTP responders) and a client; starts tandem on both with `text` and waits for d1 MASTER. */
async function pair(
  text: (dir: string) => string,
  body: (p: Pair) => Promise<void>,
  extraHosts: string[] = [],
  addrs: Record<string, string> = {},
): Promise<void> {
  const dir = workDir('t14-');
  writeFileSync(join(dir, 'cluster.key'), `hex:${'5a'.repeat(32)}\n`, { mode: 0o600 });
  const lab = await createLab(
    ['d1', 'd2', 'client', ...extraHosts],
    { d1: '198.18.0.11', d2: '198.18.0.12', client: '198.18.0.50', ...addrs },
    { prefix: 't14' },
  );
  try {
    await startResponder(lab, 'd1');
    await startResponder(lab, 'd2');
    await body({ lab, dir, ...(await startPair(lab, dir, text(dir))) });
  } finally {
    await lab.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function startPair(lab: Lab, dir: string, text: string): Promise<{ d1: TandemProc; d2: TandemProc }> {
  const d1 = await startTandem(lab, 'd1', text, { dir });
  const d2 = await startTandem(lab, 'd2', text, { dir });
  await untilState(d1, 'MASTER');
  await untilState(d2, 'BACKUP');
  // d2 has heard d1: it knows its master (a backup that never heard one is not guarded).
  await heardMoreAdverts(d2, 3);
  return { d1, d2 };
}

/** Drops VRRP (IP protocol 112) arriving in `host`, with an nft table in its own namespace; returns the undo. */
async function dropVrrpInput(lab: Lab, host: string, match = 'ip protocol vrrp'): Promise<() => Promise<void>> {
  const t = tableName();
  await lab.run(host, 'nft', ['add', 'table', 'inet', t]);
  await lab.run(host, 'nft', ['add', 'chain', 'inet', t, 'in', '{ type filter hook input priority 0; }']);
  await lab.run(host, 'nft', ['add', 'rule', 'inet', t, 'in', ...match.split(' '), 'drop']);
  return async () => {
    await lab.run(host, 'nft', ['delete', 'table', 'inet', t]);
  };
}

const inst = (s: DaemonStatus) => s.instances[0]!;
const stateOf = (p: TandemProc) => p.status().then((s) => inst(s).state);

/** The daemon (VRRP) process of a supervised tandem. */
async function daemonPid(p: TandemProc): Promise<number> {
  const line = await p.out.waitFor(/Supervisor: started daemon pid \d+/);
  return Number(/pid (\d+)/.exec(line)![1]);
}

// ── the takeover guard against VRRP dropped on the backup's input ───────────────────────────────────────────────────

for (const mode of ['guard', 'plain'] as const) {
  test(`VRRP dropped on the backup's input for 5 s (0.1 s adverts), ${mode === 'guard' ? 'guarded: 0 ms with two VIP holders' : 'plain VRRP (keepalived-style): two holders almost all the time'}`, {
    skip,
  }, async () => {
    const instance = mode === 'plain' ? '      guard: { enabled: false }\n' : '      guard: { peer_probe: [80] }\n';
    await pair(
      (dir) => config(dir, { instance }),
      async ({ lab, d1, d2 }) => {
        const watch = new VipWatch(lab, ['d1', 'd2'], VIP);
        await watch.start();
        const undo = await dropVrrpInput(lab, 'd2');
        const t0 = Date.now();
        // Time passes in the master's adverts: 50 at 100 ms is 5 s.
        const before = inst(await d1.status()).counters.advertsSent;
        await eventually(
          'd1 sent 50 adverts',
          () => d1.status(),
          (s) => inst(s).counters.advertsSent >= before + 50,
          30_000,
        );
        const during = inst(await d2.status());
        const text = spawnSync(process.execPath, [TANDEM, 'status', '--control', d2.control], { encoding: 'utf8' });
        await undo();
        const cut = Date.now() - t0;
        await heardMoreAdverts(d2, 10);
        await eventually(
          'one master again',
          () => stateOf(d2),
          (s) => s === 'BACKUP',
          10_000,
        );
        watch.stop();
        const w = watch.report(['d1']);
        if (mode === 'guard') {
          assert.equal(during.state, 'BACKUP');
          assert.equal(during.guard?.state, 'held');
          assert.match(during.guard!.message, /^master 198\.18\.0\.11 alive via (peer channel|tcp:80|icmp)/);
          assert.equal(w.overlapMs, 0, JSON.stringify(w.events));
          assert.match(text.stdout, /guard: master 198\.18\.0\.11 alive via peer channel; adverts lost \(held for/);
        } else {
          assert.equal(during.state, 'MASTER');
          assert.ok(w.overlapMs > cut / 2, `two holders for ${w.overlapMs} ms of ${cut} ms`);
        }
        assert.equal(inst(await d1.status()).state, 'MASTER', 'the master served all along');
        console.log(
          `# one-way VRRP drop on the backup, ${mode}: cut ${cut} ms, two VIP holders ${w.overlapMs} ms, none ${w.gapMs} ms`,
        );
      },
    );
  });
}

// ── a real master death, guarded against unguarded ──────────────────────────────────────────────────────────────────

/** Powers the master off as seen from the segment (its switch port goes down) and returns the client's longest gap. */
async function deathGap(mode: 'guard' | 'plain'): Promise<number> {
  let gap = -1;
  const instance = mode === 'plain' ? '      guard: { enabled: false }\n' : '      guard: { peer_probe: [80] }\n';
  await pair(
    (dir) => config(dir, { instance }),
    async ({ lab, d2 }) => {
      const client = startProbe(lab, 'client', VIP, 10, 3_000);
      await client.answered(50);
      await lab.setLink('d1', false);
      const r = await client.done;
      assert.equal(await stateOf(d2), 'MASTER');
      assert.ok(r.who.d2, JSON.stringify(r));
      const st = inst(await d2.status());
      if (mode === 'guard') assert.equal(st.guard?.counters.takeovers, 1, JSON.stringify(st.guard));
      gap = r.maxGapMs;
    },
  );
  return gap;
}

test('a real master death at 0.1 s adverts: the guarded client gap stays within 1.5 × the unguarded one', {
  skip,
}, async () => {
  const plain: number[] = [];
  const guard: number[] = [];
  for (let i = 0; i < 3; i++) {
    plain.push(await deathGap('plain'));
    guard.push(await deathGap('guard'));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1]!;
  const mdi = masterDownIntervalMs({ version: 3, priority: 100, advertIntervalMs: 100 });
  console.log(
    `# master death (switch port down), client gap in ms: plain ${plain.join(', ')} (median ${median(plain)}); ` +
      `guard ${guard.join(', ')} (median ${median(guard)}); ratio ${(median(guard) / median(plain)).toFixed(2)}; ` +
      `Master_Down_Interval ${mdi} ms, guard deadline 100 ms`,
  );
  assert.ok(median(guard) <= 1.5 * median(plain), `guard ${median(guard)} ms > 1.5 × plain ${median(plain)} ms`);
});

// ── a paused master ────────────────────────────────────────────────────────────────────────────────────────────────

test('SIGSTOP of the master daemon for 10 × Master_Down_Interval: the guarded backup holds (the host still pings); on SIGCONT the master rejoins as BACKUP first', {
  skip,
}, async () => {
  await pair(
    (dir) => config(dir),
    async ({ lab, d1, d2 }) => {
      const pid = await daemonPid(d1);
      const watch = new VipWatch(lab, ['d1', 'd2'], VIP);
      await watch.start();
      const mdi = masterDownIntervalMs({ version: 3, priority: 100, advertIntervalMs: 100 });
      process.kill(pid, 'SIGSTOP');
      try {
        // Time passes in d2's guard rounds (one per advert interval): 10 × Master_Down_Interval ≈ 36 rounds.
        await eventually(
          'd2 held for 10 × Master_Down_Interval',
          () => d2.status(),
          (s) => (inst(s).guard?.rounds ?? 0) >= Math.ceil((10 * mdi) / 100),
          30_000,
        );
        const held = inst(await d2.status());
        assert.equal(held.state, 'BACKUP');
        assert.match(held.guard!.message, /alive via icmp; adverts lost/);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      await d1.out.waitFor(/paused longer than Master_Down_Interval; rejoining as BACKUP before acting as master/);
      await d1.out.waitFor(/Entering BACKUP STATE \(paused/);
      await eventually(
        'd1 master again',
        () => stateOf(d1),
        (s) => s === 'MASTER',
        10_000,
      );
      await eventually(
        'd2 backup',
        () => stateOf(d2),
        (s) => s === 'BACKUP',
        10_000,
      );
      await heardMoreAdverts(d2, 5);
      watch.stop();
      const w = watch.report(['d1']);
      assert.equal(w.overlapMs, 0, JSON.stringify(w.events));
      console.log(`# SIGSTOP 10 × MDI, guarded: two VIP holders ${w.overlapMs} ms, none ${w.gapMs} ms`);
    },
  );
});

// ── forged and replayed adverts against auth_hmac ──────────────────────────────────────────────────────────────────

/** A v3 advert for VRID 51 at `priority` from `src`, as bytes (no trailer). */
const advertHex = (priority: number, src: string) =>
  Buffer.from(
    encodeVrrp(
      { version: 3, family: 4, vrid: 51, priority, advertIntervalMs: 100, addrs: [VIP], auth: { type: 'none' } },
      { src, dst: '224.0.0.18' },
    ),
  ).toString('hex');

for (const hmac of [true, false]) {
  test(`a forged priority-255 advert from a host on the segment: ${hmac ? 'auth_hmac drops it (and a replayed capture); the master keeps the VIP' : 'without auth_hmac it takes the VIP away'}`, {
    skip,
  }, async () => {
    const instance = hmac ? '      auth_hmac: { mode: enforce }\n' : '';
    await pair(
      (dir) => config(dir, { instance }),
      async ({ lab, d1, d2 }) => {
        const forged = advertHex(255, '198.18.0.66');
        // An independent sender (Python raw sockets), 20 forged adverts 50 ms apart: 1 s of "address owner".
        const send = async (hex: string) =>
          lab.run('evil', 'python3', [SEND_RAW, '198.18.0.66', '224.0.0.18', '255', ...Array(20).fill(hex)]);
        await send(forged);
        // Also a forged advert that carries a trailer of random bytes.
        await send(forged + 'ab'.repeat(28));
        // Then the forger is silent: a master advertises again (without auth_hmac, after the forged owner went quiet).
        await eventually(
          'a master again',
          () => d1.status(),
          (s) => inst(s).state === 'MASTER',
          15_000,
        );
        await heardMoreAdverts(d2, 10);
        const s1 = inst(await d1.status());
        const s2 = inst(await d2.status());
        if (hmac) {
          assert.equal(s1.state, 'MASTER');
          assert.equal(s2.state, 'BACKUP');
          assert.ok(
            s1.counters.drops.hmac >= 20 && s2.counters.drops.hmac >= 20,
            JSON.stringify([s1.counters, s2.counters]),
          );
          // A captured signed advert of d1, replayed with d1's own source address: refused as a replay.
          const cap = lab.spawn('evil', 'tcpdump', [
            '-i',
            'eth0',
            '-c',
            '1',
            '-x',
            '-nn',
            'ip proto 112 and src 198.18.0.11',
          ]);
          const out = new Output(cap);
          await new Promise((r) => cap.once('exit', r));
          const ip = out.lines
            .filter((l) => /^\s+0x/.test(l))
            .map((l) => l.replace(/^\s+0x[0-9a-f]+:\s+/, '').replace(/\s+/g, ''))
            .join('');
          const vrrp = ip.slice(40); // the IPv4 header is 20 bytes
          assert.equal(vrrp.length, (12 + 28) * 2, `a signed advert is 40 bytes: ${vrrp}`);
          const before = s2.counters.drops.replay;
          await lab.run('evil', 'python3', [SEND_SPOOFED, '198.18.0.66', '198.18.0.11', '224.0.0.18', vrrp, vrrp]);
          await heardMoreAdverts(d2, 5);
          const s3 = inst(await d2.status());
          assert.ok(s3.counters.drops.replay >= before + 2, JSON.stringify(s3.counters.drops));
          assert.equal(s3.state, 'BACKUP');
          console.log(
            `# forged adverts with auth_hmac: dropped hmac d1 ${s1.counters.drops.hmac}, d2 ${s2.counters.drops.hmac}; replayed ${s3.counters.drops.replay - before}; d1 still MASTER`,
          );
        } else {
          const took = d1.out.lines.some((l) => /Entering BACKUP STATE \(higher-priority/.test(l));
          assert.ok(took, 'the forged owner made the master step down');
          console.log('# forged adverts without auth_hmac: the master stepped down (higher-priority)');
        }
      },
      ['evil'],
      { evil: '198.18.0.66' },
    );
  });
}

// ── redundant heartbeat paths ──────────────────────────────────────────────────────────────────────────────────────

test('redundant paths: VRRP lost on eth0 but heard on eth1: the backup stays BACKUP (no guard needed); status counts both', {
  skip,
}, async () => {
  const instance =
    '      guard: { enabled: false }\n      paths:\n        - interface: eth1\n' +
    '          unicast: { peers: [198.18.1.11, 198.18.1.12], source: { d1: 198.18.1.11, d2: 198.18.1.12 } }\n';
  const dir = workDir('t14-');
  writeFileSync(join(dir, 'cluster.key'), `hex:${'5a'.repeat(32)}\n`, { mode: 0o600 });
  const lab = await createLab(['d1', 'd2'], { d1: '198.18.0.11', d2: '198.18.0.12' }, { prefix: 't14' });
  try {
    await lab.addSegment('eth1', { d1: '198.18.1.11', d2: '198.18.1.12' });
    const text = config(dir, { instance, cluster: '' }).replace(
      'nodes: [{ name: d1, address: 198.18.0.11 }, { name: d2, address: 198.18.0.12 }]',
      'nodes: [{ name: d1, address: 198.18.0.11, addresses: [198.18.1.11] }, { name: d2, address: 198.18.0.12, addresses: [198.18.1.12] }]',
    );
    const { d1, d2 } = await startPair(lab, dir, text);
    const undo = await dropVrrpInput(lab, 'd2', 'iifname eth0 ip protocol vrrp');
    const before = inst(await d2.status()).paths!;
    await eventually(
      'd2 heard 30 more adverts on eth1',
      () => d2.status(),
      (s) => inst(s).paths![1]!.advertsReceived >= before[1]!.advertsReceived + 30,
    );
    const s = inst(await d2.status());
    assert.equal(s.state, 'BACKUP');
    assert.equal(s.master && !s.master.self && s.master.addr, '198.18.0.11', 'the master is known by its eth0 address');
    assert.ok(s.paths![0]!.advertsReceived <= before[0]!.advertsReceived + 1, 'nothing more on eth0');
    assert.equal(inst(await d1.status()).state, 'MASTER');
    await undo();
    console.log(`# paths: ${JSON.stringify(s.paths)}`);
  } finally {
    await lab.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
});

// ── ping targets ───────────────────────────────────────────────────────────────────────────────────────────────────

test('ping targets: the master that cannot reach its gateway (weight 0) cannot stay master; it comes back when it can', {
  skip,
}, async () => {
  const top = '  track_pings:\n    gw: { targets: [198.18.0.1], interval: 200ms, timeout: 200ms, fall: 2 }\n';
  await pair(
    (dir) =>
      config(dir, { instance: '      track: { pings: [{ name: gw }] }\n' }).replace(
        '  instances:\n',
        `${top}  instances:\n`,
      ),
    async ({ lab, d1, d2 }) => {
      const undo = await dropVrrpInput(lab, 'd1', 'ip saddr 198.18.0.1 icmp type echo-reply');
      await d1.out.waitFor(/track_ping gw down/, 10_000);
      await eventually(
        'd1 FAULT',
        () => stateOf(d1),
        (s) => s === 'FAULT',
        5_000,
      );
      await eventually(
        'd2 MASTER',
        () => stateOf(d2),
        (s) => s === 'MASTER',
        5_000,
      );
      await undo();
      await d1.out.waitFor(/track_ping gw up/, 10_000);
      await eventually(
        'd1 MASTER again',
        () => stateOf(d1),
        (s) => s === 'MASTER',
        10_000,
      );
    },
    ['gw'],
    { gw: '198.18.0.1' },
  );
});

// ── fencing ────────────────────────────────────────────────────────────────────────────────────────────────────────

/** A fence agent script (the fence-agents stdin protocol): records its stdin; `action=off` takes `plug`'s link down. */
function fenceScript(dir: string, ok: boolean): string {
  const path = join(dir, 'fence_lab');
  writeFileSync(
    path,
    `#!/bin/sh
# No metadata: this agent is a plain script (fence-agents agents print XML for -o metadata).
[ "$1" = "-o" ] && exit 1
plug=
while IFS= read -r line; do
  echo "$line" >> "${dir}/fence.stdin"
  case "$line" in plug=*) plug="\${line#plug=}" ;; esac
done
${ok ? 'ip -n "$plug" link set eth0 down && echo "Success: Powered OFF"' : 'echo "Failed: Unable to connect to the power switch" >&2; exit 1'}
`,
  );
  chmodSync(path, 0o755);
  return path;
}

for (const ok of [true, false]) {
  test(`fencing: a partitioned master is fenced before the takeover; ${ok ? 'success: takeover, cause fenced' : 'failure: no takeover, status says so'}`, {
    skip,
  }, async () => {
    // The fence parameters name the namespaces, known once the lab exists: this one is built by hand.
    const dir = workDir('t14-');
    writeFileSync(join(dir, 'cluster.key'), `hex:${'5a'.repeat(32)}\n`, { mode: 0o600 });
    const lab = await createLab(['d1', 'd2'], { d1: '198.18.0.11', d2: '198.18.0.12' }, { prefix: 't14' });
    try {
      const text = config(dir, {
        instance: '      guard: { fence: lab }\n',
        top:
          `fencing:\n  devices:\n    lab: { agent: ${fenceScript(dir, ok)}, ` +
          `params: { plug: { d1: ${lab.host('d1').ns}, d2: ${lab.host('d2').ns} } }, timeout: 5s, retry: 1s }\n`,
      });
      const { d1, d2 } = await startPair(lab, dir, text);
      // A full partition as d2 sees it: nothing from d1's interface arrives (VRRP, ping, the peer channel, the VIP's
      // answers), while d1 itself stays up and MASTER.
      const mac = /link\/ether ([0-9a-f:]+)/.exec(await lab.run('d1', 'ip', ['-o', 'link', 'show', 'eth0']))![1]!;
      const undo = await dropVrrpInput(lab, 'd2', `ether saddr ${mac}`);
      if (ok) {
        await eventually(
          'd2 MASTER',
          () => stateOf(d2),
          (s) => s === 'MASTER',
          10_000,
        );
        const s = inst(await d2.status());
        assert.equal(s.lastTransition?.cause, 'fenced');
        assert.equal(readFileSync(join(dir, 'fence.stdin'), 'utf8'), `action=off\nplug=${lab.host('d1').ns}\n`);
        await d2.out.waitFor(/fence lab → d1: ok/);
        assert.equal(await stateOf(d1), 'FAULT', 'fenced: its link is down');
      } else {
        await d2.out.waitFor(/fence lab → d1: failed .*Unable to connect to the power switch/, 10_000);
        // It keeps asking, every advert interval, and does not take over.
        const s = inst(
          await eventually(
            'd2 rechecked 5 rounds after the failed fence',
            () => d2.status(),
            (x) => (inst(x).guard?.rounds ?? 0) >= 5,
          ),
        );
        assert.equal(s.state, 'BACKUP');
        assert.equal(s.guard?.state, 'fence-failed');
        assert.match(s.guard!.message, /^fencing 198\.18\.0\.11 with lab failed \(exit 1: Failed: Unable to connect/);
      }
      await undo();
    } finally {
      await lab.teardown();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test("fencing: a device whose parameters Debian's fence_virsh does not know stops the daemon at start (TND_FENCE_CONFIG)", {
  skip: skip || (!spawnSync('test', ['-x', '/usr/sbin/fence_virsh']).status ? false : 'needs fence-agents'),
}, async () => {
  const dir = workDir('t14-');
  writeFileSync(join(dir, 'cluster.key'), `hex:${'5a'.repeat(32)}\n`, { mode: 0o600 });
  const lab = await createLab(['d1'], { d1: '198.18.0.11' }, { prefix: 't14' });
  try {
    const text = config(dir, {
      instance: '      guard: { fence: v }\n',
      top: 'fencing:\n  devices:\n    v: { agent: fence_virsh, params: { ipadr: 198.18.0.1, username: root } }\n',
    });
    const file = join(dir, 'd1.yaml');
    writeFileSync(file, text);
    const child = lab.spawn('d1', process.execPath, [
      TANDEM,
      'run',
      '-c',
      file,
      '--node',
      'd1',
      '--control',
      join(dir, 's'),
      '--no-supervisor',
    ]);
    const out = new Output(child);
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    assert.notEqual(code, 0);
    assert.match(out.text(), /TND_FENCE_CONFIG fencing\.devices\.v: fence_virsh has no parameter ipadr/);
    assert.match(out.text(), /TND_FENCE_CONFIG fencing\.devices\.v: fence_virsh needs the parameter plug \(or port\)/);
  } finally {
    await lab.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
});
