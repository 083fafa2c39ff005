// Piranha's lvs.cf run as-is: two LVS routers (primary, backup) with a NAT router address, one virtual server over
// two real servers whose replies go back through nat_router, nanny's send/expect as the health check. The client
// is balanced over both real servers by the primary, then by the backup once the primary stops.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { canBuildLabs, createLab } from './lab.ts';
import { eventually, probe, startResponder, startTandem, untilState, workDir } from './tandem-lab.ts';

const skip = canBuildLabs() ? false : 'needs root and ip netns';

const LVS_CF = `serial_no = 3
primary = 198.18.0.11
service = lvs
backup_active = 1
backup = 198.18.0.12
heartbeat = 1
heartbeat_port = 539
keepalive = 1
deadtime = 3
network = nat
nat_router = 198.18.0.254 eth0:1
debug_level = NONE
virtual web {
     active = 1
     address = 198.18.0.100 eth0:2
     vip_nmask = 255.255.255.0
     port = 80
     send = "GET / HTTP/1.0\\r\\n\\r\\n"
     expect = "HTTP"
     use_regex = 0
     load_monitor = none
     scheduler = rr
     protocol = tcp
     timeout = 2
     reentry = 2
     quiesce_server = 0
     server rs1 {
         address = 198.18.0.21
         active = 1
         weight = 1
     }
     server rs2 {
         address = 198.18.0.22
         active = 1
         weight = 1
     }
}
`;

test('lvs.cf as-is: the primary balances over both real servers through nat_router; the backup takes over', {
  skip,
  timeout: 120_000,
}, async () => {
  const dir = workDir('tandem-piranha-');
  const lab = await createLab(['primary', 'backup', 'client', 'rs1', 'rs2'], {
    primary: '198.18.0.11',
    backup: '198.18.0.12',
    client: '198.18.0.50',
    rs1: '198.18.0.21',
    rs2: '198.18.0.22',
  });
  try {
    const file = join(dir, 'lvs.cf');
    writeFileSync(file, LVS_CF);
    // The LVS-NAT routers forward, and say nothing about the client being on-link (one segment in this lab).
    for (const d of ['primary', 'backup'])
      for (const k of [
        'net.ipv4.ip_forward=1',
        'net.ipv4.conf.all.send_redirects=0',
        'net.ipv4.conf.eth0.send_redirects=0',
      ])
        await lab.run(d, 'sysctl', ['-qw', k]);
    const responders: ChildProcess[] = [];
    for (const rs of ['rs1', 'rs2']) {
      responders.push(await startResponder(lab, rs));
      // Piranha's NAT: the real servers send their replies to the nat_router address, wherever it is.
      await lab.run(rs, 'ip', ['route', 'add', '198.18.0.50/32', 'via', '198.18.0.254']);
    }
    const primary = await startTandem(lab, 'primary', '', { dir, file });
    const backup = await startTandem(lab, 'backup', '', { dir, file });
    await untilState(primary, 'MASTER');
    await untilState(backup, 'BACKUP');
    const spread = await eventually(
      'the primary balances over rs1 and rs2',
      () => probe(lab, 'client', '198.18.0.100', 20, 400),
      (r) => r.failed === 0 && (r.who.rs1 ?? 0) > 0 && (r.who.rs2 ?? 0) > 0,
      20_000,
    );
    assert.ok(Math.abs((spread.who.rs1 ?? 0) - (spread.who.rs2 ?? 0)) <= 1, JSON.stringify(spread.who));

    primary.child.kill('SIGTERM');
    await untilState(backup, 'MASTER');
    await eventually(
      'the backup balances over rs1 and rs2',
      () => probe(lab, 'client', '198.18.0.100', 20, 400),
      (r) => r.failed === 0 && (r.who.rs1 ?? 0) > 0 && (r.who.rs2 ?? 0) > 0,
      20_000,
    );
    const st = await backup.status();
    assert.equal(st.lb?.services[0]?.role, 'serving');
    assert.equal(st.lb?.services[0]?.servers[0]?.check?.last?.code, 'L7OK', 'nanny send/expect runs as an HTTP check');
  } finally {
    await lab.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
});
