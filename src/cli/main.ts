/** The `tandem` command line. Each command lives in its own file; this one only wires them to commander. */
import { hostname } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import { printable } from '../core/text.ts';
import type { CliIo } from './io.ts';

// Only commander and the command table load at start (`tandem --help` stays within ~1.5× a bare `node`); each command
// imports its module when it runs (bench/startup measures it).
const diskFs = async () => (await import('../config/load-files.ts')).diskFs;

// Names and values from config files and from the daemon reach the terminal: their control characters are shown as
// escapes (lines stay lines).
const safe = (l: string): string => l.split('\n').map(printable).join('\n');
const io: CliIo = {
  out: (l) => process.stdout.write(`${safe(l)}\n`),
  err: (l) => process.stderr.write(`${safe(l)}\n`),
};

// `tandem status | head`: the reader went away. That ends the output, not with a stack trace.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });

const int = (v: string): number => {
  if (!/^-?\d+$/.test(v)) throw new InvalidArgumentError('must be a whole number');
  return Number(v);
};

/** keepalived's `-i, --config-id`: selects `@ID` lines of a keepalived.conf; default the host name, as keepalived. */
const configIdOption = (): Option =>
  new Option(
    '-i, --config-id <id>',
    "keepalived.conf: keep the lines starting @ID for this id and skip @^ID ones (keepalived's -i)",
  ).default(hostname().split('.')[0] ?? hostname(), 'the host name up to its first dot');

