import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeHosts } from './fake-os.ts';
import { SimClock } from './sim-clock.ts';

const vip = (addr: string) => ({ addr, prefix: 32 });

test('fake hosts record who holds which address, converging like the real adapter, with history', () => {
  const clock = new SimClock();
  const hosts = new FakeHosts(clock);
  hosts.vips('d1').add([vip('198.18.0.100'), vip('198.18.0.101')]);
  clock.runFor(10);
  hosts.vips('d2').add([vip('198.18.0.100')]);
  hosts.vips('d1').add([vip('198.18.0.100')]);
  assert.deepEqual(hosts.holders('198.18.0.100'), ['d1', 'd2']);
  hosts.vips('d1').remove([vip('198.18.0.100'), vip('198.18.0.102')]);
  assert.deepEqual(hosts.holders('198.18.0.100'), ['d2']);
  assert.deepEqual(hosts.held('d1'), ['198.18.0.101']);
  assert.deepEqual(
    hosts.history.map((h) => `${h.at} ${h.node} ${h.op} ${h.addr} ${h.changed}`),
    [
      '0 d1 add 198.18.0.100 true',
      '0 d1 add 198.18.0.101 true',
      '10 d2 add 198.18.0.100 true',
      '10 d1 add 198.18.0.100 false',
      '10 d1 remove 198.18.0.100 true',
      '10 d1 remove 198.18.0.102 false',
    ],
  );
});

test('fake hosts record GARP bursts', () => {
  const clock = new SimClock(5);
  const hosts = new FakeHosts(clock);
  hosts.garp('d1').announce([vip('198.18.0.100')], 5);
  assert.deepEqual(hosts.garps, [{ at: 5, node: 'd1', addrs: ['198.18.0.100'], repeat: 5 }]);
});
