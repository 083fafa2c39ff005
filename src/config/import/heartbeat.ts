/**
 * Reads a heartbeat R1 configuration (ha.cf, with haresources and authkeys beside it) into tandem's native config
 * shape, with a Locator that maps every native path back to the directive or resource in the user's own files.
 *
 * The mapping (docs/heartbeat.md has the full table):
 * - `node` lines become `cluster.nodes`; each haresources line becomes one VRRP instance `VI_<n>` (vrid n, version 3)
 *   whose preferred node (the line's first word) has priority 150 and the others 100, and one resource group
 *   `group_<n>` owned by it holding the line's other resources in order;
 * - the line's addresses (a bare IP, `IPaddr::…`, `IPaddr2::…`, `IPv6addr::…`) become the instance's virtual
 *   addresses, so the adverts carry them (VRRP needs at least one) and they move like keepalived's;
 * - `keepalive` becomes the advert interval and `deadtime` the number of adverts missed before takeover
 *   (`down_timer_adverts` = ⌈deadtime / keepalive⌉), so a backup takes over after about deadtime, as heartbeat does;
 * - `auto_failback on` (and `legacy`) is preemption, `off` is none;
 * - `ucast` addresses become unicast peers; `bcast` and `mcast` mean multicast VRRP on that device.
 * heartbeat's own start-up checks are kept as errors (no media, no nodes, deadtime ≤ 2 × keepalive, initdead <
 * deadtime, an authkeys file readable by others). The reader reports every problem in one run and never throws.
 */
import { posix } from 'node:path';
import type { ErrorCode } from '../../core/errors.ts';
import { type ConfigPath, type Diagnostic, type SourcePos, sortDiagnostics } from '../diagnostics.ts';
import { type HbLine, lexHeartbeat, type Word } from './heartbeat-lexer.ts';
import { suggest } from './keepalived.ts';
import type { ConfigFs } from './keepalived-lexer.ts';
import { netmaskPrefix } from './piranha-lexer.ts';
import { type ImportedConfig, type ImportNote, SourceMap, sortByPlace } from './to-yaml.ts';

/** File access for the heartbeat reader: a ConfigFs that may also tell a file's permission bits. */
export interface HeartbeatFs extends ConfigFs {
  /** The permission bits of a file (`stat().mode & 0o7777`); undefined when unknown. */
  mode?(path: string): number | undefined;
}

/** Where the three heartbeat files are. */
export interface HeartbeatFiles {
  haCf: string;
  haresources: string;
  authkeys: string;
}

/** Options of the reader: the sibling files, when they are not beside ha.cf. */
export interface HeartbeatReadOptions {
  /** @default `haresources` in the directory of ha.cf */
  haresources?: string;
  /** @default `authkeys` in the directory of ha.cf */
  authkeys?: string;
}

/** Priority of the preferred node of a haresources line, and of the other nodes. */
export const PREFERRED_PRIORITY = 150;
export const OTHER_PRIORITY = 100;

/**
 * The three files of the configuration `entry` belongs to: `entry` may name any of them (the others are looked for
 * beside it), or be an ha.cf by another name.
 * @example heartbeatFiles('/etc/ha.d/haresources').haCf // '/etc/ha.d/ha.cf'
 */
export function heartbeatFiles(entry: string, options: HeartbeatReadOptions = {}): HeartbeatFiles {
  const path = posix.normalize(entry);
  const dir = posix.dirname(path);
  const base = posix.basename(path);
  const haCf = base === 'haresources' || base === 'authkeys' ? posix.join(dir, 'ha.cf') : path;
  return {
    haCf,
    haresources: options.haresources ?? (base === 'haresources' ? path : posix.join(dir, 'haresources')),
    authkeys: options.authkeys ?? (base === 'authkeys' ? path : posix.join(dir, 'authkeys')),
  };
}

/** Whether a file is one of heartbeat's: by its name, or by ha.cf directives at the start of its lines. */
export function isHeartbeatFile(path: string, text: string): boolean {
  const base = posix.basename(path);
  if (base === 'ha.cf' || base === 'haresources' || base === 'authkeys') return true;
  const directives = text.match(/^[ \t]*(node|keepalive|deadtime|bcast|ucast|mcast|auto_failback|initdead)[ \t]/gm);
  return (directives?.length ?? 0) >= 2 && !/^[ \t]*\w+[ \t]*=/m.test(text) && !text.includes('{');
}

/**
 * Reads the heartbeat configuration that `entry` belongs to. Never throws.
 * @example readHeartbeat('/etc/ha.d/ha.cf', diskFs).raw // { cluster: {…}, vrrp: { instances: […] }, groups: […] }
 */
export function readHeartbeat(entry: string, fs: HeartbeatFs, options: HeartbeatReadOptions = {}): ImportedConfig {
  const files = heartbeatFiles(entry, options);
  const r = new Reader(files);
  try {
    r.run(fs);
  } catch (e) {
    // A safety net, not a code path: the fuzz test asserts that its message never appears.
    r.diag('error', 'TND_CFG_SYNTAX', { file: files.haCf, line: 1, col: 1 }, '(reader)', internal(e));
  }
  return {
    raw: r.raw,
    locator: r.map.locator(),
    diagnostics: sortDiagnostics(r.diagnostics),
    notes: sortByPlace(r.notes),
    files: r.read,
  };
}

const internal = (e: unknown): string =>
  `internal error in the heartbeat reader, please report it: ${e instanceof Error ? e.message : String(e)}`;

