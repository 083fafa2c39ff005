import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashString, murmur3 } from './hash.ts';

const bytes = (s: string) => new TextEncoder().encode(s);

test('murmur3 matches the published MurmurHash3_x86_32 test vectors', () => {
  assert.equal(murmur3(bytes(''), 0), 0);
  assert.equal(murmur3(bytes(''), 1), 0x514e28b7);
  assert.equal(murmur3(bytes(''), 0xffffffff), 0x81f16f39);
  assert.equal(murmur3(new Uint8Array(4), 0), 0x2362f9de);
  assert.equal(murmur3(bytes('aaaa'), 0x9747b28c), 0x5a97808a);
  assert.equal(murmur3(bytes('Hello, world!'), 0x9747b28c), 0x24884cba);
  assert.equal(murmur3(bytes('The quick brown fox jumps over the lazy dog'), 0x9747b28c), 0x2fa826cd);
});

test('hashString hashes the UTF-8 bytes and returns an unsigned 32-bit integer', () => {
  assert.equal(hashString('hello'), 0x248bfa47);
  assert.equal(hashString('é'), murmur3(Uint8Array.of(0xc3, 0xa9)));
  for (const s of ['', 'a', '198.51.100.7', '[2001:db8::1]:80']) {
    const h = hashString(s, 7);
    assert.ok(Number.isInteger(h) && h >= 0 && h < 2 ** 32);
  }
});
