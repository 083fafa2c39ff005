import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { VrrpRx } from '../vrrp/ports.ts';
import type { VrrpPacket } from '../vrrp/types.ts';
import { multiPath } from './paths.ts';
import type { InstanceTransportPort } from './ports.ts';

const PACKET: VrrpPacket = {
  version: 3,
  family: 4,
  vrid: 51,
  priority: 150,
  advertIntervalMs: 100,
  addrs: ['198.18.0.100'],
  auth: { type: 'none' },
};

/** A transport that records sends and lets the test deliver. */
function fake() {
  const sent: (string | undefined)[] = [];
  let handler: ((rx: VrrpRx) => void) | undefined;
  const t: InstanceTransportPort = {
    send: (_p, to) => {
      sent.push(to);
    },
    onReceive: (h) => {
      handler = h;
      return () => {
        handler = undefined;
      };
    },
    close: () => {},
  };
  return { t, sent, deliver: (src: string) => handler?.({ ok: true, packet: PACKET, src }) };
}

const NODES: Record<string, string> = { '198.18.0.11': 'd1', '198.18.1.11': 'd1', '198.18.0.12': 'd2' };

test('an advert goes out on every path: to its group, or to each of its unicast peers', () => {
  const [a, b] = [fake(), fake()];
  const m = multiPath(
    [
      { interface: 'eth0', transport: a.t, peers: [] },
      { interface: 'eth1', transport: b.t, peers: ['198.18.1.12', '198.18.1.13'] },
    ],
    (x) => NODES[x],
    () => undefined,
  );
  m.sendAdvert!(PACKET);
  assert.deepEqual(a.sent, [undefined]);
  assert.deepEqual(b.sent, ['198.18.1.12', '198.18.1.13']);
  assert.deepEqual(
    m.counters().map((c) => c.advertsSent),
    [1, 1],
  );
});

test("an advert heard on another path is handed on as from the node's first-path address; unknown sources pass as they are", () => {
  const [a, b] = [fake(), fake()];
  const m = multiPath(
    [
      { interface: 'eth0', transport: a.t, peers: [] },
      { interface: 'eth1', transport: b.t, peers: [] },
    ],
    (x) => NODES[x],
    (node) => (node === 'd1' ? '198.18.0.11' : undefined),
  );
  const got: string[] = [];
  m.onReceive((rx) => got.push(rx.src));
  b.deliver('198.18.1.11'); // before any first-path advert: the node's cluster address
  a.deliver('198.18.0.11');
  b.deliver('198.18.1.11');
  b.deliver('198.18.1.99'); // not a cluster node
  assert.deepEqual(got, ['198.18.0.11', '198.18.0.11', '198.18.0.11', '198.18.1.99']);
  assert.deepEqual(m.aliases('198.18.0.11'), ['198.18.1.11'], 'the guard asks the master there too');
  assert.deepEqual(
    m.counters().map((c) => [c.interface, c.advertsReceived, c.lastHeardFrom]),
    [
      ['eth0', 1, '198.18.0.11'],
      ['eth1', 3, '198.18.1.99'],
    ],
  );
});
