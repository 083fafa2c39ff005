/**
 * A unified diff of two texts (`diff -u` style, 3 lines of context), for the console's diff preview and
 * `tandem config diff`. Pure: Myers' O(ND) shortest edit script over lines, bounded by `maxEdits` (a rewrite of a
 * whole large file is reported as replaced rather than computed).
 */

type Op = { kind: ' ' | '-' | '+'; line: string };

function editScript(a: readonly string[], b: readonly string[], maxEdits: number): Op[] | undefined {
  const n = a.length;
  const m = b.length;
  const max = Math.min(n + m, maxEdits);
  const v = new Map<number, number>([[1, 0]]);
  const trace: Map<number, number>[] = [];
  for (let d = 0; d <= max; d++) {
    trace.push(new Map(v));
    for (let k = -d; k <= d; k += 2) {
      let x =
        k === -d || (k !== d && (v.get(k - 1) ?? -1) < (v.get(k + 1) ?? -1))
          ? (v.get(k + 1) ?? 0)
          : (v.get(k - 1) ?? 0) + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v.set(k, x);
      if (x >= n && y >= m) return backtrack(trace, a, b, d);
    }
  }
  return undefined;
}

function backtrack(trace: Map<number, number>[], a: readonly string[], b: readonly string[], dEnd: number): Op[] {
  const ops: Op[] = [];
  let x = a.length;
  let y = b.length;
  for (let d = dEnd; d >= 0; d--) {
    const v = trace[d]!;
    const k = x - y;
    const prevK = k === -d || (k !== d && (v.get(k - 1) ?? -1) < (v.get(k + 1) ?? -1)) ? k + 1 : k - 1;
    const prevX = v.get(prevK) ?? 0;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) ops.push({ kind: ' ', line: a[--x]! }) && y--;
    if (d > 0) {
      if (x === prevX) ops.push({ kind: '+', line: b[--y]! });
      else ops.push({ kind: '-', line: a[--x]! });
    }
  }
  return ops.reverse();
}

const lines = (t: string): string[] => {
  if (t === '') return [];
  const l = t.split('\n');
  if (l[l.length - 1] === '') l.pop();
  return l;
};

/**
 * The unified diff from `a` to `b`, '' when they are equal.
 * @example unifiedDiff('x\n', 'y\n', 'running', 'new') // '--- running\n+++ new\n@@ -1 +1 @@\n-x\n+y\n'
 */
export function unifiedDiff(a: string, b: string, nameA: string, nameB: string, context = 3, maxEdits = 4000): string {
  if (a === b) return '';
  const la = lines(a);
  const lb = lines(b);
  const ops = editScript(la, lb, maxEdits) ?? [
    ...la.map((line) => ({ kind: '-' as const, line })),
    ...lb.map((line) => ({ kind: '+' as const, line })),
  ];
  let out = `--- ${nameA}\n+++ ${nameB}\n`;
  // Positions of each op in a and b.
  const pos: { ai: number; bi: number }[] = [];
  let ai = 0;
  let bi = 0;
  for (const op of ops) {
    pos.push({ ai, bi });
    if (op.kind !== '+') ai++;
    if (op.kind !== '-') bi++;
  }
  let i = 0;
  while (i < ops.length) {
    if (ops[i]!.kind === ' ') {
      i++;
      continue;
    }
    let start = Math.max(0, i - context);
    let end = i;
    // Extend the hunk while changes are within 2×context of each other.
    for (;;) {
      while (end < ops.length && ops[end]!.kind !== ' ') end++;
      let next = end;
      while (next < ops.length && ops[next]!.kind === ' ') next++;
      if (next < ops.length && next - end <= 2 * context) end = next;
      else break;
    }
    const stop = Math.min(ops.length, end + context);
    const h = ops.slice(start, stop);
    const a0 = pos[start]!.ai;
    const b0 = pos[start]!.bi;
    const aN = h.filter((o) => o.kind !== '+').length;
    const bN = h.filter((o) => o.kind !== '-').length;
    const range = (s: number, c: number) => (c === 1 ? `${s + 1}` : `${c === 0 ? s : s + 1},${c}`);
    out += `@@ -${range(a0, aN)} +${range(b0, bN)} @@\n`;
    for (const o of h) out += `${o.kind}${o.line}\n`;
    i = stop;
    start = stop;
  }
  return out;
}
