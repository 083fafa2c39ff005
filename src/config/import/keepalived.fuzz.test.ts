// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${NAME} here is keepalived syntax, not a template
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { ERROR_CODES } from '../../core/errors.ts';
import { loadConfig } from '../load.ts';
import { readKeepalived } from './keepalived.ts';
import { memoryFs } from './memory-fs.ts';

const MAIN = '/etc/keepalived/keepalived.conf';
const INCLUDED = '/etc/keepalived/conf.d/extra.conf';
const tutorial = readFileSync(
  new URL('../../../test/fixtures/keepalived/tutorial-master.conf', import.meta.url),
  'utf8',
);
const lbFixture = readFileSync(
  new URL('../../../test/fixtures/keepalived/lb-two-directors.conf', import.meta.url),
  'utf8',
);

/** keepalived-ish pieces: structure, keywords of every block, values, quoting, comments and preprocessor syntax. */
const TOKENS = [
  '{',
  '}',
  '{',
  '}',
  '\n',
  '\n',
  '\n',
  ' ',
  ' ',
  '\t',
  '#',
  '!',
  '"',
  "'",
  '\\',
  '\r\n',
  'global_defs',
  'router_id',
  'vrrp_version',
  'vrrp_script',
  'script',
  'interval',
  'weight',
  'reverse',
  'rise',
  'fall',
  'user',
  'init_fail',
  'track_file',
  'vrrp_track_file',
  'file',
  'init_file',
  'vrrp_instance',
  'state',
  'MASTER',
  'BACKUP',
  'interface',
  'virtual_router_id',
  'priority',
  'advert_int',
  'version',
  'nopreempt',
  'preempt_delay',
  'authentication',
  'auth_type',
  'auth_pass',
  'PASS',
  'AH',
  'virtual_ipaddress',
  'dev',
  'label',
  'brd',
  'unicast_peer',
  'unicast_src_ip',
  'mcast_src_ip',
  'track_interface',
  'track_script',
  'notify_master',
  'notify',
  'garp_master_delay',
  'lower_prio_no_advert',
  'vrrp_sync_group',
  'group',
  'virtual_server',
  'virtual_server_group',
  'group',
  'fwmark',
  'real_server',
  'TCP_CHECK',
  'HTTP_GET',
  'SSL_GET',
  'MISC_CHECK',
  'SMTP_CHECK',
  'url',
  'path',
  'status_code',
  '200-299',
  'digest',
  'regex',
  'virtualhost',
  'misc_path',
  'misc_timeout',
  'misc_dynamic',
  'connect_ip',
  'connect_port',
  'connect_timeout',
  'bindto',
  'retry',
  'nb_get_retry',
  'delay_before_retry',
  'delay_loop',
  'warmup',
  'alpha',
  'lb_algo',
  'lvs_sched',
  'wrr',
  'lblc',
  'lb_kind',
  'lvs_method',
  'NAT',
  'DR',
  'TUN',
  'persistence_timeout',
  'persistence_granularity',
  '255.255.255.0',
  'protocol',
  'TCP',
  'UDP',
  'sorry_server',
  'quorum',
  'hysteresis',
  'quorum_up',
  'inhibit_on_failure',
  'omega',
  '80',
  '70000',
  '198.18.0.1-10',
  '198.18.0.0/30',
  '2001:db8::1-ff',
  'VSG_1',
  'use_vmac',
  'priorty',
  'VI_1',
  'VI_2',
  'chk',
  '__proto__',
  'constructor',
  'eth0',
  '0',
  '1',
  '-20',
  '100',
  '300',
  '0.5',
  '1e9',
  'abc',
  '10.0.0.1/24',
  'fe80::1',
  'on',
  'off',
  'include',
  'includea',
  'conf.d/*.conf',
  'conf.d/{extra,none}.conf',
  'keepalived.conf',
  '$X=',
  '$X',
  '${X}',
  '${_PWD}',
  '${_RANDOM}',
  '${_HASH}',
  '@lb1',
  '@^lb1',
  '~SEQ(i,1,3)',
  '\\#',
  '"a b"',
  "'c d'",
];

