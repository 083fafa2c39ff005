/// <reference lib="dom" />
/**
 * The config editor: the cluster's config (`GET /api/v1/config`) in a text area with line numbers, checked as you
 * type (`POST /api/v1/config/check`, debounced) with each diagnostic marked on its line; a diff against the running
 * config (`POST /api/v1/config/diff`); Apply to every node (`POST /api/v1/config/apply`, admin only, after a
 * confirmation). And the guided form, which writes the same YAML into the editor.
 */
import { h } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Diagnostic } from '../../api/contract.ts';
import { defaultForm, type GuidedForm, guidedYaml } from '../guided.ts';
import { call, errorText } from './api.ts';
import type { NodeView } from './cluster-view.ts';
import { confirmAction } from './dialog.ts';
import type { Session } from './main.ts';

/** Text the guided form handed to the editor (survives the route change). */
let pending: string | null = null;

interface Current {
  version: number;
  hash: string;
  text: string;
  format: string;
}

/** The diagnostics a reply carries, wherever it put them. */
function diagnosticsOf(body: unknown): Diagnostic[] {
  const b = body as { diagnostics?: unknown; refusal?: { diagnostics?: unknown } } | null;
  const list = Array.isArray(body)
    ? body
    : Array.isArray(b?.diagnostics)
      ? b!.diagnostics
      : Array.isArray(b?.refusal?.diagnostics)
        ? b!.refusal!.diagnostics
        : [];
  return (list as Diagnostic[]).filter((d) => d && typeof d.line === 'number');
}

function DiffView(props: { body: unknown }) {
  const b = props.body as { unified?: unknown; diff?: unknown; text?: unknown; summary?: unknown } | string;
  const text =
    typeof b === 'string'
      ? b
      : typeof b?.unified === 'string'
        ? b.unified
        : typeof b?.diff === 'string'
          ? b.diff
          : JSON.stringify(b, null, 2);
  const summary = typeof b === 'object' && b?.summary ? JSON.stringify(b.summary, null, 1) : null;
  return h(
    'div',
    null,
    h(
      'pre',
      { class: 'diff', 'data-diff': '' },
      ...(text || '(no change)')
        .split('\n')
        .map((l) =>
          h(
            'div',
            { class: l.startsWith('+') ? 'add' : l.startsWith('-') ? 'del' : l.startsWith('@') ? 'hunk' : '' },
            l || ' ',
          ),
        ),
    ),
    summary &&
      h('details', null, h('summary', null, 'What a reload would change'), h('pre', { class: 'yaml' }, summary)),
  );
}

/** One node's config version, from `GET /api/v1/config/status`. */
interface NodeVersion {
  node: string;
  reachable: boolean;
  version?: number;
  hash?: string;
  error?: string;
}

