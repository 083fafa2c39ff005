/**
 * What the user-space proxy counts for metrics (issue 12): per service and real server, requests (http: by status
 * class; tcp: connections, ok or error) and bytes; per service, a latency histogram (http: time to the response head;
 * tcp: the session's length). Recorded on the proxy's path in the load balancer's worker thread with a few map
 * lookups and additions per request (never per chunk: an exchange sums its bytes and reports once when it ends);
 * `snapshot()` copies it out with the status (lb/status.ts ProxyStats), and metrics/ renders it.
 */
import type { ProxyStats } from '../../lb/status.ts';

/** Upper bounds of the latency histogram, ms: 1 ms … 5 min (HTTP heads and TCP sessions alike). */
export const LATENCY_BOUNDS_MS: readonly number[] = [
  1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 300_000,
];

/** How a request ended: an HTTP status (its class is counted), `aborted` (the client left first), or tcp's outcome. */
export type ProxyOutcome = number | 'aborted' | 'ok' | 'error';

interface Row {
  requests: Record<string, number>;
  bytesIn: number;
  bytesOut: number;
}

interface Histogram {
  counts: number[];
  sumMs: number;
  count: number;
}

const classOf = (o: ProxyOutcome): string => (typeof o === 'number' ? `${Math.floor(o / 100)}xx` : o);

/** One data plane's counters. */
export class ProxyStatsRecorder {
  readonly #rows = new Map<string, Map<string, Row>>();
  readonly #latency = new Map<string, Histogram>();

  #row(service: string, server: string): Row {
    let bySrv = this.#rows.get(service);
    if (!bySrv) {
      bySrv = new Map();
      this.#rows.set(service, bySrv);
    }
    let row = bySrv.get(server);
    if (!row) {
      row = { requests: {}, bytesIn: 0, bytesOut: 0 };
      bySrv.set(server, row);
    }
    return row;
  }

  /**
   * A request (or tcp connection) ended. `server`: the real server it went to last (`none` when none was chosen);
   * `durationMs` null leaves the histogram alone (a request that got no response).
   */
  request(
    service: string,
    server: string,
    outcome: ProxyOutcome,
    durationMs: number | null,
    bytesIn = 0,
    bytesOut = 0,
  ): void {
    const row = this.#row(service, server);
    const cls = classOf(outcome);
    row.requests[cls] = (row.requests[cls] ?? 0) + 1;
    row.bytesIn += bytesIn;
    row.bytesOut += bytesOut;
    if (durationMs === null) return;
    let h = this.#latency.get(service);
    if (!h) {
      h = { counts: LATENCY_BOUNDS_MS.map(() => 0), sumMs: 0, count: 0 };
      this.#latency.set(service, h);
    }
    h.count++;
    h.sumMs += durationMs;
    const i = LATENCY_BOUNDS_MS.findIndex((b) => durationMs <= b);
    if (i >= 0) h.counts[i]!++;
  }

  /** Bytes of an exchange whose request was counted already (an HTTP request body still streaming, tcp halves). */
  bytes(service: string, server: string, bytesIn: number, bytesOut: number): void {
    if (bytesIn === 0 && bytesOut === 0) return;
    const row = this.#row(service, server);
    row.bytesIn += bytesIn;
    row.bytesOut += bytesOut;
  }

  /** A copy, with cumulative buckets. */
  snapshot(): ProxyStats {
    const servers: ProxyStats['servers'] = [];
    for (const [service, bySrv] of this.#rows)
      for (const [server, r] of bySrv)
        servers.push({ service, server, requests: { ...r.requests }, bytesIn: r.bytesIn, bytesOut: r.bytesOut });
    const durations: ProxyStats['durations'] = [];
    for (const [service, h] of this.#latency) {
      let acc = 0;
      durations.push({
        service,
        boundsMs: [...LATENCY_BOUNDS_MS],
        cumulative: h.counts.map((c) => {
          acc += c;
          return acc;
        }),
        sumMs: h.sumMs,
        count: h.count,
      });
    }
    return { servers, durations };
  }
}
