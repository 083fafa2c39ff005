import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { ConfigPath, Diagnostic } from '../diagnostics.ts';
import { loadConfig } from '../load.ts';
import { configSchema } from '../schema.ts';
import { readKeepalived } from './keepalived.ts';
import { expandAddressRange, netmaskPrefix } from './keepalived-lb.ts';
import { memoryFs } from './memory-fs.ts';

const MAIN = '/etc/keepalived/keepalived.conf';
const fixturePath = (dir: string, name: string): string =>
  new URL(`../../../test/fixtures/${dir}/${name}`, import.meta.url).pathname;

function read(text: string) {
  return readKeepalived(MAIN, memoryFs({ [MAIN]: text }));
}

type Svc = Record<string, unknown> & {
  real_servers: (Record<string, unknown> & { check?: Record<string, unknown> })[];
};
const services = (raw: unknown): Svc[] => (raw as { lb?: { services: Svc[] } }).lb?.services ?? [];
const rows = (ds: readonly Diagnostic[]) => ds.map((d) => [d.severity, d.code, d.line] as const);
const at = (r: ReturnType<typeof read>, path: ConfigPath) => {
  const { pos, label } = r.locator.locate(path);
  return [pos.line, pos.col, label] as const;
};

/** A virtual server on 198.18.0.100:80 (TCP) with the given body lines. */
const vs = (...body: string[]) =>
  ['virtual_server 198.18.0.100 80 {', '  protocol TCP', ...body.map((l) => `  ${l}`), '}', ''].join('\n');
/** One real server with the given body lines. */
const rs = (...body: string[]) => ['real_server 198.18.1.11 80 {', ...body.map((l) => `  ${l}`), '}'].join('\n');
/** The check of the first real server of the first service. */
const firstCheck = (text: string) => services(read(text).raw)[0]!.real_servers[0]!.check;

// ---- virtual_server

test('virtual_server ADDR PORT becomes a service named ADDR-PORT with its scheduler, method and protocol', () => {
  const r = read(vs('lb_algo wrr', 'lb_kind NAT', rs('weight 3')));
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual(services(r.raw), [
    {
      name: '198.18.0.100-80',
      vip: '198.18.0.100',
      port: 80,
      protocol: 'tcp',
      scheduler: 'wrr',
      method: 'nat',
      real_servers: [{ address: '198.18.1.11', port: 80, weight: 3 }],
    },
  ]);
  assert.ok(configSchema.safeParse(r.raw).success);
});

test('lvs_sched and lvs_method are the current names of lb_algo and lb_kind', () => {
  const [s] = services(read(vs('lvs_sched mh', 'lvs_method DR')).raw);
  assert.deepEqual([s?.scheduler, s?.method], ['mh', 'dr']);
});

test('a virtual server without a port is port 0 (every port); UDP services are named with -udp', () => {
  const r = read('virtual_server 198.18.0.100 {\n protocol UDP\n persistence_timeout\n}\n');
  assert.deepEqual(r.diagnostics, []);
  const [s] = services(r.raw);
  assert.deepEqual([s?.name, s?.port, s?.protocol], ['198.18.0.100-0-udp', 0, 'udp']);
});

test('no protocol: keepalived balances UDP ("no protocol set - defaulting to UDP"), so the import does too, with a warning', () => {
  const r = read('virtual_server 198.18.0.100 53 {\n lb_algo rr\n}\n');
  assert.deepEqual(rows(r.diagnostics), [['warning', 'TND_CFG_REQUIRED', 1]]);
  assert.match(r.diagnostics[0]!.message, /write protocol TCP/);
  assert.equal(services(r.raw)[0]?.protocol, 'udp');
  assert.equal(services(r.raw)[0]?.name, '198.18.0.100-53-udp');
});

test('protocol is read without case, as keepalived does; SCTP is refused', () => {
  assert.equal(services(read('virtual_server 198.18.0.100 80 {\n protocol tcp\n}\n').raw)[0]?.protocol, 'tcp');
  const r = read('virtual_server 198.18.0.100 80 {\n protocol SCTP\n}\n');
  // Refused, so the service has no protocol: the UDP default applies, with its warning.
  assert.deepEqual(
    r.diagnostics.map((d) => [d.code, d.line]),
    [
      ['TND_CFG_REQUIRED', 1],
      ['TND_CFG_REJECTED', 2],
    ],
  );
});

