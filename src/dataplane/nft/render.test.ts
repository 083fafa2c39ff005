import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TandemError } from '../../core/errors.ts';
import type { ServiceProgram } from '../../lb/dataplane.ts';
import { isMaglevSize } from '../../lb/schedulers/mh.ts';
import type { DesiredBackend } from '../../lb/types.ts';
import {
  compilePrograms,
  diffPrograms,
  kernelScheduler,
  kernelSlotCount,
  MAGLEV_NFT_SIZES,
  maglevSizeFor,
  nameOf,
  renderReplace,
  renderTable,
  renderTransition,
  renderUpdate,
} from './render.ts';

function be(addr: string, port: number, weight = 1): DesiredBackend {
  const key = addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
  return { key, addr, port, weight, op: weight > 0 ? 'up' : 'draining', reason: weight > 0 ? 'up' : 'draining' };
}

function svc(over: Partial<ServiceProgram> & { id: string }): ServiceProgram {
  return {
    vip: '198.18.0.100',
    port: 80,
    protocol: 'tcp',
    family: 4,
    scheduler: 'rr',
    method: 'nat',
    persistence: null,
    quorum: 'up',
    backends: [be('198.18.1.21', 80), be('198.18.1.22', 80), be('198.18.1.23', 80)],
    sorry: null,
    ...over,
  };
}

const web = svc({ id: 'web' });

/** The lines of a script that touch a given object name. */
const touching = (script: string, name: string): string[] => script.split('\n').filter((l) => l.includes(name));

test('renderTable: a round-robin service is a dispatch element, a slot map and one DNAT rule (golden)', () => {
  const dns = svc({ id: 'dns', vip: '198.18.0.101', port: 53, protocol: 'udp', backends: [] });
  const text = renderTable('tandem', [web, dns]);
  assert.equal(
    text,
    `table inet tandem {
\tmap dispatchmark4 {
\t\ttype inet_proto . mark : verdict
\t}

\tmap dispatchmark6 {
\t\ttype inet_proto . mark : verdict
\t}

\tmap dispatch4 {
\t\ttype inet_proto . ipv4_addr . inet_service : verdict
\t\telements = { udp . 198.18.0.101 . 53 : goto svc_dns, tcp . 198.18.0.100 . 80 : goto svc_web }
\t}

\tmap dispatch4any {
\t\ttype inet_proto . ipv4_addr : verdict
\t}

\tmap dispatch6 {
\t\ttype inet_proto . ipv6_addr . inet_service : verdict
\t}

\tmap dispatch6any {
\t\ttype inet_proto . ipv6_addr : verdict
\t}

\tmap svc_dns_slots {
\t\ttypeof numgen inc mod 1 : ip daddr . udp dport
\t}

\tchain svc_dns {
\t\tmeta l4proto udp reject
\t}

\tmap svc_web_slots {
\t\ttypeof numgen inc mod 1 : ip daddr . tcp dport
\t\telements = { 0 : 198.18.1.21 . 80, 1 : 198.18.1.22 . 80, 2 : 198.18.1.23 . 80 }
\t}

\tchain svc_web {
\t\tmeta l4proto tcp dnat ip to numgen inc mod 3 map @svc_web_slots
\t}

\tchain lb_snat {
\t}

\tchain prerouting {
\t\ttype nat hook prerouting priority dstnat; policy accept;
\t\tmeta nfproto ipv4 meta l4proto . meta mark vmap @dispatchmark4
\t\tmeta nfproto ipv6 meta l4proto . meta mark vmap @dispatchmark6
\t\tmeta l4proto . ip daddr . th dport vmap @dispatch4
\t\tmeta l4proto . ip daddr vmap @dispatch4any
\t\tmeta l4proto . ip6 daddr . th dport vmap @dispatch6
\t\tmeta l4proto . ip6 daddr vmap @dispatch6any
\t}

\tchain output {
\t\ttype nat hook output priority -100; policy accept;
\t\tmeta nfproto ipv4 meta l4proto . meta mark vmap @dispatchmark4
\t\tmeta nfproto ipv6 meta l4proto . meta mark vmap @dispatchmark6
\t\tmeta l4proto . ip daddr . th dport vmap @dispatch4
\t\tmeta l4proto . ip daddr vmap @dispatch4any
\t\tmeta l4proto . ip6 daddr . th dport vmap @dispatch6
\t\tmeta l4proto . ip6 daddr vmap @dispatch6any
\t}

\tchain postrouting {
\t\ttype nat hook postrouting priority srcnat; policy accept;
\t\tct status dnat jump lb_snat
\t}
}
`,
  );
});

