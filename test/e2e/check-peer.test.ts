// `tandem check d1.conf --peer d2.conf` on keepalived.conf pairs in keepalived's own syntax, through bin/tandem.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const root = new URL('../../', import.meta.url).pathname;
const fx = join(root, 'test/fixtures/keepalived');
const tandem = (args: string[]) =>
  spawnSync(process.execPath, [join(root, 'bin/tandem'), ...args], { encoding: 'utf8', timeout: 30_000 });

test('the tutorial MASTER/BACKUP pair: everything that must match does, state and priority are listed as expected differences; exit 0', () => {
  const r = tandem(['check', join(fx, 'tutorial-master.conf'), '--peer', join(fx, 'tutorial-backup.conf')]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /must match: \d+ equal, 0 mismatches/);
  assert.match(r.stdout, /vrrp_instance VI_1: state +MASTER {2}\| {2}BACKUP/);
  assert.match(r.stdout, /vrrp_instance VI_1: priority +100 {2}\| {2}90/);
});

test('a backup with another VRID and password: each mismatch at its line, the password never printed; exit 1', () => {
  const dir = mkdtempSync(join(tmpdir(), `t13c-${process.pid}-`));
  try {
    const bad = join(dir, 'lb2.conf');
    writeFileSync(
      bad,
      readFileSync(join(fx, 'tutorial-backup.conf'), 'utf8')
        .replace('virtual_router_id 52', 'virtual_router_id 53')
        .replace('auth_pass 1111', 'auth_pass zz99'),
    );
    const r = tandem(['check', join(fx, 'tutorial-master.conf'), '--peer', bad]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /tutorial-master\.conf:49:23 error TND_PEER_MISMATCH vrrp_instance VI_2: virtual_router_id: virtual_router_id must match: 52 here, 53 in .*lb2\.conf \(.*lb2\.conf:49:23\)/,
    );
    assert.match(
      r.stdout,
      /tutorial-master\.conf:33:19 error TND_PEER_MISMATCH vrrp_instance VI_1: auth_pass: auth_pass must match: differs/,
    );
    assert.doesNotMatch(r.stdout + r.stderr, /zz99|1111/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a peer file with a syntax error is reported as tandem check does, and nothing is compared; exit 1', () => {
  const r = tandem(['check', join(fx, 'tutorial-master.conf'), '--peer', join(fx, 'tutorial-3-mistakes.conf')]);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /tutorial-3-mistakes\.conf:\d+:\d+ error TND_CFG_/);
  assert.doesNotMatch(r.stdout, /must match/);
});
