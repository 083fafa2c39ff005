import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Diagnostic } from '../diagnostics.ts';
import { loadConfig } from '../load.ts';
import { heartbeatFiles, isHeartbeatFile, parseIpaddrArgument, readHeartbeat } from './heartbeat.ts';
import { lexHeartbeat } from './heartbeat-lexer.ts';
import { memoryFs } from './memory-fs.ts';

const HA = '/etc/ha.d/ha.cf';
const RES = '/etc/ha.d/haresources';
const KEYS = '/etc/ha.d/authkeys';

const HA_CF = 'keepalive 2\ndeadtime 30\nbcast eth0\nauto_failback on\nnode n1\nnode n2\n';
const HARES = 'n1 198.18.0.10/24/eth0 httpd\n';
const AUTH = 'auth 1\n1 sha1 secret\n';

/** The three files (any may be replaced or left out), with authkeys at mode 0600 unless told. */
function fsOf(files: { ha?: string; res?: string | null; keys?: string | null }, modes: Record<string, number> = {}) {
  const map: Record<string, string> = { [HA]: files.ha ?? HA_CF };
  if (files.res !== null) map[RES] = files.res ?? HARES;
  if (files.keys !== null) map[KEYS] = files.keys ?? AUTH;
  return { ...memoryFs(map), mode: (p: string) => modes[p] ?? 0o600 };
}
const read = (files: Parameters<typeof fsOf>[0] = {}, modes: Record<string, number> = {}) =>
  readHeartbeat(HA, fsOf(files, modes));
/** Diagnostics as [severity, code, file, line] rows. */
const rows = (ds: readonly Diagnostic[]) =>
  ds.map((d) => [d.severity, d.code, d.file.replace('/etc/ha.d/', ''), d.line] as const);
const errors = (ds: readonly Diagnostic[]) => rows(ds.filter((d) => d.severity === 'error'));
type Raw = {
  cluster: { nodes: { name: string }[] };
  vrrp: { instances: Record<string, unknown>[] };
  groups: Record<string, unknown>[];
};
const raw = (r: ReturnType<typeof read>) => r.raw as Raw;
const inst = (r: ReturnType<typeof read>, i = 0) => raw(r).vrrp.instances[i]!;

test('a two-node ha.cf with one haresources line becomes two nodes, one VRRP instance and one resource group', () => {
  const r = read();
  assert.deepEqual(r.raw, {
    cluster: { nodes: [{ name: 'n1' }, { name: 'n2' }], key_file: '/etc/ha.d/authkeys' },
    vrrp: {
      instances: [
        {
          name: 'VI_1',
          vrid: 1,
          version: 3,
          interface: 'eth0',
          priority: { n1: 150, n2: 100 },
          advert_interval: 2000,
          down_timer_adverts: 15,
          preempt: true,
          vips: ['198.18.0.10/24'],
        },
      ],
    },
    groups: [{ name: 'group_1', owner: 'VI_1', resources: [{ type: 'lsb', script: 'httpd' }] }],
  });
  assert.deepEqual(rows(r.diagnostics), []);
  assert.match(r.notes.find((n) => n.path === 'authkeys: auth')!.message, /VRRPv3 adverts carry no authentication/);
  assert.deepEqual(r.files, [HA, RES, KEYS]);
});

test('the locator points each part at the directive or resource it came from', () => {
  const r = read();
  const at = (...path: (string | number)[]) => {
    const { pos, label } = r.locator.locate(path);
    return `${pos.file.replace('/etc/ha.d/', '')}:${pos.line}:${pos.col} ${label}`;
  };
  assert.equal(at('vrrp', 'instances', 0), 'haresources:1:1 haresources: 198.18.0.10/24/eth0');
  assert.equal(at('vrrp', 'instances', 0, 'advert_interval'), 'ha.cf:1:11 ha.cf: keepalive');
  assert.equal(at('vrrp', 'instances', 0, 'down_timer_adverts'), 'ha.cf:2:10 ha.cf: deadtime');
  assert.equal(at('vrrp', 'instances', 0, 'interface'), 'ha.cf:3:7 ha.cf: bcast');
  assert.equal(at('vrrp', 'instances', 0, 'vips', 0), 'haresources:1:4 haresources: 198.18.0.10/24/eth0');
  assert.equal(at('groups', 0, 'resources', 0, 'script'), 'haresources:1:24 haresources: httpd');
  assert.equal(at('cluster', 'nodes', 1, 'name'), 'ha.cf:6:6 ha.cf: node');
});

