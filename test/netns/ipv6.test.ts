// VRRPv3 over IPv6 between two tandem daemons: adverts from link-local addresses to ff02::12, the VIPs (a
// link-local one first, RFC 5798 §5.2.9) on the master only, unsolicited NA, and a hand-over on SIGTERM.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { canBuildLabs, createLab, type Lab } from './lab.ts';
import { eventually, startTandem, untilState, workDir } from './tandem-lab.ts';

const skip = canBuildLabs() ? false : 'needs root and ip netns';

const CONFIG = `
cluster:
  nodes: [{ name: d1 }, { name: d2 }]
vrrp:
  instances:
    - name: VI_6
      interface: eth0
      vrid: 61
      version: 3
      priority: { d1: 150, d2: 100 }
      advert_interval: 100ms
      vips: ["fe80::100/64", "2001:db8::100/64"]
`;

const v6addrs = async (lab: Lab, host: string) => {
  const out = await lab.run(host, 'ip', ['-o', '-6', 'addr', 'show', 'dev', 'eth0']);
  return [...out.matchAll(/inet6 ([0-9a-f:]+)\//g)].map((m) => m[1]!);
};

test('VRRPv3 over IPv6: the master holds the IPv6 VIPs, the backup hears it from its link-local address, SIGTERM hands over', {
  skip,
}, async () => {
  const dir = workDir();
  const lab = await createLab(['d1', 'd2']);
  try {
    // Wait for duplicate address detection to finish on the link-local addresses adverts go out from.
    for (const h of ['d1', 'd2'])
      await eventually(
        `${h} link-local ready`,
        () => lab.run(h, 'ip', ['-6', 'addr', 'show', 'dev', 'eth0']),
        (o) => /fe80::/.test(o) && !/tentative/.test(o),
      );
    const d1 = await startTandem(lab, 'd1', CONFIG, { dir });
    const d2 = await startTandem(lab, 'd2', CONFIG, { dir });
    await untilState(d1, 'MASTER');
    await untilState(d2, 'BACKUP');
    // BACKUP comes at startup; hearing d1 comes with its next advert.
    const s2 = (
      await eventually(
        'd2 hears d1',
        () => d2.status(),
        (s) => s.instances[0]?.master !== null,
      )
    ).instances[0]!;
    assert.equal(s2.family, 6);
    assert.ok(s2.master && !s2.master.self && s2.master.addr.startsWith('fe80:'), JSON.stringify(s2.master));
    assert.ok(s2.source.startsWith('fe80:'));
    await eventually(
      'VIPs on d1',
      () => v6addrs(lab, 'd1'),
      (a) => a.includes('2001:db8::100') && a.includes('fe80::100'),
    );
    assert.equal((await v6addrs(lab, 'd2')).includes('2001:db8::100'), false);
    d1.child.kill('SIGTERM');
    await untilState(d2, 'MASTER', 5_000);
    await eventually(
      'VIPs on d2',
      () => v6addrs(lab, 'd2'),
      (a) => a.includes('2001:db8::100'),
    );
    await eventually(
      'VIPs gone from d1',
      () => v6addrs(lab, 'd1'),
      (a) => !a.includes('2001:db8::100'),
    );
    assert.deepEqual(
      Object.entries(s2.counters.drops).filter(([, n]) => n > 0),
      [],
    );
  } finally {
    await lab.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
});
