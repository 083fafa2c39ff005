import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRng } from '../core/rng.ts';
import { SimClock } from './sim-clock.ts';
import { type Datagram, SimNetwork } from './sim-network.ts';

function segment(nodes: string[], seed = 1) {
  const clock = new SimClock();
  const net = new SimNetwork<string>({ clock, rng: seededRng(seed) });
  const inbox = new Map<string, Datagram<string>[]>();
  const eps = new Map(
    nodes.map((n, i) => {
      inbox.set(n, []);
      return [n, net.attach(n, `10.0.0.${i + 1}`, (d) => inbox.get(n)?.push(d))] as const;
    }),
  );
  const got = (n: string) => inbox.get(n)?.map((d) => d.payload) ?? [];
  return { clock, net, eps, inbox, got };
}

test('multicast reaches every other node after the link delay, never the sender', () => {
  const { clock, eps, got, inbox } = segment(['a', 'b', 'c']);
  eps.get('a')?.send('hello');
  clock.runFor(0);
  assert.deepEqual(got('b'), [], 'not before the 1 ms delay');
  clock.runFor(1);
  assert.deepEqual([got('a'), got('b'), got('c')], [[], ['hello'], ['hello']]);
  const d = inbox.get('b')?.[0];
  assert.deepEqual(
    { from: d?.from, src: d?.src, dst: d?.dst, ttl: d?.ttl },
    { from: 'a', src: '10.0.0.1', dst: null, ttl: 255 },
  );
});

test('unicast reaches only the node holding the address; an unknown address is counted as unroutable', () => {
  const { clock, net, eps, got } = segment(['a', 'b', 'c']);
  eps.get('a')?.send('to-c', '10.0.0.3');
  eps.get('a')?.send('nowhere', '10.9.9.9');
  clock.runFor(10);
  assert.deepEqual([got('b'), got('c')], [[], ['to-c']]);
  assert.equal(net.stats.unroutable, 1);
});

test('isolate cuts a node off both ways; heal restores it', () => {
  const { clock, net, eps, got } = segment(['a', 'b', 'c']);
  net.isolate('a');
  assert.equal(net.healthy, false);
  eps.get('a')?.send('1');
  eps.get('b')?.send('2');
  clock.runFor(10);
  assert.deepEqual([got('a'), got('b'), got('c')], [[], [], ['2']]);
  net.heal();
  assert.equal(net.healthy, true);
  eps.get('a')?.send('3');
  clock.runFor(10);
  assert.deepEqual(got('b'), ['3']);
});

test('partition groups reach each other only; unlisted nodes form one more group', () => {
  const { clock, net, eps, got } = segment(['a', 'b', 'c', 'd']);
  net.partition(['a', 'b'], ['c']);
  assert.deepEqual(
    [net.canReach('a', 'b'), net.canReach('a', 'c'), net.canReach('c', 'd'), net.canReach('d', 'd')],
    [true, false, false, true],
  );
  eps.get('a')?.send('x');
  clock.runFor(10);
  assert.deepEqual([got('b'), got('c'), got('d')], [['x'], [], []]);
});

test('a partition that comes up while a packet is in flight loses it', () => {
  const { clock, net, eps, got } = segment(['a', 'b']);
  net.setAllLinks({ delayMs: 100 });
  eps.get('a')?.send('x');
  clock.runFor(50);
  net.isolate('b');
  clock.runFor(100);
  assert.deepEqual(got('b'), []);
  assert.equal(net.stats.cut, 1);
});

test('loss drops about the configured share, and the same seed loses the same packets', () => {
  const run = (seed: number) => {
    const { clock, net, eps, got } = segment(['a', 'b'], seed);
    net.setLink('a', 'b', { loss: 0.3 });
    for (let i = 0; i < 2000; i++) eps.get('a')?.send(String(i));
    clock.runFor(10);
    return got('b');
  };
  const first = run(42);
  assert.ok(first.length > 1200 && first.length < 1600, `${first.length} of 2000 arrived`);
  assert.deepEqual(run(42), first);
  assert.notDeepEqual(run(43), first);
});

test('jitter delays within delay..delay+jitter and can reorder; duplication delivers twice', () => {
  const { clock, net, eps, inbox } = segment(['a', 'b']);
  net.setAllLinks({ delayMs: 5, jitterMs: 20, duplicate: 1 });
  assert.equal(net.maxDelayMs(), 25);
  const arrivals: number[] = [];
  for (let i = 0; i < 50; i++) eps.get('a')?.send(String(i));
  for (let t = 0; t <= 30; t++) {
    clock.runFor(1);
    while ((inbox.get('b')?.length ?? 0) > arrivals.length) arrivals.push(clock.now());
  }
  assert.equal(arrivals.length, 100);
  assert.ok(arrivals.every((t) => t >= 5 && t <= 25));
  const order = inbox.get('b')?.map((d) => Number(d.payload)) ?? [];
  assert.notDeepEqual(
    order,
    [...order].sort((x, y) => x - y),
    'jitter reorders',
  );
  assert.equal(net.stats.duplicated, 50);
});

test('one-way link settings affect only that direction', () => {
  const { clock, net, eps, got } = segment(['a', 'b']);
  net.setLink('a', 'b', { loss: 1 }, true);
  eps.get('a')?.send('lost');
  eps.get('b')?.send('kept');
  clock.runFor(10);
  assert.deepEqual([got('a'), got('b')], [['kept'], []]);
  assert.equal(net.healthy, false);
});

test('a closed endpoint neither sends nor receives, and its name can attach again', () => {
  const { clock, net, eps, got } = segment(['a', 'b']);
  eps.get('b')?.send('in flight');
  eps.get('a')?.close();
  eps.get('a')?.send('from closed');
  clock.runFor(10);
  assert.deepEqual([got('a'), got('b')], [[], []]);
  const again: string[] = [];
  net.attach('a', '10.0.0.1', (d) => again.push(d.payload));
  eps.get('b')?.send('new');
  clock.runFor(10);
  assert.deepEqual(again, ['new']);
});

test('bad settings are refused with TND_SIM_SCENARIO', () => {
  const { net } = segment(['a', 'b']);
  assert.throws(() => net.setAllLinks({ loss: 1.5 }), { code: 'TND_SIM_SCENARIO' });
  assert.throws(() => net.partition(['a'], ['a']), { code: 'TND_SIM_SCENARIO' });
  assert.throws(() => net.attach('c', '10.0.0.1', () => {}), { code: 'TND_SIM_SCENARIO' });
});
