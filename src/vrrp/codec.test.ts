import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { type Dissection, field, fieldValues, parseDissections } from '../../test/support/dissection.ts';
import {
  type CapturedFrame,
  LINKTYPE_ETHERNET,
  parseArp,
  parseEthernet,
  parseIpv4Packet,
  readCapture,
} from '../../test/support/pcap.ts';
import { TandemError } from '../core/errors.ts';
import { formatIpv4, formatIpv6, normaliseAddr, parseIpv4, parseIpv6 } from '../core/inet.ts';
import {
  decodeVrrp,
  encodeVrrp,
  IPPROTO_VRRP,
  type MatchableInstance,
  matchAdvert,
  matchSource,
  pseudoHeader,
  type VrrpDecodeResult,
  type VrrpMatchResult,
  vrrpChecksum,
} from './codec.ts';
import { clockSeq, type HmacVerifyResult, signHmac, verifyHmac } from './codec-hmac.ts';
import { type RxMeta, type TxMeta, type V3ChecksumForm, VRRP_DROPS, type VrrpDrop, type VrrpPacket } from './types.ts';

// ---------------------------------------------------------------------------------------------------------------
// Shared fixtures. The hex adverts are the VRRP part of the keepalived 2.2.7 captures, as printed in
// vectors/vrrpv2-pass-advert.tshark.txt and vectors/vrrpv3-advert.tshark.txt, so these tests do not need the files.

const hex = (s: string): Uint8Array =>
  Uint8Array.from(s.replace(/\s+/g, '').match(/../g) ?? [], (h) => parseInt(h, 16));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** keepalived v2, VRID 51, priority 150, PASS "anc12345", advert_int 1, VIP 198.18.0.100, checksum 0x564b. */
const V2_ADVERT = hex('21339601 0101564b c6120064 616e6331 32333435');
/** keepalived v3/IPv4, VRID 51, priority 150, 10 cs, VIP 198.18.0.100, pseudo-header checksum 0xcb9d. */
const V3_ADVERT = hex('31339601 000acb9d c6120064');

const LAB = { src: '198.18.0.11', dst: '224.0.0.18' } as const;
const RX4: RxMeta = { ttl: 255, family: 4, ...LAB };
const RX6: RxMeta = { ttl: 255, family: 6, src: 'fe80::11', dst: 'ff02::12' };
const TX4: TxMeta = { ...LAB };
const TX6: TxMeta = { src: 'fe80::11', dst: 'ff02::12' };

const V2_PACKET: VrrpPacket = {
  version: 2,
  family: 4,
  vrid: 51,
  priority: 150,
  advertIntervalMs: 1000,
  addrs: ['198.18.0.100'],
  auth: { type: 'pass', password: 'anc12345' },
};
const V3_PACKET: VrrpPacket = { ...V2_PACKET, version: 3, advertIntervalMs: 100, auth: { type: 'none' } };
const V3_V6_PACKET: VrrpPacket = { ...V3_PACKET, family: 6, addrs: ['fe80::100', '2001:db8::100'] };

/** The lab's backup (keepalived peer 198.18.0.12) as a tandem instance. */
const LAB_INSTANCE_V2: MatchableInstance = {
  version: 2,
  family: 4,
  vrid: 51,
  priority: 100,
  auth: { type: 'pass', password: 'anc12345' },
  advertIntervalMs: 1000,
  vips: [{ addr: '198.18.0.100', prefix: 24 }],
};
const LAB_INSTANCE_V3: MatchableInstance = {
  ...LAB_INSTANCE_V2,
  version: 3,
  advertIntervalMs: 100,
  auth: { type: 'none' },
};

/** Sets bytes, then recomputes the checksum in the given form so only the edited field is wrong. */
function patch(
  bytes: Uint8Array,
  edits: Record<number, number>,
  checksum: 'message' | 'pseudo-header' | 'keep' = 'message',
  meta: { src: string; dst: string; family: 4 | 6 } = RX4,
): Uint8Array {
  const out = Uint8Array.from(bytes);
  for (const [at, v] of Object.entries(edits)) out[Number(at)] = v;
  if (checksum !== 'keep') {
    const parse = meta.family === 4 ? parseIpv4 : parseIpv6;
    const ph = checksum === 'pseudo-header' ? pseudoHeader(parse(meta.src)!, parse(meta.dst)!, out.length) : undefined;
    new DataView(out.buffer).setUint16(6, vrrpChecksum(out, ph));
  }
  return out;
}

function expectOk(r: VrrpDecodeResult): Extract<VrrpDecodeResult, { ok: true }> {
  if (!r.ok) assert.fail(`expected ok, got ${r.reason}: ${r.detail}`);
  return r;
}

function expectDrop(r: VrrpDecodeResult | VrrpMatchResult | HmacVerifyResult, reason: VrrpDrop, detail?: RegExp): void {
  if (r.ok) assert.fail(`expected drop '${reason}', got ok`);
  assert.equal(r.reason, reason, r.detail);
  assert.ok(r.detail.length > 0);
  if (detail) assert.match(r.detail, detail);
}

// ---------------------------------------------------------------------------------------------------------------
// 1. Golden vectors: every capture in /work/shared/vectors, checked against README.md and the decoded text.

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const VECTORS = path.resolve(REPO_ROOT, '../shared/vectors');

/**
 * What each capture holds, from vectors/README.md and the captures themselves: `.11/150` is a VRRP advert from
 * 198.18.0.11 with priority 150, `garp` a gratuitous ARP for 198.18.0.100, `×n` a run.
 */
const MANIFEST: Record<string, string> = {
  'vrrpv2-pass-advert.pcap': '.11/150',
  'vrrpv2-prio0.pcap': '.11/0',
  'vrrpv2-garp.pcap': 'garp',
  'vrrpv2-failover.pcap': '.11/150 .11/0 .12/100 garp×5 .12/100×4',
  'vrrpv3-advert.pcap': '.11/150',
  'vrrpv3-prio0.pcap': '.11/0',
  'vrrpv3-garp.pcap': 'garp',
  'vrrpv3-failover.pcap': '.11/150×15 .11/0 .12/100 garp×5 .12/100×38',
};

interface GoldenFrame {
  file: string;
  frame: CapturedFrame;
  kind: 'vrrp' | 'arp' | 'other';
  ip?: ReturnType<typeof parseIpv4Packet>;
}

function loadVectors(): Map<string, GoldenFrame[]> {
  assert.ok(existsSync(VECTORS), `golden vectors missing: ${VECTORS} (expected beside the repository)`);
  const out = new Map<string, GoldenFrame[]>();
  for (const file of readdirSync(VECTORS)
    .filter((f) => f.endsWith('.pcap'))
    .sort()) {
    const frames = readCapture(readFileSync(path.join(VECTORS, file))).map((frame): GoldenFrame => {
      assert.equal(frame.linkType, LINKTYPE_ETHERNET, `${file} #${frame.number}`);
      const eth = parseEthernet(frame.data);
      if (eth.etherType === 0x0806) return { file, frame, kind: 'arp' };
      if (eth.etherType !== 0x0800) return { file, frame, kind: 'other' };
      const ip = parseIpv4Packet(eth.payload);
      return { file, frame, kind: ip.protocol === IPPROTO_VRRP ? 'vrrp' : 'other', ip };
    });
    out.set(file, frames);
  }
  return out;
}