test('schedulers: rr wrr lc wlc sh mh are read; keepalived schedulers tandem lacks are refused naming the supported set', () => {
  for (const s of ['rr', 'wrr', 'lc', 'wlc', 'sh', 'mh'])
    assert.equal(services(read(vs(`lb_algo ${s}`)).raw)[0]?.scheduler, s);
  for (const s of ['lblc', 'lblcr', 'dh', 'sed', 'nq', 'fo', 'ovf', 'twos']) {
    const r = read(vs(`lvs_sched ${s}`));
    assert.deepEqual(rows(r.diagnostics), [['error', 'TND_CFG_REJECTED', 3]], s);
    assert.match(r.diagnostics[0]!.message, /tandem schedules rr, wrr, lc, wlc, sh, mh/);
  }
  const r = read(vs('lb_algo roundrobin'));
  assert.deepEqual(
    r.diagnostics.map((d) => [d.code, d.line, d.col, d.message]),
    [['TND_CFG_ENUM', 3, 11, 'must be one of rr, wrr, lc, wlc, sh, mh, got "roundrobin"']],
  );
});

test('lb_kind: NAT and DR are read (upper case, as keepalived); TUN is refused; anything else is TND_CFG_ENUM', () => {
  const tun = read(vs('lb_kind TUN type gue port 6080'));
  assert.deepEqual(rows(tun.diagnostics), [['error', 'TND_CFG_REJECTED', 3]]);
  assert.match(
    tun.diagnostics[0]!.message,
    /TUN \(IP-in-IP tunnelling\) cannot be built on nftables: nft has no encapsulation statement.*use DR/,
  );
  assert.deepEqual(rows(read(vs('lb_kind nat')).diagnostics), [['error', 'TND_CFG_ENUM', 3]]);
  assert.deepEqual(rows(read(vs('lb_kind NAT extra')).diagnostics), [['error', 'TND_CFG_ARGS', 3]]);
});

test('persistence_timeout: seconds become ms; no value is 360 s, as keepalived (IPVS_SVC_PERSISTENT_TIMEOUT)', () => {
  assert.deepEqual(services(read(vs('persistence_timeout 600')).raw)[0]?.persistence, { timeout: 600_000 });
  assert.deepEqual(services(read(vs('persistence_timeout')).raw)[0]?.persistence, { timeout: 360_000 });
  assert.deepEqual(rows(read(vs('persistence_timeout 0')).diagnostics), [['error', 'TND_CFG_RANGE', 3]]);
});

test('persistence_granularity: a netmask becomes a prefix length and makes the service persistent (360 s)', () => {
  const r = read(vs('persistence_granularity 255.255.255.0'));
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual(services(r.raw)[0]?.persistence, { netmask: 24, timeout: 360_000 });
  assert.deepEqual(at(r, ['lb', 'services', 0, 'persistence', 'netmask']), [
    3,
    27,
    'virtual_server 198.18.0.100 80: persistence_granularity',
  ]);
  assert.deepEqual(
    services(read(vs('persistence_timeout 60', 'persistence_granularity 255.255.0.0')).raw)[0]?.persistence,
    { timeout: 60_000, netmask: 16 },
  );
  assert.deepEqual(rows(read(vs('persistence_granularity 255.0.255.0')).diagnostics), [
    ['error', 'TND_CFG_ADDRESS', 3],
  ]);
  const v6 = read('virtual_server 2001:db8::10 80 {\n protocol TCP\n persistence_granularity 64\n}\n');
  assert.deepEqual(services(v6.raw)[0]?.persistence, { netmask: 64, timeout: 360_000 });
});

test('sorry_server ADDR [PORT]: the port defaults to the service port; a port-0 service needs one', () => {
  assert.deepEqual(services(read(vs('sorry_server 198.18.1.99 8080')).raw)[0]?.sorry_server, {
    address: '198.18.1.99',
    port: 8080,
  });
  assert.deepEqual(services(read(vs('sorry_server 198.18.1.99')).raw)[0]?.sorry_server, {
    address: '198.18.1.99',
    port: 80,
  });
  const r = read('virtual_server 198.18.0.100 {\n protocol TCP\n persistence_timeout\n sorry_server 198.18.1.99\n}\n');
  assert.deepEqual(rows(r.diagnostics), [['error', 'TND_CFG_REQUIRED', 4]]);
});

