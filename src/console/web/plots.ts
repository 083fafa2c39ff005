/// <reference lib="dom" />
/**
 * The console's plots, drawn by uPlot from `GET /api/v1/history`: per real server of a service its active and
 * inactive connections, its connection rate (new inactive connections per second, the closed ones) and its check
 * latency; and the failover timeline, who held each instance's VIPs when, as a stepped line over the node names.
 */
import { h } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { HistoryReply } from '../history.ts';

const COLORS = ['#2f6fdf', '#e0572b', '#2a9d54', '#9b4dca', '#c49000', '#0f8b8d', '#b23a48', '#555'];

/** One uPlot chart that follows its data. */
function Chart(props: {
  scales?: uPlot.Scales;
  title: string;
  data: uPlot.AlignedData;
  series: uPlot.Series[];
  axes?: uPlot.Axis[];
  id: string;
}) {
  const el = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = props.series.map((s) => s.label).join('|');
  useEffect(() => {
    if (!el.current) return;
    const width = Math.max(320, el.current.clientWidth || 640);
    const opts: uPlot.Options = {
      title: props.title,
      width,
      height: 200,
      series: [{}, ...props.series],
      axes: props.axes ?? [{}, {}],
      scales: props.scales ?? { x: { time: true } },
    };
    plot.current = new uPlot(opts, props.data, el.current);
    return () => {
      plot.current?.destroy();
      plot.current = null;
    };
  }, [shape, props.title]);
  useEffect(() => {
    plot.current?.setData(props.data);
  }, [props.data]);
  return h('div', { class: 'chart', ref: el, 'data-plot': props.id });
}

/** The per-server plots of one service. */
export function ServicePlots(props: { history: HistoryReply | null; service: string }) {
  const hist = props.history;
  if (!hist) return h('p', { class: 'muted' }, 'Loading history…');
  const samples = hist.samples.filter((s) => s.services.some((x) => x.name === props.service));
  if (samples.length === 0) return h('p', { class: 'muted' }, 'No samples of this service yet on this node.');
  const keys: string[] = [];
  for (const s of samples)
    for (const r of s.services.find((x) => x.name === props.service)!.servers)
      if (!keys.includes(r.key)) keys.push(r.key);
  const xs = samples.map((s) => s.t / 1000);
  const col = (pick: (r: HistoryReply['samples'][number]['services'][number]['servers'][number]) => number | null) =>
    keys.map((k) =>
      samples.map((s) => {
        const r = s.services.find((x) => x.name === props.service)!.servers.find((y) => y.key === k);
        return r ? pick(r) : null;
      }),
    );
  const active = col((r) => r.active);
  const inactive = col((r) => r.inactive);
  const latency = col((r) => r.latencyMs);
  // Connection rate: the growth of the inactive (closed, in TIME_WAIT) count per second; a close-per-request
  // client's request rate. Negative steps (entries expiring) count as 0.
  const rate = inactive.map((ys) =>
    ys.map((y, i) => {
      const prev = ys[i - 1];
      if (i === 0 || y === null || prev === null || prev === undefined) return null;
      const dt = xs[i]! - xs[i - 1]!;
      return dt > 0 ? Math.max(0, Math.round(((y - prev) / dt) * 10) / 10) : null;
    }),
  );
  const series = (unit: string) =>
    keys.map((k, i) => ({
      label: k,
      stroke: COLORS[i % COLORS.length],
      width: 2,
      value: (_u: uPlot, v: number | null) => (v === null ? '–' : `${v}${unit}`),
    }));
  return h(
    'div',
    { class: 'plots' },
    h(Chart, {
      id: 'active',
      title: 'Active connections per real server',
      data: [xs, ...active] as uPlot.AlignedData,
      series: series(''),
    }),
    h(Chart, {
      id: 'rate',
      title: 'Connection rate per real server (closed connections / s)',
      data: [xs, ...rate] as uPlot.AlignedData,
      series: series('/s'),
    }),
    h(Chart, {
      id: 'inactive',
      title: 'Inactive connections per real server',
      data: [xs, ...inactive] as uPlot.AlignedData,
      series: series(''),
    }),
    h(Chart, {
      id: 'latency',
      title: 'Check latency per real server (ms)',
      data: [xs, ...latency] as uPlot.AlignedData,
      series: series(' ms'),
    }),
  );
}

/** Who held each instance's VIPs over the window, as this node saw it. */
export function FailoverTimeline(props: { history: HistoryReply | null; names?: Record<string, string> }) {
  const name = (holder: string) => (props.names?.[holder] ? `${props.names[holder]} (${holder})` : holder);
  const hist = props.history;
  if (!hist) return null;
  const now = hist.now;
  const from = now - hist.windowMs;
  return h(
    'div',
    { class: 'plots' },
    ...hist.ownership.map((track) => {
      const holders = [...new Set(track.spans.map((s) => name(s.holder)))];
      const xs: number[] = [];
      const ys: (number | null)[] = [];
      for (const s of track.spans) {
        xs.push(Math.max(s.from, from) / 1000);
        ys.push(holders.indexOf(name(s.holder)));
      }
      xs.push(now / 1000);
      ys.push(ys.at(-1) ?? null);
      const axes: uPlot.Axis[] = [
        {},
        {
          size: 150,
          splits: () => holders.map((_, i) => i),
          values: (_u, splits) => splits.map((v) => holders[v] ?? ''),
        },
      ];
      return h(
        'div',
        { key: track.instance, class: 'timeline' },
        h(Chart, {
          id: `owner-${track.instance}`,
          title: `${track.instance} (${track.vips.join(', ')}): who held the VIPs`,
          data: [xs, ys] as uPlot.AlignedData,
          series: [
            {
              label: 'holder',
              stroke: '#2f6fdf',
              width: 3,
              paths: uPlot.paths.stepped!({ align: 1 }),
              value: (_u: uPlot, v: number | null) => (v === null ? '–' : (holders[v] ?? '')),
            },
          ],
          axes,
          scales: { x: { time: true }, y: { range: [-0.5, Math.max(holders.length - 0.5, 0.5)] } },
        }),
        h(
          'ol',
          { class: 'spans' },
          ...track.spans.map((s) =>
            h(
              'li',
              null,
              `${new Date(s.from).toLocaleTimeString()}–${s.to ? new Date(s.to).toLocaleTimeString() : 'now'}: ${name(s.holder)}`,
            ),
          ),
        ),
      );
    }),
  );
}