let vectorCache: Map<string, GoldenFrame[]> | undefined;
const vectors = (): Map<string, GoldenFrame[]> => {
  vectorCache ??= loadVectors();
  return vectorCache;
};
const goldenVrrp = (): GoldenFrame[] => [...vectors().values()].flat().filter((g) => g.kind === 'vrrp');

const rxOf = (g: GoldenFrame): RxMeta => ({ ttl: g.ip!.ttl, family: 4, src: g.ip!.src, dst: g.ip!.dst });

function summarise(frames: GoldenFrame[]): string {
  const tokens = frames.map((g) => {
    if (g.kind === 'vrrp') {
      const r = decodeVrrp(g.ip!.payload, rxOf(g));
      return r.ok ? `.${g.ip!.src.split('.')[3]}/${r.packet.priority}` : `drop:${r.reason}`;
    }
    if (g.kind === 'arp') {
      const arp = parseArp(parseEthernet(g.frame.data).payload);
      const gratuitous = arp.senderIp === arp.targetIp && arp.op === 1;
      return gratuitous ? (arp.senderIp === '198.18.0.100' ? 'garp' : `garp:${arp.senderIp}`) : 'arp';
    }
    return 'other';
  });
  const runs: string[] = [];
  for (let i = 0; i < tokens.length; ) {
    let j = i;
    while (j < tokens.length && tokens[j] === tokens[i]) j++;
    runs.push(j - i > 1 ? `${tokens[i]}×${j - i}` : String(tokens[i]));
    i = j;
  }
  return runs.join(' ');
}

test('golden vectors: every capture in vectors/ holds the frames README.md describes', () => {
  const v = vectors();
  assert.deepEqual([...v.keys()].sort(), Object.keys(MANIFEST).sort(), 'a capture was added or removed');
  for (const [file, frames] of v) assert.equal(summarise(frames), MANIFEST[file], file);
});

test('golden vectors: every VRRP frame decodes to the documented fields and re-encodes byte for byte', () => {
  const all = goldenVrrp();
  assert.equal(all.length, 1 + 1 + 7 + 1 + 1 + 55);
  for (const g of all) {
    const where = `${g.file} #${g.frame.number}`;
    const ip = g.ip!;
    const version = g.file.startsWith('vrrpv2') ? 2 : 3;
    assert.equal(ip.ttl, 255, where);
    assert.equal(ip.dst, '224.0.0.18', where);
    assert.ok(['198.18.0.11', '198.18.0.12'].includes(ip.src), where);
    const r = expectOk(decodeVrrp(ip.payload, rxOf(g)));
    const p = r.packet;
    assert.equal(p.version, version, where);
    assert.equal(p.family, 4, where);
    assert.equal(p.vrid, 51, where);
    // .11 is the configured master (150) and says goodbye with 0 on SIGTERM; .12 is the backup (100).
    assert.ok(ip.src === '198.18.0.11' ? [150, 0].includes(p.priority) : p.priority === 100, where);
    assert.deepEqual(p.addrs, ['198.18.0.100'], where);
    if (version === 2) {
      assert.equal(p.advertIntervalMs, 1000, where); // advert_int 1
      assert.deepEqual(p.auth, { type: 'pass', password: 'anc12345' }, where);
      assert.equal(r.checksumForm, 'message', where);
      assert.equal(ip.payload.length, 20, where);
    } else {
      assert.equal(p.advertIntervalMs, 100, where); // 10 centiseconds
      assert.deepEqual(p.auth, { type: 'none' }, where);
      assert.equal(r.checksumForm, 'pseudo-header', where); // keepalived's default v3/IPv4 form
      assert.equal(ip.payload.length, 12, where);
    }
    const again = encodeVrrp(p, { src: ip.src, dst: ip.dst });
    assert.equal(toHex(again), toHex(ip.payload), `${where}: re-encoded bytes differ`);
    // keepalived's peer, configured like the lab backup, accepts every advert.
    assert.deepEqual(matchAdvert(p, version === 2 ? LAB_INSTANCE_V2 : LAB_INSTANCE_V3), { ok: true }, where);
  }
});

test('golden vectors: the GARP captures hold gratuitous ARPs for 198.18.0.100', () => {
  for (const file of ['vrrpv2-garp.pcap', 'vrrpv3-garp.pcap', 'vrrpv2-failover.pcap', 'vrrpv3-failover.pcap']) {
    const arps = (vectors().get(file) ?? []).filter((g) => g.kind === 'arp');
    assert.ok(arps.length > 0, `${file} has no ARP frame`);
    for (const g of arps) {
      const eth = parseEthernet(g.frame.data);
      const arp = parseArp(eth.payload);
      assert.equal(eth.dst, 'ff:ff:ff:ff:ff:ff', file);
      assert.equal(arp.op, 1, file); // keepalived sends requests, not replies
      assert.equal(arp.senderIp, '198.18.0.100', file);
      assert.equal(arp.targetIp, '198.18.0.100', file);
      assert.equal(arp.targetMac, 'ff:ff:ff:ff:ff:ff', file);
      assert.equal(arp.senderMac, eth.src, file);
    }
  }
});

test('golden vectors: the pcapng excerpts hold the same bytes as the classic-pcap failovers', () => {
  // vrrpv2-prio0 / vrrpv2-garp etc. are pcapng although README.md says classic: both readers must agree.
  const frame = (file: string, n: number): string =>
    toHex(vectors().get(file)?.[n - 1]?.frame.data ?? new Uint8Array());
  assert.equal(frame('vrrpv2-prio0.pcap', 1), frame('vrrpv2-failover.pcap', 2));
  assert.equal(frame('vrrpv3-prio0.pcap', 1), frame('vrrpv3-failover.pcap', 16));
  assert.equal(frame('vrrpv2-garp.pcap', 1), frame('vrrpv2-failover.pcap', 4));
  assert.equal(frame('vrrpv3-garp.pcap', 1), frame('vrrpv3-failover.pcap', 18));
  // And the fixture above is the VRRP part (after 14 bytes of Ethernet and 20 of IPv4) of the PASS capture.
  assert.equal(frame('vrrpv2-pass-advert.pcap', 1).slice((14 + 20) * 2), toHex(V2_ADVERT));
  assert.equal(frame('vrrpv3-advert.pcap', 1).slice((14 + 20) * 2), toHex(V3_ADVERT));
});