test('keepalive is the advert interval and deadtime the adverts missed before takeover: ⌈deadtime / keepalive⌉', () => {
  const r = read({ ha: 'keepalive 1500ms\ndeadtime 10\nbcast eth0\nauto_failback on\nnode n1\nnode n2\n' });
  assert.equal(inst(r).advert_interval, 1500);
  assert.equal(inst(r).down_timer_adverts, 7);
  const defaults = read({ ha: 'bcast eth0\nauto_failback on\nnode n1\nnode n2\n' });
  assert.equal(inst(defaults).advert_interval, 1000, "heartbeat's default keepalive is 1 s");
  assert.equal(inst(defaults).down_timer_adverts, 30, 'and its default deadtime 30 s');
  const fast = read({ ha: 'keepalive 200ms\ndeadtime 30\nbcast eth0\nauto_failback on\nnode n1\nnode n2\n' });
  assert.deepEqual([inst(fast).advert_interval, inst(fast).down_timer_adverts], [300, 100], 'VRRP counts 100 at most');
  assert.deepEqual(rows(fast.diagnostics.filter((d) => d.code === 'TND_CFG_TIMING')), [
    ['warning', 'TND_CFG_TIMING', 'ha.cf', 1],
  ]);
  assert.deepEqual(errors(read({ ha: 'keepalive 2 s\ndeadtime thirty\nbcast eth0\nnode n1\n' }).diagnostics), [
    ['error', 'TND_CFG_ARGS', 'ha.cf', 1],
    ['error', 'TND_CFG_NUMBER', 'ha.cf', 2],
  ]);
});

test('heartbeat refuses deadtime ≤ 2 × keepalive, and so does the importer, at the deadtime line', () => {
  const r = read({ ha: 'keepalive 2\ndeadtime 4\nbcast eth0\nauto_failback on\nnode n1\nnode n2\n' });
  assert.deepEqual(errors(r.diagnostics), [['error', 'TND_CFG_TIMING', 'ha.cf', 2]]);
  assert.match(r.diagnostics.find((d) => d.severity === 'error')!.message, /deadtime 4000 ms must be more than twice/);
  // Only keepalive written: the default deadtime (30 s) is too short for it, reported at keepalive.
  const k = read({ ha: 'keepalive 15\nbcast eth0\nauto_failback on\nnode n1\n' });
  assert.deepEqual(errors(k.diagnostics), [['error', 'TND_CFG_TIMING', 'ha.cf', 1]]);
  assert.equal(errors(read({ ha: 'keepalive 2\ndeadtime 5\nbcast eth0\nnode n1\n' }).diagnostics).length, 0);
});

test('initdead below deadtime is an error, below twice deadtime a warning, otherwise a note (not carried over)', () => {
  const ha = (initdead: string) =>
    `keepalive 1\ndeadtime 10\ninitdead ${initdead}\nbcast eth0\nauto_failback on\nnode n1\n`;
  assert.deepEqual(rows(read({ ha: ha('5') }).diagnostics.filter((d) => d.code === 'TND_CFG_TIMING')), [
    ['error', 'TND_CFG_TIMING', 'ha.cf', 3],
  ]);
  assert.deepEqual(rows(read({ ha: ha('15') }).diagnostics.filter((d) => d.code === 'TND_CFG_TIMING')), [
    ['warning', 'TND_CFG_TIMING', 'ha.cf', 3],
  ]);
  const ok = read({ ha: ha('60') });
  assert.equal(ok.diagnostics.filter((d) => d.code === 'TND_CFG_TIMING').length, 0);
  assert.ok(ok.notes.some((n) => n.path === 'ha.cf: initdead' && n.line === 3));
});

