import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { formatDiagnostic } from './diagnostics.ts';
import { loadConfig } from './load.ts';

const fixture = (name: string): string => new URL(`../../test/fixtures/yaml/${name}`, import.meta.url).pathname;
const memFs = (files: Record<string, string>) => ({
  read: (p: string) => files[p],
  glob: () => [],
});
const loadText = (text: string) => loadConfig('/etc/tandem/tandem.yaml', memFs({ '/etc/tandem/tandem.yaml': text }));
const lines = (text: string) => loadText(text).diagnostics.map(formatDiagnostic);

test('a valid two-director YAML loads with defaults filled in and no diagnostics', () => {
  const path = fixture('two-directors.yaml');
  const r = loadConfig(path, memFs({ [path]: readFileSync(path, 'utf8') }));
  assert.deepEqual(r.diagnostics, []);
  assert.ok(r.config);
  const vi1 = r.config.vrrp.instances[0]!;
  assert.equal(vi1.advert_interval, 1000);
  assert.equal(vi1.preempt, true);
  assert.deepEqual(vi1.priority, { d1: 150, d2: 100 });
  assert.equal(r.config.vrrp.instances[1]!.advert_interval, 100);
  assert.equal(r.config.vrrp.scripts.chk_web!.interval, 2000);
  assert.ok(Object.isFrozen(r.config.vrrp.instances[0]), 'config is frozen (Rule 6)');
});

test('every problem in a YAML file is reported in one run with file:line:col', () => {
  const path = fixture('three-mistakes.yaml');
  const r = loadConfig(path, memFs({ [path]: readFileSync(path, 'utf8') }));
  const got = r.diagnostics.map((d) => `${d.line}:${d.col} ${d.code} ${d.path}`);
  assert.deepEqual(got, [
    '10:17 TND_CFG_RANGE vrrp.instances[0].priority',
    '14:13 TND_CFG_VRID_CONFLICT vrrp.instances[1].vrid',
    '16:7 TND_CFG_AUTH_V3 vrrp.instances[1].auth',
    '17:31 TND_CFG_MIXED_FAMILY vrrp.instances[1].vips[1]',
  ]);
  assert.equal(r.config, undefined);
  assert.match(
    formatDiagnostic(r.diagnostics[0]!),
    /three-mistakes\.yaml:10:17 error TND_CFG_RANGE vrrp\.instances\[0\]\.priority: must be ≤ 255, got 300$/,
  );
});

test('a YAML syntax error is reported at its line', () => {
  const out = lines('vrrp:\n  instances:\n    - name: VI_1\n     interface: eth0\n');
  assert.equal(out.length >= 1, true);
  assert.match(out[0]!, /^\/etc\/tandem\/tandem\.yaml:4:\d+ error TND_CFG_SYNTAX/);
});

test('a typo in a key is an error that names the key', () => {
  const out = lines('vrrp:\n  instances:\n    - name: VI_1\n      interface: eth0\n      vrid: 1\n      priorty: 5\n');
  assert.deepEqual(out, [
    '/etc/tandem/tandem.yaml:6:7 error TND_CFG_UNKNOWN_KEY vrrp.instances[0].priorty: unknown key "priorty"',
  ]);
});

test('a bad duration and a bad address are reported at the value', () => {
  const out = lines(
    'vrrp:\n  instances:\n    - name: VI_1\n      interface: eth0\n      vrid: 1\n      advert_interval: 1x\n      vips: [198.18.0.300/24]\n',
  );
  assert.equal(out.length, 2);
  assert.match(out[0]!, /:6:24 error TND_CFG_NUMBER vrrp\.instances\[0\]\.advert_interval: advert_interval must be/);
  assert.match(out[1]!, /:7:14 error TND_CFG_ADDRESS vrrp\.instances\[0\]\.vips\[0\]: not an address/);
});

