/**
 * The real adapters the daemon runs with (Rule 4: only daemon/ chooses real or fake): raw VRRP sockets, `ip` for
 * addresses, AF_PACKET gratuitous ARP, the link monitor, track scripts and files, notify scripts. Also what the
 * supervisor uses to release a dead daemon's VIPs.
 */
import { setMaxListeners } from 'node:events';
import { watchPing } from '../health/ping-watch.ts';
import type { NodeDeps, NotifyPort, TrackerSources } from '../node/ports.ts';
import { AddressVipEffects, NetlinkAddressAdapter, primaryAddress } from '../os/addresses.ts';
import { wallClock } from '../os/clock.ts';
import { connectEtcd, type EtcdClient } from '../os/etcd.ts';
import { runFence } from '../os/fence.ts';
import { garpEffects } from '../os/garp.ts';
import { IcmpPinger } from '../os/icmp.ts';
import { readKeyFile } from '../os/key-file.ts';
import { LinkMonitor } from '../os/link-monitor.ts';
import { Notifier } from '../os/notify.ts';
import { PeerChannelServer, peerQuery } from '../os/peer-channel.ts';
import { IpRouteAdapter, RoutedVipEffects } from '../os/routes.ts';
import { ensureStatic } from '../os/static.ts';
import { tcpProbe } from '../os/tcp-probe.ts';
import { TrackFileWatcher } from '../os/track-file.ts';
import { resolveUser } from '../os/users.ts';
import { IpVmacAdapter, type Vmac } from '../os/vmac.ts';
import { VrrpSocket } from '../os/vrrp-socket.ts';
import { VRRP_GROUP, VrrpTransports } from '../os/vrrp-transport.ts';
import type { NotifySpec, StaticPlan } from '../plan/node-plan.ts';
import { AdvertAuth } from '../vrrp/advert-hmac.ts';
import { encodeVrrp } from '../vrrp/codec.ts';
import { advertFor, RELEASE_PRIORITY } from '../vrrp/machine.ts';
import type { InstanceConfig } from '../vrrp/types.ts';
import type { Logger } from './log.ts';
import { ScriptWorker } from './script-worker.ts';
import type { InstanceSnapshot } from './supervisor.ts';

export { primaryAddress };