test('auto_failback on and legacy preempt, off does not; legacy, a missing one and nice_failback are deprecated', () => {
  const fb = (line: string) => read({ ha: `bcast eth0\n${line}\nnode n1\nnode n2\n` });
  assert.equal(inst(fb('auto_failback on')).preempt, true);
  assert.equal(inst(fb('auto_failback OFF')).preempt, false);
  assert.equal(inst(fb('auto_failback no')).preempt, false);
  const legacy = fb('auto_failback legacy');
  assert.equal(inst(legacy).preempt, true);
  assert.deepEqual(rows(legacy.diagnostics.filter((d) => d.code === 'TND_CFG_DEPRECATED')), [
    ['warning', 'TND_CFG_DEPRECATED', 'ha.cf', 2],
  ]);
  const missing = fb('');
  assert.equal(inst(missing).preempt, true);
  assert.deepEqual(rows(missing.diagnostics.filter((d) => d.code === 'TND_CFG_DEPRECATED')), [
    ['warning', 'TND_CFG_DEPRECATED', 'ha.cf', 1],
  ]);
  const nice = fb('nice_failback on');
  assert.equal(inst(nice).preempt, false, 'nice_failback on = auto_failback off');
  assert.match(nice.diagnostics.find((d) => d.code === 'TND_CFG_DEPRECATED')!.message, /auto_failback off/);
  assert.deepEqual(errors(fb('auto_failback maybe').diagnostics), [['error', 'TND_CFG_ENUM', 'ha.cf', 2]]);
});

test('ucast lines become unicast peers; bcast and mcast mean multicast VRRP on their device', () => {
  const u = read({ ha: 'ucast eth1 198.18.0.1\nucast eth1 198.18.0.2\nauto_failback on\nnode n1\nnode n2\n' });
  assert.equal(inst(u).interface, 'eth1');
  assert.deepEqual(inst(u).unicast, { peers: ['198.18.0.1', '198.18.0.2'] });
  assert.equal(u.diagnostics.filter((d) => d.code === 'TND_CFG_NOT_CARRIED' && d.file === HA).length, 0);
  const m = read({ ha: 'mcast eth2 239.0.0.1 694 1 0\nauto_failback on\nnode n1\nnode n2\n' });
  assert.equal(inst(m).interface, 'eth2');
  assert.equal(inst(m).unicast, undefined);
  assert.ok(m.notes.some((n) => /VRRP uses 224\.0\.0\.18/.test(n.message)));
  // A medium that cannot be read is no medium: heartbeat's "no media" follows.
  assert.deepEqual(errors(read({ ha: 'mcast eth2 10.0.0.1 694 1 0\nnode n1\n' }).diagnostics), [
    ['error', 'TND_CFG_REQUIRED', 'ha.cf', 1],
    ['error', 'TND_CFG_ADDRESS', 'ha.cf', 1],
  ]);
  assert.deepEqual(errors(read({ ha: 'mcast eth2 239.0.0.1\nnode n1\n' }).diagnostics), [
    ['error', 'TND_CFG_ARGS', 'ha.cf', 1],
    ['error', 'TND_CFG_REQUIRED', 'ha.cf', 1],
  ]);
});

test("a second heartbeat link is a redundant path (ucast on it: unicast), and one ucast address for two nodes says the file is one node's own", () => {
  const two = read({
    ha: 'bcast eth0 eth1\nucast eth2 198.18.2.1\nucast eth2 198.18.2.2\nauto_failback on\nnode n1\nnode n2\n',
  });
  assert.deepEqual(rows(two.diagnostics.filter((d) => d.file === HA)), []);
  assert.deepEqual(inst(two).paths, [
    { interface: 'eth1' },
    { interface: 'eth2', unicast: { peers: ['198.18.2.1', '198.18.2.2'] } },
  ]);
  assert.equal(inst(two).interface, 'eth0');
  const own = read({ ha: 'ucast eth0 198.18.0.2\nauto_failback on\nnode n1\nnode n2\n' });
  assert.match(
    own.diagnostics.find((d) => d.file === HA)!.message,
    /1 ucast address\(es\) for 2 nodes: this ha.cf is likely one node's own/,
  );
});