type Obj = Record<string, unknown>;

/** A time value with the word it came from. */
type Timed = { ms: number; word: Word };

/** A heartbeat medium: where heartbeats (and so VRRP adverts) go. */
interface Medium {
  kind: 'bcast' | 'mcast' | 'mcast6' | 'ucast' | 'ucast6';
  kw: Word;
  dev: Word;
  peer?: Word;
}

/** Directives read only to be left out, with why. */
const NOTED: Readonly<Record<string, string>> = {
  udpport: 'VRRP is IP protocol 112, not UDP: there is no port to set',
  baud: 'serial links are not used (VRRP runs over IP)',
  logfile: 'tandem logs to stderr (the journal under systemd); `--log-format json` suits a log collector',
  debugfile: 'tandem logs to stderr; `tandem run --verbose` adds debug lines',
  logfacility: 'tandem logs to stderr (the journal under systemd), not to a syslog facility',
  use_logd: 'tandem logs to stderr (the journal under systemd)',
  conn_logd_time: 'tandem does not use a logging daemon',
  debug: '`tandem run --verbose` adds debug lines',
  warntime: 'tandem has no separate late-heartbeat warning',
  hopfudge: 'VRRP adverts are not forwarded between nodes',
  realtime: 'tandem raises the priority of its VRRP thread itself',
  rtprio: 'tandem raises the priority of its VRRP thread itself',
  hbgenmethod: 'VRRP has no generation numbers',
  uuidfrom: 'tandem names nodes by cluster.nodes, not by UUID',
  msgfmt: 'VRRP has its own wire format',
  compression: 'VRRP adverts are not compressed',
  compression_threshold: 'VRRP adverts are not compressed',
  traditional_compression: 'VRRP adverts are not compressed',
  coredumps: 'not a tandem setting',
  coreroot: 'not a tandem setting',
  memreserve: 'not a tandem setting',
  max_rexmit_delay: 'VRRP does not retransmit',
  log_badpack: 'tandem counts dropped packets per reason (`tandem status`)',
  use_apphbd: 'not a tandem setting',
  normalpoll: 'not a tandem setting',
  apiauth: "heartbeat's client API has no tandem equivalent; the tandem API has its own authentication",
  env: 'respawned clients are not carried over',
  deadping: 'ping nodes are not carried over',
};

/** Directives that change behaviour tandem does not have yet: a warning each. */
const WARNED: Readonly<Record<string, string>> = {
  serial: 'serial heartbeat links are not supported: VRRP runs over IP',
  hbaping: 'HBA ping nodes are not carried over yet: use a vrrp track script with a weight',
  failfast: 'failfast children are not carried over yet: run them as systemd units',
  stonith: 'STONITH devices are not carried over: configure fencing.devices (fence-agents) in the YAML',
  stonith_host: 'STONITH devices are not carried over: configure fencing.devices (fence-agents) in the YAML',
  watchdog:
    "watchdog is not carried over: tandem will not drive /dev/watchdog itself; it will notify systemd's watchdog " +
    '(sd_notify WATCHDOG=1, with WatchdogSec= in its unit) once the operator API work adds sd_notify, which is how ' +
    'a hung daemon is restarted or the node reset (systemd RuntimeWatchdogSec= drives the hardware device)',
  quorum_server: 'tandem has no quorum server',
};

/** Every directive of ha.cf this reader knows, for suggestions. */
const KNOWN = [
  'node',
  'keepalive',
  'deadtime',
  'initdead',
  'bcast',
  'mcast',
  'mcast6',
  'ucast',
  'ucast6',
  'auto_failback',
  'nice_failback',
  'crm',
  'pacemaker',
  'autojoin',
  'cluster',
  'ping',
  'ping_group',
  'respawn',
  ...Object.keys(NOTED),
  ...Object.keys(WARNED),
];

const TRUE_WORDS = new Set(['true', 'on', 'yes', 'y', '1']);
const FALSE_WORDS = new Set(['false', 'off', 'no', 'n', '0']);

/** heartbeat's boolean: true/on/yes/y/1 or false/off/no/n/0, any case; undefined otherwise. */
function hbBool(text: string): boolean | undefined {
  const t = text.toLowerCase();
  return TRUE_WORDS.has(t) ? true : FALSE_WORDS.has(t) ? false : undefined;
}

class Reader {
  readonly diagnostics: Diagnostic[] = [];
  readonly notes: ImportNote[] = [];
  readonly map: SourceMap;
  readonly read: string[] = [];
  readonly raw: { cluster: Obj; vrrp: { instances: Obj[]; track_pings?: Obj }; groups: Obj[] } = {
    cluster: {},
    vrrp: { instances: [] },
    groups: [],
  };
  // ha.cf
  readonly nodes: Word[] = [];
  readonly media: Medium[] = [];
  keepalive?: Timed;
  deadtime?: Timed;
  initdead?: Timed;
  failback?: { preempt: boolean; word: Word };
  sawFailback = false;
  /** ping and ping_group (docs/split-brain.md §3): vrrp.track_pings objects. */
  readonly pings: { name: string; kw: Word; targets: Word[] }[] = [];
  /** `respawn … ipfail`: the ping targets move resources (priority weights), as ipfail does. */
  ipfail?: Word;
  /** What every instance takes from ha.cf, once the whole file is read. */
  settings?: {
    interface: { text: string; pos: SourcePos; label: string } | undefined;
    peers: Word[];
    keepalive: number;
    downAdverts: number;
    preempt: boolean;
    /** The other heartbeat media's devices: redundant paths (docs/split-brain.md §2). */
    paths: { dev: Word; label: string; peers: Word[] }[];
  };

