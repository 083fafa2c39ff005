/**
 * The partition suite's implementations (tandem, keepalived) and modes (plain VRRP, guard, guard + ping targets):
 * the one place where director configs are generated. A mode that the build cannot run says why (`tandem check`
 * rejects its keys before the split-brain defences are merged), so its cells are skipped with that reason rather than
 * failing. The etcd issue adds its modes (and a third director, etcd members as extra hosts) to {@link MODES}.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Lab } from './lab.ts';
import { etcdModes } from './partition-etcd.ts';
import type {
  ConfigContext,
  Director,
  DirectorConfig,
  Implementation,
  Mode,
  StartContext,
  SuiteParams,
  Topology,
} from './partition-types.ts';
import { eventually, KEEPALIVED, startKeepalived, startTandem, TANDEM } from './tandem-lab.ts';

/** The VIP every mode serves. */
export const VIP = '198.18.0.100';
/** The ping target of the guard + ping targets mode (a gateway-like host that only answers ICMP). */
export const PING_TARGET = '198.18.0.1';

/** The lab of a mode: directors at 198.18.0.11…, the client at .50, the mode's extra hosts. */
export function topology(mode: Mode): Topology {
  const directors = mode.directors ?? ['d1', 'd2'];
  const addrs: Record<string, string> = { client: '198.18.0.50', ...mode.extraHosts };
  directors.forEach((d, i) => {
    addrs[d] = `198.18.0.${11 + i}`;
  });
  return { directors, addrs, vip: VIP };
}

/** The preferred master has 150, the others 100, 90, …: the backups' Master_Down_Interval is that of 100. */
export function priorityOf(topo: Topology, host: string): number {
  const i = topo.directors.indexOf(host);
  return i === 0 ? 150 : 110 - 10 * i;
}

const lastMatch = (lines: readonly string[], re: RegExp) => {
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = re.exec(lines[i]!);
    if (m) return m;
  }
  return null;
};

/** tandem: `tandem run` under its supervisor; the election runs in the supervisor's child (the daemon). */
const tandem: Implementation = {
  name: 'tandem',
  unavailable: () =>
    existsSync(new URL('../../dist/tandem.js', import.meta.url)) ? null : 'dist/ is not built (npm run build)',
  async start(lab: Lab, host: string, config: DirectorConfig, ctx: StartContext): Promise<Director> {
    const t = await startTandem(lab, host, config.text, { dir: ctx.dir, ext: config.ext, env: ctx.env });
    const daemonPid = async () => {
      await t.out.waitFor(/Supervisor: started daemon pid \d+/);
      return Number(lastMatch(t.out.lines, /Supervisor: started daemon pid (\d+)/)![1]);
    };
    return {
      host,
      electionPid: daemonPid,
      // ip netns exec and env exec the command: the spawned PID is the supervisor's.
      allPids: async () => [t.child.pid!, await daemonPid()],
      // Without VRRP (election: etcd) the director is master when it owns a group.
      isMaster: async () => {
        const s = await t.status();
        return s.instances[0] ? s.instances[0].state === 'MASTER' : (s.ownership ?? []).some((o) => o.owned);
      },
      log: () => t.out.text(),
    };
  },
};

/** keepalived (Debian's 2.2.7), VRRP only: a parent that respawns its VRRP child, which runs the election. */
const keepalived: Implementation = {
  name: 'keepalived',
  unavailable: () => (existsSync(KEEPALIVED) ? null : `no ${KEEPALIVED} (apt-get install keepalived)`),
  async start(lab: Lab, host: string, config: DirectorConfig, ctx: StartContext): Promise<Director> {
    if (config.ext !== 'conf') throw new Error(`keepalived runs keepalived.conf, not ${config.ext}`);
    const k = await startKeepalived(lab, host, config.text, ctx.dir, { env: ctx.env });
    const pidFile = (which: 'k' | 'v') => join(ctx.dir, `${host}-${which}.pid`);
    const pid = (which: 'k' | 'v') =>
      eventually(
        `keepalived ${which} pid in ${host}`,
        () => Number(readFileSync(pidFile(which), 'utf8')),
        (p) => p > 0,
      );
    return {
      host,
      electionPid: () => pid('v'),
      allPids: async () => [await pid('k'), await pid('v')],
      isMaster: async () => {
        const master = k.out.lines.findLastIndex((l) => /\(VI_1\) Entering MASTER STATE/.test(l));
        const other = k.out.lines.findLastIndex((l) => /\(VI_1\) Entering (BACKUP|FAULT) STATE/.test(l));
        return master > other;
      },
      log: () => k.out.text(),
    };
  },
};

/** Every implementation. */
export const IMPLEMENTATIONS: readonly Implementation[] = [keepalived, tandem];

/** One keepalived.conf per director, read as-is by both keepalived and tandem (which gives it plain VRRP). */
function keepalivedConf(host: string, ctx: ConfigContext): string {
  return `global_defs {
    router_id ${host}
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    version 3
    priority ${priorityOf(ctx.topo, host)}
    advert_int ${ctx.params.advertMs / 1000}
    virtual_ipaddress {
        ${ctx.topo.vip}/24
    }
}
`;
}

