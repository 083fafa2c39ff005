// The config corpus (test/fixtures/corpus/index.yaml) through `tandem import` and `tandem check`: every entry either
// imports, and its YAML passes `tandem check` and loads to the very config the original file gives, or is rejected
// with exactly the listed diagnostics. Then the real executable, as an operator runs it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { after, test } from 'node:test';
import { parse } from 'yaml';
import { callDaemon } from '../../src/api/client.ts';
import type { DaemonStatus } from '../../src/api/contract.ts';
import { runCheck } from '../../src/cli/check.ts';
import { importConfig } from '../../src/cli/import.ts';
import { bufferIo } from '../../src/cli/io.ts';
import { loadConfig } from '../../src/config/load.ts';
import { diskFs } from '../../src/config/load-files.ts';
import { canBuildLabs, createLab, type Lab } from '../netns/lab.ts';
import { addrsOf, eventually, Output, TANDEM, untilState } from '../netns/tandem-lab.ts';

const root = new URL('../../', import.meta.url).pathname;
const corpus = join(root, 'test/fixtures/corpus');
const tmp = mkdtempSync(join(tmpdir(), 'tandem-import-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Entry {
  id: string;
  style: string;
  files: string[];
  outcome: 'imports' | 'rejected';
  errors?: string[];
  reader_warnings?: string[];
  modes?: Record<string, number>;
  /** keepalived's -i: the config id the file is read with. */
  config_id?: string;
}
const entries = parse(readFileSync(join(corpus, 'index.yaml'), 'utf8')) as Entry[];

/** The disk, with the permission bits the index gives (git keeps only 644 and 755; authkeys default to 0600). */
const fsFor = (e: Entry) => ({
  ...diskFs,
  mode: (p: string) => e.modes?.[relative(corpus, p)] ?? (p.endsWith('/authkeys') ? 0o600 : diskFs.mode(p)),
});
const configIdOf = (e: Entry) => (e.config_id === undefined ? {} : { configId: e.config_id });
const rel = (d: { file: string; line: number; code: string }) => `${relative(corpus, d.file)}:${d.line} ${d.code}`;

// An imported heartbeat cluster names its authkeys as cluster.key_file, which `tandem check` of the YAML reads from
// the disk: give the checked-out files the 0600 that git cannot keep (only the executable bit is tracked).
for (const e of entries) {
  const keys = join(corpus, dirname(e.files[0]!), 'authkeys');
  if (e.files[0]!.startsWith('heartbeat/') && existsSync(keys) && e.modes?.[relative(corpus, keys)] === undefined)
    chmodSync(keys, 0o600);
}

test('the corpus holds at least 20 configurations of each kind of source, each with a style and an outcome', () => {
  assert.ok(entries.length >= 20, `${entries.length} entries`);
  for (const kind of ['keepalived/', 'heartbeat/', 'piranha/'])
    assert.ok(entries.filter((e) => e.files[0]!.startsWith(kind)).length >= 5, kind);
  for (const e of entries) {
    assert.ok(e.style && e.files.length > 0, e.id);
    assert.ok(e.outcome === 'imports' || (e.outcome === 'rejected' && (e.errors?.length ?? 0) > 0), e.id);
    for (const f of e.files) assert.ok(existsSync(join(corpus, f)), `${e.id}: ${f}`);
  }
  assert.equal(new Set(entries.map((e) => e.id)).size, entries.length);
});

for (const e of entries) {
  const files = e.files.map((f) => join(corpus, f));
  if (e.outcome === 'rejected') {
    test(`corpus ${e.id}: rejected with exactly ${e.errors!.join(', ')}`, () => {
      const r = importConfig(files, fsFor(e), undefined, e.config_id);
      assert.equal(r.yaml, undefined);
      const errors = r.diagnostics.filter((d) => d.severity === 'error').map(rel);
      assert.deepEqual(errors, e.errors);
      // `tandem check` on the original file says the same.
      const check = loadConfig(files[0]!, fsFor(e), undefined, configIdOf(e));
      assert.deepEqual(check.diagnostics.filter((d) => d.severity === 'error').map(rel), e.errors);
    });
    continue;
  }
  test(`corpus ${e.id}: imports, the YAML passes tandem check and loads to the same config`, () => {
    const r = importConfig(files, fsFor(e), undefined, e.config_id);
    assert.deepEqual(
      r.diagnostics.filter((d) => d.severity === 'error').map(rel),
      [],
      r.diagnostics.map((d) => `${rel(d)} ${d.message}`).join('\n'),
    );
    assert.ok(r.yaml);
    if (e.reader_warnings)
      assert.deepEqual(r.imported!.diagnostics.filter((d) => d.severity === 'warning').map(rel), e.reader_warnings);
    const out = join(tmp, `${e.id}.yaml`);
    writeFileSync(out, r.yaml);
    const io = bufferIo();
    assert.equal(runCheck([out], { quiet: true }, diskFs, io), 0, io.stdout.join('\n'));
    assert.doesNotMatch(io.stdout.join('\n'), / error /);
    const original = loadConfig(files[0]!, fsFor(e), undefined, configIdOf(e));
    const again = loadConfig(out, diskFs);
    assert.ok(original.config && again.config);
    assert.deepEqual(again.config, original.config);
    // Every line of the source that fed the config is named by a comment.
    assert.match(r.yaml, /^# tandem configuration imported by `tandem import` from /);
    assert.match(r.yaml, new RegExp(`# from ${files[0]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+`));
  });
}

// ---- the real executable

const tandem = (...args: string[]) => {
  const r = spawnSync(join(root, 'bin/tandem'), args, { cwd: tmp, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

/** A copy of a corpus directory with an authkeys file of the given mode. */
function copyDir(from: string, to: string, authkeysMode = 0o600): string {
  const dir = join(tmp, to);
  cpSync(join(corpus, from), dir, { recursive: true });
  if (existsSync(join(dir, 'authkeys'))) chmodSync(join(dir, 'authkeys'), authkeysMode);
  return dir;
}

test('tandem import converts /etc/ha.d-style files to a YAML file that tandem check accepts', () => {
  const dir = copyDir('heartbeat/drbd-nfs', 'ha.d');
  const out = join(tmp, 'drbd.yaml');
  const r = tandem('import', join(dir, 'ha.cf'), '-o', out);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  // The md5 key is the cluster's shared key, by reference: the YAML names the 0600 authkeys, and the key itself
  // reaches neither the terminal nor the YAML.
  const key = /^\d+ md5 (\S+)/m.exec(readFileSync(join(dir, 'authkeys'), 'utf8'))![1]!;
  assert.ok(!r.stderr.includes(key) && !r.stdout.includes(key));
  assert.match(r.stderr, /imported \(heartbeat; 1 VRRP instance, 1 resource group, 0 virtual services; /);
  const yaml = readFileSync(out, 'utf8');
  assert.ok(!yaml.includes(key));
  assert.match(yaml, new RegExp(`key_file: ${dir}/authkeys # ${dir}/authkeys:1`));
  assert.match(yaml, new RegExp(`# from ${dir}/haresources:1 \\(haresources: drbddisk::r0\\)\\n\\s+- name: VI_1`));
  assert.match(yaml, new RegExp(`advert_interval: 1s # ${dir}/ha.cf:3`));
  assert.match(yaml, new RegExp(`#   ${dir}/ha.cf:7:1 TND_CFG_NOT_CARRIED ha.cf: udpport: `));
  const check = tandem('check', out);
  assert.equal(check.code, 0, check.stdout + check.stderr);
  assert.match(check.stderr, /OK \(yaml; 1 VRRP instance/);
});

test('tandem check and tandem import read heartbeat from any of its three files, and lvs.cf, by detection', () => {
  const dir = copyDir('heartbeat/active-active-db', 'aa');
  for (const f of ['ha.cf', 'haresources', 'authkeys']) {
    const r = tandem('check', join(dir, f));
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stderr, /OK \(heartbeat; 2 VRRP instances, 0 sync groups/);
  }
  const lvs = tandem('check', join(corpus, 'piranha/rhel5-nat/lvs.cf'));
  assert.equal(lvs.code, 0, lvs.stdout + lvs.stderr);
  assert.match(lvs.stderr, /OK \(piranha; 1 VRRP instance/);
  const printed = tandem('import', join(corpus, 'piranha/rhel5-nat/lvs.cf'));
  assert.equal(printed.code, 0, printed.stderr);
  assert.match(printed.stdout, /^lb:\n {2}services:\n {4}# from .*lvs\.cf:14 \(virtual http\)\n {4}- name: http$/m);
  const out = join(tmp, 'lvs.yaml');
  writeFileSync(out, printed.stdout);
  assert.equal(tandem('check', '-q', out).code, 0);
});

test('tandem import refuses a world-readable authkeys like heartbeat, writes nothing and exits 1', () => {
  const dir = copyDir('heartbeat/world-readable-authkeys', 'open', 0o644);
  const out = join(tmp, 'never.yaml');
  const r = tandem('import', join(dir, 'ha.cf'), '-o', out);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`^${dir}/authkeys:1:1 error TND_CFG_PERMISSIONS authkeys: mode 0644 `, 'm'));
  assert.match(r.stderr, /nothing written/);
  assert.equal(existsSync(out), false);
  chmodSync(join(dir, 'authkeys'), 0o600);
  assert.equal(tandem('import', join(dir, 'ha.cf'), '-o', out).code, 0);
});

test('tandem import names every error of a rejected file with file:line and exits 1; mixing formats is a usage error', () => {
  const r = tandem('import', join(corpus, 'keepalived/priorty-typo.conf'));
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /priorty-typo\.conf:7:5 error TND_CFG_UNKNOWN_KEY .*did you mean priority\?/);
  assert.match(r.stderr, /priorty-typo\.conf:18:14 error TND_CFG_RANGE /);
  const mixed = tandem(
    'import',
    join(corpus, 'keepalived/do-ubuntu-nginx-primary.conf'),
    join(corpus, 'piranha/rhel5-nat/lvs.cf'),
  );
  assert.equal(mixed.code, 1);
  assert.match(mixed.stderr, /error TND_CLI_USAGE \(import\): import one configuration at a time/);
  assert.equal(tandem('import', '--format', 'xml', 'x').code, 2);
});

test('tandem sim runs a heartbeat config: the backup takes over after deadtime, and auto_failback gives it back', () => {
  const dir = copyDir('heartbeat/linuxha-apache', 'sim');
  const scenario = join(dir, 'scenario.yaml');
  writeFileSync(
    scenario,
    'duration: 150s\nsteps:\n  - { at: 50s, isolate: www1.example.com }\n  - { at: 100s, heal: true }\n',
  );
  const r = tandem('sim', join(dir, 'ha.cf'), '-s', scenario, '--json');
  assert.equal(r.code, 0, r.stderr);
  const events = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { at?: number; node?: string; to?: string });
  const at = (node: string, to: string) =>
    events.filter((e) => e.node === node && e.to === to).map((e) => e.at ?? Number.NaN);
  // deadtime 30 s, keepalive 2 s: 15 adverts missed, plus the skew of priority 100 (about 1.2 s).
  const takeover = at('www2.example.com', 'MASTER');
  assert.equal(takeover.length, 1, r.stdout);
  assert.ok(takeover[0]! - 50_000 >= 30_000 && takeover[0]! - 50_000 <= 31_500, `takeover at ${takeover[0]} ms`);
  assert.equal(at('www2.example.com', 'BACKUP').filter((t) => t > 100_000).length, 1, 'failback after the heal');
});

// ---- the imported configurations run for real: two tandem daemons in network namespaces

const skipLab = canBuildLabs() ? false : 'needs root and ip netns';

/** Starts `tandem run -c FILE` in a lab host; resolves when its control socket answers. */
async function runIn(lab: Lab, host: string, file: string, node: string, dir: string) {
  const control = join(dir, `${host}.sock`);
  const child = lab.spawn(host, process.execPath, [TANDEM, 'run', '-c', file, '--node', node, '--control', control]);
  const out = new Output(child);
  const status = async (): Promise<DaemonStatus> => {
    const r = await callDaemon(control, 'GET', '/v1/status', undefined, 2_000);
    if (!r.ok) throw new Error(r.message);
    return r.body as DaemonStatus;
  };
  await eventually(`tandem in ${host} answers (${out.text()})`, status, () => true, 20_000);
  return { host, child, out, control, status };
}

async function failover(files: Record<string, string>, entry: string, nodes: [string, string], vip: string) {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-import-lab-'));
  for (const [name, text] of Object.entries(files))
    writeFileSync(join(dir, name), text, { mode: name === 'authkeys' ? 0o600 : 0o644 });
  const lab = await createLab(['d1', 'd2']);
  try {
    const a = await runIn(lab, 'd1', join(dir, entry), nodes[0], dir);
    const b = await runIn(lab, 'd2', join(dir, entry), nodes[1], dir);
    await untilState(a, 'MASTER');
    await untilState(b, 'BACKUP');
    assert.ok((await addrsOf(lab, 'd1')).includes(vip));
    a.child.kill('SIGTERM');
    await untilState(b, 'MASTER');
    await eventually(
      'the VIP moves to d2',
      () => addrsOf(lab, 'd2'),
      (x) => x.includes(vip),
    );
  } finally {
    await lab.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('tandem run -c ha.cf (with haresources and authkeys beside it): the preferred node is master, the other takes over', {
  skip: skipLab,
}, async () => {
  await failover(
    {
      'ha.cf': 'keepalive 500ms\ndeadtime 2\nbcast eth0\nauto_failback on\nnode d1\nnode d2\nlogfacility local0\n',
      haresources: 'd1 IPaddr2::198.18.0.100/24/eth0\n',
      authkeys: 'auth 1\n1 sha1 lab-only-key\n',
    },
    'ha.cf',
    ['d1', 'd2'],
    '198.18.0.100',
  );
});

test('tandem run -c lvs.cf: the primary router is master over unicast, the backup takes over', {
  skip: skipLab,
}, async () => {
  await failover(
    {
      'lvs.cf':
        'serial_no = 1\nprimary = 198.18.0.11\nbackup = 198.18.0.12\nbackup_active = 1\nheartbeat = 1\n' +
        'keepalive = 1\ndeadtime = 3\nnetwork = nat\nnat_router = 198.18.0.254 eth0:1\n',
    },
    'lvs.cf',
    ['primary', 'backup'],
    '198.18.0.254',
  );
});
