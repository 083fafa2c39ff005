/**
 * The LVS part of keepalived.conf — `virtual_server`, `virtual_server_group`, `real_server` and its checkers — read
 * into `lb.services` of the native config, with locator records that point every field at the user's own line.
 *
 * keepalived's semantics are kept, not the YAML schema's HAProxy-like defaults: every check gets keepalived's values
 * written out (rise 1, fall 1, retry 1 — 0 for MISC_CHECK —, delay_before_retry 3 s for HTTP_GET/SSL_GET else 1 s,
 * interval = delay_loop, default 60 s, connect_timeout 5 s), and the settings keepalived passes down (virtual server
 * → real server → checker: delay_loop, connect_timeout, retry, delay_before_retry, warmup, alpha, virtualhost) are
 * resolved here, once the whole file is read, as keepalived does after parsing.
 *
 * Where tandem's model is narrower than keepalived's, the reader says so at the line concerned: one check per real
 * server (the first checker; the others are warned), one url per HTTP check, inhibit_on_failure per service. What
 * each keyword becomes is listed in ./keepalived-keywords.ts and docs/keepalived.md.
 * @see keepalived.conf(5) "LVS CONFIGURATION"; keepalived check_parser.c, check_data.c validate_check_config()
 */
// alerts (issue 12 item 5)

import { isIPv4, isIPv6 } from 'node:net';
import type { ConfigPath, SourcePos } from '../diagnostics.ts';
import { type Handler, type Parser, type Scope, weightField } from './keepalived.ts';
import { fileSmtpAlert, readSmtpAlert, type SmtpAlertAt } from './keepalived-alerts.ts';
import { type KaBlock, LB_SCHEDULERS, OTHER_SCHEDULERS, REJECTED } from './keepalived-keywords.ts';
import type { Word } from './keepalived-lexer.ts';

type Obj = Record<string, unknown>;
type Loc<T> = { value: T; pos: SourcePos; label: string };
interface Rec {
  sub: ConfigPath;
  pos: SourcePos;
  label: string;
}

/** Settings a checker takes from its real server, and a real server from its virtual server (as keepalived). */
interface Inherited {
  delay_loop?: Loc<number>;
  connect_timeout?: Loc<number>;
  retry?: Loc<number>;
  delay_before_retry?: Loc<number>;
  warmup?: Loc<number>;
  alpha?: Loc<boolean>;
  virtualhost?: Loc<string>;
  inhibit?: Loc<boolean>;
  weight?: Loc<number>;
}

type CheckType = 'tcp' | 'http' | 'https' | 'script' | 'udp' | 'ping' | 'smtp' | 'dns' | 'file';

interface CheckDraft {
  kw: Word;
  label: string;
  type: CheckType;
  obj: Obj;
  recs: Rec[];
  inh: Inherited;
  urls: number;
  /** SMTP_CHECK host blocks, each with its own object and records. */
  hosts: { kw: Word; obj: Obj; recs: Rec[] }[];
  /** FILE_CHECK: the track_file named, resolved once the whole file is read. */
  trackFile?: Word;
}

interface RsDraft {
  /** alerts (issue 12 item 5): smtp_alert, filed under the service's name at the end. */
  smtpAlert?: SmtpAlertAt;
  kw: Word;
  label: string;
  addr: Word;
  port?: { value: number; word: Word };
  obj: Obj;
  recs: Rec[];
  inh: Inherited;
  checks: CheckDraft[];
  method?: Loc<'nat' | 'dr'>;
}

interface VsDraft {
  /** alerts (issue 12 item 5): smtp_alert, filed under the service's name at the end. */
  smtpAlert?: SmtpAlertAt;
  kw: Word;
  label: string;
  target:
    | { kind: 'addr'; vip: Word; port?: { value: number; word: Word } }
    | { kind: 'group'; name: Word }
    | { kind: 'fwmark'; mark: { value: number; word: Word } };
  obj: Obj;
  recs: Rec[];
  inh: Inherited;
  rs: RsDraft[];
  sorry?: { kw: Word; addr: Word; port?: { value: number; word: Word } };
  /** persistence_granularity given without persistence_timeout: keepalived then uses its default timeout. */
  granularityAt?: Loc<number>;
}

interface GroupEntry {
  addrs: string[];
  at: Word;
  port?: { value: number; word: Word };
  /** A `fwmark N` entry: a firewall-mark service instead of addresses. */
  fwmark?: { value: number; word: Word };
}

interface GroupDraft {
  name: Word;
  label: string;
  entries: GroupEntry[];
}

/** The LVS part as read so far; turned into `lb.services` once the whole input is read (groups may come later). */
export interface LbState {
  vs: VsDraft[];
  groups: Map<string, GroupDraft>;
}

/** Where the statements of an LVS block go: the virtual server, and the real server and checker being read. */
export interface LbScope {
  vs: VsDraft;
  rs?: RsDraft;
  check?: CheckDraft;
  /** The settings of this level that its checks inherit. */
  inh: Inherited;
}

/** An empty LbState. */
export function newLbState(): LbState {
  return { vs: [], groups: new Map() };
}

/** keepalived's persistence timeout when none is given (IPVS_SVC_PERSISTENT_TIMEOUT, 6 minutes). */
export const KA_PERSISTENCE_TIMEOUT_MS = 360_000;
/** keepalived's delay_loop when none is given. */
export const KA_DELAY_LOOP_MS = 60_000;
/** keepalived's connect_timeout when none is given. */
export const KA_CONNECT_TIMEOUT_MS = 5_000;
/** The most addresses one virtual_server_group entry may expand to (each becomes a service). */
export const MAX_GROUP_ADDRESSES = 1024;

// ---- small handler factories (the block is named explicitly, for argument errors that name a stray keyword)

const whereOf = (scope: Scope, kw: Word): string => `${scope.label}: ${kw.text}`;

/**
 * keepalived's `user USERNAME [GROUPNAME]` (also `USER:GROUP`) in vrrp_script and MISC_CHECK: the user is kept, a
 * group is warned and ignored.
 */
export function userHandler(block: KaBlock): Handler {
  return (p, words, scope) => {
    const where = whereOf(scope, words[0]);
    const args = p.args(words, 1, 2, where, block);
    if (!args?.[0]) return;
    const [user, group] = args[0].text.split(':', 2);
    scope.obj.user = user;
    scope.rec(['user'], args[0].pos, where);
    const g = args[1]?.text ?? group;
    if (g !== undefined) {
      p.diag(
        'warning',
        'TND_CFG_UNSUPPORTED',
        (args[1] ?? args[0]).pos,
        where,
        `group ${g} is not supported yet; ignored (the user's own group applies)`,
      );
    }
  };
}

function one(block: KaBlock, apply: (p: Parser, v: Word, scope: Scope, where: string, kw: Word) => void): Handler {
  return (p, words, scope) => {
    const where = whereOf(scope, words[0]);
    const args = p.args(words, 1, 1, where, block);
    if (args?.[0]) apply(p, args[0], scope, where, words[0]);
  };
}

