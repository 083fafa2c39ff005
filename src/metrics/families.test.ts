import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { DaemonMetrics } from './daemon-metrics.ts';
import { CATALOGUE } from './families.ts';
import { sampleStatus } from './test-support.ts';

type Handler = (e: never) => void;
/** A minimal bus with the same `on` as core/events. */
function bus() {
  const hs = new Map<string, Set<Handler>>();
  return {
    on(kind: string, h: Handler) {
      if (!hs.has(kind)) hs.set(kind, new Set());
      hs.get(kind)!.add(h);
      return () => hs.get(kind)!.delete(h);
    },
    emit(kind: string, e: unknown) {
      for (const h of hs.get(kind) ?? []) h(e as never);
    },
  };
}

function scrape(m: DaemonMetrics, status = sampleStatus()): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of m.render(status).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    values.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return values;
}

const metrics = () => new DaemonMetrics({ file: '/etc/tandem/tandem.yaml', hash: 'sha256:aa', nowMs: 1_000_000 });

test('every family of the catalogue is emitted for a status that has every part', () => {
  const m = metrics();
  const b = bus();
  m.watchVrrp(b as never);
  m.watchGroups(b as never);
  b.emit('transition', { instance: 'VI_1', from: 'BACKUP', to: 'MASTER', cause: 'master-down' });
  b.emit('discard', { instance: 'VI_1', reason: 'lower-priority' });
  b.emit('group-transition', { group: 'db', to: 'running', cause: 'owned' });
  const text = m.render(sampleStatus());
  for (const [name, [type]] of Object.entries(CATALOGUE)) {
    assert.match(text, new RegExp(`^# TYPE ${name} ${type}$`, 'm'), name);
    assert.match(text, new RegExp(`^${name}(_bucket|_sum|_count)?[{ ]`, 'm'), name);
  }
});

test('per instance: one-hot state, effective priority, adverts and drops by reason', () => {
  const v = scrape(metrics());
  assert.equal(v.get('tandem_vrrp_instance_state{vrrp_instance="VI_1",state="MASTER"}'), 1);
  assert.equal(v.get('tandem_vrrp_instance_state{vrrp_instance="VI_1",state="BACKUP"}'), 0);
  assert.equal(v.get('tandem_vrrp_instance_state{vrrp_instance="VI_2 \\"x\\"",state="BACKUP"}'), 1);
  assert.equal(v.get('tandem_vrrp_priority{vrrp_instance="VI_2 \\"x\\""}'), 1);
  assert.equal(v.get('tandem_vrrp_configured_priority{vrrp_instance="VI_2 \\"x\\""}'), 100);
  assert.equal(v.get('tandem_vrrp_adverts_sent_total{vrrp_instance="VI_1"}'), 40);
  assert.equal(v.get('tandem_vrrp_drops_total{vrrp_instance="VI_1",reason="short"}'), 1);
  assert.equal(v.get('tandem_vrrp_drops_total{vrrp_instance="VI_1",reason="replay"}'), 0);
  assert.equal(v.get('tandem_vrrp_interface_drops_total{interface="eth0",family="ipv4",reason="vrid"}'), 3);
});

test('transitions are counted by instance, from, to and cause as the bus reports them', () => {
  const m = metrics();
  const b = bus();
  m.watchVrrp(b as never);
  const t = { instance: 'VI_1', from: 'BACKUP', to: 'MASTER', cause: 'master-down' };
  b.emit('transition', t);
  b.emit('transition', t);
  b.emit('transition', { ...t, from: 'MASTER', to: 'BACKUP', cause: 'higher-priority' });
  const v = scrape(m);
  assert.equal(
    v.get('tandem_vrrp_transitions_total{vrrp_instance="VI_1",from="BACKUP",to="MASTER",cause="master-down"}'),
    2,
  );
  assert.equal(
    v.get('tandem_vrrp_transitions_total{vrrp_instance="VI_1",from="MASTER",to="BACKUP",cause="higher-priority"}'),
    1,
  );
  m.close();
  b.emit('transition', t);
  assert.equal(
    scrape(m).get('tandem_vrrp_transitions_total{vrrp_instance="VI_1",from="BACKUP",to="MASTER",cause="master-down"}'),
    2,
  );
});