  constructor(readonly files: HeartbeatFiles) {
    this.map = new SourceMap(files.haCf);
  }

  diag(severity: Diagnostic['severity'], code: ErrorCode, pos: SourcePos, path: string, message: string): void {
    this.diagnostics.push({ ...pos, severity, code, path, message });
  }

  note(pos: SourcePos, path: string, message: string): void {
    this.notes.push({ ...pos, code: 'TND_CFG_NOT_CARRIED', path, message });
  }

  private start(file: string): SourcePos {
    return { file, line: 1, col: 1 };
  }

  run(fs: HeartbeatFs): void {
    const { haCf, haresources, authkeys } = this.files;
    const haText = fs.read(haCf);
    if (haText === undefined) {
      this.diag('error', 'TND_CFG_IO', this.start(haCf), 'ha.cf', 'cannot read the file');
      return;
    }
    this.read.push(haCf);
    this.readHaCf(lexHeartbeat(haCf, haText));

    const resText = fs.read(haresources);
    if (resText === undefined) {
      this.diag(
        'error',
        'TND_CFG_IO',
        this.start(haCf),
        'haresources',
        `cannot read ${haresources}: without it there is nothing to fail over (tandem reads heartbeat R1 configs)`,
      );
    } else this.read.push(haresources);

    const keyText = fs.read(authkeys);
    if (keyText === undefined) {
      this.diag(
        'warning',
        'TND_CFG_IO',
        this.start(haCf),
        'authkeys',
        `cannot read ${authkeys}: heartbeat would not start without it (tandem does not need it)`,
      );
    } else {
      this.read.push(authkeys);
      this.readAuthkeys(lexHeartbeat(authkeys, keyText), fs.mode?.(authkeys));
    }

    this.finishHaCf();
    if (resText !== undefined) this.readHaresources(lexHeartbeat(haresources, resText, { continuation: true }));
  }

  // ---- ha.cf

  private readHaCf(lines: HbLine[]): void {
    for (const { words } of lines) {
      const [kw, ...args] = words;
      const name = kw.text;
      const where = `ha.cf: ${name}`;
      if (Object.hasOwn(NOTED, name)) {
        this.note(kw.pos, where, `${name} is not carried over: ${NOTED[name]}`);
        continue;
      }
      if (Object.hasOwn(WARNED, name)) {
        this.diag('warning', 'TND_CFG_UNSUPPORTED', kw.pos, where, WARNED[name]!);
        continue;
      }
      switch (name) {
        case 'node':
          if (this.args(words, 1, Number.POSITIVE_INFINITY, where)) this.nodes.push(...args);
          break;
        case 'keepalive':
        case 'deadtime':
        case 'initdead':
          this[name] = this.time(words, where);
          break;
        case 'bcast':
          if (this.args(words, 1, Number.POSITIVE_INFINITY, where))
            for (const dev of args) this.media.push({ kind: 'bcast', kw, dev });
          break;
        case 'mcast':
        case 'mcast6':
          this.mcast(words, name, where);
          break;
        case 'ucast':
        case 'ucast6':
          if (this.args(words, 2, 2, where)) this.media.push({ kind: name, kw, dev: args[0]!, peer: args[1]! });
          break;
        case 'auto_failback':
          this.autoFailback(words, where);
          break;
        case 'nice_failback':
          this.niceFailback(words, where);
          break;
        case 'crm':
        case 'pacemaker':
          this.crm(words, where);
          break;
        case 'autojoin':
          if (this.args(words, 1, 1, where) && args[0]!.text.toLowerCase() !== 'none')
            this.diag(
              'error',
              'TND_CFG_REJECTED',
              args[0]!.pos,
              where,
              `autojoin ${args[0]!.text} cannot be used with haresources (heartbeat refuses it too): ` +
                'list every node with a node line',
            );
          break;
        case 'ping':
          if (this.args(words, 1, Number.POSITIVE_INFINITY, where))
            for (const t of args) this.pings.push({ name: `ping_${t.text}`, kw, targets: [t] });
          break;
        case 'ping_group':
          if (this.args(words, 2, Number.POSITIVE_INFINITY, where))
            this.pings.push({ name: args[0]!.text, kw, targets: args.slice(1) });
          break;
        case 'respawn':
          if (this.args(words, 2, Number.POSITIVE_INFINITY, where) && /(^|\/)ipfail$/.test(args[1]!.text))
            this.ipfail = args[1]!;
          else
            this.diag(
              'warning',
              'TND_CFG_UNSUPPORTED',
              kw.pos,
              where,
              'respawned processes are not carried over: run them as systemd units (ipfail is built in: ping targets)',
            );
          break;
        case 'cluster':
          if (this.args(words, 1, 1, where)) {
            this.raw.cluster.name = args[0]!.text;
            this.map.record(['cluster', 'name'], args[0]!.pos, where);
          }
          break;
        default: {
          const hint = suggest(name, KNOWN);
          this.diag(
            'error',
            'TND_CFG_UNKNOWN_KEY',
            kw.pos,
            where,
            `${name} is not an ha.cf directive${hint ? `; did you mean ${hint}?` : ''}`,
          );
        }
      }
    }
  }

