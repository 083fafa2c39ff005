/**
 * What tandem exposes to Prometheus: the catalogue of metric families (name, type, help — docs/operations.md lists
 * the same) and the pure function that fills them from one node's status DTO and the counters the event bus kept.
 * Gauges are read from the status at scrape time; counters that the status already keeps (adverts, drops, check
 * runs) are read from it too; only what the status does not keep (transitions by cause, reloads) comes from events.
 */
import type { DaemonStatus, GroupStatus, LbServerStatus } from '../api/contract.ts';
import type { Family, HistogramSample, Labels, Sample } from './exposition.ts';

type Kind = 'gauge' | 'counter' | 'histogram';

/** Every family tandem can emit. */
export const CATALOGUE = {
  tandem_node_info: ['gauge', 'This node: its name (always 1).'],
  tandem_node_start_time_seconds: ['gauge', 'When the daemon started, Unix time.'],
  tandem_config_info: ['gauge', 'The running config: file and sha256 hash of its bytes (always 1).'],
  tandem_config_reloads_total: ['counter', 'Config reloads by result (success, failure).'],
  tandem_config_last_reload_successful: ['gauge', 'Whether the last reload was applied (1) or refused (0).'],
  tandem_config_last_reload_success_timestamp_seconds: ['gauge', 'When the running config was loaded, Unix time.'],

  tandem_vrrp_instance_state: ['gauge', 'VRRP instance state, one series per state (1 = current).'],
  tandem_vrrp_priority: ['gauge', 'Effective VRRP priority (configured, trackers, standby/takeover).'],
  tandem_vrrp_configured_priority: ['gauge', 'Configured VRRP priority.'],
  tandem_vrrp_adverts_sent_total: ['counter', 'VRRP adverts sent by the instance.'],
  tandem_vrrp_adverts_received_total: ['counter', 'VRRP adverts received and accepted for the instance.'],
  tandem_vrrp_drops_total: ['counter', 'VRRP packets for the instance dropped, by reason.'],
  tandem_vrrp_transitions_total: ['counter', 'VRRP state transitions since the daemon started, by from, to and cause.'],
  tandem_vrrp_discards_total: ['counter', 'VRRP adverts the state machine ignored, by reason.'],
  tandem_vrrp_vips: ['gauge', 'Virtual addresses the instance carries.'],
  tandem_vrrp_guard_events_total: [
    'counter',
    'Takeover guard outcomes (engaged, held, takeover, fenced, fence-failed).',
  ],
  tandem_vrrp_interface_received_total: ['counter', 'VRRP packets received on the interface.'],
  tandem_vrrp_interface_drops_total: ['counter', 'VRRP packets on the interface not for an instance here, by reason.'],
  tandem_election_owned: ['gauge', 'Whether this node owns the election group (1) or not (0).'],
  tandem_election_fencing_token: ['gauge', 'Fencing token of the last ownership of the group.'],
  tandem_peer_channel_answered_total: ['counter', 'Peer channel probes answered.'],
  tandem_peer_channel_rejected_total: ['counter', 'Peer channel probes rejected, by reason.'],

  tandem_lb_service_info: ['gauge', 'Virtual service: address, port, protocol, scheduler, method, data plane (1).'],
  tandem_lb_service_role: ['gauge', 'Virtual service role here, one series per role (serving, standby, idle).'],
  tandem_lb_service_quorum_up: ['gauge', 'Whether the virtual service has its real-server quorum.'],
  tandem_lb_service_healthy_servers: ['gauge', 'Real servers of the service that are up.'],
  tandem_lb_real_server_state: ['gauge', 'Real server operational state, one series per state (1 = current).'],
  tandem_lb_real_server_health_up: ['gauge', 'Whether the health check verdict (after rise/fall) is up.'],
  tandem_lb_real_server_admin: ['gauge', 'Admin flags of the real server (maint, drain): 1 when set.'],
  tandem_lb_real_server_weight: ['gauge', 'Weight programmed now (0 while draining, ramping while starting).'],
  tandem_lb_real_server_configured_weight: ['gauge', 'Configured weight of the real server.'],
  tandem_lb_real_server_programmed: ['gauge', 'Whether the real server is in the data plane now.'],
  tandem_lb_real_server_check_result: ['gauge', 'Last health check result, its code as a label (always 1).'],
  tandem_lb_real_server_check_duration_seconds: ['gauge', 'Duration of the last health check.'],
  tandem_lb_real_server_connections: ['gauge', 'Connections to the real server, by state (active, inactive).'],
  tandem_lb_checks_total: ['counter', 'Health check runs.'],
  tandem_lb_checks_in_flight: ['gauge', 'Health checks running now.'],
  tandem_lb_check_targets: ['gauge', 'Health check targets.'],
  tandem_lb_dataplane_error: ['gauge', 'Whether the last data-plane apply failed (1) or not (0).'],

  tandem_proxy_requests_total: [
    'counter',
    'Requests (http) or connections (tcp) the proxy forwarded, by status class.',
  ],
  tandem_proxy_request_duration_seconds: ['histogram', 'Time to the response head (http) or session length (tcp).'],
  tandem_proxy_bytes_total: ['counter', 'Bytes the proxy carried, by direction (in: from clients, out: to them).'],

  tandem_group_phase: ['gauge', 'Resource group phase, one series per phase (1 = current).'],
  tandem_group_owned: ['gauge', 'Whether this node owns the resource group.'],
  tandem_group_maintenance: ['gauge', 'Whether the resource group is in maintenance (not managed).'],
  tandem_group_transitions_total: ['counter', 'Resource group phase changes, by to and cause.'],
  tandem_resource_state: ['gauge', 'Resource state, one series per state (1 = current).'],
  tandem_resource_failures: [
    'gauge',
    'Failures of the resource counted toward the migration threshold (reset by cleanup).',
  ],
} as const satisfies Record<string, readonly [Kind, string]>;