test('VRRPv2 refuses a sub-second interval; v3 takes 10 ms steps only', () => {
  const base =
    'vrrp:\n  instances:\n    - name: VI_1\n      interface: eth0\n      vrid: 1\n      vips: [198.18.0.1]\n';
  assert.match(
    lines(`${base}      version: 2\n      advert_interval: 500ms\n`)[0]!,
    /TND_CFG_INTERVAL .*whole seconds/,
  );
  assert.match(lines(`${base}      version: 3\n      advert_interval: 15ms\n`)[0]!, /TND_CFG_INTERVAL .*centiseconds/);
  assert.deepEqual(lines(`${base}      version: 3\n      advert_interval: 20ms\n`), []);
});

test('one VRID may be reused on an interface by unicast instances with disjoint peers, and across families', () => {
  const inst = (name: string, vip: string, peers?: string) =>
    `    - name: ${name}\n      interface: eth0\n      vrid: 7\n      vips: ["${vip}"]\n${peers ? `      unicast: { peers: [${peers}] }\n` : ''}`;
  assert.deepEqual(
    lines(`vrrp:\n  instances:\n${inst('A', '198.18.0.1', '198.18.0.11')}${inst('B', '198.18.0.2', '198.18.0.12')}`),
    [],
  );
  assert.deepEqual(lines(`vrrp:\n  instances:\n${inst('A', '198.18.0.1')}${inst('B', '2001:db8::1')}`), []);
  assert.equal(
    lines(`vrrp:\n  instances:\n${inst('A', '198.18.0.1', '198.18.0.11')}${inst('B', '198.18.0.2', '198.18.0.11')}`)
      .length,
    1,
  );
});

test('references: track scripts, sync group members and per-node priorities must name things that exist', () => {
  const out = lines(
    [
      'cluster: { nodes: [{ name: d1 }] }',
      'vrrp:',
      '  instances:',
      '    - name: VI_1',
      '      interface: eth0',
      '      vrid: 1',
      '      priority: { d1: 100, d9: 50 }',
      '      vips: [198.18.0.1]',
      '      track: { scripts: [{ name: chk_missing }] }',
      '  sync_groups:',
      '    - name: G',
      '      members: [VI_1, VI_9]',
      '',
    ].join('\n'),
  );
  assert.deepEqual(
    out.map((l) => l.replace(/^\S+ /, '')),
    [
      'error TND_CFG_UNKNOWN_REF vrrp.instances[0].priority.d9: no node named d9 in cluster.nodes',
      'error TND_CFG_UNKNOWN_REF vrrp.instances[0].track.scripts[0].name: no vrrp script named chk_missing',
      'error TND_CFG_UNKNOWN_REF vrrp.sync_groups[0].members[1]: no VRRP instance named VI_9',
    ],
  );
});

test('an unreadable file is one TND_CFG_IO error, not a crash', () => {
  const r = loadConfig('/nope.yaml', memFs({}));
  assert.deepEqual(
    r.diagnostics.map((d) => d.code),
    ['TND_CFG_IO'],
  );
});

// ---- load balancer (lb.services)

/**
 * A config with two instances holding 198.18.0.100 and 2001:db8::100, and the given `lb.services` items: the first
 * service item starts at line 7. `groups` (YAML text) is appended after them.
 */
const lbConfig = (services: string, groups = '') =>
  [
    'vrrp:',
    '  instances:',
    '    - { name: VI_1, interface: eth0, vrid: 1, vips: [198.18.0.100/24] }',
    '    - { name: VI_6, interface: eth0, vrid: 2, version: 3, vips: ["2001:db8::100/64"] }',
    'lb:',
    '  services:',
    services,
    groups,
  ].join('\n');
/** One service item; `body` lines are indented under it. */
const svc = (name: string, ...body: string[]) => [`    - name: ${name}`, ...body.map((l) => `      ${l}`)].join('\n');
/** Diagnostics as `line code path` rows (the file name left out). */
const lbRows = (text: string) => loadText(text).diagnostics.map((d) => `${d.severity} ${d.line} ${d.code} ${d.path}`);