  /** Checks the number of arguments; reports TND_CFG_ARGS and returns false when it is wrong. */
  private args(words: [Word, ...Word[]], min: number, max: number, where: string): boolean {
    const n = words.length - 1;
    if (n >= min && n <= max) return true;
    const want = min === max ? `${min}` : max === Number.POSITIVE_INFINITY ? `at least ${min}` : `${min} to ${max}`;
    const at = n > max ? words[max + 1]! : words[0];
    this.diag('error', 'TND_CFG_ARGS', at.pos, where, `${words[0].text} takes ${want} value(s), got ${n}`);
    return false;
  }

  /** A heartbeat time: seconds (`2`, `0.5`) or milliseconds (`1500ms`). */
  private time(words: [Word, ...Word[]], where: string): Timed | undefined {
    if (!this.args(words, 1, 1, where)) return undefined;
    const w = words[1]!;
    const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(w.text);
    const ms = m ? Math.round(Number(m[1]) * (m[2] === 'ms' ? 1 : 1000)) : Number.NaN;
    if (!Number.isSafeInteger(ms)) {
      this.diag(
        'error',
        'TND_CFG_NUMBER',
        w.pos,
        where,
        `must be seconds (e.g. 2 or 0.5) or milliseconds (e.g. 1500ms), got ${JSON.stringify(w.text)}`,
      );
      return undefined;
    }
    return { ms, word: w };
  }

  private mcast(words: [Word, ...Word[]], name: 'mcast' | 'mcast6', where: string): void {
    // mcast dev group port ttl loop: heartbeat needs all five.
    if (!this.args(words, 5, 5, where)) return;
    const [kw, dev, group] = words as [Word, Word, Word];
    const v4 = /^(22[4-9]|23\d)\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(group.text);
    const v6 = /^ff[0-9a-f]{2}:/i.test(group.text);
    if ((name === 'mcast' && !v4) || (name === 'mcast6' && !v6)) {
      this.diag(
        'error',
        'TND_CFG_ADDRESS',
        group.pos,
        where,
        `${group.text} is not a multicast group (${name === 'mcast' ? '224.0.0.0 to 239.255.255.255' : 'ff00::/8'})`,
      );
      return;
    }
    this.note(
      group.pos,
      where,
      `group ${group.text} and its port, TTL and loop are not carried over: VRRP uses ` +
        `${name === 'mcast' ? '224.0.0.18' : 'ff02::12'} with TTL 255`,
    );
    this.media.push({ kind: name, kw, dev });
  }

  private autoFailback(words: [Word, ...Word[]], where: string): void {
    if (!this.args(words, 1, 1, where)) return;
    const w = words[1]!;
    this.sawFailback = true;
    if (w.text.toLowerCase() === 'legacy') {
      this.failback = { preempt: true, word: w };
      this.diag(
        'warning',
        'TND_CFG_DEPRECATED',
        w.pos,
        where,
        'auto_failback legacy is deprecated in heartbeat; read as on (the resources move back to their preferred node)',
      );
      return;
    }
    const b = hbBool(w.text);
    if (b === undefined) {
      this.diag('error', 'TND_CFG_ENUM', w.pos, where, `must be on, off or legacy, got ${JSON.stringify(w.text)}`);
      return;
    }
    this.failback = { preempt: b, word: w };
  }

  private niceFailback(words: [Word, ...Word[]], where: string): void {
    if (!this.args(words, 1, 1, where)) return;
    const w = words[1]!;
    const b = hbBool(w.text);
    if (b === undefined) {
      this.diag('error', 'TND_CFG_ENUM', w.pos, where, `must be on or off, got ${JSON.stringify(w.text)}`);
      return;
    }
    this.sawFailback = true;
    this.failback = { preempt: !b, word: w };
    this.diag(
      'warning',
      'TND_CFG_DEPRECATED',
      words[0].pos,
      where,
      `nice_failback is the old name of auto_failback: write auto_failback ${b ? 'off' : 'on'}`,
    );
  }

  private crm(words: [Word, ...Word[]], where: string): void {
    if (!this.args(words, 1, 1, where)) return;
    const w = words[1]!;
    const b = w.text.toLowerCase() === 'respawn' ? true : hbBool(w.text);
    if (b === undefined) {
      this.diag('error', 'TND_CFG_ENUM', w.pos, where, `must be on, off or respawn, got ${JSON.stringify(w.text)}`);
      return;
    }
    if (b)
      this.diag(
        'error',
        'TND_CFG_REJECTED',
        w.pos,
        where,
        `${words[0].text} ${w.text}: the resources live in Pacemaker's CIB, not in haresources; ` +
          'tandem imports heartbeat R1 (haresources) configurations only',
      );
  }

