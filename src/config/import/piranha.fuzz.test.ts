import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { ERROR_CODES } from '../../core/errors.ts';
import { memoryFs } from './memory-fs.ts';
import { readPiranha } from './piranha.ts';

const LVS = '/etc/sysconfig/ha/lvs.cf';
const sample = readFileSync(new URL('../../../test/fixtures/corpus/piranha/rhel5-nat/lvs.cf', import.meta.url), 'utf8');

/** lvs.cf-ish pieces: keys of every block, `=`, quotes, braces, values. */
const TOKENS = [
  '\n',
  '\n',
  '\n',
  ' ',
  '=',
  '=',
  '{',
  '}',
  '"',
  "'",
  '#',
  '\\r\\n',
  '\r\n',
  'serial_no',
  'primary',
  'backup',
  'backup_active',
  'service',
  'heartbeat',
  'keepalive',
  'deadtime',
  'network',
  'nat_router',
  'nat_nmask',
  'active_cmd',
  'syncdaemon',
  'virtual',
  'server',
  'failover',
  'address',
  'active',
  'port',
  'protocol',
  'scheduler',
  'persistent',
  'pmask',
  'send',
  'expect',
  'use_regex',
  'send_program',
  'timeout',
  'reentry',
  'load_monitor',
  'quiesce_server',
  'weight',
  'fwmark',
  'sorry_server',
  'start_cmd',
  'stop_cmd',
  'vip_nmask',
  'lvs',
  'fos',
  'nat',
  'direct',
  'tunnel',
  'rr',
  'wlc',
  'lblc',
  'tcp',
  'udp',
  'http',
  '0',
  '1',
  '80',
  '6',
  '-3',
  '198.18.0.1',
  '198.18.0.100',
  'eth0:1',
  '255.255.255.0',
  '"GET / HTTP/1.0\\r\\n\\r\\n"',
  '"HTTP"',
  '"*"',
  '"("',
  'web',
  'web1',
  '__proto__',
  'constructor',
];

const text = fc
  .array(
    fc.oneof(
      { weight: 9, arbitrary: fc.constantFrom(...TOKENS) },
      { weight: 1, arbitrary: fc.string({ maxLength: 4 }) },
    ),
    { maxLength: 150 },
  )
  .map((parts) => parts.join(' '));

function check(t: string): void {
  const r = readPiranha(LVS, memoryFs({ [LVS]: t }));
  for (const d of [...r.diagnostics, ...r.notes.map((n) => ({ ...n, severity: 'warning' as const }))]) {
    assert.ok(Object.hasOwn(ERROR_CODES, d.code), d.code);
    assert.equal(d.file, LVS);
    assert.ok(Number.isInteger(d.line) && d.line >= 1 && d.line <= t.split('\n').length, `line ${d.line}`);
    assert.ok(Number.isInteger(d.col) && d.col >= 1);
    assert.ok(d.message.length > 0);
    assert.doesNotMatch(d.message, /internal error/);
  }
  for (const path of [
    ['lb', 'services', 0, 'check', 'rise'],
    ['vrrp', 'instances', 0, 'vips', 2],
    ['groups', 0],
  ]) {
    const { pos } = r.locator.locate(path);
    assert.ok(pos.file === LVS && pos.line >= 1 && pos.line <= t.split('\n').length);
  }
}

test('fuzz: lvs.cf-ish token soup never throws and yields well-formed diagnostics', () => {
  fc.assert(fc.property(text, check), { numRuns: 2000 });
});

test('fuzz: the RHEL sample with lines deleted, duplicated, swapped or cut never throws', () => {
  const lines = sample.split('\n');
  const edit = fc.record({ op: fc.constantFrom('delete', 'duplicate', 'swap', 'cut'), at: fc.nat(), to: fc.nat() });
  fc.assert(
    fc.property(fc.array(edit, { minLength: 1, maxLength: 8 }), (edits) => {
      const out = [...lines];
      for (const e of edits) {
        const i = e.at % out.length;
        const j = e.to % out.length;
        if (e.op === 'delete') out.splice(i, 1);
        else if (e.op === 'duplicate') out.splice(i, 0, out[i]!);
        else if (e.op === 'swap') [out[i], out[j]] = [out[j]!, out[i]!];
        else out[i] = out[i]!.slice(0, j % (out[i]!.length + 1));
        if (out.length === 0) out.push('');
      }
      check(out.join('\n'));
    }),
    { numRuns: 1500 },
  );
});
