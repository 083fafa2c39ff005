/**
 * The Prometheus text exposition format (version 0.0.4), rendered by a pure function from plain families. tandem's
 * values are snapshots (status DTOs from the main thread and from the load balancer's worker thread, counters the
 * event bus kept), not instruments updated in place, so a small renderer is all it needs: prom-client's model
 * (instruments registered once, `collect` hooks that reset and refill them, histograms that cannot be set from
 * already-aggregated buckets) would wrap the same data twice. docs/dependencies.md says why prom-client was dropped.
 * @see https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 */

/** The content type of the text format. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** A set of label names and values. (`instance` and `job` are Prometheus target labels: tandem never uses them.) */
export type Labels = Readonly<Record<string, string>>;

/** One sample of a gauge or a counter. */
export interface Sample {
  labels: Labels;
  value: number;
}

/** One histogram series: cumulative bucket counts by upper bound (ascending, without +Inf), sum and count. */
export interface HistogramSample {
  labels: Labels;
  /** Upper bounds, ascending. */
  bounds: readonly number[];
  /** Cumulative counts, one per bound. */
  cumulative: readonly number[];
  sum: number;
  count: number;
}

/** A metric family: a name, its help text and type, and its samples. */
export type Family =
  | { name: string; help: string; type: 'gauge' | 'counter'; samples: readonly Sample[] }
  | { name: string; help: string; type: 'histogram'; samples: readonly HistogramSample[] };

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A number as the text format writes it: integers plainly, `+Inf`, `-Inf`, `NaN`. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

/** A label value with `\`, `"` and newlines escaped. */
export function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Help text with `\` and newlines escaped. */
function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function labelText(labels: Labels, extra?: [string, string]): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  if (extra) parts.push(`${extra[0]}="${escapeLabel(extra[1])}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

/**
 * Renders families as the text format. Pure. Throws on a programming error only (a bad metric or label name, a
 * counter without `_total`, two families of one name), which the unit tests catch for every family tandem emits.
 * Families without samples are left out: a scrape then says nothing of what this node does not run.
 */
export function renderExposition(families: readonly Family[]): string {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const f of families) {
    if (!NAME.test(f.name)) throw new Error(`bad metric name ${f.name}`);
    if (f.type === 'counter' && !f.name.endsWith('_total')) throw new Error(`counter ${f.name} must end in _total`);
    if (seen.has(f.name)) throw new Error(`metric ${f.name} twice`);
    seen.add(f.name);
    if (f.samples.length === 0) continue;
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      for (const k of Object.keys(s.labels))
        if (!LABEL.test(k) || k.startsWith('__') || k === 'instance' || k === 'job') throw new Error(`bad label ${k}`);
      if (f.type !== 'histogram') {
        out.push(`${f.name}${labelText(s.labels)} ${formatValue((s as Sample).value)}`);
        continue;
      }
      const h = s as HistogramSample;
      h.bounds.forEach((b, i) => {
        out.push(`${f.name}_bucket${labelText(h.labels, ['le', formatValue(b)])} ${h.cumulative[i] ?? 0}`);
      });
      out.push(`${f.name}_bucket${labelText(h.labels, ['le', '+Inf'])} ${h.count}`);
      out.push(`${f.name}_sum${labelText(h.labels)} ${formatValue(h.sum)}`);
      out.push(`${f.name}_count${labelText(h.labels)} ${h.count}`);
    }
  }
  return out.length ? `${out.join('\n')}\n` : '';
}

/** Every metric name a family list emits, with a histogram's `_bucket`, `_sum` and `_count` (for the dashboard test). */
export function emittedNames(families: readonly Family[]): Set<string> {
  const names = new Set<string>();
  for (const f of families) {
    names.add(f.name);
    if (f.type === 'histogram') for (const x of ['_bucket', '_sum', '_count']) names.add(f.name + x);
  }
  return names;
}