  /** Checks that need the whole ha.cf: heartbeat's own start-up checks, then the instance settings. */
  private finishHaCf(): void {
    const haCf = this.files.haCf;
    if (this.media.length === 0)
      this.diag(
        'error',
        'TND_CFG_REQUIRED',
        this.start(haCf),
        'ha.cf',
        'no heartbeat media defined: add bcast, mcast or ucast (VRRP adverts go out on that interface)',
      );
    if (this.nodes.length === 0)
      this.diag('error', 'TND_CFG_REQUIRED', this.start(haCf), 'ha.cf', 'no nodes defined: add node lines');
    this.nodes.forEach((n, i) => {
      this.raw.cluster.nodes ??= [];
      (this.raw.cluster.nodes as Obj[]).push({ name: n.text });
      this.map.record(['cluster', 'nodes', i], n.pos, 'ha.cf: node');
      this.map.record(['cluster', 'nodes', i, 'name'], n.pos, 'ha.cf: node');
    });

    const keepalive = this.keepalive?.ms ?? 1000;
    const deadtime = this.deadtime?.ms ?? 30_000;
    if (deadtime <= 2 * keepalive) {
      const w = this.deadtime?.word ?? this.keepalive?.word;
      this.diag(
        'error',
        'TND_CFG_TIMING',
        w?.pos ?? this.start(haCf),
        w === this.keepalive?.word ? 'ha.cf: keepalive' : 'ha.cf: deadtime',
        `deadtime ${deadtime} ms must be more than twice keepalive ${keepalive} ms (heartbeat refuses it too)`,
      );
    }
    if (this.initdead) {
      const { ms, word } = this.initdead;
      if (ms < deadtime)
        this.diag(
          'error',
          'TND_CFG_TIMING',
          word.pos,
          'ha.cf: initdead',
          `initdead ${ms} ms is smaller than deadtime ${deadtime} ms (heartbeat refuses it too)`,
        );
      else if (ms < 2 * deadtime)
        this.diag(
          'warning',
          'TND_CFG_TIMING',
          word.pos,
          'ha.cf: initdead',
          `initdead ${ms} ms is less than twice deadtime, which heartbeat recommends; not carried over anyway: a ` +
            'starting tandem node waits one master-down interval (about deadtime) before it takes over',
        );
      else
        this.note(
          word.pos,
          'ha.cf: initdead',
          'initdead is not carried over: a starting tandem node waits one master-down interval (about deadtime)',
        );
    }
    if (!this.sawFailback)
      this.diag(
        'warning',
        'TND_CFG_DEPRECATED',
        this.start(haCf),
        'ha.cf: auto_failback',
        "no auto_failback: heartbeat's default is legacy, which is deprecated; read as on (write auto_failback on or off)",
      );

    const devices = new Map<string, Medium>();
    for (const m of this.media) if (!devices.has(m.dev.text)) devices.set(m.dev.text, m);
    const [first, ...others] = devices.values();
    // Every further medium's device is a redundant heartbeat path: adverts go out on each, any one keeps the master.
    const paths = others.map((m) => ({
      dev: m.dev,
      label: `ha.cf: ${m.kind}`,
      peers: this.media.filter((x) => x.peer && x.dev.text === m.dev.text).map((x) => x.peer!),
    }));
    const peers = this.media.filter((m) => m.peer && m.dev.text === first?.dev.text);
    const unicast = peers.length > 0;
    if (unicast) {
      for (const m of this.media)
        if (!m.peer && m.dev.text === first?.dev.text)
          this.note(
            m.kw.pos,
            `ha.cf: ${m.kind}`,
            `${m.kind} on ${m.dev.text} is replaced by unicast to the ucast peers`,
          );
      if (this.nodes.length > 0 && peers.length < this.nodes.length)
        this.diag(
          'warning',
          'TND_CFG_NOT_CARRIED',
          peers[0]!.kw.pos,
          'ha.cf: ucast',
          `${peers.length} ucast address(es) for ${this.nodes.length} nodes: this ha.cf is likely one node's own; ` +
            "tandem runs one file on every node, so list every node's address with a ucast line (a node skips its own)",
        );
    }
    // VRRP counts at most 100 missed adverts: past that, slow the adverts so that takeover still takes deadtime.
    let advert = keepalive;
    if (deadtime > 100 * keepalive && keepalive > 0) {
      advert = Math.ceil(deadtime / 100 / 10) * 10;
      this.diag(
        'warning',
        'TND_CFG_TIMING',
        (this.keepalive?.word ?? this.deadtime?.word)?.pos ?? this.start(haCf),
        'ha.cf: keepalive',
        `deadtime is more than 100 keepalives, and VRRP counts at most 100 missed adverts: adverts go every ` +
          `${advert} ms instead of ${keepalive} ms, so that a backup still takes over after deadtime`,
      );
    }
    this.settings = {
      interface: first ? { text: first.dev.text, pos: first.dev.pos, label: `ha.cf: ${first.kind}` } : undefined,
      peers: unicast ? peers.map((m) => m.peer!) : [],
      keepalive: advert,
      downAdverts: keepalive > 0 ? Math.ceil(deadtime / advert) : 1,
      preempt: this.failback?.preempt ?? true,
      paths,
    };
    this.pingTargets();
  }

  /** ping / ping_group → vrrp.track_pings (docs/split-brain.md §3). */
  private pingTargets(): void {
    if (this.pings.length === 0) {
      if (this.ipfail) this.note(this.ipfail.pos, 'ha.cf: respawn', 'ipfail without ping nodes does nothing');
      return;
    }
    const objects: Obj = {};
    for (const p of this.pings) {
      objects[p.name] = { targets: p.targets.map((t) => t.text) };
      this.map.record(['vrrp', 'track_pings', p.name], p.kw.pos, `ha.cf: ${p.kw.text}`);
      for (const [i, t] of p.targets.entries())
        this.map.record(['vrrp', 'track_pings', p.name, 'targets', i], t.pos, `ha.cf: ${p.kw.text}`);
    }
    this.raw.vrrp.track_pings = objects;
    if (!this.ipfail)
      this.note(
        this.pings[0]!.kw.pos,
        'ha.cf: ping',
        'without ipfail heartbeat only reports ping nodes: the ping targets are written out but no instance tracks them',
      );
  }