/** A service on 198.18.0.100 (lines 7 name, 8 vip, 9 port, 10 scheduler, then `more` from line 11). */
const web = (name = 'web', port = 80, ...more: string[]) =>
  svc(name, 'vip: 198.18.0.100', `port: ${port}`, 'scheduler: wrr', ...more);

test('lb: a valid service has no diagnostics and gets the schema defaults', () => {
  const r = loadText(lbConfig(web('web', 80, 'real_servers: [{ address: 198.18.1.11 }]')));
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.config?.lb.services[0]?.dataplane, 'nft');
});

test('lb: two services with one name, or one vip, port and protocol, are TND_CFG_DUPLICATE at the second', () => {
  assert.deepEqual(lbRows(lbConfig([web('web', 80), web('web', 8080)].join('\n'))), [
    'error 11 TND_CFG_DUPLICATE lb.services[1].name',
  ]);
  assert.deepEqual(lbRows(lbConfig([web('a', 80), web('b', 80)].join('\n'))), [
    'error 12 TND_CFG_DUPLICATE lb.services[1].vip',
  ]);
  assert.match(
    loadText(lbConfig([web('a', 80), web('b', 80)].join('\n'))).diagnostics[0]!.message,
    /^198\.18\.0\.100:80\/tcp is already served by service a$/,
  );
  // TCP and UDP on one port are two services (DNS); IPv6 addresses compare in canonical form.
  assert.deepEqual(lbRows(lbConfig([web('a', 53), web('b', 53, 'protocol: udp')].join('\n'))), []);
  const v6 = [
    svc('a', 'vip: "2001:db8::100"', 'port: 80', 'scheduler: wrr'),
    svc('b', 'vip: "2001:DB8:0::100"', 'port: 80', 'scheduler: wrr'),
  ].join('\n');
  assert.deepEqual(lbRows(lbConfig(v6)), ['error 12 TND_CFG_DUPLICATE lb.services[1].vip']);
});

test('lb: a real server listed twice in one service is TND_CFG_DUPLICATE; its port defaults to the service port', () => {
  const servers = [
    '  - { address: 198.18.1.11 }',
    '  - { address: 198.18.1.11, port: 80 }',
    '  - { address: 198.18.1.11, port: 81 }',
  ];
  assert.deepEqual(lbRows(lbConfig(web('web', 80, 'real_servers:', ...servers))), [
    'error 13 TND_CFG_DUPLICATE lb.services[0].real_servers[1].address',
  ]);
});

test('lb: with nft, real and sorry servers must be of the vip family; the proxy may bridge families', () => {
  const mixed = (dataplane: string) =>
    lbRows(
      lbConfig(
        web(
          'web',
          80,
          `dataplane: ${dataplane}`,
          'sorry_server: "[2001:db8::99]:80"',
          'real_servers:',
          '  - { address: "2001:db8::11" }',
        ),
      ),
    );
  assert.deepEqual(mixed('nft'), [
    'error 12 TND_CFG_MIXED_FAMILY lb.services[0].sorry_server',
    'error 14 TND_CFG_MIXED_FAMILY lb.services[0].real_servers[0].address',
  ]);
  assert.deepEqual(mixed('proxy'), []);
});

test('lb: port 0 (every port) needs persistence, and its real servers cannot name a port', () => {
  assert.deepEqual(lbRows(lbConfig(web('all', 0))), ['error 9 TND_CFG_LB_PORT lb.services[0].port']);
  assert.deepEqual(
    lbRows(lbConfig(web('all', 0, 'persistence: {}', 'real_servers: [{ address: 198.18.1.11, port: 80 }]'))),
    ['error 12 TND_CFG_LB_PORT lb.services[0].real_servers[0].port'],
  );
});

