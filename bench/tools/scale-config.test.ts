import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { configSchema } from '../../src/config/schema.ts';
import { scaleCheckTargets, scaleConfig, scaleRealServers, scaleVip } from './scale-config.ts';

const LISTENERS = [1, 2, 3, 4].map((i) => ({ addr: `198.18.211.${i}`, port: 9000 }));

test('1,000 services make a valid config with 1,500 check targets, every one checked each second', () => {
  const text = scaleConfig({ services: 1000, listeners: LISTENERS });
  const cfg = configSchema.parse(parse(text));
  assert.equal(cfg.lb.services.length, 1000);
  assert.equal(scaleCheckTargets(1000, LISTENERS), 1500);
  const checked = cfg.lb.services.flatMap((s) => s.real_servers.map(() => s.check));
  assert.equal(checked.length, 1500);
  assert.ok(checked.every((c) => c?.type === 'tcp' && c.interval === 1000));
  const vips = new Set(cfg.lb.services.map((s) => `${s.vip}:${s.port}`));
  assert.equal(vips.size, 1000, 'every service has its own VIP:port');
});

test('the baseline config has an empty lb section', () => {
  const cfg = configSchema.parse(parse(scaleConfig({ services: 0, listeners: LISTENERS })));
  assert.deepEqual(cfg.lb.services, []);
});

test('services spread over VIPs and listeners: 250 ports per VIP, odd services get a second real server', () => {
  assert.deepEqual(scaleVip(0), { addr: '198.18.210.1', port: 10_000 });
  assert.deepEqual(scaleVip(999), { addr: '198.18.210.4', port: 10_249 });
  assert.deepEqual(
    scaleRealServers(1, LISTENERS).map((r) => r.addr),
    ['198.18.211.2', '198.18.211.3'],
  );
  assert.equal(scaleRealServers(2, LISTENERS).length, 1);
});
