/** `tandem metrics`: the running daemon's Prometheus metrics (the text `GET /metrics` serves), over the control socket. */

import { controlPath, getDaemonText } from '../api/client.ts';
import type { CliIo } from './io.ts';

/** Prints the metrics; returns the exit code (0 ok, 1 the daemon refused, 3 no daemon). */
export async function runMetrics(opts: { control?: string }, io: CliIo): Promise<number> {
  const r = await getDaemonText(controlPath(opts.control), '/v1/metrics');
  if (!r.ok) {
    io.err(`tandem metrics: TND_CTL_NO_DAEMON ${r.message}`);
    return 3;
  }
  if (r.status !== 200) {
    io.err(`tandem metrics: the daemon answered ${r.status}: ${r.text.slice(0, 500)}`);
    return 1;
  }
  io.out(r.text.replace(/\n$/, ''));
  return 0;
}
