/** Spread of active connections per server, from samples of each server's open connections (bench/lb-lc). */
export interface Spread {
  /** Mean over samples of (max − min) across servers. */
  meanRange: number;
  /** Mean over samples of (max − min) / mean across servers (0 = perfectly even). */
  meanRelative: number;
  /** Mean open connections per server over the samples. */
  meanOpen: number[];
  samples: number;
}

/** `samples[i][s]`: open connections of server s at sample i. */
export function spreadOf(samples: readonly (readonly number[])[]): Spread {
  const rows = samples.filter((r) => r.length > 0);
  if (rows.length === 0) return { meanRange: 0, meanRelative: 0, meanOpen: [], samples: 0 };
  let range = 0;
  let rel = 0;
  const width = rows[0]!.length;
  const sums = new Array<number>(width).fill(0);
  for (const r of rows) {
    const max = Math.max(...r);
    const min = Math.min(...r);
    const mean = r.reduce((a, b) => a + b, 0) / r.length;
    range += max - min;
    rel += mean > 0 ? (max - min) / mean : 0;
    r.forEach((v, i) => {
      sums[i]! += v;
    });
  }
  return {
    meanRange: range / rows.length,
    meanRelative: rel / rows.length,
    meanOpen: sums.map((s) => s / rows.length),
    samples: rows.length,
  };
}
