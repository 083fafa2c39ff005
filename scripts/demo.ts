// The README's main-job demo: a namespace lab with two directors and a client, two tandem nodes sharing a VIP in
// front of an HTTP responder on each director. Shows `tandem status`, fails the master (its link goes down), shows
// the gap the client saw, restores, and tears everything down. Needs root (network namespaces); without it, it runs
// the same story under simulated time instead. Run: node --import tsx scripts/demo.ts
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { canBuildLabs, createLab } from '../test/netns/lab.ts';
import { probe, startResponder, startTandem, TANDEM, untilState, workDir } from '../test/netns/tandem-lab.ts';

const VIP = '198.18.0.100';
const CONFIG = `# One file for both directors: per-node values are maps by node name.
cluster:
  nodes:
    - { name: d1, address: 198.18.0.11 }
    - { name: d2, address: 198.18.0.12 }
vrrp:
  instances:
    - name: VI_1
      interface: eth0
      vrid: 51
      version: 3
      priority: { d1: 150, d2: 100 }
      advert_interval: 100ms
      vips: [${VIP}/24]
`;

const say = (s: string) => process.stdout.write(`\n== ${s}\n`);
const show = (args: string[]) => {
  const r = spawnSync(process.execPath, [TANDEM, ...args], { encoding: 'utf8' });
  process.stdout.write(r.stdout + r.stderr);
};

if (!canBuildLabs()) {
  say('not root (or no ip netns): running the simulated demo instead');
  show(['sim', join(new URL('..', import.meta.url).pathname, 'examples/two-directors.yaml')]);
  process.exit(0);
}

const dir = workDir('tandem-demo-');
const lab = await createLab(['d1', 'd2', 'client'], { d1: '198.18.0.11', d2: '198.18.0.12', client: '198.18.0.50' });
try {
  say(`lab ${lab.id}: directors d1 (198.18.0.11), d2 (198.18.0.12), client (198.18.0.50); VIP ${VIP}`);
  await startResponder(lab, 'd1');
  await startResponder(lab, 'd2');
  const d1 = await startTandem(lab, 'd1', CONFIG, { dir });
  const d2 = await startTandem(lab, 'd2', CONFIG, { dir });
  await untilState(d1, 'MASTER');

  say('tandem status on d1');
  show(['status', '--control', d1.control]);

  say('the client requests the VIP every 10 ms; in 1 s the master (d1) loses its link');
  const client = probe(lab, 'client', VIP, 10, 6_000);
  await new Promise((r) => setTimeout(r, 1_000));
  await lab.setLink('d1', false);
  const r = await client;
  say('what the client saw');
  process.stdout.write(
    `requests ${r.sent}, answered ${r.ok}, failed ${r.failed}; longest gap ${r.maxGapMs} ms; answered by ${JSON.stringify(r.who)}\n`,
  );
  say('tandem status on d2');
  show(['status', '--control', d2.control]);

  say('d1 gets its link back and takes over again (it has the higher priority)');
  await lab.setLink('d1', true);
  await untilState(d1, 'MASTER', 20_000);
  const back = await probe(lab, 'client', VIP, 10, 1_000);
  process.stdout.write(`client: ${back.ok}/${back.sent} answered, by ${JSON.stringify(back.who)}\n`);
} finally {
  say('tearing the lab down');
  await lab.teardown();
  rmSync(dir, { recursive: true, force: true });
}
