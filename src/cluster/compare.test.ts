import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadConfig } from '../config/load.ts';
import { diskFs } from '../config/load-files.ts';
import { compareConfigs, type Side } from './compare.ts';
import { locatorOf } from './config-check.ts';

const dir = new URL('../../test/fixtures/keepalived/', import.meta.url).pathname;
const master = readFileSync(`${dir}tutorial-master.conf`, 'utf8');
const backup = readFileSync(`${dir}tutorial-backup.conf`, 'utf8');

function side(file: string, text: string): Side {
  const fs = { read: (p: string) => (p === file ? text : diskFs.read(p)), glob: (p: string) => diskFs.glob(p) };
  const r = loadConfig(file, fs, 'keepalived', { configId: 'lb' });
  assert.ok(r.config, JSON.stringify(r.diagnostics.filter((d) => d.severity === 'error')));
  return { name: file, config: r.config, locator: locatorOf({ text, file }, fs, 'keepalived', 'lb') };
}

test("the tutorial's MASTER and BACKUP keepalived.conf match where they must; state, priority and unicast differ", () => {
  const c = compareConfigs(side('lb1.conf', master), side('lb2.conf', backup));
  assert.deepEqual(c.mismatches, []);
  assert.ok(c.matched >= 15);
  assert.deepEqual(
    c.differences.map((d) => `${d.what}: ${d.a} | ${d.b}`),
    [
      'vrrp_instance VI_1: state: MASTER | BACKUP',
      'vrrp_instance VI_1: priority: 100 | 90',
      'vrrp_instance VI_2: state: MASTER | BACKUP',
      'vrrp_instance VI_2: priority: 100 | 90',
      'vrrp_instance VI_2: unicast source: 192.168.7.11 | 192.168.7.12',
      'vrrp_instance VI_2: unicast peers: 192.168.7.12 | 192.168.7.11',
    ],
  );
});

test('a VRID, a VIP, the password, a real server and a unicast peer that differ are mismatches at their lines; the password is never printed', () => {
  const bad = backup
    .replace('virtual_router_id 51', 'virtual_router_id 61')
    .replace('192.168.7.100/24 dev eth0', '192.168.7.110/24 dev eth0')
    .replace('auth_pass 1111', 'auth_pass s3cret')
    .replace('real_server 192.168.7.21 80', 'real_server 192.168.7.22 80')
    .replace(/unicast_peer \{\n\s+192\.168\.7\.11/, 'unicast_peer {\n        192.168.7.13');
  const c = compareConfigs(side('lb1.conf', master), side('lb2.conf', bad));
  const lines = c.mismatches.map((d) => `${d.file}:${d.line} ${d.code} ${d.path}: ${d.message}`);
  assert.deepEqual(lines, [
    'lb1.conf:27 TND_PEER_MISMATCH vrrp_instance VI_1: virtual_router_id: virtual_router_id must match: 51 here, 61 in lb2.conf (lb2.conf:27:23)',
    'lb1.conf:35 TND_PEER_MISMATCH vrrp_instance VI_1: virtual_ipaddress: virtual_ipaddress must match: 192.168.7.100/24 dev eth0 here, 192.168.7.110/24 dev eth0 in lb2.conf (lb2.conf:35:5)',
    'lb1.conf:33 TND_PEER_MISMATCH vrrp_instance VI_1: auth_pass: auth_pass must match: differs (lb2.conf:33:19)',
    "lb2.conf:53 TND_PEER_MISMATCH vrrp_instance VI_2: unicast_peer: vrrp_instance VI_2: lb1.conf's unicast source 192.168.7.11 is not among these unicast peers (192.168.7.13)",
    'lb1.conf:72 TND_PEER_MISMATCH virtual_server 192.168.7.100 80: real servers must match: 192.168.7.21:80 weight 1 here, 192.168.7.22:80 weight 1 in lb2.conf (lb2.conf:72:1)',
  ]);
  assert.ok(!JSON.stringify(c).includes('s3cret') && !JSON.stringify(c).includes('1111'));
});

test('an instance or virtual server only one director has is a mismatch', () => {
  const only = master.replace(/vrrp_instance VI_2 \{[\s\S]*?\n\}\n/, '').replace(/\s+VI_2\n/, '\n');
  const c = compareConfigs(side('lb1.conf', only), side('lb2.conf', backup));
  assert.ok(
    c.mismatches.some((d) => d.file === 'lb2.conf' && /vrrp_instance VI_2 is not in lb1\.conf/.test(d.message)),
  );
});
