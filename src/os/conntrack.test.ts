import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { TandemError } from '../core/errors.ts';
import {
  type ConntrackEntry,
  createConntrackReader,
  isActive,
  parseConntrack,
  parseConntrackLine,
  skipLine,
} from './conntrack.ts';

// Captured on this machine kind (kernel 6.18, conntrack-tools 1.4.7) in a lab namespace: DNAT of 198.18.0.100:80
// to 198.18.0.21:8080 and of 2001:db8::100 to [2001:db8::21]:8080, and UDP 53 to 5353.
const EXTENDED_V4 = `ipv4     2 tcp      6 431999 ESTABLISHED src=198.18.0.10 dst=198.18.0.100 sport=38336 dport=80 src=198.18.0.21 dst=198.18.0.10 sport=8080 dport=38336 [ASSURED] mark=0 use=1
ipv4     2 tcp      6 119 TIME_WAIT src=198.18.0.10 dst=198.18.0.100 sport=38352 dport=80 src=198.18.0.21 dst=198.18.0.10 sport=8080 dport=38352 [ASSURED] mark=0 use=1
ipv4     2 udp      17 29 src=198.18.0.10 dst=198.18.0.100 sport=57764 dport=53 [UNREPLIED] src=198.18.0.21 dst=198.18.0.10 sport=5353 dport=57764 mark=0 use=1
`;
const EXTENDED_V6 =
  'ipv6     10 tcp      6 431999 ESTABLISHED src=2001:db8::1 dst=2001:db8::100 sport=40378 dport=80 src=2001:db8::21 dst=2001:db8::1 sport=8080 dport=40378 [ASSURED] mark=0 use=1\n';
const PLAIN =
  'tcp      6 431999 ESTABLISHED src=2001:db8::1 dst=2001:db8::100 sport=40378 dport=80 src=2001:db8::21 dst=2001:db8::1 sport=8080 dport=40378 [ASSURED] mark=0 use=1\n';
const PROC = `ipv4     2 tcp      6 431999 ESTABLISHED src=198.18.0.10 dst=198.18.0.100 sport=38336 dport=80 src=198.18.0.21 dst=198.18.0.10 sport=8080 dport=38336 [ASSURED] mark=0 zone=0 use=2
ipv6     10 tcp      6 431999 ESTABLISHED src=2001:0db8:0000:0000:0000:0000:0000:0001 dst=2001:0db8:0000:0000:0000:0000:0000:0100 sport=40378 dport=80 src=2001:0db8:0000:0000:0000:0000:0000:0021 dst=2001:0db8:0000:0000:0000:0000:0000:0001 sport=8080 dport=40378 [ASSURED] mark=0 zone=0 use=2
`;
const SUMMARY = 'conntrack v1.4.7 (conntrack-tools): 4 flow entries have been shown.';

const dir = mkdtempSync(join(tmpdir(), 'tandem-ct-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('an established TCP connection: original client → VIP, reply from the backend', () => {
  assert.deepEqual(parseConntrackLine(EXTENDED_V4.split('\n')[0]!), {
    family: 4,
    protocol: 'tcp',
    state: 'ESTABLISHED',
    orig: { src: '198.18.0.10', dst: '198.18.0.100', sport: 38336, dport: 80 },
    reply: { src: '198.18.0.21', dst: '198.18.0.10', sport: 8080, dport: 38336 },
  });
});

test('UDP has no state, and flags between the tuples ([UNREPLIED]) are skipped', () => {
  const e = parseConntrackLine(EXTENDED_V4.split('\n')[2]!);
  assert.equal(e?.state, null);
  assert.equal(e?.protocol, 'udp');
  assert.deepEqual(e?.reply, { src: '198.18.0.21', dst: '198.18.0.10', sport: 5353, dport: 57764 });
});

test('IPv6, the plain format without the family column, and /proc with full-length IPv6 addresses', () => {
  assert.equal(parseConntrackLine(EXTENDED_V6)?.family, 6);
  const plain = parseConntrackLine(PLAIN);
  assert.equal(plain?.family, 6, 'family inferred from the address');
  assert.equal(plain?.reply.src, '2001:db8::21');
  const proc = parseConntrack(PROC);
  assert.equal(proc.length, 2);
  assert.equal(proc[1]?.reply.src, '2001:0db8:0000:0000:0000:0000:0000:0021');
});

test('lines of other shapes are skipped, never thrown on', () => {
  for (const line of [SUMMARY, '', 'garbage', 'tcp 6 src=1.2.3.4', 'ipv4 2 tcp 6 10 ESTABLISHED src=a dst=b']) {
    assert.equal(parseConntrackLine(line), null, line);
  }
  assert.equal(parseConntrack(`${EXTENDED_V4}${SUMMARY}\n`).length, 3);
  const icmp = parseConntrackLine(
    'ipv4     2 icmp     1 29 src=198.18.0.10 dst=198.18.0.21 type=8 code=0 id=7 src=198.18.0.21 dst=198.18.0.10 type=0 code=0 id=7 mark=0 use=1',
  );
  assert.deepEqual(icmp?.orig, { src: '198.18.0.10', dst: '198.18.0.21', sport: 0, dport: 0 });
});

