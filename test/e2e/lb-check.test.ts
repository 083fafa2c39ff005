// `tandem check` on load-balancer configs, driven through the real bin/tandem as an operator would run it: the same
// mistakes written in tandem YAML and in keepalived.conf are each reported at the user's own line, in one run.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const root = new URL('../../', import.meta.url).pathname;
const tandem = (...args: string[]) => {
  const r = spawnSync(join(root, 'bin/tandem'), args, { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

/** The `file:line: CODE` of every line of `file` marked with a comment `# MISTAKE: CODE`. */
function marked(file: string): string[] {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  return lines.flatMap((l, i) => {
    const m = /# MISTAKE: (TND_[A-Z_]+)/.exec(l);
    return m ? [`${file}:${i + 1}: ${m[1]}`] : [];
  });
}

/** The `file:line: CODE` of every error printed. */
const errorsOf = (stdout: string): string[] =>
  stdout
    .split('\n')
    .filter((l) => / error /.test(l))
    .map((l) => l.replace(/^(\S+?):(\d+):\d+ error (\S+) .*$/, '$1:$2: $3'));

for (const file of ['test/fixtures/yaml/lb-4-mistakes.yaml', 'test/fixtures/keepalived/lb-4-mistakes.conf']) {
  test(`tandem check rejects ${file}: a port out of range, an unknown scheduler, a negative weight and a check without a target, each at its marked line`, () => {
    const r = tandem('check', '-q', file);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const expected = marked(file);
    assert.equal(expected.length, 4, 'the fixture marks four mistakes');
    assert.deepEqual(errorsOf(r.stdout), expected, r.stdout);
    assert.deepEqual(
      expected.map((m) => m.split(': ')[1]),
      ['TND_CFG_RANGE', 'TND_CFG_ENUM', 'TND_CFG_RANGE', 'TND_CFG_LB_CHECK_TARGET'],
    );
  });
}

test('the messages name the problem in the words of the file the user wrote', () => {
  const yaml = tandem('check', '-q', 'test/fixtures/yaml/lb-4-mistakes.yaml').stdout;
  assert.match(yaml, /lb\.services\[0\]\.port: must be ≤ 65535, got 84430/);
  assert.match(
    yaml,
    /lb\.services\[1\]\.scheduler: must be one of "rr", "wrr", "lc", "wlc", "sh", "mh", got "roundrobin"/,
  );
  const conf = tandem('check', '-q', 'test/fixtures/keepalived/lb-4-mistakes.conf').stdout;
  assert.match(conf, /virtual_server 198\.18\.0\.100 84430: port: must be ≤ 65535, got 84430/);
  assert.match(conf, /virtual_server 198\.18\.0\.100 80: real_server 198\.18\.1\.11 80: weight: must be ≥ 0, got -1/);
  assert.match(conf, /TCP_CHECK: this tcp check has no port to connect to/);
});

test('tandem check accepts the two-director LVS-NAT keepalived.conf with only its expected warnings', () => {
  const file = 'test/fixtures/keepalived/lb-two-directors.conf';
  const r = tandem('check', file);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.deepEqual(
    r.stdout
      .trim()
      .split('\n')
      .map((l) => l.replace(/^\S+?:(\d+):\d+ (\S+) (\S+) .*$/, '$1 $2 $3')),
    // notification_email (7) and smtp_server (10) are read since issue 12 (alerts.email).
    ['69 warning TND_CFG_DEPRECATED'],
  );
  assert.match(r.stderr, /lb-two-directors\.conf: OK \(keepalived; 2 VRRP instances, 1 sync group, 1 warning\)/);
});

test('tandem check accepts the YAML twin of the two-director file without a warning', () => {
  const r = tandem('check', 'test/fixtures/yaml/lb-two-directors.yaml');
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /lb-two-directors\.yaml: OK \(yaml; 2 VRRP instances, 1 sync group\)/);
});

test('tandem check --json prints one diagnostic object per line, with file, line, column, code and path', () => {
  const r = tandem('check', '--json', 'test/fixtures/keepalived/lb-4-mistakes.conf');
  assert.equal(r.code, 1);
  const ds = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { line: number; code: string; path: string; severity: string });
  assert.deepEqual(
    ds.filter((d) => d.severity === 'error').map((d) => [d.line, d.code]),
    [
      [16, 'TND_CFG_RANGE'],
      [28, 'TND_CFG_ENUM'],
      [32, 'TND_CFG_RANGE'],
      [48, 'TND_CFG_LB_CHECK_TARGET'],
    ],
  );
});
