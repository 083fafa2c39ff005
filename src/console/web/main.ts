/// <reference lib="dom" />
/**
 * The web console: a Preact app served by the daemon's API listener (src/console/plugin.ts). Screens by hash route:
 * login, #/ the whole cluster, #/service/NAME a virtual service with its plots, #/groups, #/events, #/timeline the
 * failover timeline, #/config the editor, #/guided the guided form. Every action asks for confirmation and is hidden
 * from viewers; the server authorises it again.
 */
import 'uplot/dist/uPlot.min.css';
import './app.css';
import { type ComponentChild, h, render } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { DaemonStatus, GroupStatus, LbServerStatus, LbServiceStatus } from '../../api/contract.ts';
import type { HistoryReply, LastAction } from '../history.ts';
import { call, errorText, setCsrf, setUnauthorizedHandler } from './api.ts';
import { mastersOf, type NodeView, namesByAddress, normalizeCluster, priorityWhy } from './cluster-view.ts';
import { confirmAction, DialogHost } from './dialog.ts';
import { ConfigEditor, GuidedFormView } from './editor.ts';
import { FailoverTimeline, ServicePlots } from './plots.ts';

/** Who is logged in. */
export interface Session {
  user: string;
  role: 'viewer' | 'operator' | 'admin';
}

/** An event of the stream, as shown. */
interface ShownEvent {
  type: string;
  time: string;
  text: string;
}

const canAct = (s: Session) => s.role === 'operator' || s.role === 'admin';

function useHash(): string {
  const [hash, setHash] = useState(location.hash || '#/');
  useEffect(() => {
    const f = () => setHash(location.hash || '#/');
    addEventListener('hashchange', f);
    return () => removeEventListener('hashchange', f);
  }, []);
  return hash;
}

function Login(props: { onLogin: (s: Session) => void }) {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const r = await call<{ user: string; role: Session['role']; csrf: string; retryAfterSeconds?: number }>(
      'POST',
      '/api/v1/login',
      { user, password },
    );
    setBusy(false);
    if (r.ok) {
      setCsrf(r.body.csrf);
      props.onLogin({ user: r.body.user, role: r.body.role });
      return;
    }
    if (r.status === 429) {
      const b = r.body as { message?: string; retryAfterSeconds?: number; retryAfter?: number };
      const wait = b?.retryAfterSeconds ?? b?.retryAfter;
      setError(
        `Too many failed logins: this account is locked${wait ? ` for ${wait} s` : ' for a while'}. ${b?.message ?? ''}`.trim(),
      );
    } else if (r.status === 401 || r.status === 403) setError('Wrong user name or password.');
    else setError(errorText(r));
  };
  return h(
    'main',
    { class: 'login' },
    h(
      'form',
      { onSubmit: submit, class: 'card', 'aria-label': 'Log in' },
      h('h1', null, 'tandem'),
      h(
        'label',
        null,
        'User',
        h('input', {
          name: 'user',
          autoComplete: 'username',
          value: user,
          required: true,
          onInput: (e: Event) => setUser((e.target as HTMLInputElement).value),
        }),
      ),
      h(
        'label',
        null,
        'Password',
        h('input', {
          name: 'password',
          type: 'password',
          autoComplete: 'current-password',
          value: password,
          required: true,
          onInput: (e: Event) => setPassword((e.target as HTMLInputElement).value),
        }),
      ),
      error && h('p', { class: 'error', role: 'alert', 'data-login-error': '' }, error),
      h('button', { type: 'submit', class: 'primary', disabled: busy }, busy ? 'Logging in…' : 'Log in'),
    ),
  );
}

/** Runs an action through the API; returns the error text, or null. */
async function act(path: string, body: unknown, after: () => void): Promise<string | null> {
  const r = await call('POST', path, body, 90_000);
  after();
  return r.ok ? null : errorText(r);
}

function StateBadge(props: { state: string }) {
  return h('span', { class: `badge s-${props.state.toLowerCase()}` }, props.state);
}

