import assert from 'node:assert/strict';
import { test } from 'node:test';
import { memoryFs } from '../config/import/memory-fs.ts';
import { importConfig, runImport } from './import.ts';
import { bufferIo } from './io.ts';

const files = {
  '/etc/ha.d/ha.cf': 'keepalive 1\ndeadtime 10\nbcast eth0\nauto_failback on\nnode n1\nnode n2\nudpport 694\n',
  '/etc/ha.d/haresources': 'n1 IPaddr2::198.18.0.10/24/eth0 httpd\n',
  '/etc/ha.d/authkeys': 'auth 1\n1 sha1 k\n',
  '/srv/alt/authkeys': 'auth 2\n2 md5 k\n',
  '/etc/keepalived/keepalived.conf':
    'vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 9\n  virtual_ipaddress {\n    198.18.0.20/24\n  }\n}\n',
  '/etc/sysconfig/ha/lvs.cf':
    'primary = 198.18.0.1\nbackup = 198.18.0.2\nnetwork = nat\nnat_router = 198.19.0.254 eth1:1\n',
  '/srv/t.yaml': 'vrrp: {}\n',
};
const deps = (modes: Record<string, number> = {}) => {
  const written: Record<string, string> = {};
  return {
    written,
    io: bufferIo(),
    fs: { ...memoryFs(files), mode: (p: string) => modes[p] ?? 0o600 },
    writeFile: (p: string, t: string) => {
      written[p] = t;
    },
  };
};

test('tandem import prints the YAML to stdout, and the summary and warnings to stderr', () => {
  const d = deps();
  assert.equal(runImport(['/etc/ha.d/ha.cf'], {}, d), 0);
  const yaml = d.io.stdout.join('\n');
  assert.match(yaml, /^# tandem configuration imported by `tandem import` from heartbeat: \/etc\/ha\.d\/ha\.cf, /);
  assert.match(yaml, /\n {4}# from \/etc\/ha\.d\/haresources:1 \(haresources: IPaddr2::198\.18\.0\.10\/24\/eth0\)\n/);
  assert.match(yaml, /\n# {3}\/etc\/ha\.d\/ha\.cf:7:1 TND_CFG_NOT_CARRIED ha\.cf: udpport: /);
  // The sha1 key is the cluster key by reference (cluster.key_file): a note in the YAML, not a warning.
  assert.match(yaml, /\n {2}key_file: \/etc\/ha\.d\/authkeys # \/etc\/ha\.d\/authkeys:1\n/);
  assert.match(
    d.io.stderr[0]!,
    /^\/etc\/ha\.d\/ha\.cf: imported \(heartbeat; 1 VRRP instance, 1 resource group, 0 virtual services; 0 warnings, 2 other settings not carried over\)$/,
  );
});

test('with -o the YAML goes to the file; haresources or authkeys named on the command line are used', () => {
  const d = deps();
  assert.equal(runImport(['/etc/ha.d/ha.cf'], { output: '/tmp/out.yaml' }, d), 0);
  assert.deepEqual(d.io.stdout, []);
  assert.match(d.written['/tmp/out.yaml']!, /\ngroups:\n/);
  assert.match(d.io.stderr.at(-1)!, / → \/tmp\/out\.yaml$/);
  // Any of the three files names the configuration; one in another directory replaces the sibling.
  const viaRes = importConfig(['/etc/ha.d/haresources'], deps().fs);
  assert.deepEqual(viaRes.imported?.files, ['/etc/ha.d/ha.cf', '/etc/ha.d/haresources', '/etc/ha.d/authkeys']);
  const alt = importConfig(['/etc/ha.d/ha.cf', '/srv/alt/authkeys'], deps().fs);
  assert.deepEqual(alt.imported?.files, ['/etc/ha.d/ha.cf', '/etc/ha.d/haresources', '/srv/alt/authkeys']);
  assert.match(alt.imported!.notes.find((n) => n.path === 'authkeys: auth')!.message, /heartbeat's md5 key/);
  assert.equal((alt.imported!.raw as { cluster: { key_file?: string } }).cluster.key_file, '/srv/alt/authkeys');
});

test('keepalived.conf and lvs.cf import on their own; --format forces the reader', () => {
  const ka = importConfig(['/etc/keepalived/keepalived.conf'], deps().fs);
  assert.equal(ka.format, 'keepalived');
  assert.match(ka.yaml!, /# from \/etc\/keepalived\/keepalived\.conf:1 \(vrrp_instance VI_1\)/);
  const lvs = importConfig(['/etc/sysconfig/ha/lvs.cf'], deps().fs);
  assert.equal(lvs.format, 'piranha');
  assert.match(lvs.yaml!, /name: primary/);
  const forced = importConfig(['/etc/sysconfig/ha/lvs.cf'], deps().fs, 'heartbeat');
  assert.equal(forced.format, 'heartbeat');
  assert.ok(forced.diagnostics.some((d) => d.severity === 'error'));
});

test('errors print as file:line:col, nothing is written, and the exit status is 1', () => {
  const d = deps({ '/etc/ha.d/authkeys': 0o644 });
  assert.equal(runImport(['/etc/ha.d/ha.cf'], { output: '/tmp/out.yaml' }, d), 1);
  assert.deepEqual(d.written, {});
  assert.deepEqual(d.io.stdout, []);
  assert.match(d.io.stderr.join('\n'), /^\/etc\/ha\.d\/authkeys:1:1 error TND_CFG_PERMISSIONS authkeys: mode 0644 /m);
  assert.match(d.io.stderr.at(-1)!, /1 error; nothing written$/);
});

test('usage errors: no file, a missing file, tandem YAML, two configurations at once', () => {
  const code = (fs: string[]) => importConfig(fs, deps().fs).diagnostics.map((d) => `${d.code} ${d.message}`);
  assert.match(code([])[0]!, /^TND_CLI_USAGE name the file/);
  assert.deepEqual(code(['/nope']), ['TND_CFG_IO cannot read the file']);
  assert.match(code(['/srv/t.yaml'])[0]!, /^TND_CLI_USAGE \/srv\/t\.yaml is tandem YAML already/);
  assert.match(
    code(['/etc/keepalived/keepalived.conf', '/etc/sysconfig/ha/lvs.cf'])[0]!,
    /^TND_CLI_USAGE import one configuration at a time \(got \/etc\/keepalived\/keepalived\.conf: keepalived, \/etc\/sysconfig\/ha\/lvs\.cf: piranha\)/,
  );
});
