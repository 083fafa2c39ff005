import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkFenceParams, fenceMetadata, fenceStdin, parseFenceMetadata, runFence } from './fence.ts';

const signal = new AbortController().signal;

/** A fence agent written as a script: reads key=value lines, records them, answers as told. */
function script(dir: string, body: string): string {
  const path = join(dir, 'fence_test');
  writeFileSync(path, `#!/bin/sh\nwhile IFS= read -r line; do echo "$line" >> "${dir}/stdin"; done\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

test('fence agent protocol: key=value lines on stdin, action first; exit 0 is success', async () => {
  const dir = mkdtempSync(join(tmpdir(), 't14-fence-'));
  try {
    const agent = script(dir, 'echo "Success: Powered OFF"; exit 0');
    const r = await runFence(
      { agent, action: 'off', params: { plug: 'd1', ipaddr: '198.18.0.201' }, timeoutMs: 10_000, signal },
      undefined,
    );
    assert.equal(r.outcome, 'ok');
    assert.equal(r.detail, 'Success: Powered OFF');
    assert.equal(readFileSync(join(dir, 'stdin'), 'utf8'), 'action=off\nplug=d1\nipaddr=198.18.0.201\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fence agent: a non-zero exit fails with its last words; an agent past its deadline is killed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 't14-fence-'));
  try {
    const bad = await runFence({
      agent: script(dir, 'echo "Failed: Unable to connect" >&2; exit 1'),
      action: 'off',
      params: {},
      timeoutMs: 10_000,
      signal,
    });
    assert.deepEqual([bad.outcome, bad.code, bad.detail], ['failed', 1, 'exit 1: Failed: Unable to connect']);
    const slow = await runFence({
      agent: script(dir, 'exec sleep 30'),
      action: 'off',
      params: {},
      timeoutMs: 200,
      signal,
    });
    assert.equal(slow.outcome, 'timeout');
    assert.ok(slow.durationMs < 5_000, `killed, not waited for (${slow.durationMs} ms)`);
    const missing = await runFence({ agent: join(dir, 'nope'), action: 'off', params: {}, timeoutMs: 1_000, signal });
    assert.equal(missing.outcome, 'error');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fence agent: a parameter with a line break is refused (it could smuggle in another option)', async () => {
  assert.equal(fenceStdin('off', { plug: 'd1\naction=on' }), undefined);
  const r = await runFence({ agent: '/bin/true', action: 'off', params: { plug: 'a\nb' }, timeoutMs: 1_000, signal });
  assert.equal(r.outcome, 'error');
});

const fenceAgents = existsSync('/usr/sbin/fence_virsh') && existsSync('/usr/sbin/fence_dummy');

test("Debian's fence_virsh -o metadata checks the configured parameters", {
  skip: !fenceAgents && 'needs fence-agents',
}, async () => {
  const meta = await fenceMetadata('fence_virsh', signal);
  assert.ok(meta.ok, meta.ok ? '' : meta.reason);
  const names = meta.params.map((p) => p.name);
  assert.ok(names.includes('plug') && names.includes('ip'));
  assert.deepEqual(checkFenceParams('fence_virsh', meta.params, ['ip', 'username', 'plug', 'identity_file']), []);
  // the older names still satisfy what the newer ones require (ipaddr for ip, login for username, port for plug)
  assert.deepEqual(checkFenceParams('fence_virsh', meta.params, ['ipaddr', 'login', 'port']), []);
  const problems = checkFenceParams('fence_virsh', meta.params, ['ipadr', 'username']);
  assert.equal(problems.length, 3, problems.join('\n'));
  assert.match(problems[0]!, /fence_virsh has no parameter ipadr/);
  assert.ok(problems.some((p) => /needs the parameter ip \(or ipaddr\)/.test(p)));
  assert.ok(problems.some((p) => /needs the parameter plug \(or port\)/.test(p)));
});

test("Debian's fence_dummy speaks the protocol for real: action=off turns its status file off", {
  skip: !fenceAgents && 'needs fence-agents',
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 't14-fence-'));
  try {
    const status = join(dir, 'status');
    writeFileSync(status, 'on');
    const r = await runFence({
      agent: 'fence_dummy',
      action: 'off',
      params: { type: 'file', status_file: status },
      timeoutMs: 20_000,
      signal,
    });
    assert.equal(r.outcome, 'ok', r.detail);
    assert.equal(readFileSync(status, 'utf8'), 'off');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('metadata: a script without it is reported as such; XML is parsed for names, required, deprecated, obsoletes', async () => {
  const none = await fenceMetadata('/bin/true', signal);
  assert.equal(none.ok, false);
  assert.deepEqual(
    parseFenceMetadata(
      '<resource-agent name="x"><parameters><parameter name="ip" unique="0" required="1" obsoletes="ipaddr">' +
        '</parameter><parameter name="ipaddr" required="1" deprecated="1"></parameter></parameters></resource-agent>',
    ),
    [
      { name: 'ip', required: true, deprecated: false, obsoletes: 'ipaddr' },
      { name: 'ipaddr', required: true, deprecated: true },
    ],
  );
  assert.equal(parseFenceMetadata('usage: …'), undefined);
});
