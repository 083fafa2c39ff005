/**
 * The console's sampler: reads this node's status every few seconds (and at once when an event says something
 * changed) into a bounded History, and serves `GET /api/v1/history?window=15m` to any authenticated user. The
 * sampler runs while the API listener does and stops when it closes.
 */
import type { FastifyInstance } from 'fastify';
import type { ApiContext, ApiEvent, ApiPlugin } from '../api/http-plugin.ts';
import { History, parseWindow } from './history.ts';

/** How the sampler runs. */
export interface HistoryOptions {
  /** Between two samples. @default 2000 */
  intervalMs?: number;
  /** How much is kept. @default 3_600_000 (1 h) */
  retentionMs?: number;
  /** The clock (epoch ms). @default Date.now */
  now?: () => number;
}

/** Events after which the sampler reads the status at once (VRRP transitions, real-server changes, orders). */
const PROMPT = /transition|state|master|backup|standby|takeover|rs|server|health|group|reload|config/i;

/** A sampler plugin with its own options (tests use a short interval). */
export function createHistoryPlugin(opts: HistoryOptions = {}): ApiPlugin {
  const intervalMs = opts.intervalMs ?? 2_000;
  const now = opts.now ?? Date.now;
  return async (app: FastifyInstance, ctx: ApiContext) => {
    const history = new History(opts.retentionMs ?? 3_600_000, intervalMs);
    let busy = false;
    let stopped = false;
    const take = async (sample: boolean): Promise<void> => {
      if (busy || stopped) return;
      busy = true;
      try {
        history.record(await ctx.status(), now(), { sample });
      } catch {
        // the node is reloading or shutting down: the next tick tries again
      } finally {
        busy = false;
      }
    };
    const timer = setInterval(() => void take(true), intervalMs);
    timer.unref();
    const unsubscribe = ctx.onEvent((e: ApiEvent) => {
      if (e.type === 'audit') history.recordAudit(e, now());
      if (PROMPT.test(e.type)) void take(false);
    });
    void take(true);
    app.addHook('onClose', async () => {
      stopped = true;
      clearInterval(timer);
      unsubscribe();
    });

    app.get('/api/v1/history', async (req, reply) => {
      const who = await ctx.require(req, reply, 'viewer');
      if (!who) return reply;
      const q = (req.query ?? {}) as Record<string, string | undefined>;
      const windowMs = q.window === undefined ? 15 * 60_000 : parseWindow(q.window);
      if (windowMs === null)
        return reply
          .code(400)
          .send({ code: 'TND_CTL_BAD_REQUEST', message: `window must be like 90s, 15m or 1h, got ${q.window}` });
      return history.window(windowMs, now());
    });
  };
}

/** The sampler with its defaults: a sample every 2 s, 1 h kept. */
export const historyPlugin: ApiPlugin = createHistoryPlugin();