test('lb: a tcp or http check needs a port to connect to: the check port, the real server port or the service port', () => {
  const all = (...server: string[]) => lbRows(lbConfig(web('all', 0, 'persistence: {}', 'real_servers:', ...server)));
  assert.deepEqual(all('  - address: 198.18.1.11', '    check: { type: http }'), [
    'error 14 TND_CFG_LB_CHECK_TARGET lb.services[0].real_servers[0].check',
  ]);
  assert.deepEqual(all('  - address: 198.18.1.11', '    check: { type: tcp, port: 22 }'), []);
  assert.deepEqual(all('  - address: 198.18.1.11', '    check: { type: script, command: /bin/true }'), []);
  // A service-wide check is reported once, at the service's check.
  const shared = lbRows(
    lbConfig(
      web(
        'all',
        0,
        'persistence: {}',
        'check: { type: tcp }',
        'real_servers: [{ address: 198.18.1.11 }, { address: 198.18.1.12 }]',
      ),
    ),
  );
  assert.deepEqual(shared, ['error 12 TND_CFG_LB_CHECK_TARGET lb.services[0].check']);
  assert.match(
    loadText(
      lbConfig(web('all', 0, 'persistence: {}', 'check: { type: tcp }', 'real_servers: [{ address: 198.18.1.11 }]')),
    ).diagnostics[0]!.message,
    /set the check port \(keepalived connect_port\)/,
  );
});

test('lb: owner must name a VRRP instance or sync group; a vip no instance holds, without owner, runs on every node', () => {
  assert.deepEqual(lbRows(lbConfig(web('web', 80, 'owner: VI_1'))), []);
  assert.deepEqual(lbRows(lbConfig(web('web', 80, 'owner: VI_9'))), [
    'error 11 TND_CFG_UNKNOWN_REF lb.services[0].owner',
  ]);
  const withGroup = lbConfig(web('web', 80, 'owner: G')).replace(
    'lb:\n',
    '  sync_groups: [{ name: G, members: [VI_1, VI_6] }]\nlb:\n',
  );
  assert.deepEqual(lbRows(withGroup), []);
  const elsewhere = svc('web', 'vip: 198.18.9.9', 'port: 80', 'scheduler: wrr');
  assert.deepEqual(lbRows(lbConfig(elsewhere)), ['warning 8 TND_CFG_LB_NO_OWNER lb.services[0].vip']);
  assert.deepEqual(lbRows(lbConfig(`${elsewhere}\n      owner: VI_1`)), []);
});

test('lb: a service that a resource group runs needs no owner; a group naming no service is TND_CFG_UNKNOWN_REF', () => {
  const elsewhere = svc('web', 'vip: 198.18.9.9', 'port: 80', 'scheduler: wrr');
  const groups = (names: string) =>
    `groups:\n  - name: g1\n    owner: VI_1\n    resources:\n      - { type: lb, services: [${names}] }\n`;
  assert.deepEqual(lbRows(lbConfig(elsewhere, groups('web'))), []);
  assert.deepEqual(lbRows(lbConfig(elsewhere, groups('web, nope'))), [
    'error 15 TND_CFG_UNKNOWN_REF groups[0].resources[0].services[1]',
  ]);
});

test('lb: the proxy data plane carries neither UDP, nor direct routing, nor port 0', () => {
  const out = lbRows(
    lbConfig(
      svc('p', 'vip: 198.18.0.100', 'port: 0', 'protocol: udp', 'method: dr', 'dataplane: proxy', 'persistence: {}'),
    ),
  );
  assert.deepEqual(out, [
    'error 9 TND_CFG_LB_DATAPLANE lb.services[0].port',
    'error 10 TND_CFG_LB_DATAPLANE lb.services[0].protocol',
    'error 11 TND_CFG_LB_DATAPLANE lb.services[0].method',
  ]);
});