function NodeCard(props: { node: NodeView; nodes: NodeView[]; session: Session; refresh: () => void }) {
  const { node, session } = props;
  const st = node.status;
  const order = (kind: 'standby' | 'takeover', instances: string[] | 'all', clear: boolean) =>
    confirmAction({
      title: `${clear ? 'Clear ' : ''}${kind} on ${node.name}`,
      text: clear
        ? `Clear the ${kind} order on ${node.name} for ${instances === 'all' ? 'every instance' : instances.join(', ')}: the configured priorities apply again.`
        : kind === 'standby'
          ? `Put ${node.name} in standby for ${instances === 'all' ? 'every instance' : instances.join(', ')}: it gives up mastership and its VIPs move to a peer.`
          : `Make ${node.name} take over ${instances === 'all' ? 'every instance' : instances.join(', ')}: it becomes master and the VIPs move here.`,
      danger: !clear,
      run: () => act(`/api/v1/${kind}`, { instances, clear }, props.refresh),
    });
  return h(
    'section',
    { class: 'card node', 'data-node': node.name },
    h(
      'header',
      null,
      h('h2', null, node.name, node.self && h('span', { class: 'muted' }, ' (this node)')),
      h('span', { class: 'muted' }, node.address ?? ''),
      node.reachable
        ? h('span', { class: 'badge ok' }, 'reachable')
        : h('span', { class: 'badge s-fault' }, 'unreachable'),
    ),
    !st && h('p', { class: 'error' }, node.error ?? 'no status'),
    st &&
      h(
        'div',
        null,
        h(
          'p',
          { class: 'muted' },
          `up since ${new Date(st.since).toLocaleString()} · config ${node.config?.version !== undefined && node.config?.version !== null ? `v${node.config.version} ` : ''}${node.config?.hash ? node.config.hash.slice(0, 19) : st.config}`,
        ),
        h(
          'table',
          null,
          h(
            'thead',
            null,
            h('tr', null, ...['Instance', 'State', 'Master', 'Priority', 'Why', 'VIPs'].map((t) => h('th', null, t))),
          ),
          h(
            'tbody',
            null,
            ...st.instances.map((i) =>
              h(
                'tr',
                { 'data-instance': i.name },
                h('td', null, i.name, h('div', { class: 'muted' }, `${i.interface} vrid ${i.vrid} v${i.version}`)),
                h('td', null, h(StateBadge, { state: i.state })),
                h(
                  'td',
                  null,
                  i.master === null
                    ? 'unknown'
                    : i.master.self
                      ? 'this node'
                      : `${i.master.addr} (prio ${i.master.priority})`,
                ),
                h('td', { class: 'num' }, String(i.priority.effective)),
                h('td', { class: 'why' }, priorityWhy(i)),
                h(
                  'td',
                  null,
                  i.state === 'MASTER'
                    ? h('strong', null, i.vips.join(', '))
                    : h('span', { class: 'muted' }, i.vips.join(', ')),
                ),
              ),
            ),
          ),
        ),
        st.ownership &&
          st.ownership.length > 0 &&
          h(
            'p',
            { class: 'muted' },
            'Groups: ',
            st.ownership.map((o) => `${o.group} ${o.owned ? `owned (token ${o.token})` : 'not owned'}`).join(' · '),
          ),
        canAct(session) &&
          node.self &&
          h(
            'div',
            { class: 'actions' },
            h('button', { 'data-action': 'standby', onClick: () => order('standby', 'all', false) }, 'Standby'),
            h('button', { 'data-action': 'takeover', onClick: () => order('takeover', 'all', false) }, 'Takeover'),
            st.instances.some((i) => i.priority.override !== null) &&
              h('button', { 'data-action': 'clear', onClick: () => order('standby', 'all', true) }, 'Clear order'),
          ),
      ),
  );
}