  /** The heartbeat paths and (with ipfail) the ping targets of one instance. */
  private splitBrainOf(
    inst: Obj,
    s: NonNullable<Reader['settings']>,
    rec: (sub: ConfigPath, pos: SourcePos, label?: string) => void,
  ): void {
    if (s.paths.length > 0) {
      inst.paths = s.paths.map((p) => ({
        interface: p.dev.text,
        ...(p.peers.length ? { unicast: { peers: p.peers.map((w) => w.text) } } : {}),
      }));
      s.paths.forEach((p, j) => {
        rec(['paths', j], p.dev.pos, p.label);
        rec(['paths', j, 'interface'], p.dev.pos, p.label);
      });
    }
    if (this.ipfail && this.pings.length > 0) {
      // ipfail: the node that reaches more ping nodes holds the resources; one more than the preferred node's lead.
      const weight = PREFERRED_PRIORITY - OTHER_PRIORITY + 1;
      inst.track = { pings: this.pings.map((p) => ({ name: p.name, weight })) };
      rec(['track'], this.ipfail.pos, 'ha.cf: respawn ipfail');
    }
  }

  // ---- authkeys

  private readAuthkeys(lines: HbLine[], mode: number | undefined): void {
    const file = this.files.authkeys;
    if (mode !== undefined && (mode & 0o077) !== 0) {
      this.diag(
        'error',
        'TND_CFG_PERMISSIONS',
        this.start(file),
        'authkeys',
        `mode ${mode.toString(8).padStart(4, '0')} lets group or others at the keys; heartbeat refuses such a ` +
          `keyfile ("Bad permissions on keyfile, 600 recommended") and so does tandem: chmod 600 ${file}`,
      );
    }
    let auth: Word | undefined;
    let authKw: Word | undefined;
    const keys = new Map<number, { pos: SourcePos; method: string }>();
    for (const { words } of lines) {
      const [first, ...rest] = words;
      if (first.text === 'auth') {
        if (this.args(words, 1, 1, 'authkeys: auth')) {
          auth = rest[0];
          authKw = first;
        }
        continue;
      }
      const where = `authkeys: ${first.text}`;
      if (!/^\d+$/.test(first.text)) {
        this.diag(
          'error',
          'TND_CFG_SYNTAX',
          first.pos,
          'authkeys',
          `expected "auth N" or "N METHOD [KEY]", got ${JSON.stringify(first.text)}`,
        );
        continue;
      }
      const n = Number(first.text);
      if (n > 15) {
        this.diag('error', 'TND_CFG_RANGE', first.pos, where, `key numbers are 0..15, got ${n}`);
        continue;
      }
      const method = rest[0];
      if (!method) {
        this.diag('error', 'TND_CFG_ARGS', first.pos, where, 'a key line needs a method: crc, md5 or sha1');
        continue;
      }
      if (!['crc', 'md5', 'sha1'].includes(method.text)) {
        this.diag('error', 'TND_CFG_ENUM', method.pos, where, `must be crc, md5 or sha1, got ${method.text}`);
        continue;
      }
      if (method.text !== 'crc' && !rest[1]) {
        this.diag('error', 'TND_CFG_ARGS', method.pos, where, `${method.text} needs a key after it`);
        continue;
      }
      const before = keys.get(n);
      if (before) {
        this.diag(
          'error',
          'TND_CFG_DUPLICATE',
          first.pos,
          where,
          `key ${n} is defined twice; first at line ${before.pos.line}`,
        );
        continue;
      }
      keys.set(n, { pos: first.pos, method: method.text });
    }
    if (!auth || !authKw) {
      this.diag('error', 'TND_CFG_REQUIRED', this.start(file), 'authkeys', 'no authentication specified: add "auth N"');
      return;
    }
    const used = /^\d+$/.test(auth.text) ? keys.get(Number(auth.text)) : undefined;
    if (!used) {
      this.diag('error', 'TND_CFG_UNKNOWN_REF', auth.pos, 'authkeys: auth', `no key ${auth.text} in ${file}`);
      return;
    }
    if (used.method === 'crc') {
      this.diag(
        'warning',
        'TND_CFG_NOT_CARRIED',
        authKw.pos,
        'authkeys: auth',
        'crc authentication has no key, so there is no shared key to carry over; VRRPv3 adverts carry no ' +
          'authentication either (RFC 5798 §9): keep the VRRP link on a trusted network segment',
      );
      return;
    }
    // The key is carried as the cluster's shared key by reference: the import names this 0600 file, which tandem
    // reads as heartbeat does, so the secret is never copied into the YAML, a diagnostic or the terminal. Not the
    // VRRP auth: VRRPv3 has none, and VRRPv2's would send 8 characters of it in clear text.
    this.raw.cluster.key_file = file;
    this.map.record(['cluster', 'key_file'], authKw.pos, 'authkeys: auth');
    this.note(
      authKw.pos,
      'authkeys: auth',
      `heartbeat's ${used.method} key is the cluster's shared key (cluster.key_file names ${file}; the key is not ` +
        'copied); VRRPv3 adverts carry no authentication (RFC 5798 §9): keep the VRRP link on a trusted segment',
    );
  }

  // ---- haresources