test('per real server: one-hot state, weight, admin flags, check code and latency, connections', () => {
  const v = scrape(metrics());
  const rs = (s: string) => `service="web",server="${s}:80"`;
  assert.equal(v.get(`tandem_lb_real_server_state{${rs('198.18.2.2')},state="draining"}`), 1);
  assert.equal(v.get(`tandem_lb_real_server_state{${rs('198.18.2.2')},state="up"}`), 0);
  assert.equal(v.get(`tandem_lb_real_server_weight{${rs('198.18.2.2')}}`), 0);
  assert.equal(v.get(`tandem_lb_real_server_configured_weight{${rs('198.18.2.1')}}`), 3);
  assert.equal(v.get(`tandem_lb_real_server_admin{${rs('198.18.2.2')},flag="drain"}`), 1);
  assert.equal(v.get(`tandem_lb_real_server_admin{${rs('198.18.2.2')},flag="maint"}`), 0);
  assert.equal(v.get(`tandem_lb_real_server_check_result{${rs('198.18.2.3')},code="L4CON"}`), 1);
  assert.equal(v.get(`tandem_lb_real_server_check_duration_seconds{${rs('198.18.2.3')}}`), 0.0015);
  assert.equal(v.get(`tandem_lb_real_server_connections{${rs('198.18.2.1')},state="inactive"}`), 5);
  assert.equal(v.get('tandem_lb_service_healthy_servers{service="web"}'), 1);
  assert.equal(v.get('tandem_lb_service_role{service="api",role="standby"}'), 1);
  assert.equal(v.get('tandem_lb_service_quorum_up{service="api"}'), 0);
});

test('proxy: requests by class, bytes by direction, the latency histogram in seconds', () => {
  const v = scrape(metrics());
  const rs = 'service="api",server="198.18.3.1:80"';
  assert.equal(v.get(`tandem_proxy_requests_total{${rs},class="5xx"}`), 1);
  assert.equal(v.get(`tandem_proxy_bytes_total{${rs},direction="out"}`), 12000);
  assert.equal(v.get('tandem_proxy_request_duration_seconds_bucket{service="api",le="0.01"}'), 9);
  assert.equal(v.get('tandem_proxy_request_duration_seconds_bucket{service="api",le="+Inf"}'), 13);
  assert.equal(v.get('tandem_proxy_request_duration_seconds_sum{service="api"}'), 0.0775);
});

test('groups and resources: one-hot phase and state, failures', () => {
  const v = scrape(metrics());
  assert.equal(v.get('tandem_group_phase{group="db",phase="running"}'), 1);
  assert.equal(v.get('tandem_group_phase{group="db",phase="failed"}'), 0);
  assert.equal(v.get('tandem_resource_state{group="db",resource="pg",agent="lsb",state="failed"}'), 1);
  assert.equal(v.get('tandem_resource_failures{group="db",resource="pg",agent="lsb"}'), 2);
});

test('reloads: successes and failures counted, the running hash follows the last applied config', () => {
  const m = metrics();
  let v = scrape(m);
  assert.equal(v.get('tandem_config_info{file="/etc/tandem/tandem.yaml",hash="sha256:aa"}'), 1);
  assert.equal(v.get('tandem_config_last_reload_success_timestamp_seconds'), 1000);
  m.reloaded({ ok: true, hash: 'sha256:bb', nowMs: 2_000_000 });
  m.reloaded({ ok: false });
  // A status without its own hash (no cluster part): the hash read at the reload.
  v = scrape(m, sampleStatus({ configHash: undefined }));
  assert.equal(v.get('tandem_config_reloads_total{result="success"}'), 1);
  assert.equal(v.get('tandem_config_reloads_total{result="failure"}'), 1);
  assert.equal(v.get('tandem_config_last_reload_successful'), 0);
  assert.equal(v.get('tandem_config_last_reload_success_timestamp_seconds'), 2000);
  assert.equal(v.get('tandem_config_info{file="/etc/tandem/tandem.yaml",hash="sha256:bb"}'), 1);
  assert.equal(m.configHash, 'sha256:bb');
});

test('a node without lb, groups or peer channel emits none of their families', () => {
  const text = metrics().render(sampleStatus({ lb: undefined, groups: undefined, peerChannel: undefined }));
  assert.doesNotMatch(text, /tandem_lb_|tandem_proxy_|tandem_group_|tandem_resource_|tandem_peer_/);
  assert.match(text, /tandem_vrrp_priority/);
});

test('promtool check metrics accepts the sample scrape (lint included)', {
  skip: !hasPromtool() && 'no promtool (scripts/setup.sh installs it)',
}, () => {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: metrics().render(sampleStatus()), encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
});

function hasPromtool(): boolean {
  return spawnSync('promtool', ['--version']).status === 0;
}

test('docs/operations.md lists every metric family with its type', () => {
  const doc = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');
  for (const [name, [type]] of Object.entries(CATALOGUE))
    assert.match(doc, new RegExp(`^\\| \`${name}\` \\| ${type} \\| `, 'm'), name);
});
