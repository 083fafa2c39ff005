/**
 * `tandem release`: for a node whose daemon and supervisor are both gone (SIGKILL of the whole unit, OOM): every
 * instance whose VIPs are still on this host is treated as having been MASTER — it gets a priority-0 advert and its
 * VIPs are removed. Meant for systemd's ExecStopPost; harmless when nothing is left.
 */
import { formatDiagnostic } from '../config/diagnostics.ts';
import { type LogFormat, lineLogger } from './log.ts';
import { loadPlan } from './run.ts';
import type { InstanceSnapshot } from './supervisor.ts';

/** Runs `tandem release`; resolves with the exit status. */
export async function releaseCommand(opts: {
  config: string;
  node?: string;
  logFormat: LogFormat;
  configId?: string;
}): Promise<number> {
  const log = lineLogger({ format: opts.logFormat, write: (l) => process.stderr.write(l) });
  const loaded = loadPlan(opts.config, opts.node, log, opts.configId);
  if ('errors' in loaded) {
    for (const e of loaded.errors) log.log('error', formatDiagnostic(e));
    return 1;
  }
  const { releaseHeld, primaryAddress, heldAddresses } = await import('./real-deps.ts');
  const vips = new Set(loaded.plan.instances.flatMap((i) => i.vips.map((v) => v.addr)));
  const held: InstanceSnapshot[] = [];
  for (const cfg of loaded.plan.instances) {
    const present = await heldAddresses(cfg);
    if (present.length === 0) continue;
    const src = cfg.unicastSrc ?? cfg.mcastSrc ?? primaryAddress(cfg.interface, cfg.family, vips) ?? '';
    held.push({ cfg, src, state: 'MASTER' });
  }
  if (loaded.plan.lb?.services.some((s) => s.dataplane === 'nft')) {
    // The kernel data plane of a dead daemon would keep NATing for a VIP that another node now serves.
    const { createNftRunner } = await import('../os/nft.ts');
    if (
      await createNftRunner()
        .deleteTable('tandem')
        .catch(() => false)
    )
      log.log('info', 'release: removed the nft table tandem left by the daemon');
  }
  if (held.length === 0) {
    log.log('info', 'release: no VIP of this node is on its interfaces; nothing to do');
    return 0;
  }
  await releaseHeld(held, log);
  return 0;
}
