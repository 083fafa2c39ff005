/**
 * A helper process for the netns tests: it runs inside a lab host's namespace (raw sockets bind to the namespace's
 * eth0, never the host's) and is driven over stdin / stdout with one JSON object per line.
 *
 * Commands (each answered with `{ id, ok: true, … }` or `{ id, ok: false, error, code }`):
 * - `{ op: 'open', family, ifname? }` opens a raw VrrpSocket on eth0 (or `ifname`); every datagram is printed as
 *   `{ ev: 'msg', … }`.
 * - `{ op: 'send', family, hex, dst, src? }` sends raw bytes on that socket.
 * - `{ op: 'instance', cfg, src }` puts an instance on the InterfaceTransport of eth0; what it receives is printed
 *   as `{ ev: 'rx', rx }`.
 * - `{ op: 'advert', name, packet, to? }` sends an advert through that instance's transport.
 * - `{ op: 'announce', vips, repeat }` gratuitous ARP / unsolicited NA on eth0.
 * - `{ op: 'stats' }` the transports' counters. `{ op: 'exit' }` closes everything and exits.
 */
import { createInterface } from 'node:readline';
import { announce } from '../../src/os/garp.ts';
import { VrrpSocket } from '../../src/os/vrrp-socket.ts';
import { type InstanceTransport, VrrpTransports } from '../../src/os/vrrp-transport.ts';
import type { AddressFamily, InstanceConfig, VipConfig, VrrpPacket } from '../../src/vrrp/types.ts';

const IFNAME = 'eth0';
const sockets = new Map<AddressFamily, VrrpSocket>();
const transports = new VrrpTransports();
const instances = new Map<string, InstanceTransport>();

const print = (o: unknown): void => {
  process.stdout.write(`${JSON.stringify(o)}\n`);
};
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

type Command =
  | { op: 'open'; family: AddressFamily; ifname?: string }
  | { op: 'send'; family: AddressFamily; hex: string; dst: string; src?: string }
  | { op: 'instance'; cfg: InstanceConfig; src: string }
  | { op: 'advert'; name: string; packet: VrrpPacket; to?: string }
  | { op: 'announce'; vips: VipConfig[]; repeat: number }
  | { op: 'stats' }
  | { op: 'exit' };

async function handle(cmd: Command): Promise<Record<string, unknown>> {
  switch (cmd.op) {
    case 'open': {
      const s = VrrpSocket.open({ ifname: cmd.ifname ?? IFNAME, family: cmd.family });
      sockets.set(cmd.family, s);
      s.onMessage((m) => print({ ev: 'msg', ...m, data: hex(m.data) }));
      return { ifindex: s.ifindex };
    }
    case 'send': {
      const s = sockets.get(cmd.family);
      if (!s) throw new Error(`no IPv${cmd.family} socket open`);
      s.send(Buffer.from(cmd.hex, 'hex'), cmd.src === undefined ? { dst: cmd.dst } : { dst: cmd.dst, src: cmd.src });
      return {};
    }
    case 'instance': {
      const t = transports.forInstance(cmd.cfg, cmd.src);
      t.onReceive((rx) => print({ ev: 'rx', instance: cmd.cfg.name, rx }));
      instances.set(cmd.cfg.name, t);
      return {};
    }
    case 'advert': {
      const t = instances.get(cmd.name);
      if (!t) throw new Error(`no instance ${cmd.name}`);
      t.send(cmd.packet, cmd.to);
      return {};
    }
    case 'announce':
      return { ...(await announce(IFNAME, cmd.vips, cmd.repeat)) };
    case 'stats':
      return { stats: transports.stats() };
    case 'exit':
      for (const s of sockets.values()) s.close();
      transports.close();
      setImmediate(() => process.exit(0));
      return {};
  }
}

transports.onError((e) => print({ ev: 'error', op: e.op, instance: e.instance, error: e.error.message }));
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const { id, ...cmd } = JSON.parse(line) as Command & { id: number };
  handle(cmd as Command).then(
    (r) => print({ id, ok: true, ...r }),
    (e: Error & { code?: string }) => print({ id, ok: false, error: e.message, code: e.code }),
  );
});
// The test closes stdin when it is done (or dies): leave with it.
lines.on('close', () => process.exit(0));
print({ ev: 'ready' });