test('renderReplace: deletes any stale table of the name in the same transaction, even when there is none', () => {
  const text = renderReplace('tandem', [web]);
  assert.ok(text.startsWith('add table inet tandem\ndelete table inet tandem\ntable inet tandem {\n'));
});

test('renderTable: a persistent service keeps one affinity set and chain per backend (golden)', () => {
  const s = svc({
    id: 'shop',
    scheduler: 'wrr',
    persistence: { timeoutMs: 360_000, netmaskPrefix: 24 },
    backends: [be('198.18.1.21', 80, 2), be('198.18.1.22', 8080, 1), be('198.18.1.23', 80, 0)],
  });
  const text = renderTable('t', [s]);
  const block = text.slice(text.indexOf('\tset svc_shop_aff_198.18.1.21-80'), text.indexOf('\tchain lb_snat'));
  assert.equal(
    block,
    `\tset svc_shop_aff_198.18.1.21-80 {
\t\ttypeof ip saddr
\t\tsize 65536
\t\tflags dynamic,timeout
\t\ttimeout 360s
\t}

\tchain svc_shop_be_198.18.1.21-80 {
\t\tupdate @svc_shop_aff_198.18.1.21-80 { ip saddr & 255.255.255.0 }
\t\tmeta l4proto tcp dnat ip to 198.18.1.21:80
\t}

\tset svc_shop_aff_198.18.1.22-8080 {
\t\ttypeof ip saddr
\t\tsize 65536
\t\tflags dynamic,timeout
\t\ttimeout 360s
\t}

\tchain svc_shop_be_198.18.1.22-8080 {
\t\tupdate @svc_shop_aff_198.18.1.22-8080 { ip saddr & 255.255.255.0 }
\t\tmeta l4proto tcp dnat ip to 198.18.1.22:8080
\t}

\tset svc_shop_aff_198.18.1.23-80 {
\t\ttypeof ip saddr
\t\tsize 65536
\t\tflags dynamic,timeout
\t\ttimeout 360s
\t}

\tchain svc_shop_be_198.18.1.23-80 {
\t\tupdate @svc_shop_aff_198.18.1.23-80 { ip saddr & 255.255.255.0 }
\t\tmeta l4proto tcp dnat ip to 198.18.1.23:80
\t}

\tmap svc_shop_slots {
\t\ttypeof numgen inc mod 1 : verdict
\t\telements = { 0 : goto svc_shop_be_198.18.1.21-80, 1 : goto svc_shop_be_198.18.1.22-8080, 2 : goto svc_shop_be_198.18.1.21-80 }
\t}

\tchain svc_shop {
\t\tip saddr & 255.255.255.0 @svc_shop_aff_198.18.1.21-80 goto svc_shop_be_198.18.1.21-80
\t\tip saddr & 255.255.255.0 @svc_shop_aff_198.18.1.22-8080 goto svc_shop_be_198.18.1.22-8080
\t\tnumgen inc mod 3 vmap @svc_shop_slots
\t}

`,
  );
});

