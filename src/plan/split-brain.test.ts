import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDiagnostic } from '../config/diagnostics.ts';
import { loadConfig } from '../config/load.ts';
import { nodePlan } from './node-plan.ts';

const KEY = `hex:${'ab'.repeat(32)}\n`;

/** Loads YAML (or keepalived.conf) text from a memory fs with a key file of the given mode. */
function load(text: string, opts: { file?: string; keyMode?: number; key?: string } = {}) {
  const file = opts.file ?? '/etc/tandem/tandem.yaml';
  const files: Record<string, string> = { [file]: text, '/etc/tandem/cluster.key': opts.key ?? KEY };
  return loadConfig(file, {
    read: (p) => files[p],
    glob: () => [],
    mode: (p: string) => (p.endsWith('.key') ? (opts.keyMode ?? 0o600) : 0o644),
  } as Parameters<typeof loadConfig>[1]);
}
const lines = (r: ReturnType<typeof load>) => r.diagnostics.map(formatDiagnostic);

const CLUSTER = `
cluster:
  key_file: /etc/tandem/cluster.key
  nodes:
    - { name: d1, address: 198.18.0.11, addresses: [198.18.1.11] }
    - { name: d2, address: 198.18.0.12, addresses: [198.18.1.12] }
vrrp:
  track_pings:
    gw: { targets: [198.18.0.1] }
    up: { targets: [192.0.2.1, 192.0.2.2], weight: 60 }
  instances:
    - name: VI_1
      interface: eth0
      vrid: 51
      priority: { d1: 150, d2: 100 }
      advert_interval: 100ms
      vips: [198.18.0.100/24]
      guard: { peer_probe: [80, 443] }
      paths:
        - interface: eth1
          unicast: { peers: [198.18.1.11, 198.18.1.12], source: { d1: 198.18.1.11, d2: 198.18.1.12 } }
      track: { pings: [{ name: gw }, { name: up }] }
      auth_hmac: { key_id: 3 }
fencing:
  devices:
    virsh: { agent: fence_virsh, params: { ip: 198.18.0.1, username: root, plug: { d1: vm1, d2: vm2 } } }
groups:
  - { name: web, owner: VI_1, fence: virsh, resources: [{ type: script, start: /bin/true, stop: /bin/true }] }
`;

test('split-brain keys: a full guarded cluster loads clean and plans the guard, paths, pings, fencing and HMAC', () => {
  const r = load(CLUSTER);
  assert.deepEqual(lines(r), []);
  const p = nodePlan(r.config!, 'd2');
  const vi = p.instances[0]!;
  assert.deepEqual(vi.guard, {
    timeoutMs: 100,
    peerChannel: true,
    icmp: true,
    ports: [80, 443],
    fence: { device: 'virsh', timeoutMs: 30_000, retryMs: 30_000 },
  });
  assert.deepEqual(vi.paths, [{ interface: 'eth1', unicastPeers: ['198.18.1.11'], unicastSrc: '198.18.1.12' }]);
  assert.deepEqual(vi.hmac, {
    keyFile: '/etc/tandem/cluster.key',
    keyId: 3,
    mode: 'enforce',
    antiReplay: 'time',
    timeWindowMs: 5_000,
  });
  assert.deepEqual(
    vi.trackers.filter((t) => t.id.startsWith('ping:')),
    [
      { id: 'ping:gw', weight: 0, reverse: false },
      { id: 'ping:up', weight: 60, reverse: false },
    ],
  );
  assert.deepEqual(Object.keys(p.pings ?? {}), ['gw', 'up']);
  assert.deepEqual(Object.keys(p.fencing ?? {}), ['virsh']);
  assert.deepEqual(p.cluster?.nodes, [
    { name: 'd1', addresses: ['198.18.0.11', '198.18.1.11'] },
    { name: 'd2', addresses: ['198.18.0.12', '198.18.1.12'] },
  ]);
  assert.deepEqual(p.cluster?.peerChannel, { port: 7694, windowMs: 30_000 });
});