/** A metric name tandem emits. */
export type MetricName = keyof typeof CATALOGUE;

/** Every family name, and a histogram's series names. */
export function catalogueNames(): Set<string> {
  const names = new Set<string>();
  for (const [name, [kind]] of Object.entries(CATALOGUE)) {
    names.add(name);
    if (kind === 'histogram') for (const x of ['_bucket', '_sum', '_count']) names.add(name + x);
  }
  return names;
}

/** Counters the event bus kept (daemon-metrics.ts). */
export interface EventCounts {
  /** `instance`, `from`, `to`, `cause` → count. */
  transitions: readonly { labels: Labels; value: number }[];
  discards: readonly { labels: Labels; value: number }[];
  groupTransitions: readonly { labels: Labels; value: number }[];
  reloads: { success: number; failure: number; lastOk: boolean; lastSuccessMs: number };
}

/** The input of a scrape. */
export interface ScrapeInput {
  status: DaemonStatus;
  events: EventCounts;
  /** The running config's file and hash. */
  config: { file: string; hash: string };
}

const VRRP_STATES = ['INIT', 'BACKUP', 'MASTER', 'FAULT'] as const;
const OP_STATES = ['down', 'starting', 'up', 'draining'] as const satisfies readonly LbServerStatus['op'][];
const ROLES = ['serving', 'standby', 'idle'] as const;
const GROUP_PHASES = {
  probing: 1,
  stopped: 1,
  starting: 1,
  running: 1,
  recovering: 1,
  stopping: 1,
  failed: 1,
  blocked: 1,
  maintenance: 1,
} as const satisfies Record<GroupStatus['phase'], 1>;
const RESOURCE_STATES = {
  unknown: 1,
  stopped: 1,
  starting: 1,
  started: 1,
  stopping: 1,
  failed: 1,
  'stop-failed': 1,
} as const satisfies Record<GroupStatus['resources'][number]['status'], 1>;

const b = (x: boolean): number => (x ? 1 : 0);
const seconds = (iso: string): number => Date.parse(iso) / 1000;