  private readHaresources(lines: HbLine[]): void {
    const file = this.files.haresources;
    const firsts = new Map<string, SourcePos>();
    const s = this.settings;
    if (lines.length === 0)
      this.diag(
        'warning',
        'TND_CFG_REQUIRED',
        this.start(file),
        'haresources',
        'no resource groups: nothing fails over',
      );
    for (const { words } of lines) {
      const [nodeWord, ...resources] = words;
      const k = this.raw.vrrp.instances.length;
      const first = resources[0];
      const label = first ? `haresources: ${first.text}` : 'haresources';
      if (!first) {
        this.diag('error', 'TND_CFG_ARGS', nodeWord.pos, label, `a line needs a node name and at least one resource`);
        continue;
      }
      const dup = firsts.get(first.text);
      if (dup) {
        this.diag(
          'error',
          'TND_CFG_DUPLICATE',
          first.pos,
          label,
          `${first.text} already starts the group at line ${dup.line}: heartbeat names a group by its first resource`,
        );
        continue;
      }
      firsts.set(first.text, first.pos);
      const preferred = this.nodes.find((n) => n.text.toLowerCase() === nodeWord.text.toLowerCase());
      if (!preferred && this.nodes.length > 0)
        this.diag(
          'error',
          'TND_CFG_UNKNOWN_REF',
          nodeWord.pos,
          label,
          `${nodeWord.text} is not a node of ha.cf (${this.nodes.map((n) => n.text).join(', ')})`,
        );

      const name = `VI_${k + 1}`;
      const base: ConfigPath = ['vrrp', 'instances', k];
      const rec = (sub: ConfigPath, pos: SourcePos, l = label): void => this.map.record([...base, ...sub], pos, l);
      const inst: Obj = { name, vrid: k + 1, version: 3 };
      rec([], nodeWord.pos);
      rec(['name'], nodeWord.pos);
      rec(['vrid'], nodeWord.pos);
      if (s?.interface) {
        inst.interface = s.interface.text;
        rec(['interface'], s.interface.pos, s.interface.label);
      }
      const priority: Obj = {};
      for (const n of this.nodes) priority[n.text] = n === preferred ? PREFERRED_PRIORITY : OTHER_PRIORITY;
      inst.priority = this.nodes.length > 0 ? priority : PREFERRED_PRIORITY;
      rec(['priority'], nodeWord.pos, `${label}: preferred node`);
      if (s) {
        inst.advert_interval = s.keepalive;
        if (this.keepalive) rec(['advert_interval'], this.keepalive.word.pos, 'ha.cf: keepalive');
        inst.down_timer_adverts = s.downAdverts;
        if (this.deadtime) rec(['down_timer_adverts'], this.deadtime.word.pos, 'ha.cf: deadtime');
        inst.preempt = s.preempt;
        if (this.failback) rec(['preempt'], this.failback.word.pos, 'ha.cf: auto_failback');
        if (s.peers.length > 0) {
          inst.unicast = { peers: s.peers.map((w) => w.text) };
          rec(['unicast'], s.peers[0]!.pos, 'ha.cf: ucast');
          for (const [j, w] of s.peers.entries()) rec(['unicast', 'peers', j], w.pos, 'ha.cf: ucast');
        }
        this.splitBrainOf(inst, s, rec);
      }
      const vips: unknown[] = [];
      const others: Obj[] = [];
      const groupBase: ConfigPath = ['groups', this.raw.groups.length];
      for (const w of resources) {
        const vip = this.vip(w, s?.interface?.text);
        if (vip === null) continue; // reported
        if (vip !== undefined) {
          rec(['vips', vips.length], w.pos, `haresources: ${w.text}`);
          if (typeof vip === 'object') {
            for (const key of Object.keys(vip)) rec(['vips', vips.length, key], w.pos, `haresources: ${w.text}`);
          }
          vips.push(vip);
          if (others.length > 0)
            this.note(
              w.pos,
              `haresources: ${w.text}`,
              `heartbeat adds this address after ${others.map((o) => resourceName(o)).join(', ')}; tandem adds the ` +
                'addresses of the VRRP instance when it becomes master, before the group starts',
            );
          continue;
        }
        const res = this.resource(w, `haresources: ${w.text}`);
        if (!res) continue;
        this.map.record([...groupBase, 'resources', others.length], w.pos, `haresources: ${w.text}`);
        for (const key of Object.keys(res))
          this.map.record([...groupBase, 'resources', others.length, key], w.pos, `haresources: ${w.text}`);
        others.push(res);
      }
      inst.vips = vips;
      rec(['vips'], first.pos);
      if (inst.interface === undefined) {
        // No heartbeat medium (already reported): take the interface of an address, to report nothing twice.
        const j = vips.findIndex((v) => typeof v === 'object');
        if (j !== -1) {
          inst.interface = (vips[j] as Obj).dev;
          rec(['interface'], this.map.locator().locate([...base, 'vips', j]).pos);
        }
      }
      this.raw.vrrp.instances.push(inst);
      if (others.length > 0) {
        this.raw.groups.push({ name: `group_${k + 1}`, owner: name, resources: others });
        this.map.record(groupBase, nodeWord.pos, label);
        this.map.record([...groupBase, 'name'], nodeWord.pos, label);
        this.map.record([...groupBase, 'owner'], nodeWord.pos, label);
        this.map.record([...groupBase, 'resources'], first.pos, label);
      }
    }
  }

