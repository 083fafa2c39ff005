import assert from 'node:assert/strict';
import { test } from 'node:test';
import { instanceConfig } from '../sim/fixtures.ts';
import { decodeVrrp, encodeVrrp } from '../vrrp/codec.ts';
import type { VrrpRx } from '../vrrp/ports.ts';
import type { AddressFamily, VrrpPacket } from '../vrrp/types.ts';
import type { SendTarget, VrrpMessage } from './vrrp-socket.ts';
import { InterfaceTransport, type VrrpSocketPort, VrrpTransports } from './vrrp-transport.ts';

/** A socket that records sends and lets the test inject datagrams. */
class FakeSocket implements VrrpSocketPort {
  readonly sent: { bytes: Uint8Array; to: SendTarget }[] = [];
  closed = false;
  failSend: Error | null = null;
  #onMessage: ((m: VrrpMessage) => void) | null = null;
  #onError: ((e: Error) => void) | null = null;
  constructor(
    readonly ifname = 'eth0',
    readonly family: AddressFamily = 4,
  ) {}
  send(bytes: Uint8Array, to: SendTarget): void {
    if (this.failSend) throw this.failSend;
    this.sent.push({ bytes, to });
  }
  onMessage(cb: (m: VrrpMessage) => void): () => void {
    this.#onMessage = cb;
    return () => undefined;
  }
  onError(cb: (e: Error) => void): () => void {
    this.#onError = cb;
    return () => undefined;
  }
  close(): void {
    this.closed = true;
  }
  deliver(m: Partial<VrrpMessage> & { data: Uint8Array }): void {
    this.#onMessage?.({ src: '198.18.0.12', dst: '224.0.0.18', ttl: 255, ifindex: 2, family: this.family, ...m });
  }
  error(e: Error): void {
    this.#onError?.(e);
  }
}

const packet = (over: Partial<VrrpPacket> = {}): VrrpPacket => ({
  version: 2,
  family: 4,
  vrid: 51,
  priority: 150,
  advertIntervalMs: 1000,
  addrs: ['198.18.0.100'],
  auth: { type: 'none' },
  ...over,
});
const advert = (over: Partial<VrrpPacket> = {}, src = '198.18.0.12', dst = '224.0.0.18'): Uint8Array =>
  encodeVrrp(packet(over), { src, dst });

function setup() {
  const socket = new FakeSocket();
  const t = new InterfaceTransport(socket);
  const got: VrrpRx[] = [];
  const vt = t.forInstance(instanceConfig(), '198.18.0.11');
  vt.onReceive((rx) => got.push(rx));
  return { socket, t, vt, got };
}

test('an advert goes to the VRRP group from the instance source, with the checksum of that source', () => {
  const socket = new FakeSocket();
  const t = new InterfaceTransport(socket);
  const vt = t.forInstance(instanceConfig({ version: 3 }), '198.18.0.11');
  vt.send(packet({ version: 3 }));
  const [out] = socket.sent;
  assert.deepEqual(out?.to, { dst: '224.0.0.18', src: '198.18.0.11' });
  const back = decodeVrrp(out?.bytes ?? new Uint8Array(), {
    ttl: 255,
    family: 4,
    src: '198.18.0.11',
    dst: '224.0.0.18',
  });
  assert.equal(back.ok && back.checksumForm, 'pseudo-header');
  vt.send(packet(), '198.18.0.12');
  assert.deepEqual(socket.sent[1]?.to, { dst: '198.18.0.12', src: '198.18.0.11' });
  assert.equal(t.stats().instances[0]?.tx, 2);
});

test('received adverts reach the instance with their VRID; other VRIDs count as vrid drops on the interface', () => {
  const { socket, t, got } = setup();
  socket.deliver({ data: advert() });
  socket.deliver({ data: advert({ vrid: 52 }) });
  assert.equal(got.length, 1);
  assert.deepEqual(got[0], { ok: true, packet: packet(), src: '198.18.0.12' });
  const s = t.stats();
  assert.deepEqual(s.drops, { vrid: 1 });
  assert.equal(s.rx, 2);
  assert.equal(s.instances[0]?.rx, 1);
});

