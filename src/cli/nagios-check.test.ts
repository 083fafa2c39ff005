import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DaemonStatus } from '../api/contract.ts';
import { sampleStatus, server } from '../metrics/test-support.ts';
import {
  alerts,
  checkConfig,
  checkInstance,
  checkServer,
  checkService,
  checkVip,
  formatResult,
  NAGIOS,
  type NodeReply,
  parseMinimum,
  parseNagiosArgs,
  parseRange,
  type Range,
} from './nagios-check.ts';

const range = (t: string) => parseRange(t) as Range;

test('the plugin range syntax: 10, 10:, ~:10, 10:20, @10:20 (guidelines table)', () => {
  // 10: alert if < 0 or > 10
  assert.deepEqual(
    [-1, 0, 10, 11].map((v) => alerts(range('10'), v)),
    [true, false, false, true],
  );
  // 10: alert if < 10
  assert.deepEqual(
    [9, 10, 1e9].map((v) => alerts(range('10:'), v)),
    [true, false, false],
  );
  // ~:10 alert if > 10
  assert.deepEqual(
    [-1e9, 10, 11].map((v) => alerts(range('~:10'), v)),
    [false, false, true],
  );
  // 10:20 alert if outside
  assert.deepEqual(
    [9, 10, 20, 21].map((v) => alerts(range('10:20'), v)),
    [true, false, false, true],
  );
  // @10:20 alert if inside, inclusive
  assert.deepEqual(
    [9, 10, 20, 21].map((v) => alerts(range('@10:20'), v)),
    [false, true, true, false],
  );
  assert.deepEqual(parseRange('20:10'), { error: 'threshold "20:10": start 20 is above end 10' });
  assert.match((parseRange('abc') as { error: string }).error, /not a range/);
  assert.match((parseRange('1:x') as { error: string }).error, /not a range/);
  // at least N: a bare N is N:
  assert.equal(alerts(parseMinimum('2') as Range, 1), true);
  assert.equal(alerts(parseMinimum('2') as Range, 5), false);
  assert.equal(alerts(parseMinimum('@0:1') as Range, 1), true);
});

test('the output line: STATUS - text | perfdata, text without | or newlines, labels quoted when needed', () => {
  assert.equal(
    formatResult({
      code: NAGIOS.WARNING,
      text: 'a|b\nc',
      perf: [
        { label: 'healthy', value: 2, warn: '3:', crit: '1:', min: 0, max: 3 },
        { label: 'check time', value: 0.5, uom: 's' },
      ],
    }),
    "WARNING - a/b c | healthy=2;3:;1:;0;3 'check time'=0.5s",
  );
  assert.equal(formatResult({ code: NAGIOS.OK, text: 'fine', perf: [] }), 'OK - fine');
});

test('instance: OK in the expected state, WARNING in the other, CRITICAL in FAULT, UNKNOWN when absent', () => {
  const st = sampleStatus();
  const ok = checkInstance(st, 'VI_1', 'master');
  assert.equal(ok.code, NAGIOS.OK);
  assert.match(
    formatResult(ok),
    /^OK - VI_1 on lb1 is MASTER \(priority 150\); since .* \(master-down\) \| priority=150;;;0;255$/,
  );
  const w = checkInstance(st, 'VI_1', 'backup');
  assert.equal(w.code, NAGIOS.WARNING);
  assert.match(w.text, /expected BACKUP/);
  const fault = structuredClone(st);
  fault.instances[0]!.state = 'FAULT';
  assert.equal(checkInstance(fault, 'VI_1').code, NAGIOS.CRITICAL);
  assert.equal(checkInstance(st, 'VI_1').code, NAGIOS.OK);
  const none = checkInstance(st, 'VI_9');
  assert.equal(none.code, NAGIOS.UNKNOWN);
  assert.match(none.text, /runs no VRRP instance VI_9 \(it runs: VI_1, VI_2 "x"\)/);
});

const node = (name: string, state: 'MASTER' | 'BACKUP', over: Partial<DaemonStatus> = {}): NodeReply => {
  const st = sampleStatus({ node: name, ...over });
  st.instances[0]!.state = state;
  return { node: `http://${name}`, ok: true, status: st };
};