test('weight 0 backends get no slots; a service whose backends all have weight 0 rejects with a TCP reset', () => {
  const some = renderTable('t', [svc({ id: 'a', backends: [be('198.18.1.21', 80, 0), be('198.18.1.22', 80)] })]);
  assert.match(some, /elements = \{ 0 : 198\.18\.1\.22 \. 80 \}/);
  assert.match(some, /numgen inc mod 1 map @svc_a_slots/);
  assert.doesNotMatch(some, /198\.18\.1\.21/);
  const none = renderTable('t', [svc({ id: 'a', backends: [be('198.18.1.21', 80, 0)] })]);
  assert.deepEqual(touching(none, 'reject'), ['\t\tmeta l4proto tcp reject with tcp reset']);
});

test('an active sorry server takes every new connection; port 0 keeps the port the client asked for', () => {
  const text = renderTable('t', [
    svc({ id: 'a', backends: [be('198.18.1.21', 80, 0)], sorry: { addr: '198.18.1.30', port: 8080 } }),
    svc({ id: 'b', vip: '198.18.0.101', sorry: { addr: '198.18.1.30', port: 0 } }),
  ]);
  assert.deepEqual(touching(text, 'dnat ip'), [
    '\t\tmeta l4proto tcp dnat ip to 198.18.1.30:8080',
    '\t\tmeta l4proto tcp dnat ip to 198.18.1.30:80',
  ]);
  assert.doesNotMatch(text, /elements = \{ 0 :/, 'no slots while the sorry server is active');
});

test('wrr interleaves the weighted slots; lc and wlc run as weighted random in the kernel', () => {
  const backends = [be('198.18.1.21', 80, 3), be('198.18.1.22', 80, 1)];
  const wrr = renderTable('t', [svc({ id: 'a', scheduler: 'wrr', backends })]);
  assert.match(wrr, /numgen inc mod 4 map @svc_a_slots/);
  assert.match(
    wrr,
    /elements = \{ 0 : 198\.18\.1\.21 \. 80, 1 : 198\.18\.1\.21 \. 80, 2 : 198\.18\.1\.22 \. 80, 3 : 198\.18\.1\.21 \. 80 \}/,
  );
  for (const scheduler of ['lc', 'wlc'] as const) {
    const text = renderTable('t', [svc({ id: 'a', scheduler, backends })]);
    assert.match(text, /dnat ip to numgen random mod 4 map @svc_a_slots/);
  }
  assert.equal(kernelScheduler('lc'), 'weighted-random');
  assert.equal(kernelScheduler('wlc'), 'weighted-random');
  for (const s of ['rr', 'wrr', 'sh', 'mh'] as const) assert.equal(kernelScheduler(s), s);
});

test('sh and mh hash the client address with jhash; mh uses a Maglev table sized from the ladder', () => {
  const sh = renderTable('t', [svc({ id: 'a', scheduler: 'sh' })]);
  assert.match(sh, /dnat ip to jhash ip saddr mod 256 seed 0x74616e64 map @svc_a_slots/);
  const mh = renderTable('t', [svc({ id: 'a', scheduler: 'mh' })]);
  assert.match(mh, /dnat ip to jhash ip saddr mod 251 seed 0x74616e64 map @svc_a_slots/);
  assert.match(mh, / 250 : 198\.18\.1\.2[123] \. 80 \}/);
});

test('Maglev sizes: primes ≡ 2 mod 3 on a ladder, at least 10 slots per backend, stable within a factor of two', () => {
  assert.deepEqual(MAGLEV_NFT_SIZES.slice(0, 5), [251, 509, 1019, 2039, 4091]);
  for (const m of MAGLEV_NFT_SIZES) assert.ok(isMaglevSize(m), `${m}`);
  assert.equal(maglevSizeFor(1), 251);
  assert.equal(maglevSizeFor(25), 251);
  assert.equal(maglevSizeFor(26), 509);
  assert.equal(maglevSizeFor(100), 1019);
  assert.equal(kernelSlotCount('mh', [1, 0, 1]), 251, 'weight 0 backends count: draining one keeps the size');
});