function Dashboard(props: { nodes: NodeView[]; session: Session; refresh: () => void; error: string | null }) {
  const { nodes } = props;
  const instances = [...new Set(nodes.flatMap((n) => n.status?.instances.map((i) => i.name) ?? []))];
  const services = servicesOf(nodes);
  return h(
    'div',
    null,
    props.error && h('p', { class: 'error' }, props.error),
    h(
      'section',
      { class: 'card' },
      h('h2', null, 'Who is master of what'),
      h(
        'table',
        { 'data-masters': '' },
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            h('th', null, 'Instance'),
            h('th', null, 'VIPs'),
            h('th', null, 'Master'),
            ...nodes.map((n) => h('th', null, n.name)),
          ),
        ),
        h(
          'tbody',
          null,
          ...instances.map((name) => {
            const masters = mastersOf(nodes, name);
            const vips = nodes.flatMap((n) => n.status?.instances.find((i) => i.name === name)?.vips ?? [])[0];
            return h(
              'tr',
              { 'data-instance': name },
              h('td', null, name),
              h(
                'td',
                null,
                nodes
                  .find((n) => n.status?.instances.some((i) => i.name === name))
                  ?.status?.instances.find((i) => i.name === name)
                  ?.vips.join(', ') ??
                  vips ??
                  '',
              ),
              h(
                'td',
                { class: masters.length > 1 ? 'error' : '', 'data-master': masters.join(',') },
                masters.length === 0 ? 'none' : masters.length > 1 ? `SPLIT BRAIN: ${masters.join(', ')}` : masters[0],
              ),
              ...nodes.map((n) => {
                const i = n.status?.instances.find((x) => x.name === name);
                return h(
                  'td',
                  null,
                  i ? h('span', null, h(StateBadge, { state: i.state }), ` ${i.priority.effective}`) : '–',
                );
              }),
            );
          }),
        ),
      ),
    ),
    h(
      'div',
      { class: 'grid' },
      ...nodes.map((n) => h(NodeCard, { node: n, nodes, session: props.session, refresh: props.refresh })),
    ),
    services.length > 0 &&
      h(
        'section',
        { class: 'card' },
        h('h2', null, 'Virtual services'),
        h(
          'table',
          null,
          h(
            'thead',
            null,
            h('tr', null, ...['Service', 'VIP', 'Served by', 'Quorum', 'Servers up'].map((t) => h('th', null, t))),
          ),
          h(
            'tbody',
            null,
            ...services.map(({ svc, node }) =>
              h(
                'tr',
                { 'data-service': svc.name },
                h('td', null, h('a', { href: `#/service/${encodeURIComponent(svc.name)}` }, svc.name)),
                h('td', null, `${svc.vip}:${svc.port}/${svc.protocol}`),
                h('td', null, svc.role === 'serving' ? node : `${node} (${svc.role})`),
                h('td', null, svc.quorum),
                h('td', null, `${svc.servers.filter((r) => r.op === 'up').length}/${svc.servers.length}`),
              ),
            ),
          ),
        ),
      ),
    h(GroupsTable, { nodes, session: props.session, refresh: props.refresh }),
  );
}

/** Each service once: from the node that serves it, else from any node that has it. */
function servicesOf(nodes: NodeView[]): { svc: LbServiceStatus; node: string; self: boolean }[] {
  const out = new Map<string, { svc: LbServiceStatus; node: string; self: boolean }>();
  for (const n of nodes)
    for (const svc of n.status?.lb?.services ?? []) {
      const had = out.get(svc.name);
      if (!had || (had.svc.role !== 'serving' && svc.role === 'serving'))
        out.set(svc.name, { svc, node: n.name, self: n.self });
    }
  return [...out.values()];
}

function adminText(r: LbServerStatus, last: LastAction | undefined): string {
  const parts: string[] = [];
  // The status says which source set a flag (config, cli, api); the audit stream says which user and when.
  const by = (src: string, verb: string) =>
    src === 'api' && last && last.action === `rs.${verb}`
      ? `by ${last.who} at ${new Date(last.at).toLocaleTimeString()}`
      : `by ${src}`;
  if (r.admin.maint) parts.push(`maint (${by(r.admin.maint, 'maint')})`);
  if (r.admin.drain) parts.push(`drain (${by(r.admin.drain, 'drain')})`);
  if (r.weightOverride) parts.push(`weight ${r.weightOverride.weight} (${by(r.weightOverride.source, 'weight')})`);
  if (parts.length === 0) parts.push('enabled');
  if (r.origin !== 'config') parts.push(`added by ${r.origin}`);
  return parts.join(', ');
}