test('vip: held by exactly one node is OK; by none or by two CRITICAL; an unreachable node UNKNOWN', () => {
  const ok = checkVip('198.18.0.100', [node('a', 'MASTER'), node('b', 'BACKUP')]);
  assert.equal(ok.code, NAGIOS.OK);
  assert.match(
    formatResult(ok),
    /^OK - 198\.18\.0\.100 is held by a \(VI_1\); b \(VI_1 BACKUP\) \| holders=1;;1:1;0;2$/,
  );
  const none = checkVip('198.18.0.100', [node('a', 'BACKUP'), node('b', 'BACKUP')]);
  assert.equal(none.code, NAGIOS.CRITICAL);
  assert.match(none.text, /held by no node/);
  const two = checkVip('198.18.0.100', [node('a', 'MASTER'), node('b', 'MASTER')]);
  assert.equal(two.code, NAGIOS.CRITICAL);
  assert.match(two.text, /held by 2 nodes: a \(VI_1 MASTER\), b \(VI_1 MASTER\) \(split brain\)/);
  const down: NodeReply = { node: 'http://b', ok: false, reason: 'ECONNREFUSED' };
  const u = checkVip('198.18.0.100', [node('a', 'MASTER'), down]);
  assert.equal(u.code, NAGIOS.UNKNOWN);
  assert.match(u.text, /cannot ask every node: http:\/\/b: ECONNREFUSED/);
  // Two holders are CRITICAL even when a third node cannot be asked: that much is certain.
  assert.equal(checkVip('198.18.0.100', [node('a', 'MASTER'), node('b', 'MASTER'), down]).code, NAGIOS.CRITICAL);
  // A VIP with a prefix and a dev in the config; one no instance carries.
  const v2 = node('a', 'MASTER');
  if (v2.ok) v2.status.instances[1]!.state = 'MASTER';
  assert.equal(checkVip('198.18.1.100', [v2, node('b', 'BACKUP')]).code, NAGIOS.OK);
  assert.equal(checkVip('198.18.1.100', [node('a', 'MASTER'), node('b', 'BACKUP')]).code, NAGIOS.CRITICAL);
  assert.equal(checkVip('198.18.9.9', [node('a', 'MASTER')]).code, NAGIOS.UNKNOWN);
});

test('service: healthy servers against -w/-c (at least N), defaults all / at least one', () => {
  const st = sampleStatus();
  // web: 1 of 3 up (one draining, one down)
  const d = checkService(st, 'web');
  assert.equal(d.code, NAGIOS.WARNING);
  assert.equal(
    formatResult(d),
    'WARNING - web (198.18.0.100:80, serving on lb1): 1 of 3 real servers healthy; 198.18.2.2:80 draining L4OK, ' +
      '198.18.2.3:80 down L4CON | healthy=1;3:;1:;0;3',
  );
  assert.equal(checkService(st, 'web', parseMinimum('1') as Range, parseMinimum('1') as Range).code, NAGIOS.OK);
  assert.equal(checkService(st, 'web', parseMinimum('3') as Range, parseMinimum('2') as Range).code, NAGIOS.CRITICAL);
  const allDown = structuredClone(st);
  for (const r of allDown.lb!.services[0]!.servers) r.op = 'down';
  assert.equal(checkService(allDown, 'web').code, NAGIOS.CRITICAL);
  assert.equal(checkService(st, 'nope').code, NAGIOS.UNKNOWN);
  const idle = structuredClone(st);
  idle.lb!.services[0]!.role = 'idle';
  assert.equal(checkService(idle, 'web').code, NAGIOS.UNKNOWN);
});

test('server: up OK, draining or maintenance WARNING, down CRITICAL with the last check', () => {
  const st = sampleStatus();
  const up = checkServer(st, 'web', '198.18.2.1:80');
  assert.equal(up.code, NAGIOS.OK);
  assert.match(
    formatResult(up),
    /^OK - web 198\.18\.2\.1:80 on lb1 is up, weight 3\/3; last check L4OK: connected \| weight=3;;;0 active=2;;;0 inactive=5;;;0 check_time=0\.003s;;;0$/,
  );
  const dr = checkServer(st, 'web', '198.18.2.2:80');
  assert.equal(dr.code, NAGIOS.WARNING);
  assert.match(dr.text, /draining, weight 0\/1 \(drained by cli\)/);
  const down = checkServer(st, 'web', '198.18.2.3:80');
  assert.equal(down.code, NAGIOS.CRITICAL);
  assert.match(down.text, /is down, weight 1\/1; last check L4CON: connection refused/);
  const maint = structuredClone(st);
  maint.lb!.services[0]!.servers[0] = server('198.18.2.1', { op: 'down', admin: { maint: 'api' } });
  assert.equal(checkServer(maint, 'web', '198.18.2.1:80').code, NAGIOS.WARNING);
  assert.equal(checkServer(st, 'web', '198.18.2.9:80').code, NAGIOS.UNKNOWN);
});