export function ConfigEditor(props: { session: Session; nodes: NodeView[]; refresh: () => void }) {
  const [current, setCurrent] = useState<Current | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [text, setText] = useState('');
  const [diags, setDiags] = useState<Diagnostic[]>([]);
  const [checking, setChecking] = useState(false);
  const [checkError, setCheckError] = useState<string | null>(null);
  const [diff, setDiff] = useState<unknown>(null);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const area = useRef<HTMLTextAreaElement>(null);
  const gutter = useRef<HTMLDivElement>(null);
  const seq = useRef(0);

  const [versions, setVersions] = useState<{ nodes: NodeVersion[]; divergent: boolean } | null>(null);
  const loadVersions = async () => {
    const r = await call<{ nodes: NodeVersion[]; divergent: boolean }>('GET', '/api/v1/config/status');
    if (r.ok && Array.isArray(r.body?.nodes)) setVersions(r.body);
  };
  const load = async () => {
    void loadVersions();
    const r = await call<Current>('GET', '/api/v1/config');
    if (!r.ok) {
      setLoadError(r.status === 404 ? 'This server has no cluster config route (GET /api/v1/config).' : errorText(r));
      return;
    }
    setCurrent(r.body);
    setLoadError(null);
    if (pending !== null) {
      setText(pending);
      pending = null;
    } else setText(r.body.text);
  };
  useEffect(() => {
    void load();
  }, []);

  // Check as you type: 400 ms after the last key, and only the newest answer counts.
  useEffect(() => {
    if (!current && !text) return;
    const mine = ++seq.current;
    const t = setTimeout(async () => {
      setChecking(true);
      const r = await call('POST', '/api/v1/config/check', { text, format: current?.format ?? 'yaml' });
      if (mine !== seq.current) return;
      setChecking(false);
      if (r.ok || r.status === 422 || r.status === 409 || r.status === 400) {
        const d = diagnosticsOf(r.body);
        setDiags(d);
        setCheckError(!r.ok && d.length === 0 ? errorText(r) : null);
      } else setCheckError(errorText(r));
    }, 400);
    return () => clearTimeout(t);
  }, [text, current]);

  const errors = diags.filter((d) => d.severity === 'error');
  const lines = text.split('\n');
  const byLine = new Map<number, Diagnostic[]>();
  for (const d of diags) byLine.set(d.line, [...(byLine.get(d.line) ?? []), d]);
  const goTo = (d: Diagnostic) => {
    const el = area.current;
    if (!el) return;
    let pos = 0;
    for (let i = 1; i < d.line; i++) pos += (lines[i - 1]?.length ?? 0) + 1;
    pos += Math.max(0, d.col - 1);
    el.focus();
    el.setSelectionRange(pos, pos);
  };
  const preview = async () => {
    const r = await call('POST', '/api/v1/config/diff', { text, format: current?.format ?? 'yaml' });
    setDiff(r.ok ? r.body : { diff: `(diff refused) ${errorText(r)}` });
  };
  const apply = () =>
    confirmAction({
      title: 'Apply to every node',
      text: `Apply this config to every node of the cluster (based on version ${current?.version ?? 0}). Each node checks it against its own host first; any refusal aborts everywhere.`,
      danger: true,
      confirmLabel: 'Apply',
      run: async () => {
        const r = await call<Record<string, unknown>>(
          'POST',
          '/api/v1/config/apply',
          { text, format: current?.format ?? 'yaml', expected: current?.version ?? 0 },
          120_000,
        );
        if (r.ok) {
          const v = (r.body?.version as { version?: number } | number | undefined) ?? undefined;
          setResult({ ok: true, text: `Applied: version ${typeof v === 'number' ? v : (v?.version ?? '?')}.` });
          await load();
          props.refresh();
          return null;
        }
        const d = diagnosticsOf(r.body);
        if (d.length) setDiags(d);
        const node = (r.body as { node?: string } | null)?.node;
        setResult({ ok: false, text: `Apply refused${node ? ` by ${node}` : ''}: ${errorText(r)}` });
        return null;
      },
    });
  const isAdmin = props.session.role === 'admin';
  return h(
    'div',
    null,
    h(
      'section',
      { class: 'card' },
      h('h2', null, 'Cluster config'),
      loadError && h('p', { class: 'error' }, loadError),
      current &&
        h(
          'p',
          { class: 'muted', 'data-config-version': current.version },
          `Version ${current.version} · ${current.hash} · ${current.format}`,
        ),
      versions &&
        h(
          'p',
          { class: versions.divergent ? 'error' : 'muted', 'data-node-versions': '' },
          versions.divergent ? 'Nodes DIVERGE: ' : 'Nodes: ',
          ...versions.nodes.map((n) =>
            h(
              'span',
              { class: 'nodever', 'data-node-version': n.node, 'data-version': n.version ?? '' },
              n.reachable ? `${n.node} v${n.version} ${n.hash?.slice(0, 15) ?? ''}` : `${n.node} unreachable`,
            ),
          ),
        ),
      h(
        'div',
        { class: 'editor' },
        h(
          'div',
          { class: 'gutter', ref: gutter, 'aria-hidden': 'true' },
          ...lines.map((_, i) => {
            const ds = byLine.get(i + 1);
            const sev = ds?.some((d) => d.severity === 'error') ? 'err' : ds ? 'warn' : '';
            return h(
              'div',
              { class: sev, 'data-line': i + 1, title: ds?.map((d) => `${d.code}: ${d.message}`).join('\n') },
              String(i + 1),
            );
          }),
        ),
        h('textarea', {
          ref: area,
          name: 'config',
          spellcheck: false,
          wrap: 'off',
          value: text,
          'aria-label': 'config text',
          onInput: (e: Event) => {
            setText((e.target as HTMLTextAreaElement).value);
            setResult(null);
          },
          onScroll: (e: Event) => {
            if (gutter.current) gutter.current.scrollTop = (e.target as HTMLTextAreaElement).scrollTop;
          },
        }),
      ),
      h(
        'p',
        {
          class: errors.length ? 'error' : 'ok',
          'data-check': errors.length ? 'errors' : checking ? 'checking' : 'clean',
        },
        checking
          ? 'Checking…'
          : checkError
            ? `Check failed: ${checkError}`
            : errors.length
              ? `${errors.length} error(s)`
              : diags.length
                ? `${diags.length} warning(s)`
                : 'No problems found.',
      ),
      diags.length > 0 &&
        h(
          'ul',
          { class: 'diags', 'data-diagnostics': '' },
          ...diags.map((d) =>
            h(
              'li',
              { class: d.severity, 'data-diag-line': d.line },
              h(
                'a',
                {
                  href: '#/config',
                  onClick: (e: Event) => {
                    e.preventDefault();
                    goTo(d);
                  },
                },
                `${d.line}:${d.col}`,
              ),
              ` ${d.severity} ${d.code} ${d.path}: ${d.message}`,
            ),
          ),
        ),
      h(
        'div',
        { class: 'actions' },
        h('button', { 'data-action': 'diff', onClick: preview }, 'Preview diff'),
        isAdmin &&
          h(
            'button',
            { 'data-action': 'apply', class: 'primary', disabled: errors.length > 0 || checking, onClick: apply },
            'Apply',
          ),
        current && text !== current.text && h('button', { onClick: () => setText(current.text) }, 'Revert'),
      ),
      result &&
        h(
          'p',
          { class: result.ok ? 'ok' : 'error', role: 'status', 'data-apply-result': result.ok ? 'ok' : 'refused' },
          result.text,
        ),
    ),
    diff !== null &&
      h('section', { class: 'card' }, h('h2', null, 'Diff against the running config'), h(DiffView, { body: diff })),
  );
}