test('the guard is on by default in YAML, with the advert interval as deadline within 50ms..1s; off is plain VRRP', () => {
  const base = (extra: string, advert = '1s') =>
    `vrrp:\n  instances:\n    - { name: VI_1, interface: eth0, vrid: 51, advert_interval: ${advert}, vips: [198.18.0.100]${extra} }\n`;
  assert.equal(nodePlan(load(base('')).config!, 'x').instances[0]!.guard?.timeoutMs, 1000);
  assert.equal(nodePlan(load(base('', '20ms')).config!, 'x').instances[0]!.guard?.timeoutMs, 50);
  assert.equal(nodePlan(load(base('', '3s')).config!, 'x').instances[0]!.guard?.timeoutMs, 1000);
  assert.equal(nodePlan(load(base(', guard: { enabled: false }')).config!, 'x').instances[0]!.guard, undefined);
  assert.equal(nodePlan(load(base('')).config!, 'x').cluster?.peerChannel, undefined, 'no key: no peer channel');
});

test('a keepalived.conf keeps its meaning: no guard', () => {
  const conf = `vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  priority 100\n  virtual_ipaddress {\n    198.18.0.100\n  }\n}\n`;
  const r = load(conf, { file: '/etc/keepalived/keepalived.conf' });
  assert.ok(r.config, lines(r).join('\n'));
  assert.equal(nodePlan(r.config!, 'x').instances[0]!.guard, undefined);
});

test('split-brain keys: every mistake in one run, in the file, with where and why', () => {
  const bad = `
cluster: { key_file: /etc/tandem/cluster.key }
vrrp:
  instances:
    - name: VI_1
      interface: eth0
      vrid: 51
      version: 2
      vips: [198.18.0.100]
      guard: { fence: nosuch, timeout: 20s }
      track: { pings: [{ name: nosuch }] }
      auth: { type: pass, password: secret }
      auth_hmac: {}
      paths: [{ interface: eth0 }, { interface: eth1, unicast: { peers: ["2001:db8::1"] } }]
groups:
  - { name: g, owner: VI_1, fence: nope, resources: [{ type: script, start: /bin/true, stop: /bin/true }] }
`;
  const got = lines(load(bad)).join('\n');
  for (const re of [
    /tandem\.yaml:10:\d+ error TND_CFG_UNKNOWN_REF vrrp\.instances\[0\]\.guard\.fence: no fencing\.devices\.nosuch/,
    /tandem\.yaml:10:\d+ error TND_CFG_RANGE vrrp\.instances\[0\]\.guard\.timeout: must be 10ms\.\.10s, got 20s/,
    /tandem\.yaml:11:\d+ error TND_CFG_UNKNOWN_REF vrrp\.instances\[0\]\.track\.pings\[0\]\.name: no vrrp\.track_pings\.nosuch/,
    /error TND_CFG_DUPLICATE vrrp\.instances\[0\]\.auth_hmac: auth_hmac and auth \(PASS\) are exclusive/,
    /error TND_CFG_DUPLICATE vrrp\.instances\[0\]\.paths\[0\]\.interface: eth0 already carries/,
    /error TND_CFG_MIXED_FAMILY vrrp\.instances\[0\]\.paths\[1\]\.unicast\.peers\[0\]/,
    /tandem\.yaml:16:\d+ error TND_CFG_UNKNOWN_REF groups\[0\]\.fence: no fencing\.devices\.nope/,
  ])
    assert.match(got, re);
  const nokey = lines(
    load(`vrrp:\n  instances:\n    - { name: VI_1, interface: eth0, vrid: 51, vips: [198.18.0.100], auth_hmac: {} }\n`),
  ).join('\n');
  assert.match(nokey, /TND_CFG_REQUIRED vrrp\.instances\[0\]\.auth_hmac: auth_hmac needs a key/);
});

test('key files: missing (TND_CFG_IO), readable by others (TND_CFG_PERMISSIONS), or too short (TND_CFG_KEY), at the key_file line', () => {
  const text = 'cluster:\n  key_file: /etc/tandem/cluster.key\n';
  assert.match(
    lines(load(text, { keyMode: 0o644 })).join('\n'),
    /tandem\.yaml:2:\d+ error TND_CFG_PERMISSIONS cluster\.key_file: .* mode 0644/,
  );
  assert.match(lines(load(text, { key: 'short' })).join('\n'), /TND_CFG_KEY .*32\.\.64 bytes, this one is 5/);
  const missing = lines(load('cluster:\n  key_file: /nope.key\n')).join('\n');
  assert.match(missing, /TND_CFG_IO cluster\.key_file: cannot read the key file \/nope\.key/);
});