/** Well-formedness of a run: codes registered, positions inside the files that were read, no safety-net message. */
function checkResult(r: ReturnType<typeof readKeepalived>, files: Record<string, string>): void {
  for (const d of r.diagnostics) {
    assert.ok(Object.hasOwn(ERROR_CODES, d.code), d.code);
    assert.ok(d.severity === 'error' || d.severity === 'warning');
    const text = files[d.file];
    assert.ok(text !== undefined, `diagnostic in an unknown file ${d.file}`);
    assert.ok(Number.isInteger(d.line) && d.line >= 1 && d.line <= text.split('\n').length, `line ${d.line}`);
    assert.ok(Number.isInteger(d.col) && d.col >= 1);
    assert.equal(typeof d.path, 'string');
    assert.ok(d.message.length > 0);
    assert.doesNotMatch(d.message, /internal error/);
  }
  for (const path of [
    ['vrrp', 'instances', 0, 'priority'],
    ['vrrp', 'instances', 1, 'track', 'scripts', 0, 'name'],
    ['vrrp', 'scripts', 'chk', 'weight'],
    ['vrrp', 'sync_groups', 0, 'members', 3],
    ['cluster', 'nodes', 0, 'name'],
    ['lb', 'services', 0, 'port'],
    ['lb', 'services', 1, 'real_servers', 0, 'check', 'interval'],
    ['lb', 'services', 0, 'real_servers', 2, 'weight'],
  ]) {
    const { pos, label } = r.locator.locate(path);
    assert.equal(typeof label, 'string');
    assert.ok(files[pos.file] !== undefined && pos.line >= 1 && pos.line <= files[pos.file]!.split('\n').length);
  }
  assert.ok(r.raw && typeof r.raw === 'object');
}

function run(main: string, extra: string): void {
  const files = { [MAIN]: main, [INCLUDED]: extra };
  checkResult(readKeepalived(MAIN, memoryFs(files)), files);
  checkResult(readKeepalived(MAIN, memoryFs(files), { configId: 'lb1' }), files);
}

const tokenText = fc
  .array(
    fc.oneof(
      { weight: 9, arbitrary: fc.constantFrom(...TOKENS) },
      { weight: 1, arbitrary: fc.string({ maxLength: 4 }) },
    ),
    {
      maxLength: 120,
    },
  )
  .map((parts) => parts.join(' '));

test('fuzz: keepalived-ish token soup never throws and yields well-formed diagnostics', () => {
  fc.assert(
    fc.property(tokenText, tokenText, (main, extra) => run(main, extra)),
    { numRuns: 2000 },
  );
});

type Mutation = { op: 'delete' | 'duplicate' | 'swap' | 'brace' | 'splice'; at: number; to: number; text: string };
const mutation: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom('delete', 'duplicate', 'swap', 'brace', 'splice'),
  at: fc.nat(),
  to: fc.nat(),
  text: fc.constantFrom('{', '}', '} {', '"', 'include conf.d/*.conf', 'vrrp_instance VI_1 {', '$X=}', '${X}'),
});

function mutate(lines: string[], ms: Mutation[]): string {
  const out = [...lines];
  for (const m of ms) {
    if (out.length === 0) break;
    const i = m.at % out.length;
    const j = m.to % out.length;
    if (m.op === 'delete') out.splice(i, 1);
    else if (m.op === 'duplicate') out.splice(i, 0, out[i]!);
    else if (m.op === 'swap') [out[i], out[j]] = [out[j]!, out[i]!];
    else if (m.op === 'brace') out.splice(i, 0, m.text);
    else {
      const line = out[i]!;
      const k = m.to % (line.length + 1);
      out[i] = line.slice(0, k) + m.text + line.slice(k);
    }
  }
  return out.join('\n');
}

test('fuzz: mutations of the tutorial file (lines deleted, duplicated, swapped, braces inserted) never throw', () => {
  const lines = tutorial.split('\n');
  fc.assert(
    fc.property(fc.array(mutation, { minLength: 1, maxLength: 8 }), (ms) =>
      run(mutate(lines, ms), mutate(lines, ms.slice(1))),
    ),
    { numRuns: 1500 },
  );
});

test('fuzz: mutations of the LVS fixture (virtual servers, a group, every checker kind) never throw', () => {
  const lines = lbFixture.split('\n');
  fc.assert(
    fc.property(fc.array(mutation, { minLength: 1, maxLength: 8 }), (ms) => run(mutate(lines, ms), '')),
    { numRuns: 500 },
  );
});

test('fuzz: mutated LVS files go through the schema and the semantic checks without throwing', () => {
  const lines = lbFixture.split('\n');
  fc.assert(
    fc.property(fc.array(mutation, { minLength: 1, maxLength: 6 }), tokenText, (ms, soup) => {
      const text = `${mutate(lines, ms)}\nvirtual_server ${soup}`;
      const r = loadConfig(MAIN, memoryFs({ [MAIN]: text }), 'keepalived');
      for (const d of r.diagnostics) {
        assert.ok(Object.hasOwn(ERROR_CODES, d.code), d.code);
        assert.equal(d.file, MAIN);
        assert.ok(d.line >= 1 && d.line <= text.split('\n').length, `line ${d.line}`);
        assert.doesNotMatch(d.message, /internal error/);
      }
      assert.equal(
        r.config === undefined,
        r.diagnostics.some((d) => d.severity === 'error'),
      );
    }),
    { numRuns: 300 },
  );
});
