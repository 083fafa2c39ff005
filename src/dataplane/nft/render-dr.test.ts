import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ServiceProgram } from '../../lb/dataplane.ts';
import { countDrFlows, drSlotTable, planDrTable, renderDrReplace, renderDrTransition } from './render-dr.ts';

const be = (n: number, weight = 1) => ({
  key: `198.18.0.2${n}:80`,
  addr: `198.18.0.2${n}`,
  port: 80,
  weight,
  op: 'up' as const,
  reason: 'up' as const,
});

function svc(over: Partial<ServiceProgram> = {}): ServiceProgram {
  return {
    id: 'web',
    vip: '198.18.0.100',
    port: 80,
    protocol: 'tcp',
    family: 4,
    scheduler: 'wrr',
    method: 'dr',
    persistence: null,
    quorum: 'up',
    backends: [be(1), be(2), be(3)],
    sorry: null,
    device: 'eth0',
    ...over,
  } as ServiceProgram;
}

test('dr: one ingress chain on the device, flow lookups for every server, a Maglev table hashed by flow, fwd unchanged', () => {
  const text = renderDrReplace('t', planDrTable([svc()]));
  assert.match(text, /^add table netdev t\ndelete table netdev t\nadd table netdev t\n/);
  assert.match(
    text,
    /add chain netdev t in_eth0 \{ type filter hook ingress device "eth0" priority 0; policy accept; \}/,
  );
  assert.match(text, /add element netdev t drd4_eth0 \{ 198\.18\.0\.100 \. tcp \. 80 : goto dr_web \}/);
  for (const n of [1, 2, 3]) {
    assert.match(
      text,
      new RegExp(
        `add rule netdev t dr_web ip saddr \\. th sport @dr_web_fl_198\\.18\\.0\\.2${n}-80 goto dr_web_be_198\\.18\\.0\\.2${n}-80`,
      ),
    );
    assert.match(
      text,
      new RegExp(`add rule netdev t dr_web_be_198\\.18\\.0\\.2${n}-80 fwd ip to 198\\.18\\.0\\.2${n} device "eth0"`),
    );
  }
  assert.match(text, /jhash ip saddr \. th sport mod 251 seed 0x74616e64 vmap @dr_web_slots/);
  // Every slot is filled, each server holds about a third.
  const table = drSlotTable(svc());
  assert.equal(table.length, 251);
  for (const i of [0, 1, 2]) assert.ok(Math.abs(table.filter((x) => x === i).length - 251 / 3) < 10);
});

test('dr: a drain changes the slot map only; the drained server keeps its flow set and its lookup', () => {
  const before = planDrTable([svc()]);
  const after = planDrTable([svc({ backends: [be(1), be(2, 0), be(3)] })]);
  const script = renderDrTransition('t', before, after);
  assert.match(script, /^flush map netdev t dr_web_slots$/m);
  assert.doesNotMatch(script, /_fl_|delete|flush chain/);
  assert.doesNotMatch(script, /goto dr_web_be_198\.18\.0\.22-80/); // no new slot goes to the drained server
  assert.equal(renderDrTransition('t', after, planDrTable([svc({ backends: [be(1), be(2, 0), be(3)] })])), '');
});

test('dr: a server that leaves loses its flow set (its flows move); the others keep theirs', () => {
  const before = planDrTable([svc()]);
  const after = planDrTable([svc({ backends: [be(1), be(3)] })]);
  const script = renderDrTransition('t', before, after);
  assert.match(script, /^delete set netdev t dr_web_fl_198\.18\.0\.22-80$/m);
  assert.match(script, /^delete chain netdev t dr_web_be_198\.18\.0\.22-80$/m);
  assert.doesNotMatch(script, /delete set netdev t dr_web_fl_198\.18\.0\.2[13]-80/);
  // The chain is refilled before the set it referred to is deleted.
  assert.ok(
    script.indexOf('flush chain netdev t dr_web\n') < script.indexOf('delete set netdev t dr_web_fl_198.18.0.22'),
  );
});

test('dr: persistence hashes the client network and honours affinity for servers of weight > 0 only', () => {
  const text = renderDrReplace(
    't',
    planDrTable([svc({ persistence: { timeoutMs: 600_000, netmaskPrefix: 24 }, backends: [be(1), be(2, 0)] })]),
  );
  assert.match(text, /ip saddr & 255\.255\.255\.0 @dr_web_aff_198\.18\.0\.21-80 goto dr_web_be_198\.18\.0\.21-80/);
  assert.doesNotMatch(text, /@dr_web_aff_198\.18\.0\.22-80 goto/);
  assert.match(text, /timeout 600s;/);
  assert.match(text, /jhash ip saddr & 255\.255\.255\.0 mod 251/);
  assert.match(text, /update @dr_web_aff_198\.18\.0\.22-80 \{ ip saddr & 255\.255\.255\.0 \}/);
});

test('dr: the sorry server takes every new flow; no server rejects; IPv6 uses ip6', () => {
  const sorry = renderDrReplace('t', planDrTable([svc({ backends: [], sorry: { addr: '198.18.0.30', port: 80 } })]));
  assert.match(sorry, /add rule netdev t dr_web goto dr_web_be_198\.18\.0\.30-80/);
  const none = renderDrReplace('t', planDrTable([svc({ backends: [] })]));
  assert.match(none, /add rule netdev t dr_web meta l4proto tcp reject with tcp reset/);
  const v6 = renderDrReplace(
    't',
    planDrTable([
      svc({
        family: 6,
        vip: '2001:db8::100',
        backends: [{ ...be(1), addr: '2001:db8::21', key: '[2001:db8::21]:80' }],
      }),
    ]),
  );
  assert.match(v6, /drd6_eth0 \{ 2001:db8::100 \. tcp \. 80 : goto dr_web \}/);
  assert.match(v6, /fwd ip6 to 2001:db8::21 device "eth0"/);
});

test('dr: bad input is TND_NFT_PROGRAM naming the service', () => {
  assert.throws(
    () => planDrTable([svc({ device: undefined })]),
    /service web: method dr needs the director's interface/,
  );
  assert.throws(() => planDrTable([svc({ device: 'a b' })]), /not an interface name/);
  assert.throws(
    () => planDrTable([svc(), svc({ id: 'web2' })]),
    /services web and web2 both claim 198\.18\.0\.100 tcp 80/,
  );
  assert.throws(() => planDrTable([svc({ backends: [be(1), { ...be(1), key: 'x' }] })]), /listed twice/);
});

test('dr: flows are counted per flow set from nft list output', () => {
  const listing = [
    'table netdev t {',
    '\tset dr_web_fl_198.18.0.21-80 {',
    '\t\ttypeof ip saddr . th sport',
    '\t\tsize 262144',
    '\t\tflags dynamic,timeout',
    '\t\ttimeout 15m',
    '\t\telements = { 198.18.0.5 . 40000 expires 14m59s, 198.18.0.5 . 40001 expires 14m58s,',
    '\t\t\t     198.18.0.6 . 40002 expires 14m57s }',
    '\t}',
    '\tset dr_web_fl_198.18.0.22-80 {',
    '\t\ttypeof ip saddr . th sport',
    '\t}',
    '}',
  ].join('\n');
  assert.deepEqual(
    [...countDrFlows(listing)],
    [
      ['dr_web_fl_198.18.0.21-80', 3],
      ['dr_web_fl_198.18.0.22-80', 0],
    ],
  );
});
