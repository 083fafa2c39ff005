/**
 * Reads Piranha's lvs.cf (Red Hat's LVS router configuration: pulse, lvsd and nanny) into tandem's native config
 * shape, with a Locator that maps every native path back to the line in the user's own file.
 *
 * The mapping (docs/piranha.md has the full table):
 * - `primary` and `backup` become the nodes `primary` and `backup` and one VRRP instance `VI_1` (vrid 1, version 3,
 *   unicast between the two addresses, primary priority 150, backup 100, preemptive as pulse is); `keepalive` is
 *   the advert interval and `deadtime` the number of adverts missed before takeover (⌈deadtime / keepalive⌉);
 * - each virtual's `address = VIP DEV[:ALIAS]` (and `nat_router`) become the instance's virtual addresses;
 * - each active `virtual` becomes one `lb.services` entry (scheduler, `network` → method nat|dr, `persistent` and
 *   `pmask` → persistence, `protocol`, `sorry_server`) with its `server` blocks as real servers;
 * - nanny's probe becomes a health check: an HTTP request in `send` gives an http check whose accepted status comes
 *   from `expect`; anything else gives a TCP connect check; `timeout` and `reentry` give fall and rise;
 * - with `service = fos`, each `failover` block becomes a resource group with a script resource.
 * The reader reports every problem in one run and never throws.
 */
import { posix } from 'node:path';
import type { ErrorCode } from '../../core/errors.ts';
import { type ConfigPath, type Diagnostic, type SourcePos, sortDiagnostics } from '../diagnostics.ts';
import { suggest } from './keepalived.ts';
import type { ConfigFs } from './keepalived-lexer.ts';
import {
  type LvsBlock,
  type LvsSetting,
  netmaskPrefix as maskToPrefix,
  parseLvs,
  unescapeNanny,
  type Word,
} from './piranha-lexer.ts';
import { type ImportedConfig, type ImportNote, SourceMap, sortByPlace } from './to-yaml.ts';

/** Priority of the primary router, and of the backup. */
export const PRIMARY_PRIORITY = 150;
export const BACKUP_PRIORITY = 100;
/** The health check interval tandem uses for nanny's probes; timeout and reentry are counted in it. */
export const NANNY_INTERVAL_MS = 2000;