function ServiceView(props: { name: string; nodes: NodeView[]; session: Session; refresh: () => void }) {
  const found = servicesOf(props.nodes).find((s) => s.svc.name === props.name);
  const [windowText, setWindowText] = useState('15m');
  const history = useHistory(windowText);
  if (!found) return h('p', { class: 'muted' }, `No virtual service ${props.name}.`);
  const { svc } = found;
  const rs = (verb: string, server: string, extra: Record<string, unknown> = {}) =>
    act('/api/v1/rs', { service: svc.name, verb, server, ...extra }, props.refresh);
  const ask = (verb: string, r: LbServerStatus) => {
    const server = r.key;
    const texts: Record<string, string> = {
      drain: `Drain ${server}: it takes no new connections; the ones it has finish.`,
      enable: `Enable ${server}: it takes connections again (clears maint and drain).`,
      maint: `Put ${server} in maintenance: it leaves the pool now.`,
      remove: `Remove ${server} from ${svc.name}.`,
    };
    if (verb === 'weight')
      return confirmAction({
        title: `Weight of ${server}`,
        text: `Set the weight of ${server} in ${svc.name} (0–65535; empty resets to the configured ${r.configuredWeight}).`,
        field: { label: 'Weight', value: String(r.weightOverride?.weight ?? r.configuredWeight), pattern: '\\d{0,5}' },
        run: (v) => rs('weight', server, { weight: v.trim() === '' ? null : Number(v) }),
      });
    confirmAction({
      title: `${verb} ${server}`,
      text: texts[verb] ?? verb,
      danger: verb !== 'enable',
      run: () => rs(verb, server, verb === 'drain' ? { wait: false } : {}),
    });
  };
  const add = () =>
    confirmAction({
      title: `Add a real server to ${svc.name}`,
      text: 'Address and port of the new real server (198.18.0.23:80, or [2001:db8::23]:80).',
      field: { label: 'Server', value: '', pattern: '.+:\\d+' },
      run: (v) => rs('add', v.trim(), { weight: 1 }),
    });
  return h(
    'div',
    null,
    h(
      'section',
      { class: 'card', 'data-service-detail': svc.name },
      h('h2', null, `${svc.name} — ${svc.vip}:${svc.port}/${svc.protocol}`),
      h(
        'p',
        { class: 'muted' },
        `${svc.scheduler} · ${svc.method} · ${svc.dataplane} · ${svc.role} on ${found.node} · quorum ${svc.quorum}${svc.note ? ` · ${svc.note}` : ''}${svc.sorry ? ` · sorry server ${svc.sorry.addr}:${svc.sorry.port}${svc.sorry.active ? ' (active)' : ''}` : ''}`,
      ),
      !found.self &&
        canAct(props.session) &&
        h('p', { class: 'muted' }, `Actions go to this node's load balancer; ${found.node} serves this service.`),
      h(
        'table',
        null,
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            ...['Real server', 'Health', 'State', 'Last check', 'Weight', 'Admin', 'Active', 'Inactive', ''].map((t) =>
              h('th', null, t),
            ),
          ),
        ),
        h(
          'tbody',
          null,
          ...svc.servers.map((r) =>
            h(
              'tr',
              { 'data-server': r.key },
              h('td', null, r.key),
              h('td', null, h(StateBadge, { state: r.health })),
              h('td', null, h(StateBadge, { state: r.op })),
              h(
                'td',
                { title: r.check?.last?.detail ?? '' },
                r.check?.last
                  ? `${r.check.last.code} in ${r.check.last.durationMs.toFixed(1)} ms`
                  : (r.check?.state ?? 'not checked'),
              ),
              h(
                'td',
                { class: 'num' },
                r.weight === r.configuredWeight ? String(r.weight) : `${r.weight} (of ${r.configuredWeight})`,
              ),
              h('td', { 'data-admin': '' }, adminText(r, history?.lastActions?.[`${svc.name}/${r.key}`])),
              h('td', { class: 'num' }, String(r.conns.active)),
              h('td', { class: 'num' }, String(r.conns.inactive)),
              h(
                'td',
                { class: 'actions' },
                canAct(props.session) &&
                  ['drain', 'enable', 'maint', 'weight', 'remove'].map((v) =>
                    h('button', { 'data-action': v, onClick: () => ask(v, r) }, v),
                  ),
              ),
            ),
          ),
        ),
      ),
      canAct(props.session) &&
        h('div', { class: 'actions' }, h('button', { 'data-action': 'add', onClick: add }, 'Add real server')),
    ),
    h(
      'section',
      { class: 'card' },
      h('h2', null, 'Plots ', h(WindowPicker, { value: windowText, onChange: setWindowText })),
      h(ServicePlots, { history, service: svc.name }),
    ),
  );
}

function WindowPicker(props: { value: string; onChange: (v: string) => void }) {
  return h(
    'select',
    {
      value: props.value,
      'aria-label': 'window',
      onChange: (e: Event) => props.onChange((e.target as HTMLSelectElement).value),
    },
    ...['2m', '5m', '15m', '1h'].map((w) => h('option', { value: w }, `last ${w}`)),
  );
}

