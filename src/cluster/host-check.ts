/**
 * What `tandem check` cannot know and a node can: does this host have what the config names for it? Its interfaces,
 * its own addresses (unicast and multicast sources, the node's address), the commands of vrrp_scripts and script
 * resources, OCF agents and LSB scripts. Pure: the host's facts come in as data (os/host-facts.ts reads them), and
 * every finding is a diagnostic at its place in the user's file, like the config checks.
 */
import type { ConfigPath, Diagnostic, Locator } from '../config/diagnostics.ts';
import type { TandemConfig } from '../config/schema.ts';
import type { ErrorCode } from '../core/errors.ts';

/** The facts of one host a config is checked against. */
export interface HostFacts {
  /** Interface names (`ip link`). */
  interfaces: ReadonlySet<string>;
  /** Addresses on any interface, without prefix length. */
  addresses: ReadonlySet<string>;
  /** Whether a file exists and is executable (commands, agents, init scripts). */
  executable(path: string): boolean;
  /** The PATH a bare command name is looked up in. */
  path: readonly string[];
}

/** Where OCF agents live unless OCF_ROOT says otherwise (resources/agents/ocf.ts). */
export const OCF_ROOT = '/usr/lib/ocf';
/** Where a bare LSB script name is looked up (resources/agents/lsb.ts). */
export const LSB_DIRS: readonly string[] = ['/etc/ha.d/resource.d', '/etc/init.d'];

const forNode = <T>(v: T | Record<string, T> | undefined, node: string): T | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, T>)[node] : (v as T | undefined);

const firstWord = (command: string): string => command.trim().split(/\s+/)[0] ?? '';

/** Whether `command`'s program exists here: an absolute path, or a name on the PATH. */
function commandExists(command: string, facts: HostFacts): boolean {
  const prog = firstWord(command);
  if (!prog) return false;
  if (prog.includes('/')) return facts.executable(prog);
  return facts.path.some((d) => facts.executable(`${d.replace(/\/$/, '')}/${prog}`));
}

/** Checks `cfg` against the host facts of `node`; diagnostics are located in the user's file by `locator`. */
export function hostDiagnostics(cfg: TandemConfig, node: string, facts: HostFacts, locator: Locator): Diagnostic[] {
  const out: Diagnostic[] = [];
  const report = (code: ErrorCode, path: ConfigPath, message: string): void => {
    const { pos, label } = locator.locate(path);
    out.push({ ...pos, severity: 'error', code, path: label, message: `on ${node}: ${message}` });
  };
  const iface = (name: string, path: ConfigPath) => {
    if (!facts.interfaces.has(name))
      report(
        'TND_HOST_INTERFACE',
        path,
        `no interface ${name} on this host (it has ${[...facts.interfaces].sort().join(', ') || 'none'})`,
      );
  };
  const own = (addr: string | undefined, path: ConfigPath, what: string) => {
    if (addr === undefined) return;
    const bare = addr.replace(/\/\d+$/, '');
    if (!facts.addresses.has(bare)) report('TND_HOST_ADDRESS', path, `${what} ${bare} is not an address of this host`);
  };

  const me = cfg.cluster.nodes.findIndex((n) => n.name === node);
  if (me >= 0) own(cfg.cluster.nodes[me]!.address, ['cluster', 'nodes', me, 'address'], 'the node address');

  cfg.vrrp.instances.forEach((inst, i) => {
    const at = (...p: (string | number)[]): ConfigPath => ['vrrp', 'instances', i, ...p];
    iface(inst.interface, at('interface'));
    own(forNode(inst.unicast?.source, node), at('unicast', 'source'), 'the unicast source');
    own(forNode(inst.mcast_source, node), at('mcast_source'), 'the multicast source');
    inst.track.interfaces.forEach((t, ti) => {
      iface(t.name, at('track', 'interfaces', ti, 'name'));
    });
    inst.paths.forEach((p, pi) => {
      iface(p.interface, at('paths', pi, 'interface'));
      own(forNode(p.unicast?.source, node), at('paths', pi, 'unicast', 'source'), 'the unicast source');
    });
  });
  for (const [name, s] of Object.entries(cfg.vrrp.scripts))
    if (!commandExists(s.command, facts))
      report(
        'TND_HOST_AGENT',
        ['vrrp', 'scripts', name, 'command'],
        `vrrp_script ${name}: ${firstWord(s.command)} is not an executable here`,
      );
  cfg.vrrp.static.addresses.forEach((a, i) => {
    iface(a.dev, ['vrrp', 'static', 'addresses', i, 'dev']);
  });
  cfg.lb.services.forEach((s, i) => {
    const dev = (s as { interface?: string }).interface;
    if (dev) iface(dev, ['lb', 'services', i, 'interface']);
  });
  const sync = cfg.lb.conntrack_sync;
  if (sync) {
    iface(sync.interface, ['lb', 'conntrack_sync', 'interface']);
    own(sync.addresses[node], ['lb', 'conntrack_sync', 'addresses', node], 'the conntrack sync address');
  }
  cfg.groups.forEach((g, gi) => {
    g.resources.forEach((r, ri) => {
      const at = (...p: (string | number)[]): ConfigPath => ['groups', gi, 'resources', ri, ...p];
      switch (r.type) {
        case 'ocf': {
          const [provider, type] = r.agent.split(':');
          const file = `${OCF_ROOT}/resource.d/${provider}/${type}`;
          if (!facts.executable(file)) report('TND_HOST_AGENT', at('agent'), `no OCF agent ${file} on this host`);
          break;
        }
        case 'lsb': {
          const found = r.script.includes('/')
            ? facts.executable(r.script)
            : LSB_DIRS.some((d) => facts.executable(`${d}/${r.script}`));
          if (!found) report('TND_HOST_AGENT', at('script'), `no init script ${r.script} on this host`);
          break;
        }
        case 'script':
          for (const action of ['start', 'stop', 'monitor'] as const) {
            const c = r[action];
            if (c !== undefined && !commandExists(c, facts))
              report('TND_HOST_AGENT', at(action), `${firstWord(c)} is not an executable here`);
          }
          break;
        case 'vip':
          if (r.interface) iface(r.interface, at('interface'));
          break;
        case 'fs': {
          const file = `${OCF_ROOT}/resource.d/heartbeat/Filesystem`;
          if (!facts.executable(file)) report('TND_HOST_AGENT', at('type'), `fs needs the OCF agent ${file}`);
          break;
        }
      }
    });
  });
  return out;
}