test('lb: with nft, lc and wlc are a warning (steered weighted random in the kernel); direct routing is programmed, what it cannot do is a warning', () => {
  assert.deepEqual(lbRows(lbConfig(svc('w', 'vip: 198.18.0.100', 'port: 80', 'scheduler: lc'))), [
    'warning 10 TND_CFG_LB_SCHEDULER lb.services[0].scheduler',
  ]);
  // The default scheduler (wrr) is one the kernel runs as written.
  assert.deepEqual(lbRows(lbConfig(svc('w', 'vip: 198.18.0.100', 'port: 80'))), []);
  assert.match(
    loadText(lbConfig(svc('w', 'vip: 198.18.0.100', 'port: 80', 'scheduler: wlc'))).diagnostics[0]!.message,
    /nft approximates least connections: new connections go by weighted random over slot weights that tandem steers/,
  );
  // Direct routing is programmed (netdev ingress); what it cannot do as written is a warning.
  assert.deepEqual(lbRows(lbConfig(web('w', 80, 'method: dr'))), []);
  assert.deepEqual(
    lbRows(lbConfig(web('w', 80, 'method: dr', 'snat: true', 'real_servers: [{ address: 198.18.1.11, port: 8080 }]'))),
    [
      'warning 12 TND_CFG_LB_DATAPLANE lb.services[0].snat',
      'warning 13 TND_CFG_LB_DATAPLANE lb.services[0].real_servers[0].port',
    ],
  );
  assert.deepEqual(lbRows(lbConfig(web('w', 80, 'method: dr').replace('scheduler: wrr', 'scheduler: wlc'))), [
    'warning 10 TND_CFG_LB_SCHEDULER lb.services[0].scheduler',
  ]);
  const elsewhere = svc('w', 'vip: 198.18.9.9', 'port: 80', 'method: dr');
  assert.deepEqual(lbRows(lbConfig(elsewhere)), [
    'warning 8 TND_CFG_LB_NO_OWNER lb.services[0].vip',
    'warning 10 TND_CFG_LB_DATAPLANE lb.services[0].method',
  ]);
  assert.deepEqual(
    lbRows(lbConfig(`${elsewhere}\n      interface: eth1`)).filter((r) => r.includes('DATAPLANE')),
    [],
  );
  assert.deepEqual(
    lbRows(lbConfig(svc('w', 'vip: 198.18.0.100', 'port: 80', 'scheduler: lc', 'dataplane: proxy'))),
    [],
  );
});

test('lb: a persistence netmask beyond 32 for an IPv4 vip is TND_CFG_RANGE; IPv6 takes up to 128', () => {
  assert.deepEqual(lbRows(lbConfig(web('w', 80, 'persistence: { netmask: 64 }'))), [
    'error 11 TND_CFG_RANGE lb.services[0].persistence.netmask',
  ]);
  assert.deepEqual(
    lbRows(lbConfig(svc('w', 'vip: "2001:db8::100"', 'port: 80', 'scheduler: wrr', 'persistence: { netmask: 64 }'))),
    [],
  );
});

test('lb: a quorum above the total weight, or a hysteresis not below the quorum, is a warning', () => {
  const servers = 'real_servers: [{ address: 198.18.1.11, weight: 2 }, { address: 198.18.1.12 }]';
  assert.deepEqual(lbRows(lbConfig(web('w', 80, 'quorum: { min: 4 }', servers))), [
    'warning 11 TND_CFG_LB_QUORUM lb.services[0].quorum.min',
  ]);
  assert.deepEqual(lbRows(lbConfig(web('w', 80, 'quorum: { min: 3 }', servers))), []);
  assert.deepEqual(lbRows(lbConfig(web('w', 80, 'quorum: { min: 2, hysteresis: 2 }', servers))), [
    'warning 11 TND_CFG_LB_QUORUM lb.services[0].quorum.hysteresis',
  ]);
});

test('lb: a body regex must be a valid JavaScript regular expression', () => {
  assert.deepEqual(lbRows(lbConfig(web('w', 80, 'check: { type: http, body_regex: "(?<x" }'))), [
    'error 11 TND_CFG_TYPE lb.services[0].check.body_regex',
  ]);
});