/** A value written into the current object: a whole number, seconds as ms, or text. */
function field(block: KaBlock, key: string, read: 'int' | 'ms' | 'text'): Handler {
  return one(block, (p, v, scope, where) => {
    const value = read === 'int' ? p.int(v, where) : read === 'ms' ? p.ms(v, where) : v.text;
    if (value === undefined) return;
    scope.obj[key] = value;
    scope.rec([key], v.pos, where);
  });
}

/** A flag (no value) that sets `key` to `value`; arguments are ignored as keepalived does. */
function flag(block: KaBlock, key: string, value: unknown): Handler {
  return (p, words, scope) => {
    const where = whereOf(scope, words[0]);
    p.flagArgs(words, where, block);
    scope.obj[key] = value;
    scope.rec([key], words[0].pos, where);
  };
}

/** A setting the checks below inherit (keepalived: virtual server → real server → checker). */
function inherited(block: KaBlock, key: 'delay_loop' | 'connect_timeout' | 'delay_before_retry' | 'warmup'): Handler;
function inherited(block: KaBlock, key: 'retry' | 'weight'): Handler;
function inherited(block: KaBlock, key: 'virtualhost'): Handler;
function inherited(block: KaBlock, key: keyof Inherited): Handler {
  return one(block, (p, v, scope, where) => {
    const inh = scope.lb!.inh as Record<string, Loc<unknown>>;
    const read =
      key === 'retry' || key === 'weight' ? p.int(v, where) : key === 'virtualhost' ? v.text : p.ms(v, where);
    if (read !== undefined) inh[key] = { value: read, pos: v.pos, label: where };
  });
}

/** `alpha` / `inhibit_on_failure`: a <BOOL>, where no value means true. */
function inheritedBool(block: KaBlock, key: 'alpha' | 'inhibit'): Handler {
  return (p, words, scope) => {
    const where = whereOf(scope, words[0]);
    const args = p.args(words, 0, 1, where, block);
    if (!args) return;
    const b = p.bool(args[0], where);
    if (b !== undefined) scope.lb!.inh[key] = { value: b, pos: (args[0] ?? words[0]).pos, label: where };
  };
}