/** Checks one decoded-text section (tcpdump summary, tshark tree) against the frame and our decode of it. */
function checkDissection(d: Dissection): void {
  const frames = vectors().get(d.pcap);
  assert.ok(frames, `${d.where} names ${d.pcap}, which is not in vectors/`);
  const dumped = d.tsharkBytes ?? d.tcpdumpBytes;
  assert.ok(dumped, `${d.where} has no hex dump`);
  const g = d.frame !== undefined ? frames[d.frame - 1] : frames.find((f) => toHex(f.frame.data) === toHex(dumped));
  assert.ok(g, `${d.where}: no frame of ${d.pcap} matches`);
  for (const b of [d.tsharkBytes, d.tcpdumpBytes]) if (b) assert.equal(toHex(b), toHex(g.frame.data), d.where);

  if (g.kind === 'arp') {
    const arp = parseArp(parseEthernet(g.frame.data).payload);
    assert.equal(field(d, 'Sender IP address'), arp.senderIp, d.where);
    assert.equal(field(d, 'Target IP address'), arp.targetIp, d.where);
    assert.equal(field(d, 'Opcode'), `request (${arp.op})`, d.where);
    return;
  }
  assert.equal(g.kind, 'vrrp', d.where);
  const ip = g.ip!;
  const { packet: p } = expectOk(decodeVrrp(ip.payload, rxOf(g)));
  const wireChecksum = (ip.payload[6]! << 8) | ip.payload[7]!;

  if (d.tcpdump) {
    const m =
      /^(\S+) > (\S+): VRRPv(\d), Advertisement, vrid (\d+), prio (\d+)(?:, authtype (\w+))?, intvl (\d+)(s|cs), length (\d+), addrs: (.+?)(?: auth "([^"]*)")?$/.exec(
        d.tcpdump,
      );
    assert.ok(m, `${d.where}: unexpected tcpdump summary ${d.tcpdump}`);
    const [, src, dst, version, vrid, prio, authtype, intvl, unit, length, addrs, password] = m;
    assert.equal(src, ip.src, d.where);
    assert.equal(dst, ip.dst, d.where);
    assert.equal(Number(version), p.version, d.where);
    assert.equal(Number(vrid), p.vrid, d.where);
    assert.equal(Number(prio), p.priority, d.where);
    assert.equal(Number(intvl) * (unit === 's' ? 1000 : 10), p.advertIntervalMs, d.where);
    assert.equal(Number(length), ip.payload.length, d.where);
    assert.deepEqual(addrs?.split(/,\s*/), p.addrs, d.where);
    if (p.version === 2) {
      assert.equal(authtype, 'simple', d.where);
      assert.deepEqual(p.auth, { type: 'pass', password }, d.where);
    }
  }
  if (d.tsharkBytes) {
    assert.equal(Number(field(d, 'Time to Live')), ip.ttl, d.where);
    assert.equal(field(d, 'Source Address'), ip.src, d.where);
    assert.equal(field(d, 'Destination Address'), ip.dst, d.where);
    assert.equal(Number(field(d, 'VRRP protocol version')), p.version, d.where);
    assert.equal(field(d, 'VRRP packet type'), 'Advertisement (1)', d.where);
    assert.equal(Number(field(d, 'Virtual Rtr ID')), p.vrid, d.where);
    assert.equal(Number.parseInt(field(d, 'Priority'), 10), p.priority, d.where);
    assert.equal(Number(field(d, 'Addr Count')), p.addrs.length, d.where);
    assert.deepEqual(fieldValues(d, 'IP Address'), p.addrs, d.where);
    assert.equal(field(d, 'Checksum'), `0x${wireChecksum.toString(16).padStart(4, '0')} [correct]`, d.where);
    const adverInt = Number(field(d, 'Adver Int'));
    if (p.version === 2) {
      assert.equal(adverInt * 1000, p.advertIntervalMs, d.where);
      assert.match(field(d, 'Auth Type'), /\(1\)$/, d.where);
      assert.deepEqual(p.auth, { type: 'pass', password: field(d, 'Authentication String') }, d.where);
    } else {
      assert.equal(adverInt * 10, p.advertIntervalMs, d.where);
      assert.equal(field(d, 'Reserved'), '0', d.where);
    }
  }
}

test('golden vectors: decoding agrees with the tcpdump and tshark text shipped beside the captures', () => {
  const texts = readdirSync(VECTORS).filter((f) => f.endsWith('.txt'));
  assert.ok(texts.length >= 6, `expected the decoded text files in ${VECTORS}`);
  let checked = 0;
  for (const file of texts) {
    for (const d of parseDissections(file, readFileSync(path.join(VECTORS, file), 'utf8'))) {
      checkDissection(d);
      checked++;
    }
  }
  assert.equal(checked, 8); // 2 tcpdump-only, 2 tshark-only, 4 sections of the failover files
});

// ---------------------------------------------------------------------------------------------------------------
// 2. Spec tests, named after the sentence they check.

test('RFC 3768 §7.1: a packet whose TTL is not 255 is discarded', () => {
  for (const ttl of [0, 1, 64, 254]) expectDrop(decodeVrrp(V2_ADVERT, { ...RX4, ttl }), 'ttl', /TTL \d+, expected 255/);
  expectDrop(decodeVrrp(V3_ADVERT, { ...RX4, ttl: 1 }), 'ttl');
  expectOk(decodeVrrp(V2_ADVERT, RX4));
});

test('keepalived: unicast peers may skip the TTL check (checkTtl false)', () => {
  expectOk(decodeVrrp(V2_ADVERT, { ...RX4, ttl: 63, checkTtl: false }));
  expectDrop(decodeVrrp(V2_ADVERT, { ...RX4, ttl: 63, checkTtl: true }), 'ttl');
});

test('RFC 3768 §7.1: a router MUST verify that the version field is 2 (or 3 for RFC 5798)', () => {
  for (const v of [0, 1, 4, 5, 15]) {
    expectDrop(decodeVrrp(patch(V2_ADVERT, { 0: (v << 4) | 1 }), RX4), 'version', new RegExp(`version ${v}`));
  }
});

test('RFC 3768 §1: VRRPv2 is for IPv4 only; a v2 packet over IPv6 is discarded', () => {
  expectDrop(decodeVrrp(V2_ADVERT, RX6), 'version', /IPv6/);
});

test('RFC 3768 §5.3.2: a packet with an unknown type is discarded', () => {
  for (const t of [0, 2, 15]) expectDrop(decodeVrrp(patch(V2_ADVERT, { 0: 0x20 | t }), RX4), 'type', /type \d+/);
  expectDrop(decodeVrrp(patch(V3_ADVERT, { 0: 0x32 }, 'pseudo-header'), RX4), 'type');
});

test('RFC 3768 §7.1 / RFC 5798 §7.1: a packet shorter than header, addresses (and auth data) is discarded', () => {
  for (let n = 0; n < V2_ADVERT.length; n++) expectDrop(decodeVrrp(V2_ADVERT.subarray(0, n), RX4), 'short');
  for (let n = 0; n < V3_ADVERT.length; n++) expectDrop(decodeVrrp(V3_ADVERT.subarray(0, n), RX4), 'short');
  expectDrop(decodeVrrp(V2_ADVERT.subarray(0, 19), RX4), 'short', /19 bytes, need 20 for 1 addresses and auth data/);
  // Count says 3 addresses but only one is there.
  expectDrop(decodeVrrp(patch(V3_ADVERT, { 3: 3 }, 'keep'), RX4), 'short', /need 20/);
  // A v3/IPv6 advert with one address needs 8 + 16 bytes.
  const v6 = encodeVrrp({ ...V3_V6_PACKET, addrs: ['fe80::1'] }, TX6);
  expectDrop(decodeVrrp(v6.subarray(0, 23), RX6), 'short', /need 24/);
});

