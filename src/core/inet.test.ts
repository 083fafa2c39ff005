import assert from 'node:assert/strict';
import { isIPv4, isIPv6 } from 'node:net';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  formatIpv4,
  formatIpv6,
  internetChecksum,
  normaliseAddr,
  onesComplementSum,
  parseAddr,
  parseIpv4,
  parseIpv6,
  stripZone,
} from './inet.ts';

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);
/** IPv6 text as the WHATWG URL serializer writes it: RFC 5952 compression, but never a dotted tail. */
const whatwg = (text: string): string => new URL(`http://[${text}]/`).hostname.slice(1, -1);
const isMapped = (b: Uint8Array): boolean =>
  b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;

test('IPv4 text round-trips through bytes', () => {
  assert.deepEqual(parseIpv4('198.18.0.100'), bytes(198, 18, 0, 100));
  assert.equal(formatIpv4(bytes(224, 0, 0, 18)), '224.0.0.18');
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.-4', '1.2.3.4 ', 'a.b.c.d', '1..2.3']) {
    assert.equal(parseIpv4(bad), undefined, bad);
  }
});

test('IPv4 parsing agrees with node:net isIPv4 on arbitrary text', () => {
  fc.assert(
    fc.property(fc.oneof(fc.ipV4(), fc.ipV4Extended(), fc.stringMatching(/^[0-9.]{0,17}$/)), (s) => {
      assert.equal(parseIpv4(s) !== undefined, isIPv4(s), s);
    }),
    { numRuns: 2000 },
  );
});

test('IPv6 text parses per RFC 4291 §2.2 and formats per RFC 5952', () => {
  const cases: [string, string][] = [
    ['::', '::'],
    ['::1', '::1'],
    ['FE80:0000:0000:0000:0000:0000:0000:0001', 'fe80::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // the first of two equal runs (§4.2.3)
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group stays (§4.2.2)
    ['2001:0db8::0001', '2001:db8::1'],
    ['1::', '1::'],
    ['::ffff:198.18.0.100', '::ffff:198.18.0.100'], // IPv4-mapped keeps the dotted tail (§5)
    ['::ffff:c612:64', '::ffff:198.18.0.100'],
    ['64:ff9b::198.18.0.100', '64:ff9b::c612:64'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
  ];
  for (const [input, canonical] of cases) {
    const b = parseIpv6(input);
    assert.ok(b, input);
    assert.equal(formatIpv6(b), canonical, input);
  }
  for (const bad of [
    '',
    ':',
    ':::',
    '1:::2',
    '1::2::3',
    ':1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '1:2:3:4::5:6:7:8',
    '12345::',
    'g::',
    '::1.2.3',
    '::01.2.3.4',
    '1.2.3.4::',
    'fe80::1%eth0',
  ]) {
    assert.equal(parseIpv6(bad), undefined, bad);
  }
});

test('IPv6 formatting matches the WHATWG URL serializer and parses back to the same bytes', () => {
  // Zero-heavy words make compression choices (ties, single zero groups) common.
  const word = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
  fc.assert(
    fc.property(fc.array(word, { minLength: 8, maxLength: 8 }), (words) => {
      const b = new Uint8Array(16);
      words.forEach((w, i) => {
        b[2 * i] = w >> 8;
        b[2 * i + 1] = w & 0xff;
      });
      const text = formatIpv6(b);
      assert.deepEqual(parseIpv6(text), b, text);
      if (!isMapped(b)) assert.equal(text, whatwg(text));
    }),
    { numRuns: 3000 },
  );
});

test('IPv6 parsing agrees with node:net isIPv6 on generated, near-miss and arbitrary text', () => {
  // One character replaced, inserted or deleted in a valid address: the cases a hand-written parser gets wrong.
  const nearMiss = fc
    .tuple(fc.ipV6(), fc.nat(), fc.constantFrom(':', '::', '.', '0', 'f', '1.2', ''), fc.boolean())
    .map(([s, at, ch, replace]) => {
      const i = at % (s.length + 1);
      return s.slice(0, i) + ch + s.slice(replace ? i + 1 : i);
    });
  fc.assert(
    fc.property(fc.oneof(fc.ipV6(), nearMiss, fc.stringMatching(/^[0-9a-f:.]{0,41}$/)), (s) => {
      const b = parseIpv6(s);
      assert.equal(b !== undefined, isIPv6(s), s);
      if (b && !isMapped(b)) assert.equal(formatIpv6(b), whatwg(s), s);
    }),
    { numRuns: 3000 },
  );
});

test('normaliseAddr gives one text per address, of either family', () => {
  assert.equal(normaliseAddr('FE80:0::1'), 'fe80::1');
  assert.equal(normaliseAddr('198.18.0.100'), '198.18.0.100');
  assert.equal(normaliseAddr('eth0'), undefined);
  assert.equal(parseAddr('198.18.0.100', 6), undefined);
  assert.equal(parseAddr('::1', 4), undefined);
  assert.equal(stripZone('fe80::1%eth0'), 'fe80::1');
  assert.equal(stripZone('198.18.0.1'), '198.18.0.1');
});

test('RFC 1071: the Internet checksum of the numerical example', () => {
  // RFC 1071 §3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2 (one's complement), checksum 220d.
  const data = bytes(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7);
  assert.equal(onesComplementSum(data), 0xddf2);
  assert.equal(internetChecksum(data), 0x220d);
  // A message carrying its own checksum sums to all ones.
  assert.equal(onesComplementSum(bytes(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7, 0x22, 0x0d)), 0xffff);
  // Odd lengths are padded with a zero byte; parts chain like one buffer.
  assert.equal(internetChecksum(bytes(0x12, 0x34, 0x56)), internetChecksum(bytes(0x12, 0x34, 0x56, 0x00)));
  assert.equal(internetChecksum(bytes(1, 2), bytes(3, 4)), internetChecksum(bytes(1, 2, 3, 4)));
});