test('lb: every mistake inside one check is reported, not only one (a check is a union with false)', () => {
  const check = 'check: { type: http, port: 0, path: health, digest: xyz, status: [999] }';
  assert.deepEqual(lbRows(lbConfig(web('w', 80, 'real_servers:', '  - address: 198.18.1.11', `    ${check}`))), [
    'error 13 TND_CFG_RANGE lb.services[0].real_servers[0].check.port',
    'error 13 TND_CFG_TYPE lb.services[0].real_servers[0].check.path',
    'error 13 TND_CFG_TYPE lb.services[0].real_servers[0].check.digest',
    'error 13 TND_CFG_RANGE lb.services[0].real_servers[0].check.status[0]',
  ]);
  // A script check without its command says so, rather than "must be false".
  const out = loadText(lbConfig(web('w', 80, 'real_servers: [{ address: 198.18.1.11, check: { type: script } }]')));
  assert.deepEqual(
    out.diagnostics.map((d) => [d.code, d.path, d.message]),
    [['TND_CFG_REQUIRED', 'lb.services[0].real_servers[0].check.command', 'is required (string)']],
  );
});

test('lb: a real server the schema rejects hides no rule about the other servers of its service', () => {
  const servers = [
    '  - { address: 198.18.1.300 }',
    '  - { address: "2001:db8::11" }',
    '  - { address: 198.18.1.12, port: 8080 }',
  ];
  assert.deepEqual(lbRows(lbConfig(web('all', 0, 'persistence: {}', 'real_servers:', ...servers))), [
    'error 13 TND_CFG_ADDRESS lb.services[0].real_servers[0].address',
    'error 14 TND_CFG_MIXED_FAMILY lb.services[0].real_servers[1].address',
    'error 15 TND_CFG_LB_PORT lb.services[0].real_servers[2].port',
  ]);
});

test('lb: semantic errors are reported next to schema errors, in one run', () => {
  const path = fixture('lb-4-mistakes.yaml');
  const r = loadConfig(path, memFs({ [path]: readFileSync(path, 'utf8') }));
  assert.deepEqual(
    r.diagnostics.map((d) => `${d.line} ${d.code} ${d.path}`),
    [
      '15 TND_CFG_RANGE lb.services[0].port',
      '23 TND_CFG_ENUM lb.services[1].scheduler',
      '26 TND_CFG_RANGE lb.services[1].real_servers[0].weight',
      '36 TND_CFG_LB_CHECK_TARGET lb.services[2].real_servers[0].check',
    ],
  );
});

test('lb: the same checks speak of keepalived.conf lines and names when the file is keepalived.conf', () => {
  const file = '/etc/keepalived/keepalived.conf';
  const text = [
    'virtual_server 198.18.9.9 80 {',
    '    protocol TCP',
    '    lb_algo rr',
    '    lb_kind DR',
    '    real_server 198.18.1.11 80 {',
    '    }',
    '    real_server 198.18.1.11 80 {',
    '    }',
    '}',
    '',
  ].join('\n');
  const r = loadConfig(file, memFs({ [file]: text }));
  assert.deepEqual(
    r.diagnostics.map((d) => `${d.severity} ${d.line}:${d.col} ${d.code} ${d.path}`),
    [
      'warning 1:16 TND_CFG_LB_NO_OWNER virtual_server 198.18.9.9 80',
      'warning 4:13 TND_CFG_LB_DATAPLANE virtual_server 198.18.9.9 80: lb_kind',
      'error 7:17 TND_CFG_DUPLICATE virtual_server 198.18.9.9 80: real_server 198.18.1.11 80',
    ],
  );
});

test('lb: a fwmark service cannot be direct-routed (netdev ingress sees no marks): an error at its fwmark', () => {
  const rows = lbRows(
    lbConfig(
      svc(
        'marked',
        'fwmark: 7',
        'method: dr',
        'owner: VI_1',
        'snat: false',
        'real_servers: [{ address: 198.18.1.11 }]',
      ),
    ),
  );
  assert.ok(rows.includes('error 8 TND_CFG_LB_DATAPLANE lb.services[0].fwmark'), rows.join('\n'));
});