/** A command line: one quoted word is the whole line; several words are joined, quoting those with blanks. */
function commandText(args: readonly Word[]): string {
  if (args.length === 1) return args[0]!.text;
  return args.map((w) => (/[\s']/.test(w.text) || !w.text ? `'${w.text.replaceAll("'", `'\\''`)}'` : w.text)).join(' ');
}

/** quorum_up / quorum_down: a command line; keepalived's further words name a user and group. */
function quorumScript(key: 'up' | 'down'): Handler {
  return (p, words, scope) => {
    const where = whereOf(scope, words[0]);
    const args = p.args(words, 1, 3, where, 'virtual_server');
    if (!args?.[0]) return;
    const quorum = (scope.obj.quorum as Obj | undefined) ?? {};
    scope.obj.quorum = quorum;
    quorum[key] = args[0].text;
    scope.rec(['quorum'], words[0].pos, where);
    scope.rec(['quorum', key], args[0].pos, where);
    if (args[1]) {
      p.diag(
        'warning',
        'TND_CFG_UNSUPPORTED',
        args[1].pos,
        where,
        `running a quorum script as user ${args
          .slice(1)
          .map((w) => w.text)
          .join(' ')} is not supported yet; ignored (it runs as the tandem user). ` +
          'Quote the script and its arguments if these words were meant as arguments',
      );
    }
  };
}

/** A port word: a whole number passed through for the schema to judge (0..65535); undefined when not a number. */
function portOf(p: Parser, w: Word | undefined, where: string): { value: number; word: Word } | undefined {
  if (!w) return undefined;
  const n = p.int(w, where);
  return n === undefined ? undefined : { value: n, word: w };
}

// ---- top level: virtual_server and virtual_server_group

/** `virtual_server IP [PORT] | group NAME | fwmark N { … }`. */
const virtualServer: Handler = (p, words) => {
  const kw = words[0];
  const label = words.map((w) => w.text).join(' ');
  const args = words.slice(1);
  let target: VsDraft['target'] | undefined;
  let keep = true;
  if (args[0]?.text === 'fwmark') {
    const a = p.args(words, 2, 2, label, 'top level');
    const mark = a?.[1] ? fwmarkOf(p, a[1], label) : undefined;
    if (mark) target = { kind: 'fwmark', mark };
    else keep = false;
  } else if (args[0]?.text === 'group') {
    const a = p.args(words, 2, 2, label, 'top level');
    if (a?.[1]) target = { kind: 'group', name: a[1] };
  } else {
    const a = p.args(words, 1, 2, label, 'top level');
    if (a?.[0]) {
      target = { kind: 'addr', vip: a[0] };
      if (a[1]) {
        const port = portOf(p, a[1], label);
        if (port) target.port = port;
        else keep = false;
      }
    }
  }
  const vs: VsDraft = {
    kw,
    label,
    target: target ?? { kind: 'addr', vip: kw },
    obj: {},
    recs: [],
    inh: {},
    rs: [],
  };
  if (target && keep) p.lb.vs.push(vs);
  const scope: Scope = {
    obj: vs.obj,
    base: [],
    label,
    rec: (sub, pos, l) => vs.recs.push({ sub, pos, label: l }),
    lb: { vs, inh: vs.inh },
  };
  p.block(kw, label, 'keywords', 'virtual_server', (w) => p.dispatch('virtual_server', w, scope));
};

/** `virtual_server_group NAME { ADDR[-END|/LEN] [PORT] … fwmark N … }`. */
const virtualServerGroup: Handler = (p, words) => {
  const kw = words[0];
  const name = p.args(words, 1, 1, kw.text, 'top level')?.[0];
  const label = name ? `virtual_server_group ${name.text}` : 'virtual_server_group';
  const group: GroupDraft = { name: name ?? kw, label, entries: [] };
  if (name && !p.duplicate('virtual_server_group', name, label)) p.lb.groups.set(name.text, group);
  p.block(kw, label, 'values', undefined, (entry) => groupEntry(p, entry, group, label));
};

/** A firewall mark: a whole number 1..2^32-1 (keepalived reads it with strtoul, so 0x… hex is allowed too). */
function fwmarkOf(p: Parser, w: Word, where: string): { value: number; word: Word } | undefined {
  const n = /^0[xX][0-9a-fA-F]+$/.test(w.text) ? Number.parseInt(w.text.slice(2), 16) : p.int(w, where);
  if (n === undefined) return undefined;
  if (n < 1 || n > 0xffff_ffff) {
    p.diag('error', 'TND_CFG_RANGE', w.pos, where, `a firewall mark is 1..4294967295, got ${w.text}`);
    return undefined;
  }
  return { value: n, word: w };
}

function groupEntry(p: Parser, words: [Word, ...Word[]], group: GroupDraft, where: string): void {
  const first = words[0];
  if (first.text === 'fwmark') {
    const mark = words[1] ? fwmarkOf(p, words[1], where) : undefined;
    if (!words[1]) p.diag('error', 'TND_CFG_ARGS', first.pos, where, 'fwmark needs a mark: fwmark N');
    else if (words.length > 2)
      p.diag('error', 'TND_CFG_ARGS', words[2]!.pos, where, 'an entry is fwmark N: one entry per line');
    else if (mark) group.entries.push({ addrs: [], at: first, fwmark: mark });
    return;
  }
  if (words.length > 2) {
    p.diag(
      'error',
      'TND_CFG_ARGS',
      words[2]!.pos,
      where,
      `an entry is ADDRESS [PORT] (or a range), got ${words.length} words: one entry per line`,
    );
    return;
  }
  const r = expandAddressRange(first.text, MAX_GROUP_ADDRESSES);
  if ('error' in r) {
    p.diag('error', r.code, first.pos, where, r.error);
    return;
  }
  const entry: GroupEntry = { addrs: r.addrs, at: first };
  if (words[1]) {
    const port = portOf(p, words[1], where);
    if (!port) return;
    entry.port = port;
  }
  group.entries.push(entry);
}

// ---- virtual_server

const scheduler = (block: KaBlock): Handler =>
  one(block, (p, v, scope, where, kw) => {
    if ((LB_SCHEDULERS as readonly string[]).includes(v.text)) {
      scope.obj.scheduler = v.text;
      scope.rec(['scheduler'], v.pos, where);
    } else if ((OTHER_SCHEDULERS as readonly string[]).includes(v.text)) {
      p.diag(
        'error',
        'TND_CFG_REJECTED',
        v.pos,
        where,
        `${kw.text} ${v.text} cannot be used with tandem: ${REJECTED.virtual_server.lvs_sched}`,
      );
    } else {
      p.diag(
        'error',
        'TND_CFG_ENUM',
        v.pos,
        where,
        `must be one of ${LB_SCHEDULERS.join(', ')}, got ${JSON.stringify(v.text)}`,
      );
    }
  });

/** `lvs_method NAT|DR|TUN [type …]`: NAT and DR are read, TUN is refused; returns the method read. */
function readMethod(p: Parser, words: [Word, ...Word[]], where: string, block: KaBlock): Loc<'nat' | 'dr'> | undefined {
  const args = p.args(words, 1, Number.POSITIVE_INFINITY, where, block);
  const v = args?.[0];
  if (!v) return undefined;
  if (v.text === 'TUN') {
    const why = REJECTED.virtual_server.lvs_method;
    p.diag('error', 'TND_CFG_REJECTED', v.pos, where, `${words[0].text} TUN cannot be used with tandem: ${why}`);
    return undefined;
  }
  if (args.length > 1) p.args(words, 1, 1, where, block);
  if (v.text === 'NAT' || v.text === 'DR') return { value: v.text === 'NAT' ? 'nat' : 'dr', pos: v.pos, label: where };
  p.diag(
    'error',
    'TND_CFG_ENUM',
    v.pos,
    where,
    `must be NAT or DR (upper case, as keepalived), got ${JSON.stringify(v.text)}`,
  );
  return undefined;
}

const vsMethod: Handler = (p, words, scope) => {
  const where = whereOf(scope, words[0]);
  const m = readMethod(p, words, where, 'virtual_server');
  if (!m) return;
  scope.obj.method = m.value;
  scope.rec(['method'], m.pos, where);
};

const persistenceOf = (scope: Scope): Obj => {
  const persistence = (scope.obj.persistence as Obj | undefined) ?? {};
  scope.obj.persistence = persistence;
  return persistence;
};

const persistenceTimeout: Handler = (p, words, scope) => {
  const kw = words[0];
  const where = whereOf(scope, kw);
  const args = p.args(words, 0, 1, where, 'virtual_server');
  if (!args) return;
  let ms = KA_PERSISTENCE_TIMEOUT_MS;
  if (args[0]) {
    const n = p.int(args[0], where);
    if (n === undefined) return;
    if (n < 1) {
      p.diag('error', 'TND_CFG_RANGE', args[0].pos, where, `must be at least 1 second, got ${n}`);
      return;
    }
    ms = n * 1000;
  }
  persistenceOf(scope).timeout = ms;
  scope.rec(['persistence'], kw.pos, where);
  scope.rec(['persistence', 'timeout'], (args[0] ?? kw).pos, where);
};

const persistenceGranularity = one('virtual_server', (p, v, scope, where, kw) => {
  const prefix = netmaskPrefix(v.text);
  if (prefix === undefined) {
    p.diag(
      'error',
      'TND_CFG_ADDRESS',
      v.pos,
      where,
      `must be an IPv4 netmask with contiguous ones (255.255.255.0) or an IPv6 prefix length (1..128), got ${JSON.stringify(v.text)}`,
    );
    return;
  }
  persistenceOf(scope).netmask = prefix;
  scope.rec(['persistence'], kw.pos, where);
  scope.rec(['persistence', 'netmask'], v.pos, where);
  scope.lb!.vs.granularityAt = { value: prefix, pos: kw.pos, label: where };
});

const protocol = one('virtual_server', (p, v, scope, where) => {
  const t = v.text.toUpperCase(); // keepalived compares without case (strcasecmp)
  if (t === 'TCP' || t === 'UDP') {
    scope.obj.protocol = t.toLowerCase();
    scope.rec(['protocol'], v.pos, where);
  } else if (t === 'SCTP') {
    p.diag(
      'error',
      'TND_CFG_REJECTED',
      v.pos,
      where,
      `protocol SCTP cannot be used with tandem: ${REJECTED.virtual_server.protocol}`,
    );
  } else {
    p.diag('error', 'TND_CFG_ENUM', v.pos, where, `must be TCP or UDP, got ${JSON.stringify(v.text)}`);
  }
});

const sorryServer: Handler = (p, words, scope) => {
  const kw = words[0];
  const where = whereOf(scope, kw);
  const args = p.args(words, 1, 2, where, 'virtual_server');
  if (!args?.[0]) return;
  const sorry: NonNullable<VsDraft['sorry']> = { kw, addr: args[0] };
  if (args[1]) {
    const port = portOf(p, args[1], where);
    if (!port) return;
    sorry.port = port;
  }
  scope.lb!.vs.sorry = sorry;
};

const quorumField = (key: 'min' | 'hysteresis'): Handler =>
  one('virtual_server', (p, v, scope, where, kw) => {
    const n = p.int(v, where);
    if (n === undefined) return;
    const quorum = (scope.obj.quorum as Obj | undefined) ?? {};
    scope.obj.quorum = quorum;
    quorum[key] = n;
    scope.rec(['quorum'], kw.pos, where);
    scope.rec(['quorum', key], v.pos, where);
  });

/** `real_server IP [PORT] { … }`. */
const realServer: Handler = (p, words, scope) => {
  const kw = words[0];
  const vs = scope.lb!.vs;
  const where = whereOf(scope, kw);
  const args = p.args(words, 1, 2, where, 'virtual_server');
  const label = `${scope.label}: ${words.map((w) => w.text).join(' ')}`;
  const rs: RsDraft = { kw, label, addr: args?.[0] ?? kw, obj: {}, recs: [], inh: {}, checks: [] };
  let keep = !!args?.[0];
  if (args?.[1]) {
    const port = portOf(p, args[1], where);
    if (port) rs.port = port;
    else keep = false;
  }
  if (keep) vs.rs.push(rs);
  const rsScope: Scope = {
    obj: rs.obj,
    base: [],
    label,
    rec: (sub, pos, l) => rs.recs.push({ sub, pos, label: l }),
    lb: { vs, rs, inh: rs.inh },
  };
  p.block(kw, label, 'keywords', 'real_server', (w) => p.dispatch('real_server', w, rsScope));
};

const VIRTUAL_SERVER: Record<string, Handler> = {
  lvs_sched: scheduler('virtual_server'),
  lb_algo: scheduler('virtual_server'),
  lvs_method: vsMethod,
  lb_kind: vsMethod,
  persistence_timeout: persistenceTimeout,
  persistence_granularity: persistenceGranularity,
  protocol,
  sorry_server: sorryServer,
  quorum: quorumField('min'),
  hysteresis: quorumField('hysteresis'),
  quorum_up: quorumScript('up'),
  quorum_down: quorumScript('down'),
  inhibit_on_failure: inheritedBool('virtual_server', 'inhibit'),
  // alerts (issue 12 item 5)
  smtp_alert: (p, words, scope) => {
    const at = readSmtpAlert(p, words, scope, 'virtual_server');
    if (at) scope.lb!.vs.smtpAlert = at;
  },
  alpha: inheritedBool('virtual_server', 'alpha'),
  weight: inherited('virtual_server', 'weight'),
  delay_loop: inherited('virtual_server', 'delay_loop'),
  connect_timeout: inherited('virtual_server', 'connect_timeout'),
  retry: inherited('virtual_server', 'retry'),
  delay_before_retry: inherited('virtual_server', 'delay_before_retry'),
  warmup: inherited('virtual_server', 'warmup'),
  virtualhost: inherited('virtual_server', 'virtualhost'),
  real_server: realServer,
};

// ---- real_server

/** A checker block; the first TCP_CHECK / HTTP_GET / SSL_GET / MISC_CHECK of a real server becomes its check. */
function checker(type: CheckType, block: KaBlock): Handler {
  return (p, words, scope) => {
    const kw = words[0];
    const { vs, rs } = scope.lb!;
    const label = whereOf(scope, kw);
    p.args(words, 0, 0, label, 'real_server');
    const check: CheckDraft = { kw, label, type, obj: { type }, recs: [], inh: {}, urls: 0, hosts: [] };
    const earlier = rs!.checks[0];
    if (earlier) {
      p.diag(
        'warning',
        'TND_CFG_UNSUPPORTED',
        kw.pos,
        label,
        `a second checker is not supported yet; ignored (tandem runs one check per real server: the ` +
          `${earlier.kw.text} at line ${earlier.kw.pos.line}; keepalived would require every checker to pass)`,
      );
    }
    rs!.checks.push(check);
    const cs: Scope = {
      obj: check.obj,
      base: [],
      label,
      // A checker after the first is read for its diagnostics only.
      rec: earlier ? () => {} : (sub, pos, l) => check.recs.push({ sub, pos, label: l }),
      lb: { vs, rs: rs!, check, inh: check.inh },
    };
    p.block(kw, label, 'keywords', block, (w) => p.dispatch(block, w, cs));
  };
}

const rsMethod: Handler = (p, words, scope) => {
  const where = whereOf(scope, words[0]);
  const m = readMethod(p, words, where, 'real_server');
  if (m) scope.lb!.rs!.method = m;
};

const REAL_SERVER: Record<string, Handler> = {
  weight: field('real_server', 'weight', 'int'),
  lvs_method: rsMethod,
  inhibit_on_failure: inheritedBool('real_server', 'inhibit'),
  // alerts (issue 12 item 5)
  smtp_alert: (p, words, scope) => {
    const at = readSmtpAlert(p, words, scope, 'real_server');
    if (at && scope.lb?.rs) scope.lb.rs.smtpAlert = at;
  },
  alpha: inheritedBool('real_server', 'alpha'),
  virtualhost: inherited('real_server', 'virtualhost'),
  delay_loop: inherited('real_server', 'delay_loop'),
  connect_timeout: inherited('real_server', 'connect_timeout'),
  retry: inherited('real_server', 'retry'),
  delay_before_retry: inherited('real_server', 'delay_before_retry'),
  warmup: inherited('real_server', 'warmup'),
  TCP_CHECK: checker('tcp', 'TCP_CHECK'),
  HTTP_GET: checker('http', 'HTTP_GET, SSL_GET'),
  SSL_GET: checker('https', 'HTTP_GET, SSL_GET'),
  MISC_CHECK: checker('script', 'MISC_CHECK'),
  UDP_CHECK: checker('udp', 'UDP_CHECK'),
  PING_CHECK: checker('ping', 'PING_CHECK'),
  SMTP_CHECK: checker('smtp', 'SMTP_CHECK'),
  DNS_CHECK: checker('dns', 'DNS_CHECK'),
  FILE_CHECK: checker('file', 'FILE_CHECK'),
};

// ---- checkers

/** The options every checker but MISC_CHECK takes (keepalived's "generic connection options"). */
function connectionOptions(block: KaBlock): Record<string, Handler> {
  return {
    connect_ip: field(block, 'address', 'text'),
    connect_port: field(block, 'port', 'int'),
    bindto: field(block, 'bind', 'text'),
    connect_timeout: inherited(block, 'connect_timeout'),
    ...timingOptions(block),
  };
}

/** `nb_get_retry`: keepalived 2 still reads the 1.x name in HTTP_GET / SSL_GET (and says it is deprecated). */
const nbGetRetry: Handler = (p, words, scope) => {
  p.diag(
    'warning',
    'TND_CFG_DEPRECATED',
    words[0].pos,
    whereOf(scope, words[0]),
    'nb_get_retry is the keepalived 1.x name of retry; read as retry (write retry)',
  );
  inherited('HTTP_GET, SSL_GET', 'retry')(p, words, scope);
};

/** The options of every checker, MISC_CHECK included. */
function timingOptions(block: KaBlock): Record<string, Handler> {
  return {
    retry: inherited(block, 'retry'),
    delay_before_retry: inherited(block, 'delay_before_retry'),
    warmup: inherited(block, 'warmup'),
    delay_loop: inherited(block, 'delay_loop'),
    alpha: inheritedBool(block, 'alpha'),
  };
}

/**
 * `url { … }`: the first one fills the check (path, status, digest …); each further one becomes an entry of
 * `check.urls`, asked in turn — every url must pass, as keepalived requires.
 */
const url: Handler = (p, words, scope) => {
  const kw = words[0];
  const check = scope.lb!.check!;
  const label = whereOf(scope, kw);
  p.args(words, 0, 0, label, 'HTTP_GET, SSL_GET');
  check.urls++;
  if (check.urls === 1) {
    p.block(kw, label, 'keywords', 'url', (w) => p.dispatch('url', w, { ...scope, label }));
    return;
  }
  const urls = (scope.obj.urls as Obj[] | undefined) ?? [];
  scope.obj.urls = urls;
  const j = urls.length;
  const obj: Obj = {};
  urls.push(obj);
  scope.rec(['urls'], kw.pos, label);
  scope.rec(['urls', j], kw.pos, label);
  // Without a path keepalived has no url to ask; the schema then names `path` at this url block.
  scope.rec(['urls', j, 'path'], kw.pos, `${label}: path`);
  const us: Scope = { ...scope, obj, label, rec: (sub, pos, l) => scope.rec(['urls', j, ...sub], pos, l) };
  p.block(kw, label, 'keywords', 'url', (w) => p.dispatch('url', w, us));
};

const statusCode: Handler = (p, words, scope) => {
  const kw = words[0];
  const where = whereOf(scope, kw);
  const args = p.args(words, 1, Number.POSITIVE_INFINITY, where, 'url');
  if (!args) return;
  const status: (number | string)[] = [];
  scope.rec(['status'], kw.pos, where);
  for (const w of args) {
    if (/^\d{1,3}$/.test(w.text)) status.push(Number(w.text));
    else if (/^\d{1,3}-\d{1,3}$/.test(w.text)) status.push(w.text);
    else {
      p.diag(
        'error',
        'TND_CFG_NUMBER',
        w.pos,
        where,
        `must be a status code or a range like 200-299, got ${JSON.stringify(w.text)}`,
      );
      continue;
    }
    scope.rec(['status', status.length - 1], w.pos, where);
  }
  scope.obj.status = status;
};

const HTTP_GET: Record<string, Handler> = {
  ...connectionOptions('HTTP_GET, SSL_GET'),
  nb_get_retry: nbGetRetry,
  url,
  enable_sni: (p, words, scope) => {
    p.args(words, 0, 0, whereOf(scope, words[0]), 'HTTP_GET, SSL_GET');
  },
  sni_name: field('HTTP_GET, SSL_GET', 'sni', 'text'),
};

const URL: Record<string, Handler> = {
  path: field('url', 'path', 'text'),
  digest: field('url', 'digest', 'text'),
  status_code: statusCode,
  regex: field('url', 'body_regex', 'text'),
  regex_no_match: flag('url', 'regex_no_match', true),
  virtualhost: field('url', 'host', 'text'),
};

const MISC_CHECK: Record<string, Handler> = {
  misc_path: (p, words, scope) => {
    const where = whereOf(scope, words[0]);
    const args = p.args(words, 1, Number.POSITIVE_INFINITY, where, 'MISC_CHECK');
    if (!args?.[0]) return;
    scope.obj.command = commandText(args);
    scope.rec(['command'], args[0].pos, where);
  },
  misc_timeout: field('MISC_CHECK', 'timeout', 'ms'),
  misc_dynamic: flag('MISC_CHECK', 'dynamic', true),
  user: userHandler('MISC_CHECK'),
  ...timingOptions('MISC_CHECK'),
};

/** `payload HEX…` / `require_reply [HEX…]`: keepalived joins the words; the schema checks the hex. */
const hexField =
  (key: 'payload' | 'reply', block: KaBlock): Handler =>
  (p, words, scope) => {
    const where = whereOf(scope, words[0]);
    const min = key === 'payload' ? 1 : 0;
    const args = p.args(words, min, Number.POSITIVE_INFINITY, where, block);
    if (!args) return;
    if (key === 'reply') {
      scope.obj.require_reply = true;
      scope.rec(['require_reply'], words[0].pos, where);
    }
    if (args.length === 0) return;
    scope.obj[key] = args.map((w) => w.text).join(' ');
    scope.rec([key], args[0]!.pos, where);
  };

const UDP_CHECK: Record<string, Handler> = {
  ...connectionOptions('UDP_CHECK'),
  payload: hexField('payload', 'UDP_CHECK'),
  require_reply: hexField('reply', 'UDP_CHECK'),
  min_reply_length: field('UDP_CHECK', 'min_reply_length', 'int'),
  max_reply_length: field('UDP_CHECK', 'max_reply_length', 'int'),
};

const PING_CHECK: Record<string, Handler> = {
  connect_ip: field('PING_CHECK', 'address', 'text'),
  bindto: field('PING_CHECK', 'bind', 'text'),
  connect_timeout: inherited('PING_CHECK', 'connect_timeout'),
  ...timingOptions('PING_CHECK'),
};

/** `host { connect_ip … }` of SMTP_CHECK: one more server to talk to. */
const smtpHost: Handler = (p, words, scope) => {
  const kw = words[0];
  const check = scope.lb!.check!;
  const label = whereOf(scope, kw);
  p.args(words, 0, 0, label, 'SMTP_CHECK');
  const host = { kw, obj: {} as Obj, recs: [] as Rec[] };
  check.hosts.push(host);
  const hs: Scope = { ...scope, obj: host.obj, label, rec: (sub, pos, l) => host.recs.push({ sub, pos, label: l }) };
  p.block(kw, label, 'keywords', 'host', (w) => p.dispatch('host', w, hs));
};

const SMTP_CHECK: Record<string, Handler> = {
  ...connectionOptions('SMTP_CHECK'),
  helo_name: field('SMTP_CHECK', 'helo_name', 'text'),
  host: smtpHost,
};

const HOST: Record<string, Handler> = {
  connect_ip: field('host', 'address', 'text'),
  connect_port: field('host', 'port', 'int'),
  bindto: field('host', 'bind', 'text'),
  connect_timeout: field('host', 'timeout', 'ms'),
};

const DNS_CHECK: Record<string, Handler> = {
  ...connectionOptions('DNS_CHECK'),
  // keepalived compares the type without case (strcasecmp): the schema judges the upper-cased word.
  type: one('DNS_CHECK', (_p, v, scope, where) => {
    scope.obj.query_type = v.text.toUpperCase();
    scope.rec(['query_type'], v.pos, where);
  }),
  name: field('DNS_CHECK', 'name', 'text'),
};

const FILE_CHECK: Record<string, Handler> = {
  track_file: one('FILE_CHECK', (_p, v, scope) => {
    scope.lb!.check!.trackFile = v;
  }),
  // Called through a wrapper: keepalived.ts imports this module first, so weightField is not defined yet here.
  weight: (p, words, scope) => weightField(p, words, scope),
  ...timingOptions('FILE_CHECK'),
};

/** Handlers of the LVS blocks, by block; every SUPPORTED keyword of these blocks has one (a test checks). */
export const LB_HANDLERS: Partial<Record<KaBlock, Record<string, Handler>>> = {
  virtual_server: VIRTUAL_SERVER,
  real_server: REAL_SERVER,
  TCP_CHECK: connectionOptions('TCP_CHECK'),
  'HTTP_GET, SSL_GET': HTTP_GET,
  url: URL,
  MISC_CHECK,
  UDP_CHECK,
  PING_CHECK,
  SMTP_CHECK,
  host: HOST,
  DNS_CHECK,
  FILE_CHECK,
};

/** Handlers of the top-level LVS keywords. */
export const LB_TOP: Record<string, Handler> = {
  virtual_server: virtualServer,
  virtual_server_group: virtualServerGroup,
};

// ---- after the whole input: one service per address and port, with keepalived's defaults written out

/** One address and port a virtual server serves, and where the user wrote them. */
interface Endpoint {
  /** A firewall-mark service: the mark, and no vip. */
  fwmark?: number;
  vip: string;
  port: number;
  vipAt: SourcePos;
  portAt: SourcePos;
  label: string;
  prefix: string;
}

/** Turns the virtual servers read into `lb.services`, with their locator records. */
export function finishLb(p: Parser): void {
  const { vs: servers, groups } = p.lb;
  if (servers.length === 0) return;
  const services: Obj[] = [];
  p.raw.lb = { services };
  for (const vs of servers) {
    const endpoints = endpointsOf(p, vs, groups);
    if (endpoints.length === 0) continue;
    const shared = serviceSettings(p, vs, endpoints);
    if (vs.target.kind === 'fwmark') {
      // IPVS balances every protocol that carries the mark, and keepalived says the protocol "will be ignored";
      // tandem's nft plane balances one protocol per service: the one written, else TCP.
      const given = vs.obj.protocol as string | undefined;
      if (given === undefined) {
        vs.obj.protocol = 'tcp';
        vs.recs.push({ sub: ['protocol'], pos: vs.kw.pos, label: vs.label });
      }
      const at = vs.recs.find((r) => r.sub.length === 1 && r.sub[0] === 'protocol')?.pos ?? vs.kw.pos;
      p.diag(
        'warning',
        'TND_CFG_AS_KEEPALIVED',
        at,
        `${vs.label}: protocol`,
        `keepalived ignores the protocol of a fwmark service ("protocol will be ignored") and IPVS balances every ` +
          `protocol with the mark; tandem balances ${String(vs.obj.protocol).toUpperCase()} with mark ` +
          `${vs.target.mark.value} only${given === undefined ? ' (TCP when none is written)' : ''}: write one ` +
          'virtual_server fwmark per protocol for more',
      );
    } else if (vs.obj.protocol === undefined) {
      // keepalived 2 says "no protocol set - defaulting to UDP" and creates a UDP service: so does the import.
      vs.obj.protocol = 'udp';
      vs.recs.push({ sub: ['protocol'], pos: vs.kw.pos, label: vs.label });
      p.diag(
        'warning',
        'TND_CFG_REQUIRED',
        vs.kw.pos,
        vs.label,
        'no protocol: keepalived then balances UDP ("no protocol set - defaulting to UDP"), and so does tandem; ' +
          'write protocol TCP for TCP',
      );
    }
    for (const ep of endpoints) {
      const i = services.length;
      const base: ConfigPath = ['lb', 'services', i];
      const rec = (sub: ConfigPath, pos: SourcePos, label: string) => p.record([...base, ...sub], pos, label);
      rec([], vs.kw.pos, vs.label);
      const protocol = vs.obj.protocol as string | undefined;
      const what = ep.fwmark !== undefined ? `fwmark${ep.fwmark}` : `${ep.vip}-${ep.port}`;
      const name = `${ep.prefix}${what}${protocol === 'udp' ? '-udp' : ''}`.replace(/[^A-Za-z0-9_.:-]/g, '_');
      const svc: Obj = ep.fwmark !== undefined ? { name, fwmark: ep.fwmark } : { name, vip: ep.vip, port: ep.port };
      rec(['name'], ep.vipAt, ep.label);
      if (ep.fwmark !== undefined) rec(['fwmark'], ep.vipAt, `${ep.label}: fwmark`);
      else {
        rec(['vip'], ep.vipAt, ep.label);
        rec(['port'], ep.portAt, `${ep.label}: port`);
      }
      for (const key of ['protocol', 'scheduler', 'method', 'persistence'] as const)
        if (vs.obj[key] !== undefined) svc[key] = structuredClone(vs.obj[key]);
      if (svc.persistence && (svc.persistence as Obj).timeout === undefined && vs.granularityAt) {
        // persistence_granularity alone makes a service persistent with keepalived's default timeout.
        (svc.persistence as Obj).timeout = KA_PERSISTENCE_TIMEOUT_MS;
        rec(['persistence', 'timeout'], vs.granularityAt.pos, vs.granularityAt.label);
      }
      if (vs.sorry) {
        const port = vs.sorry.port?.value ?? ep.port;
        svc.sorry_server = { address: vs.sorry.addr.text, port };
        const where = `${vs.label}: sorry_server`;
        rec(['sorry_server'], vs.sorry.kw.pos, where);
        rec(['sorry_server', 'address'], vs.sorry.addr.pos, where);
        rec(['sorry_server', 'port'], (vs.sorry.port?.word ?? vs.sorry.kw).pos, where);
      }
      if (vs.obj.quorum !== undefined) svc.quorum = structuredClone(vs.obj.quorum);
      if (shared.inhibit) {
        svc.inhibit_on_failure = true;
        rec(['inhibit_on_failure'], shared.inhibit.pos, shared.inhibit.label);
      }
      for (const r of vs.recs) rec(r.sub, r.pos, r.label);
      svc.real_servers = vs.rs.map((rs, j) =>
        realServerObject(p, vs, rs, (sub, pos, label) => rec(['real_servers', j, ...sub], pos, label)),
      );
      // alerts (issue 12 item 5): smtp_alert by service name and `ADDR:PORT`
      if (vs.smtpAlert) fileSmtpAlert(p, name, vs.smtpAlert);
      for (const rs of vs.rs) {
        if (!rs.smtpAlert) continue;
        const port = rs.port?.value ?? ep.port;
        const addr = rs.addr.text.includes(':') ? `[${rs.addr.text}]` : rs.addr.text;
        fileSmtpAlert(p, name, rs.smtpAlert, `${addr}:${port}`);
      }
      services.push(svc);
    }
  }
}

function endpointsOf(p: Parser, vs: VsDraft, groups: ReadonlyMap<string, GroupDraft>): Endpoint[] {
  if (vs.target.kind === 'fwmark') {
    const { mark } = vs.target;
    return [
      {
        fwmark: mark.value,
        vip: '',
        port: 0,
        vipAt: mark.word.pos,
        portAt: mark.word.pos,
        label: vs.label,
        prefix: '',
      },
    ];
  }
  if (vs.target.kind === 'addr') {
    const { vip, port } = vs.target;
    return [
      {
        vip: vip.text,
        port: port?.value ?? 0,
        vipAt: vip.pos,
        portAt: (port?.word ?? vip).pos,
        label: vs.label,
        prefix: '',
      },
    ];
  }
  const name = vs.target.name;
  const group = groups.get(name.text);
  if (!group) {
    p.diag('error', 'TND_CFG_UNKNOWN_REF', name.pos, vs.label, `no virtual_server_group named ${name.text}`);
    return [];
  }
  return group.entries.flatMap((e) =>
    e.fwmark
      ? [
          {
            fwmark: e.fwmark.value,
            vip: '',
            port: 0,
            vipAt: e.fwmark.word.pos,
            portAt: e.fwmark.word.pos,
            label: group.label,
            prefix: `${name.text}-`,
          },
        ]
      : e.addrs.map((vip) => ({
          vip,
          port: e.port?.value ?? 0,
          vipAt: e.at.pos,
          portAt: (e.port?.word ?? e.at).pos,
          label: group.label,
          prefix: `${name.text}-`,
        })),
  );
}

/**
 * What is decided once per virtual server, whatever its number of addresses: the diagnostics that concern the
 * virtual server as a whole are reported here, once.
 */
function serviceSettings(p: Parser, vs: VsDraft, endpoints: readonly Endpoint[]): { inhibit?: Loc<boolean> } {
  // tandem has one inhibit_on_failure per service: keepalived's per-server setting is kept when all servers agree.
  const vsInhibit = vs.inh.inhibit?.value ?? false;
  const effective = vs.rs.map((rs) => rs.inh.inhibit?.value ?? vsInhibit);
  const agreed = effective.length > 0 && effective.every((e) => e === effective[0]) ? effective[0]! : vsInhibit;
  for (const rs of vs.rs) {
    const own = rs.inh.inhibit;
    if (own && own.value !== agreed) {
      p.diag(
        'warning',
        'TND_CFG_UNSUPPORTED',
        own.pos,
        own.label,
        `inhibit_on_failure per real server is not supported yet; ignored (the virtual server's setting, ` +
          `${agreed ? 'on' : 'off'}, applies to all its real servers)`,
      );
    }
  }
  const method = (vs.obj.method as string | undefined) ?? 'nat';
  for (const rs of vs.rs) {
    if (rs.method && rs.method.value !== method) {
      p.diag(
        'error',
        'TND_CFG_REJECTED',
        rs.method.pos,
        rs.method.label,
        `lvs_method ${rs.method.value.toUpperCase()} cannot be used with tandem: ${REJECTED.real_server.lvs_method}`,
      );
    }
  }
  if (vs.sorry && !vs.sorry.port && endpoints.some((e) => e.port === 0)) {
    p.diag(
      'error',
      'TND_CFG_REQUIRED',
      vs.sorry.kw.pos,
      `${vs.label}: sorry_server`,
      'a sorry server of a service without a port (every port) needs a port of its own: sorry_server ADDRESS PORT',
    );
  }
  if (!agreed) return {};
  const at = vs.inh.inhibit?.value ? vs.inh.inhibit : vs.rs.find((rs) => rs.inh.inhibit?.value)?.inh.inhibit;
  return at ? { inhibit: at } : {};
}

type RecordFn = (sub: ConfigPath, pos: SourcePos, label: string) => void;

function realServerObject(p: Parser, vs: VsDraft, rs: RsDraft, rec: RecordFn): Obj {
  const out: Obj = { address: rs.addr.text };
  rec([], rs.kw.pos, rs.label);
  rec(['address'], rs.addr.pos, rs.label);
  if (rs.port) {
    out.port = rs.port.value;
    rec(['port'], rs.port.word.pos, `${rs.label}: port`);
  }
  if (rs.obj.weight !== undefined) out.weight = rs.obj.weight;
  else if (vs.inh.weight) {
    out.weight = vs.inh.weight.value;
    rec(['weight'], vs.inh.weight.pos, vs.inh.weight.label);
  }
  for (const r of rs.recs) rec(r.sub, r.pos, r.label);
  const check = rs.checks[0];
  if (check) out.check = checkObject(p, vs, rs, check, (sub, pos, label) => rec(['check', ...sub], pos, label));
  return out;
}

/** The check of a real server with keepalived's inheritance and defaults resolved and written out. */
function checkObject(p: Parser, vs: VsDraft, rs: RsDraft, c: CheckDraft, rec: RecordFn): Obj {
  rec([], c.kw.pos, c.label);
  for (const r of c.recs) rec(r.sub, r.pos, r.label);
  const pick = <K extends keyof Inherited>(key: K): Inherited[K] => c.inh[key] ?? rs.inh[key] ?? vs.inh[key];
  const out: Obj = { type: c.type };
  const copy = (keys: readonly string[]) => {
    for (const k of keys) if (c.obj[k] !== undefined) out[k] = c.obj[k];
  };
  const set = (key: string, loc: Loc<unknown> | undefined, fallback: unknown) => {
    const value = loc ? loc.value : fallback;
    if (value === undefined) return;
    out[key] = value;
    if (loc) rec([key], loc.pos, loc.label);
  };
  if (c.type === 'script') {
    // Without misc_path the schema reports the missing command: at the checker, named as keepalived names it.
    if (c.obj.command === undefined) rec(['command'], c.kw.pos, `${c.label}: misc_path`);
    copy(['command', 'timeout', 'dynamic', 'user']);
  } else if (c.type === 'file') {
    copy(['weight', 'reverse']);
    const file = c.trackFile ? p.trackFilePath(c.trackFile) : undefined;
    if (file) {
      out.path = file.path;
      rec(['path'], c.trackFile!.pos, `${c.label}: track_file`);
      if (out.weight === undefined && file.weight !== undefined) out.weight = file.weight;
      if (out.reverse === undefined && file.reverse !== undefined) out.reverse = file.reverse;
    } else rec(['path'], (c.trackFile ?? c.kw).pos, `${c.label}: track_file`);
  } else if (c.type === 'ping') {
    copy(['address', 'bind']);
    set('timeout', pick('connect_timeout'), KA_CONNECT_TIMEOUT_MS);
  } else if (c.type === 'udp' || c.type === 'dns') {
    copy(['address', 'port', 'bind', 'payload', 'require_reply', 'reply', 'min_reply_length', 'max_reply_length']);
    copy(['query_type', 'name']);
    set('timeout', pick('connect_timeout'), KA_CONNECT_TIMEOUT_MS);
  } else if (c.type === 'smtp') {
    copy(['address', 'port', 'bind', 'helo_name']);
    set('timeout', pick('connect_timeout'), KA_CONNECT_TIMEOUT_MS);
    if (c.hosts.length > 0) {
      // keepalived checks the SMTP_CHECK's own target too when it names one; each host block defaults to the
      // real server, not to the check's connect_ip, so its address is written out.
      const own = ['address', 'port', 'bind'].some((k) => c.obj[k] !== undefined);
      const hosts: Obj[] = own ? [{}] : [];
      for (const h of c.hosts) {
        const j = hosts.length;
        const obj: Obj = { ...h.obj };
        if (own && obj.address === undefined) obj.address = rs.addr.text;
        if (own && obj.port === undefined && rs.port) obj.port = rs.port.value;
        rec(['hosts', j], h.kw.pos, `${c.label}: host`);
        for (const r of h.recs) rec(['hosts', j, ...r.sub], r.pos, r.label);
        hosts.push(obj);
      }
      out.hosts = hosts;
    }
  } else {
    copy(['address', 'port', 'bind']);
    if (c.type === 'tcp') set('connect_timeout', pick('connect_timeout'), KA_CONNECT_TIMEOUT_MS);
    else {
      copy(['path']);
      if (c.obj.host !== undefined) out.host = c.obj.host;
      else set('host', rs.inh.virtualhost ?? vs.inh.virtualhost, undefined);
      copy(['sni', 'status', 'digest', 'body_regex', 'regex_no_match', 'urls']);
      set('timeout', pick('connect_timeout'), KA_CONNECT_TIMEOUT_MS);
    }
  }
  set('interval', pick('delay_loop'), KA_DELAY_LOOP_MS);
  out.rise = 1;
  out.fall = 1;
  set('retries', pick('retry'), c.type === 'script' ? 0 : c.type === 'dns' ? 3 : 1);
  set('delay_before_retry', pick('delay_before_retry'), c.type === 'http' || c.type === 'https' ? 3000 : 1000);
  set('warmup', pick('warmup'), undefined);
  set('start_down', pick('alpha'), undefined);
  return out;
}

// ---- addresses

/** An IPv4 netmask (contiguous ones) or an IPv6 prefix length as a prefix length; undefined when malformed. */
export function netmaskPrefix(text: string): number | undefined {
  if (text.includes('.')) {
    const n = ipv4ToNumber(text);
    if (n === undefined) return undefined;
    // A solid mask is ones then zeros: its complement is a run of ones at the bottom, so complement + 1 shares no bit.
    const inverted = ~n >>> 0;
    if ((inverted & (inverted + 1)) !== 0) return undefined;
    let ones = 0;
    while (ones < 32 && (n >>> (31 - ones)) & 1) ones++;
    return ones;
  }
  if (!/^\d{1,3}$/.test(text)) return undefined;
  const len = Number(text);
  return len >= 1 && len <= 128 ? len : undefined;
}

function ipv4ToNumber(text: string): number | undefined {
  if (!isIPv4(text)) return undefined;
  return text.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

const numberToIpv4 = (n: number): string => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

function ipv6ToBigInt(text: string): bigint | undefined {
  if (!isIPv6(text) || text.includes('%')) return undefined;
  let t = text;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(t);
  if (v4) {
    const n = ipv4ToNumber(v4[1]!);
    if (n === undefined) return undefined;
    t = `${t.slice(0, v4.index)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head = '', tail] = t.split('::');
  const h = head ? head.split(':') : [];
  const tl = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...new Array<string>(8 - h.length - tl.length).fill('0'), ...tl];
  if (groups.length !== 8) return undefined;
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(Number.parseInt(g, 16)), 0n);
}

/** The canonical text of an IPv6 address (RFC 5952: lower case, the longest run of zero groups as ::). */
function bigIntToIpv6(n: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(16 * (7 - i))) & 0xffffn));
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.len < 2) return hex.join(':');
  return `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.len).join(':')}`;
}

/**
 * The addresses of a virtual_server_group entry, as keepalived writes them: `ADDR`, `ADDR-LAST` (the last IPv4
 * octet, or the last IPv6 group in hex), `ADDR-ADDR` and `ADDR/LEN`; both ends of a range are included.
 * @example expandAddressRange('198.18.0.1-3', 1024) // { addrs: ['198.18.0.1', '198.18.0.2', '198.18.0.3'] }
 */
export function expandAddressRange(
  text: string,
  max: number,
): { addrs: string[] } | { error: string; code: 'TND_CFG_ADDRESS' | 'TND_CFG_RANGE' } {
  const bad = {
    error: `not an address, a range (ADDR-LAST, ADDR-ADDR) or a prefix (ADDR/LEN): ${JSON.stringify(text)}`,
    code: 'TND_CFG_ADDRESS' as const,
  };
  if (isIPv4(text) || isIPv6(text)) return { addrs: [text] };
  let start: bigint;
  let end: bigint;
  let v6: boolean;
  const slash = text.split('/');
  const dash = text.split('-');
  if (slash.length === 2) {
    const [addr = '', lenText = ''] = slash;
    v6 = isIPv6(addr);
    const bits = v6 ? 128 : 32;
    const base = v6 ? ipv6ToBigInt(addr) : toBig(ipv4ToNumber(addr));
    if (base === undefined || !/^\d{1,3}$/.test(lenText) || Number(lenText) > bits) return bad;
    const size = 1n << BigInt(bits - Number(lenText));
    start = (base / size) * size;
    end = start + size - 1n;
  } else if (dash.length === 2) {
    const [from = '', to = ''] = dash;
    v6 = isIPv6(from);
    const s = v6 ? ipv6ToBigInt(from) : toBig(ipv4ToNumber(from));
    if (s === undefined) return bad;
    let e: bigint | undefined;
    if (v6 ? isIPv6(to) : isIPv4(to)) e = v6 ? ipv6ToBigInt(to) : toBig(ipv4ToNumber(to));
    else if (v6 && /^[0-9a-fA-F]{1,4}$/.test(to)) e = (s & ~0xffffn) | BigInt(Number.parseInt(to, 16));
    else if (!v6 && /^\d{1,3}$/.test(to) && Number(to) <= 255) e = (s & ~0xffn) | BigInt(Number(to));
    if (e === undefined) return bad;
    if (e < s) return { error: `the range ends before it starts: ${JSON.stringify(text)}`, code: 'TND_CFG_RANGE' };
    start = s;
    end = e;
  } else return bad;
  const count = end - start + 1n;
  if (count > BigInt(max)) {
    return {
      error: `${text} is ${count} addresses, one service each; tandem expands at most ${max} per entry`,
      code: 'TND_CFG_RANGE',
    };
  }
  const addrs: string[] = [];
  for (let a = start; a <= end; a++) addrs.push(v6 ? bigIntToIpv6(a) : numberToIpv4(Number(a)));
  return { addrs };
}

const toBig = (n: number | undefined): bigint | undefined => (n === undefined ? undefined : BigInt(n));
