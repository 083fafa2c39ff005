import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeHosts } from '../sim/fake-os.ts';
import { instanceConfig } from '../sim/fixtures.ts';
import { SimClock } from '../sim/sim-clock.ts';
import { SyncGroupRunner, type VrrpEvents, VrrpInstance } from './instance.ts';
import { advertFor } from './machine.ts';
import type { VrrpRx, VrrpTransport } from './ports.ts';
import type { InstanceConfig, VrrpPacket } from './types.ts';

/** A transport that records what is sent and lets the test deliver packets. */
function loopTransport() {
  const sent: { priority: number; to?: string }[] = [];
  let handler: ((rx: VrrpRx) => void) | null = null;
  const transport: VrrpTransport = {
    send: (packet, to) =>
      sent.push(to === undefined ? { priority: packet.priority } : { priority: packet.priority, to }),
    onReceive: (h) => {
      handler = h;
      return () => {
        handler = null;
      };
    },
  };
  return { transport, sent, deliver: (rx: VrrpRx) => handler?.(rx), listening: () => handler !== null };
}

function setup(cfg: InstanceConfig = instanceConfig()) {
  const clock = new SimClock();
  const hosts = new FakeHosts(clock);
  const t = loopTransport();
  const vi = new VrrpInstance({
    config: cfg,
    clock,
    transport: t.transport,
    vips: hosts.vips('n1'),
    garp: hosts.garp('n1'),
  });
  const events: { kind: keyof VrrpEvents; e: unknown }[] = [];
  for (const kind of ['transition', 'drop', 'discard', 'advertReceived', 'effectFailed'] as const) {
    vi.events.on(kind, (e) => events.push({ kind, e }));
  }
  return { clock, hosts, vi, events, ...t };
}

const advert = (cfg: InstanceConfig, priority: number, extra: Partial<VrrpPacket> = {}): VrrpPacket => ({
  ...advertFor(cfg, priority),
  auth: { type: 'none' },
  ...extra,
});

test('the driver arms the machine’s timers on the clock: alone, a backup is master after Master_Down_Interval', () => {
  const { clock, vi, sent, hosts } = setup();
  vi.start('10.0.0.1');
  clock.runFor(3608);
  assert.equal(vi.state.state, 'BACKUP');
  clock.runFor(1);
  assert.equal(vi.state.state, 'MASTER');
  assert.deepEqual(hosts.holders('198.18.0.100'), ['n1']);
  clock.runFor(3000);
  assert.deepEqual(sent, [{ priority: 100 }, { priority: 100 }, { priority: 100 }, { priority: 100 }]);
});

test('with unicast peers every advert goes to each peer', () => {
  const { clock, vi, sent } = setup(instanceConfig({ priority: 255, unicastPeers: ['10.0.0.2', '10.0.0.3'] }));
  vi.start('10.0.0.1');
  clock.runFor(0);
  assert.deepEqual(sent, [
    { priority: 255, to: '10.0.0.2' },
    { priority: 255, to: '10.0.0.3' },
  ]);
});

test('received adverts pass matchAdvert before the machine; transport and match drops become drop events', () => {
  const cfg = instanceConfig();
  const { vi, deliver, events } = setup(cfg);
  vi.start('10.0.0.1');
  deliver({ ok: false, reason: 'checksum', src: '10.0.0.2', detail: 'bad sum' });
  deliver({ ok: true, packet: advert(cfg, 150, { vrid: 52 }), src: '10.0.0.2' });
  deliver({ ok: true, packet: advert(cfg, 150), src: '10.0.0.2' });
  assert.deepEqual(
    events.map((x) => `${x.kind}${'reason' in (x.e as object) ? `:${(x.e as { reason: string }).reason}` : ''}`),
    ['transition', 'drop:checksum', 'drop:vrid', 'advertReceived'],
  );
  assert.deepEqual(vi.state.master, { addr: '10.0.0.2', priority: 150 });
});

test('kill (SIGKILL) cancels every timer and stops listening, with no effect: the VIPs stay on the host', () => {
  const { clock, vi, hosts, sent, listening } = setup();
  vi.start('10.0.0.1');
  clock.runFor(5000);
  const before = sent.length;
  vi.kill();
  assert.equal(clock.pending, 0);
  assert.equal(listening(), false);
  clock.runFor(10_000);
  assert.equal(sent.length, before);
  assert.deepEqual(hosts.holders('198.18.0.100'), ['n1']);
});

