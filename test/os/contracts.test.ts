/**
 * Checks across module boundaries that the modules themselves may not cross: sim/ fakes match the os/ adapters'
 * contracts (sim/ does not import os/), os/ adapters match vrrp's ports (os/ imports only core/), and the track-file
 * mapping fed to the VRRP machine reproduces keepalived.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type AddressAdapter, AddressVipEffects } from '../../src/os/addresses.ts';
import type { LinkWatcher } from '../../src/os/link-monitor.ts';
import { type RouteAdapter, RoutedVipEffects } from '../../src/os/routes.ts';
import type { VmacAdapter } from '../../src/os/vmac.ts';
import { FakeAddressAdapter } from '../../src/sim/fake-addresses.ts';
import { FakeLinks } from '../../src/sim/fake-link.ts';
import { FakeRouteAdapter, FakeVmacAdapter } from '../../src/sim/fake-routes.ts';
import { effectivePriority, trackerFault } from '../../src/vrrp/machine.ts';
import type { VipEffects } from '../../src/vrrp/ports.ts';
import { trackFileDelta, trackFileUp } from '../../src/vrrp/trackers.ts';

test('the sim fakes have the shapes of the os adapters, and AddressVipEffects is a VipEffects', async () => {
  // Mostly a compile-time check (tsc fails on drift); the calls make sure the wiring works at run time too.
  const links: LinkWatcher = new FakeLinks({ eth0: true });
  const addresses: AddressAdapter = new FakeAddressAdapter(['eth0']);
  const vips: VipEffects = new AddressVipEffects(addresses, 'eth0');
  assert.equal(links.isUp('eth0'), true);
  await vips.add([{ addr: '198.18.0.100', prefix: 24 }]);
  assert.deepEqual(await addresses.list('eth0'), [{ addr: '198.18.0.100', prefix: 24, dev: 'eth0' }]);
});

test("keepalived track_file: trackFileUp fed to the VRRP machine gives keepalived's priority and FAULT for 0 and 1", () => {
  for (const weight of [-20, -1, 0, 1, 20]) {
    for (const reverse of [false, true]) {
      for (const value of [0, 1]) {
        const cfg = { priority: 100, trackers: [{ id: 'file:f', weight, reverse }] };
        const trackers = { 'file:f': trackFileUp(value, weight) };
        const keepalived = trackFileDelta(value, weight, reverse);
        const what = `weight ${weight} reverse ${reverse} value ${value}`;
        assert.equal(trackerFault(cfg, trackers), keepalived === 'fault', what);
        if (keepalived !== 'fault') assert.equal(effectivePriority(cfg, trackers), 100 + keepalived, what);
      }
    }
  }
});

test('the route and vmac fakes have the shapes of the os adapters; RoutedVipEffects adds rules, then routes, after the VIPs', async () => {
  const routes: RouteAdapter = new FakeRouteAdapter();
  const vmacs: VmacAdapter = new FakeVmacAdapter();
  const addresses = new FakeAddressAdapter(['eth0']);
  const vips: VipEffects = new RoutedVipEffects(new AddressVipEffects(addresses, 'eth0'), routes, [
    { kind: 'route', args: ['198.18.9.0/24', 'via', '198.18.0.254'] },
    { kind: 'rule', args: ['from', '198.18.0.100', 'table', '151'] },
  ]);
  await vips.add([{ addr: '198.18.0.100', prefix: 24 }]);
  const fake = routes as FakeRouteAdapter;
  assert.deepEqual(
    fake.calls.map((c) => c.route),
    ['rule from 198.18.0.100 table 151', 'route 198.18.9.0/24 via 198.18.0.254'],
  );
  await vips.remove([{ addr: '198.18.0.100', prefix: 24 }]);
  assert.deepEqual(fake.held(), []);
  assert.deepEqual(addresses.held(), []);
  const v = { name: 'vrrp.51', base: 'eth0', mac: '00:00:5e:00:01:33' };
  assert.deepEqual(
    [await vmacs.ensurePresent(v), await vmacs.ensurePresent(v), await vmacs.ensureAbsent(v)],
    [true, false, true],
  );
});
