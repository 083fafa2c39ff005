/** The real Clock: monotonic milliseconds since the process started, timers on Node's event loop. */
import { performance } from 'node:perf_hooks';
import type { Clock } from '../core/time.ts';

/** A Clock on the event loop. Deadlines are monotonic (not wall time), so a clock step never fires timers early. */
export function wallClock(): Clock {
  return {
    now: () => Math.floor(performance.now()),
    at(deadline, fire) {
      const t = setTimeout(fire, Math.max(0, deadline - Math.floor(performance.now())));
      return () => clearTimeout(t);
    },
  };
}
