/**
 * Resource agents against real processes: Debian's own resource-agents (ocf:heartbeat:Dummy, IPaddr2, Filesystem)
 * run unmodified, an LSB init script and plain commands written to a temp directory, and whole groups driven by the
 * runner on the wall clock. Address changes happen only inside lab namespaces (198.18.0.0/24, no route out); the
 * filesystem test mounts a tmpfs inside a private mount namespace that vanishes with its holder process.
 *
 * Needs: the resource-agents package (Dummy, the LSB and script tests need nothing else); root and ip netns for
 * IPaddr2 and the vip agent; root, unshare/nsenter and modprobe (kmod) for Filesystem. Each skips cleanly otherwise.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { IpAddressAdapter } from '../../src/os/addresses.ts';
import { realAgentDeps } from '../../src/os/agent-runner.ts';
import { wallClock } from '../../src/os/clock.ts';
import { runCommand } from '../../src/os/process.ts';
import type { AgentDeps } from '../../src/resources/agents/deps.ts';
import { fsAgent } from '../../src/resources/agents/fs.ts';
import { lsbAgent } from '../../src/resources/agents/lsb.ts';
import { ocfAgent } from '../../src/resources/agents/ocf.ts';
import { scriptAgent } from '../../src/resources/agents/script.ts';
import { vipAgent } from '../../src/resources/agents/vip.ts';
import { GroupRunner, type RunnerResource } from '../../src/resources/runner.ts';
import { memoryLog } from '../../src/resources/test-support.ts';
import type { ResourceAgent } from '../../src/resources/types.ts';
import { canBuildLabs, createLab } from './lab.ts';

const OCF = '/usr/lib/ocf/resource.d/heartbeat';
const haveAgents = existsSync(`${OCF}/Dummy`) && existsSync(`${OCF}/IPaddr2`) && existsSync(`${OCF}/Filesystem`);
const skipAgents = haveAgents ? false : 'needs Debian resource-agents (apt-get install resource-agents)';
const skipLab = !canBuildLabs() ? 'needs root and ip netns' : skipAgents;
const haveMountNs =
  process.getuid?.() === 0 &&
  spawnSync('unshare', ['--mount', 'true']).status === 0 &&
  spawnSync('sh', ['-c', 'command -v nsenter && command -v modprobe'], { stdio: 'ignore' }).status === 0;
const skipFs = skipAgents || (haveMountNs ? false : 'needs root, unshare/nsenter and modprobe (Debian kmod)');

const NEVER = new AbortController().signal;
const deps = realAgentDeps();

/** A temp directory, removed after the test. */
function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-res-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Polls `pred` every 20 ms until it holds or `ms` pass. */
async function waitFor(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = performance.now() + ms;
  while (!pred()) {
    if (performance.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** An LSB init script managing a `sleep` (at most 120 s) with a pid file; `textOnly` = exits 0 for any status. */
function writeInitScript(dir: string, textOnly = false): string {
  const path = join(dir, 'app');
  const pid = join(dir, 'app.pid');
  const status = textOnly
    ? `if alive; then echo "app is running"; else echo "app is stopped"; fi; exit 0`
    : `if alive; then echo "app is running"; exit 0; fi
          if [ -f ${pid} ]; then echo "app dead, pid file exists"; exit 1; fi
          echo "app is not running"; exit 3`;
  writeFileSync(
    path,
    `#!/bin/sh
alive() { [ -f ${pid} ] && kill -0 "$(cat ${pid})" 2>/dev/null; }
case "$1" in
  start) if alive; then echo "app already running"; exit 0; fi
         sleep 120 >/dev/null 2>&1 &
         echo $! > ${pid}; echo "Starting app: done."; exit 0 ;;
  stop)  if alive; then kill "$(cat ${pid})"; fi; rm -f ${pid}; echo "Stopping app: done."; exit 0 ;;
  status) ${status} ;;
  *) echo "usage: $0 start|stop|status"; exit 3 ;;
esac
`,
  );
  chmodSync(path, 0o755);
  return path;
}

/** Kills the sleep an init script left behind, if any (by the PID it wrote). */
function killLeftover(dir: string): void {
  try {
    process.kill(Number(readFileSync(join(dir, 'app.pid'), 'utf8')), 'SIGKILL');
  } catch {
    // no pid file, or already gone
  }
}

/** A runner resource with short timeouts. */
function res(id: string, agent: ResourceAgent): RunnerResource {
  return { id, agent, monitorIntervalMs: 0, monitorTimeoutMs: 10_000, startTimeoutMs: 10_000, stopTimeoutMs: 10_000 };
}

test('ocf:heartbeat:Dummy runs unmodified: start writes its state file, monitor sees it, stop removes it', {
  skip: skipAgents,
}, async (t) => {
  const dir = tempDir(t);
  const state = join(dir, 'dummy.state');
  const a = ocfAgent({ provider: 'heartbeat', type: 'Dummy', params: { state }, instance: 'tnd-test-dummy' }, deps);
  assert.equal((await a.monitor(NEVER, 10_000)).code, 'not-running');
  assert.equal((await a.start(NEVER, 10_000)).code, 'ok');
  assert.ok(existsSync(state), 'the state file exists');
  assert.equal((await a.start(NEVER, 10_000)).code, 'ok', 'start on a running resource succeeds');
  assert.equal((await a.monitor(NEVER, 10_000)).code, 'ok');
  assert.equal((await a.validate!(NEVER, 10_000)).code, 'ok');
  assert.match((await a.metaData(NEVER)).xml, /<resource-agent name="Dummy"/);
  assert.equal((await a.stop(NEVER, 10_000)).code, 'ok');
  assert.equal(existsSync(state), false);
  assert.equal((await a.stop(NEVER, 10_000)).code, 'ok', 'stop on a stopped resource succeeds');
  assert.equal((await a.monitor(NEVER, 10_000)).code, 'not-running');
  // validate-all of an unwritable state directory: OCF_ERR_ARGS with the agent's own reason.
  const bad = ocfAgent(
    { provider: 'heartbeat', type: 'Dummy', params: { state: '/nonexistent/dir/x.state' }, instance: 'tnd-test-bad' },
    deps,
  );
  const v = await bad.validate!(NEVER, 10_000);
  assert.equal(v.code, 'invalid-args');
  assert.match(v.detail ?? '', /not writable/);
});

test('an LSB init script: start and stop are idempotent, status is read by its exit code', async (t) => {
  const dir = tempDir(t);
  t.after(() => killLeftover(dir));
  const a = lsbAgent({ script: writeInitScript(dir) }, deps);
  assert.equal((await a.monitor(NEVER, 10_000)).code, 'not-running');
  const s1 = await a.start(NEVER, 10_000);
  assert.equal(s1.code, 'ok');
  assert.match(s1.output ?? '', /Starting app: done\./, 'output is captured');
  const pid = readFileSync(join(dir, 'app.pid'), 'utf8');
  assert.deepEqual(await a.start(NEVER, 10_000).then((r) => [r.code, r.detail]), ['ok', 'already running']);
  assert.equal(readFileSync(join(dir, 'app.pid'), 'utf8'), pid, 'no second process');
  assert.equal((await a.monitor(NEVER, 10_000)).code, 'ok');
  assert.equal((await a.stop(NEVER, 10_000)).code, 'ok');
  assert.equal((await a.stop(NEVER, 10_000)).code, 'ok');
  assert.equal((await a.monitor(NEVER, 10_000)).code, 'not-running');
});

test("an init script that exits 0 for any status is read by heartbeat's words", async (t) => {
  const dir = tempDir(t);
  t.after(() => killLeftover(dir));
  const a = lsbAgent({ script: writeInitScript(dir, true) }, deps);
  assert.equal((await a.monitor(NEVER, 10_000)).code, 'not-running');
  assert.equal((await a.start(NEVER, 10_000)).code, 'ok');
  assert.equal((await a.monitor(NEVER, 10_000)).code, 'ok');
  assert.equal((await a.stop(NEVER, 10_000)).code, 'ok');
  assert.equal((await a.monitor(NEVER, 10_000)).code, 'not-running');
});

test('a script resource: monitor exit 7 is not running, a start that hangs is killed at its timeout', async (t) => {
  const dir = tempDir(t);
  const flag = join(dir, 'up');
  const a = scriptAgent(
    { start: `touch ${flag}`, stop: `rm -f ${flag}`, monitor: `sh -c "test -f ${flag} || exit 7"` },
    deps,
  );
  assert.equal((await a.monitor(NEVER, 5_000)).code, 'not-running');
  assert.equal((await a.start(NEVER, 5_000)).code, 'ok');
  assert.equal((await a.monitor(NEVER, 5_000)).code, 'ok');
  assert.equal((await a.stop(NEVER, 5_000)).code, 'ok');
  assert.equal((await a.monitor(NEVER, 5_000)).code, 'not-running');
  const hang = scriptAgent({ start: 'sleep 30', stop: 'true' }, deps);
  const t0 = performance.now();
  assert.equal((await hang.start(NEVER, 300)).code, 'timeout');
  assert.ok(performance.now() - t0 < 10_000, 'killed, not waited for');
});

/** A 4-resource group of real agents: Dummy, an init script, a command resource, Dummy. */
function realGroup(dir: string, third?: ResourceAgent): RunnerResource[] {
  const flag = join(dir, 'marker');
  return [
    res(
      'dummy1',
      ocfAgent(
        { provider: 'heartbeat', type: 'Dummy', params: { state: join(dir, 'd1.state') }, instance: 'tnd-g-d1' },
        deps,
      ),
    ),
    res('app', lsbAgent({ script: writeInitScript(dir) }, deps)),
    res(
      'marker',
      third ??
        scriptAgent(
          { start: `touch ${flag}`, stop: `rm -f ${flag}`, monitor: `sh -c "test -f ${flag} || exit 7"` },
          deps,
        ),
    ),
    res(
      'dummy2',
      ocfAgent(
        { provider: 'heartbeat', type: 'Dummy', params: { state: join(dir, 'd2.state') }, instance: 'tnd-g-d2' },
        deps,
      ),
    ),
  ];
}

test('a 4-resource group of real agents starts left to right and stops right to left, as its log shows', {
  skip: skipAgents,
}, async (t) => {
  const dir = tempDir(t);
  t.after(() => killLeftover(dir));
  const log = memoryLog();
  const g = new GroupRunner({
    name: 'web',
    resources: realGroup(dir),
    probe: false,
    clock: wallClock(),
    log,
    owner: { onGiveUp: () => assert.fail('no give-up expected') },
  });
  g.start();
  g.setOwner(true);
  await waitFor(() => g.status().phase === 'running', 30_000, 'group running');
  assert.ok(existsSync(join(dir, 'd1.state')) && existsSync(join(dir, 'marker')) && existsSync(join(dir, 'd2.state')));
  g.setOwner(false);
  await waitFor(() => g.status().phase === 'stopped', 30_000, 'group stopped');
  const lines = log.lines.filter((l) => / (start|stop) \d\/4 /.test(l));
  t.diagnostic(`log:\n${lines.join('\n')}`);
  assert.deepEqual(
    lines.map((l) => l.replace(/ in \d+ ms.*$/, '').replace(/lsb:\S+/, 'lsb:APP')),
    [
      'group web: start 1/4 ocf:heartbeat:Dummy (dummy1): ok',
      'group web: start 2/4 lsb:APP (app): ok',
      'group web: start 3/4 script:touch (marker): ok',
      'group web: start 4/4 ocf:heartbeat:Dummy (dummy2): ok',
      'group web: stop 4/4 ocf:heartbeat:Dummy (dummy2): ok',
      'group web: stop 3/4 script:touch (marker): ok',
      'group web: stop 2/4 lsb:APP (app): ok',
      'group web: stop 1/4 ocf:heartbeat:Dummy (dummy1): ok',
    ],
  );
  assert.equal(existsSync(join(dir, 'd1.state')) || existsSync(join(dir, 'app.pid')), false, 'all stopped');
  await g.shutdown();
});

test('a failing third resource of a real group rolls back 3, 2, 1 and gives up ownership', {
  skip: skipAgents,
}, async (t) => {
  const dir = tempDir(t);
  t.after(() => killLeftover(dir));
  const log = memoryLog();
  const gaveUp: string[] = [];
  const failing = scriptAgent({ start: `sh -c "echo cannot bind >&2; exit 1"`, stop: 'true' }, deps);
  const g = new GroupRunner({
    name: 'web',
    resources: realGroup(dir, failing),
    probe: false,
    clock: wallClock(),
    log,
    owner: { onGiveUp: (_g, why) => gaveUp.push(why) },
  });
  g.start();
  g.setOwner(true);
  await waitFor(() => g.status().phase === 'failed', 30_000, 'group failed');
  const lines = log.lines.filter((l) => / (start|stop) \d\/4 /.test(l));
  t.diagnostic(`log:\n${lines.join('\n')}`);
  assert.deepEqual(
    lines.map((l) => l.replace(/ in \d+ ms/, '').replace(/lsb:\S+/, 'lsb:APP')),
    [
      'group web: start 1/4 ocf:heartbeat:Dummy (dummy1): ok',
      'group web: start 2/4 lsb:APP (app): ok',
      'group web: start 3/4 script:sh (marker): generic-error (exit 1)',
      'group web: stop 3/4 script:sh (marker): ok',
      'group web: stop 2/4 lsb:APP (app): ok',
      'group web: stop 1/4 ocf:heartbeat:Dummy (dummy1): ok',
    ],
  );
  assert.ok(log.lines.includes('group web: marker start output: cannot bind'), 'the failing output is logged');
  assert.deepEqual(gaveUp, ['start-failed']);
  assert.equal(existsSync(join(dir, 'd1.state')) || existsSync(join(dir, 'app.pid')), false, 'rolled back');
  await g.shutdown();
});

test('ocf:heartbeat:IPaddr2 runs unmodified in a namespace: adds the address, ARPs the peer, removes it', {
  skip: skipLab,
}, async () => {
  const lab = await createLab(['a', 'b']);
  try {
    const ns = lab.host('a').ns;
    const vip = `198.18.0.${150 + (process.pid % 50)}`;
    // The peer listens for the gratuitous ARP (bounded: one packet, or killed at teardown).
    const dump = lab.spawn('b', 'tcpdump', ['-i', 'eth0', '-n', '-l', '-c', '1', `arp and host ${vip}`]);
    const heard = lines(dump);
    await waitFor(() => heard.err.some((l) => /listening on/.test(l)), 10_000, 'tcpdump ready');
    const a = ocfAgent(
      {
        provider: 'heartbeat',
        type: 'IPaddr2',
        params: { ip: vip, cidr_netmask: '24', nic: 'eth0' },
        instance: `tnd-${lab.id}-ip`,
      },
      realAgentDeps({ netns: ns }),
    );
    assert.equal((await a.monitor(NEVER, 20_000)).code, 'not-running');
    const started = await a.start(NEVER, 20_000);
    assert.equal(started.code, 'ok', started.output);
    assert.match(await lab.run('a', 'ip', ['-o', '-4', 'addr', 'show', 'dev', 'eth0']), new RegExp(`inet ${vip}/24`));
    assert.equal((await a.monitor(NEVER, 20_000)).code, 'ok');
    assert.equal((await a.start(NEVER, 20_000)).code, 'ok', 'idempotent start');
    await waitFor(() => heard.out.some((l) => l.includes(vip)), 10_000, 'gratuitous ARP seen by the peer');
    assert.match(heard.out.find((l) => l.includes(vip))!, /ARP, (Request|Reply)/);
    assert.equal((await a.stop(NEVER, 20_000)).code, 'ok');
    assert.doesNotMatch(await lab.run('a', 'ip', ['-o', '-4', 'addr', 'show', 'dev', 'eth0']), new RegExp(vip));
    assert.equal((await a.stop(NEVER, 20_000)).code, 'ok', 'idempotent stop');
    assert.equal((await a.monitor(NEVER, 20_000)).code, 'not-running');
  } finally {
    await lab.teardown();
  }
});

test("tandem's vip agent in a namespace: add, monitor, remove, through ip", { skip: skipLab }, async () => {
  const lab = await createLab(['a']);
  try {
    const ns = lab.host('a').ns;
    const agentDeps: AgentDeps = { ...realAgentDeps({ netns: ns }), addresses: new IpAddressAdapter({ netns: ns }) };
    const a = vipAgent({ address: '198.18.0.120/24' }, { ...agentDeps, defaultInterface: 'eth0' });
    assert.equal((await a.monitor(NEVER, 5_000)).code, 'not-running');
    assert.deepEqual(await a.start(NEVER, 5_000), { code: 'ok', detail: 'added' });
    assert.equal((await a.monitor(NEVER, 5_000)).code, 'ok');
    assert.match(await lab.run('a', 'ip', ['-o', '-4', 'addr', 'show', 'dev', 'eth0']), /inet 198\.18\.0\.120\/24/);
    assert.deepEqual(await a.stop(NEVER, 5_000), { code: 'ok', detail: 'removed' });
    assert.equal((await a.monitor(NEVER, 5_000)).code, 'not-running');
  } finally {
    await lab.teardown();
  }
});

test('fs: ocf:heartbeat:Filesystem mounts and unmounts a tmpfs, inside a private mount namespace', {
  skip: skipFs,
}, async (t) => {
  const dir = tempDir(t);
  const mnt = join(dir, 'mnt');
  spawnSync('mkdir', [mnt]);
  // A holder process in a new mount namespace; every agent command enters it, and its mounts die with it.
  const holder = spawn('unshare', ['--mount', '--propagation', 'private', 'sleep', '120'], { stdio: 'ignore' });
  t.after(() => {
    if (holder.pid) process.kill(holder.pid, 'SIGKILL');
  });
  const pid = holder.pid!;
  const ours = readlinkSync('/proc/self/ns/mnt');
  await waitFor(
    () => {
      try {
        return readlinkSync(`/proc/${pid}/ns/mnt`) !== ours;
      } catch {
        return false;
      }
    },
    5_000,
    'mount namespace',
  );
  const inNs: AgentDeps = {
    ...deps,
    run: (command, o) =>
      runCommand(
        ['nsenter', '-t', String(pid), '-m', '--', ...(typeof command === 'string' ? ['sh', '-c', command] : command)],
        o,
      ),
  };
  const mounted = (): boolean => readFileSync(`/proc/${pid}/mounts`, 'utf8').includes(` ${mnt} tmpfs `);
  const a = fsAgent({ device: 'tmpfs', directory: mnt, fstype: 'tmpfs', options: 'size=1m' }, 'tnd-test-fs', inNs);
  assert.equal((await a.monitor(NEVER, 20_000)).code, 'not-running');
  const r = await a.start(NEVER, 20_000);
  assert.equal(r.code, 'ok', r.output);
  assert.ok(mounted(), 'mounted in the namespace');
  assert.equal(readFileSync('/proc/self/mounts', 'utf8').includes(` ${mnt} `), false, 'not on the host');
  assert.equal((await a.monitor(NEVER, 20_000)).code, 'ok');
  assert.equal((await a.start(NEVER, 20_000)).code, 'ok', 'idempotent start');
  assert.equal((await a.stop(NEVER, 20_000)).code, 'ok');
  assert.equal(mounted(), false);
  assert.equal((await a.stop(NEVER, 20_000)).code, 'ok', 'idempotent stop');
});

/** Collects a child's stdout and stderr lines. */
function lines(child: ChildProcess): { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  child.stdout?.on('data', (d: Buffer) => out.push(...String(d).split('\n').filter(Boolean)));
  child.stderr?.on('data', (d: Buffer) => err.push(...String(d).split('\n').filter(Boolean)));
  return { out, err };
}
