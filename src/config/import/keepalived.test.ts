import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { ConfigPath, Diagnostic } from '../diagnostics.ts';
import { configSchema } from '../schema.ts';
import { handledKeywords, readKeepalived, suggest } from './keepalived.ts';
import { renderKeepalivedDoc } from './keepalived-doc.ts';
import { KA_BLOCKS, type KaBlock, REJECTED, SUPPORTED, WARNED } from './keepalived-keywords.ts';
import { memoryFs } from './memory-fs.ts';

const MAIN = '/etc/keepalived/keepalived.conf';
const fixture = (name: string): string =>
  readFileSync(new URL(`../../../test/fixtures/keepalived/${name}`, import.meta.url), 'utf8');

function read(text: string, others: Record<string, string> = {}) {
  return readKeepalived(MAIN, memoryFs({ [MAIN]: text, ...others }));
}

/** Diagnostics as [severity, code, line] rows, to compare whole runs at a glance. */
const rows = (ds: readonly Diagnostic[]) => ds.map((d) => [d.severity, d.code, d.line] as const);
const instance = (raw: unknown, i: number) =>
  (raw as { vrrp: { instances: Record<string, unknown>[] } }).vrrp.instances[i];
const at = (r: ReturnType<typeof read>, path: ConfigPath) => {
  const { pos, label } = r.locator.locate(path);
  return [pos.line, pos.col, label] as const;
};

/** An instance body wrapped in a minimal file, so a test reads as the statements it is about. */
const vi = (body: string) => `vrrp_instance VI_1 {\n${body}\n}\n`;

// ---- the tutorial files

const masterRaw = {
  cluster: { nodes: [{ name: 'LVS_MASTER' }] },
  vrrp: {
    scripts: { chk_nginx: { command: 'killall -0 nginx', interval: 2000, weight: -20, fall: 3, rise: 2 } },
    track_files: {},
    instances: [
      {
        name: 'VI_1',
        initial_state: 'master',
        interface: 'eth0',
        vrid: 51,
        priority: 100,
        advert_interval: 1000,
        version: 2,
        auth: { type: 'pass', password: '1111' },
        vips: [{ address: '192.168.7.100/24', dev: 'eth0', label: 'eth0:1' }],
        track: { scripts: [{ name: 'chk_nginx' }] },
        notify: {
          master: '/etc/keepalived/notify.sh master',
          backup: '/etc/keepalived/notify.sh backup',
          fault: '/etc/keepalived/notify.sh fault',
        },
        skip_check_adv_addr: true,
      },
      {
        name: 'VI_2',
        initial_state: 'master',
        interface: 'eth0',
        vrid: 52,
        priority: 100,
        advert_interval: 1000,
        version: 2,
        vips: ['192.168.7.101/24'],
        track: { interfaces: [{ name: 'eth1', weight: -10 }] },
        unicast: { peers: ['192.168.7.12'], source: '192.168.7.11' },
        skip_check_adv_addr: true,
      },
    ],
    sync_groups: [
      { name: 'VG_1', members: ['VI_1', 'VI_2'], notify: { master: '/etc/keepalived/notify.sh group-master' } },
    ],
  },
  // global_defs' notification_email, notification_email_from, smtp_server, smtp_connect_timeout (issue 12)
  alerts: {
    email: {
      to: ['ops@example.com'],
      from: 'keepalived@lb1.example.com',
      smtp: { server: '127.0.0.1', connect_timeout: 30_000 },
    },
    router_id: 'LVS_MASTER',
  },
  lb: {
    services: [
      {
        name: '192.168.7.100-80',
        vip: '192.168.7.100',
        port: 80,
        protocol: 'tcp',
        scheduler: 'wlc',
        method: 'dr',
        persistence: { timeout: 600_000 },
        real_servers: [
          {
            address: '192.168.7.21',
            port: 80,
            weight: 1,
            // keepalived's defaults written out: rise/fall 1, retry 1; delay_loop 6 s is the interval
            check: {
              type: 'tcp',
              port: 80,
              connect_timeout: 3000,
              interval: 6000,
              rise: 1,
              fall: 1,
              retries: 1,
              delay_before_retry: 3000,
            },
          },
        ],
      },
    ],
  },
};

// The e-mail keywords (lines 5-10) are read since issue 12 (alerts): no warnings left.
const tutorialWarnings = [] as const;

test('tutorial master: the whole VRRP part becomes the native object', () => {
  const r = read(fixture('tutorial-master.conf'));
  assert.deepEqual(r.raw, masterRaw);
  assert.deepEqual(rows(r.diagnostics), tutorialWarnings);
  assert.deepEqual(r.files, [MAIN]);
  assert.ok(configSchema.safeParse(r.raw).success, 'the one schema accepts it');
});

