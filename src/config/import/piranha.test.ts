import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Diagnostic } from '../diagnostics.ts';
import { loadConfig } from '../load.ts';
import { memoryFs } from './memory-fs.ts';
import { isPiranhaFile, readPiranha } from './piranha.ts';
import { netmaskPrefix, parseLvs, unescapeNanny } from './piranha-lexer.ts';

const LVS = '/etc/sysconfig/ha/lvs.cf';
const GLOBAL = [
  'serial_no = 14',
  'primary = 198.18.0.1',
  'service = lvs',
  'backup_active = 1',
  'backup = 198.18.0.2',
  'heartbeat = 1',
  'keepalive = 6',
  'deadtime = 18',
  'network = nat',
  'nat_router = 198.19.0.254 eth1:1',
  'nat_nmask = 255.255.255.0',
].join('\n');

/** A virtual block with the given lines, and one server. */
const virtual = (lines: string, name = 'http') =>
  `virtual ${name} {\n     address = 198.18.0.100 eth0:1\n${lines}\n     server web1 {\n         address = 198.19.0.11\n     }\n}\n`;
const read = (text: string) => readPiranha(LVS, memoryFs({ [LVS]: text }));
const rows = (ds: readonly Diagnostic[]) => ds.map((d) => [d.severity, d.code, d.line] as const);
const errors = (ds: readonly Diagnostic[]) => rows(ds.filter((d) => d.severity === 'error'));
type Raw = {
  cluster: { nodes: Record<string, unknown>[] };
  vrrp: { instances: Record<string, unknown>[] };
  lb: { services: Record<string, unknown>[] };
  groups: Record<string, unknown>[];
};
const raw = (r: ReturnType<typeof read>) => r.raw as Raw;
const svc = (r: ReturnType<typeof read>, i = 0) => raw(r).lb.services[i]!;
/** The check a virtual's probe settings become. */
const checkOf = (lines: string) => {
  const r = read(`${GLOBAL}\n${virtual(lines)}`);
  return { check: svc(r).check, diagnostics: r.diagnostics, notes: r.notes };
};

test('a GUI-written NAT lvs.cf becomes two nodes, one unicast VRRP instance and one virtual service with its check', () => {
  const r = read(
    `${GLOBAL}\n${virtual(
      [
        '     vip_nmask = 255.255.255.0',
        '     port = 80',
        '     send = "GET / HTTP/1.0\\r\\n\\r\\n"',
        '     expect = "HTTP"',
        '     use_regex = 0',
        '     load_monitor = none',
        '     scheduler = wlc',
        '     protocol = tcp',
        '     timeout = 6',
        '     reentry = 15',
        '     quiesce_server = 0',
      ].join('\n'),
    )}`,
  );
  assert.deepEqual(errors(r.diagnostics), []);
  assert.deepEqual(r.raw, {
    cluster: {
      nodes: [
        { name: 'primary', address: '198.18.0.1' },
        { name: 'backup', address: '198.18.0.2' },
      ],
    },
    vrrp: {
      instances: [
        {
          name: 'VI_1',
          vrid: 1,
          version: 3,
          interface: 'eth0',
          priority: { primary: 150, backup: 100 },
          advert_interval: 6000,
          down_timer_adverts: 3,
          preempt: true,
          vips: [
            { address: '198.18.0.100/24', dev: 'eth0', label: 'eth0:1' },
            { address: '198.19.0.254/24', dev: 'eth1', label: 'eth1:1' },
          ],
          unicast: {
            source: { primary: '198.18.0.1', backup: '198.18.0.2' },
            peers: ['198.18.0.1', '198.18.0.2'],
          },
        },
      ],
    },
    lb: {
      services: [
        {
          name: 'http',
          vip: '198.18.0.100',
          port: 80,
          protocol: 'tcp',
          scheduler: 'wlc',
          method: 'nat',
          owner: 'VI_1',
          check: { type: 'http', path: '/', timeout: 5000, status: ['100-599'], interval: 2000, fall: 3, rise: 8 },
          real_servers: [{ address: '198.19.0.11', weight: 1 }],
        },
      ],
    },
    groups: [],
  });
  assert.deepEqual(
    r.notes.map((n) => [n.line, n.path]),
    [
      [1, 'lvs.cf: serial_no'],
      [17, 'virtual http: expect'],
    ],
  );
});

