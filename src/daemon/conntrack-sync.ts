/**
 * The daemon's part for `lb.conntrack_sync`: runs conntrackd (os/conntrackd.ts) and steers it by the elector: this
 * node's ownership of the configured owner makes it the primary (master), anything else the backup. The elector is
 * the only source (Rule 12); the wiring in run.ts is one lifecycle part.
 */
import { basename, dirname, join } from 'node:path';
import type { Logger } from '../core/log.ts';
import { type Elector, ownerKey } from '../election/elector.ts';
import { Conntrackd } from '../os/conntrackd.ts';
import type { ConntrackSyncPlan } from '../plan/conntrack-sync.ts';

/** conntrackd's directory for a daemon with this control socket: beside it, one per daemon. */
export function conntrackdDir(controlPath: string): string {
  return join(dirname(controlPath), `conntrackd-${basename(controlPath).replace(/\.sock$/, '')}`);
}

/** A lifecycle part that runs conntrackd while the daemon runs. */
export function conntrackSyncPart(
  plan: ConntrackSyncPlan,
  elector: Elector,
  controlPath: string,
  log: Logger,
): { name: string; start: () => Promise<void>; stop: () => Promise<void> } {
  const ctd = new Conntrackd({
    settings: {
      interface: plan.interface,
      address: plan.address,
      peer: plan.peer,
      port: plan.port,
      ignore: plan.ignore,
    },
    dir: conntrackdDir(controlPath),
    binary: plan.binary,
    log: (level, line) => log.log(level, line, { event: 'conntrackd' }),
  });
  const key = ownerKey(plan.owner);
  let unsubscribe: (() => void) | null = null;
  const steer = (owned: boolean | undefined): void => {
    void ctd.setRole(owned ? 'master' : 'backup');
  };
  return {
    name: 'conntrackd',
    start: async () => {
      try {
        await ctd.start();
      } catch (e) {
        // The load balancer works without it; only connections would not survive a failover. Say so, go on.
        log.log('error', `${(e as Error).message}; NAT connections will not survive a failover`, {
          event: 'conntrackd',
        });
        return;
      }
      log.log(
        'info',
        `conntrackd started (pid ${ctd.pid}): syncing with ${plan.peer} on ${plan.interface}, primary while ${key} is owned here`,
      );
      steer(elector.ownership(plan.owner)?.owned);
      unsubscribe = elector.onChange((o) => {
        if (o.key === key) steer(o.owned);
      });
    },
    stop: async () => {
      unsubscribe?.();
      await ctd.stop();
    },
  };
}
