// Bad packets sent at a running daemon (from an independent raw sender, with a priority that would win if it were
// accepted) are dropped, counted by reason in `tandem status`, and change nothing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodeVrrp } from '../../src/vrrp/codec.ts';
import type { VrrpPacket } from '../../src/vrrp/types.ts';
import { canBuildLabs, createLab } from './lab.ts';
import { eventually, sentMoreAdverts, startTandem, TANDEM, untilState, workDir } from './tandem-lab.ts';

const skip = canBuildLabs() ? false : 'needs root and ip netns';
const root = new URL('../../', import.meta.url).pathname;

const CONFIG = `
cluster:
  nodes: [{ name: d1, address: 198.18.0.11 }, { name: d2, address: 198.18.0.12 }]
vrrp:
  instances:
    - name: VI_1
      interface: eth0
      vrid: 51
      version: 2
      auth: { type: pass, password: secret12 }
      priority: { d1: 150, d2: 100 }
      vips: [198.18.0.100/24]
`;

test('bad packets (short, wrong TTL, wrong checksum, wrong password, wrong VRID) are counted by reason and change nothing', {
  skip,
}, async () => {
  const dir = workDir();
  const lab = await createLab(['d1', 'd2', 'x'], { d1: '198.18.0.11', d2: '198.18.0.12', x: '198.18.0.66' });
  try {
    const d1 = await startTandem(lab, 'd1', CONFIG, { dir });
    const d2 = await startTandem(lab, 'd2', CONFIG, { dir });
    await untilState(d1, 'MASTER');
    await untilState(d2, 'BACKUP');
    const before = (await d1.status()).instances[0]!.lastTransition;

    // Priority 254 beats both directors: any of these, if accepted, would move the VIP.
    const winning: VrrpPacket = {
      version: 2,
      family: 4,
      vrid: 51,
      priority: 254,
      advertIntervalMs: 1000,
      addrs: ['198.18.0.100'],
      auth: { type: 'pass', password: 'secret12' },
    };
    const tx = { src: '198.18.0.66', dst: '224.0.0.18' };
    const hex = (p: VrrpPacket) => Buffer.from(encodeVrrp(p, tx)).toString('hex');
    const good = hex(winning);
    const badChecksum = `${good.slice(0, 12)}${((Number.parseInt(good.slice(12, 16), 16) ^ 0xffff) >>> 0).toString(16).padStart(4, '0')}${good.slice(16)}`;
    const send = (ttl: number, ...packets: string[]) => {
      const r = spawnSync(
        'ip',
        [
          'netns',
          'exec',
          lab.host('x').ns,
          'python3',
          join(root, 'test/netns/tools/send-raw.py'),
          '198.18.0.66',
          '224.0.0.18',
          String(ttl),
          ...packets,
        ],
        {
          encoding: 'utf8',
        },
      );
      assert.equal(r.status, 0, r.stderr);
    };
    send(1, good); // wrong TTL
    send(
      255,
      badChecksum,
      good.slice(0, 12),
      hex({ ...winning, auth: { type: 'pass', password: 'guess123' } }),
      hex({ ...winning, vrid: 77 }),
    );

    const s = await eventually(
      'drops counted',
      () => d1.status(),
      (x) => {
        const d = x.instances[0]!.counters.drops;
        return d.ttl >= 1 && d.checksum >= 1 && d.short >= 1 && d['auth-mismatch'] >= 1;
      },
    );
    const iface = s.interfaces.find((i) => i.ifname === 'eth0');
    assert.ok((iface?.drops.vrid ?? 0) >= 1, `VRID 77 counted on the interface: ${JSON.stringify(s.interfaces)}`);
    const text = spawnSync(process.execPath, [TANDEM, 'status', '--control', d1.control], { encoding: 'utf8' }).stdout;
    assert.match(text, /dropped: short 1, ttl 1, checksum 1, auth-mismatch 1/);
    assert.match(text, /eth0 IPv4: .*not for an instance here: vrid 1/);

    // Nothing changed: same master, same last transition, VIP where it was.
    // Time passes in adverts: d1 sends a few more, still as MASTER.
    await sentMoreAdverts(d1, 3);
    const after = await d1.status();
    assert.equal(after.instances[0]!.state, 'MASTER');
    assert.deepEqual(after.instances[0]!.lastTransition, before);
    assert.equal((await d2.status()).instances[0]!.state, 'BACKUP');
  } finally {
    await lab.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
});
