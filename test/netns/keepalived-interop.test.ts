// tandem and Debian's keepalived 2.2.7 in one virtual router: VRRPv2 with PASS and VRRPv3, multicast and unicast,
// each side as master and as backup. Priorities decide, takeover works both ways, and keepalived logs no complaint
// about tandem's packets. tandem reads the very keepalived.conf format keepalived does.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { test } from 'node:test';
import { canBuildLabs, createLab } from './lab.ts';
import {
  addrsOf,
  eventually,
  KEEPALIVED,
  KEEPALIVED_PACKET_ERRORS,
  startKeepalived,
  startTandem,
  TANDEM,
  workDir,
} from './tandem-lab.ts';

const skip = !canBuildLabs()
  ? 'needs root and ip netns'
  : existsSync(KEEPALIVED)
    ? false
    : 'keepalived is not installed (apt-get install keepalived)';
const VIP = '198.18.0.100';

interface Case {
  version: 2 | 3;
  unicast: boolean;
  /** Who starts with the higher priority. */
  master: 'tandem' | 'keepalived';
}

/** The same keepalived.conf shape for both sides; only addresses and priority differ. */
function conf(c: Case, self: string, peer: string, priority: number, routerId: string): string {
  return `global_defs {
    router_id ${routerId}
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority ${priority}
    advert_int 1
    version ${c.version}
${c.version === 2 ? '    authentication {\n        auth_type PASS\n        auth_pass secret12\n    }\n' : ''}${
  c.unicast ? `    unicast_src_ip ${self}\n    unicast_peer {\n        ${peer}\n    }\n` : ''
}    virtual_ipaddress {
        ${VIP}/24
    }
}
`;
}

async function interop(c: Case): Promise<void> {
  const dir = workDir();
  const lab = await createLab(['t', 'k'], { t: '198.18.0.11', k: '198.18.0.12' });
  try {
    const [pt, pk] = c.master === 'tandem' ? [150, 100] : [100, 150];
    const tandem = await startTandem(lab, 't', conf(c, '198.18.0.11', '198.18.0.12', pt, 't'), { dir, ext: 'conf' });
    const ka = await startKeepalived(lab, 'k', conf(c, '198.18.0.12', '198.18.0.11', pk, 'k'), dir);
    const tState = () => tandem.status().then((s) => s.instances[0]?.state);

    // Priorities decide.
    if (c.master === 'tandem') {
      await eventually('tandem master', tState, (s) => s === 'MASTER', 10_000);
      await ka.out.waitFor(/\(VI_1\) Entering BACKUP STATE/);
    } else {
      await ka.out.waitFor(/\(VI_1\) Entering MASTER STATE/, 10_000);
      await eventually(
        'tandem backup, hearing keepalived',
        () => tandem.status(),
        (s) => {
          const i = s.instances[0];
          return i?.state === 'BACKUP' && i.master?.self === false && i.master.priority === 150;
        },
      );
    }
    const masterHost = c.master === 'tandem' ? 't' : 'k';
    const backupHost = c.master === 'tandem' ? 'k' : 't';
    await eventually(
      'VIP on the master only',
      async () => [await addrsOf(lab, masterHost), await addrsOf(lab, backupHost)],
      ([m, b]) => m!.includes(VIP) && !b!.includes(VIP),
    );

    // Takeover both ways.
    if (c.master === 'tandem') {
      const from = ka.out.lines.length;
      const r = await fetchCli(['standby', '--all', '--control', tandem.control]);
      assert.equal(r, 0);
      await eventually(
        'keepalived takes over',
        () => ka.out.lines.slice(from).join('\n'),
        (t) => /Entering MASTER STATE/.test(t),
        10_000,
      );
      await eventually(
        'VIP moved to keepalived',
        () => addrsOf(lab, 'k'),
        (a) => a.includes(VIP),
      );
      // Make-before-break (docs/handover.md): tandem lets the VIP go the handover linger after keepalived's advert.
      await eventually('tandem hands over', tState, (s) => s === 'BACKUP', 5_000);
      await fetchCli(['standby', '--all', '--clear', '--control', tandem.control]);
      await eventually('tandem preempts back', tState, (s) => s === 'MASTER', 10_000);
      await eventually(
        'keepalived yields',
        () => ka.out.lines.slice(from).join('\n'),
        (t) => /Entering BACKUP STATE/.test(t),
        10_000,
      );
    } else {
      ka.child.kill('SIGTERM');
      await eventually('tandem takes over after keepalived stops', tState, (s) => s === 'MASTER', 10_000);
      await eventually(
        'VIP on tandem',
        () => addrsOf(lab, 't'),
        (a) => a.includes(VIP),
      );
    }

    const complaints = ka.out.lines.filter((l) => KEEPALIVED_PACKET_ERRORS.test(l));
    assert.deepEqual(complaints, [], 'keepalived complained about our packets');
    const drops = (await tandem.status()).instances[0]!.counters.drops;
    assert.deepEqual(
      Object.entries(drops).filter(([, n]) => n > 0),
      [],
      'tandem dropped keepalived packets',
    );
  } finally {
    await lab.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function fetchCli(args: string[]): Promise<number | null> {
  return spawnSync(process.execPath, [TANDEM, ...args], { encoding: 'utf8', timeout: 30_000 }).status;
}

for (const version of [2, 3] as const)
  for (const unicast of [false, true])
    for (const master of ['tandem', 'keepalived'] as const) {
      const name = `keepalived interop, VRRPv${version}${version === 2 ? ' PASS' : ''} ${unicast ? 'unicast' : 'multicast'}: ${master} is master, then hands over`;
      test(name, { skip }, () => interop({ version, unicast, master }));
    }