test('RFC 3768 §5.3.8: the v2 checksum covers the VRRP message only, no pseudo-header', () => {
  assert.equal(vrrpChecksum(V2_ADVERT), 0x564b);
  const ph = pseudoHeader(parseIpv4(LAB.src)!, parseIpv4(LAB.dst)!, V2_ADVERT.length);
  assert.notEqual(vrrpChecksum(V2_ADVERT, ph), 0x564b);
  const r = expectOk(decodeVrrp(V2_ADVERT, RX4));
  assert.equal(r.checksumForm, 'message');
  // The source address plays no part, so a v2 advert verifies whoever sent it.
  expectOk(decodeVrrp(V2_ADVERT, { ...RX4, src: '192.0.2.1' }));
  // A v2 checksum computed with a pseudo-header (a common implementation bug) is refused.
  expectDrop(decodeVrrp(patch(V2_ADVERT, {}, 'pseudo-header'), RX4), 'checksum');
  // Auth data is covered too.
  expectDrop(decodeVrrp(patch(V2_ADVERT, { 19: 0x36 }, 'keep'), RX4), 'checksum', /^checksum 0x564b, expected 0x564a$/);
});

test('RFC 5798 §5.2.8 / keepalived: v3 IPv4 checksum includes the pseudo-header', () => {
  // The pseudo-header, written out by hand: src, dst, zero, protocol 112, VRRP length 12.
  const ph = hex('c612000b e0000012 00 70 000c');
  assert.deepEqual(pseudoHeader(parseIpv4(LAB.src)!, parseIpv4(LAB.dst)!, 12), ph);
  assert.equal(vrrpChecksum(V3_ADVERT, ph), 0xcb9d);
  assert.equal(expectOk(decodeVrrp(V3_ADVERT, RX4)).checksumForm, 'pseudo-header');
  // Encoding defaults to this form.
  assert.equal(toHex(encodeVrrp(V3_PACKET, TX4)), toHex(V3_ADVERT));
  assert.equal(toHex(encodeVrrp(V3_PACKET, { ...TX4, v3Checksum: 'pseudo-header' })), toHex(V3_ADVERT));
  // The real source address is part of it: the same bytes from another sender do not verify.
  expectDrop(
    decodeVrrp(V3_ADVERT, { ...RX4, src: '198.18.0.12' }),
    'checksum',
    /^checksum 0xcb9d, expected 0xcb9c \(pseudo-header\) or 0x[0-9a-f]{4} \(message only\)$/,
  );
  // keepalived ≤ 1.3.6 put the multicast group in the pseudo-header even for unicast: that is a different sum too.
  expectDrop(decodeVrrp(V3_ADVERT, { ...RX4, dst: '198.18.0.12' }), 'checksum');
});

test('RFC 9568 §1.2 change 4: a v3 IPv4 checksum over the message only is accepted', () => {
  const bytes = encodeVrrp(V3_PACKET, { ...TX4, v3Checksum: 'message' });
  assert.equal((bytes[6]! << 8) | bytes[7]!, vrrpChecksum(bytes));
  assert.notEqual(toHex(bytes), toHex(V3_ADVERT));
  const r = expectOk(decodeVrrp(bytes, RX4));
  assert.equal(r.checksumForm, 'message');
  assert.deepEqual(r.packet, V3_PACKET);
  // This form does not depend on the addresses, so any sender verifies.
  assert.equal(expectOk(decodeVrrp(bytes, { ...RX4, src: '192.0.2.1' })).checksumForm, 'message');
});

test('RFC 5798 §5.2.8 / RFC 8200 §8.1: a v3 IPv6 advert round-trips with the IPv6 pseudo-header checksum', () => {
  const bytes = encodeVrrp(V3_V6_PACKET, TX6);
  assert.equal(bytes.length, 8 + 2 * 16);
  assert.equal(toHex(bytes.subarray(0, 6)), '31339602000a');
  assert.equal(toHex(bytes.subarray(8, 24)), 'fe800000000000000000000000000100');
  // Pseudo-header by hand: src(16) dst(16) upper-layer length(4) zero(3) next header 112.
  const ph = hex(
    'fe800000000000000000000000000011 ff020000000000000000000000000012 00000028 000000 70'.replace(/ /g, ''),
  );
  assert.deepEqual(pseudoHeader(parseIpv6('fe80::11')!, parseIpv6('ff02::12')!, 40), ph);
  assert.equal((bytes[6]! << 8) | bytes[7]!, vrrpChecksum(bytes, ph));
  const r = expectOk(decodeVrrp(bytes, RX6));
  assert.equal(r.checksumForm, 'pseudo-header');
  assert.deepEqual(r.packet, V3_V6_PACKET);
  // A zone id from the socket layer is not part of the address.
  expectOk(decodeVrrp(bytes, { ...RX6, src: 'fe80::11%eth0' }));
  // IPv6 has no message-only form: the switch is ignored on send and the form is refused on receipt.
  assert.equal(toHex(encodeVrrp(V3_V6_PACKET, { ...TX6, v3Checksum: 'message' })), toHex(bytes));
  expectDrop(decodeVrrp(patch(bytes, {}, 'message'), RX6), 'checksum', /\(pseudo-header\)$/);
});

test('RFC 3768 §5.3.6 / keepalived: auth type 2 (IP AH) is not supported, other unknown types are discarded', () => {
  expectDrop(decodeVrrp(patch(V2_ADVERT, { 4: 2 }), RX4), 'auth', /IP AH.*not supported/);
  expectDrop(decodeVrrp(patch(V2_ADVERT, { 4: 3 }), RX4), 'auth', /auth type 3 is unknown/);
  expectDrop(decodeVrrp(patch(V2_ADVERT, { 4: 255 }), RX4), 'auth');
});

test('RFC 3768 §5.3.10: with auth type 0 the auth data is ignored on receipt and sent as zeros', () => {
  const r = expectOk(decodeVrrp(patch(V2_ADVERT, { 4: 0 }), RX4));
  assert.deepEqual(r.packet.auth, { type: 'none' });
  const bytes = encodeVrrp({ ...V2_PACKET, auth: { type: 'none' } }, TX4);
  assert.equal(toHex(bytes.subarray(12)), '0000000000000000');
  assert.equal(bytes[4], 0);
});