function Field(props: { label: string; value: string; onInput: (v: string) => void; name: string }) {
  return h(
    'label',
    null,
    props.label,
    h('input', {
      name: props.name,
      value: props.value,
      onInput: (e: Event) => props.onInput((e.target as HTMLInputElement).value),
    }),
  );
}

function Select(props: {
  label: string;
  value: string;
  options: string[];
  onInput: (v: string) => void;
  name: string;
}) {
  return h(
    'label',
    null,
    props.label,
    h(
      'select',
      {
        name: props.name,
        value: props.value,
        onChange: (e: Event) => props.onInput((e.target as HTMLSelectElement).value),
      },
      ...props.options.map((o) => h('option', { value: o }, o)),
    ),
  );
}

export function GuidedFormView(props: { session: Session }) {
  const [f, setF] = useState<GuidedForm>(defaultForm);
  const set = (patch: (g: GuidedForm) => void) => {
    const g = structuredClone(f);
    patch(g);
    setF(g);
  };
  const yaml = guidedYaml(f);
  const router = (which: 'primary' | 'backup', title: string) =>
    h(
      'fieldset',
      null,
      h('legend', null, title),
      h(Field, {
        name: `${which}.name`,
        label: 'Node name',
        value: f[which].name,
        onInput: (v) =>
          set((g) => {
            g[which].name = v;
          }),
      }),
      h(Field, {
        name: `${which}.address`,
        label: 'Address',
        value: f[which].address,
        onInput: (v) =>
          set((g) => {
            g[which].address = v;
          }),
      }),
      h(Field, {
        name: `${which}.priority`,
        label: 'Priority',
        value: f[which].priority,
        onInput: (v) =>
          set((g) => {
            g[which].priority = v;
          }),
      }),
    );
  return h(
    'div',
    { class: 'guided' },
    h(
      'section',
      { class: 'card' },
      h('h2', null, '1. Global settings'),
      h(Field, {
        name: 'clusterName',
        label: 'Cluster name',
        value: f.clusterName,
        onInput: (v) =>
          set((g) => {
            g.clusterName = v;
          }),
      }),
      h(Field, {
        name: 'interface',
        label: 'Interface',
        value: f.interface,
        onInput: (v) =>
          set((g) => {
            g.interface = v;
          }),
      }),
      h(Field, {
        name: 'vrid',
        label: 'Virtual router id',
        value: f.vrid,
        onInput: (v) =>
          set((g) => {
            g.vrid = v;
          }),
      }),
      h(Field, {
        name: 'vip',
        label: 'Virtual IP',
        value: f.vip,
        onInput: (v) =>
          set((g) => {
            g.vip = v;
          }),
      }),
      h(Field, {
        name: 'prefix',
        label: 'Prefix length',
        value: f.prefix,
        onInput: (v) =>
          set((g) => {
            g.prefix = v;
          }),
      }),
      h(Field, {
        name: 'advertInterval',
        label: 'Advert interval',
        value: f.advertInterval,
        onInput: (v) =>
          set((g) => {
            g.advertInterval = v;
          }),
      }),
    ),
    h(
      'section',
      { class: 'card' },
      h('h2', null, '2. Routers'),
      router('primary', 'Primary router'),
      router('backup', 'Backup router'),
    ),
    h(
      'section',
      { class: 'card' },
      h('h2', null, '3. Virtual server'),
      h(Field, {
        name: 'service.name',
        label: 'Name',
        value: f.service.name,
        onInput: (v) =>
          set((g) => {
            g.service.name = v;
          }),
      }),
      h(Field, {
        name: 'service.port',
        label: 'Port',
        value: f.service.port,
        onInput: (v) =>
          set((g) => {
            g.service.port = v;
          }),
      }),
      h(Select, {
        name: 'service.protocol',
        label: 'Protocol',
        value: f.service.protocol,
        options: ['tcp', 'udp'],
        onInput: (v) =>
          set((g) => {
            g.service.protocol = v;
          }),
      }),
      h(Select, {
        name: 'service.scheduler',
        label: 'Scheduler',
        value: f.service.scheduler,
        options: ['rr', 'wrr', 'lc', 'wlc', 'sh', 'mh'],
        onInput: (v) =>
          set((g) => {
            g.service.scheduler = v;
          }),
      }),
      h(Select, {
        name: 'service.dataplane',
        label: 'Data plane',
        value: f.service.dataplane,
        options: ['nft', 'proxy'],
        onInput: (v) =>
          set((g) => {
            g.service.dataplane = v;
          }),
      }),
      h(Select, {
        name: 'service.check',
        label: 'Health check',
        value: f.service.check,
        options: ['tcp', 'http'],
        onInput: (v) =>
          set((g) => {
            g.service.check = v;
          }),
      }),
    ),
    h(
      'section',
      { class: 'card' },
      h('h2', null, '4. Real servers'),
      ...f.realServers.map((r, i) =>
        h(
          'div',
          { class: 'row' },
          h(Field, {
            name: `rs${i}.address`,
            label: 'Address',
            value: r.address,
            onInput: (v) =>
              set((g) => {
                g.realServers[i]!.address = v;
              }),
          }),
          h(Field, {
            name: `rs${i}.port`,
            label: 'Port',
            value: r.port,
            onInput: (v) =>
              set((g) => {
                g.realServers[i]!.port = v;
              }),
          }),
          h(Field, {
            name: `rs${i}.weight`,
            label: 'Weight',
            value: r.weight,
            onInput: (v) =>
              set((g) => {
                g.realServers[i]!.weight = v;
              }),
          }),
          h('button', { onClick: () => set((g) => void g.realServers.splice(i, 1)) }, 'Remove'),
        ),
      ),
      h(
        'button',
        { onClick: () => set((g) => void g.realServers.push({ address: '', port: '', weight: '1' })) },
        'Add a real server',
      ),
    ),
    h(
      'section',
      { class: 'card' },
      h('h2', null, '5. The config it writes'),
      h('pre', { class: 'yaml', 'data-guided-yaml': '' }, yaml),
      h(
        'button',
        {
          class: 'primary',
          onClick: () => {
            pending = yaml;
            location.hash = '#/config';
          },
        },
        props.session.role === 'admin' ? 'Open in the editor (check, diff, apply)' : 'Open in the editor (check, diff)',
      ),
    ),
  );
}