  /**
   * A resource that is an address: the vip value, undefined when it is not an address, null when it is a malformed
   * one (reported).
   */
  private vip(w: Word, instanceDev: string | undefined): unknown {
    const parts = w.text.split('::');
    const kind = parts[0]!;
    let spec: string;
    if (/^\d{1,3}(\.\d{1,3}){3}(\/.*)?$/.test(kind) && parts.length === 1) spec = kind;
    else if ((kind === 'IPaddr' || kind === 'IPaddr2') && parts.length >= 2) {
      if (parts.length > 2) {
        this.diag('error', 'TND_CFG_ARGS', w.pos, `haresources: ${w.text}`, `${kind} takes one argument (IP/LEN/NIC)`);
        return null;
      }
      spec = parts[1]!;
    } else if (kind === 'IPv6addr' && parts.length >= 2) spec = w.text.slice('IPv6addr::'.length);
    else return undefined;
    const where = `haresources: ${w.text}`;
    const { ip: addr, netmask: prefix, nic, label, broadcast } = parseIpaddrArgument(spec);
    let len = prefix;
    if (prefix !== undefined && /^\d+\.\d+\.\d+\.\d+$/.test(prefix)) {
      const p = netmaskPrefix(prefix);
      len = p === undefined ? undefined : String(p);
      if (len === undefined) {
        this.diag('error', 'TND_CFG_ADDRESS', w.pos, where, `${prefix} is not a contiguous netmask`);
        return null;
      }
    }
    const noPrefix = prefix === undefined || prefix === '';
    if (!nic)
      this.diag(
        'warning',
        'TND_CFG_NOT_CARRIED',
        w.pos,
        where,
        `${addr} names no ${noPrefix ? 'prefix length or ' : ''}interface: heartbeat finds ${noPrefix ? 'them' : 'it'} ` +
          `from the routing table; tandem adds ${noPrefix ? `${addr}/32` : addr} on ${instanceDev ?? 'the VRRP interface'}` +
          ' (write IPaddr2::ADDR/LEN/NIC to choose)',
      );
    else if (noPrefix)
      this.note(
        w.pos,
        where,
        `${addr} has no prefix length: heartbeat takes it from the routing table; tandem adds ${addr}/32`,
      );
    if (broadcast !== undefined)
      this.note(w.pos, where, `broadcast ${broadcast} is not carried over: the kernel derives it from the prefix`);
    const address = len ? `${addr}/${len}` : addr;
    if (label) return { address, dev: nic, label };
    return nic && nic !== instanceDev ? { address, dev: nic } : address;
  }

  /** Any other resource: Filesystem, or an init script from resource.d / init.d. */
  private resource(w: Word, where: string): Obj | undefined {
    const [name = '', ...args] = w.text.split('::');
    if (name === 'Filesystem') {
      if (args.length < 3 || args.length > 4) {
        this.diag(
          'error',
          'TND_CFG_ARGS',
          w.pos,
          where,
          `Filesystem takes 3 or 4 arguments (Filesystem::DEVICE::DIRECTORY::FSTYPE[::OPTIONS]), got ${args.length}`,
        );
        return undefined;
      }
      const [device, directory, fstype, options] = args as [string, string, string, string?];
      return options === undefined
        ? { type: 'fs', device, directory, fstype }
        : { type: 'fs', device, directory, fstype, options };
    }
    if (name === '') {
      this.diag('error', 'TND_CFG_SYNTAX', w.pos, where, `a resource name is missing before '::'`);
      return undefined;
    }
    return args.length > 0 ? { type: 'lsb', script: name, args } : { type: 'lsb', script: name };
  }
}

/** The parts of heartbeat's `IPaddr` / `IPaddr2` resource argument. */
export interface IpaddrArgument {
  ip: string;
  /** Prefix length or dotted netmask; undefined when not given (heartbeat then asks the routing table). */
  netmask?: string;
  /** The base interface (`eth0` of `eth0:10`); undefined when not given. */
  nic?: string;
  /** The alias label (`eth0:10`) when the interface was written with one. */
  label?: string;
  broadcast?: string;
}

/**
 * Splits `ADDR[/NETMASK[/NIC[:LABEL][/BROADCAST]]]` as heartbeat's resource.d/IPaddr and IPaddr2 wrappers do before
 * they call the OCF agents: each field is cut with a sed expression that removes the field and every slash after
 * it (`^[^/]*` then `/` repeated), so any number of slashes separates two
 * fields (`10.0.30.15//8/eth0:10` is 10.0.30.15, 8, eth0:10), an empty field is absent, and a third field that
 * starts with a digit is the broadcast address, not an interface (`ADDR/24/198.18.0.255`). The OCF agents then drop
 * an alias suffix from the nic (`eth0:10` → eth0: the agent cuts at the first colon), kept here as the label. Pure.
 * @example parseIpaddrArgument('10.0.30.15//8/eth0:10') // { ip: '10.0.30.15', netmask: '8', nic: 'eth0', label: 'eth0:10' }
 */
export function parseIpaddrArgument(arg: string): IpaddrArgument {
  let rest = arg;
  const take = (): string | undefined => {
    const m = /^([^/]*)\/*/.exec(rest)!;
    rest = rest.slice(m[0].length);
    return m[1] === '' ? undefined : m[1];
  };
  const out: IpaddrArgument = { ip: take() ?? '' };
  const netmask = take();
  if (netmask !== undefined) out.netmask = netmask;
  let nic = take();
  if (nic !== undefined && /^\d/.test(nic)) {
    out.broadcast = nic;
    nic = undefined;
  } else {
    const broadcast = take();
    if (broadcast !== undefined) out.broadcast = broadcast;
  }
  if (nic !== undefined) {
    const base = nic.split(':')[0]!;
    out.nic = base;
    if (base !== nic) out.label = nic;
  }
  return out;
}

function resourceName(o: Obj): string {
  return o.type === 'fs' ? `Filesystem ${String(o.directory)}` : String(o.script);
}