test('keepalived PASS: the password is the 8 auth bytes up to the first NUL, padded with NUL on send', () => {
  const short = encodeVrrp({ ...V2_PACKET, auth: { type: 'pass', password: 'abc' } }, TX4);
  assert.equal(toHex(short.subarray(12)), '6162630000000000');
  assert.deepEqual(expectOk(decodeVrrp(short, RX4)).packet.auth, { type: 'pass', password: 'abc' });
  // Bytes after the first NUL are not part of the password.
  const junk = patch(short, { 16: 0x7a, 17: 0x7a });
  assert.deepEqual(expectOk(decodeVrrp(junk, RX4)).packet.auth, { type: 'pass', password: 'abc' });
  // All 8 bytes used: no NUL at all.
  assert.deepEqual(expectOk(decodeVrrp(V2_ADVERT, RX4)).packet.auth, { type: 'pass', password: 'anc12345' });
  // UTF-8 is carried as bytes; bytes that are not UTF-8 could match no configured password.
  const utf = encodeVrrp({ ...V2_PACKET, auth: { type: 'pass', password: 'pässwö' } }, TX4);
  assert.deepEqual(expectOk(decodeVrrp(utf, RX4)).packet.auth, { type: 'pass', password: 'pässwö' });
  expectDrop(decodeVrrp(patch(V2_ADVERT, { 12: 0xff }), RX4), 'auth', /not UTF-8/);
  // A leading byte-order mark is part of the password, not swallowed by the UTF-8 decoder.
  const bom = expectOk(decodeVrrp(patch(V2_ADVERT, { 12: 0xef, 13: 0xbb, 14: 0xbf }), RX4));
  assert.deepEqual(bom.packet.auth, { type: 'pass', password: '\ufeff12345' });
});

test('RFC 3768 §5.3.7: an Adver Int of 0 is discarded; the unit is whole seconds', () => {
  expectDrop(decodeVrrp(patch(V2_ADVERT, { 5: 0 }), RX4), 'interval', /Adver Int is 0/);
  assert.equal(expectOk(decodeVrrp(patch(V2_ADVERT, { 5: 255 }), RX4)).packet.advertIntervalMs, 255_000);
});

test('RFC 5798 §5.2.7: a Max Adver Int of 0 is discarded; the unit is centiseconds (10 cs = 100 ms)', () => {
  expectDrop(decodeVrrp(patch(V3_ADVERT, { 4: 0, 5: 0 }, 'pseudo-header'), RX4), 'interval', /Max Adver Int is 0/);
  assert.equal(expectOk(decodeVrrp(V3_ADVERT, RX4)).packet.advertIntervalMs, 100);
  const max = expectOk(decodeVrrp(patch(V3_ADVERT, { 4: 0x0f, 5: 0xff }, 'pseudo-header'), RX4));
  assert.equal(max.packet.advertIntervalMs, 40_950);
});

test('RFC 5798 §5.2.6: the reserved bits are zero on transmit and ignored on receipt', () => {
  const rsvd = patch(V3_ADVERT, { 4: 0xf0 }, 'pseudo-header');
  assert.equal(expectOk(decodeVrrp(rsvd, RX4)).packet.advertIntervalMs, 100);
  // Reserved bits only: a zero interval under them is still zero.
  expectDrop(decodeVrrp(patch(V3_ADVERT, { 4: 0xf0, 5: 0 }, 'pseudo-header'), RX4), 'interval');
  assert.equal(encodeVrrp({ ...V3_PACKET, advertIntervalMs: 40_950 }, TX4)[4], 0x0f);
});

test('an advert with no addresses is discarded', () => {
  const none = patch(V3_ADVERT.subarray(0, 8), { 3: 0 }, 'pseudo-header');
  expectDrop(decodeVrrp(none, RX4), 'addr-count', /Count IP Addrs is 0/);
});

test('RFC 3768 §5.3.3: VRID 0 is not a virtual router, so it is discarded', () => {
  expectDrop(decodeVrrp(patch(V2_ADVERT, { 1: 0 }), RX4), 'vrid', /VRID 0/);
});

test('receive metadata of the wrong family is discarded (the pseudo-header would be meaningless)', () => {
  expectDrop(decodeVrrp(V3_ADVERT, { ...RX4, src: 'fe80::11' }), 'family', /source fe80::11 is not an IPv4/);
  expectDrop(decodeVrrp(V3_ADVERT, { ...RX4, dst: 'ff02::12' }), 'family', /destination/);
  expectDrop(decodeVrrp(V3_ADVERT, { ...RX4, family: 5 as 4 }), 'family');
});

test('bytes after the message (e.g. a newer peer’s trailer) are ignored, and not checksummed', () => {
  const longer = new Uint8Array(V2_ADVERT.length + 4);
  longer.set(V2_ADVERT);
  longer.set([1, 2, 3, 4], V2_ADVERT.length);
  assert.deepEqual(expectOk(decodeVrrp(longer, RX4)).packet, V2_PACKET);
});

test('decode and encode read and write several addresses in wire order', () => {
  const addrs = ['198.18.0.100', '198.18.0.101', '10.0.0.1'];
  const bytes = encodeVrrp({ ...V2_PACKET, addrs }, TX4);
  assert.equal(bytes[3], 3);
  assert.equal(toHex(bytes.subarray(8, 20)), 'c6120064c61200650a000001');
  assert.deepEqual(expectOk(decodeVrrp(bytes, RX4)).packet.addrs, addrs);
  // Address text is normalised: what comes back is the canonical form.
  const v6 = encodeVrrp({ ...V3_V6_PACKET, addrs: ['FE80:0:0::0100', '2001:0db8::0:100'] }, TX6);
  assert.deepEqual(expectOk(decodeVrrp(v6, RX6)).packet.addrs, ['fe80::100', '2001:db8::100']);
});

