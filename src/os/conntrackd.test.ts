import assert from 'node:assert/strict';
import { test } from 'node:test';
import { conntrackdPaths, ROLE_COMMANDS, renderConntrackdConf } from './conntrackd.ts';

test('conntrackd.conf: FTFW over UDP to the peer, state injected into the kernel, files in one directory', () => {
  const text = renderConntrackdConf(
    {
      interface: 'eth1',
      address: '198.18.1.11',
      peer: '198.18.1.12',
      port: 3780,
      ignore: ['198.18.0.11', '198.18.0.12'],
    },
    conntrackdPaths('/run/tandem/conntrackd-d1'),
  );
  for (const line of [
    '\tMode FTFW {',
    '\t\tDisableExternalCache On',
    '\t\tIPv4_address 198.18.1.11',
    '\t\tIPv4_Destination_Address 198.18.1.12',
    '\t\tPort 3780',
    '\t\tInterface eth1',
    '\tLockFile /run/tandem/conntrackd-d1/conntrackd.lock',
    '\t\tPath /run/tandem/conntrackd-d1/conntrackd.ctl',
    '\t\t\tIPv4_address 198.18.0.12',
    '\t\t\tIPv6_address ::1',
  ])
    assert.ok(text.split('\n').includes(line), `${JSON.stringify(line)} in\n${text}`);
  assert.equal(text.match(/IPv4_address 198\.18\.1\.11/g)?.length, 2, 'the link addresses are not replicated either');
  const v6 = renderConntrackdConf(
    { interface: 'eth1', address: 'fd00::1', peer: 'fd00::2', port: 3780, ignore: [] },
    conntrackdPaths('/x'),
  );
  assert.match(v6, /\tIPv6_address fd00::1\n\t\tIPv6_Destination_Address fd00::2/);
});

test("role changes run the manual's commands, without -t (it would flush the replicated connections)", () => {
  assert.deepEqual(ROLE_COMMANDS.master, ['-c', '-f', '-R', '-B']);
  assert.deepEqual(ROLE_COMMANDS.backup, ['-n']);
});
