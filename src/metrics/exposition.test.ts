import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeLabel, formatValue, renderExposition } from './exposition.ts';

test('a gauge and a counter render with HELP, TYPE and escaped label values', () => {
  const text = renderExposition([
    { name: 'x_state', type: 'gauge', help: 'a\\b\nc', samples: [{ labels: { name: 'a"b\\c\nd' }, value: 1 }] },
    { name: 'x_runs_total', type: 'counter', help: 'runs', samples: [{ labels: {}, value: 42 }] },
  ]);
  assert.equal(
    text,
    [
      '# HELP x_state a\\\\b\\nc',
      '# TYPE x_state gauge',
      'x_state{name="a\\"b\\\\c\\nd"} 1',
      '# HELP x_runs_total runs',
      '# TYPE x_runs_total counter',
      'x_runs_total 42',
      '',
    ].join('\n'),
  );
});

test('a histogram renders cumulative buckets, +Inf equal to count, sum and count', () => {
  const text = renderExposition([
    {
      name: 'x_duration_seconds',
      type: 'histogram',
      help: 'd',
      samples: [{ labels: { svc: 'a' }, bounds: [0.005, 0.1], cumulative: [1, 3], sum: 0.25, count: 4 }],
    },
  ]);
  assert.deepEqual(text.trimEnd().split('\n').slice(2), [
    'x_duration_seconds_bucket{svc="a",le="0.005"} 1',
    'x_duration_seconds_bucket{svc="a",le="0.1"} 3',
    'x_duration_seconds_bucket{svc="a",le="+Inf"} 4',
    'x_duration_seconds_sum{svc="a"} 0.25',
    'x_duration_seconds_count{svc="a"} 4',
  ]);
});

test('families without samples are left out; an empty scrape is empty', () => {
  assert.equal(renderExposition([{ name: 'x', type: 'gauge', help: 'h', samples: [] }]), '');
});

test('programming errors are refused: a counter without _total, a bad name or label, a family twice', () => {
  assert.throws(() => renderExposition([{ name: 'x_runs', type: 'counter', help: 'h', samples: [] }]), /_total/);
  assert.throws(() => renderExposition([{ name: 'x-y', type: 'gauge', help: 'h', samples: [] }]), /bad metric name/);
  assert.throws(
    () => renderExposition([{ name: 'x', type: 'gauge', help: 'h', samples: [{ labels: { 'a-b': '1' }, value: 1 }] }]),
    /bad label/,
  );
  const f = { name: 'x', type: 'gauge', help: 'h', samples: [] } as const;
  assert.throws(() => renderExposition([f, f]), /twice/);
});

test('special values: +Inf, -Inf, NaN; label escaping of backslash first', () => {
  assert.equal(formatValue(Number.POSITIVE_INFINITY), '+Inf');
  assert.equal(formatValue(Number.NEGATIVE_INFINITY), '-Inf');
  assert.equal(formatValue(Number.NaN), 'NaN');
  assert.equal(formatValue(0.5), '0.5');
  assert.equal(escapeLabel('\\"'), '\\\\\\"');
});

test('instance and job are Prometheus target labels: never exposed (Prometheus would rename them exported_*)', () => {
  for (const k of ['instance', 'job'])
    assert.throws(
      () => renderExposition([{ name: 'x', type: 'gauge', help: 'h', samples: [{ labels: { [k]: 'a' }, value: 1 }] }]),
      /bad label/,
    );
});