function useHistory(windowText: string): HistoryReply | null {
  const [history, setHistory] = useState<HistoryReply | null>(null);
  useEffect(() => {
    let alive = true;
    const load = async () => {
      const r = await call<HistoryReply>('GET', `/api/v1/history?window=${encodeURIComponent(windowText)}`);
      if (alive && r.ok) setHistory(r.body);
    };
    void load();
    const t = setInterval(load, 3_000);
    return () => {
      alive = false;
      clearInterval(t);
    };
  }, [windowText]);
  return history;
}

function GroupsTable(props: { nodes: NodeView[]; session: Session; refresh: () => void }) {
  const rows: { node: NodeView; g: GroupStatus }[] = props.nodes.flatMap((node) =>
    (node.status?.groups ?? []).map((g) => ({ node, g })),
  );
  if (rows.length === 0) return null;
  const ask = (g: GroupStatus, action: 'cleanup' | 'maintenance' | 'manage') =>
    confirmAction({
      title: `${action} ${g.name}`,
      text:
        action === 'cleanup'
          ? `Clean up ${g.name}: forget its failures and ban, so it may start again.`
          : action === 'maintenance'
            ? `Put ${g.name} in maintenance: tandem stops managing its resources (they keep running as they are).`
            : `Manage ${g.name} again: tandem resumes starting and stopping its resources.`,
      danger: action === 'maintenance',
      run: () => act('/api/v1/group', { name: g.name, action }, props.refresh),
    });
  return h(
    'section',
    { class: 'card' },
    h('h2', null, 'Resource groups'),
    ...rows.map(({ node, g }) =>
      h(
        'div',
        { class: 'group', 'data-group': g.name },
        h(
          'h3',
          null,
          `${g.name} on ${node.name}: `,
          h(StateBadge, { state: g.phase }),
          g.owned ? ` owned (token ${g.token})` : ' not owned',
          g.maintenance ? ' · maintenance' : '',
          g.banned ? ` · banned: ${g.banned}` : '',
        ),
        h(
          'table',
          null,
          h(
            'thead',
            null,
            h('tr', null, ...['Resource', 'Agent', 'State', 'Failures', 'Last result'].map((t) => h('th', null, t))),
          ),
          h(
            'tbody',
            null,
            ...g.resources.map((r) =>
              h(
                'tr',
                null,
                h('td', null, r.id),
                h('td', null, r.agent),
                h('td', null, h(StateBadge, { state: String(r.status) })),
                h('td', { class: 'num' }, String(r.failCount)),
                h('td', null, r.last ? JSON.stringify(r.last) : '–'),
              ),
            ),
          ),
        ),
        canAct(props.session) &&
          node.self &&
          h(
            'div',
            { class: 'actions' },
            h('button', { 'data-action': 'cleanup', onClick: () => ask(g, 'cleanup') }, 'Cleanup'),
            g.maintenance
              ? h('button', { 'data-action': 'manage', onClick: () => ask(g, 'manage') }, 'Manage')
              : h('button', { 'data-action': 'maintenance', onClick: () => ask(g, 'maintenance') }, 'Maintenance'),
          ),
      ),
    ),
  );
}

function Events(props: { events: ShownEvent[]; connected: boolean }) {
  return h(
    'section',
    { class: 'card' },
    h(
      'h2',
      null,
      'Events ',
      h('span', { class: props.connected ? 'badge ok' : 'badge s-fault' }, props.connected ? 'live' : 'reconnecting'),
    ),
    props.events.length === 0 && h('p', { class: 'muted' }, 'No events since the page was opened.'),
    h(
      'ol',
      { class: 'events', 'data-events': '' },
      ...props.events.map((e) =>
        h(
          'li',
          null,
          h('time', null, new Date(e.time).toLocaleTimeString()),
          h('strong', null, e.type),
          h('span', null, e.text),
        ),
      ),
    ),
  );
}

function Timeline(props: { nodes: NodeView[] }) {
  const [windowText, setWindowText] = useState('15m');
  const history = useHistory(windowText);
  return h(
    'section',
    { class: 'card' },
    h('h2', null, 'Failover timeline ', h(WindowPicker, { value: windowText, onChange: setWindowText })),
    h(
      'p',
      { class: 'muted' },
      `As ${history?.node ?? 'this node'} saw it: itself while master, else the master it heard.`,
    ),
    h(FailoverTimeline, { history, names: namesByAddress(props.nodes) }),
  );
}

