import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { canBuildLabs, createLab } from './lab.ts';

const skip = canBuildLabs() ? false : 'needs root and ip netns';

test('a lab connects its hosts on one segment, has no route out, and leaves nothing behind', { skip }, async () => {
  const lab = await createLab(['a', 'b']);
  const names = Object.values(lab.hosts).map((h) => h.ns);
  try {
    const ping = await lab.exec('a', 'ping', ['-c', '1', '-W', '2', lab.host('b').addr]);
    assert.equal(ping.code, 0, ping.stderr);
    const routes = await lab.run('a', 'ip', ['route', 'show']);
    assert.doesNotMatch(routes, /default/);
    await lab.setLink('b', false);
    const lost = await lab.exec('a', 'ping', ['-c', '1', '-W', '1', lab.host('b').addr]);
    assert.notEqual(lost.code, 0);
  } finally {
    await lab.teardown();
  }
  const left = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
  for (const ns of [...names, lab.switchNs]) assert.doesNotMatch(left, new RegExp(`^${ns}\\b`, 'm'));
});