test('encode refuses fields that do not fit the wire with TND_VRRP_ENCODE', () => {
  const bad: [string, VrrpPacket, TxMeta?][] = [
    ['VRID 0', { ...V2_PACKET, vrid: 0 }],
    ['VRID 256', { ...V2_PACKET, vrid: 256 }],
    ['VRID 1.5', { ...V2_PACKET, vrid: 1.5 }],
    ['priority 256', { ...V2_PACKET, priority: 256 }],
    ['priority -1', { ...V2_PACKET, priority: -1 }],
    ['v2 interval 1500 ms', { ...V2_PACKET, advertIntervalMs: 1500 }],
    ['v2 interval 0', { ...V2_PACKET, advertIntervalMs: 0 }],
    ['v2 interval 256 s', { ...V2_PACKET, advertIntervalMs: 256_000 }],
    ['v3 interval 5 ms', { ...V3_PACKET, advertIntervalMs: 5 }],
    ['v3 interval 15 ms', { ...V3_PACKET, advertIntervalMs: 15 }],
    ['v3 interval 40960 ms', { ...V3_PACKET, advertIntervalMs: 40_960 }],
    ['v3 interval NaN', { ...V3_PACKET, advertIntervalMs: Number.NaN }],
    ['no addresses', { ...V2_PACKET, addrs: [] }],
    ['256 addresses', { ...V2_PACKET, addrs: new Array<string>(256).fill('198.18.0.100') }],
    ['v3 with PASS', { ...V3_PACKET, auth: { type: 'pass', password: 'x' } }],
    ['v2 over IPv6', { ...V2_PACKET, family: 6, addrs: ['fe80::1'] }, TX6],
    ['IPv6 address in an IPv4 advert', { ...V3_PACKET, addrs: ['fe80::1'] }],
    ['IPv4 address in an IPv6 advert', { ...V3_V6_PACKET, addrs: ['198.18.0.100'] }, TX6],
    ['bad address text', { ...V2_PACKET, addrs: ['198.18.0.300'] }],
    ['address with prefix', { ...V2_PACKET, addrs: ['198.18.0.100/24'] }],
    ['password of 9 bytes', { ...V2_PACKET, auth: { type: 'pass', password: '123456789' } }],
    ['password of 9 UTF-8 bytes', { ...V2_PACKET, auth: { type: 'pass', password: 'ääää1' } }],
    ['password with NUL', { ...V2_PACKET, auth: { type: 'pass', password: 'ab\0cd' } }],
    ['password with a lone surrogate', { ...V2_PACKET, auth: { type: 'pass', password: '\ud800' } }],
    ['version 4', { ...V2_PACKET, version: 4 as 2 }],
    ['IPv6 source for an IPv4 advert', V3_PACKET, { ...TX4, src: 'fe80::1' }],
    ['bad destination', V2_PACKET, { ...TX4, dst: 'vrrp-group' }],
  ];
  for (const [name, packet, tx] of bad) {
    assert.throws(
      () => encodeVrrp(packet, tx ?? (packet.family === 6 ? TX6 : TX4)),
      (e: unknown) => e instanceof TandemError && e.code === 'TND_VRRP_ENCODE' && e.message.length > 0,
      name,
    );
  }
  // The edges of every range are fine.
  for (const p of [
    { ...V2_PACKET, vrid: 1, priority: 0, advertIntervalMs: 1000 },
    { ...V2_PACKET, vrid: 255, priority: 255, advertIntervalMs: 255_000 },
    { ...V2_PACKET, auth: { type: 'pass', password: '' } } as VrrpPacket,
    { ...V3_PACKET, advertIntervalMs: 10 },
    { ...V3_PACKET, advertIntervalMs: 40_950 },
    { ...V3_PACKET, addrs: new Array<string>(255).fill('198.18.0.100') },
  ]) {
    expectOk(decodeVrrp(encodeVrrp(p, TX4), RX4));
  }
});

// matchAdvert: the instance-level checks.

test('RFC 3768 §7.1: an advert for a VRID not configured here is discarded', () => {
  expectDrop(matchAdvert({ ...V2_PACKET, vrid: 52 }, LAB_INSTANCE_V2), 'vrid', /VRID 52, this instance is 51/);
});

test('RFC 5798 §7.1: an advert of the other VRRP version is discarded', () => {
  expectDrop(matchAdvert(V3_PACKET, LAB_INSTANCE_V2), 'version-mismatch', /VRRPv3 advert for a VRRPv2 instance/);
  expectDrop(matchAdvert(V2_PACKET, LAB_INSTANCE_V3), 'version-mismatch');
});

test('RFC 5798 §5.2.9: an advert of the other address family is discarded', () => {
  expectDrop(matchAdvert(V3_V6_PACKET, LAB_INSTANCE_V3), 'family');
});

test('RFC 3768 §7.1: the IP address owner (priority 255) discards adverts', () => {
  expectDrop(matchAdvert(V2_PACKET, { ...LAB_INSTANCE_V2, priority: 255 }), 'owner', /priority 255/);
  expectDrop(matchAdvert(V3_PACKET, { ...LAB_INSTANCE_V3, priority: 255 }), 'owner');
});

test('RFC 3768 §7.1: an advert whose auth type or password does not match is discarded', () => {
  expectDrop(matchAdvert({ ...V2_PACKET, auth: { type: 'none' } }, LAB_INSTANCE_V2), 'auth-mismatch', /auth type/);
  const wrong = matchAdvert({ ...V2_PACKET, auth: { type: 'pass', password: 'secret12' } }, LAB_INSTANCE_V2);
  expectDrop(wrong, 'auth-mismatch');
  // Passwords never reach the logs.
  assert.ok(!wrong.ok && !wrong.detail.includes('secret12') && !wrong.detail.includes('anc12345'));
  expectDrop(matchAdvert(V2_PACKET, { ...LAB_INSTANCE_V2, auth: { type: 'none' } }), 'auth-mismatch');
  assert.deepEqual(
    matchAdvert({ ...V2_PACKET, auth: { type: 'none' } }, { ...LAB_INSTANCE_V2, auth: { type: 'none' } }),
    { ok: true },
  );
});

test('RFC 3768 §7.1: a v2 advert whose Adver Int differs from the local one is discarded', () => {
  expectDrop(
    matchAdvert({ ...V2_PACKET, advertIntervalMs: 2000 }, LAB_INSTANCE_V2),
    'interval-mismatch',
    /2000 ms, this instance uses 1000 ms/,
  );
});

test('RFC 5798 §6.4.2 / keepalived: a v3 backup accepts a different Max Adver Int (it adopts it)', () => {
  assert.deepEqual(matchAdvert({ ...V3_PACKET, advertIntervalMs: 2000 }, LAB_INSTANCE_V3), { ok: true });
});

test('RFC 3768 §7.1: an address list that differs, from a sender that is not the owner, is discarded', () => {
  expectDrop(
    matchAdvert({ ...V2_PACKET, addrs: ['198.18.0.100', '198.18.0.101'] }, LAB_INSTANCE_V2),
    'addr-list',
    /unexpected 198\.18\.0\.101/,
  );
  expectDrop(matchAdvert({ ...V2_PACKET, addrs: ['198.18.0.99'] }, LAB_INSTANCE_V2), 'addr-list', /missing/);
  expectDrop(matchAdvert({ ...V2_PACKET, priority: 0 }, { ...LAB_INSTANCE_V2, vips: [] }), 'addr-list');
  // From the owner (priority 255) the list is not checked.
  assert.deepEqual(matchAdvert({ ...V2_PACKET, priority: 255, addrs: ['10.9.9.9'] }, LAB_INSTANCE_V2), { ok: true });
  // The comparison is of sets of addresses: order, duplicates and spelling do not matter.
  const inst6: MatchableInstance = {
    ...LAB_INSTANCE_V3,
    family: 6,
    vips: [
      { addr: 'FE80::100', prefix: 64 },
      { addr: '2001:0db8:0::100', prefix: 64 },
    ],
  };
  assert.deepEqual(matchAdvert({ ...V3_V6_PACKET, addrs: ['2001:db8::100', 'fe80::100'] }, inst6), { ok: true });
  assert.deepEqual(matchAdvert({ ...V3_V6_PACKET, addrs: ['fe80::100', 'fe80::100', '2001:db8::100'] }, inst6), {
    ok: true,
  });
});

test('a unicast instance hears only its configured peers, compared as addresses; multicast hears anyone', () => {
  assert.deepEqual(matchSource('198.18.0.12', { unicastPeers: ['198.18.0.12'] }), { ok: true });
  assert.deepEqual(matchSource('fe80::12%eth0', { unicastPeers: ['FE80:0::12'] }), { ok: true });
  expectDrop(matchSource('198.18.0.13', { unicastPeers: ['198.18.0.12'] }), 'unicast-peer', /198\.18\.0\.13/);
  assert.deepEqual(matchSource('198.18.0.13', { unicastPeers: [] }), { ok: true });
});

