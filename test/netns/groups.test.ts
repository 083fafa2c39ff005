// Resource groups failing over between two real daemons: a group `vip + OCF Dummy (Debian's resource-agents,
// unmodified) + an HTTP service` written in tandem YAML, and the same story from heartbeat's own files (ha.cf,
// haresources, authkeys) with an LSB init script. A client requests the service address every 10 ms; the master is
// stopped (SIGTERM): it stops its resources right to left, hands over, and the peer starts them left to right.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { canBuildLabs, createLab, type Lab } from './lab.ts';
import {
  addrsOf,
  eventually,
  probe,
  startProbe,
  startTandem,
  type TandemProc,
  untilState,
  workDir,
} from './tandem-lab.ts';

const DUMMY = '/usr/lib/ocf/resource.d/heartbeat/Dummy';
const skip = !canBuildLabs() ? 'needs root and ip netns' : !existsSync(DUMMY) ? 'needs resource-agents' : false;

/**
 * An LSB init script for a small HTTP server on port 80 that answers with the node's name (python3 http.server,
 * detached with setsid so the agent's call returns). One pid file per node.
 */
function webScript(dir: string, host: string, run: string): string {
  const path = join(dir, 'tandemweb');
  writeFileSync(
    path,
    `#!/bin/sh
# LSB init script of the lab's web service: start | stop | status
PID=${run}/web-${host}.pid
ROOT=${run}/www-${host}
# A killed server is reaped by whoever adopted it, maybe late: a zombie does not count as running.
running() { [ -f "$PID" ] && kill -0 "$(cat "$PID")" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$(cat "$PID")/status"; }
case "$1" in
  start)
    running && exit 0
    mkdir -p "$ROOT" && echo ${host} > "$ROOT/index.html"
    setsid python3 -m http.server 80 --bind 0.0.0.0 --directory "$ROOT" >/dev/null 2>&1 < /dev/null &
    echo $! > "$PID"
    i=0; while [ $i -lt 50 ]; do
      python3 -c "import socket; socket.create_connection(('127.0.0.1', 80), 0.2)" 2>/dev/null && exit 0
      i=$((i + 1)); sleep 0.1
    done
    exit 1 ;;
  stop)
    running && kill "$(cat "$PID")" && while running; do sleep 0.05; done
    rm -f "$PID"; exit 0 ;;
  status)
    running && { echo running; exit 0; }
    echo stopped; exit 3 ;;
  *) exit 2 ;;
esac
`,
  );
  chmodSync(path, 0o755);
  return path;
}

