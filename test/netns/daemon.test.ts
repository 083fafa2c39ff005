// The daemon's edges: a stale VIP left by a crash is removed at start, JSON logs, and a clear refusal without the
// capabilities it needs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { canBuildLabs, createLab } from './lab.ts';
import { addrsOf, eventually, startTandem, TANDEM, untilState, workDir } from './tandem-lab.ts';

const skip = canBuildLabs() ? false : 'needs root and ip netns';
const VIP = '198.18.0.100';
const CONFIG = `
cluster:
  nodes: [{ name: d1, address: 198.18.0.11 }, { name: d2, address: 198.18.0.12 }]
vrrp:
  instances:
    - { name: VI_1, interface: eth0, vrid: 51, version: 3, priority: { d1: 90, d2: 150 }, advert_interval: 100ms, vips: [${VIP}/24] }
`;

test('a VIP left on the interface by a crash is removed when tandem starts as backup; JSON logs carry the events', {
  skip,
}, async () => {
  const dir = workDir();
  const lab = await createLab(['d1', 'd2']);
  try {
    const d2 = await startTandem(lab, 'd2', CONFIG, { dir });
    await untilState(d2, 'MASTER');
    await lab.run('d1', 'ip', ['addr', 'add', `${VIP}/24`, 'dev', 'eth0']);
    assert.ok((await addrsOf(lab, 'd1')).includes(VIP));
    const d1 = await startTandem(lab, 'd1', CONFIG, { dir, args: ['--log-format', 'json'] });
    await eventually(
      'stale VIP gone from d1',
      () => addrsOf(lab, 'd1'),
      (a) => !a.includes(VIP),
    );
    assert.equal((await d1.status()).instances[0]?.state, 'BACKUP');
    const events = d1.out.lines.flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
    assert.ok(events.length >= 3, d1.out.text());
    assert.ok(events.some((e) => e.event === 'transition' && e.to === 'BACKUP' && e.cause === 'startup'));
    assert.ok(events.some((e) => e.event === 'vips' && e.op === 'remove'));
    assert.ok(events.every((e) => typeof e.time === 'string' && typeof e.level === 'string'));
  } finally {
    await lab.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without CAP_NET_RAW and CAP_NET_ADMIN tandem says so and exits', {
  skip: skip || (spawnSync('which', ['setpriv']).status === 0 ? false : 'needs setpriv'),
}, () => {
  const dir = workDir();
  try {
    const file = join(dir, 't.yaml');
    writeFileSync(file, CONFIG);
    const r = spawnSync(
      'setpriv',
      [
        '--bounding-set',
        '-net_raw,-net_admin',
        '--inh-caps',
        '-net_raw,-net_admin',
        process.execPath,
        TANDEM,
        'run',
        '-c',
        file,
        '--node',
        'd1',
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    assert.equal(r.status, 4, r.stderr);
    assert.match(r.stderr, /TND_DAEMON_CAPS tandem needs CAP_NET_RAW and CAP_NET_ADMIN/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tandem release after the whole unit was SIGKILLed: priority 0 and the VIP removed, the backup takes over fast', {
  skip,
}, async () => {
  const dir = workDir();
  const lab = await createLab(['d1', 'd2']);
  try {
    const config = CONFIG.replace('priority: { d1: 90, d2: 150 }', 'priority: { d1: 150, d2: 100 }').replace(
      '100ms',
      '1s',
    );
    const d1 = await startTandem(lab, 'd1', config, { dir });
    const d2 = await startTandem(lab, 'd2', config, { dir });
    await untilState(d1, 'MASTER');
    await untilState(d2, 'BACKUP');
    // Supervisor and daemon both die: the VIP stays on d1, as keepalived's would.
    const line = await d1.out.waitFor(/Supervisor: started daemon pid \d+/);
    const childPid = Number(/pid (\d+)/.exec(line)![1]);
    const gone = new Promise<void>((resolve) => d1.child.once('exit', () => resolve()));
    process.kill(childPid, 'SIGKILL');
    process.kill(d1.child.pid!, 'SIGKILL');
    // Both are gone: the supervisor's exit is seen, the child's pid no longer answers signals.
    await gone;
    await eventually(
      'the daemon child is gone',
      () => {
        try {
          process.kill(childPid, 0);
          return false;
        } catch {
          return true;
        }
      },
      (x) => x,
      5_000,
    );
    assert.ok((await addrsOf(lab, 'd1')).includes(VIP), 'the VIP was left behind');
    const t0 = Date.now();
    const r = await lab.exec('d1', process.execPath, [TANDEM, 'release', '-c', join(dir, 'd1.yaml'), '--node', 'd1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /\(VI_1\) released for the dead daemon: sent priority 0/);
    assert.equal((await addrsOf(lab, 'd1')).includes(VIP), false);
    await untilState(d2, 'MASTER', 5_000);
    // Skew_Time for priority 100 at 1 s adverts is 609 ms; without the release d2 would wait 3.6 s.
    assert.ok(Date.now() - t0 < 2_500, `took ${Date.now() - t0} ms`);
    const again = await lab.exec('d1', process.execPath, [
      TANDEM,
      'release',
      '-c',
      join(dir, 'd1.yaml'),
      '--node',
      'd1',
    ]);
    assert.match(again.stderr, /nothing to do/);
  } finally {
    await lab.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a tracked script (run off the main thread) lowers the master priority and the backup takes over', {
  skip,
}, async () => {
  const dir = workDir();
  const lab = await createLab(['d1', 'd2']);
  try {
    const flag = join(dir, 'healthy');
    writeFileSync(flag, '0');
    const config = `
cluster:
  nodes: [{ name: d1, address: 198.18.0.11 }, { name: d2, address: 198.18.0.12 }]
vrrp:
  scripts:
    # Fails on d1 only (the file is shared by both namespaces): d1 is the host with 198.18.0.11.
    chk_web:
      command: "/bin/sh -c 'ip -o addr show dev eth0 | grep -q 198.18.0.11 || exit 0; exit $(cat ${flag})'"
      interval: 100ms
      weight: -60
      fall: 2
  instances:
    - name: VI_1
      interface: eth0
      vrid: 51
      version: 3
      priority: { d1: 150, d2: 100 }
      advert_interval: 100ms
      vips: [${VIP}/24]
      track: { scripts: [{ name: chk_web }] }
`;
    const d1 = await startTandem(lab, 'd1', config, { dir });
    const d2 = await startTandem(lab, 'd2', config, { dir });
    await untilState(d1, 'MASTER');
    await untilState(d2, 'BACKUP');
    writeFileSync(flag, '1');
    await untilState(d2, 'MASTER', 5_000);
    const s1 = (await d1.status()).instances[0]!;
    assert.equal(s1.priority.effective, 90);
    assert.deepEqual(
      s1.priority.trackers.find((t) => t.id === 'script:chk_web'),
      { id: 'script:chk_web', up: false, weight: -60, effect: 'subtracts' },
    );
    await d1.out.waitFor(/VRRP_Script\(chk_web\) failed/);
    writeFileSync(flag, '0');
    await untilState(d1, 'MASTER', 5_000);
  } finally {
    await lab.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
});
