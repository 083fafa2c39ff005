import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { configSchema } from '../config/schema.ts';
import { memoryLogger } from '../core/log.ts';
import type { RsVerb } from '../lb/status.ts';
import { parseStateFile, RuntimeState, stateFilePath } from './runtime-state.ts';

const cfg = (weight = 1) =>
  configSchema.parse({
    cluster: { nodes: [{ name: 'd1' }] },
    vrrp: { instances: [{ name: 'VI_1', interface: 'eth0', vrid: 51, vips: ['198.18.0.100/24'] }] },
    lb: {
      services: [{ name: 'web', vip: '198.18.0.100', port: 80, real_servers: [{ address: '198.18.1.11', weight }] }],
    },
  });

test('the state file: TANDEM_STATE_FILE, then systemd StateDirectory, then /var/lib/tandem, then beside the socket', () => {
  assert.equal(stateFilePath('/x.sock', '/run/tandem/tandem.sock', { TANDEM_STATE_FILE: '/s' }), '/s');
  assert.equal(
    stateFilePath('/x.sock', '/run/tandem/tandem.sock', { STATE_DIRECTORY: '/var/lib/t:/y' }),
    '/var/lib/t/state.json',
  );
  assert.equal(stateFilePath('/run/tandem/tandem.sock', '/run/tandem/tandem.sock', {}), '/var/lib/tandem/state.json');
  assert.equal(stateFilePath('/tmp/a.sock', '/run/tandem/tandem.sock', {}), '/tmp/a.sock.state.json');
});

test('a state file is parsed totally: anything else is a reason, never an exception', () => {
  for (const bad of [
    '',
    '{',
    'null',
    '[]',
    '{"version":2}',
    '{"version":1,"servers":{"a b":{}},"instances":{}}',
    '{"version":1,"servers":{"a b":{"config":"x","admin":"off"}},"instances":{}}',
    '{"version":1,"servers":{},"instances":{"VI_1":{"mode":"x","config":"y"}}}',
  ])
    assert.equal(parseStateFile(bad).ok, false, bad);
  assert.equal(parseStateFile('{"version":1,"node":"d1","servers":{},"instances":{}}').ok, true);
});

test('recorded changes are written 0600 and put back only where the config did not change', async () => {
  const dir = mkdtempSync(join(tmpdir(), `t12s-${process.pid}-rt-`));
  try {
    const path = join(dir, 'sub', 'state.json');
    const a = new RuntimeState(path, 'd1', cfg(), memoryLogger());
    a.recordRs('web', { verb: 'maint', server: '198.18.1.11:80' });
    a.recordRs('web', { verb: 'weight', server: '198.18.1.11:80', weight: 9 });
    a.recordMode('takeover', ['VI_1'], false);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const calls: string[] = [];
    const target = {
      rs: async (s: string, r: RsVerb) => {
        calls.push(`${s} ${r.verb} ${r.server}${r.verb === 'weight' ? ` ${r.weight}` : ''}`);
        return { ok: true as const, service: s, server: r.server, verb: r.verb };
      },
      standby: (n: string[]) => {
        calls.push(`standby ${n}`);
        return n;
      },
      takeover: (n: string[]) => {
        calls.push(`takeover ${n}`);
        return n;
      },
    };
    await new RuntimeState(path, 'd1', cfg(), memoryLogger()).restore(target);
    assert.deepEqual(calls, ['web weight 198.18.1.11:80 9', 'web maint 198.18.1.11:80', 'takeover VI_1']);
    calls.length = 0;
    const log = memoryLogger();
    await new RuntimeState(path, 'd1', cfg(2), log).restore(target);
    assert.deepEqual(calls, ['takeover VI_1']);
    assert.ok(log.records.some((r) => /198\.18\.1\.11:80 \(web\) dropped: the config changed it/.test(r.msg)));
    assert.equal(JSON.parse(readFileSync(path, 'utf8')).servers['web 198.18.1.11:80'], undefined);
    // --clear forgets; a corrupt file is moved aside with a warning.
    a.recordMode('takeover', ['VI_1'], true);
    writeFileSync(path, 'garbage');
    const warn = memoryLogger();
    await new RuntimeState(path, 'd1', cfg(), warn).restore(target);
    assert.ok(warn.records.some((r) => r.level === 'warn' && /TND_STATE_FILE .* not a state file/.test(r.msg)));
    assert.equal(readFileSync(`${path}.corrupt`, 'utf8'), 'garbage');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
