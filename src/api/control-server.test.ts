import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { bufferIo } from '../cli/io.ts';
import { runOrder, runReload, runStatus } from '../cli/status.ts';
import { loadConfig } from '../config/load.ts';
import { nodePlan } from '../plan/node-plan.ts';
import { simCluster } from '../sim/cluster.ts';
import { startControlServer } from './control-server.ts';

const dir = mkdtempSync(join(tmpdir(), 'tandem-ctl-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const CONFIG = `
cluster: { nodes: [{ name: d1 }] }
vrrp:
  instances:
    - { name: VI_1, interface: eth0, vrid: 51, priority: 150, vips: [198.18.0.100/24] }
`;

async function running() {
  const r = loadConfig('/t.yaml', { read: () => CONFIG, glob: () => [] });
  const c = simCluster({
    nodes: [
      {
        name: 'd1',
        primaryAddr: '198.18.0.11',
        instances: [],
        plan: nodePlan(r.config!, 'd1'),
        configName: '/etc/tandem/tandem.yaml',
      },
    ],
    seed: 1,
  });
  const { clock } = c;
  const daemon = c.node('d1')!;
  clock.runFor(5_000);
  const socket = join(dir, `ctl-${Math.random().toString(36).slice(2)}.sock`);
  let reloads = 0;
  const server = await startControlServer(socket, {
    status: () => daemon.status(),
    standby: (n, c) => daemon.standby(n, c),
    takeover: (n, c) => daemon.takeover(n, c),
    reload: () =>
      ++reloads === 1
        ? {
            ok: false,
            diagnostics: [
              {
                file: 't.yaml',
                line: 3,
                col: 5,
                severity: 'error',
                code: 'TND_CFG_RANGE',
                path: 'vrrp.instances[0].priority',
                message: 'must be ≤ 255, got 300',
              },
            ],
          }
        : { ok: true, summary: daemon.reload(daemon.plan) },
  });
  return { daemon, socket, server, clock };
}

test('tandem status over the control socket: state, priority, master, VIPs, last transition, counters', async () => {
  const { socket, server } = await running();
  try {
    assert.equal(statSync(socket).mode & 0o777, 0o600, 'only root may steer the node');
    const io = bufferIo();
    assert.equal(await runStatus({ control: socket }, io, 1_800_000_010_000), 0);
    const text = io.stdout.join('\n');
    assert.match(text, /^node d1 {2}config \/etc\/tandem\/tandem\.yaml/);
    assert.match(text, /VI_1 {2}MASTER {2}VRRPv3 VRID 51 on eth0/);
    assert.match(text, /priority 150\n/);
    assert.match(text, /master: this node {3}source: 198\.18\.0\.11/);
    assert.match(text, /vips: 198\.18\.0\.100\/24/);
    assert.match(text, /last transition: BACKUP -> MASTER \(master-down\) [\d.]+s ago/);
    assert.match(text, /adverts: sent \d+, received 0; dropped: none/);
    const json = bufferIo();
    await runStatus({ control: socket, json: true }, json);
    assert.equal(JSON.parse(json.stdout.join('\n')).instances[0].state, 'MASTER');
  } finally {
    await server.close();
  }
});

test('standby and takeover over the socket; an unknown instance is a clear error', async () => {
  const { socket, server, daemon, clock } = await running();
  try {
    const io = bufferIo();
    assert.equal(await runOrder('standby', [], { all: true, control: socket }, io), 0);
    assert.deepEqual(io.stdout, ['standby: handing over VI_1']);
    // Make-before-break (docs/handover.md): the master keeps its VIPs until a new master is heard or the handover
    // deadline passes; here no peer speaks, so it steps down at the deadline.
    clock.runFor(1);
    assert.equal(daemon.status().instances[0]!.state, 'MASTER');
    for (let t = 0; t < 20_000 && daemon.status().instances[0]!.state !== 'BACKUP'; t += 50) clock.runFor(50);
    assert.equal(daemon.status().instances[0]!.state, 'BACKUP');
    assert.equal(daemon.status().instances[0]!.priority.override, 1);
    const bad = bufferIo();
    assert.equal(await runOrder('takeover', ['VI_9'], { control: socket }, bad), 1);
    assert.deepEqual(bad.stderr, [
      'tandem takeover: TND_CTL_UNKNOWN_INSTANCE no instance VI_9 on this node (running: VI_1)',
    ]);
    const usage = bufferIo();
    assert.equal(await runOrder('takeover', [], { control: socket }, usage), 2);
  } finally {
    await server.close();
  }
});

test('reload over the socket: a config with errors is refused with its diagnostics; a good one is applied', async () => {
  const { socket, server } = await running();
  try {
    const refused = bufferIo();
    assert.equal(await runReload({ control: socket }, refused), 1);
    assert.match(
      refused.stderr[0]!,
      /TND_CTL_RELOAD_REFUSED the new config has errors; the running config is kept\nt\.yaml:3:5 error/,
    );
    const ok = bufferIo();
    assert.equal(await runReload({ control: socket }, ok), 0);
    assert.deepEqual(ok.stdout, ['reloaded: kept VI_1; restarted -; started -; stopped -']);
  } finally {
    await server.close();
  }
});

test('the CLI says clearly when no daemon runs', async () => {
  const io = bufferIo();
  assert.equal(await runStatus({ control: join(dir, 'none.sock') }, io), 3);
  assert.match(
    io.stderr[0]!,
    /TND_CTL_NO_DAEMON cannot reach the daemon at .*none\.sock \(ENOENT\): is tandem running\?/,
  );
});
