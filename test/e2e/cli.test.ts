// Drives the real `bin/tandem` executable as an operator would, and asserts on its output and exit status.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const root = new URL('../../', import.meta.url).pathname;
const tandem = (...args: string[]) => {
  const r = spawnSync(join(root, 'bin/tandem'), args, { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const tmp = mkdtempSync(join(tmpdir(), 'tandem-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('tandem --help lists every command, and each command has its own help', () => {
  const r = tandem('--help');
  assert.equal(r.code, 0);
  for (const cmd of ['check', 'sim']) assert.match(r.stdout, new RegExp(`\\n  ${cmd} `));
  for (const cmd of ['check', 'sim']) {
    const h = tandem(cmd, '--help');
    assert.equal(h.code, 0, `${cmd} --help`);
    assert.match(h.stdout, new RegExp(`Usage: tandem ${cmd}`));
  }
});

test('tandem check exits 0 on a tutorial keepalived.conf (two instances, a vrrp_script, a sync group)', () => {
  const r = tandem('check', 'test/fixtures/keepalived/tutorial-master.conf');
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stderr, /tutorial-master\.conf: OK \(keepalived; 2 VRRP instances, 1 sync group/);
  assert.doesNotMatch(r.stdout, / error /);
});

test('tandem check prints three diagnostics with correct line numbers for three mistakes, and exits 1', () => {
  const file = 'test/fixtures/keepalived/tutorial-3-mistakes.conf';
  const r = tandem('check', '-q', file);
  assert.equal(r.code, 1);
  const errors = r.stdout.split('\n').filter((l) => / error /.test(l));
  assert.equal(errors.length, 3, r.stdout);
  // Each expected line is marked in the fixture with a comment "# MISTAKE: CODE".
  const text = readFileSync(join(root, file), 'utf8').split('\n');
  const marked = text.flatMap((l, i) => {
    const m = /MISTAKE: (TND_[A-Z_]+)/.exec(l);
    return m ? [`${file}:${i + 1}: ${m[1]}`] : [];
  });
  assert.deepEqual(
    errors.map((l) => l.replace(/^(\S+?):(\d+):\d+ error (\S+) .*$/, '$1:$2: $3')),
    marked,
  );
});

test('tandem check on YAML reports every problem and the exit status follows errors, not warnings', () => {
  const good = join(tmp, 'ok.yaml');
  writeFileSync(good, 'vrrp:\n  instances:\n    - { name: VI_1, interface: eth0, vrid: 1 }\n');
  const r = tandem('check', good);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /ok\.yaml:3:7 warning TND_CFG_NO_VIPS vrrp\.instances\[0\]\.vips: /);
  const bad = tandem('check', 'test/fixtures/yaml/three-mistakes.yaml');
  assert.equal(bad.code, 1);
  assert.equal(bad.stdout.trim().split('\n').length, 4);
  assert.match(bad.stderr, /three-mistakes\.yaml: 4 errors, 0 warnings/);
});

test('tandem check on a missing file says so and exits 1; a bad flag exits 2', () => {
  const r = tandem('check', join(tmp, 'nope.yaml'));
  assert.equal(r.code, 1);
  assert.match(r.stdout, /nope\.yaml:1:1 error TND_CFG_IO/);
  assert.equal(tandem('check', '--format', 'xml', 'x').code, 2);
});

test('tandem sim runs the demo cluster: the backup takes over when the master is cut off, and gives back', () => {
  const r = tandem('sim', 'examples/two-directors.yaml');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /d1 +VI_1 +BACKUP -> MASTER/);
  assert.match(r.stdout, /d2 +VI_1 +BACKUP -> MASTER +\(master-down/);
  assert.match(r.stdout, /client-visible gap/);
});