/** The cluster key the guarded modes' peer channel uses: 32 random bytes as hex, mode 0600, in the run's directory. */
function clusterKey(dir: string): string {
  const file = join(dir, 't14s-cluster.key');
  if (!existsSync(file)) {
    writeFileSync(file, `hex:${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  }
  return file;
}

/**
 * tandem's YAML for the guarded modes (docs/split-brain.md of the split-brain work): the cluster's nodes with
 * their addresses and a cluster key (the peer channel), the guard with the service port as `peer_probe` (ICMP is on
 * by default), and for `ping` a ping target with weight 0: a director that cannot reach it cannot be master.
 */
function guardedYaml(ctx: ConfigContext, opts: { ping: boolean }): string {
  const { topo, params } = ctx;
  const nodes = topo.directors.map((d) => `{ name: ${d}, address: ${topo.addrs[d]} }`).join(', ');
  const prio = topo.directors.map((d) => `${d}: ${priorityOf(topo, d)}`).join(', ');
  const pings = opts.ping
    ? `  track_pings:\n    gw: { targets: [${PING_TARGET}], interval: 100ms, timeout: 200ms, fall: 3, rise: 2, weight: 0 }\n`
    : '';
  return `cluster:
  key_file: ${clusterKey(ctx.dir)}
  nodes: [${nodes}]
vrrp:
${pings}  instances:
    - name: VI_1
      interface: eth0
      vrid: 51
      version: 3
      priority: { ${prio} }
      advert_interval: ${params.advertMs}ms
      vips: [${topo.vip}/24]
      guard: { enabled: true, peer_probe: [80] }
${opts.ping ? '      track: { pings: [{ name: gw }] }\n' : ''}`;
}

/** Why `tandem check` rejects a mode's config (the first diagnostic), or null when it accepts it. Cached per mode. */
const checked = new Map<string, string | null>();
function tandemRejects(mode: string, ctx: Omit<ConfigContext, 'dir'>, gen: (c: ConfigContext) => string) {
  if (checked.has(mode)) return checked.get(mode)!;
  const dir = mkdtempSync(join(tmpdir(), 't14s-check-'));
  try {
    const file = join(dir, `${mode}.yaml`);
    writeFileSync(file, gen({ ...ctx, dir }));
    const r = spawnSync(process.execPath, [TANDEM, 'check', file], { encoding: 'utf8', timeout: 30_000 });
    const why =
      r.status === 0
        ? null
        : `tandem check rejects the ${mode} config on this build (${
            `${r.stdout}${r.stderr}`.split('\n').find((l) => / error /.test(l)) ?? `exit ${r.status}`
          }`.replace(file, `${mode}.yaml`) + ')';
    checked.set(mode, why);
    return why;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function guarded(name: string, describe: string, ping: boolean): Mode {
  const gen = (c: ConfigContext) => guardedYaml(c, { ping });
  return {
    name,
    describe,
    implementations: ['tandem'],
    extraHosts: ping ? { gw: PING_TARGET } : {},
    config: (_impl, _host, ctx) => ({ text: gen(ctx), ext: 'yaml' }),
    unavailable: (impl, ctx) => (impl === 'tandem' ? tandemRejects(name, ctx, gen) : `${name} is tandem only`),
  };
}

/** Every mode, in table order. The etcd issue adds its modes here. */
export const MODES: readonly Mode[] = [
  {
    name: 'plain',
    describe: 'plain VRRP, keepalived-compatible: the same keepalived.conf for both (v3, no guard)',
    implementations: ['keepalived', 'tandem'],
    extraHosts: {},
    config: (_impl, host, ctx) => ({ text: keepalivedConf(host, ctx), ext: 'conf' }),
    unavailable: () => null,
  },
  guarded('guard', 'tandem YAML: takeover guard (peer channel, ICMP, peer_probe port 80)', false),
  guarded('guard+ping', `the guard and a ping target ${PING_TARGET} (weight 0: unreachable = cannot be master)`, true),
  // etcd issue: election: etcd (three directors) and vrrp+etcd (the pair with etcd as witness), partition-etcd.ts.
  ...etcdModes(tandemRejects, (c, h) => priorityOf(c.topo, h)),
];

/** The mode named `name`. */
export function mode(name: string): Mode {
  const m = MODES.find((x) => x.name === name);
  if (!m) throw new Error(`no mode ${name} (have: ${MODES.map((x) => x.name).join(', ')})`);
  return m;
}

/** The implementation named `name`. */
export function implementation(name: string): Implementation {
  const i = IMPLEMENTATIONS.find((x) => x.name === name);
  if (!i) throw new Error(`no implementation ${name} (have: ${IMPLEMENTATIONS.map((x) => x.name).join(', ')})`);
  return i;
}

/** The default timing: v3 at 100 ms adverts (Master_Down_Interval 360 ms for the backup). */
export const DEFAULT_PARAMS: SuiteParams = { advertMs: 100, faultMs: 5_000, settleMs: 2_500 };