/** Whether a file is Piranha's lvs.cf: by its name, or by its `key = value` global settings. */
export function isPiranhaFile(path: string, text: string): boolean {
  if (posix.basename(path) === 'lvs.cf') return true;
  const keys = text.match(
    /^[ \t]*(serial_no|primary|backup|backup_active|heartbeat_port|keepalive|deadtime|network|service)[ \t]*=/gm,
  );
  return (keys?.length ?? 0) >= 2 || (/^[ \t]*virtual[ \t]+\S+[ \t]*\{/m.test(text) && /=/.test(text));
}

/**
 * Reads one lvs.cf. Never throws.
 * @example readPiranha('/etc/sysconfig/ha/lvs.cf', diskFs).raw // { cluster: {…}, vrrp: {…}, lb: { services: […] } }
 */
export function readPiranha(path: string, fs: ConfigFs): ImportedConfig {
  const r = new Reader(path);
  const text = fs.read(path);
  if (text === undefined) {
    r.diag('error', 'TND_CFG_IO', { file: path, line: 1, col: 1 }, 'lvs.cf', 'cannot read the file');
    return r.result([]);
  }
  try {
    const parsed = parseLvs(path, text);
    r.diagnostics.push(...parsed.diagnostics);
    r.run(parsed.top);
  } catch (e) {
    // A safety net, not a code path: the fuzz test asserts that its message never appears.
    const message = `internal error in the lvs.cf reader, please report it: ${e instanceof Error ? e.message : String(e)}`;
    r.diag('error', 'TND_CFG_SYNTAX', { file: path, line: 1, col: 1 }, '(reader)', message);
  }
  return r.result([path]);
}

type Obj = Record<string, unknown>;

/** Global keys read only to be left out, with why. */
const NOTED: Readonly<Record<string, string>> = {
  serial_no: "it counts the GUI's writes; tandem does not need it",
  heartbeat_port: 'VRRP is IP protocol 112, not UDP: there is no port to set',
  rsh_command: 'tandem does not copy files between the routers',
  sync: 'tandem does not copy files between the routers',
  debug_level: '`tandem run --verbose` adds debug lines',
  debug: '`tandem run --verbose` adds debug lines',
  monitor_links: 'tandem faults an instance whose interface is down (track_primary) already',
  ipvsadm: 'tandem programs nftables, not IPVS',
  hard_shutdown: 'not a tandem setting',
  syncd_iface: 'IPVS connection sync is not carried over',
  syncd_id: 'IPVS connection sync is not carried over',
  tcp_timeout: 'IPVS connection timeouts are not carried over; the kernel conntrack timeouts apply',
  tcpfin_timeout: 'IPVS connection timeouts are not carried over; the kernel conntrack timeouts apply',
  udp_timeout: 'IPVS connection timeouts are not carried over; the kernel conntrack timeouts apply',
};

/** Global keys with behaviour tandem does not have: a warning each. */
const WARNED: Readonly<Record<string, string>> = {
  primary_private:
    'a second heartbeat channel is not carried over yet: VRRP adverts go out on one interface; tandem will carry ' +
    'it as a redundant path once the split-brain work adds them',
  backup_private:
    'a second heartbeat channel is not carried over yet: VRRP adverts go out on one interface; tandem will carry ' +
    'it as a redundant path once the split-brain work adds them',
  primary_shared: 'shared SCSI reservations are not carried over',
  backup_shared: 'shared SCSI reservations are not carried over',
  reservation_conflict_action: 'shared SCSI reservations are not carried over',
};

/** Keys of each block, for typo suggestions. */
const KEYS: Readonly<Record<string, readonly string[]>> = {
  top: [
    'service',
    'primary',
    'backup',
    'backup_active',
    'heartbeat',
    'keepalive',
    'deadtime',
    'network',
    'nat_router',
    'nat_nmask',
    'active_cmd',
    'inactive_cmd',
    'syncdaemon',
    ...Object.keys(NOTED),
    ...Object.keys(WARNED),
  ],
  virtual: [
    'active',
    'address',
    'vip_nmask',
    'sorry_server',
    'fwmark',
    'vip_nic',
    'port',
    'protocol',
    'persistent',
    'pmask',
    'scheduler',
    'send',
    'expect',
    'use_regex',
    'send_program',
    'load_monitor',
    'timeout',
    'reentry',
    'quiesce_server',
    'client_monitor',
    'master',
    'dirs',
  ],
  server: ['address', 'active', 'weight', 'port'],
  failover: ['active', 'address', 'vip_nmask', 'port', 'send', 'expect', 'timeout', 'reentry', 'start_cmd', 'stop_cmd'],
};

/** Well-known service names lvs.cf allows for a port (Piranha looks them up in /etc/services). */
const SERVICES: Readonly<Record<string, number>> = {
  ftp: 21,
  ssh: 22,
  telnet: 23,
  smtp: 25,
  domain: 53,
  http: 80,
  www: 80,
  pop3: 110,
  imap: 143,
  ldap: 389,
  https: 443,
  imaps: 993,
  pop3s: 995,
  mysql: 3306,
};

const SCHEDULERS = new Set(['rr', 'wrr', 'lc', 'wlc', 'sh']);

class Reader {
  readonly diagnostics: Diagnostic[] = [];
  readonly notes: ImportNote[] = [];
  readonly map: SourceMap;
  readonly raw: { cluster: Obj; vrrp: { instances: Obj[] }; lb: { services: Obj[] }; groups: Obj[] } = {
    cluster: {},
    vrrp: { instances: [] },
    lb: { services: [] },
    groups: [],
  };
  /** The instance's virtual addresses, deduplicated by address. */
  readonly vips = new Map<string, { value: unknown; pos: SourcePos; label: string }>();
  /** Forwarding from `network`; Piranha writes a missing one as direct. Undefined after a rejected value. */
  method: { value: 'nat' | 'dr' | undefined; pos?: SourcePos } = { value: 'dr' };
  device?: { text: string; pos: SourcePos; label: string };

  constructor(readonly file: string) {
    this.map = new SourceMap(file);
  }

  diag(severity: Diagnostic['severity'], code: ErrorCode, pos: SourcePos, path: string, message: string): void {
    this.diagnostics.push({ ...pos, severity, code, path, message });
  }

  note(pos: SourcePos, path: string, message: string): void {
    this.notes.push({ ...pos, code: 'TND_CFG_NOT_CARRIED', path, message });
  }

  result(files: string[]): ImportedConfig {
    return {
      raw: this.raw,
      locator: this.map.locator(),
      diagnostics: sortDiagnostics(this.diagnostics),
      notes: sortByPlace(this.notes),
      files,
    };
  }

  /** The settings of a block by key; a key given twice is reported and the last one wins, as in Piranha. */
  private settings(block: LvsBlock, label: string): Map<string, LvsSetting> {
    const out = new Map<string, LvsSetting>();
    const keys = KEYS[block.kind] ?? [];
    for (const s of block.settings) {
      const k = s.key.text;
      const known = keys.includes(k);
      if (!known) {
        const hint = suggest(k, keys);
        this.diag(
          'error',
          'TND_CFG_UNKNOWN_KEY',
          s.key.pos,
          `${label}: ${k}`,
          `${k} is not an lvs.cf key ${block.kind === 'top' ? 'at the top level' : `in a ${block.kind} block`}` +
            (hint ? `; did you mean ${hint}?` : ''),
        );
        continue;
      }
      const before = out.get(k);
      if (before)
        this.diag(
          'warning',
          'TND_CFG_DUPLICATE',
          s.key.pos,
          `${label}: ${k}`,
          `${k} is set twice; this one wins (first at line ${before.key.pos.line})`,
        );
      out.set(k, s);
    }
    return out;
  }

  /** The values of a setting when their count is right; reports TND_CFG_ARGS otherwise. */
  private values(s: LvsSetting | undefined, label: string, count: number, form?: string): Word[] | undefined {
    if (!s) return undefined;
    if (s.values.length === count) return s.values;
    const k = s.key.text;
    const extra = s.values[count];
    const comment = extra?.text.startsWith('#') ? ': lvs.cf has no comments after a value, put it on its own line' : '';
    this.diag(
      'error',
      'TND_CFG_ARGS',
      (extra ?? s.key).pos,
      `${label}: ${k}`,
      `${k} takes ${count} value${count === 1 ? '' : 's'}${form ? ` (${form})` : ''}, got ${s.values.length}${comment}`,
    );
    return undefined;
  }

  private one(s: LvsSetting | undefined, label: string): Word | undefined {
    return this.values(s, label, 1)?.[0];
  }

  private int(s: LvsSetting | undefined, label: string, min = 0): { n: number; w: Word } | undefined {
    const w = this.one(s, label);
    if (!w) return undefined;
    if (!/^\d+$/.test(w.text)) {
      this.diag(
        'error',
        'TND_CFG_NUMBER',
        w.pos,
        `${label}: ${s!.key.text}`,
        `must be a whole number, got ${JSON.stringify(w.text)}`,
      );
      return undefined;
    }
    const n = Number(w.text);
    if (n < min) {
      this.diag('error', 'TND_CFG_RANGE', w.pos, `${label}: ${s!.key.text}`, `must be at least ${min}, got ${n}`);
      return undefined;
    }
    return { n, w };
  }

  private bool(s: LvsSetting | undefined, label: string): { b: boolean; w: Word } | undefined {
    const w = this.one(s, label);
    if (!w) return undefined;
    if (w.text !== '0' && w.text !== '1') {
      this.diag(
        'error',
        'TND_CFG_ENUM',
        w.pos,
        `${label}: ${s!.key.text}`,
        `must be 0 or 1, got ${JSON.stringify(w.text)}`,
      );
      return undefined;
    }
    return { b: w.text === '1', w };
  }

  run(top: LvsBlock): void {
    const g = this.settings(top, 'lvs.cf');
    const label = 'lvs.cf';
    for (const [k, s] of g) {
      if (Object.hasOwn(NOTED, k)) this.note(s.key.pos, `${label}: ${k}`, `${k} is not carried over: ${NOTED[k]}`);
      if (Object.hasOwn(WARNED, k))
        this.diag(
          'warning',
          'TND_CFG_UNSUPPORTED',
          s.key.pos,
          `${label}: ${k}`,
          `${k} is not carried over: ${WARNED[k]}`,
        );
    }
    const sync = this.bool(g.get('syncdaemon'), label);
    if (sync?.b)
      this.diag(
        'warning',
        'TND_CFG_UNSUPPORTED',
        sync.w.pos,
        'lvs.cf: syncdaemon',
        'IPVS connection sync is not carried over yet: connections through the old router are cut at failover; ' +
          "tandem will sync them with conntrackd once the data-path work adds it (Piranha's syncdaemon syncs IPVS)",
      );

    const service = this.one(g.get('service'), label);
    let fos = false;
    if (service) {
      if (service.text === 'fos') fos = true;
      else if (service.text !== 'lvs')
        this.diag('error', 'TND_CFG_ENUM', service.pos, 'lvs.cf: service', `must be lvs or fos, got ${service.text}`);
    }
    const network = this.one(g.get('network'), label);
    if (network) {
      if (network.text === 'nat') this.method = { value: 'nat', pos: network.pos };
      else if (network.text === 'direct') this.method = { value: 'dr', pos: network.pos };
      else if (network.text === 'tunnel') {
        this.method = { value: undefined };
        this.diag(
          'error',
          'TND_CFG_REJECTED',
          network.pos,
          'lvs.cf: network',
          'tunnel (IP-in-IP) forwarding cannot be built on nftables (it has no encapsulation statement, and a ' +
            'tunnel per real server routed by mark would need conntrack, which direct routing bypasses): use ' +
            'direct (real servers on the director segment) or nat',
        );
      } else {
        this.method = { value: undefined };
        this.diag(
          'error',
          'TND_CFG_ENUM',
          network.pos,
          'lvs.cf: network',
          `must be nat, direct or tunnel, got ${network.text}`,
        );
      }
    }

    const services: LvsBlock[] = [];
    const failovers: LvsBlock[] = [];
    for (const b of top.blocks) {
      if (b.kind === 'virtual' && !fos) services.push(b);
      else if (b.kind === 'failover' && fos) failovers.push(b);
      else if (b.kind === 'virtual' || b.kind === 'failover')
        this.note(
          b.kw.pos,
          `${b.kind} ${b.name?.text ?? ''}`.trim(),
          `not used: service = ${fos ? 'fos' : 'lvs'} runs the ${fos ? 'failover' : 'virtual'} blocks only`,
        );
    }
    const names = new Map<string, SourcePos>();
    for (const b of services) if (this.unique(b, names)) this.virtual(b);
    for (const b of failovers) if (this.unique(b, names)) this.failover(b);

    const natRouter = this.values(g.get('nat_router'), label, 2, 'ADDRESS DEVICE:N');
    if (natRouter) {
      const mask = this.one(g.get('nat_nmask'), label);
      this.addVip(natRouter[0]!, natRouter[1]!, mask, 'lvs.cf: nat_router');
    } else if (g.has('nat_nmask'))
      this.note(g.get('nat_nmask')!.key.pos, 'lvs.cf: nat_nmask', 'used only with nat_router');
    if (this.method.value === 'nat' && !natRouter && services.length > 0)
      this.diag(
        'warning',
        'TND_CFG_REQUIRED',
        network?.pos ?? { file: this.file, line: 1, col: 1 },
        'lvs.cf: network',
        'network = nat without nat_router: the real servers need a gateway address that moves with the router',
      );
    this.instance(g);
  }

  /** Reports a block name used twice; returns whether the block is the first of its name. */
  private unique(b: LvsBlock, names: Map<string, SourcePos>): boolean {
    const name = b.name?.text;
    if (name === undefined) return false;
    const before = names.get(`${b.kind}\0${name}`);
    if (before) {
      this.diag(
        'error',
        'TND_CFG_DUPLICATE',
        b.name!.pos,
        `${b.kind} ${name}`,
        `${b.kind} ${name} is defined twice; first at line ${before.line}`,
      );
      return false;
    }
    names.set(`${b.kind}\0${name}`, b.name!.pos);
    return true;
  }

  /** An address line `VIP DEV[:ALIAS]`, added to the instance's virtual addresses. */
  private addVip(addr: Word, dev: Word, mask: Word | undefined, label: string): void {
    const device = dev.text.split(':')[0]!;
    this.device ??= { text: device, pos: dev.pos, label };
    let prefix = '';
    if (mask) {
      const p = maskToPrefix(mask.text);
      if (p === undefined) {
        this.diag('error', 'TND_CFG_ADDRESS', mask.pos, label, `${mask.text} is not a netmask`);
        return;
      }
      prefix = `/${p}`;
    }
    if (this.vips.has(addr.text)) return;
    const address = `${addr.text}${prefix}`;
    const value: Obj = { address, dev: device };
    if (dev.text.includes(':') && !addr.text.includes(':')) value.label = dev.text;
    this.vips.set(addr.text, { value, pos: addr.pos, label });
  }

  // ---- virtual

  private virtual(b: LvsBlock): void {
    const label = `virtual ${b.name!.text}`;
    const s = this.settings(b, label);
    const active = this.bool(s.get('active'), label);
    const addr = this.values(s.get('address'), label, 2, 'ADDRESS DEVICE:N');
    if (!s.has('address') && !s.has('fwmark'))
      this.diag('error', 'TND_CFG_REQUIRED', b.kw.pos, label, 'a virtual needs address = VIP DEVICE:N');
    const fwmarkW = this.one(s.get('fwmark'), label);
    let fwmark: number | undefined;
    if (fwmarkW) {
      const n = /^\d+$/.test(fwmarkW.text) ? Number(fwmarkW.text) : Number.NaN;
      if (!(n >= 1 && n <= 0xffff_ffff))
        this.diag(
          'error',
          'TND_CFG_RANGE',
          fwmarkW.pos,
          `${label}: fwmark`,
          `a firewall mark is 1..4294967295, got ${fwmarkW.text}`,
        );
      else fwmark = n;
    }
    const nic = this.one(s.get('vip_nic'), label);
    if (nic && addr) {
      // piranha-gui writes vip_nic beside `address = VIP DEV:N`; pulse brings the address up on the device of
      // `address`, so that one decides, and a different vip_nic is said to be ignored.
      const dev = addr[1]!.text.split(':')[0]!;
      const same = nic.text.split(':')[0] === dev;
      this.diag(
        'warning',
        'TND_CFG_NOT_CARRIED',
        nic.pos,
        `${label}: vip_nic`,
        same
          ? `vip_nic ${nic.text} repeats the device of address (${addr[1]!.text}), as piranha-gui writes it; nothing more to carry`
          : `vip_nic ${nic.text} is ignored: pulse brings the address up on ${addr[1]!.text}, the device of address, and so does tandem`,
      );
    }
    if (active && !active.b) {
      this.diag('warning', 'TND_CFG_NOT_CARRIED', active.w.pos, `${label}: active`, 'an inactive virtual is left out');
      return;
    }
    if (!addr) return;
    this.addVip(addr[0]!, addr[1]!, this.one(s.get('vip_nmask'), label), `${label}: address`);

    const k = this.raw.lb.services.length;
    const base: ConfigPath = ['lb', 'services', k];
    const rec = (sub: ConfigPath, pos: SourcePos, l = label): void => this.map.record([...base, ...sub], pos, l);
    const name = b.name!.text.replace(/[^A-Za-z0-9_.:-]/g, '_');
    if (name !== b.name!.text)
      this.note(b.name!.pos, label, `renamed ${name}: tandem names use letters, digits and _ . : - only`);
    const svc: Obj = { name, vip: addr[0]!.text };
    rec([], b.kw.pos);
    rec(['name'], b.name!.pos);
    rec(['vip'], addr[0]!.pos, `${label}: address`);
    if (fwmark !== undefined) {
      // lvsd makes an `ipvsadm -A -f MARK` service: the mark selects the packets, the address is only the VIP that
      // pulse brings up (tandem keeps it, for the owner), and the port is not part of the service.
      svc.fwmark = fwmark;
      rec(['fwmark'], fwmarkW!.pos, `${label}: fwmark`);
    }

    let port = 80;
    const portW = this.one(s.get('port'), label);
    if (portW) {
      const p = /^\d+$/.test(portW.text) ? Number(portW.text) : SERVICES[portW.text];
      if (p === undefined)
        this.diag(
          'error',
          'TND_CFG_NUMBER',
          portW.pos,
          `${label}: port`,
          `${portW.text} is not a port number or a known service name`,
        );
      else port = p;
      rec(['port'], portW.pos, `${label}: port`);
    }
    // A fwmark service has no port of its own: the virtual's port (default 80) becomes its servers' port, where
    // lvsd adds them and nanny probes them.
    if (fwmark === undefined) svc.port = port;
    const proto = this.one(s.get('protocol'), label);
    let udp = false;
    if (proto) {
      if (proto.text === 'tcp' || proto.text === 'udp') {
        svc.protocol = proto.text;
        udp = proto.text === 'udp';
        rec(['protocol'], proto.pos, `${label}: protocol`);
      } else
        this.diag('error', 'TND_CFG_ENUM', proto.pos, `${label}: protocol`, `must be tcp or udp, got ${proto.text}`);
    }
    const sched = this.one(s.get('scheduler'), label);
    svc.scheduler = 'wlc';
    if (sched) {
      rec(['scheduler'], sched.pos, `${label}: scheduler`);
      svc.scheduler = sched.text;
      if (!SCHEDULERS.has(sched.text)) {
        // wrr stands in for a refused scheduler, so validation adds no warning about one nobody wrote.
        svc.scheduler = 'wrr';
        const rejected = ['lblc', 'lblcr', 'dh'].includes(sched.text);
        this.diag(
          'error',
          rejected ? 'TND_CFG_REJECTED' : 'TND_CFG_ENUM',
          sched.pos,
          `${label}: scheduler`,
          rejected
            ? `${sched.text} cannot be used with tandem: the schedulers are rr, wrr, lc, wlc and sh (and mh)`
            : `must be rr, wrr, lc, wlc or sh, got ${sched.text}`,
        );
      }
    }
    if (this.method.value) svc.method = this.method.value;
    if (this.method.pos) rec(['method'], this.method.pos, 'lvs.cf: network');
    svc.owner = 'VI_1';

    const persistent = this.int(s.get('persistent'), label);
    const pmask = this.one(s.get('pmask'), label);
    if (persistent && persistent.n > 0) {
      const persistence: Obj = { timeout: persistent.n * 1000 };
      rec(['persistence'], persistent.w.pos, `${label}: persistent`);
      rec(['persistence', 'timeout'], persistent.w.pos, `${label}: persistent`);
      if (pmask && pmask.text !== '255.255.255.255') {
        const p = maskToPrefix(pmask.text);
        if (p === undefined)
          this.diag('error', 'TND_CFG_ADDRESS', pmask.pos, `${label}: pmask`, `${pmask.text} is not a netmask`);
        else {
          persistence.netmask = Number(p);
          rec(['persistence', 'netmask'], pmask.pos, `${label}: pmask`);
        }
      }
      svc.persistence = persistence;
    } else if (pmask) this.note(pmask.pos, `${label}: pmask`, 'pmask applies only with persistent > 0');

    const sorry = this.one(s.get('sorry_server'), label);
    if (sorry) {
      svc.sorry_server = sorry.text.includes(':') ? `[${sorry.text}]:${port}` : `${sorry.text}:${port}`;
      rec(['sorry_server'], sorry.pos, `${label}: sorry_server`);
    }

    const check = this.check(s, label, udp);
    if (check) {
      svc.check = check.value;
      rec(['check'], check.pos, check.label);
      for (const key of Object.keys(check.value)) rec(['check', key], check.pos, check.label);
      if (check.timing) {
        rec(['check', 'fall'], check.timing.fall, `${label}: timeout`);
        rec(['check', 'rise'], check.timing.rise, `${label}: reentry`);
      }
    }

    const lm = this.one(s.get('load_monitor'), label);
    if (lm && lm.text !== 'none')
      this.diag(
        'warning',
        'TND_CFG_UNSUPPORTED',
        lm.pos,
        `${label}: load_monitor`,
        `load_monitor ${lm.text} is not carried over: tandem does not set weights from the real servers' load`,
      );
    const quiesce = this.bool(s.get('quiesce_server'), label);
    if (quiesce?.b)
      this.diag(
        'warning',
        'TND_CFG_NOT_CARRIED',
        quiesce.w.pos,
        `${label}: quiesce_server`,
        'quiesce_server is not carried over: tandem counts live connections per server, so a returning server ' +
          'is not flooded; set slow_start to ramp its weight',
      );
    for (const k of ['client_monitor', 'master', 'dirs'])
      if (s.has(k)) this.note(s.get(k)!.key.pos, `${label}: ${k}`, `${k} is not carried over: not a tandem setting`);

    const servers: Obj[] = [];
    const seen = new Map<string, SourcePos>();
    for (const sb of b.blocks) {
      if (sb.kind !== 'server' || !this.unique(sb, seen)) continue;
      const rs = this.server(sb, [...base, 'real_servers', servers.length]);
      if (rs && fwmark !== undefined && rs.port === undefined) {
        rs.port = port;
        if (portW) this.map.record([...base, 'real_servers', servers.length, 'port'], portW.pos, `${label}: port`);
      }
      if (rs) servers.push(rs);
    }
    svc.real_servers = servers;
    rec(['real_servers'], b.kw.pos);
    if (servers.length === 0)
      this.diag(
        'warning',
        'TND_CFG_REQUIRED',
        b.kw.pos,
        label,
        'no real servers: the service has nowhere to send clients',
      );
    this.raw.lb.services.push(svc);
  }

  private server(b: LvsBlock, base: ConfigPath): Obj | undefined {
    const label = `server ${b.name!.text}`;
    const s = this.settings(b, label);
    const rec = (sub: ConfigPath, pos: SourcePos, l = label): void => this.map.record([...base, ...sub], pos, l);
    const addr = this.one(s.get('address'), label);
    if (!addr) {
      if (!s.has('address'))
        this.diag('error', 'TND_CFG_REQUIRED', b.kw.pos, label, 'a server needs address = ADDRESS');
      return undefined;
    }
    const rs: Obj = { address: addr.text };
    rec([], b.kw.pos);
    rec(['address'], addr.pos, `${label}: address`);
    const weight = this.int(s.get('weight'), label);
    rs.weight = weight?.n ?? 1;
    if (weight) rec(['weight'], weight.w.pos, `${label}: weight`);
    const port = this.int(s.get('port'), label, 1);
    if (port) {
      rs.port = port.n;
      rec(['port'], port.w.pos, `${label}: port`);
    }
    const active = this.bool(s.get('active'), label);
    if (active && !active.b) {
      rs.weight = 0;
      rec(['weight'], active.w.pos, `${label}: active`);
      this.diag(
        'warning',
        'TND_CFG_NOT_CARRIED',
        active.w.pos,
        `${label}: active`,
        'an inactive server is kept with weight 0 (no new connections); `tandem rs` can give it its weight back',
      );
    }
    return rs;
  }

  /** nanny's probe as a health check, or undefined when the servers go unchecked. */
  private check(
    s: Map<string, LvsSetting>,
    label: string,
    udp: boolean,
  ): { value: Obj; pos: SourcePos; label: string; timing?: { fall: SourcePos; rise: SourcePos } } | undefined {
    const send = this.one(s.get('send'), label);
    const expect = this.one(s.get('expect'), label);
    const regex = this.bool(s.get('use_regex'), label);
    const program = this.one(s.get('send_program'), label);
    const timeout = this.int(s.get('timeout'), label, 1);
    const reentry = this.int(s.get('reentry'), label);
    const timeoutMs = (timeout?.n ?? 10) * 1000;
    const interval = Math.min(NANNY_INTERVAL_MS, timeoutMs);
    const timing: Obj = {
      interval,
      fall: Math.max(1, Math.round(timeoutMs / interval)),
      rise: Math.max(1, Math.ceil(((reentry?.n ?? 180) * 1000) / interval)),
    };
    const at = (send ?? expect ?? program ?? timeout?.w)?.pos;
    const timingAt = { fall: (timeout?.w ?? send ?? expect)?.pos, rise: (reentry?.w ?? send ?? expect)?.pos };
    const pos = at ?? { file: this.file, line: 1, col: 1 };
    const withTiming = (value: Obj, checkLabel: string) => ({
      value: { ...value, ...timing },
      pos,
      label: checkLabel,
      timing: { fall: timingAt.fall ?? pos, rise: timingAt.rise ?? pos },
    });
    if (udp) {
      // nanny's UDP probe: the datagram `send` (empty without it), and with `expect` a reply that starts with it
      // (`*`: any reply); without `expect`, silence passes and an ICMP port unreachable fails, as UDP_CHECK does.
      const hex = (t: string): string =>
        [...Buffer.from(unescapeNanny(t), 'latin1')].map((b) => b.toString(16).padStart(2, '0')).join(' ');
      const value: Obj = { type: 'udp', timeout: Math.min(5000, timeoutMs) };
      if (send && send.text !== '') value.payload = hex(send.text);
      if (expect) {
        value.require_reply = true;
        if (expect.text !== '*' && expect.text !== '' && !regex?.b) value.reply = hex(expect.text);
      }
      return withTiming(value, `${label}: protocol`);
    }
    if (program) {
      this.diag(
        'warning',
        'TND_CFG_NOT_CARRIED',
        program.pos,
        `${label}: send_program`,
        "send_program is not carried over yet (tandem's script checks use the exit status, not the output): " +
          'a TCP connect check is used',
      );
      return withTiming({ type: 'tcp', connect_timeout: Math.min(5000, timeoutMs) }, `${label}: send_program`);
    }
    const sendText = send ? unescapeNanny(send.text) : undefined;
    const http = sendText ? /^(GET|HEAD) +(\S+)(?: +HTTP\/1\.[01])? *\r?\n/.exec(sendText) : null;
    if (!http) {
      if (send || expect)
        this.diag(
          'warning',
          'TND_CFG_NOT_CARRIED',
          (send ?? expect)!.pos,
          `${label}: ${send ? 'send' : 'expect'}`,
          "send/expect on a raw TCP stream is not supported by tandem's checks yet: a TCP connect check is used",
        );
      return withTiming(
        { type: 'tcp', connect_timeout: Math.min(5000, timeoutMs) },
        `${label}: ${send ? 'send' : 'timeout'}`,
      );
    }
    const value: Obj = { type: 'http', path: pathOf(http[2]!), timeout: Math.min(5000, timeoutMs) };
    const host = /\r?\nHost: *([^\r\n]+)/i.exec(sendText ?? '');
    if (host) value.host = host[1]!.trim();
    if (http[1] === 'HEAD')
      this.note(send!.pos, `${label}: send`, 'HEAD is sent as GET: tandem reads the status either way');
    if (!expect) {
      this.note(
        send!.pos,
        `${label}: send`,
        'send without expect: nanny checks only that the request can be written; a TCP connect check does the same',
      );
      return withTiming({ type: 'tcp', connect_timeout: Math.min(5000, timeoutMs) }, `${label}: send`);
    }
    const e = unescapeNanny(expect.text);
    const anyStatus = ['100-599'];
    const statusCode = /^HTTP\/\d\.\d +([1-5]\d\d)/.exec(e);
    if (regex?.b) {
      let re: RegExp | undefined;
      try {
        re = new RegExp(e);
      } catch {
        this.diag(
          'error',
          'TND_CFG_SYNTAX',
          expect.pos,
          `${label}: expect`,
          `not a regular expression: ${expect.text}`,
        );
        return undefined;
      }
      if (re.test('HTTP/1.1 200 OK') || re.test('HTTP/1.0 200 OK'))
        value.status = re.test('HTTP/1.1 503 Service Unavailable') ? anyStatus : [200];
      else {
        value.body_regex = e;
        this.diag(
          'warning',
          'TND_CFG_NOT_CARRIED',
          expect.pos,
          `${label}: expect`,
          'nanny matched this regular expression against the start of the response; tandem matches it against ' +
            'the body (body_regex)',
        );
      }
    } else if (e === '*' || 'HTTP/1.1 '.startsWith(e) || 'HTTP/1.0 '.startsWith(e)) value.status = anyStatus;
    else if (statusCode) value.status = [Number(statusCode[1])];
    else {
      value.body_regex = e.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      this.diag(
        'warning',
        'TND_CFG_NOT_CARRIED',
        expect.pos,
        `${label}: expect`,
        `nanny compared the first ${e.length} bytes of the response (the status line) with this text; tandem ` +
          'looks for it in the body (body_regex)',
      );
    }
    if (value.status === anyStatus)
      this.note(
        expect.pos,
        `${label}: expect`,
        'any HTTP status passes, as with nanny; narrow check.status (e.g. 200-399) if a 5xx should take a server out',
      );
    return withTiming(value, `${label}: send`);
  }

  // ---- failover (service = fos)

  private failover(b: LvsBlock): void {
    const label = `failover ${b.name!.text}`;
    const s = this.settings(b, label);
    const active = this.bool(s.get('active'), label);
    if (active && !active.b) {
      this.diag(
        'warning',
        'TND_CFG_NOT_CARRIED',
        active.w.pos,
        `${label}: active`,
        'an inactive failover service is left out',
      );
      return;
    }
    const addr = this.values(s.get('address'), label, 2, 'ADDRESS DEVICE:N');
    if (addr) this.addVip(addr[0]!, addr[1]!, this.one(s.get('vip_nmask'), label), `${label}: address`);
    else if (!s.has('address'))
      this.diag('error', 'TND_CFG_REQUIRED', b.kw.pos, label, 'a failover service needs address = VIP DEVICE:N');
    const startCmd = this.one(s.get('start_cmd'), label);
    const stopCmd = this.one(s.get('stop_cmd'), label);
    for (const [k, w] of [
      ['start_cmd', startCmd],
      ['stop_cmd', stopCmd],
    ] as const)
      if (!w && !s.has(k)) this.diag('error', 'TND_CFG_REQUIRED', b.kw.pos, label, `a failover service needs ${k}`);
    for (const k of ['send', 'expect'])
      if (s.has(k))
        this.diag(
          'warning',
          'TND_CFG_NOT_CARRIED',
          s.get(k)!.key.pos,
          `${label}: ${k}`,
          `${k} is not carried over yet: the failover service is started and stopped, not probed`,
        );
    for (const k of ['port', 'timeout', 'reentry'])
      if (s.has(k))
        this.note(s.get(k)!.key.pos, `${label}: ${k}`, `${k} belongs to the probe, which is not carried over`);
    if (!startCmd || !stopCmd) return;
    const g = this.raw.groups.length;
    const name = b.name!.text.replace(/[^A-Za-z0-9_.:-]/g, '_');
    this.raw.groups.push({
      name,
      owner: 'VI_1',
      resources: [{ type: 'script', start: startCmd.text, stop: stopCmd.text }],
    });
    this.map.record(['groups', g], b.kw.pos, label);
    this.map.record(['groups', g, 'name'], b.name!.pos, label);
    this.map.record(['groups', g, 'resources', 0], startCmd.pos, `${label}: start_cmd`);
    this.map.record(['groups', g, 'resources', 0, 'start'], startCmd.pos, `${label}: start_cmd`);
    this.map.record(['groups', g, 'resources', 0, 'stop'], stopCmd.pos, `${label}: stop_cmd`);
  }

  // ---- the routers and their VRRP instance

  private instance(g: Map<string, LvsSetting>): void {
    const label = 'lvs.cf';
    const start = { file: this.file, line: 1, col: 1 };
    const primary = this.one(g.get('primary'), label);
    const backup = this.one(g.get('backup'), label);
    const backupActive = this.bool(g.get('backup_active'), label);
    const heartbeat = this.bool(g.get('heartbeat'), label);
    if (!primary && !g.has('primary'))
      this.diag(
        'error',
        'TND_CFG_REQUIRED',
        start,
        'lvs.cf: primary',
        'primary = ADDRESS of the primary LVS router is missing',
      );
    if (heartbeat && !heartbeat.b)
      this.diag(
        'warning',
        'TND_CFG_NOT_CARRIED',
        heartbeat.w.pos,
        'lvs.cf: heartbeat',
        'heartbeat = 0: pulse would not fail over; tandem runs VRRP between the routers anyway',
      );
    const withBackup = !!backup && backupActive?.b !== false;
    if (backupActive && !backupActive.b)
      this.diag(
        'warning',
        'TND_CFG_NOT_CARRIED',
        backupActive.w.pos,
        'lvs.cf: backup_active',
        'backup_active = 0: no backup router, the VRRP instance runs on the primary alone',
      );
    else if (!backup)
      this.diag(
        'warning',
        'TND_CFG_REQUIRED',
        start,
        'lvs.cf: backup',
        'no backup router: the VRRP instance runs on the primary alone',
      );

    const nodes: Obj[] = [];
    if (primary) {
      nodes.push({ name: 'primary', address: primary.text });
      this.map.record(['cluster', 'nodes', 0], primary.pos, 'lvs.cf: primary');
      this.map.record(['cluster', 'nodes', 0, 'address'], primary.pos, 'lvs.cf: primary');
    }
    if (withBackup) {
      const i = nodes.length;
      nodes.push({ name: 'backup', address: backup.text });
      this.map.record(['cluster', 'nodes', i], backup.pos, 'lvs.cf: backup');
      this.map.record(['cluster', 'nodes', i, 'address'], backup.pos, 'lvs.cf: backup');
    }
    this.raw.cluster.nodes = nodes;

    const base: ConfigPath = ['vrrp', 'instances', 0];
    const rec = (sub: ConfigPath, pos: SourcePos, l: string): void => this.map.record([...base, ...sub], pos, l);
    const inst: Obj = { name: 'VI_1', vrid: 1, version: 3 };
    rec([], primary?.pos ?? start, 'lvs.cf: primary');
    if (this.device) {
      inst.interface = this.device.text;
      rec(['interface'], this.device.pos, this.device.label);
    } else
      this.diag(
        'error',
        'TND_CFG_REQUIRED',
        start,
        'lvs.cf',
        'no interface: name it in an address line (address = VIP eth0:1) or in nat_router',
      );
    // Without a primary (already reported) the map names only the nodes there are: one root cause, one diagnostic.
    inst.priority = withBackup
      ? { ...(primary ? { primary: PRIMARY_PRIORITY } : {}), backup: BACKUP_PRIORITY }
      : PRIMARY_PRIORITY;
    const keepalive = this.int(g.get('keepalive'), label, 1);
    const deadtime = this.int(g.get('deadtime'), label, 1);
    // The RH-era parser defaults: keepalive 2 s, deadtime 5 s.
    const ka = keepalive?.n ?? 2;
    const dt = deadtime?.n ?? 5;
    inst.advert_interval = ka * 1000;
    if (keepalive) rec(['advert_interval'], keepalive.w.pos, 'lvs.cf: keepalive');
    inst.down_timer_adverts = Math.min(100, Math.max(1, Math.ceil(dt / ka)));
    if (deadtime) rec(['down_timer_adverts'], deadtime.w.pos, 'lvs.cf: deadtime');
    if (dt / ka > 100 && deadtime)
      this.diag(
        'warning',
        'TND_CFG_TIMING',
        deadtime.w.pos,
        'lvs.cf: deadtime',
        `deadtime is more than 100 keepalives: the backup takes over after 100 missed adverts (${ka * 100} s)`,
      );
    inst.preempt = true;
    const vips = [...this.vips.values()];
    inst.vips = vips.map((v) =>
      (v.value as Obj).dev === this.device?.text && !(v.value as Obj).label ? (v.value as Obj).address : v.value,
    );
    vips.forEach((v, j) => {
      rec(['vips', j], v.pos, v.label);
      for (const key of ['address', 'dev', 'label']) rec(['vips', j, key], v.pos, v.label);
    });
    if (withBackup && primary) {
      inst.unicast = { source: { primary: primary.text, backup: backup.text }, peers: [primary.text, backup.text] };
      rec(['unicast'], backup.pos, 'lvs.cf: backup');
      rec(['unicast', 'peers', 0], primary.pos, 'lvs.cf: primary');
      rec(['unicast', 'peers', 1], backup.pos, 'lvs.cf: backup');
      rec(['unicast', 'source', 'primary'], primary.pos, 'lvs.cf: primary');
      rec(['unicast', 'source', 'backup'], backup.pos, 'lvs.cf: backup');
    }
    const notify: Obj = {};
    for (const [k, to] of [
      ['active_cmd', 'master'],
      ['inactive_cmd', 'backup'],
    ] as const) {
      const w = this.one(g.get(k), label);
      if (!w) continue;
      notify[to] = w.text;
      rec(['notify', to], w.pos, `lvs.cf: ${k}`);
    }
    if (Object.keys(notify).length > 0) inst.notify = notify;
    this.raw.vrrp.instances.push(inst);
  }
}

/** The path of a request target (an absolute URL gives its path). */
function pathOf(target: string): string {
  const m = /^https?:\/\/[^/]+(\/.*)?$/i.exec(target);
  if (m) return m[1] ?? '/';
  return target.startsWith('/') ? target : `/${target}`;
}