test('config: one hash on every node OK, two CRITICAL, a node without a hash or unreachable UNKNOWN', () => {
  const a = node('a', 'MASTER', { configHash: `sha256:${'a'.repeat(64)}` });
  const b = node('b', 'BACKUP', { configHash: `sha256:${'a'.repeat(64)}` });
  const c = node('c', 'BACKUP', { configHash: `sha256:${'b'.repeat(64)}` });
  assert.equal(
    formatResult(checkConfig([a, b])),
    'OK - 2 nodes run the same config sha256:aaaaaaaaaaaa (a, b) | configs=1;;1:1;1;2',
  );
  const diff = checkConfig([a, b, c]);
  assert.equal(diff.code, NAGIOS.CRITICAL);
  assert.equal(diff.text, 'the nodes run 2 different configs: a, b sha256:aaaaaaaaaaaa; c sha256:bbbbbbbbbbbb');
  assert.equal(checkConfig([a, node('old', 'BACKUP', { configHash: undefined })]).code, NAGIOS.UNKNOWN);
  assert.equal(checkConfig([a, { node: 'http://x', ok: false, reason: 'HTTP 401' }]).code, NAGIOS.UNKNOWN);
});

test('arguments: checks, thresholds, nodes (repeated or listed), usage errors as sentences', () => {
  const s = parseNagiosArgs(['service', 'web', '-w', '2', '-c', '1', '--node', 'https://a:8443']);
  assert.ok(!('error' in s) && s.check === 'service');
  assert.deepEqual(s.nodes, ['https://a:8443']);
  assert.equal(s.warn?.start, 2);
  const v = parseNagiosArgs(['vip', '198.18.0.100', '--node', 'http://a', 'http://b', '--node=local', '-t', '3']);
  assert.ok(!('error' in v) && v.check === 'vip');
  assert.deepEqual(v.nodes, ['http://a', 'http://b', 'local']);
  assert.equal(v.timeoutMs, 3000);
  const i = parseNagiosArgs(['instance', 'VI_1', '--expect', 'MASTER']);
  assert.ok(!('error' in i) && i.check === 'instance' && i.expect === 'master');
  const err = (argv: string[]) => (parseNagiosArgs(argv) as { error: string }).error;
  assert.equal(err([]), 'which check? instance, vip, service, server or config');
  assert.equal(err(['instance', 'VI_1', '--expect', 'fault']), '--expect must be master or backup, got fault');
  assert.equal(err(['vip', '198.18.0.100']), 'vip needs --node for every node that may hold it');
  assert.equal(
    err(['config', '--node', 'http://a']),
    'config compares nodes: give --node for at least two (one may be "local")',
  );
  assert.equal(err(['service', 'web', '-w', 'x']), '-w: threshold "x" is not a range (10, 10:, ~:10, 10:20, @10:20)');
  assert.equal(err(['server', 'web', 'host:80']), 'server must be ADDR:PORT ([v6]:PORT), got host:80');
  assert.equal(err(['instance', 'VI_1', '-w', '1']), 'instance does not take --warning');
  assert.equal(
    err(['instance', 'VI_1', '--node', 'ftp://x']),
    '--node needs a URL (http://host:port or https://…), "local" or unix:SOCKET, got ftp://x',
  );
  assert.equal(err(['instance', 'VI_1', '--bogus']), 'unknown option --bogus');
  assert.equal(err(['service', 'web', '--node', 'http://a', 'http://b']), 'service asks one node; got 2 --node');
  assert.equal(err(['instance', 'VI_1', '-t', '0']), '-t must be seconds in (0, 300], got 0');
});