test('every VrrpDrop reason has an example that produces it', () => {
  // auth_hmac (codec-hmac.ts): the binding, a key and a clock
  const bind = { family: 4 as const, version: 2 as const, vrid: V2_PACKET.vrid, src: RX4.src };
  const key = { id: 1, key: new Uint8Array(32).fill(7) };
  const wallMs = 1_800_000_000_000;
  const opts = { mode: 'enforce' as const, antiReplay: 'time' as const, windowS: 5, wallMs };
  const signed = signHmac(V2_ADVERT, bind, key, clockSeq(wallMs));
  const examples: Record<VrrpDrop, () => VrrpDecodeResult | VrrpMatchResult | HmacVerifyResult> = {
    short: () => decodeVrrp(V2_ADVERT.subarray(0, 7), RX4),
    version: () => decodeVrrp(patch(V2_ADVERT, { 0: 0x41 }), RX4),
    type: () => decodeVrrp(patch(V2_ADVERT, { 0: 0x22 }), RX4),
    ttl: () => decodeVrrp(V2_ADVERT, { ...RX4, ttl: 1 }),
    checksum: () => decodeVrrp(patch(V2_ADVERT, { 2: 151 }, 'keep'), RX4),
    auth: () => decodeVrrp(patch(V2_ADVERT, { 4: 2 }), RX4),
    interval: () => decodeVrrp(patch(V2_ADVERT, { 5: 0 }), RX4),
    'addr-count': () => decodeVrrp(patch(V3_ADVERT.subarray(0, 8), { 3: 0 }, 'pseudo-header'), RX4),
    family: () => decodeVrrp(V2_ADVERT, { ...RX4, src: '::1' }),
    vrid: () => matchAdvert({ ...V2_PACKET, vrid: 1 }, LAB_INSTANCE_V2),
    'version-mismatch': () => matchAdvert(V3_PACKET, LAB_INSTANCE_V2),
    'auth-mismatch': () => matchAdvert({ ...V2_PACKET, auth: { type: 'none' } }, LAB_INSTANCE_V2),
    'interval-mismatch': () => matchAdvert({ ...V2_PACKET, advertIntervalMs: 3000 }, LAB_INSTANCE_V2),
    'addr-list': () => matchAdvert({ ...V2_PACKET, addrs: ['192.0.2.1'] }, LAB_INSTANCE_V2),
    owner: () => matchAdvert(V2_PACKET, { ...LAB_INSTANCE_V2, priority: 255 }),
    'unicast-peer': () => matchSource('198.18.0.99', { unicastPeers: ['198.18.0.12'] }),
    hmac: () => verifyHmac(V2_ADVERT, V2_ADVERT.length, bind, [key], opts, null),
    stale: () => verifyHmac(signed, V2_ADVERT.length, bind, [key], { ...opts, wallMs: wallMs + 60_000 }, null),
    replay: () => verifyHmac(signed, V2_ADVERT.length, bind, [key], opts, { seq: clockSeq(wallMs) }),
  };
  assert.deepEqual(Object.keys(examples).sort(), [...VRRP_DROPS].sort());
  for (const reason of VRRP_DROPS) expectDrop(examples[reason](), reason);
});

// ---------------------------------------------------------------------------------------------------------------
// 3. Properties: any valid packet survives encode → decode, in every checksum form.

const v4Addr = fc.uint8Array({ minLength: 4, maxLength: 4 }).map(formatIpv4);
// Zero-heavy IPv6 addresses exercise '::' compression.
const v6Addr = fc
  .array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 })
  .map((ws) => formatIpv6(Uint8Array.from(ws.flatMap((w) => [w >> 8, w & 0xff]))));
const password = fc
  .oneof(fc.string({ unit: 'grapheme-ascii', maxLength: 8 }), fc.string({ unit: 'binary', maxLength: 4 }))
  .filter((s) => {
    const b = new TextEncoder().encode(s);
    // No NUL, at most 8 bytes, and no lone surrogates (they would not survive UTF-8).
    return !s.includes('\0') && b.length <= 8 && new TextDecoder().decode(b) === s;
  });

const packetArb: fc.Arbitrary<VrrpPacket> = fc
  .constantFrom<[2 | 3, 4 | 6]>([2, 4], [3, 4], [3, 6])
  .chain(([version, family]) =>
    fc.record({
      version: fc.constant(version),
      family: fc.constant(family),
      vrid: fc.integer({ min: 1, max: 255 }),
      priority: fc.integer({ min: 0, max: 255 }),
      advertIntervalMs:
        version === 2
          ? fc.integer({ min: 1, max: 255 }).map((s) => s * 1000)
          : fc.integer({ min: 1, max: 4095 }).map((cs) => cs * 10),
      addrs: fc.array(family === 4 ? v4Addr : v6Addr, { minLength: 1, maxLength: 20 }),
      auth:
        version === 2
          ? fc.oneof(
              fc.constant<VrrpPacket['auth']>({ type: 'none' }),
              password.map((p): VrrpPacket['auth'] => ({ type: 'pass', password: p })),
            )
          : fc.constant<VrrpPacket['auth']>({ type: 'none' }),
    }),
  )
  // fc.record builds null-prototype objects; decode returns plain ones, and deepStrictEqual compares prototypes.
  .map((p) => ({ ...p }));

const endpoints = (family: 4 | 6): fc.Arbitrary<{ src: string; dst: string }> =>
  fc.record({ src: family === 4 ? v4Addr : v6Addr, dst: family === 4 ? v4Addr : v6Addr });

const withEndpoints = packetArb.chain((p) =>
  fc.tuple(fc.constant(p), endpoints(p.family), fc.constantFrom<V3ChecksumForm>('pseudo-header', 'message')),
);

test('property: every valid packet round-trips encode → decode, in both checksum forms', () => {
  fc.assert(
    fc.property(withEndpoints, ([p, { src, dst }, form]) => {
      const bytes = encodeVrrp(p, { src, dst, v3Checksum: form });
      const r = expectOk(decodeVrrp(bytes, { ttl: 255, family: p.family, src, dst }));
      assert.deepEqual(r.packet, p);
      // Which form verified: v2 has one, IPv6 has one, v3/IPv4 reports what was sent (keepalived's on a tie).
      const parse = p.family === 4 ? parseIpv4 : parseIpv6;
      const ph = pseudoHeader(parse(src)!, parse(dst)!, bytes.length);
      const tie = vrrpChecksum(bytes) === vrrpChecksum(bytes, ph);
      const expected =
        p.version === 2 ? 'message' : p.family === 6 || form === 'pseudo-header' || tie ? 'pseudo-header' : 'message';
      assert.equal(r.checksumForm, expected);
      // Encoding is canonical: what decoded re-encodes to the same bytes.
      assert.equal(toHex(encodeVrrp(r.packet, { src, dst, v3Checksum: r.checksumForm })), toHex(bytes));
    }),
    { numRuns: 1500 },
  );
});