test('no media or no nodes are errors, as heartbeat refuses them; an address still gives the instance its interface', () => {
  const r = read({ ha: 'keepalive 2\ndeadtime 30\nauto_failback on\n', res: 'n1 IPaddr2::198.18.0.10/24/eth3\n' });
  assert.deepEqual(errors(r.diagnostics), [
    ['error', 'TND_CFG_REQUIRED', 'ha.cf', 1],
    ['error', 'TND_CFG_REQUIRED', 'ha.cf', 1],
  ]);
  assert.equal(inst(r).interface, 'eth3');
});

test('addresses: a bare IP is IPaddr; IPaddr/IPaddr2 take IP/LEN/NIC/BROADCAST; a netmask becomes a prefix; IPv6addr keeps its colons', () => {
  const r = read({
    res:
      'n1 198.18.0.10 IPaddr::198.18.0.11/24 IPaddr2::198.18.0.12/255.255.255.0/eth0 ' +
      'IPaddr2::198.18.0.13/24/eth1/198.18.0.255 IPv6addr::2001:db8::10/64/eth0\n',
  });
  assert.deepEqual(inst(r).vips, [
    '198.18.0.10',
    '198.18.0.11/24',
    '198.18.0.12/24',
    { address: '198.18.0.13/24', dev: 'eth1' },
    '2001:db8::10/64',
  ]);
  assert.equal(raw(r).groups.length, 0, 'a line of addresses only needs no group');
  // Without a NIC heartbeat finds the interface from the routing table: a warning says where tandem puts it.
  const noNic = r.diagnostics.filter((d) => d.file === RES).map((d) => [d.code, d.col]);
  assert.deepEqual(noNic, [
    ['TND_CFG_NOT_CARRIED', 4],
    ['TND_CFG_NOT_CARRIED', 16],
  ]);
  assert.match(r.diagnostics.find((d) => d.file === RES)!.message, /tandem adds 198\.18\.0\.10\/32 on eth0/);
  assert.ok(r.notes.some((n) => /broadcast 198\.18\.0\.255 is not carried over/.test(n.message)));
  assert.deepEqual(errors(read({ res: 'n1 IPaddr::198.18.0.1/255.0.255.0/eth0 IPaddr::1.2.3.4::x\n' }).diagnostics), [
    ['error', 'TND_CFG_ADDRESS', 'haresources', 1],
    ['error', 'TND_CFG_ARGS', 'haresources', 1],
  ]);
});

test('Filesystem::DEV::DIR::TYPE[::OPTIONS] is an fs resource; any other name is an init script with its :: arguments', () => {
  const r = read({
    res: 'n1 drbddisk::r0 Filesystem::/dev/drbd0::/srv::ext4 Filesystem::nfs1:/export::/mnt::nfs::ro,soft MailTo::root::failover 198.18.0.10/24/eth0 nfs\n',
  });
  assert.deepEqual(raw(r).groups[0]!.resources, [
    { type: 'lsb', script: 'drbddisk', args: ['r0'] },
    { type: 'fs', device: '/dev/drbd0', directory: '/srv', fstype: 'ext4' },
    { type: 'fs', device: 'nfs1:/export', directory: '/mnt', fstype: 'nfs', options: 'ro,soft' },
    { type: 'lsb', script: 'MailTo', args: ['root', 'failover'] },
    { type: 'lsb', script: 'nfs' },
  ]);
  // The address comes after other resources in heartbeat; tandem adds it before the group starts: a note says so.
  assert.ok(
    r.notes.some((n) =>
      /heartbeat adds this address after drbddisk, Filesystem \/srv, Filesystem \/mnt, MailTo/.test(n.message),
    ),
  );
  assert.deepEqual(errors(read({ res: 'n1 Filesystem::/dev/sdb1::/data\n' }).diagnostics), [
    ['error', 'TND_CFG_ARGS', 'haresources', 1],
  ]);
});

