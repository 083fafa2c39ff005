import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ERROR_CODES } from '../../core/errors.ts';
import { readHeartbeat } from './heartbeat.ts';
import { memoryFs } from './memory-fs.ts';

const HA = '/etc/ha.d/ha.cf';
const RES = '/etc/ha.d/haresources';
const KEYS = '/etc/ha.d/authkeys';

/** heartbeat-ish pieces: directives, values, media, resources with `::` arguments, comments and continuations. */
const TOKENS = [
  '\n',
  '\n',
  '\n',
  ' ',
  ' ',
  '\t',
  '#',
  '\\',
  '\\\n',
  '\r\n',
  '::',
  '/',
  'node',
  'keepalive',
  'deadtime',
  'warntime',
  'initdead',
  'deadping',
  'udpport',
  'bcast',
  'mcast',
  'mcast6',
  'ucast',
  'ucast6',
  'serial',
  'auto_failback',
  'nice_failback',
  'crm',
  'pacemaker',
  'autojoin',
  'cluster',
  'ping',
  'respawn',
  'logfile',
  'stonith_host',
  'keepalve',
  'auth',
  'crc',
  'md5',
  'sha1',
  'n1',
  'n2',
  'N1',
  'eth0',
  'eth1',
  'on',
  'off',
  'legacy',
  'yes',
  '2',
  '30',
  '0',
  '16',
  '1500ms',
  '0.5',
  'abc',
  '-1',
  '239.0.0.1',
  '694',
  '198.18.0.1',
  '198.18.0.10/24/eth0',
  '255.255.255.0',
  '2001:db8::1/64',
  'IPaddr',
  'IPaddr2',
  'IPv6addr',
  'Filesystem',
  'httpd',
  'drbddisk',
  '/dev/sdb1',
  '/data',
  'ext4',
  'IPaddr::198.18.0.20/24/eth0/198.18.0.255',
  'Filesystem::/dev/sdb1::/data::ext4::noatime',
  '::x',
  '__proto__',
];

const text = fc
  .array(
    fc.oneof(
      { weight: 9, arbitrary: fc.constantFrom(...TOKENS) },
      { weight: 1, arbitrary: fc.string({ maxLength: 4 }) },
    ),
    { maxLength: 80 },
  )
  .map((parts) => parts.join(' '));

test('fuzz: heartbeat-ish token soup in all three files never throws and yields well-formed diagnostics', () => {
  fc.assert(
    fc.property(text, text, text, fc.integer({ min: 0, max: 0o777 }), (ha, res, keys, mode) => {
      const files: Record<string, string> = { [HA]: ha, [RES]: res, [KEYS]: keys };
      const r = readHeartbeat(HA, { ...memoryFs(files), mode: () => mode });
      for (const d of [...r.diagnostics, ...r.notes.map((n) => ({ ...n, severity: 'warning' as const }))]) {
        assert.ok(Object.hasOwn(ERROR_CODES, d.code), d.code);
        const t = files[d.file];
        assert.ok(t !== undefined, `diagnostic in an unknown file ${d.file}`);
        assert.ok(Number.isInteger(d.line) && d.line >= 1 && d.line <= t.split('\n').length, `line ${d.line}`);
        assert.ok(Number.isInteger(d.col) && d.col >= 1);
        assert.ok(d.message.length > 0);
        assert.doesNotMatch(d.message, /internal error/);
      }
      for (const path of [
        ['vrrp', 'instances', 0, 'priority'],
        ['groups', 1, 'resources', 2, 'args'],
        ['cluster', 'nodes', 3, 'name'],
      ]) {
        const { pos } = r.locator.locate(path);
        assert.ok(files[pos.file] !== undefined && pos.line >= 1 && pos.line <= files[pos.file]!.split('\n').length);
      }
      assert.ok(r.raw && typeof r.raw === 'object');
    }),
    { numRuns: 1500 },
  );
});