test('weighted tables are one exact cycle when small and capped when the weights would make them huge', () => {
  assert.equal(kernelSlotCount('wrr', [2, 4, 6]), 6);
  assert.equal(kernelSlotCount('wrr', [65_535, 1]), 4096);
  assert.equal(kernelSlotCount('rr', [5, 0, 1]), 2);
  assert.equal(kernelSlotCount('sh', [1, 1]), 256);
  assert.equal(kernelSlotCount('sh', new Array(100).fill(1)), 1600);
  assert.equal(kernelSlotCount('wlc', []), 0);
});

test('IPv6: dispatch6, ip6 map values, bracketed DNAT targets, canonical lower-case addresses', () => {
  const text = renderTable('t', [
    svc({
      id: 'v6',
      family: 6,
      vip: '2001:DB8::100',
      port: 443,
      backends: [be('2001:db8::21', 443)],
      sorry: null,
    }),
    svc({
      id: 'v6sorry',
      family: 6,
      vip: '2001:db8::101',
      port: 443,
      backends: [],
      sorry: { addr: '2001:db8::30', port: 8443 },
    }),
  ]);
  assert.match(
    text,
    /elements = \{ tcp \. 2001:db8::100 \. 443 : goto svc_v6, tcp \. 2001:db8::101 \. 443 : goto svc_v6sorry \}/,
  );
  assert.match(text, /typeof numgen inc mod 1 : ip6 daddr \. tcp dport\n\t\telements = \{ 0 : 2001:db8::21 \. 443 \}/);
  assert.match(text, /meta l4proto tcp dnat ip6 to numgen inc mod 1 map @svc_v6_slots/);
  assert.match(text, /meta l4proto tcp dnat ip6 to \[2001:db8::30\]:8443/);
});