/** Builds the program; exported so tests can drive it in-process. */
export function buildProgram(): Command {
  const program = new Command('tandem')
    .description(
      'High availability and load balancing for Linux servers: VRRP failover, resource groups, load balancing',
    )
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    // commander exits 1 on usage errors; 2 is the Unix convention and keeps 1 for "the config has errors". Set
    // before the commands are added, so that they inherit it.
    .exitOverride((err) => {
      if (err.exitCode === 0) process.exit(0);
      process.exit(2);
    });

  program
    .command('check')
    .description('validate config files (tandem YAML or keepalived.conf) and print every problem as file:line:col')
    .argument('[file...]', 'config files to check')
    .addOption(
      new Option('--format <format>', 'force the format instead of detecting it').choices([
        'yaml',
        'keepalived',
        'heartbeat',
        'piranha',
      ]),
    )
    .option('--json', 'print diagnostics as JSON lines', false)
    .option('-q, --quiet', 'print only problems', false)
    .addOption(configIdOption())
    // the cluster's one config (src/cluster/): compare two directors' files, or this node with its running peers
    .option('--peer <file>', "compare with the other director's file: what must match, what is expected to differ")
    .option('--peer-live', 'compare the running config of this node with each peer (over the peer listener)', false)
    .option('--control <path>', 'control socket of the daemon (--peer-live)', process.env.TANDEM_CONTROL)
    .addHelpText('after', '\nExit status: 0 no errors (warnings allowed), 1 errors found, 2 usage error.')
    .action(
      async (
        files: string[],
        opts: {
          format?: 'yaml' | 'keepalived' | 'heartbeat' | 'piranha';
          json: boolean;
          quiet: boolean;
          configId: string;
          peer?: string;
          peerLive: boolean;
          control?: string;
        },
      ) => {
        if (opts.peer || opts.peerLive) {
          const { runPeerCheckCommand } = await import('./config.ts');
          process.exitCode = await runPeerCheckCommand(files, opts, await diskFs(), io);
          return;
        }
        if (files.length === 0) {
          io.err('tandem check: give at least one file (or --peer-live)');
          process.exitCode = 2;
          return;
        }
        const { runCheck } = await import('./check.ts');
        process.exitCode = runCheck(files, opts, await diskFs(), io);
      },
    );

  program
    .command('sim')
    .description('run a cluster under simulated time and print the state timeline (no root, no network)')
    .argument('<file...>', 'one tandem YAML for the whole cluster, or one keepalived.conf per node')
    .option('-s, --scenario <file>', 'scenario YAML with timed steps (default: fail the master, then restore it)')
    .option('--seed <n>', 'random seed for loss, delay and jitter', int, 1)
    .option('--json', 'print the timeline as JSON lines', false)
    .addOption(configIdOption())
    .addHelpText(
      'after',
      `
Scenario file:
  duration: 30s
  steps:
    - { at: 5s, isolate: d1 }        # cut a node off the network
    - { at: 12s, heal: true }        # restore every link
    - { at: 15s, stop: d2 }          # graceful stop (priority 0 advert)
    - { at: 16s, kill: d2 }          # crash: no goodbye
    - { at: 20s, start: d2 }
    - { at: 22s, track: { node: d1, instance: VI_1, tracker: "script:chk_web", up: false } }
    - { at: 25s, loss: 0.2 }         # packet loss on every link`,
    )
    .action(async (files: string[], opts: { scenario?: string; seed: number; json: boolean; configId: string }) => {
      const { runSim } = await import('./sim.ts');
      process.exitCode = runSim(files, opts, await diskFs(), io);
    });

  program
    .command('run')
    .description('run the daemon: VRRP instances of this node, under a supervisor that releases VIPs if it dies')
    .requiredOption('-c, --config <file>', 'tandem YAML or keepalived.conf')
    .option('-n, --node <name>', 'which node of cluster.nodes this is (default: the only one, or the host name)')
    .addOption(new Option('--log-format <format>', 'log line format').choices(['plain', 'json']).default('plain'))
    .option('--control <path>', 'control socket for the CLI', process.env.TANDEM_CONTROL)
    // HTTP API (issue 12)
    .option('--api <address:port>', 'serve the HTTP API on TCP (plain HTTP only on loopback; see api.tls)')
    .option('--no-supervisor', 'run without the supervisor process (VIPs stay if the daemon is killed)')
    .addOption(new Option('--child').hideHelp())
    .option('-v, --verbose', 'log dropped packets and other debug lines', false)
    .addOption(configIdOption())
    .addHelpText(
      'after',
      '\nSignals: SIGTERM/SIGINT stop (masters send priority 0 and remove their VIPs); SIGHUP reloads the config\n' +
        '(a config with errors is refused and the running one kept). Needs CAP_NET_RAW and CAP_NET_ADMIN.\n' +
        'One daemon per control socket (a lock beside it, <control>.lock, names the holder).\n' +
        '\nExit status: 0 stopped cleanly; 1 the config has errors; 2 usage error; 4 missing capabilities;\n' +
        '5 another daemon holds the control socket, or the path is not a socket; 6 the supervisor gave up\n' +
        'after the daemon died 5 times within a minute.',
    )
    .action(
      async (opts: {
        config: string;
        node?: string;
        logFormat: 'plain' | 'json';
        control?: string;
        supervisor: boolean;
        child?: boolean;
        verbose: boolean;
        configId: string;
        api?: string;
      }) => {
        const { runCommand } = await import('../daemon/run.ts');
        process.exitCode = await runCommand({
          config: opts.config,
          ...(opts.node ? { node: opts.node } : {}),
          logFormat: opts.logFormat,
          ...(opts.control ? { control: opts.control } : {}),
          noSupervisor: !opts.supervisor,
          child: !!opts.child,
          verbose: opts.verbose,
          configId: opts.configId,
          ...(opts.api ? { api: opts.api } : {}),
        });
        process.exit();
      },
    );

  program
    .command('release')
    .description(
      "after a crash of the whole unit: send priority 0 for and remove this node's VIPs that are still here (ExecStopPost)",
    )
    .requiredOption('-c, --config <file>', 'tandem YAML or keepalived.conf')
    .option('-n, --node <name>', 'which node of cluster.nodes this is')
    .addOption(new Option('--log-format <format>', 'log line format').choices(['plain', 'json']).default('plain'))
    .addOption(configIdOption())
    .action(async (opts: { config: string; node?: string; logFormat: 'plain' | 'json'; configId: string }) => {
      const { releaseCommand } = await import('../daemon/release.ts');
      process.exitCode = await releaseCommand({
        config: opts.config,
        ...(opts.node ? { node: opts.node } : {}),
        logFormat: opts.logFormat,
        configId: opts.configId,
      });
    });

  const control = (cmd: Command) =>
    cmd
      .option('--control <path>', 'control socket of the daemon', process.env.TANDEM_CONTROL)
      // HTTP API (issue 12): a remote node
      .option('--node <url>', "a remote node's HTTP API instead of the local socket (https://HOST:PORT)")
      .option('--token-file <file>', 'bearer token for --node (default: $TANDEM_TOKEN)')
      .option('--cacert <file>', 'CA certificate(s) to trust for --node');

  control(
    program
      .command('status')
      .description('show each VRRP instance: state, priority and why, master, VIPs, last transition, drop counters')
      .option('--json', 'print the raw status as JSON', false),
  ).action(async (opts: { control?: string; node?: string; tokenFile?: string; cacert?: string; json: boolean }) => {
    const { runStatus } = await import('./status.ts');
    process.exitCode = await runStatus(opts, io);
  });

  for (const order of ['standby', 'takeover'] as const) {
    control(
      program
        .command(order)
        .description(
          order === 'standby'
            ? 'give up mastership (like hb_standby): priority 1, a master hands over at once with priority 0'
            : 'take mastership (like hb_takeover): priority 255, become master at once',
        )
        .argument('[instance...]', 'instances to act on')
        .option('--all', 'every instance of this node', false)
        .option('--local', "instances whose preferred node is this one (heartbeat's hb_standby local)", false)
        .option('--foreign', 'instances preferred on another node (hb_standby foreign)', false)
        .option('--clear', 'undo: back to the configured priority', false),
    ).action(
      async (
        instances: string[],
        opts: {
          all: boolean;
          local: boolean;
          foreign: boolean;
          clear: boolean;
          control?: string;
          node?: string;
          tokenFile?: string;
          cacert?: string;
        },
      ) => {
        const { runOrder } = await import('./status.ts');
        process.exitCode = await runOrder(order, instances, opts, io);
      },
    );
  }

  const group = program
    .command('group')
    .description('resource groups: clear failures, or stop and resume managing one (Pacemaker cleanup / maintenance)');
  for (const [action, description] of [
    ['cleanup', 'forget failures and unblock a group whose stop failed (after fixing the cause)'],
    ['maintenance', 'stop managing the group: nothing is started, stopped or monitored'],
    ['manage', 'manage the group again (every resource is probed first)'],
  ] as const) {
    control(group.command(action).description(description).argument('<name>', 'group name')).action(
      async (name: string, opts: { control?: string; node?: string; tokenFile?: string; cacert?: string }) => {
        const { callDaemon, controlTarget } = await import('../api/client.ts');
        const r = await callDaemon(controlTarget(opts), 'POST', '/v1/group', { name, action });
        if (!r.ok) {
          io.err(`tandem group ${action}: TND_CTL_NO_DAEMON ${r.message}`);
          process.exitCode = 3;
          return;
        }
        const b = r.body as { code?: string; message?: string };
        if (r.status !== 200) {
          io.err(`tandem group ${action}: ${b.code} ${b.message}`);
          process.exitCode = 1;
          return;
        }
        io.out(`group ${name}: ${action} done`);
      },
    );
  }

  const rs = program
    .command('rs')
    .description('change a real server of a virtual service at runtime (drain, enable, maint, weight, add, remove)');
  const rsVerbs = [
    ['drain', 'stop new connections, wait for the open ones to end (up to the drain_timeout), report'],
    ['enable', 'clear drain and maintenance'],
    ['maint', 'take out of the pool at once'],
    ['weight', 'set the weight (0..65535), or "reset" to the configured one'],
    ['add', 'add a real server (weight 1 unless given)'],
    ['remove', 'remove a real server'],
  ] as const;
  for (const [verb, description] of rsVerbs) {
    const cmd = control(rs.command(verb).description(description).argument('<service>', 'virtual service name'));
    cmd.argument('<server>', 'ADDRESS:PORT ([ADDRESS]:PORT for IPv6)');
    if (verb === 'weight') cmd.argument('<weight>', 'new weight, or reset');
    if (verb === 'add') cmd.argument('[weight]', 'weight', '1');
    if (verb === 'drain') cmd.option('--no-wait', 'return at once instead of waiting for connections to end');
    cmd.action(async (service: string, server: string, ...rest: unknown[]) => {
      const weight = verb === 'weight' || verb === 'add' ? (rest[0] as string) : undefined;
      const opts = rest[verb === 'weight' || verb === 'add' ? 1 : 0] as {
        wait?: boolean;
        control?: string;
        node?: string;
        tokenFile?: string;
        cacert?: string;
      };
      const { runRs } = await import('./lb.ts');
      process.exitCode = await runRs(
        verb,
        service,
        server,
        { ...opts, ...(weight !== undefined ? { weight } : {}) },
        io,
      );
    });
  }

  // realserver (src/cli/realserver.ts): a direct-routing real server's VIPs on lo and ARP sysctls (lvs_real)
  const realserver = program
    .command('realserver')
    .description('prepare this host as a direct-routing real server: the VIPs on lo, ARP off for them (lvs_real)');
  for (const [verb, description] of [
    ['up', 'add each VIP on lo (/32, /128) and set arp_ignore=1, arp_announce=2; records what it changed'],
    ['down', 'undo what up did (all of it without a VIP); earlier sysctl values come back'],
  ] as const)
    realserver
      .command(verb)
      .description(description)
      .argument(verb === 'up' ? '<vips...>' : '[vips...]', 'virtual addresses')
      .option('--state <path>', 'where up records what it changed', '/run/tandem/realserver.json')
      .action(async (vips: string[], opts: { state: string }) => {
        const { runRealserver } = await import('./realserver.ts');
        const { IpAddressAdapter } = await import('../os/addresses.ts');
        const { procSysctl } = await import('../os/sysctl.ts');
        process.exitCode = await runRealserver(verb, vips, io, {
          addresses: new IpAddressAdapter(),
          sysctl: procSysctl(),
          statePath: opts.state,
        });
      });

  control(program.command('reload').description('reload the config file of the running daemon (like SIGHUP)')).action(
    async (opts: { control?: string; node?: string; tokenFile?: string; cacert?: string }) => {
      const { runReload } = await import('./status.ts');
      process.exitCode = await runReload(opts, io);
    },
  );

  // user, token (src/cli/user.ts): the HTTP API's users and tokens (issue 12)
  const usersFileOpts = (cmd: Command) =>
    cmd
      .option(
        '--users-file <path>',
        'the users file (default: api.users_file of --config, or /var/lib/tandem/users.json)',
      )
      .option('-c, --config <file>', 'read api.users_file from this config');
  const roleOption = () =>
    new Option(
      '--role <role>',
      'viewer reads; operator also acts; admin also reloads and changes config and users',
    ).choices(['viewer', 'operator', 'admin']);
  const user = program
    .command('user')
    .description("the HTTP API's users: add, del, list, passwd (scrypt hashes in a 0600 file)");
  for (const verb of ['add', 'passwd'] as const) {
    const cmd = usersFileOpts(
      user
        .command(verb)
        .description(
          verb === 'add'
            ? 'add a user (password from a prompt, or --password-stdin)'
            : "change a user's password (and --role)",
        )
        .argument('<name>', 'user name')
        .option('--password-stdin', 'read the password from the first line of stdin', false),
    );
    cmd.addOption(verb === 'add' ? roleOption().makeOptionMandatory() : roleOption());
    cmd.action(
      async (
        name: string,
        opts: { role?: 'viewer' | 'operator' | 'admin'; passwordStdin: boolean; usersFile?: string; config?: string },
      ) => {
        const u = await import('./user.ts');
        const path = await u.usersFilePath(opts);
        process.exitCode = await u.runUserSet(
          verb,
          name,
          { ...(opts.role ? { role: opts.role } : {}), path },
          opts.passwordStdin ? u.passwordFromStdin : u.passwordFromPrompt,
          io,
        );
      },
    );
  }
  usersFileOpts(
    user.command('del').description('delete a user; its sessions end').argument('<name>', 'user name'),
  ).action(async (name: string, opts: { usersFile?: string; config?: string }) => {
    const u = await import('./user.ts');
    process.exitCode = u.runUserDel(name, { path: await u.usersFilePath(opts) }, io);
  });
  const token = program.command('token').description('API tokens for automation: create (printed once), list, revoke');
  for (const [what, cmd] of [
    ['user', user.command('list').description('list users: name, role, created')],
    ['token', token.command('list').description('list tokens: id, name, role, created (never the token)')],
  ] as const)
    usersFileOpts(cmd.option('--json', 'one JSON array', false)).action(
      async (opts: { usersFile?: string; config?: string; json: boolean }) => {
        const u = await import('./user.ts');
        process.exitCode = u.runList(what, { path: await u.usersFilePath(opts), json: opts.json }, io);
      },
    );
  usersFileOpts(
    token
      .command('create')
      .description('create a token; it is printed once, only its hash is kept')
      .addOption(roleOption().makeOptionMandatory())
      .option('--name <name>', 'a name to list and revoke it by'),
  ).action(
    async (opts: { role: 'viewer' | 'operator' | 'admin'; name?: string; usersFile?: string; config?: string }) => {
      const u = await import('./user.ts');
      process.exitCode = u.runTokenCreate(
        { role: opts.role, ...(opts.name ? { name: opts.name } : {}), path: await u.usersFilePath(opts) },
        io,
      );
    },
  );
  usersFileOpts(
    token.command('revoke').description('revoke a token by id or name').argument('<token>', 'id or name'),
  ).action(async (which: string, opts: { usersFile?: string; config?: string }) => {
    const u = await import('./user.ts');
    process.exitCode = u.runTokenRevoke(which, { path: await u.usersFilePath(opts) }, io);
  });

  // import (src/cli/import.ts): keepalived.conf, heartbeat ha.cf+haresources+authkeys, Piranha lvs.cf → YAML
  program
    .command('import')
    .description('convert keepalived.conf, heartbeat (ha.cf, haresources, authkeys) or Piranha lvs.cf to tandem YAML')
    .argument(
      '<file...>',
      'one keepalived.conf or lvs.cf, or heartbeat ha.cf (with haresources and authkeys beside it)',
    )
    .option('-o, --output <file>', 'write the YAML to this file instead of stdout')
    .addOption(configIdOption())
    .addOption(
      new Option('--format <format>', 'force the format instead of detecting it').choices([
        'keepalived',
        'heartbeat',
        'piranha',
      ]),
    )
    .addHelpText(
      'after',
      '\nEach part of the YAML names its source line; a closing comment lists what was not carried over and why.\n' +
        'Exit status: 0 imported (warnings allowed), 1 errors found (nothing written), 2 usage error.',
    )
    .action(
      async (
        files: string[],
        opts: { output?: string; format?: 'keepalived' | 'heartbeat' | 'piranha'; configId: string },
      ) => {
        const { runImport } = await import('./import.ts');
        const { writeSecretFile } = await import('../os/secret-file.ts');
        process.exitCode = runImport(files, opts, { fs: await diskFs(), io, writeFile: writeSecretFile });
      },
    );

  // the cluster's one config (src/cli/config.ts, src/cli/cluster.ts; src/cluster/)
  const stateDirOption = () =>
    new Option('--state-dir <dir>', "tandem's state directory (cluster.state_dir)").default(
      '/var/lib/tandem',
      '/var/lib/tandem',
    );
  const clusterCmd = program
    .command('cluster')
    .description('the cluster CA: init on the first node, join the others (mutual TLS between the nodes)');
  clusterCmd
    .command('init')
    .description("make the cluster CA (key 0600) and this node's certificate; prints a one-time join token")
    .requiredOption('--name <node>', 'this node (its name in cluster.nodes)')
    .option('--cluster <name>', 'cluster name, in the CA certificate', 'tandem')
    .addOption(stateDirOption())
    .action(async (opts: { name: string; cluster: string; stateDir: string }) => {
      const { runClusterInit } = await import('./cluster.ts');
      process.exitCode = await runClusterInit(opts, io);
    });
  clusterCmd
    .command('token')
    .description('another one-time join token (on the node that ran init)')
    .addOption(stateDirOption())
    .action(async (opts: { stateDir: string }) => {
      const { runClusterToken } = await import('./cluster.ts');
      process.exitCode = await runClusterToken(opts, io);
    });
  clusterCmd
    .command('join')
    .description("get this node's certificate from a node of the cluster, over TLS pinned to the token's CA")
    .argument('<url>', "the first node's peer listener, https://ADDR:PORT")
    .requiredOption('--token <token>', 'the join token printed by tandem cluster init / token')
    .requiredOption('--name <node>', 'this node (its name in cluster.nodes)')
    .addOption(stateDirOption())
    .action(async (url: string, opts: { token: string; name: string; stateDir: string }) => {
      const { runClusterJoin } = await import('./cluster.ts');
      process.exitCode = await runClusterJoin(url, opts, io);
    });

  const configCmd = program
    .command('config')
    .description("the cluster's one config: apply to every node in two phases, status, history, rollback, diff");
  control(
    configCmd
      .command('apply')
      .description('check FILE on every node against its own host, then switch all nodes to it (prepare, commit)')
      .argument('<file>', 'the new config (the format the nodes run)')
      .option('--expect <version>', 'refuse unless the cluster is at this version', int)
      .option('--require-all', 'refuse when a node is unreachable (default: it catches up when it returns)', false)
      .addHelpText('after', '\nExit status: 0 applied, 1 refused (nothing changed on any node), 3 no daemon.'),
  ).action(async (file: string, opts: { control?: string; expect?: number; requireAll: boolean }) => {
    const { runConfigApply } = await import('./config.ts');
    process.exitCode = await runConfigApply(file, opts, io);
  });
  control(
    configCmd
      .command('status')
      .description('version and hash of the config each node runs; flags divergence')
      .option('--json', 'print the report as JSON', false)
      .addHelpText('after', '\nExit status: 0 in sync, 1 diverged, 3 no daemon, 4 a node is unreachable.'),
  ).action(async (opts: { control?: string; json: boolean }) => {
    const { runConfigStatus } = await import('./config.ts');
    process.exitCode = await runConfigStatus(opts, io);
  });
  control(
    configCmd
      .command('history')
      .description('the config versions kept on this node, newest first')
      .option('-n, --limit <n>', 'how many', int, 20)
      .option('--json', 'JSON lines', false),
  ).action(async (opts: { control?: string; limit: number; json: boolean }) => {
    const { runConfigHistory } = await import('./config.ts');
    process.exitCode = await runConfigHistory(opts, io);
  });
  control(
    configCmd
      .command('rollback')
      .description("apply a kept version's text again, as a new version, on every node")
      .argument('<version>', 'a version of tandem config history', int),
  ).action(async (version: number, opts: { control?: string }) => {
    const { runConfigRollback } = await import('./config.ts');
    process.exitCode = await runConfigRollback(version, opts, io);
  });
  control(
    configCmd
      .command('diff')
      .description('FILE against the running config: a unified diff and what a reload would change')
      .argument('<file>', 'the new config'),
  ).action(async (file: string, opts: { control?: string }) => {
    const { runConfigDiff } = await import('./config.ts');
    process.exitCode = await runConfigDiff(file, opts, io);
  });

  return program;
}

await buildProgram().parseAsync(process.argv);