/** Builds the daemon's real dependencies; `close` stops watchers and closes sockets. */
export function realDeps(
  log: Logger,
  vipsOfNode: ReadonlySet<string> = new Set(),
): NodeDeps & { close(): void; staticSetup(plan: StaticPlan): Promise<void> } {
  const abort = new AbortController();
  // Every watcher listens on this one signal; hundreds of tracked objects are normal, not a leak.
  setMaxListeners(0, abort.signal);
  const scripts = new ScriptWorker((e) => log.log('error', `track script worker failed (restarting): ${e.message}`));
  const transports = new VrrpTransports();
  transports.onError((e) =>
    log.log('warn', `VRRP ${e.op} error on ${e.ifname}${e.instance ? ` (${e.instance})` : ''}: ${e.error.message}`, {
      event: 'transport-error',
      ifname: e.ifname,
      op: e.op,
    }),
  );
  const addresses = new NetlinkAddressAdapter();
  // etcd issue: the etcd clients of the node's elector (one per plan that asks), closed with the rest.
  const etcdClients: EtcdClient[] = [];
  // keepalived use_vmac: created when its instance starts (its socket binds to it), deleted when the daemon stops.
  const vmacs = new IpVmacAdapter();
  const created = new Map<string, Vmac>();
  const routes = new IpRouteAdapter({ signal: abort.signal });
  // One ICMP socket per family, opened on first use, for the guard and the ping targets alike.
  let pinger: IcmpPinger | undefined;
  const icmp = (): IcmpPinger => {
    pinger ??= new IcmpPinger();
    return pinger;
  };
  /** A key file's bytes; undefined (logged) when it cannot be read now, which fails closed. */
  const keyOf = (path: string): Uint8Array | undefined => {
    const k = readKeyFile(path);
    if (k.ok) return k.key;
    log.log('error', `TND_CFG_KEY ${k.reason}`);
    return undefined;
  };
  const trackers: TrackerSources = {
    interfaces(names, onChange) {
      const ctl = childAbort(abort.signal);
      const mon = new LinkMonitor({
        interfaces: names,
        signal: ctl.signal,
        report: (r) => {
          if (r.kind === 'monitor-exited')
            log.log('warn', `link monitor exited (${r.code ?? r.signal}); restarting in ${r.restartInMs} ms`);
        },
      });
      mon.onChange(onChange);
      mon
        .start()
        .then(() => {
          for (const n of names) onChange(n, mon.isUp(n));
        })
        .catch((e: unknown) => log.log('error', `link monitor failed to start: ${String(e)}`));
      return () => ctl.abort();
    },
    script(name, spec, onChange) {
      // Scripts run in a worker thread: their process starts must not delay adverts on this thread (Rule 10).
      if (spec.init_fail) onChange(false);
      // keepalived's `user`: resolved here; a user that does not exist fails the script rather than run it as root.
      const who = spec.user ? resolveUser(spec.user) : undefined;
      if (who && !who.ok) {
        log.log('error', `VRRP_Script(${name}) cannot run as user ${spec.user}: ${who.reason}; it counts as failed`);
        onChange(false);
        return () => {};
      }
      return scripts.start(
        name,
        {
          command: spec.command,
          intervalMs: spec.interval,
          ...(spec.timeout !== undefined ? { timeoutMs: spec.timeout } : {}),
          rise: spec.rise,
          fall: spec.fall,
          initFail: spec.init_fail,
          ...(who?.ok ? { uid: who.uid, gid: who.gid } : {}),
        },
        (v) => {
          if (!v.up) log.log('debug', `VRRP_Script(${name}) ${v.outcome} (code ${v.code}) ${v.stderr.trim()}`);
          onChange(v.up);
        },
      );
    },
    file(_name, spec, onChange) {
      const ctl = childAbort(abort.signal);
      const w = new TrackFileWatcher({ path: spec.path, signal: ctl.signal, onChange });
      w.start()
        .then(onChange)
        .catch(() => onChange(0));
      return () => ctl.abort();
    },
    ping(_name, spec, onChange) {
      const ctl = childAbort(abort.signal);
      watchPing(
        { targets: spec.targets, intervalMs: spec.interval, timeoutMs: spec.timeout, rise: spec.rise, fall: spec.fall },
        icmp(),
        (up) => onChange(up),
        ctl.signal,
      );
      return () => ctl.abort();
    },
  };
  const notifiers = new Map<string, Notifier>();
  const notify: NotifyPort = {
    notify(kind, name, spec, state, priority) {
      const key = `${kind}/${name}`;
      let n = notifiers.get(key);
      if (!n) {
        n = new Notifier({
          scripts: notifyScripts(spec),
          signal: abort.signal,
          report: (r) => {
            if (r.kind === 'dropped') log.log('warn', `notify for ${name} dropped: ${r.pending} pending`);
            else if (r.result.outcome !== 'ok')
              log.log('warn', `notify ${r.argv.join(' ')}: ${r.result.outcome} (code ${r.result.code})`);
          },
        });
        notifiers.set(key, n);
      }
      n.notify({ subject: kind, name, state, priority });
    },
  };
  return {
    clock: wallClock(),
    etcd: (p) => {
      const c = connectEtcd({
        endpoints: p.endpoints,
        requestTimeoutMs: p.requestTimeoutMs,
        ...(p.tls ? { tls: p.tls } : {}),
      });
      etcdClients.push(c);
      return c;
    },
    log,
    transport: (cfg, src) => {
      let tcfg = cfg;
      if (cfg.vmac) {
        const v: Vmac = { name: cfg.vmac.name, base: cfg.interface, mac: cfg.vmac.mac };
        if (vmacs.ensurePresentSync(v)) created.set(v.name, v);
        log.log('info', `(${cfg.name}) virtual MAC ${v.mac} on ${v.name} over ${v.base}`);
        // Adverts leave from the vmac (source MAC = the virtual MAC), or from the base with vmac_xmit_base.
        if (!cfg.vmac.xmitBase) tcfg = { ...cfg, interface: cfg.vmac.name };
      }
      if (!cfg.hmac) return transports.forInstance(tcfg, src);
      const key = keyOf(cfg.hmac.keyFile);
      // Without its key an instance neither signs nor accepts a signed advert: it fails closed, never open.
      const auth = new AdvertAuth({ ...cfg, hmac: cfg.hmac }, key ? [{ id: cfg.hmac.keyId, key }] : [], Date.now);
      return transports.forInstance(tcfg, src, { auth });
    },
    guardProbes: {
      peer: (channel, addr, instance, timeoutMs, done) => {
        const clusterKey = keyOf(channel.keyFile);
        if (!clusterKey) return done({ outcome: 'error', detail: `the cluster key ${channel.keyFile} cannot be read` });
        void peerQuery({ node: channel.node, clusterKey, port: channel.port }, addr, instance, timeoutMs).then(done);
      },
      icmp: (addr, timeoutMs, done) => void icmp().echo(addr, { timeoutMs, signal: abort.signal }).then(done),
      tcp: (addr, port, timeoutMs, done) => void tcpProbe(addr, port, timeoutMs, abort.signal).then(done),
    },
    fence: {
      run: (req, done) =>
        void runFence({
          agent: req.spec.agent,
          action: req.spec.action,
          params: req.params,
          timeoutMs: req.timeoutMs,
          signal: abort.signal,
        }).then(done),
    },
    peerServer: (channel, answer) => {
      let server: PeerChannelServer | undefined;
      let stopped = false;
      const clusterKey = keyOf(channel.keyFile);
      const rejects = new Map<string, number>();
      if (clusterKey)
        PeerChannelServer.listen({
          node: channel.node,
          clusterKey,
          port: channel.port,
          windowMs: channel.windowMs,
          answer,
          onReject: (src, reason) => {
            // One line per sender and reason per minute: a flood must not flood the log.
            const k = `${src}/${reason}`;
            const now = Date.now();
            if ((rejects.get(k) ?? 0) > now - 60_000) return;
            rejects.set(k, now);
            log.log('warn', `peer channel: dropped a datagram from ${src}: ${reason}`, {
              event: 'peer-reject',
              src,
              reason,
            });
          },
        })
          .then((s) => {
            if (stopped) s.close();
            else server = s;
            log.log('info', `peer channel: answering on UDP port ${channel.port}`);
          })
          .catch((e: unknown) => log.log('error', (e as Error).message, { event: 'peer-channel' }));
      return {
        stop: () => {
          stopped = true;
          server?.close();
        },
        stats: () => {
          const st = server?.stats();
          return { answered: st?.answered ?? 0, rejected: { ...(st?.rejected ?? {}) } as Record<string, number> };
        },
      };
    },
    interfaceDrops: () =>
      transports.stats().map((t) => ({ ifname: t.ifname, family: t.family, received: t.rx, drops: t.drops })),
    vips: (dev, cfg) => {
      const own = new AddressVipEffects(addresses, cfg?.vmac?.name ?? dev);
      if (!cfg?.virtualRoutes?.length) return own;
      return new RoutedVipEffects(own, routes, cfg.virtualRoutes, (op, r, e) =>
        log.log('error', `(${cfg.name}) could not ${op} ${r.kind} ${r.args.join(' ')}: ${String(e)}`),
      );
    },
    garp: (dev, cfg) =>
      garpEffects(cfg?.vmac?.name ?? dev, {
        ...(cfg?.garp.intervalMs ? { intervalMs: cfg.garp.intervalMs } : {}),
        ...(cfg?.garp.naIntervalMs ? { naIntervalMs: cfg.garp.naIntervalMs } : {}),
      }),
    staticSetup: (plan) => ensureStatic(plan, { addresses, routes }, log),
    primaryAddress: (ifname, family) => primaryAddress(ifname, family, vipsOfNode),
    trackers,
    notify,
    close() {
      for (const c of etcdClients.splice(0)) c.close();
      abort.abort();
      void scripts.close();
      transports.close();
      for (const v of created.values()) vmacs.ensureAbsentSync(v);
      pinger?.close();
    },
  };
}