test('port 0 services dispatch on the address alone and translate the address only', () => {
  const text = renderTable('t', [svc({ id: 'all', port: 0, backends: [be('198.18.1.21', 0), be('198.18.1.22', 0)] })]);
  assert.match(
    text,
    /map dispatch4any \{\n\t\ttype inet_proto \. ipv4_addr : verdict\n\t\telements = \{ tcp \. 198\.18\.0\.100 : goto svc_all \}/,
  );
  assert.match(text, /typeof numgen inc mod 1 : ip daddr\n\t\telements = \{ 0 : 198\.18\.1\.21, 1 : 198\.18\.1\.22 \}/);
});

test('a backend port 0 on a service with a port means the service port', () => {
  const text = renderTable('t', [svc({ id: 'a', backends: [be('198.18.1.21', 0)] })]);
  assert.match(text, /elements = \{ 0 : 198\.18\.1\.21 \. 80 \}/);
});

test('snat: masquerade or a fixed address, only for connections this table translated to that service', () => {
  const text = renderTable('t', [
    svc({ id: 'a', snat: { kind: 'masquerade' } }),
    svc({
      id: 'b',
      vip: '198.18.0.101',
      port: 0,
      backends: [be('198.18.1.21', 0)],
      snat: { kind: 'address', addr: '198.18.0.5' },
    }),
    svc({ id: 'c', vip: '198.18.0.102' }),
  ]);
  assert.deepEqual(touching(text, 'ct original'), [
    '\t\tmeta l4proto tcp ct original ip daddr 198.18.0.100 ct original proto-dst 80 masquerade',
    '\t\tmeta l4proto tcp ct original ip daddr 198.18.0.101 snat ip to 198.18.0.5',
  ]);
  assert.match(text, /ct status dnat jump lb_snat/);
});

test('renderUpdate: nothing changed → an empty script', () => {
  assert.equal(renderUpdate('t', [web], [structuredClone(web)]), '');
});

test('renderUpdate: a weight change flushes and refills that service slot map only (golden)', () => {
  const api = svc({ id: 'api', vip: '198.18.0.101', scheduler: 'wrr' });
  const next = { ...api, backends: [be('198.18.1.21', 80, 2), be('198.18.1.22', 80), be('198.18.1.23', 80)] };
  const script = renderUpdate('t', [web, api], [web, next]);
  // 4 slots instead of 3: the modulus changes, so the rule is replaced too, in the same transaction.
  assert.equal(
    script,
    `flush chain inet t svc_api
flush map inet t svc_api_slots
add element inet t svc_api_slots { 0 : 198.18.1.21 . 80, 1 : 198.18.1.22 . 80, 2 : 198.18.1.23 . 80, 3 : 198.18.1.21 . 80 }
add rule inet t svc_api meta l4proto tcp dnat ip to numgen inc mod 4 map @svc_api_slots
`,
  );
});

test('renderUpdate: swapping one backend for another keeps the rule and replaces the map elements only', () => {
  const next = { ...web, backends: [be('198.18.1.21', 80), be('198.18.1.22', 80), be('198.18.1.24', 80)] };
  assert.equal(
    renderUpdate('t', [web], [next]),
    `flush map inet t svc_web_slots
add element inet t svc_web_slots { 0 : 198.18.1.21 . 80, 1 : 198.18.1.22 . 80, 2 : 198.18.1.24 . 80 }
`,
  );
});

test('renderUpdate: add and remove services; unlink before delete, delete before create', () => {
  const api = svc({ id: 'api', vip: '198.18.0.101' });
  const script = renderUpdate('t', [web], [api]);
  assert.equal(
    script,
    `delete element inet t dispatch4 { tcp . 198.18.0.100 . 80 }
delete chain inet t svc_web
delete map inet t svc_web_slots
add map inet t svc_api_slots { typeof numgen inc mod 1 : ip daddr . tcp dport; }
add element inet t svc_api_slots { 0 : 198.18.1.21 . 80, 1 : 198.18.1.22 . 80, 2 : 198.18.1.23 . 80 }
add chain inet t svc_api
add rule inet t svc_api meta l4proto tcp dnat ip to numgen inc mod 3 map @svc_api_slots
add element inet t dispatch4 { tcp . 198.18.0.101 . 80 : goto svc_api }
`,
  );
});

test('renderUpdate: a new port or protocol re-creates the service (its map type depends on them)', () => {
  const script = renderUpdate('t', [web], [{ ...web, port: 0, backends: [be('198.18.1.21', 0)] }]);
  const lines = script.trim().split('\n');
  assert.equal(lines[0], 'delete element inet t dispatch4 { tcp . 198.18.0.100 . 80 }');
  assert.ok(lines.includes('delete map inet t svc_web_slots'));
  assert.ok(lines.includes('add map inet t svc_web_slots { typeof numgen inc mod 1 : ip daddr; }'));
  assert.equal(lines.at(-1), 'add element inet t dispatch4any { tcp . 198.18.0.100 : goto svc_web }');
});

test('renderUpdate: persistence — a drained backend loses its lookup, keeps its set; a removed one loses both', () => {
  const p = { timeoutMs: 60_000, netmaskPrefix: 32 };
  const before = svc({ id: 's', persistence: p, backends: [be('198.18.1.21', 80), be('198.18.1.22', 80)] });
  const drained = { ...before, backends: [be('198.18.1.21', 80, 0), be('198.18.1.22', 80)] };
  const d = renderUpdate('t', [before], [drained]);
  assert.deepEqual(
    d.split('\n').filter((l) => l.startsWith('add rule')),
    [
      'add rule inet t svc_s ip saddr @svc_s_aff_198.18.1.22-80 goto svc_s_be_198.18.1.22-80',
      'add rule inet t svc_s numgen inc mod 1 vmap @svc_s_slots',
    ],
  );
  assert.doesNotMatch(d, /delete set/);
  const removed = { ...before, backends: [be('198.18.1.22', 80)] };
  const r = renderUpdate('t', [before], [removed]).trim().split('\n');
  const at = (prefix: string) => r.findIndex((l) => l.startsWith(prefix));
  assert.ok(at('flush chain inet t svc_s') < at('delete chain inet t svc_s_be_198.18.1.21-80'));
  assert.ok(at('flush map inet t svc_s_slots') < at('delete chain inet t svc_s_be_198.18.1.21-80'));
  assert.ok(at('delete chain inet t svc_s_be_198.18.1.21-80') < at('delete set inet t svc_s_aff_198.18.1.21-80'));
  assert.ok(!r.some((l) => l.includes('198.18.1.22-80') && l.startsWith('delete')));
});

test('renderUpdate: a snat change rebuilds lb_snat and leaves the service objects alone', () => {
  const script = renderUpdate('t', [web], [{ ...web, snat: { kind: 'masquerade' } }]);
  assert.equal(
    script,
    `flush chain inet t lb_snat
add rule inet t lb_snat meta l4proto tcp ct original ip daddr 198.18.0.100 ct original proto-dst 80 masquerade
`,
  );
});

test('diffPrograms: added, changed and removed as the kernel sees them', () => {
  const a = svc({ id: 'a' });
  const b = svc({ id: 'b', vip: '198.18.0.101' });
  const c = svc({ id: 'c', vip: '198.18.0.102' });
  const sameKernel = {
    ...a,
    backends: a.backends.map((x) => ({ ...x, op: 'starting' as const, reason: 'starting' as const })),
  };
  assert.deepEqual(diffPrograms([a, b], [sameKernel, { ...b, scheduler: 'lc' }, c]), {
    added: ['c'],
    changed: ['b'],
    removed: [],
  });
  assert.deepEqual(diffPrograms([a, b], [b]), { added: [], changed: [], removed: ['a'] });
});

test('method dr is not part of the inet table (it has a netdev table of its own, render-dr.ts)', () => {
  assert.throws(
    () => renderTable('t', [svc({ id: 'a', method: 'dr' })]),
    (e: unknown) => e instanceof TandemError && e.code === 'TND_NFT_UNSUPPORTED' && /netdev table/.test(e.message),
  );
});

test('malformed programs are refused before anything runs: addresses, duplicates, table names', () => {
  const program = (f: () => unknown, re: RegExp) =>
    assert.throws(f, (e: unknown) => e instanceof TandemError && e.code === 'TND_NFT_PROGRAM' && re.test(e.message));
  program(() => renderTable('t', [svc({ id: 'a', vip: '2001:db8::1' })]), /not an IPv4 address/);
  program(() => renderTable('t', [svc({ id: 'a', backends: [be('nope', 80)] })]), /backend nope:80/);
  program(() => renderTable('t', [svc({ id: 'a' }), svc({ id: 'a', vip: '198.18.0.101' })]), /listed twice/);
  program(() => renderTable('t', [svc({ id: 'a' }), svc({ id: 'b' })]), /a and b both claim tcp 198\.18\.0\.100 80/);
  program(() => renderTable('bad name', [web]), /table name/);
  program(() => renderTable('t', [svc({ id: 'a', port: 70_000 })]), /port 70000/);
  program(
    () => renderTable('t', [svc({ id: 'a', persistence: { timeoutMs: 0, netmaskPrefix: 32 } })]),
    /persistence timeout/,
  );
});

test('service ids map to nft names one-to-one', () => {
  assert.equal(nameOf('web'), 'web');
  assert.equal(nameOf('web:443'), 'web_c443');
  assert.equal(nameOf('a_b'), 'a__b');
  assert.notEqual(nameOf('a:b'), nameOf('a_cb'));
  assert.equal(nameOf('a b'), 'a_x0020b');
  const ids = ['a', 'a_', 'a__', 'a:', 'a_c', 'a:c', 'a_s', 'a.b', 'a-b'];
  assert.equal(new Set(ids.map(nameOf)).size, ids.length);
});

test('compilePrograms reuses the plans of services that did not change and copies the services', () => {
  const a = svc({ id: 'a' });
  const b = svc({ id: 'b', vip: '198.18.0.101' });
  const first = compilePrograms([a, b]);
  const starting = { ...a, backends: a.backends.map((x) => ({ ...x, op: 'starting' as const })) };
  const second = compilePrograms([starting, { ...b, scheduler: 'wrr', backends: [be('198.18.1.21', 80, 2)] }], first);
  assert.equal(second.plans.get('a'), first.plans.get('a'), 'same kernel objects: the plan is reused');
  assert.notEqual(second.plans.get('b'), first.plans.get('b'));
  assert.notEqual(first.services[0], a, 'a private copy');
  assert.deepEqual(renderTransition('t', first, second).diff, { added: [], changed: ['b'], removed: [] });
  assert.equal(renderUpdate('t', first, second), renderUpdate('t', [a, b], second.services));
});

test('IPv6 persistence masks the client with an IPv6 netmask', () => {
  const text = renderTable('t', [
    svc({
      id: 'p6',
      family: 6,
      vip: '2001:db8::100',
      persistence: { timeoutMs: 90_500, netmaskPrefix: 64 },
      backends: [be('2001:db8::21', 80)],
    }),
  ]);
  assert.match(text, /update @svc_p6_aff_2001_db8__21-80 \{ ip6 saddr & ffff:ffff:ffff:ffff:: \}/);
  assert.match(
    text,
    /\t\tip6 saddr & ffff:ffff:ffff:ffff:: @svc_p6_aff_2001_db8__21-80 goto svc_p6_be_2001_db8__21-80/,
  );
  assert.match(text, /typeof ip6 saddr\n\t\tsize 65536\n\t\tflags dynamic,timeout\n\t\ttimeout 90500ms/);
  assert.match(text, /meta l4proto tcp dnat ip6 to \[2001:db8::21\]:80/);
});

test('addresses are written in canonical form; dotted quads with leading zeros or out of range are refused', () => {
  const ok = renderTable('t', [svc({ id: 'a', vip: '198.18.0.100', backends: [be('10.0.0.1', 80)] })]);
  assert.match(ok, /0 : 10\.0\.0\.1 \. 80/);
  for (const bad of ['010.0.0.1', '10.0.0.256', '10.0.0', '10.0.0.1.2', '10..0.1', ' 10.0.0.1', '1e1.0.0.1']) {
    assert.throws(
      () => renderTable('t', [svc({ id: 'a', backends: [be(bad, 80)] })]),
      (e: unknown) => e instanceof TandemError && e.code === 'TND_NFT_PROGRAM',
      bad,
    );
  }
});

test('a fwmark service is an element of dispatchmark4 keyed by protocol and mark; snat matches the mark', () => {
  const fwm = svc({
    id: 'fwm',
    vip: '',
    port: 0,
    fwmark: 7,
    snat: { kind: 'masquerade' },
    backends: [
      { key: '198.18.1.21:0', addr: '198.18.1.21', port: 0, weight: 1, op: 'up', reason: 'up' },
      { key: '198.18.1.22:0', addr: '198.18.1.22', port: 0, weight: 1, op: 'up', reason: 'up' },
    ],
  });
  const text = renderTable('tandem', [web, fwm]);
  assert.match(
    text,
    /map dispatchmark4 \{\n\t\ttype inet_proto \. mark : verdict\n\t\telements = \{ tcp \. 0x00000007 : goto svc_fwm \}/,
  );
  assert.match(text, /typeof numgen inc mod 1 : ip daddr\n\t\telements = \{ 0 : 198\.18\.1\.21, 1 : 198\.18\.1\.22 \}/);
  assert.match(text, /meta nfproto ipv4 meta l4proto tcp meta mark 0x00000007 masquerade/);
  // A mark that another service already claims, or real servers that mix ports, are refused.
  assert.throws(() => renderTable('tandem', [fwm, { ...fwm, id: 'fwm2' }]), /both claim tcp 0x00000007/);
  assert.throws(
    () =>
      renderTable('tandem', [{ ...fwm, backends: [fwm.backends[0]!, { ...fwm.backends[1]!, port: 80, key: 'x' }] }]),
    /a port each or none/,
  );
});