test('tutorial master: the virtual_server is located at its keywords, with keepalived-style labels', () => {
  const r = read(fixture('tutorial-master.conf'));
  const svc: ConfigPath = ['lb', 'services', 0];
  assert.deepEqual(at(r, svc), [72, 1, 'virtual_server 192.168.7.100 80']);
  assert.deepEqual(at(r, [...svc, 'vip']), [72, 16, 'virtual_server 192.168.7.100 80']);
  assert.deepEqual(at(r, [...svc, 'port']), [72, 30, 'virtual_server 192.168.7.100 80: port']);
  assert.deepEqual(at(r, [...svc, 'method']), [75, 13, 'virtual_server 192.168.7.100 80: lb_kind']);
  const rs: ConfigPath = [...svc, 'real_servers', 0];
  assert.deepEqual(at(r, [...rs, 'weight']), [
    80,
    16,
    'virtual_server 192.168.7.100 80: real_server 192.168.7.21 80: weight',
  ]);
  // delay_loop is written on the virtual server: the check's interval points there.
  assert.deepEqual(at(r, [...rs, 'check', 'interval']), [73, 16, 'virtual_server 192.168.7.100 80: delay_loop']);
  // A default keepalived applies (rise 1) points at the checker.
  assert.deepEqual(at(r, [...rs, 'check', 'rise']), [
    81,
    9,
    'virtual_server 192.168.7.100 80: real_server 192.168.7.21 80: TCP_CHECK',
  ]);
});

test('tutorial master: the locator points at the keyword or value, with a keepalived-style label', () => {
  const r = read(fixture('tutorial-master.conf'));
  assert.deepEqual(at(r, ['vrrp', 'instances', 1, 'priority']), [50, 14, 'vrrp_instance VI_2: priority']);
  assert.deepEqual(at(r, ['vrrp', 'instances', 1]), [46, 1, 'vrrp_instance VI_2']);
  assert.deepEqual(at(r, ['vrrp', 'instances', 0, 'name']), [24, 15, 'vrrp_instance VI_1']);
  assert.deepEqual(at(r, ['vrrp', 'instances', 0, 'vrid']), [27, 23, 'vrrp_instance VI_1: virtual_router_id']);
  assert.deepEqual(at(r, ['vrrp', 'instances', 0, 'initial_state']), [25, 11, 'vrrp_instance VI_1: state']);
  assert.deepEqual(at(r, ['vrrp', 'instances', 0, 'auth', 'password']), [33, 19, 'vrrp_instance VI_1: auth_pass']);
  assert.deepEqual(at(r, ['vrrp', 'instances', 0, 'vips', 0, 'dev']), [
    36,
    30,
    'vrrp_instance VI_1: virtual_ipaddress dev',
  ]);
  assert.deepEqual(at(r, ['vrrp', 'instances', 0, 'track', 'scripts', 0, 'name']), [
    39,
    9,
    'vrrp_instance VI_1: track_script',
  ]);
  assert.deepEqual(at(r, ['vrrp', 'instances', 0, 'notify', 'fault']), [43, 18, 'vrrp_instance VI_1: notify_fault']);
  assert.deepEqual(at(r, ['vrrp', 'instances', 1, 'unicast', 'source']), [
    52,
    20,
    'vrrp_instance VI_2: unicast_src_ip',
  ]);
  assert.deepEqual(at(r, ['vrrp', 'instances', 1, 'unicast', 'peers', 0]), [54, 9, 'vrrp_instance VI_2: unicast_peer']);
  assert.deepEqual(at(r, ['vrrp', 'instances', 1, 'track', 'interfaces', 0, 'weight']), [
    60,
    21,
    'vrrp_instance VI_2: track_interface',
  ]);
  assert.deepEqual(at(r, ['vrrp', 'scripts', 'chk_nginx', 'weight']), [19, 12, 'vrrp_script chk_nginx: weight']);
  assert.deepEqual(at(r, ['vrrp', 'scripts', 'chk_nginx']), [16, 1, 'vrrp_script chk_nginx']);
  assert.deepEqual(at(r, ['vrrp', 'sync_groups', 0, 'members']), [65, 5, 'vrrp_sync_group VG_1: group']);
  assert.deepEqual(at(r, ['vrrp', 'sync_groups', 0, 'members', 1]), [67, 9, 'vrrp_sync_group VG_1: group']);
  assert.deepEqual(at(r, ['cluster', 'nodes', 0, 'name']), [11, 14, 'global_defs: router_id']);
});

test('the locator answers a path deeper than anything recorded with its deepest recorded prefix', () => {
  const r = read(fixture('tutorial-master.conf'));
  assert.deepEqual(at(r, ['vrrp', 'instances', 0, 'vips', 0, 'address', 'x']), [
    36,
    9,
    'vrrp_instance VI_1: virtual_ipaddress',
  ]);
  // preempt_delay is not written: the instance itself; VI_2's version is keepalived's default: the instance too.
  assert.deepEqual(at(r, ['vrrp', 'instances', 0, 'preempt_delay']), [24, 1, 'vrrp_instance VI_1']);
  assert.deepEqual(at(r, ['vrrp', 'instances', 1, 'version']), [46, 1, 'vrrp_instance VI_2']);
  assert.deepEqual(r.locator.locate(['nowhere', 3]).label, 'nowhere[3]');
  assert.equal(r.locator.locate(['nowhere']).pos.line, 1);
});