function notifyScripts(spec: NotifySpec): {
  master?: string;
  backup?: string;
  fault?: string;
  stop?: string;
  any?: string;
} {
  return Object.fromEntries(Object.entries(spec).filter(([, v]) => typeof v === 'string' && v.length > 0));
}

function childAbort(parent: AbortSignal): AbortController {
  const c = new AbortController();
  if (parent.aborted) c.abort();
  else parent.addEventListener('abort', () => c.abort(), { once: true });
  return c;
}

/**
 * Releases what a dead daemon held: each instance it reported MASTER gets a priority-0 advert (RFC 5798 §6.4.3: its
 * backups take over after Skew_Time), and every VIP of every instance is removed, so no address stays behind on a
 * host that no longer runs VRRP.
 */
export async function releaseHeld(held: readonly InstanceSnapshot[], log: Logger): Promise<void> {
  const sockets = new Map<string, VrrpSocket>();
  try {
    for (const h of held) {
      if (h.state !== 'MASTER' || !h.src) continue;
      const key = `${h.cfg.interface}/${h.cfg.family}`;
      try {
        let sock = sockets.get(key);
        if (!sock) {
          sock = VrrpSocket.open({ ifname: h.cfg.interface, family: h.cfg.family });
          sockets.set(key, sock);
        }
        const packet = advertFor(h.cfg, RELEASE_PRIORITY);
        const targets = h.cfg.unicastPeers.length ? h.cfg.unicastPeers : [VRRP_GROUP[h.cfg.family]];
        // With auth_hmac the release is signed too, or the backups would drop it and wait Master_Down_Interval.
        const hmacKey = h.cfg.hmac ? readKeyFile(h.cfg.hmac.keyFile) : undefined;
        const auth =
          h.cfg.hmac && hmacKey?.ok
            ? new AdvertAuth({ ...h.cfg, hmac: h.cfg.hmac }, [{ id: h.cfg.hmac.keyId, key: hmacKey.key }], Date.now)
            : undefined;
        for (const dst of targets) {
          const bytes = encodeVrrp(packet, { src: h.src, dst, v3Checksum: h.cfg.v3Checksum });
          sock.send(auth ? auth.seal(bytes, h.src) : bytes, { dst, src: h.src });
        }
        log.log('info', `(${h.cfg.name}) released for the dead daemon: sent priority 0`);
      } catch (e) {
        log.log('error', `(${h.cfg.name}) could not send priority 0: ${String(e)}`);
      }
    }
  } finally {
    for (const s of sockets.values()) s.close();
  }
  const addresses = new NetlinkAddressAdapter();
  for (const h of held) {
    for (const v of h.cfg.vips) {
      try {
        if (await addresses.ensureAbsent({ addr: v.addr, prefix: v.prefix, dev: v.dev ?? h.cfg.interface }))
          log.log('info', `(${h.cfg.name}) released for the dead daemon: removed ${v.addr}/${v.prefix}`);
      } catch (e) {
        log.log('error', `(${h.cfg.name}) could not remove ${v.addr}: ${String(e)}`);
      }
    }
  }
}

/** The VIPs of an instance that are on this host now. */
export async function heldAddresses(cfg: InstanceConfig): Promise<string[]> {
  const adapter = new NetlinkAddressAdapter();
  const out: string[] = [];
  for (const dev of new Set(cfg.vips.map((v) => v.dev ?? cfg.interface))) {
    const on = new Set((await adapter.list(dev)).map((a) => a.addr));
    for (const v of cfg.vips) if ((v.dev ?? cfg.interface) === dev && on.has(v.addr)) out.push(v.addr);
  }
  return out;
}