test('quorum, hysteresis, quorum_up and quorum_down fill quorum; a user for the scripts is warned', () => {
  const r = read(vs('quorum 3', 'hysteresis 1', 'quorum_up "/bin/up.sh vs1"', 'quorum_down /bin/down.sh nobody'));
  assert.deepEqual(services(r.raw)[0]?.quorum, { min: 3, hysteresis: 1, up: '/bin/up.sh vs1', down: '/bin/down.sh' });
  assert.deepEqual(rows(r.diagnostics), [['warning', 'TND_CFG_UNSUPPORTED', 6]]);
});

test('keywords tandem does not implement are warned at their line and the service still loads', () => {
  const r = read(
    vs('omega', 'ha_suspend', 'sh-port', 'persistence_engine sip', rs('notify_up /bin/up', 'uthreshold 100')),
  );
  assert.deepEqual(rows(r.diagnostics), [
    ['warning', 'TND_CFG_UNSUPPORTED', 3],
    ['warning', 'TND_CFG_UNSUPPORTED', 4],
    ['warning', 'TND_CFG_UNSUPPORTED', 5],
    ['warning', 'TND_CFG_UNSUPPORTED', 6],
    ['warning', 'TND_CFG_UNSUPPORTED', 8],
    ['warning', 'TND_CFG_UNSUPPORTED', 9],
  ]);
  assert.match(r.diagnostics[0]!.message, /^omega is not supported yet; ignored \(/);
  assert.equal(services(r.raw).length, 1);
});

test('a typo in a virtual_server or real_server is TND_CFG_UNKNOWN_KEY with a suggestion', () => {
  const r = read(vs('delay_lop 6', rs('wieght 2')));
  assert.deepEqual(
    r.diagnostics.map((d) => [d.code, d.line, d.message]),
    [
      ['TND_CFG_UNKNOWN_KEY', 3, 'delay_lop is not a keepalived keyword in virtual_server; did you mean delay_loop?'],
      ['TND_CFG_UNKNOWN_KEY', 5, 'wieght is not a keepalived keyword in real_server; did you mean weight?'],
    ],
  );
});

test('one missing "}" is reported once, at the virtual_server it leaves open, when the next virtual_server appears', () => {
  const r = read(`${vs(rs('weight 1').replace(/\}$/, ''))}virtual_server 198.18.0.101 80 {\n protocol TCP\n}\n`);
  assert.deepEqual(
    r.diagnostics.map((d) => [d.code, d.line]),
    [['TND_CFG_UNCLOSED_BLOCK', 1]],
  );
  assert.match(r.diagnostics[0]!.message, /virtual_server at line 7 cannot be inside it/);
  assert.equal(services(r.raw).length, 2);
});

test('virtual_server fwmark N becomes a service matched by its firewall mark, named fwmarkN, without vip or port', () => {
  const r = read(
    'virtual_server fwmark 7 {\n protocol TCP\n lb_algo rr\n persistence_timeout 60\n real_server 198.18.1.11 80 {\n }\n}\n',
  );
  // keepalived ignores a fwmark service's protocol; tandem balances the one written, and says so at it.
  assert.deepEqual(rows(r.diagnostics), [['warning', 'TND_CFG_AS_KEEPALIVED', 2]]);
  assert.match(r.diagnostics[0]!.message, /protocol will be ignored.*tandem balances TCP with mark 7 only/);
  const svc = services(r.raw)[0] as Record<string, unknown>;
  assert.deepEqual([svc.name, svc.fwmark, svc.vip, svc.port], ['fwmark7', 7, undefined, undefined]);
  const bad = read('virtual_server fwmark 0 {\n protocol TCP\n}\n');
  assert.deepEqual(rows(bad.diagnostics), [['error', 'TND_CFG_RANGE', 1]]);
});

test('a virtual server header that cannot be read keeps its block for diagnostics but adds no service', () => {
  const r = read('virtual_server 198.18.0.100 http {\n protocol TCP\n lb_algo foo\n}\n');
  assert.deepEqual(
    r.diagnostics.map((d) => [d.code, d.line]),
    [
      ['TND_CFG_NUMBER', 1],
      ['TND_CFG_ENUM', 3],
    ],
  );
  assert.equal(services(r.raw).length, 0);
});

// ---- real_server

test('real_server ADDR [PORT] and weight; no port means the service port (left out)', () => {
  const r = read(vs('real_server 198.18.1.11 8080 {\n weight 0\n}', 'real_server 198.18.1.12 {\n}'));
  assert.deepEqual(services(r.raw)[0]?.real_servers, [
    { address: '198.18.1.11', port: 8080, weight: 0 },
    { address: '198.18.1.12' },
  ]);
});

test('weight on the virtual server is the default weight of its real servers', () => {
  const r = read(vs('weight 5', rs(), 'real_server 198.18.1.12 80 {\n weight 2\n}'));
  assert.deepEqual(
    services(r.raw)[0]?.real_servers.map((s) => s.weight),
    [5, 2],
  );
  assert.deepEqual(at(r, ['lb', 'services', 0, 'real_servers', 0, 'weight']), [
    3,
    10,
    'virtual_server 198.18.0.100 80: weight',
  ]);
});

test("a real server's lvs_method must be its service's: tandem forwards a whole service one way", () => {
  assert.deepEqual(read(vs('lb_kind NAT', rs('lvs_method NAT'))).diagnostics, []);
  const r = read(vs('lb_kind NAT', rs('lvs_method DR')));
  assert.deepEqual(rows(r.diagnostics), [['error', 'TND_CFG_REJECTED', 5]]);
  assert.deepEqual(rows(read(vs(rs('lvs_method TUN'))).diagnostics), [['error', 'TND_CFG_REJECTED', 4]]);
});

test('inhibit_on_failure: on the virtual server, or on every real server alike; a mix is warned at the differing lines', () => {
  assert.equal(services(read(vs('inhibit_on_failure', rs())).raw)[0]?.inhibit_on_failure, true);
  const all = read(vs(rs('inhibit_on_failure'), 'real_server 198.18.1.12 80 {\n inhibit_on_failure yes\n}'));
  assert.deepEqual(all.diagnostics, []);
  assert.equal(services(all.raw)[0]?.inhibit_on_failure, true);
  assert.deepEqual(at(all, ['lb', 'services', 0, 'inhibit_on_failure']), [
    4,
    3,
    'virtual_server 198.18.0.100 80: real_server 198.18.1.11 80: inhibit_on_failure',
  ]);
  const mixed = read(vs('inhibit_on_failure', rs('inhibit_on_failure off'), 'real_server 198.18.1.12 80 {\n}'));
  assert.equal(services(mixed.raw)[0]?.inhibit_on_failure, true);
  assert.deepEqual(rows(mixed.diagnostics), [['warning', 'TND_CFG_UNSUPPORTED', 5]]);
  assert.match(mixed.diagnostics[0]!.message, /the virtual server's setting, on, applies to all its real servers/);
});

// ---- checkers

test("TCP_CHECK with keepalived's defaults written out: rise 1, fall 1, retry 1, 1 s before a retry, delay_loop 60 s, 5 s to connect", () => {
  assert.deepEqual(firstCheck(vs(rs('TCP_CHECK {\n}'))), {
    type: 'tcp',
    connect_timeout: 5000,
    interval: 60_000,
    rise: 1,
    fall: 1,
    retries: 1,
    delay_before_retry: 1000,
  });
});

test('HTTP_GET and SSL_GET: 3 s before a retry; connect_timeout is the timeout of the whole check', () => {
  const http = firstCheck(vs(rs('HTTP_GET {\n url {\n path /\n }\n connect_timeout 2\n}')));
  assert.deepEqual(http, {
    type: 'http',
    path: '/',
    timeout: 2000,
    interval: 60_000,
    rise: 1,
    fall: 1,
    retries: 1,
    delay_before_retry: 3000,
  });
  assert.equal(firstCheck(vs(rs('SSL_GET {\n}')))?.type, 'https');
});

test('MISC_CHECK: retry 0 by default; misc_path, misc_timeout, misc_dynamic, user (its group warned)', () => {
  const r = read(
    vs(
      rs(
        'MISC_CHECK {\n misc_path "/usr/local/bin/check web1"\n misc_timeout 4\n misc_dynamic\n user nobody nogroup\n}',
      ),
    ),
  );
  assert.deepEqual(rows(r.diagnostics), [['warning', 'TND_CFG_UNSUPPORTED', 8]]);
  assert.deepEqual(services(r.raw)[0]?.real_servers[0]?.check, {
    type: 'script',
    command: '/usr/local/bin/check web1',
    timeout: 4000,
    dynamic: true,
    user: 'nobody',
    interval: 60_000,
    rise: 1,
    fall: 1,
    retries: 0,
    delay_before_retry: 1000,
  });
  assert.equal(firstCheck(vs(rs('MISC_CHECK {\n misc_path /bin/check a b\n}')))?.command, '/bin/check a b');
});

test('a MISC_CHECK without misc_path is reported at the checker, in keepalived words', () => {
  const r = loadConfig(MAIN, memoryFs({ [MAIN]: vs(rs('MISC_CHECK {\n misc_timeout 3\n}')) }));
  assert.deepEqual(
    r.diagnostics.map((d) => `${d.line}:${d.col} ${d.code} ${d.path}: ${d.message}`),
    [
      '4:3 TND_CFG_REQUIRED virtual_server 198.18.0.100 80: real_server 198.18.1.11 80: MISC_CHECK: misc_path: is required (string)',
    ],
  );
});

test('checker options: connect_ip, connect_port, bindto, retry, delay_before_retry, warmup, delay_loop, alpha', () => {
  const c = firstCheck(
    vs(
      rs(
        'TCP_CHECK {',
        '  connect_ip 198.18.1.111',
        '  connect_port 8080',
        '  bindto 198.18.1.1',
        '  connect_timeout 0.5',
        '  retry 2',
        '  delay_before_retry 0.25',
        '  warmup 3',
        '  delay_loop 4',
        '  alpha',
        '}',
      ),
    ),
  );
  assert.deepEqual(c, {
    type: 'tcp',
    address: '198.18.1.111',
    port: 8080,
    bind: '198.18.1.1',
    connect_timeout: 500,
    interval: 4000,
    rise: 1,
    fall: 1,
    retries: 2,
    delay_before_retry: 250,
    warmup: 3000,
    start_down: true,
  });
});

test('settings pass down as in keepalived: the checker’s own, else its real server’s, else its virtual server’s', () => {
  const text = vs(
    'delay_loop 10',
    'retry 4',
    'connect_timeout 7',
    'alpha',
    rs('delay_loop 5', 'alpha off', 'TCP_CHECK {\n retry 2\n}'),
    'real_server 198.18.1.12 80 {\n TCP_CHECK {\n }\n}',
  );
  const r = read(text);
  const [a, b] = services(r.raw)[0]!.real_servers.map((s) => s.check);
  assert.deepEqual([a?.interval, a?.retries, a?.connect_timeout, a?.start_down], [5000, 2, 7000, false]);
  assert.deepEqual([b?.interval, b?.retries, b?.connect_timeout, b?.start_down], [10_000, 4, 7000, true]);
  // Each value points at the line that set it.
  assert.deepEqual(at(r, ['lb', 'services', 0, 'real_servers', 0, 'check', 'interval'])[0], 8);
  assert.deepEqual(at(r, ['lb', 'services', 0, 'real_servers', 0, 'check', 'retries'])[0], 11);
  assert.deepEqual(at(r, ['lb', 'services', 0, 'real_servers', 1, 'check', 'interval'])[0], 3);
});

test('nb_get_retry: read as retry in HTTP_GET with a deprecation warning; keepalived 2 ignores it in TCP_CHECK, so does tandem', () => {
  const http = read(vs(rs('HTTP_GET {\n nb_get_retry 3\n}')));
  assert.deepEqual(rows(http.diagnostics), [['warning', 'TND_CFG_DEPRECATED', 5]]);
  assert.equal(services(http.raw)[0]?.real_servers[0]?.check?.retries, 3);
  const tcp = read(vs(rs('TCP_CHECK {\n nb_get_retry 3\n}')));
  assert.deepEqual(rows(tcp.diagnostics), [['warning', 'TND_CFG_UNSUPPORTED', 5]]);
  assert.equal(services(tcp.raw)[0]?.real_servers[0]?.check?.retries, 1);
});

test('url: path, digest, status_code codes and ranges, regex, regex_no_match, virtualhost', () => {
  const c = firstCheck(
    vs(
      rs(
        'HTTP_GET {',
        '  url {',
        '    path /status?full=1',
        '    digest 9b3a0c85a887a256d6939da88aabd8cd',
        '    status_code 200 300-399 503',
        '    regex "^OK"',
        '    regex_no_match',
        '    virtualhost www.example.com',
        '  }',
        '}',
      ),
    ),
  );
  assert.deepEqual(c, {
    type: 'http',
    path: '/status?full=1',
    host: 'www.example.com',
    status: [200, '300-399', 503],
    digest: '9b3a0c85a887a256d6939da88aabd8cd',
    body_regex: '^OK',
    regex_no_match: true,
    timeout: 5000,
    interval: 60_000,
    rise: 1,
    fall: 1,
    retries: 1,
    delay_before_retry: 3000,
  });
  assert.deepEqual(rows(read(vs(rs('HTTP_GET {\n url {\n status_code 2xx\n }\n}'))).diagnostics), [
    ['error', 'TND_CFG_NUMBER', 6],
  ]);
});

test('virtualhost passes down: url, else real server, else virtual server', () => {
  const text = vs(
    'virtualhost vs.example.com',
    rs('HTTP_GET {\n url {\n path /\n }\n}'),
    'real_server 198.18.1.12 80 {\n virtualhost rs.example.com\n SSL_GET {\n }\n}',
  );
  assert.deepEqual(
    services(read(text).raw)[0]?.real_servers.map((s) => s.check?.host),
    ['vs.example.com', 'rs.example.com'],
  );
});

test('several url blocks: the first fills the check, each further one is an entry of check.urls (all must pass)', () => {
  const r = read(
    vs(rs('HTTP_GET {\n url {\n path /a\n }\n url {\n path /b\n status_code 204\n }\n url {\n digest 0123\n }\n}')),
  );
  const check = services(r.raw)[0]?.real_servers[0]?.check as Record<string, unknown> | undefined;
  assert.equal(check?.path, '/a');
  assert.deepEqual(check?.urls, [{ path: '/b', status: [204] }, { digest: '0123' }]);
  // A url without a path is reported at its own url block, naming path.
  const v = loadConfig(
    '/k.conf',
    memoryFs({ '/k.conf': vs(rs('HTTP_GET {\n url {\n path /a\n }\n url {\n status_code 200\n }\n}')) }),
  );
  const missing = v.diagnostics.find((d) => d.code === 'TND_CFG_REQUIRED');
  assert.equal(missing?.line, 8);
  assert.match(missing?.path ?? '', /url: path$/);
});

test('one check per real server: the first checker is used and each further one is warned, naming the first', () => {
  const r = read(vs(rs('HTTP_GET {\n url {\n path /\n }\n}', 'TCP_CHECK {\n connect_port 81\n}')));
  assert.deepEqual(rows(r.diagnostics), [['warning', 'TND_CFG_UNSUPPORTED', 9]]);
  assert.match(r.diagnostics[0]!.message, /the HTTP_GET at line 4; keepalived would require every checker to pass/);
  const c = services(r.raw)[0]?.real_servers[0]?.check;
  assert.deepEqual([c?.type, c?.port], ['http', undefined]);
});

test('a checker tandem lacks (BFD_CHECK) is skipped whole with one warning, whatever it holds', () => {
  const r = read(
    vs(rs('BFD_CHECK {\n name bfd1\n connect_timeout 3\n weight 2\n}', 'TCP_CHECK {\n connect_port 81\n}')),
  );
  assert.deepEqual(rows(r.diagnostics), [['warning', 'TND_CFG_IGNORED_BLOCK', 4]]);
  assert.match(r.diagnostics[0]!.message, /the BFD_CHECK block at line 4 is skipped whole: BFD is not implemented/);
  const rs0 = services(r.raw)[0]?.real_servers[0];
  assert.equal(rs0?.check?.type, 'tcp');
  assert.equal(rs0?.weight, undefined, 'the weight inside the skipped block is not the real server weight');
});

test('SMTP_CHECK, UDP_CHECK, DNS_CHECK, PING_CHECK and FILE_CHECK become checks with keepalived defaults', () => {
  const text =
    'track_file maint {\n file /run/maint\n weight 3 reverse\n}\n' +
    vs(
      rs('SMTP_CHECK {\n helo_name lb1\n connect_ip 198.18.1.99\n host {\n connect_port 2525\n }\n}') +
        '\n real_server 198.18.1.12 80 {\n UDP_CHECK {\n payload 01 02\n require_reply ff xx\n }\n }' +
        '\n real_server 198.18.1.13 80 {\n DNS_CHECK {\n type mx\n name example.org\n }\n }' +
        '\n real_server 198.18.1.14 80 {\n PING_CHECK {\n connect_timeout 2\n }\n }' +
        '\n real_server 198.18.1.15 80 {\n FILE_CHECK {\n track_file maint\n }\n }',
    );
  const r = read(text);
  assert.deepEqual(r.diagnostics, []);
  const checks = services(r.raw)[0]!.real_servers.map((x) => x.check as Record<string, unknown>);
  assert.deepEqual(
    [checks[0]!.type, checks[0]!.helo_name, checks[0]!.address, checks[0]!.hosts],
    ['smtp', 'lb1', '198.18.1.99', [{}, { address: '198.18.1.11', port: 2525 }]],
  );
  assert.deepEqual([checks[1]!.payload, checks[1]!.require_reply, checks[1]!.reply], ['01 02', true, 'ff xx']);
  assert.deepEqual([checks[2]!.query_type, checks[2]!.name, checks[2]!.retries], ['MX', 'example.org', 3]);
  assert.deepEqual([checks[3]!.type, checks[3]!.timeout], ['ping', 2000]);
  assert.deepEqual([checks[4]!.path, checks[4]!.weight, checks[4]!.reverse], ['/run/maint', 3, true]);
});

test('MISC_CHECK takes no connection options: connect_ip there is not a keepalived keyword', () => {
  const r = read(vs(rs('MISC_CHECK {\n misc_path /bin/true\n connect_ip 198.18.1.1\n}')));
  assert.deepEqual(rows(r.diagnostics), [['error', 'TND_CFG_UNKNOWN_KEY', 6]]);
});

// ---- virtual_server_group

test('virtual_server group NAME: one service per address and port of the group, named GROUP-ADDR-PORT', () => {
  const r = read(
    [
      'virtual_server_group VSG_1 {',
      '  198.18.0.100 80',
      '  198.18.0.1-3 8080',
      '  198.18.0.8/31',
      '  fwmark 5',
      '}',
      'virtual_server group VSG_1 {',
      '  protocol TCP',
      '  persistence_timeout 60',
      '  real_server 198.18.1.11 {',
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  assert.deepEqual(rows(r.diagnostics), []);
  const list = services(r.raw);
  assert.deepEqual(
    list.map((s) => [s.name, s.vip, s.port, (s as { fwmark?: number }).fwmark]),
    [
      ['VSG_1-198.18.0.100-80', '198.18.0.100', 80, undefined],
      ['VSG_1-198.18.0.1-8080', '198.18.0.1', 8080, undefined],
      ['VSG_1-198.18.0.2-8080', '198.18.0.2', 8080, undefined],
      ['VSG_1-198.18.0.3-8080', '198.18.0.3', 8080, undefined],
      ['VSG_1-198.18.0.8-0', '198.18.0.8', 0, undefined],
      ['VSG_1-198.18.0.9-0', '198.18.0.9', 0, undefined],
      ['VSG_1-fwmark5', undefined, undefined, 5],
    ],
  );
  for (const s of list) assert.deepEqual(s.persistence, { timeout: 60_000 });
  // The address points at the group's entry, everything else at the virtual server.
  assert.deepEqual(at(r, ['lb', 'services', 2, 'vip']), [3, 3, 'virtual_server_group VSG_1']);
  assert.deepEqual(at(r, ['lb', 'services', 2, 'port']), [3, 16, 'virtual_server_group VSG_1: port']);
  assert.deepEqual(at(r, ['lb', 'services', 2, 'persistence', 'timeout']), [
    9,
    23,
    'virtual_server group VSG_1: persistence_timeout',
  ]);
  assert.deepEqual(at(r, ['lb', 'services', 5, 'real_servers', 0])[0], 10);
});

test('a group may be defined after the virtual server that uses it; a group that does not exist is TND_CFG_UNKNOWN_REF', () => {
  const later = read('virtual_server group G {\n protocol TCP\n}\nvirtual_server_group G {\n 198.18.0.1 80\n}\n');
  assert.deepEqual(later.diagnostics, []);
  assert.equal(services(later.raw)[0]?.name, 'G-198.18.0.1-80');
  const missing = read('virtual_server group NOPE {\n protocol TCP\n}\n');
  assert.deepEqual(
    missing.diagnostics.map((d) => [d.code, d.line, d.col, d.message]),
    [['TND_CFG_UNKNOWN_REF', 1, 22, 'no virtual_server_group named NOPE']],
  );
});

test('group entries: a malformed address, a reversed range, too many addresses and a duplicate group are errors at their line', () => {
  const r = read(
    [
      'virtual_server_group G {',
      '  198.18.0.300 80',
      '  198.18.0.9-3 80',
      '  198.18.0.0/16 80',
      '  198.18.0.1 80 90',
      '}',
      'virtual_server_group G {',
      '}',
      '',
    ].join('\n'),
  );
  assert.deepEqual(
    r.diagnostics.map((d) => [d.code, d.line]),
    [
      ['TND_CFG_ADDRESS', 2],
      ['TND_CFG_RANGE', 3],
      ['TND_CFG_RANGE', 4],
      ['TND_CFG_ARGS', 5],
      ['TND_CFG_DUPLICATE', 7],
    ],
  );
  assert.match(r.diagnostics[2]!.message, /65536 addresses, one service each; tandem expands at most 1024/);
});

test('expandAddressRange: ADDR, ADDR-LAST, ADDR-ADDR and ADDR/LEN, IPv4 and IPv6, both ends included', () => {
  const addrs = (t: string) => {
    const r = expandAddressRange(t, 1024);
    return 'addrs' in r ? r.addrs : r.code;
  };
  assert.deepEqual(addrs('198.18.0.1'), ['198.18.0.1']);
  assert.deepEqual(addrs('198.18.0.254-255'), ['198.18.0.254', '198.18.0.255']);
  assert.deepEqual(addrs('198.18.0.255-198.18.1.1'), ['198.18.0.255', '198.18.1.0', '198.18.1.1']);
  assert.deepEqual(addrs('198.18.0.9/30'), ['198.18.0.8', '198.18.0.9', '198.18.0.10', '198.18.0.11']);
  assert.deepEqual(addrs('2001:db8::9-b'), ['2001:db8::9', '2001:db8::a', '2001:db8::b']);
  assert.deepEqual(addrs('2001:db8::ffff-2001:db8::1:1'), ['2001:db8::ffff', '2001:db8::1:0', '2001:db8::1:1']);
  assert.deepEqual(addrs('2001:db8::/127'), ['2001:db8::', '2001:db8::1']);
  assert.deepEqual(addrs('::ffff:198.18.0.1-2'), ['::ffff:c612:1', '::ffff:c612:2']);
  assert.equal(addrs('198.18.0.1-256'), 'TND_CFG_ADDRESS');
  assert.equal(addrs('198.18.0.1-2-3'), 'TND_CFG_ADDRESS');
  assert.equal(addrs('example.com'), 'TND_CFG_ADDRESS');
  assert.equal(addrs('198.18.0.1/33'), 'TND_CFG_ADDRESS');
  assert.equal(addrs('198.18.0.5-1'), 'TND_CFG_RANGE');
  assert.equal(addrs('2001:db8::/64'), 'TND_CFG_RANGE');
});

test('netmaskPrefix: contiguous IPv4 netmasks and IPv6 prefix lengths', () => {
  assert.equal(netmaskPrefix('255.255.255.255'), 32);
  assert.equal(netmaskPrefix('255.255.255.0'), 24);
  assert.equal(netmaskPrefix('255.255.128.0'), 17);
  assert.equal(netmaskPrefix('0.0.0.0'), 0);
  assert.equal(netmaskPrefix('255.0.255.0'), undefined);
  assert.equal(netmaskPrefix('255.255.255.1'), undefined);
  assert.equal(netmaskPrefix('64'), 64);
  assert.equal(netmaskPrefix('129'), undefined);
  assert.equal(netmaskPrefix('/64'), undefined);
});

// ---- whole files

test('the two-director fixture loads with only the expected warnings, and equals its hand-written YAML twin', () => {
  const conf = fixturePath('keepalived', 'lb-two-directors.conf');
  const yaml = fixturePath('yaml', 'lb-two-directors.yaml');
  const fs = memoryFs({ [conf]: readFileSync(conf, 'utf8'), [yaml]: readFileSync(yaml, 'utf8') });
  const k = loadConfig(conf, fs);
  assert.deepEqual(
    k.diagnostics.map((d) => [d.severity, d.code, d.line]),
    [
      // notification_email and smtp_server are read since issue 12 (alerts.email)
      ['warning', 'TND_CFG_DEPRECATED', 69], // nb_get_retry
    ],
  );
  const y = loadConfig(yaml, fs);
  assert.deepEqual(y.diagnostics, []);
  assert.ok(k.config && y.config);
  assert.deepEqual(k.config.lb, y.config.lb);
  assert.equal(k.config.lb.services.length, 4);
});