test('tutorial backup: the same file for the second node', () => {
  const r = read(fixture('tutorial-backup.conf'));
  const expected = structuredClone(masterRaw) as typeof masterRaw & Record<string, never>;
  expected.cluster.nodes = [{ name: 'LVS_BACKUP' }];
  expected.alerts = { ...expected.alerts, router_id: 'LVS_BACKUP' };
  expected.alerts.email = { ...expected.alerts.email, from: 'keepalived@lb2.example.com' };
  for (const inst of expected.vrrp.instances) {
    inst.initial_state = 'backup';
    inst.priority = 90;
  }
  expected.vrrp.instances[1]!.unicast = { peers: ['192.168.7.11'], source: '192.168.7.12' };
  assert.deepEqual(r.raw, expected);
  assert.deepEqual(rows(r.diagnostics), tutorialWarnings);
});

test('tutorial with three mistakes: an unclosed block and a non-number found here, an unknown script left to the checks', () => {
  const r = read(fixture('tutorial-3-mistakes.conf'));
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  assert.deepEqual(
    errors.map((d) => [d.code, d.line, d.col, d.path]),
    [
      ['TND_CFG_UNCLOSED_BLOCK', 24, 1, 'vrrp_instance VI_1'],
      ['TND_CFG_NUMBER', 51, 16, 'vrrp_instance VI_2: advert_int'],
    ],
  );
  assert.match(errors[0]!.message, /^vrrp_instance VI_1 opened here is never closed \(vrrp_instance at line 46/);
  // Everything else is still read: VI_2 stands on its own, without the advert_int it could not read.
  const vi2 = instance(r.raw, 1)!;
  assert.equal(vi2.name, 'VI_2');
  assert.equal(vi2.advert_interval, undefined);
  // The third mistake, a track_script naming no vrrp_script, is the semantic checks' to find; they report it here.
  assert.deepEqual(instance(r.raw, 0)!.track, { scripts: [{ name: 'chk_ngnix' }] });
  assert.deepEqual(at(r, ['vrrp', 'instances', 0, 'track', 'scripts', 0, 'name']), [
    39,
    9,
    'vrrp_instance VI_1: track_script',
  ]);
});

// ---- statements

test('a block on one line hands the text after "{" to one keyword: TND_CFG_ARGS names the stray keyword', () => {
  const r = read(vi('authentication { auth_type PASS auth_pass 1111 }'));
  const [d, ...rest] = r.diagnostics;
  assert.deepEqual(rest, []);
  assert.equal(d?.code, 'TND_CFG_ARGS');
  assert.deepEqual([d?.line, d?.col, d?.path], [2, 33, 'vrrp_instance VI_1: auth_type']);
  assert.match(d!.message, /auth_pass is not read as a keyword: put one keyword per line/);
  assert.deepEqual(instance(r.raw, 0)!.auth, { type: 'pass' });
});

test('one-line value blocks are fine', () => {
  const r = read(vi('virtual_ipaddress { 10.0.0.1/24 }\ntrack_script { chk }\nunicast_peer { 10.0.0.2 }'));
  assert.deepEqual(r.diagnostics, []);
  const o = instance(r.raw, 0)!;
  assert.deepEqual(
    [o.vips, o.track, o.unicast],
    [['10.0.0.1/24'], { scripts: [{ name: 'chk' }] }, { peers: ['10.0.0.2'] }],
  );
});

test('a typo is TND_CFG_UNKNOWN_KEY with a suggestion, and reading goes on', () => {
  const r = read(vi('priorty 100\nadvert_intt 1\ninterface eth0\nfrobnicate'));
  assert.deepEqual(
    r.diagnostics.map((d) => [d.code, d.line, d.message]),
    [
      ['TND_CFG_UNKNOWN_KEY', 2, 'priorty is not a keepalived keyword in vrrp_instance; did you mean priority?'],
      ['TND_CFG_UNKNOWN_KEY', 3, 'advert_intt is not a keepalived keyword in vrrp_instance; did you mean advert_int?'],
      ['TND_CFG_UNKNOWN_KEY', 5, 'frobnicate is not a keepalived keyword in vrrp_instance'],
    ],
  );
  assert.equal(instance(r.raw, 0)!.interface, 'eth0');
});

test('an unknown top-level block is skipped whole, braces balanced', () => {
  const r = read('vrrp_instanc VI_1 {\n  priority 100\n  track_script {\n    chk\n  }\n}\nvrrp_instance VI_2 {\n}\n');
  assert.deepEqual(
    r.diagnostics.map((d) => [d.code, d.line, d.path]),
    [['TND_CFG_UNKNOWN_KEY', 1, 'vrrp_instanc']],
  );
  assert.match(r.diagnostics[0]!.message, /did you mean vrrp_instance\?/);
  assert.deepEqual(instance(r.raw, 0), { name: 'VI_2', version: 2 });
});

test('a valid keepalived keyword tandem lacks is a TND_CFG_UNSUPPORTED warning naming it; its block is skipped', () => {
  const r = read(vi('track_bfd {\n  bfd1\n}\nunicast_ttl 3\npriority 100'));
  assert.deepEqual(
    r.diagnostics.map((d) => [d.severity, d.code, d.line, d.path]),
    [
      ['warning', 'TND_CFG_IGNORED_BLOCK', 2, 'vrrp_instance VI_1: track_bfd'],
      ['warning', 'TND_CFG_UNSUPPORTED', 5, 'vrrp_instance VI_1: unicast_ttl'],
    ],
  );
  assert.match(r.diagnostics[0]!.message, /the track_bfd block at line 2 is skipped whole: BFD is not implemented/);
  assert.equal(instance(r.raw, 0)!.priority, 100);
});

test('use_vmac, vmac_xmit_base, virtual_routes and virtual_rules become vmac and the routes that follow the master', () => {
  const r = read(
    vi(
      'use_vmac vrrp51\nvmac_xmit_base\nvirtual_routes {\n  198.18.9.0/24 gw 198.18.0.254 dev eth0\n  ' +
        'blackhole 198.18.10.0/24\n}\nvirtual_rules {\n  from 198.18.0.10 table 100\n}',
    ),
  );
  assert.deepEqual(r.diagnostics, []);
  const o = instance(r.raw, 0) as Record<string, unknown>;
  assert.deepEqual(o.vmac, { name: 'vrrp51', xmit_base: true });
  assert.deepEqual(o.virtual_routes, ['198.18.9.0/24 via 198.18.0.254 dev eth0', 'blackhole 198.18.10.0/24']);
  assert.deepEqual(o.virtual_rules, ['from 198.18.0.10 table 100']);
});

test('vrrp_strict applies keepalived strict mode: auth dropped, accept off, MASTER only for the owner, unicast refused', () => {
  const r = read(
    'global_defs {\n vrrp_strict\n}\n' +
      vi('state MASTER\nauthentication {\n auth_type PASS\n auth_pass x\n}\nunicast_peer {\n 198.18.0.2\n}'),
  );
  assert.deepEqual(
    r.diagnostics.map((d) => [d.severity, d.code, d.line]),
    [
      ['warning', 'TND_CFG_AS_KEEPALIVED', 2],
      ['warning', 'TND_CFG_AS_KEEPALIVED', 2],
      ['error', 'TND_CFG_REJECTED', 10],
    ],
  );
  const o = instance(r.raw, 0) as Record<string, unknown>;
  assert.deepEqual([o.auth, o.accept, o.lower_prio_no_advert, o.initial_state], [undefined, false, true, 'backup']);
});

test('static_ipaddress, static_routes and static_rules become vrrp.static; a static address needs dev', () => {
  const r = read(
    'static_ipaddress {\n 198.18.3.1/24 dev eth1 label eth1:mgmt\n 198.18.3.2/24\n}\n' +
      'static_routes {\n 198.18.8.0/24 via 198.18.3.254\n}\nstatic_rules {\n from 198.18.3.1 table 7\n}\n',
  );
  assert.deepEqual(
    r.diagnostics.map((d) => [d.code, d.line]),
    [['TND_CFG_REQUIRED', 3]],
  );
  assert.deepEqual((r.raw as { vrrp: { static: unknown } }).vrrp.static, {
    addresses: [{ address: '198.18.3.1/24', dev: 'eth1', label: 'eth1:mgmt' }],
    routes: ['198.18.8.0/24 via 198.18.3.254'],
    rules: ['from 198.18.3.1 table 7'],
  });
});

test('blocks outside the VRRP part are skipped with TND_CFG_IGNORED_BLOCK', () => {
  const text = [
    'SSL {\n ca /etc/ssl/ca.pem\n}',
    'vrrp_track_process nginx {\n process nginx\n}',
    'garp_group {\n garp_interval 0.1\n}',
    'bfd_instance b {\n neighbor_ip 10.0.0.2\n}',
    'linkbeat_interfaces {\n eth0\n}',
  ].join('\n');
  const r = read(text);
  assert.deepEqual(
    r.diagnostics.map((d) => [d.code, d.path]),
    [
      ['TND_CFG_IGNORED_BLOCK', 'SSL'],
      ['TND_CFG_IGNORED_BLOCK', 'vrrp_track_process nginx'],
      ['TND_CFG_IGNORED_BLOCK', 'garp_group'],
      ['TND_CFG_IGNORED_BLOCK', 'bfd_instance b'],
      ['TND_CFG_IGNORED_BLOCK', 'linkbeat_interfaces'],
    ],
  );
});

test('duplicate vrrp_instance and vrrp_script names are TND_CFG_DUPLICATE at the second; the first is kept', () => {
  const r = read(
    'vrrp_script chk {\n script a\n}\nvrrp_script chk {\n script b\n}\n' +
      'vrrp_instance VI_1 {\n priority 1\n}\nvrrp_instance VI_1 {\n priority 2\n priorty 3\n}\n',
  );
  assert.deepEqual(
    r.diagnostics.map((d) => [d.code, d.line, d.col, d.message]),
    [
      ['TND_CFG_DUPLICATE', 4, 13, 'vrrp_script chk is defined twice; first defined at line 1'],
      ['TND_CFG_DUPLICATE', 10, 15, 'vrrp_instance VI_1 is defined twice; first defined at line 7'],
      ['TND_CFG_UNKNOWN_KEY', 12, 2, 'priorty is not a keepalived keyword in vrrp_instance; did you mean priority?'],
    ],
  );
  const raw = r.raw as { vrrp: { scripts: Record<string, { command: string }>; instances: unknown[] } };
  assert.equal(raw.vrrp.scripts.chk?.command, 'a');
  assert.equal(raw.vrrp.instances.length, 1);
  assert.equal(instance(r.raw, 0)!.priority, 1);
});

test('an extra "}" is TND_CFG_EXTRA_BRACE', () => {
  const r = read('vrrp_instance VI_1 {\n}\n}\n');
  assert.deepEqual(
    r.diagnostics.map((d) => [d.code, d.line, d.col]),
    [['TND_CFG_EXTRA_BRACE', 3, 1]],
  );
});

test('a block still open at the end is TND_CFG_UNCLOSED_BLOCK at its opening keyword', () => {
  const r = read('\nvrrp_instance VI_1 {\n  priority 100\n');
  assert.deepEqual(
    r.diagnostics.map((d) => [d.code, d.line, d.col, d.message]),
    [['TND_CFG_UNCLOSED_BLOCK', 2, 1, 'vrrp_instance VI_1 opened here is never closed (the input ends first)']],
  );
  assert.equal(instance(r.raw, 0)!.priority, 100);
});

test('a nested block left open is reported once, at its keyword, when a keyword of the enclosing block appears', () => {
  const r = read(
    vi('virtual_ipaddress {\n  10.0.0.1/24\npriority 100\nauthentication {\n  auth_type PASS\nstate BACKUP'),
  );
  assert.deepEqual(
    r.diagnostics.map((d) => [d.code, d.line, d.path]),
    [
      ['TND_CFG_UNCLOSED_BLOCK', 2, 'vrrp_instance VI_1: virtual_ipaddress'],
      ['TND_CFG_UNCLOSED_BLOCK', 5, 'vrrp_instance VI_1: authentication'],
    ],
  );
  const o = instance(r.raw, 0)!;
  assert.deepEqual([o.vips, o.priority, o.auth, o.initial_state], [['10.0.0.1/24'], 100, { type: 'pass' }, 'backup']);
});

test('a block keyword without "{" is TND_CFG_SYNTAX; the lines after it are read as its block, as keepalived does', () => {
  const r = read(vi('virtual_ipaddress\n  10.0.0.1/24\n}\n'));
  assert.deepEqual(
    r.diagnostics.map((d) => [d.code, d.line]),
    [['TND_CFG_SYNTAX', 2]],
  );
  assert.deepEqual(instance(r.raw, 0)!.vips, ['10.0.0.1/24']);
});

test('every problem is reported in one run', () => {
  const r = read(
    'vrrp_instance VI_1 {\n advert_int abc\n priority x\n virtual_router_id\n state maybe\n unicast_ttl 2\n priorty 1\n' +
      ' authentication {\n  auth_type AH\n }\n}\n}\n',
  );
  assert.deepEqual(
    r.diagnostics.map((d) => [d.code, d.line]),
    [
      ['TND_CFG_NUMBER', 2],
      ['TND_CFG_NUMBER', 3],
      ['TND_CFG_ARGS', 4],
      ['TND_CFG_ENUM', 5],
      ['TND_CFG_UNSUPPORTED', 6],
      ['TND_CFG_UNKNOWN_KEY', 7],
      ['TND_CFG_REJECTED', 9],
      ['TND_CFG_EXTRA_BRACE', 12],
    ],
  );
});

// ---- values

test('values are passed through for the schema to judge: priority 300 stays 300', () => {
  const r = read(vi('priority 300\nvirtual_router_id 0\nversion 4\ngarp_master_repeat -1'));
  assert.deepEqual(r.diagnostics, []);
  const o = instance(r.raw, 0)!;
  assert.deepEqual([o.priority, o.vrid, o.version, o.garp], [300, 0, 4, { master_repeat: -1 }]);
});

test('keepalived seconds, fractions allowed, become integer milliseconds', () => {
  const r = read(
    vi('advert_int 0.5\npreempt_delay 2.5\ngarp_master_delay 10\ngarp_master_refresh .25') +
      'vrrp_script s {\n script x\n interval 1.5\n timeout 3\n}\n',
  );
  assert.deepEqual(r.diagnostics, []);
  const o = instance(r.raw, 0)!;
  assert.deepEqual(
    [o.advert_interval, o.preempt_delay, o.garp],
    [500, 2500, { master_delay: 10000, master_refresh: 250 }],
  );
  assert.deepEqual((r.raw as { vrrp: { scripts: unknown } }).vrrp.scripts, {
    s: { command: 'x', interval: 1500, timeout: 3000 },
  });
});

test('a value finer than a millisecond is rounded with a warning; a negative time is not a number of seconds', () => {
  const r = read(vi('advert_int 0.0005\npreempt_delay -1'));
  assert.deepEqual(
    r.diagnostics.map((d) => [d.severity, d.code, d.line]),
    [
      ['warning', 'TND_CFG_NUMBER', 2],
      ['error', 'TND_CFG_NUMBER', 3],
    ],
  );
  assert.equal(instance(r.raw, 0)!.advert_interval, 1);
});

test('flags: nopreempt, preempt, accept, no_accept, <BOOL> keywords; the last one written wins', () => {
  const r = read(
    vi('preempt\nnopreempt\naccept\nno_accept\nv3_checksum_as_v2\nlower_prio_no_advert off\ndown_timer_adverts 5'),
  );
  assert.deepEqual(r.diagnostics, []);
  const o = instance(r.raw, 0)!;
  assert.deepEqual(
    [o.preempt, o.accept, o.v3_checksum, o.lower_prio_no_advert, o.down_timer_adverts],
    [false, false, 'message', false, 5],
  );
  const bad = read(vi('lower_prio_no_advert maybe\nv3_checksum_as_v2 no'));
  assert.deepEqual(rows(bad.diagnostics), [['error', 'TND_CFG_ENUM', 2]]);
  assert.equal(instance(bad.raw, 0)!.v3_checksum, 'pseudo-header');
});

test('state takes MASTER or BACKUP, as keepalived spells them', () => {
  const r = read(vi('state BACKUP') + vi('state master').replace('VI_1', 'VI_2'));
  assert.equal(instance(r.raw, 0)!.initial_state, 'backup');
  assert.deepEqual(rows(r.diagnostics), [['error', 'TND_CFG_ENUM', 5]]);
});

test('auth_type AH is refused (TND_CFG_REJECTED), saying why; unknown types are TND_CFG_ENUM', () => {
  const r = read(vi('authentication {\n auth_type AH\n auth_pass secret\n}'));
  assert.deepEqual(rows(r.diagnostics), [['error', 'TND_CFG_REJECTED', 3]]);
  assert.match(r.diagnostics[0]!.message, /IPsec-AH/);
  assert.equal(instance(r.raw, 0)!.auth, undefined);
  assert.deepEqual(rows(read(vi('authentication {\n auth_type SHA\n}')).diagnostics), [['error', 'TND_CFG_ENUM', 3]]);
});

test('auth_pass keeps its first 8 characters, as keepalived does, with a warning', () => {
  const r = read(vi('authentication {\n auth_type PASS\n auth_pass 123456789\n}'));
  assert.deepEqual(rows(r.diagnostics), [['warning', 'TND_CFG_RANGE', 4]]);
  assert.deepEqual(instance(r.raw, 0)!.auth, { type: 'pass', password: '12345678' });
});

test('regression: the auth_pass warning names neither the password nor the part of it that is used', () => {
  const r = read(vi('authentication {\n auth_type PASS\n auth_pass s3cr3tPassw0rd\n}'));
  const text = r.diagnostics.map((d) => d.message).join('\n');
  assert.match(text, /14 characters; only the first 8 are used/);
  assert.doesNotMatch(text, /s3cr3t|Passw0rd|s3cr3tPa/);
});

test('virtual_ipaddress: dev and label make an object; other ip-address options are warned; a typo is an error', () => {
  const r = read(
    vi(
      'virtual_ipaddress {\n 10.0.0.1\n 10.0.0.2/24 dev eth1\n 10.0.0.3/24 brd 10.0.0.255 scope global label eth0:3\n 10.0.0.4 dve eth0\n}',
    ),
  );
  assert.deepEqual(instance(r.raw, 0)!.vips, [
    '10.0.0.1',
    { address: '10.0.0.2/24', dev: 'eth1' },
    { address: '10.0.0.3/24', label: 'eth0:3' },
    '10.0.0.4',
  ]);
  assert.deepEqual(
    r.diagnostics.map((d) => [d.severity, d.code, d.line, d.message]),
    [
      ['warning', 'TND_CFG_UNSUPPORTED', 5, 'brd, scope are not supported yet; ignored'],
      [
        'error',
        'TND_CFG_UNKNOWN_KEY',
        6,
        'dve is not an option of a virtual address; did you mean dev? (one address per line, options after it)',
      ],
    ],
  );
});

test('virtual_ipaddress_excluded is not read as virtual addresses: a warning', () => {
  const r = read(vi('virtual_ipaddress_excluded {\n 10.0.0.9\n}'));
  assert.deepEqual(rows(r.diagnostics), [['warning', 'TND_CFG_IGNORED_BLOCK', 2]]);
  assert.equal(instance(r.raw, 0)!.vips, undefined);
});

test('unicast: one peer per line; the source address goes to unicast.source with peers, mcast_source without', () => {
  const r = read(vi('mcast_src_ip 10.0.0.1\nunicast_peer {\n 10.0.0.2 min_ttl 250\n 10.0.0.3 10.0.0.4\n}'));
  assert.deepEqual(instance(r.raw, 0)!.unicast, { peers: ['10.0.0.2', '10.0.0.3'], source: '10.0.0.1' });
  assert.deepEqual(rows(r.diagnostics), [
    ['warning', 'TND_CFG_UNSUPPORTED', 4],
    ['error', 'TND_CFG_ARGS', 5],
  ]);
  const m = read(vi('unicast_src_ip 10.0.0.1'));
  assert.equal(instance(m.raw, 0)!.mcast_source, '10.0.0.1');
  assert.equal(instance(m.raw, 0)!.unicast, undefined);
  assert.deepEqual(at(m, ['vrrp', 'instances', 0, 'mcast_source']), [2, 16, 'vrrp_instance VI_1: unicast_src_ip']);
});

test('track_interface, track_script and track_file entries: NAME [weight N] [reverse|noreverse]', () => {
  const r = read(
    vi(
      'track_interface {\n eth0\n eth1 weight -10 reverse\n}\ntrack_script {\n chk weight 5 noreverse\n}\ntrack_file {\n f weight x\n g extra\n}',
    ),
  );
  assert.deepEqual(instance(r.raw, 0)!.track, {
    interfaces: [{ name: 'eth0' }, { name: 'eth1', weight: -10, reverse: true }],
    scripts: [{ name: 'chk', weight: 5, reverse: false }],
    files: [{ name: 'f' }, { name: 'g' }],
  });
  assert.deepEqual(rows(r.diagnostics), [
    ['error', 'TND_CFG_NUMBER', 10],
    ['error', 'TND_CFG_ARGS', 11],
  ]);
});

test('notify scripts: the first word is the command line; user and group words are warned', () => {
  const r = read(
    vi('notify "/usr/local/bin/ka-notify --all"\nnotify_stop /bin/stop.sh\nnotify_master /bin/m.sh nobody nogroup'),
  );
  assert.deepEqual(instance(r.raw, 0)!.notify, {
    any: '/usr/local/bin/ka-notify --all',
    stop: '/bin/stop.sh',
    master: '/bin/m.sh',
  });
  assert.deepEqual(rows(r.diagnostics), [['warning', 'TND_CFG_UNSUPPORTED', 4]]);
  assert.match(r.diagnostics[0]!.message, /as user nobody nogroup/);
});

test('vrrp_script: weight N reverse, user with a warned group, init_fail, an unquoted command line', () => {
  const r = read(
    'vrrp_script chk {\n script /usr/bin/pgrep -x "my proc"\n weight 10 reverse\n user nobody :nogroup\n init_fail\n}\n',
  );
  assert.deepEqual((r.raw as { vrrp: { scripts: unknown } }).vrrp.scripts, {
    chk: { command: "/usr/bin/pgrep -x 'my proc'", weight: 10, reverse: true, user: 'nobody', init_fail: true },
  });
  assert.deepEqual(rows(r.diagnostics), [['warning', 'TND_CFG_UNSUPPORTED', 4]]);
});

test('track_file (and its old name vrrp_track_file) become vrrp.track_files', () => {
  const r = read(
    'track_file tf {\n file /run/ka/tf\n weight -2 reverse\n init_file 7 overwrite\n}\nvrrp_track_file old {\n file /run/old\n init_file\n}\n',
  );
  assert.deepEqual((r.raw as { vrrp: { track_files: unknown } }).vrrp.track_files, {
    tf: { path: '/run/ka/tf', weight: -2, reverse: true, init_file: 7 },
    old: { path: '/run/old', init_file: 0 },
  });
  assert.deepEqual(rows(r.diagnostics), [['warning', 'TND_CFG_UNSUPPORTED', 4]]);
  assert.deepEqual(at(r, ['vrrp', 'track_files', 'tf', 'path']), [2, 7, 'track_file tf: file']);
});

test('a name like __proto__ stays data', () => {
  const r = read('vrrp_script __proto__ {\n script x\n}\n');
  const scripts = (r.raw as { vrrp: { scripts: object } }).vrrp.scripts;
  assert.ok(Object.hasOwn(scripts, '__proto__'));
  assert.equal(Object.getPrototypeOf(scripts), Object.prototype);
});

test('vrrp_sync_group: group members (several per line too) and notify scripts; sync group tracking is warned', () => {
  const r = read(
    'vrrp_sync_group G {\n group { VI_1 VI_2\n  VI_3 }\n notify_backup /b.sh\n track_script {\n  chk\n }\n}\n',
  );
  assert.deepEqual((r.raw as { vrrp: { sync_groups: unknown } }).vrrp.sync_groups, [
    { name: 'G', members: ['VI_1', 'VI_2', 'VI_3'], notify: { backup: '/b.sh' } },
  ]);
  assert.deepEqual(rows(r.diagnostics), [['warning', 'TND_CFG_IGNORED_BLOCK', 5]]);
});

// ---- global_defs and defaults

test('router_id names the node; without it the node is "local"', () => {
  assert.deepEqual((read('').raw as { cluster: unknown }).cluster, { nodes: [{ name: 'local' }] });
  assert.deepEqual(read('').raw, {
    cluster: { nodes: [{ name: 'local' }] },
    vrrp: { scripts: {}, track_files: {}, instances: [], sync_groups: [] },
  });
});

test("version: the instance's, else global vrrp_version, else keepalived's default (2, or 3 for IPv6)", () => {
  const r = read(
    'vrrp_instance A {\n version 3\n}\nvrrp_instance B {\n virtual_ipaddress {\n  2001:db8::1/64\n }\n}\n' +
      'vrrp_instance C {\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n',
  );
  assert.deepEqual(
    [0, 1, 2].map((i) => instance(r.raw, i)!.version),
    [3, 3, 2],
  );
  const g = read('global_defs {\n vrrp_version 3\n}\nvrrp_instance A {\n}\n');
  assert.equal(instance(g.raw, 0)!.version, 3);
  assert.deepEqual(at(g, ['vrrp', 'instances', 0, 'version']), [2, 15, 'global_defs: vrrp_version']);
});

test('global_defs defaults fill the instances that do not set them, pointing at global_defs', () => {
  const r = read(
    'global_defs {\n vrrp_garp_master_delay 1\n vrrp_garp_master_repeat 2\n vrrp_garp_master_refresh 60\n' +
      ' vrrp_lower_prio_no_advert\n vrrp_down_timer_adverts 4\n v3_checksum_as_v2 yes\n}\n' +
      vi('garp_master_repeat 9\ndown_timer_adverts 3').replace('VI_1', 'A'),
  );
  assert.deepEqual(r.diagnostics, []);
  const o = instance(r.raw, 0)!;
  assert.deepEqual(
    [o.garp, o.lower_prio_no_advert, o.down_timer_adverts, o.v3_checksum],
    [{ master_repeat: 9, master_delay: 1000, master_refresh: 60000 }, true, 3, 'message'],
  );
  assert.deepEqual(at(r, ['vrrp', 'instances', 0, 'garp', 'master_delay']), [
    2,
    25,
    'global_defs: vrrp_garp_master_delay',
  ]);
  assert.deepEqual(at(r, ['vrrp', 'instances', 0, 'garp', 'master_repeat']), [
    10,
    20,
    'vrrp_instance A: garp_master_repeat',
  ]);
});

test('garp_lower_prio_repeat, in an instance or as global_defs vrrp_garp_lower_prio_repeat, is read as garp.lower_prio_repeat', () => {
  const r = read(
    'global_defs {\n vrrp_garp_lower_prio_repeat 3\n}\n' +
      vi('priority 100').replace('VI_1', 'A') +
      vi('garp_lower_prio_repeat 0').replace('VI_1', 'B'),
  );
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual(
    [instance(r.raw, 0)!.garp, instance(r.raw, 1)!.garp],
    [{ lower_prio_repeat: 3 }, { lower_prio_repeat: 0 }],
  );
});

test('a multicast group other than the standard one is refused; the standard one is fine', () => {
  const ok = read('global_defs {\n vrrp_mcast_group4 224.0.0.18\n vrrp_mcast_group6 FF02::12\n}\n');
  assert.deepEqual(ok.diagnostics, []);
  const bad = read('global_defs {\n vrrp_mcast_group4 224.0.0.19\n}\n' + vi('mcast_dst_ip 224.0.0.20'));
  assert.deepEqual(rows(bad.diagnostics), [
    ['error', 'TND_CFG_REJECTED', 2],
    ['error', 'TND_CFG_REJECTED', 5],
  ]);
});

// ---- files

test('positions in an included file name that file', () => {
  const r = readKeepalived(
    MAIN,
    memoryFs({
      [MAIN]: 'include conf.d/*.conf\n',
      '/etc/keepalived/conf.d/vi1.conf': 'vrrp_instance VI_1 {\n  priority 120\n  advert_int x\n}\n',
    }),
  );
  assert.deepEqual(r.files, [MAIN, '/etc/keepalived/conf.d/vi1.conf']);
  assert.deepEqual(r.locator.locate(['vrrp', 'instances', 0, 'priority']).pos, {
    file: '/etc/keepalived/conf.d/vi1.conf',
    line: 2,
    col: 12,
  });
  assert.deepEqual(
    r.diagnostics.map((d) => [d.file, d.line, d.code]),
    [['/etc/keepalived/conf.d/vi1.conf', 3, 'TND_CFG_NUMBER']],
  );
});

test('an unreadable entry file is TND_CFG_IO, with the empty shape as raw', () => {
  const r = readKeepalived('/nope.conf', memoryFs({}));
  assert.deepEqual(
    r.diagnostics.map((d) => [d.code, d.severity, d.file]),
    [['TND_CFG_IO', 'error', '/nope.conf']],
  );
  assert.deepEqual(r.files, []);
});

// ---- the keyword tables and their page

test('every SUPPORTED keyword of a keyword block has a handler, and every handler is listed as SUPPORTED', () => {
  const blocks: KaBlock[] = [
    'top level',
    'global_defs',
    'vrrp_script',
    'track_file',
    'vrrp_instance',
    'authentication',
    'vrrp_sync_group',
    'virtual_server',
    'real_server',
    'TCP_CHECK',
    'HTTP_GET, SSL_GET',
    'url',
    'MISC_CHECK',
  ];
  // Keys with blanks ('ADDR [PORT]', 'group NAME') describe forms of the block's own line, not keywords.
  const keywords = (b: KaBlock) => Object.keys(SUPPORTED[b]).filter((k) => !/\s/.test(k));
  for (const b of blocks) assert.deepEqual(handledKeywords(b).sort(), keywords(b).sort(), b);
});

test('the tables list every block, and no keyword is both supported and warned', () => {
  for (const t of [SUPPORTED, WARNED, REJECTED]) assert.deepEqual(Object.keys(t).sort(), [...KA_BLOCKS].sort());
  for (const b of KA_BLOCKS) {
    const both = Object.keys(WARNED[b]).filter((k) => Object.hasOwn(SUPPORTED[b], k) && b !== 'preprocessor');
    assert.deepEqual(both, [], b);
  }
});

test('docs/keepalived.md is generated from the tables (run npm run gen:docs)', () => {
  const doc = readFileSync(new URL('../../../docs/keepalived.md', import.meta.url), 'utf8');
  assert.equal(doc, renderKeepalivedDoc());
});

test('suggestions: close typos only, case-insensitive first', () => {
  const kws = ['priority', 'preempt', 'interface', 'state'];
  assert.equal(suggest('priorty', kws), 'priority');
  assert.equal(suggest('PRIORITY', kws), 'priority');
  assert.equal(suggest('interfcae', kws), 'interface');
  assert.equal(suggest('stat', kws), 'state');
  assert.equal(suggest('zebra', kws), undefined);
});