test('property: address text of any spelling comes back in its canonical form', () => {
  fc.assert(
    fc.property(fc.array(fc.ipV6(), { minLength: 1, maxLength: 5 }), (addrs) => {
      const r = expectOk(decodeVrrp(encodeVrrp({ ...V3_V6_PACKET, addrs }, TX6), RX6));
      assert.deepEqual(
        r.packet.addrs,
        addrs.map((a) => normaliseAddr(a)),
      );
    }),
    { numRuns: 300 },
  );
});

test('property: an instance configured like the sender accepts its adverts', () => {
  fc.assert(
    fc.property(packetArb, fc.integer({ min: 1, max: 254 }), (p, priority) => {
      const inst: MatchableInstance = {
        version: p.version,
        family: p.family,
        vrid: p.vrid,
        priority,
        auth: p.auth,
        advertIntervalMs: p.advertIntervalMs,
        vips: [...p.addrs].reverse().map((addr) => ({ addr, prefix: p.family === 4 ? 32 : 128 })),
      };
      assert.deepEqual(matchAdvert(p, inst), { ok: true });
    }),
    { numRuns: 300 },
  );
});

// ---------------------------------------------------------------------------------------------------------------
// 4. Fuzz: decode is total. Whatever the bytes, it returns ok or a known drop, and what it accepts is a packet the
// encoder can reproduce.

const DROPS = new Set<string>(VRRP_DROPS);

function checkTotal(buf: Uint8Array, rx: RxMeta): VrrpDecodeResult {
  let r: VrrpDecodeResult;
  try {
    r = decodeVrrp(buf, rx);
  } catch (e) {
    assert.fail(`decodeVrrp threw on ${toHex(buf)}: ${String(e)}`);
  }
  if (!r.ok) {
    assert.ok(DROPS.has(r.reason), `unknown drop reason ${r.reason}`);
    assert.equal(typeof r.detail, 'string');
    assert.ok(r.detail.length > 0 && r.detail.length < 200, r.detail);
    return r;
  }
  // Whatever decodes must satisfy the packet's invariants, which encodeVrrp checks.
  const again = encodeVrrp(r.packet, { src: rx.src, dst: rx.dst, v3Checksum: r.checksumForm });
  assert.deepEqual(expectOk(decodeVrrp(again, rx)).packet, r.packet);
  return r;
}

const rxArb: fc.Arbitrary<RxMeta> = fc.oneof(
  endpoints(4).map(({ src, dst }) => ({ ttl: 255, family: 4 as const, src, dst })),
  endpoints(6).map(({ src, dst }) => ({ ttl: 255, family: 6 as const, src, dst })),
  fc.record({
    ttl: fc.integer({ min: 0, max: 255 }),
    family: fc.constantFrom<4 | 6>(4, 6),
    src: fc.oneof(v4Addr, v6Addr, fc.string()),
    dst: fc.oneof(v4Addr, v6Addr, fc.string()),
    checkTtl: fc.boolean(),
  }),
);

test('fuzz: decode never throws on arbitrary bytes', () => {
  fc.assert(
    // size 'max' spreads lengths over the whole range; the default would stay under ~10 bytes.
    fc.property(
      fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 600, size: 'max' })),
      rxArb,
      (buf, rx) => {
        checkTotal(buf, rx);
      },
    ),
    { numRuns: 3000 },
  );
});

test('fuzz: decode never throws on arbitrary headers with a valid checksum (reaching the deeper checks)', () => {
  const seen = new Set<string>();
  const arb = fc.record({
    version: fc.constantFrom(2, 3, 2, 3, 7),
    type: fc.constantFrom(1, 1, 1, 2),
    vrid: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 255 })),
    priority: fc.integer({ min: 0, max: 255 }),
    count: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 255 })),
    b4: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 255 })),
    b5: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 255 })),
    body: fc.uint8Array({ maxLength: 80, size: 'max' }),
    rx: fc.oneof(
      endpoints(4).map(({ src, dst }): RxMeta => ({ ttl: 255, family: 4, src, dst })),
      endpoints(6).map(({ src, dst }): RxMeta => ({ ttl: 255, family: 6, src, dst })),
    ),
    form: fc.constantFrom<V3ChecksumForm>('pseudo-header', 'message'),
  });
  fc.assert(
    fc.property(arb, ({ version, type, vrid, priority, count, b4, b5, body, rx, form }) => {
      const buf = new Uint8Array(8 + body.length);
      buf.set([(version << 4) | type, vrid, priority, count, b4, b5]);
      buf.set(body, 8);
      // Checksum exactly the message the decoder will check; anything after it is a trailer.
      const len = 8 + count * (rx.family === 4 ? 4 : 16) + (version === 2 ? 8 : 0);
      if (len <= buf.length) {
        const msg = patch(buf.subarray(0, len), {}, version === 3 ? form : 'message', rx);
        buf.set(msg.subarray(6, 8), 6);
      }
      const r = checkTotal(buf, rx);
      seen.add(r.ok ? 'ok' : r.reason);
    }),
    { numRuns: 3000 },
  );
  for (const reason of ['ok', 'short', 'version', 'type', 'auth', 'interval', 'addr-count', 'vrid']) {
    assert.ok(seen.has(reason), `the fuzzer never reached '${reason}' (saw ${[...seen].join(', ')})`);
  }
});

test('fuzz: mutated, truncated and extended golden adverts never make decode throw', () => {
  const goldens = goldenVrrp().map((g) => ({ bytes: g.ip!.payload, rx: rxOf(g) }));
  const mutation = fc.record({
    which: fc.nat(),
    flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 4 }),
    cut: fc.option(fc.nat(), { nil: undefined }),
    extra: fc.uint8Array({ maxLength: 40 }),
  });
  fc.assert(
    fc.property(mutation, ({ which, flips, cut, extra }) => {
      const g = goldens[which % goldens.length]!;
      let buf = Uint8Array.from(g.bytes);
      for (const [at, x] of flips) buf[at % buf.length] = buf[at % buf.length]! ^ x;
      if (cut !== undefined) buf = buf.subarray(0, cut % (buf.length + 1));
      const grown = new Uint8Array(buf.length + extra.length);
      grown.set(buf);
      grown.set(extra, buf.length);
      checkTotal(grown, g.rx);
    }),
    { numRuns: 3000 },
  );
});

test('RFC 1071: every single-bit error in a golden advert is caught', () => {
  for (const [bytes, rx] of [
    [V2_ADVERT, RX4],
    [V3_ADVERT, RX4],
    [encodeVrrp(V3_V6_PACKET, TX6), RX6],
  ] as const) {
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      const flipped = Uint8Array.from(bytes);
      flipped[bit >> 3] = flipped[bit >> 3]! ^ (0x80 >> (bit & 7));
      const r = checkTotal(flipped, rx);
      assert.equal(r.ok, false, `bit ${bit} flipped and still accepted`);
    }
  }
});