test('stop (graceful) sends priority 0, removes the VIPs and stops listening', () => {
  const { clock, vi, hosts, sent, listening } = setup();
  vi.start('10.0.0.1');
  clock.runFor(5000);
  vi.stop();
  assert.equal(sent.at(-1)?.priority, 0);
  assert.deepEqual(hosts.holders('198.18.0.100'), []);
  assert.equal(listening(), false);
  assert.equal(clock.pending, 0);
});

test('a failing effect becomes an effectFailed event and does not stop the machine', async () => {
  const clock = new SimClock();
  const t = loopTransport();
  const vi = new VrrpInstance({
    config: instanceConfig({ priority: 255 }),
    clock,
    transport: t.transport,
    vips: { add: () => Promise.reject(new Error('RTNETLINK answers: Operation not permitted')), remove: () => {} },
    garp: {
      announce: () => {
        throw new Error('no AF_PACKET');
      },
    },
  });
  const failed: string[] = [];
  vi.events.on('effectFailed', (e) => failed.push(`${e.effect}: ${e.error}`));
  vi.start('10.0.0.1');
  // The gratuitous ARP waits for the (failed) address change: a few microtasks, never the advert path.
  await new Promise((r) => setImmediate(r));
  assert.equal(vi.state.state, 'MASTER');
  assert.deepEqual(failed.sort(), ['addVips: RTNETLINK answers: Operation not permitted', 'garp: no AF_PACKET']);
});

test('a sync group runner moves the other members with a member’s fault and recovery', () => {
  const clock = new SimClock();
  const hosts = new FakeHosts(clock);
  const make = (name: string, vrid: number) =>
    new VrrpInstance({
      config: instanceConfig({ name, vrid, priority: 255, trackers: [{ id: 'chk', weight: 0 }] }),
      clock,
      transport: loopTransport().transport,
      vips: hosts.vips('n1'),
      garp: hosts.garp('n1'),
    });
  const a = make('VI_1', 1);
  const b = make('VI_2', 2);
  const runner = new SyncGroupRunner('G', [a, b]);
  a.start('10.0.0.1');
  b.start('10.0.0.1');
  a.setTracker('chk', false);
  assert.deepEqual([a.state.state, b.state.state], ['FAULT', 'FAULT']);
  a.setTracker('chk', true);
  assert.deepEqual([a.state.state, b.state.state], ['MASTER', 'MASTER']);
  runner.dispose();
  a.setTracker('chk', false);
  assert.deepEqual([a.state.state, b.state.state], ['FAULT', 'MASTER'], 'disposed: no longer follows');
});

test('regression: the gratuitous ARP goes out only after the VIPs are on the interface (async address adapter)', async () => {
  const clock = new SimClock();
  const log: string[] = [];
  let finishAdd: () => void = () => {};
  const vi = new VrrpInstance({
    config: instanceConfig(),
    clock,
    transport: loopTransport().transport,
    vips: {
      add: () => {
        log.push('add started');
        return new Promise<void>((resolve) => {
          finishAdd = () => {
            log.push('add done');
            resolve();
          };
        });
      },
      remove: () => Promise.resolve(),
    },
    garp: { announce: () => log.push('garp') },
  });
  vi.start('10.0.0.1');
  clock.runFor(3_700);
  assert.equal(vi.state.state, 'MASTER', 'the advert path did not wait for the address change');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(log, ['add started']);
  finishAdd();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(log, ['add started', 'add done', 'garp']);
});

test('skip_check_adv_addr: a backup skips the address list of the master it follows, and checks everyone else', () => {
  for (const skip of [false, true]) {
    const cfg = instanceConfig({ ...(skip ? { skipCheckAdvAddr: true } : {}) });
    const { clock, vi, deliver, events } = setup(cfg);
    vi.start('10.0.0.1');
    clock.runFor(10);
    // A higher-priority master with the right list: followed.
    deliver({ ok: true, packet: advert(cfg, 200), src: '10.0.0.9', ttl: 255 } as VrrpRx);
    assert.equal(vi.state.master?.addr, '10.0.0.9');
    events.length = 0;
    const wrongList = advert(cfg, 200, { addrs: ['198.18.0.222'] });
    deliver({ ok: true, packet: wrongList, src: '10.0.0.9', ttl: 255 } as VrrpRx);
    deliver({ ok: true, packet: wrongList, src: '10.0.0.8', ttl: 255 } as VrrpRx);
    const seen = events.map((x) => `${x.kind}:${(x.e as { src: string }).src}`);
    assert.deepEqual(
      seen,
      skip ? ['advertReceived:10.0.0.9', 'drop:10.0.0.8'] : ['drop:10.0.0.9', 'drop:10.0.0.8'],
      `skip ${skip}`,
    );
  }
});