/** The families of one scrape, in catalogue order. Pure. */
export function scrapeFamilies(input: ScrapeInput): Family[] {
  const { status: st, events } = input;
  const s = new Map<MetricName, Sample[]>();
  const h = new Map<MetricName, HistogramSample[]>();
  const add = (name: MetricName, labels: Labels, value: number) => {
    const list = s.get(name) ?? [];
    if (!s.has(name)) s.set(name, list);
    list.push({ labels, value });
  };

  add('tandem_node_info', { node: st.node }, 1);
  add('tandem_node_start_time_seconds', {}, seconds(st.since));
  add('tandem_config_info', { file: input.config.file, hash: input.config.hash }, 1);
  add('tandem_config_reloads_total', { result: 'success' }, events.reloads.success);
  add('tandem_config_reloads_total', { result: 'failure' }, events.reloads.failure);
  add('tandem_config_last_reload_successful', {}, b(events.reloads.lastOk));
  add('tandem_config_last_reload_success_timestamp_seconds', {}, events.reloads.lastSuccessMs / 1000);

  for (const i of st.instances) {
    const inst = { vrrp_instance: i.name };
    for (const state of VRRP_STATES) add('tandem_vrrp_instance_state', { ...inst, state }, b(i.state === state));
    add('tandem_vrrp_priority', inst, i.priority.effective);
    add('tandem_vrrp_configured_priority', inst, i.priority.configured);
    add('tandem_vrrp_adverts_sent_total', inst, i.counters.advertsSent);
    add('tandem_vrrp_adverts_received_total', inst, i.counters.advertsReceived);
    for (const [reason, n] of Object.entries(i.counters.drops)) add('tandem_vrrp_drops_total', { ...inst, reason }, n);
    add('tandem_vrrp_vips', inst, i.vips.length);
    if (i.guard) {
      const c = i.guard.counters;
      const ev = {
        engaged: c.engaged,
        held: c.held,
        takeover: c.takeovers,
        fenced: c.fenced,
        'fence-failed': c.fenceFailed,
      };
      for (const [event, n] of Object.entries(ev)) add('tandem_vrrp_guard_events_total', { ...inst, event }, n);
    }
  }
  for (const t of events.transitions) add('tandem_vrrp_transitions_total', t.labels, t.value);
  for (const t of events.discards) add('tandem_vrrp_discards_total', t.labels, t.value);
  for (const f of st.interfaces ?? []) {
    const l = { interface: f.ifname, family: `ipv${f.family}` };
    add('tandem_vrrp_interface_received_total', l, f.received);
    for (const [reason, n] of Object.entries(f.drops))
      add('tandem_vrrp_interface_drops_total', { ...l, reason }, n ?? 0);
  }
  for (const o of st.ownership ?? []) {
    add('tandem_election_owned', { group: o.group }, b(o.owned));
    add('tandem_election_fencing_token', { group: o.group }, o.token);
  }
  if (st.peerChannel) {
    add('tandem_peer_channel_answered_total', {}, st.peerChannel.answered);
    for (const [reason, n] of Object.entries(st.peerChannel.rejected))
      add('tandem_peer_channel_rejected_total', { reason }, n);
  }

  if (st.lb) {
    for (const v of st.lb.services) {
      const svc = { service: v.name };
      add(
        'tandem_lb_service_info',
        {
          ...svc,
          vip: v.vip,
          port: String(v.port),
          protocol: v.protocol,
          scheduler: v.scheduler,
          method: v.method,
          dataplane: v.dataplane,
        },
        1,
      );
      for (const role of ROLES) add('tandem_lb_service_role', { ...svc, role }, b(v.role === role));
      add('tandem_lb_service_quorum_up', svc, b(v.quorum === 'up'));
      add('tandem_lb_service_healthy_servers', svc, v.servers.filter((r) => r.op === 'up').length);
      for (const r of v.servers) {
        const rs = { ...svc, server: r.key };
        for (const state of OP_STATES) add('tandem_lb_real_server_state', { ...rs, state }, b(r.op === state));
        add('tandem_lb_real_server_health_up', rs, b(r.health === 'up'));
        add('tandem_lb_real_server_admin', { ...rs, flag: 'maint' }, b(r.admin.maint !== undefined));
        add('tandem_lb_real_server_admin', { ...rs, flag: 'drain' }, b(r.admin.drain !== undefined));
        add('tandem_lb_real_server_weight', rs, r.weight);
        add('tandem_lb_real_server_configured_weight', rs, r.configuredWeight);
        add('tandem_lb_real_server_programmed', rs, b(r.programmed));
        if (r.check?.last) {
          add('tandem_lb_real_server_check_result', { ...rs, code: r.check.last.code }, 1);
          add('tandem_lb_real_server_check_duration_seconds', rs, r.check.last.durationMs / 1000);
        }
        add('tandem_lb_real_server_connections', { ...rs, state: 'active' }, r.conns.active);
        add('tandem_lb_real_server_connections', { ...rs, state: 'inactive' }, r.conns.inactive);
      }
    }
    add('tandem_lb_checks_total', {}, st.lb.checks.runs);
    add('tandem_lb_checks_in_flight', {}, st.lb.checks.inFlight);
    add('tandem_lb_check_targets', {}, st.lb.checks.targets);
    add('tandem_lb_dataplane_error', {}, b(st.lb.error !== null));
    for (const p of st.lb.proxy?.servers ?? []) {
      const rs = { service: p.service, server: p.server };
      for (const [cls, n] of Object.entries(p.requests)) add('tandem_proxy_requests_total', { ...rs, class: cls }, n);
      add('tandem_proxy_bytes_total', { ...rs, direction: 'in' }, p.bytesIn);
      add('tandem_proxy_bytes_total', { ...rs, direction: 'out' }, p.bytesOut);
    }
    for (const d of st.lb.proxy?.durations ?? []) {
      const list = h.get('tandem_proxy_request_duration_seconds') ?? [];
      h.set('tandem_proxy_request_duration_seconds', list);
      list.push({
        labels: { service: d.service },
        bounds: d.boundsMs.map((ms) => ms / 1000),
        cumulative: d.cumulative,
        sum: d.sumMs / 1000,
        count: d.count,
      });
    }
  }

  for (const g of st.groups ?? []) {
    const grp = { group: g.name };
    for (const phase of Object.keys(GROUP_PHASES)) add('tandem_group_phase', { ...grp, phase }, b(g.phase === phase));
    add('tandem_group_owned', grp, b(g.owned));
    add('tandem_group_maintenance', grp, b(g.maintenance));
    for (const r of g.resources) {
      const res = { ...grp, resource: r.id, agent: r.agent };
      for (const state of Object.keys(RESOURCE_STATES))
        add('tandem_resource_state', { ...res, state }, b(r.status === state));
      add('tandem_resource_failures', res, r.failCount);
    }
  }
  for (const t of events.groupTransitions) add('tandem_group_transitions_total', t.labels, t.value);

  return (Object.entries(CATALOGUE) as [MetricName, readonly [Kind, string]][]).map(([name, [type, help]]) =>
    type === 'histogram'
      ? { name, type, help, samples: h.get(name) ?? [] }
      : { name, type, help, samples: s.get(name) ?? [] },
  );
}