test('haresources: one logical line per group, a trailing backslash continues it, # starts a comment anywhere', () => {
  const r = read({
    ha: 'bcast eth0\nauto_failback off\nnode n1\nnode n2\n',
    res: '# groups\nn1 198.18.0.10/24/eth0 \\\n   httpd # the web server\nN2 198.18.0.11/24/eth0 mysql\n',
  });
  assert.equal(raw(r).vrrp.instances.length, 2);
  assert.deepEqual(
    raw(r).vrrp.instances.map((i) => [i.name, i.vrid, i.priority]),
    [
      ['VI_1', 1, { n1: 150, n2: 100 }],
      ['VI_2', 2, { n1: 100, n2: 150 }],
    ],
    'node names compare without case, as heartbeat lower-cases them',
  );
  assert.deepEqual(
    raw(r).groups.map((g) => [g.name, g.owner]),
    [
      ['group_1', 'VI_1'],
      ['group_2', 'VI_2'],
    ],
  );
  assert.equal(r.locator.locate(['groups', 0, 'resources', 0]).pos.line, 3);
});

test('a group is named by its first resource: a second line starting with it is a duplicate; an unknown node is an error', () => {
  const r = read({ res: 'n1 198.18.0.10 httpd\nn2 198.18.0.10 mysql\nn3 198.18.0.20\nn1\n' });
  assert.deepEqual(errors(r.diagnostics), [
    ['error', 'TND_CFG_DUPLICATE', 'haresources', 2],
    ['error', 'TND_CFG_UNKNOWN_REF', 'haresources', 3],
    ['error', 'TND_CFG_ARGS', 'haresources', 4],
  ]);
  assert.match(
    r.diagnostics.find((d) => d.code === 'TND_CFG_UNKNOWN_REF')!.message,
    /n3 is not a node of ha.cf \(n1, n2\)/,
  );
});

test('authkeys readable by group or others is refused as heartbeat refuses it; 0600 passes; an unknown mode is not checked', () => {
  const open = read({}, { [KEYS]: 0o644 });
  assert.deepEqual(errors(open.diagnostics), [['error', 'TND_CFG_PERMISSIONS', 'authkeys', 1]]);
  assert.match(
    open.diagnostics[0]!.message,
    /mode 0644 lets group or others at the keys; .* chmod 600 \/etc\/ha\.d\/authkeys/,
  );
  assert.deepEqual(errors(read({}, { [KEYS]: 0o640 }).diagnostics), [['error', 'TND_CFG_PERMISSIONS', 'authkeys', 1]]);
  assert.deepEqual(errors(read({}, { [KEYS]: 0o400 }).diagnostics), []);
  const noModes = readHeartbeat(HA, memoryFs({ [HA]: HA_CF, [RES]: HARES, [KEYS]: AUTH }));
  assert.deepEqual(errors(noModes.diagnostics), []);
});

test('authkeys needs "auth N" naming a key; keys are N crc | md5 KEY | sha1 KEY with N up to 15', () => {
  const r = read({ keys: '# keys\nauth 4\n1 crc\n2 md5\n3 sha256 k\n16 sha1 k\n1 sha1 k\nsecret\n' });
  assert.deepEqual(errors(r.diagnostics), [
    ['error', 'TND_CFG_UNKNOWN_REF', 'authkeys', 2],
    ['error', 'TND_CFG_ARGS', 'authkeys', 4],
    ['error', 'TND_CFG_ENUM', 'authkeys', 5],
    ['error', 'TND_CFG_RANGE', 'authkeys', 6],
    ['error', 'TND_CFG_DUPLICATE', 'authkeys', 7],
    ['error', 'TND_CFG_SYNTAX', 'authkeys', 8],
  ]);
  assert.deepEqual(errors(read({ keys: '1 sha1 k\n' }).diagnostics), [['error', 'TND_CFG_REQUIRED', 'authkeys', 1]]);
  const crc = read({ keys: 'auth 2\n2 crc\n' });
  assert.deepEqual(errors(crc.diagnostics), []);
  assert.match(crc.diagnostics[0]!.message, /crc authentication has no key, so there is no shared key to carry over/);
  assert.equal((crc.raw as { cluster: { key_file?: string } }).cluster.key_file, undefined);
});