test('a multicast instance drops TTL ≠ 255; a unicast one accepts it but only from its peers', () => {
  const socket = new FakeSocket();
  const t = new InterfaceTransport(socket);
  const mc: VrrpRx[] = [];
  const uc: VrrpRx[] = [];
  t.forInstance(instanceConfig({ name: 'MC' }), '198.18.0.11').onReceive((rx) => mc.push(rx));
  t.forInstance(instanceConfig({ name: 'UC', vrid: 52, unicastPeers: ['198.18.0.12'] }), '198.18.0.11').onReceive(
    (rx) => uc.push(rx),
  );
  socket.deliver({ data: advert(), ttl: 1 });
  socket.deliver({ data: advert({ vrid: 52 }, '198.18.0.12', '198.18.0.11'), dst: '198.18.0.11', ttl: 64 });
  socket.deliver({ data: advert({ vrid: 52 }, '198.18.0.13', '198.18.0.11'), src: '198.18.0.13', dst: '198.18.0.11' });
  assert.deepEqual(
    mc.map((r) => (r.ok ? 'ok' : r.reason)),
    ['ttl'],
  );
  assert.deepEqual(
    uc.map((r) => (r.ok ? 'ok' : r.reason)),
    ['ok', 'unicast-peer'],
  );
  const [mcStats, ucStats] = t.stats().instances;
  assert.deepEqual(mcStats?.drops, { ttl: 1 });
  assert.deepEqual(ucStats?.drops, { 'unicast-peer': 1 });
});

test('packets from our own source address are ignored, and undecodable ones are counted', () => {
  const { socket, t, got } = setup();
  socket.deliver({ data: advert({}, '198.18.0.11'), src: '198.18.0.11' });
  socket.deliver({ data: new Uint8Array([0x21]) });
  const bad = advert();
  bad[7] = (bad[7] ?? 0) ^ 0xff;
  socket.deliver({ data: bad });
  assert.deepEqual(
    got.map((r) => (r.ok ? 'ok' : r.reason)),
    ['checksum'],
  );
  const s = t.stats();
  assert.equal(s.own, 1);
  assert.deepEqual(s.drops, { short: 1 });
  assert.deepEqual(s.instances[0]?.drops, { checksum: 1 });
});

test('a send error is counted and reported, never thrown into the instance', () => {
  const { socket, t, vt } = setup();
  const errors: string[] = [];
  t.onError((e) => errors.push(`${e.op} ${e.instance}: ${e.error.message}`));
  socket.failSend = new Error('sendmsg: Network is down (ENETDOWN)');
  vt.send(packet());
  socket.error(new Error('recvmsg: boom'));
  assert.deepEqual(errors, ['send VI_1: sendmsg: Network is down (ENETDOWN)', 'receive undefined: recvmsg: boom']);
  const s = t.stats();
  assert.equal(s.instances[0]?.txErrors, 1);
  assert.equal(s.instances[0]?.lastTxError, 'sendmsg: Network is down (ENETDOWN)');
  assert.equal(s.rxErrors, 1);
});

test('one VRID per interface: a second instance with it is refused; closing frees it', () => {
  const { t, vt } = setup();
  assert.throws(() => t.forInstance(instanceConfig({ name: 'VI_2' }), '198.18.0.11'), /already used by VI_1 on eth0/);
  assert.throws(() => t.forInstance(instanceConfig({ name: 'V6', family: 6 }), 'fe80::1'), /IPv6/);
  vt.close();
  assert.doesNotThrow(() => t.forInstance(instanceConfig({ name: 'VI_2' }), '198.18.0.11'));
});

test('the pool shares one socket per interface and family and closes it with its last instance', () => {
  const sockets: FakeSocket[] = [];
  const pool = new VrrpTransports((ifname, family) => {
    const s = new FakeSocket(ifname, family);
    sockets.push(s);
    return new InterfaceTransport(s);
  });
  const a = pool.forInstance(instanceConfig({ name: 'A', vrid: 1 }), '198.18.0.11');
  const b = pool.forInstance(instanceConfig({ name: 'B', vrid: 2 }), '198.18.0.11');
  pool.forInstance(instanceConfig({ name: 'C', interface: 'eth1' }), '198.18.1.11');
  assert.equal(sockets.length, 2);
  assert.deepEqual(
    pool.stats().map((s) => [s.ifname, s.instances.map((i) => i.instance)]),
    [
      ['eth0', ['A', 'B']],
      ['eth1', ['C']],
    ],
  );
  a.close();
  assert.equal(sockets[0]?.closed, false);
  b.close();
  assert.equal(sockets[0]?.closed, true);
  pool.close();
  assert.equal(sockets[1]?.closed, true);
});