test('active = TCP ESTABLISHED or any UDP flow (ipvsadm ActiveConn); every other TCP state is inactive', () => {
  const states = ['SYN_SENT', 'SYN_SENT2', 'SYN_RECV', 'FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'TIME_WAIT', 'CLOSE'];
  for (const state of states) assert.equal(isActive({ protocol: 'tcp', state }), false, state);
  assert.equal(isActive({ protocol: 'tcp', state: 'ESTABLISHED' }), true);
  assert.equal(isActive({ protocol: 'udp', state: null }), true);
  const line = EXTENDED_V4.split('\n')[0]!.replace('ESTABLISHED', 'SYN_SENT2');
  assert.equal(parseConntrackLine(line)?.state, 'SYN_SENT2', 'states with digits (simultaneous open)');
});

async function collect(it: AsyncIterable<ConntrackEntry>): Promise<ConntrackEntry[]> {
  const out: ConntrackEntry[] = [];
  for await (const e of it) out.push(e);
  return out;
}

test('the proc source streams the file when no wrap is given', async () => {
  const path = join(dir, 'nf_conntrack');
  writeFileSync(path, PROC);
  const entries = await collect(createConntrackReader({ procPath: path }).entries());
  assert.deepEqual(
    entries.map((e) => [e.family, e.reply.sport]),
    [
      [4, 8080],
      [6, 8080],
    ],
  );
});

test('the conntrack source runs the tool once per family and reads its lines', async () => {
  const fake = join(dir, 'conntrack');
  writeFileSync(
    fake,
    `#!/bin/sh\necho "$@" >> ${fake}.calls\nif [ "$5" = ipv4 ]; then printf '%s' '${EXTENDED_V4}'; else printf '%s' '${EXTENDED_V6}'; fi\necho '${SUMMARY}' >&2\n`,
  );
  chmodSync(fake, 0o755);
  const entries = await collect(createConntrackReader({ conntrackPath: fake, procPath: null }).entries());
  assert.equal(entries.length, 4);
  assert.deepEqual(
    entries.map((e) => e.family),
    [4, 4, 4, 6],
  );
});

test('a failing or missing conntrack is a TND_CONNTRACK_READ TandemError', async () => {
  const fake = join(dir, 'conntrack-fails');
  writeFileSync(fake, '#!/bin/sh\necho "conntrack v1.4.7 (conntrack-tools): Operation not permitted" >&2\nexit 1\n');
  chmodSync(fake, 0o755);
  await assert.rejects(
    collect(createConntrackReader({ conntrackPath: fake, procPath: null }).entries()),
    (e: unknown) =>
      e instanceof TandemError && e.code === 'TND_CONNTRACK_READ' && /Operation not permitted/.test(e.message),
  );
  await assert.rejects(
    collect(createConntrackReader({ conntrackPath: '/nonexistent/conntrack', procPath: null }).entries()),
    (e: unknown) => e instanceof TandemError && e.code === 'TND_CONNTRACK_READ' && /ENOENT/.test(e.message),
  );
});

test('a hung conntrack is killed at the deadline', async () => {
  const fake = join(dir, 'conntrack-hangs');
  writeFileSync(fake, '#!/bin/sh\nexec sleep 30\n');
  chmodSync(fake, 0o755);
  const t0 = performance.now();
  await assert.rejects(
    collect(createConntrackReader({ conntrackPath: fake, procPath: null, timeoutMs: 100 }).entries()),
    (e: unknown) => e instanceof TandemError && e.code === 'TND_CONNTRACK_READ',
  );
  assert.ok(performance.now() - t0 < 5_000);
});

test('a destination filter skips IPv4 entries of other destinations before parsing; IPv6 is always read', async () => {
  const path = join(dir, 'nf_conntrack_filtered');
  const other = PROC.split('\n')[0]!.replaceAll('dst=198.18.0.100', 'dst=198.18.9.9');
  writeFileSync(path, `${other}\n${PROC}`);
  const reader = createConntrackReader({ procPath: path });
  assert.equal((await collect(reader.entries())).length, 3);
  const kept = await collect(reader.entries(undefined, { dst: new Set(['198.18.0.100']) }));
  assert.deepEqual(
    kept.map((e) => [e.family, e.orig.dst]),
    [
      [4, '198.18.0.100'],
      [6, '2001:0db8:0000:0000:0000:0000:0000:0100'],
    ],
  );
  assert.equal(skipLine('tcp 6 1 CLOSE src=1.2.3.4 dst=5.6.7.8 sport=1 dport=2', { dst: new Set(['5.6.7.8']) }), false);
  assert.equal(skipLine('tcp 6 1 CLOSE src=1.2.3.4 dst=5.6.7.9 sport=1 dport=2', { dst: new Set(['5.6.7.8']) }), true);
  assert.equal(skipLine('no destination here', { dst: new Set() }), false);
});