function App() {
  const hash = useHash();
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [nodes, setNodes] = useState<NodeView[]>([]);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [events, setEvents] = useState<ShownEvent[]>([]);
  const [connected, setConnected] = useState(false);
  const selfName = useRef<string | null>(null);

  useEffect(() => {
    setUnauthorizedHandler(() => setSession(null));
    void call<{ user: string; role: Session['role']; csrf?: string }>('GET', '/api/v1/whoami').then((r) => {
      if (r.ok && r.body?.user) {
        if (r.body.csrf) setCsrf(r.body.csrf);
        setSession({ user: r.body.user, role: r.body.role });
      } else setSession(null);
    });
  }, []);

  const refresh = useCallback(async () => {
    const own = await call<DaemonStatus>('GET', '/api/v1/status');
    if (own.ok) selfName.current = own.body.node;
    const r = await call('GET', '/api/v1/cluster');
    if (r.ok) {
      setNodes(normalizeCluster(r.body, selfName.current));
      setLoadError(null);
    } else if (own.ok) {
      // No cluster route on this server: this node alone.
      setNodes([
        {
          name: own.body.node,
          address: null,
          reachable: true,
          error: null,
          status: own.body,
          self: true,
          config: null,
        },
      ]);
      setLoadError(r.status === 404 ? null : `cluster view: ${errorText(r)}`);
    } else setLoadError(errorText(own));
  }, []);

  useEffect(() => {
    if (!session) return;
    void refresh();
    const t = setInterval(refresh, 2_000);
    const es = new EventSource('/api/v1/events');
    es.onopen = () => setConnected(true);
    es.onerror = () => setConnected(false);
    const onMessage = (m: MessageEvent) => {
      let ev: Record<string, unknown> = {};
      try {
        ev = JSON.parse(String(m.data));
      } catch {
        ev = { type: m.type, text: String(m.data) };
      }
      const { type, time, ...rest } = ev;
      const shown: ShownEvent = {
        type: String(type ?? (m.type === 'message' ? 'event' : m.type)),
        time: typeof time === 'string' ? time : new Date().toISOString(),
        text: Object.entries(rest)
          .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join(' '),
      };
      setEvents((old) => [shown, ...old].slice(0, 300));
      void refresh();
    };
    es.onmessage = onMessage;
    // Servers that name their events (event: vrrp.transition) reach listeners of that name only: take them all.
    const origAdd = es.addEventListener.bind(es);
    for (const name of ['vrrp', 'transition', 'lb', 'rs', 'audit', 'group', 'config', 'order', 'health'])
      origAdd(name, onMessage as EventListener);
    return () => {
      clearInterval(t);
      es.close();
    };
  }, [session, refresh]);

  if (session === undefined) return h('p', { class: 'muted' }, 'Loading…');
  if (session === null) return h(Login, { onLogin: setSession });
  const logout = async () => {
    await call('POST', '/api/v1/logout');
    setCsrf(null);
    setSession(null);
  };
  const route = hash.replace(/^#/, '');
  let view: ComponentChild;
  if (route.startsWith('/service/'))
    view = h(ServiceView, { name: decodeURIComponent(route.slice(9)), nodes, session, refresh });
  else if (route === '/events') view = h(Events, { events, connected });
  else if (route === '/timeline') view = h(Timeline, { nodes });
  else if (route === '/config') view = h(ConfigEditor, { session, nodes, refresh });
  else if (route === '/guided') view = h(GuidedFormView, { session });
  else view = h(Dashboard, { nodes, session, refresh, error: loadError });
  const services = servicesOf(nodes);
  const link = (href: string, text: string) => h('a', { href, class: hash === href ? 'active' : '' }, text);
  return h(
    'div',
    { class: 'app' },
    h(
      'nav',
      null,
      h('strong', null, 'tandem'),
      link('#/', 'Cluster'),
      ...services.map(({ svc }) => link(`#/service/${encodeURIComponent(svc.name)}`, svc.name)),
      link('#/timeline', 'Failovers'),
      link('#/events', `Events (${events.length})`),
      link('#/config', 'Config'),
      link('#/guided', 'Guided setup'),
      h('span', { class: 'spacer' }),
      h('span', { 'data-whoami': session.role }, `${session.user} (${session.role})`),
      h('button', { onClick: logout }, 'Log out'),
    ),
    h('main', null, view),
    h(DialogHost, null),
  );
}

render(h(App, null), document.getElementById('app')!);