test('authkeys: the key of auth N is the cluster key, carried by reference (key_file); it appears in no diagnostic', () => {
  const secret = 'S3cr3t-Sha1-Key-0123456789';
  const r = read({ keys: `auth 2\n1 crc\n2 sha1 ${secret}\n` });
  assert.deepEqual(errors(r.diagnostics), []);
  assert.equal((r.raw as { cluster: { key_file?: string } }).cluster.key_file, '/etc/ha.d/authkeys');
  assert.ok(!JSON.stringify([r.diagnostics, r.notes, r.raw]).includes(secret));
  assert.match(r.notes.find((n) => n.path === 'authkeys: auth')!.message, /sha1 key is the cluster's shared key/);
});

test('a missing haresources is an error (nothing to fail over); a missing authkeys only a warning', () => {
  assert.deepEqual(errors(read({ res: null }).diagnostics), [['error', 'TND_CFG_IO', 'ha.cf', 1]]);
  const r = read({ keys: null });
  assert.deepEqual(rows(r.diagnostics), [['warning', 'TND_CFG_IO', 'ha.cf', 1]]);
  assert.match(r.diagnostics[0]!.message, /heartbeat would not start without it \(tandem does not need it\)/);
  assert.deepEqual(rows(readHeartbeat('/nope/ha.cf', memoryFs({})).diagnostics), [
    ['error', 'TND_CFG_IO', '/nope/ha.cf', 1],
  ]);
});

test('ha.cf directives: unknown ones are errors with a suggestion; unused ones are notes; unsupported ones warnings', () => {
  const r = read({
    ha:
      'keepalve 2\nbcast eth0\nauto_failback on\nnode n1\nnode n2\nudpport 694\nlogfacility local0\nping 198.18.0.254\n' +
      'respawn hacluster /usr/lib/heartbeat/ipfail\nstonith_host * baytech 10.0.0.3 login pw\ncluster web\nwatchdog /dev/watchdog\n',
  });
  assert.deepEqual(rows(r.diagnostics.filter((d) => d.file === HA)), [
    ['error', 'TND_CFG_UNKNOWN_KEY', 'ha.cf', 1],
    ['warning', 'TND_CFG_UNSUPPORTED', 'ha.cf', 10],
    ['warning', 'TND_CFG_UNSUPPORTED', 'ha.cf', 12],
  ]);
  // ping and respawn ipfail are mapped (docs/split-brain.md §3): a ping target, tracked with ipfail's weight.
  assert.deepEqual((r.raw as { vrrp: { track_pings?: unknown } }).vrrp.track_pings, {
    'ping_198.18.0.254': { targets: ['198.18.0.254'] },
  });
  assert.match(
    r.diagnostics.find((d) => d.file === HA)!.message,
    /keepalve is not an ha.cf directive; did you mean keepalive\?/,
  );
  assert.deepEqual(
    r.notes.map((n) => [n.line, n.path]),
    [
      [1, 'authkeys: auth'],
      [6, 'ha.cf: udpport'],
      [7, 'ha.cf: logfacility'],
    ],
  );
  assert.equal((r.raw as { cluster: { name?: string } }).cluster.name, 'web');
});

test('crm on / pacemaker respawn are refused (the resources live in the CIB); crm off is fine; autojoin any is refused', () => {
  for (const line of ['crm on', 'crm yes', 'pacemaker respawn'])
    assert.deepEqual(
      errors(read({ ha: `${HA_CF}${line}\n` }).diagnostics),
      [['error', 'TND_CFG_REJECTED', 'ha.cf', 7]],
      line,
    );
  assert.deepEqual(errors(read({ ha: `${HA_CF}crm off\nautojoin none\n` }).diagnostics), []);
  assert.deepEqual(errors(read({ ha: `${HA_CF}autojoin any\n` }).diagnostics), [
    ['error', 'TND_CFG_REJECTED', 'ha.cf', 7],
  ]);
});

test('the reader finds the sibling files from any of the three names, and the format is detected', () => {
  assert.deepEqual(heartbeatFiles('/etc/ha.d/haresources'), { haCf: HA, haresources: RES, authkeys: KEYS });
  assert.deepEqual(heartbeatFiles('/etc/ha.d//authkeys'), { haCf: HA, haresources: RES, authkeys: KEYS });
  assert.deepEqual(heartbeatFiles('/srv/cluster.cf', { authkeys: '/root/keys' }), {
    haCf: '/srv/cluster.cf',
    haresources: '/srv/haresources',
    authkeys: '/root/keys',
  });
  assert.equal(isHeartbeatFile('/x/ha.cf', ''), true);
  assert.equal(isHeartbeatFile('/x/cluster.cf', 'keepalive 2\nnode a\nbcast eth0\n'), true);
  assert.equal(isHeartbeatFile('/x/lvs.cf', 'keepalive = 2\ndeadtime = 6\n'), false);
  assert.equal(isHeartbeatFile('/x/t.conf', 'vrrp_instance VI_1 {\n}\n'), false);
});

test('tandem check reads ha.cf through loadConfig: the schema and semantic checks report into the heartbeat files', () => {
  const ok = loadConfig(HA, fsOf({}));
  assert.equal(ok.format, 'heartbeat');
  assert.ok(ok.config);
  assert.equal(ok.config.vrrp.instances[0]!.advert_interval, 2000);
  assert.deepEqual(ok.files, [HA, RES, KEYS]);
  // keepalive 41 s cannot be carried by VRRPv3 (12 bits of centiseconds): the schema's error lands on keepalive.
  const slow = loadConfig(
    HA,
    fsOf({ ha: 'keepalive 41\ndeadtime 100\nbcast eth0\nauto_failback on\nnode n1\nnode n2\n' }),
  );
  assert.deepEqual(errors(slow.diagnostics), [['error', 'TND_CFG_INTERVAL', 'ha.cf', 1]]);
  assert.equal(slow.diagnostics.find((d) => d.severity === 'error')!.path, 'ha.cf: keepalive');
  const viaRes = loadConfig(RES, fsOf({}));
  assert.equal(viaRes.format, 'heartbeat');
  assert.ok(viaRes.config);
});

test('the lexer keeps positions, drops comments and joins continued lines only when asked', () => {
  const lines = lexHeartbeat('/f', 'a  b # c\n\n  d \\\n e\n#x\n');
  assert.deepEqual(
    lines.map((l) => l.words.map((w) => `${w.text}@${w.pos.line}:${w.pos.col}`)),
    [['a@1:1', 'b@1:4'], ['d@3:3', '\\@3:5'], ['e@4:2']],
  );
  const joined = lexHeartbeat('/f', 'd \\\n e\r\n', { continuation: true });
  assert.deepEqual(
    joined.map((l) => l.words.map((w) => `${w.text}@${w.pos.line}:${w.pos.col}`)),
    [['d@1:1', 'e@2:2']],
  );
});

test('IPaddr / IPaddr2 arguments are split as the heartbeat wrappers split them: any number of slashes, a third field of digits is the broadcast', () => {
  const cases: [string, ReturnType<typeof parseIpaddrArgument>][] = [
    ['10.0.30.15//8/eth0:10', { ip: '10.0.30.15', netmask: '8', nic: 'eth0', label: 'eth0:10' }],
    ['198.18.0.5', { ip: '198.18.0.5' }],
    ['198.18.0.5/24/eth1', { ip: '198.18.0.5', netmask: '24', nic: 'eth1' }],
    ['198.18.0.5/24/198.18.0.255', { ip: '198.18.0.5', netmask: '24', broadcast: '198.18.0.255' }],
    [
      '198.18.0.5/255.255.255.0/eth0/198.18.0.255',
      { ip: '198.18.0.5', netmask: '255.255.255.0', nic: 'eth0', broadcast: '198.18.0.255' },
    ],
  ];
  for (const [arg, want] of cases) assert.deepEqual(parseIpaddrArgument(arg), want, arg);
  // The regression: 10.0.30.15//8/eth0:10 was imported as /32 on an interface named "8".
  const r = read({ res: 'n1 IPaddr::10.0.30.15//8/eth0:10 httpd\n' });
  const vip = (r.raw as { vrrp: { instances: { vips: unknown[] }[] } }).vrrp.instances[0]!.vips[0];
  assert.deepEqual(vip, { address: '10.0.30.15/8', dev: 'eth0', label: 'eth0:10' });
});