async function twoNodes(
  start: (lab: Lab, dir: string, host: 'd1' | 'd2') => Promise<TandemProc>,
  service: string,
  body: (ctx: { lab: Lab; d1: TandemProc; d2: TandemProc }) => Promise<void>,
): Promise<void> {
  const dir = workDir('tandem-groups-');
  const lab = await createLab(['d1', 'd2', 'client'], { d1: '198.18.0.11', d2: '198.18.0.12', client: '198.18.0.50' });
  try {
    const d1 = await start(lab, dir, 'd1');
    const d2 = await start(lab, dir, 'd2');
    await untilState(d1, 'MASTER');
    await untilState(d2, 'BACKUP');
    await eventually(
      'the service answers on d1',
      () => probe(lab, 'client', service, 50, 200),
      (r) => (r.who.d1 ?? 0) > 0,
      20_000,
    );
    await body({ lab, d1, d2 });
  } finally {
    await lab.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
}

const groupYaml = (dir: string, script: string) => `
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
      vips: [198.18.0.100/24]
groups:
  - name: web
    owner: VI_1
    resources:
      - { type: vip, id: service-ip, address: 198.18.0.101/24 }
      - type: ocf
        id: dummy
        agent: heartbeat:Dummy
        params: { state: ${dir}/dummy-STATE.state }
        monitor_interval: 1s
      - { type: script, id: web, start: ${script} start, stop: ${script} stop, monitor: ${script} status }
`;

test('a group vip + OCF Dummy + HTTP service fails over: stopped right to left on d1, started left to right on d2', {
  skip,
  timeout: 120_000,
}, async () => {
  const dirRef = { dir: '' };
  await twoNodes(
    async (lab, dir, host) => {
      dirRef.dir = dir;
      const bin = join(dir, `bin-${host}`);
      mkdirSync(bin, { recursive: true });
      const script = webScript(bin, host, dir);
      const yaml = groupYaml(dir, script).replace('STATE', host);
      return startTandem(lab, host, yaml, { dir, args: [] });
    },
    '198.18.0.101',
    async ({ lab, d1, d2 }) => {
      assert.ok((await addrsOf(lab, 'd1')).includes('198.18.0.101'), 'the vip resource is on d1');
      assert.ok(existsSync(join(dirRef.dir, 'dummy-d1.state')), "Dummy's state file exists on d1");
      const status = await d1.status();
      assert.equal(status.groups?.[0]?.phase, 'running', JSON.stringify(status.groups));
      const client = startProbe(lab, 'client', '198.18.0.101', 10, 5_000);
      await client.answered(80);
      d1.child.kill('SIGTERM');
      const r = await client.done;
      await untilState(d2, 'MASTER');
      process.stdout.write(`# group failover (YAML): client gap ${r.maxGapMs} ms, who ${JSON.stringify(r.who)}\n`);
      assert.ok((r.who.d2 ?? 0) > 0, `the client sees the service move to d2: ${JSON.stringify(r)}`);
      assert.ok(!existsSync(join(dirRef.dir, 'dummy-d1.state')), 'Dummy was stopped on d1');
      assert.ok(existsSync(join(dirRef.dir, 'dummy-d2.state')), 'Dummy runs on d2');
      const starts = d2.out.lines
        .filter((l) => /group web: start \d\/3/.test(l))
        .map((l) => l.match(/start (\d)\/3/)![1]);
      const stops = d1.out.lines.filter((l) => /group web: stop \d\/3/.test(l)).map((l) => l.match(/stop (\d)\/3/)![1]);
      assert.deepEqual(starts, ['1', '2', '3'], d2.out.text());
      assert.deepEqual(stops.slice(-3), ['3', '2', '1'], d1.out.text());
    },
  );
});

test('heartbeat files as-is (ha.cf, haresources with IPaddr2 + an init script, authkeys) fail over in the lab', {
  skip,
  timeout: 120_000,
}, async () => {
  await twoNodes(
    async (lab, dir, host) => {
      const ha = join(dir, 'ha.d');
      const initd = join(dir, `init.d-${host}`);
      mkdirSync(ha, { recursive: true });
      mkdirSync(initd, { recursive: true });
      webScript(initd, host, dir);
      writeFileSync(
        join(ha, 'ha.cf'),
        'keepalive 100ms\ndeadtime 400ms\ninitdead 1\nbcast eth0\nauto_failback on\nnode d1\nnode d2\n',
      );
      writeFileSync(join(ha, 'haresources'), 'd1 IPaddr2::198.18.0.100/24/eth0 tandemweb\n');
      writeFileSync(join(ha, 'authkeys'), 'auth 1\n1 sha1 lab-secret\n', { mode: 0o600 });
      chmodSync(join(ha, 'authkeys'), 0o600);
      return startTandem(lab, host, '', { dir, file: join(ha, 'ha.cf'), initd });
    },
    '198.18.0.100',
    async ({ lab, d1, d2 }) => {
      const client = startProbe(lab, 'client', '198.18.0.100', 10, 5_000);
      await client.answered(80);
      d1.child.kill('SIGTERM');
      const r = await client.done;
      await untilState(d2, 'MASTER');
      process.stdout.write(`# heartbeat group failover: client gap ${r.maxGapMs} ms, who ${JSON.stringify(r.who)}\n`);
      assert.ok((r.who.d2 ?? 0) > 0, `the client sees the service move to d2: ${JSON.stringify(r)}`);
      assert.ok(r.maxGapMs < 3_000, `gap ${r.maxGapMs} ms`);
      const st = await d2.status();
      assert.equal(st.groups?.[0]?.phase, 'running', JSON.stringify(st.groups));
    },
  );
});
