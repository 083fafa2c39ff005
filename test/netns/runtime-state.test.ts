// Runtime state survives restarts (issue 12 item 6): drain, weight and standby set at runtime are in the state file
// (0600), a SIGTERM'd daemon started again has them back; a server the config changed meanwhile is not restored (and
// the log says so); a corrupt state file is a warning, not a crash.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DaemonStatus } from '../../src/api/contract.ts';
import { canBuildLabs, createLab } from './lab.ts';
import { eventually, startTandem, TANDEM, type TandemProc, untilState, workDir } from './tandem-lab.ts';

const skip = canBuildLabs() ? false : 'needs root and ip netns';

const config = (weight2 = 1) => `
cluster:
  nodes: [{ name: d1, address: 198.18.0.11 }]
vrrp:
  instances:
    - name: VI_1
      interface: eth0
      vrid: 61
      priority: 150
      advert_interval: 1s
      vips: [198.18.0.100/24]
lb:
  services:
    - name: web
      vip: 198.18.0.100
      port: 8080
      dataplane: proxy
      real_servers:
        - { address: 198.18.0.21, port: 80 }
        - { address: 198.18.0.22, port: 80, weight: ${weight2} }
`;

type Lb = {
  services: { name: string; servers: { key: string; admin: Record<string, unknown>; weightOverride: unknown }[] }[];
};
const server = (s: DaemonStatus, key: string) =>
  (s as unknown as { lb: Lb }).lb.services.find((x) => x.name === 'web')!.servers.find((x) => x.key === key)!;

function cli(p: TandemProc, args: string[]): string {
  const r = spawnSync(process.execPath, [TANDEM, ...args, '--control', p.control], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(r.status, 0, `tandem ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

async function stop(p: TandemProc): Promise<void> {
  p.child.kill('SIGTERM');
  await new Promise((r) => (p.child.exitCode === null ? p.child.once('exit', r) : r(null)));
}

test('drain, weight and standby survive a restart; a server the config changed is not restored; a corrupt file warns', {
  skip,
  timeout: 120_000,
}, async () => {
  const dir = workDir('t12s-state-');
  const stateFile = join(dir, 'state.json');
  const env = { TANDEM_STATE_FILE: stateFile };
  const lab = await createLab(['d1'], { d1: '198.18.0.11' }, { prefix: 't12s' });
  try {
    let d1 = await startTandem(lab, 'd1', config(), { dir, env });
    await untilState(d1, 'MASTER');
    cli(d1, ['rs', 'drain', 'web', '198.18.0.21:80', '--no-wait']);
    cli(d1, ['rs', 'weight', 'web', '198.18.0.22:80', '7']);
    cli(d1, ['standby', 'VI_1']);
    assert.equal(statSync(stateFile).mode & 0o777, 0o600, 'the state file is 0600');
    const saved = JSON.parse(readFileSync(stateFile, 'utf8'));
    assert.equal(saved.servers['web 198.18.0.21:80'].admin, 'drain');
    assert.equal(saved.servers['web 198.18.0.22:80'].weight, 7);
    assert.equal(saved.instances.VI_1.mode, 'standby');

    // Restart: everything is back.
    await stop(d1);
    d1 = await startTandem(lab, 'd1', config(), { dir, env });
    const st = await eventually(
      'restored',
      () => d1.status(),
      (s) => !!server(s, '198.18.0.21:80').admin.drain && s.instances[0]?.priority.override === 1,
      20_000,
    );
    assert.deepEqual(server(st, '198.18.0.22:80').weightOverride, { weight: 7, source: 'cli' });
    await d1.out.waitFor(
      /restored runtime state from .*web 198\.18\.0\.21:80: drain; web 198\.18\.0\.22:80: weight 7; VI_1: standby/,
    );

    // The config changes server .22 (its weight): its runtime weight is dropped, the others come back.
    await stop(d1);
    d1 = await startTandem(lab, 'd1', config(3), { dir, env });
    await d1.out.waitFor(/runtime state of real server 198\.18\.0\.22:80 \(web\) dropped: the config changed it/);
    const st2 = await eventually(
      'restored again',
      () => d1.status(),
      (s) => !!server(s, '198.18.0.21:80').admin.drain,
      20_000,
    );
    assert.equal(server(st2, '198.18.0.22:80').weightOverride ?? null, null, 'the changed server is not restored');
    assert.equal(st2.instances[0]?.priority.override, 1);
    assert.equal(JSON.parse(readFileSync(stateFile, 'utf8')).servers['web 198.18.0.22:80'], undefined);

    // A corrupt file: a warning, the daemon starts from the config.
    await stop(d1);
    writeFileSync(stateFile, '{"version": 1, "servers": [tru', { mode: 0o600 });
    d1 = await startTandem(lab, 'd1', config(), { dir, env });
    await d1.out.waitFor(/TND_STATE_FILE .* is not a state file .*starting from the config/);
    await untilState(d1, 'MASTER');
    assert.deepEqual(server(await d1.status(), '198.18.0.21:80').admin, {});
  } finally {
    await lab.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
});