test('the locator points services, servers and instance settings at their lvs.cf lines', () => {
  const r = read(`${GLOBAL}\n${virtual('     scheduler = rr\n     timeout = 4')}`);
  const at = (...path: (string | number)[]) => {
    const { pos, label } = r.locator.locate(path);
    return `${pos.line}:${pos.col} ${label}`;
  };
  assert.equal(at('lb', 'services', 0), '12:1 virtual http');
  assert.equal(at('lb', 'services', 0, 'scheduler'), '14:18 virtual http: scheduler');
  assert.equal(at('lb', 'services', 0, 'check', 'fall'), '15:16 virtual http: timeout');
  assert.equal(at('lb', 'services', 0, 'real_servers', 0, 'address'), '17:20 server web1: address');
  assert.equal(at('lb', 'services', 0, 'method'), '9:11 lvs.cf: network');
  assert.equal(at('vrrp', 'instances', 0, 'advert_interval'), '7:13 lvs.cf: keepalive');
  assert.equal(at('vrrp', 'instances', 0, 'vips', 1), '10:14 lvs.cf: nat_router');
  assert.equal(at('cluster', 'nodes', 1, 'address'), '5:10 lvs.cf: backup');
});

test('network nat and direct are methods nat and dr (direct when absent); tunnel is refused', () => {
  const net = (line: string) => read(`primary = 198.18.0.1\nbackup = 198.18.0.2\n${line}\n${virtual('')}`);
  assert.equal(svc(net('network = nat')).method, 'nat');
  assert.equal(svc(net('network = direct')).method, 'dr');
  assert.equal(svc(net('')).method, 'dr', 'Piranha writes a missing network as direct');
  const tunnel = net('network = tunnel');
  assert.deepEqual(errors(tunnel.diagnostics), [['error', 'TND_CFG_REJECTED', 3]]);
  assert.match(
    tunnel.diagnostics[0]!.message,
    /tunnel \(IP-in-IP\) forwarding cannot be built on nftables \(it has no encapsulation statement.*use direct/,
  );
  assert.equal(svc(tunnel).method, undefined);
  assert.deepEqual(errors(net('network = gre').diagnostics), [['error', 'TND_CFG_ENUM', 3]]);
});

test('schedulers rr, wrr, lc, wlc and sh carry over; lblc, lblcr and dh are refused naming the supported set', () => {
  for (const s of ['rr', 'wrr', 'lc', 'wlc', 'sh'])
    assert.equal(svc(read(`${GLOBAL}\n${virtual(`     scheduler = ${s}`)}`)).scheduler, s);
  assert.equal(svc(read(`${GLOBAL}\n${virtual('')}`)).scheduler, 'wlc', "Piranha's default");
  for (const s of ['lblc', 'lblcr', 'dh']) {
    const r = read(`${GLOBAL}\n${virtual(`     scheduler = ${s}`)}`);
    assert.deepEqual(errors(r.diagnostics), [['error', 'TND_CFG_REJECTED', 14]], s);
    assert.match(r.diagnostics[0]!.message, /the schedulers are rr, wrr, lc, wlc and sh/);
  }
  assert.deepEqual(errors(read(`${GLOBAL}\n${virtual('     scheduler = fastest')}`).diagnostics), [
    ['error', 'TND_CFG_ENUM', 14],
  ]);
});

test('persistent and pmask become persistence; ports may be service names; sorry_server keeps the port', () => {
  const r = read(
    `${GLOBAL}\n${virtual('     port = https\n     persistent = 300\n     pmask = 255.255.255.0\n     sorry_server = 198.19.0.99\n     protocol = udp')}`,
  );
  assert.equal(svc(r).port, 443);
  assert.deepEqual(svc(r).persistence, { timeout: 300_000, netmask: 24 });
  assert.equal(svc(r).sorry_server, '198.19.0.99:443');
  assert.equal(svc(r).protocol, 'udp');
  const none = read(`${GLOBAL}\n${virtual('     persistent = 0\n     pmask = 255.255.255.0')}`);
  assert.equal(svc(none).persistence, undefined);
  assert.ok(none.notes.some((n) => /pmask applies only with persistent > 0/.test(n.message)));
  assert.deepEqual(errors(read(`${GLOBAL}\n${virtual('     port = gopherish')}`).diagnostics), [
    ['error', 'TND_CFG_NUMBER', 14],
  ]);
  assert.deepEqual(
    errors(read(`${GLOBAL}\n${virtual('     pmask = 255.0.255.0\n     persistent = 60')}`).diagnostics),
    [['error', 'TND_CFG_ADDRESS', 14]],
  );
});

test("nanny's probe: an HTTP request gives an http check whose accepted status comes from expect", () => {
  const http = (expect: string, more = '') =>
    checkOf(
      `     send = "GET /health HTTP/1.1\\r\\nHost: www.example.com\\r\\n\\r\\n"\n     expect = "${expect}"${more}`,
    );
  const ok = http('HTTP/1.1 200 OK');
  assert.deepEqual(ok.check, {
    type: 'http',
    path: '/health',
    timeout: 5000,
    host: 'www.example.com',
    status: [200],
    interval: 2000,
    fall: 5,
    rise: 90,
  });
  assert.equal(ok.diagnostics.filter((d) => d.code === 'TND_CFG_NOT_CARRIED').length, 0);
  assert.deepEqual((http('HTTP').check as { status: unknown }).status, ['100-599'], 'a prefix of any status line');
  assert.deepEqual((http('*').check as { status: unknown }).status, ['100-599'], "nanny's wildcard");
  assert.deepEqual((http('HTTP/1.0 302').check as { status: unknown }).status, [302]);
  // A literal that is no status line: nanny compared it with the first bytes; tandem looks in the body, and says so.
  const body = http('<html>');
  assert.equal((body.check as { body_regex: string }).body_regex, '<html>');
  assert.match(body.diagnostics.find((d) => d.code === 'TND_CFG_NOT_CARRIED')!.message, /first 6 bytes/);
  // use_regex: a regex for the status line gives a status; any other is a body regex.
  assert.deepEqual((http('^HTTP/1\\\\.[01] 200', '\n     use_regex = 1').check as { status: unknown }).status, [200]);
  assert.deepEqual((http('^HTTP/1\\\\.[01] [0-9]+', '\n     use_regex = 1').check as { status: unknown }).status, [
    '100-599',
  ]);
  const re = http('Welcome|Hello', '\n     use_regex = 1');
  assert.equal((re.check as { body_regex: string }).body_regex, 'Welcome|Hello');
  assert.equal(re.diagnostics.filter((d) => d.code === 'TND_CFG_NOT_CARRIED').length, 1);
  assert.deepEqual(errors(http('(unclosed', '\n     use_regex = 1').diagnostics), [['error', 'TND_CFG_SYNTAX', 15]]);
});

test('other probes: no expect, raw TCP send/expect and send_program give a TCP check with a warning; UDP a udp check', () => {
  const bare = checkOf('     send = "GET / HTTP/1.0\\r\\n\\r\\n"');
  assert.equal((bare.check as { type: string }).type, 'tcp');
  assert.ok(bare.notes.some((n) => /send without expect/.test(n.message)));
  const ftp = checkOf('     send = "\\n"\n     expect = "220"\n     timeout = 1\n     reentry = 0');
  assert.deepEqual(ftp.check, { type: 'tcp', connect_timeout: 1000, interval: 1000, fall: 1, rise: 1 });
  assert.deepEqual(rows(ftp.diagnostics), [['warning', 'TND_CFG_NOT_CARRIED', 14]]);
  assert.match(ftp.diagnostics[0]!.message, /send\/expect on a raw TCP stream is not supported/);
  const prog = checkOf('     send_program = "/usr/local/bin/check_https %h"\n     expect = "OK"');
  assert.equal((prog.check as { type: string }).type, 'tcp');
  assert.deepEqual(rows(prog.diagnostics), [['warning', 'TND_CFG_NOT_CARRIED', 14]]);
  const none = checkOf('');
  assert.deepEqual(none.check, { type: 'tcp', connect_timeout: 5000, interval: 2000, fall: 5, rise: 90 });
  // nanny's UDP probe is a udp check: the datagram `send`, and with `expect` a reply starting with it.
  const udp = checkOf('     protocol = udp\n     send = "x"');
  assert.deepEqual(udp.check, { type: 'udp', timeout: 5000, payload: '78', interval: 2000, fall: 5, rise: 90 });
  assert.deepEqual(rows(udp.diagnostics), []);
  const udpReply = checkOf('     protocol = udp\n     send = "ping\\n"\n     expect = "pong"');
  assert.deepEqual(
    [(udpReply.check as Record<string, unknown>).payload, (udpReply.check as Record<string, unknown>).reply],
    ['70 69 6e 67 0a', '70 6f 6e 67'],
  );
  const head = checkOf('     send = "HEAD http://www.example.com/ping HTTP/1.0\\r\\n\\r\\n"\n     expect = "HTTP"');
  assert.equal((head.check as { path: string }).path, '/ping');
  assert.ok(head.notes.some((n) => /HEAD is sent as GET/.test(n.message)));
});

test('inactive servers keep weight 0 with a warning; an inactive virtual is left out with a warning', () => {
  const r = read(
    `${GLOBAL}\nvirtual a {\n     address = 198.18.0.100 eth0:1\n     server s1 {\n         address = 198.19.0.11\n         weight = 3\n         port = 8080\n     }\n     server s2 {\n         address = 198.19.0.12\n         active = 0\n     }\n}\nvirtual b {\n     active = 0\n     address = 198.18.0.101 eth0:2\n}\n`,
  );
  assert.equal(raw(r).lb.services.length, 1);
  assert.deepEqual(svc(r).real_servers, [
    { address: '198.19.0.11', weight: 3, port: 8080 },
    { address: '198.19.0.12', weight: 0 },
  ]);
  assert.deepEqual(rows(r.diagnostics), [
    ['warning', 'TND_CFG_NOT_CARRIED', 21],
    ['warning', 'TND_CFG_NOT_CARRIED', 25],
  ]);
  assert.equal((raw(r).vrrp.instances[0]!.vips as unknown[]).length, 2, 'the inactive virtual adds no address');
});

test('the routers: without a backup, or with backup_active = 0, the instance runs on the primary alone', () => {
  const solo = read(`primary = 198.18.0.1\nbackup = 198.18.0.2\nbackup_active = 0\nnetwork = nat\n${virtual('')}`);
  assert.deepEqual(raw(solo).cluster.nodes, [{ name: 'primary', address: '198.18.0.1' }]);
  assert.equal(raw(solo).vrrp.instances[0]!.unicast, undefined);
  assert.equal(raw(solo).vrrp.instances[0]!.priority, 150);
  assert.deepEqual(rows(solo.diagnostics.filter((d) => d.line === 3)), [['warning', 'TND_CFG_NOT_CARRIED', 3]]);
  const noPrimary = read(`backup = 198.18.0.2\nheartbeat = 0\n${virtual('')}`);
  assert.deepEqual(rows(noPrimary.diagnostics.filter((d) => d.code !== 'TND_CFG_UNSUPPORTED')), [
    ['error', 'TND_CFG_REQUIRED', 1],
    ['warning', 'TND_CFG_NOT_CARRIED', 2],
  ]);
  const noDevice = read('primary = 198.18.0.1\nbackup = 198.18.0.2\n');
  assert.deepEqual(errors(noDevice.diagnostics), [['error', 'TND_CFG_REQUIRED', 1]]);
  assert.match(noDevice.diagnostics.find((d) => d.severity === 'error')!.message, /no interface/);
});

test('active_cmd and inactive_cmd become notify scripts; keepalive and deadtime default to 2 and 5 s', () => {
  const r = read(
    `primary = 198.18.0.1\nbackup = 198.18.0.2\nactive_cmd = /etc/sysconfig/ha/active.sh\ninactive_cmd = /etc/sysconfig/ha/inactive.sh\nnetwork = nat\nnat_router = 198.19.0.254 eth1:1\n`,
  );
  const inst = raw(r).vrrp.instances[0]!;
  assert.deepEqual(inst.notify, { master: '/etc/sysconfig/ha/active.sh', backup: '/etc/sysconfig/ha/inactive.sh' });
  assert.equal(inst.advert_interval, 2000);
  assert.equal(inst.down_timer_adverts, 3);
  assert.equal(inst.interface, 'eth1');
  assert.deepEqual(
    errors(read('primary = 198.18.0.1\nkeepalive = 0\n').diagnostics).filter((d) => d[1] === 'TND_CFG_RANGE'),
    [['error', 'TND_CFG_RANGE', 2]],
  );
});

test('service = fos: each active failover block is a resource group with a script; virtual blocks are not used', () => {
  const r = read(
    [
      'service = fos',
      'primary = 198.18.0.1',
      'backup = 198.18.0.2',
      'failover web1 {',
      '     address = 198.18.0.242 eth0:1',
      '     start_cmd = "/etc/rc.d/init.d/httpd start"',
      '     stop_cmd = "/etc/rc.d/init.d/httpd stop"',
      '     timeout = 10',
      '}',
      'failover db {',
      '     address = 198.18.0.243 eth0:2',
      '     start_cmd = "/etc/rc.d/init.d/mysqld start"',
      '}',
      virtual(''),
    ].join('\n'),
  );
  assert.deepEqual(raw(r).groups, [
    {
      name: 'web1',
      owner: 'VI_1',
      resources: [{ type: 'script', start: '/etc/rc.d/init.d/httpd start', stop: '/etc/rc.d/init.d/httpd stop' }],
    },
  ]);
  assert.deepEqual(errors(r.diagnostics), [['error', 'TND_CFG_REQUIRED', 10]]);
  assert.equal(raw(r).lb.services.length, 0);
  assert.ok(r.notes.some((n) => n.line === 14 && /service = fos runs the failover blocks only/.test(n.message)));
});

test('keys: unknown ones are errors with a suggestion, a repeated one a warning (the last wins), fwmark is read', () => {
  const r = read(`${GLOBAL}\nkeepalive = 3\nprimry = 198.18.0.1\n${virtual('     fwmark = 7\n     schedular = rr')}`);
  assert.deepEqual(rows(r.diagnostics), [
    ['warning', 'TND_CFG_DUPLICATE', 12],
    ['error', 'TND_CFG_UNKNOWN_KEY', 13],
    ['error', 'TND_CFG_UNKNOWN_KEY', 17],
  ]);
  const svc = raw(r).lb.services[0] as unknown as Record<string, unknown>;
  assert.deepEqual([svc.fwmark, svc.port], [7, undefined]);
  assert.match(r.diagnostics[1]!.message, /primry is not an lvs.cf key at the top level; did you mean primary\?/);
  assert.match(r.diagnostics[2]!.message, /in a virtual block; did you mean scheduler\?/);
  assert.equal(raw(r).vrrp.instances[0]!.advert_interval, 3000);
  const dup = read(`${GLOBAL}\n${virtual('')}${virtual('', 'http')}`);
  assert.deepEqual(errors(dup.diagnostics), [['error', 'TND_CFG_DUPLICATE', 19]]);
});

test('structure: quotes, braces and blocks are checked as lvsconfig.c does, and every problem is reported', () => {
  const r = read(
    [
      'primary = 198.18.0.1',
      'backup 198.18.0.2',
      'virtual web',
      '     port = 80',
      'server s1 {',
      '}',
      'virtual web {',
      '     address = 198.18.0.100 eth0:1',
      '     send = "GET / HTTP/1.0',
      '     port = 80 # http',
      '}',
      '}',
      'failover f {',
    ].join('\n'),
  );
  assert.deepEqual(errors(r.diagnostics), [
    ['error', 'TND_CFG_SYNTAX', 2],
    ['error', 'TND_CFG_SYNTAX', 3],
    // the block was not opened, so its port is read at the top level
    ['error', 'TND_CFG_UNKNOWN_KEY', 4],
    ['error', 'TND_CFG_SYNTAX', 5],
    ['error', 'TND_CFG_SYNTAX', 9],
    ['error', 'TND_CFG_ARGS', 10],
    ['error', 'TND_CFG_EXTRA_BRACE', 12],
    ['error', 'TND_CFG_UNCLOSED_BLOCK', 13],
  ]);
  assert.match(r.diagnostics.find((d) => d.line === 10)!.message, /no comments after a value/);
  // key=value without blanks is read leniently.
  assert.equal(
    raw(read(`primary=198.18.0.1\nbackup =198.18.0.2\n${virtual('     port=8080')}`)).lb.services[0]!.port,
    8080,
  );
});

test('loadConfig reads lvs.cf as piranha: schema errors land on the lvs.cf line', () => {
  const fs = memoryFs({ [LVS]: `${GLOBAL}\n${virtual('     timeout = 5000')}` });
  const r = loadConfig(LVS, fs);
  assert.equal(r.format, 'piranha');
  // reentry 180 s at 2 s is 90 passes (fine); a timeout of 5000 s is 2500 failures, more than the schema's 1000.
  assert.deepEqual(errors(r.diagnostics), [['error', 'TND_CFG_RANGE', 14]]);
  assert.equal(r.diagnostics.find((d) => d.severity === 'error')!.path, 'virtual http: timeout');
  const ok = loadConfig(LVS, memoryFs({ [LVS]: `${GLOBAL}\n${virtual('')}` }));
  assert.ok(ok.config, JSON.stringify(ok.diagnostics));
  assert.equal(ok.config.lb.services[0]!.real_servers[0]!.address, '198.19.0.11');
});

test('helpers: format detection, nanny escapes, netmasks, and a file that cannot be read', () => {
  assert.equal(isPiranhaFile('/etc/sysconfig/ha/lvs.cf', ''), true);
  assert.equal(isPiranhaFile('/tmp/x.cf', 'primary = 1.2.3.4\nkeepalive = 2\n'), true);
  assert.equal(isPiranhaFile('/tmp/ha.cf', 'keepalive 2\nnode a\n'), false);
  assert.equal(unescapeNanny("GET / HTTP/1.0\\r\\n\\r\\n\\\\ \\' \\t"), "GET / HTTP/1.0\r\n\r\n\\ ' \\t");
  assert.equal(netmaskPrefix('255.255.255.0'), 24);
  assert.equal(netmaskPrefix('255.255.255.255'), 32);
  assert.equal(netmaskPrefix('0.0.0.0'), 0);
  assert.equal(netmaskPrefix('255.0.255.0'), undefined);
  assert.equal(netmaskPrefix('256.0.0.0'), undefined);
  assert.deepEqual(rows(readPiranha('/nope/lvs.cf', memoryFs({})).diagnostics), [['error', 'TND_CFG_IO', 1]]);
  const p = parseLvs('/f', 'a = \'b c\' "d"\n  # comment\nvirtual v {\n}\n');
  assert.deepEqual(
    p.top.settings[0]!.values.map((w) => `${w.text}@${w.pos.col}`),
    ['b c@5', 'd@11'],
  );
  assert.equal(p.top.blocks[0]!.name!.text, 'v');
});
