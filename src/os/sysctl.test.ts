import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { forwardingOff, readSysctl } from './sysctl.ts';

test('sysctls are read from their /proc/sys path; a missing one is undefined; forwarding that is off is named', () => {
  const root = mkdtempSync(join(tmpdir(), 'tandem-sysctl-'));
  try {
    mkdirSync(join(root, 'net/ipv4'), { recursive: true });
    writeFileSync(join(root, 'net/ipv4/ip_forward'), '0\n');
    assert.equal(readSysctl('net.ipv4.ip_forward', root), '0');
    assert.equal(readSysctl('net.ipv6.conf.all.forwarding', root), undefined);
    assert.deepEqual(forwardingOff(root), ['net.ipv4.ip_forward']);
    writeFileSync(join(root, 'net/ipv4/ip_forward'), '1\n');
    assert.deepEqual(forwardingOff(root), []);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
