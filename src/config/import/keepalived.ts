/**
 * Reads a keepalived.conf (its VRRP part here, its LVS part in ./keepalived-lb.ts) directly into tandem's native
 * config shape (the input of the schema in ../schema.ts), with a Locator that maps every native path back to the keyword or value in the user's own file, so
 * the one schema and the semantic checks report keepalived users' mistakes as `keepalived.conf:42:5 … vrrp_instance
 * VI_2: priority`. Values are passed through unchecked (priority 300 stays 300); the reader only reports what it
 * alone can see: broken structure, words that are not numbers, wrong argument counts, unknown keywords and
 * keywords tandem does not implement. It reports every problem in one run and never throws.
 *
 * What each keyword becomes is listed in ./keepalived-keywords.ts (and in docs/keepalived.md, generated from it).
 * Structure follows keepalived: a statement is one line, or the text between two braces, so
 * `authentication { auth_type PASS auth_pass 1111 }` hands `auth_pass 1111` to auth_type as extra arguments; like
 * keepalived, the reader does not guess what was meant and reports TND_CFG_ARGS, which names the stray keyword.
 */
import type { ErrorCode } from '../../core/errors.ts';
import {
  type ConfigPath,
  type Diagnostic,
  dottedPath,
  type Locator,
  type SourcePos,
  sortDiagnostics,
} from '../diagnostics.ts';
// alerts (issue 12 item 5): keepalived's e-mail keywords
import { ALERT_GLOBAL_DEFS, namedSmtpAlert } from './keepalived-alerts.ts';
import {
  isKeepalivedKeyword,
  type KaBlock,
  keepalivedKeywords,
  REJECTED,
  TOP_ONLY,
  WARNED,
} from './keepalived-keywords.ts';
import { finishLb, LB_HANDLERS, LB_TOP, type LbScope, type LbState, newLbState, userHandler } from './keepalived-lb.ts';
import {
  type ConfigFs,
  type Item,
  type KeepalivedReadOptions,
  type LexResult,
  lexKeepalived,
  type Word,
} from './keepalived-lexer.ts';

export type { ConfigFs, KeepalivedReadOptions } from './keepalived-lexer.ts';

/** The outcome of reading a keepalived.conf: the native input object, where each part came from, and the problems. */
export interface KeepalivedReadResult {
  /** An object in the native schema's input shape; validate it with the schema and the semantic checks. */
  raw: unknown;
  /** Maps a native path to the keyword or value it came from, with a keepalived-style label. */
  locator: Locator;
  /** Every problem the reader found, sorted by file, line and column. */
  diagnostics: Diagnostic[];
  /** Every file read, the entry file first. */
  files: string[];
}

/**
 * Reads `entryPath` (and the files it includes) into tandem's native config input. Never throws.
 * @example readKeepalived('/etc/keepalived/keepalived.conf', nodeFs).raw // { cluster: {…}, vrrp: {…} }
 */
export function readKeepalived(
  entryPath: string,
  fs: ConfigFs,
  options: KeepalivedReadOptions = {},
): KeepalivedReadResult {
  // A safety net, not a code path: the fuzz test asserts that its message never appears.
  const internal = (e: unknown): Diagnostic => ({
    file: entryPath,
    line: 1,
    col: 1,
    severity: 'error',
    code: 'TND_CFG_SYNTAX',
    path: '(reader)',
    message: `internal error in the keepalived reader, please report it: ${e instanceof Error ? e.message : String(e)}`,
  });
  let lexed: LexResult;
  try {
    lexed = lexKeepalived(entryPath, fs, options);
  } catch (e) {
    lexed = { items: [], diagnostics: [internal(e)], files: [] };
  }
  const parser = new Parser(lexed.items, entryPath);
  try {
    parser.run();
  } catch (e) {
    parser.diagnostics.push(internal(e));
  }
  return {
    raw: parser.raw,
    locator: locatorFrom(parser.records, entryPath),
    diagnostics: sortDiagnostics([...lexed.diagnostics, ...parser.diagnostics]),
    files: lexed.files,
  };
}

type Obj = Record<string, unknown>;
type Located = { pos: SourcePos; label: string };

/** Where the statements of one block go. `rec` is a no-op for a block that is read only for its diagnostics. */
export interface Scope {
  obj: Obj;
  base: ConfigPath;
  label: string;
  rec: (sub: ConfigPath, pos: SourcePos, label: string) => void;
  inst?: InstanceExtra;
  auth?: { type?: Word; pass?: Word; rejected?: boolean };
  /** The virtual server, real server and checker being read (LVS blocks; see keepalived-lb.ts). */
  lb?: LbScope;
}

/** Instance settings that only make sense once the whole instance (and global_defs) is read. */
interface InstanceExtra {
  src?: { word: Word; keyword: string };
  peers: Word[];
  peersAt?: SourcePos;
  /** strict_mode on (or the global vrrp_strict); notStrict: strict_mode off. */
  strict?: Word;
  notStrict?: boolean;
  /** vmac_xmit_base, applied to the vmac once the instance is read. */
  xmitBase?: Word;
}

/** A block being read, kept on a stack to recognise a missing '}' at the first statement that cannot be inside. */
interface Frame {
  kind: 'top' | 'keywords' | 'values';
  block?: KaBlock;
  label: string;
  open: SourcePos;
  /** Opened without '{' (already reported): not reported again as unclosed. */
  noBrace: boolean;
}

/** Reads one statement of a block into its scope. */
export type Handler = (p: Parser, words: [Word, ...Word[]], scope: Scope) => void;

/** The block a scope reads, so that argument errors can name a stray keyword of that block. */
const SCOPE_BLOCK = new WeakMap<Scope, KaBlock>();

function blockOf(scope: Scope): KaBlock | undefined {
  return SCOPE_BLOCK.get(scope);
}

/** A global_defs setting that serves as the default of every instance, with where it was written. */
type GlobalDefault<T> = { value: T; pos: SourcePos; label: string } | undefined;

/** The reader: a pass over the lexed statements that fills `raw`, `records` and `diagnostics`. Internal. */
export class Parser {
  readonly diagnostics: Diagnostic[] = [];
  readonly records = new Map<string, Located>();
  readonly raw: {
    cluster: { nodes: Obj[] };
    vrrp: { scripts: Obj; track_files: Obj; instances: Obj[]; sync_groups: Obj[] };
    lb?: { services: Obj[] };
    /** alerts (issue 12 item 5): keepalived's e-mail keywords (keepalived-alerts.ts). */
    alerts?: Obj;
  } = {
    cluster: { nodes: [] },
    vrrp: { scripts: {}, track_files: {}, instances: [], sync_groups: [] },
  };
  /** The LVS part, turned into raw.lb at the end (a virtual_server_group may come after its use). */
  readonly lb: LbState = newLbState();
  readonly globals: {
    routerId?: Word;
    version: GlobalDefault<number>;
    garp: {
      master_delay: GlobalDefault<number>;
      master_repeat: GlobalDefault<number>;
      master_refresh: GlobalDefault<number>;
      lower_prio_repeat: GlobalDefault<number>;
    };
    lowerPrioNoAdvert: GlobalDefault<boolean>;
    downTimerAdverts: GlobalDefault<number>;
    v3Checksum: GlobalDefault<string>;
    /** vrrp_strict: where it was written. */
    strict?: Word;
    skipCheckAdvAddr: GlobalDefault<boolean>;
    garpInterval: GlobalDefault<number>;
    gnaInterval: GlobalDefault<number>;
  } = {
    version: undefined,
    garp: {
      master_delay: undefined,
      master_repeat: undefined,
      master_refresh: undefined,
      lower_prio_repeat: undefined,
    },
    lowerPrioNoAdvert: undefined,
    downTimerAdverts: undefined,
    v3Checksum: undefined,
    skipCheckAdvAddr: undefined,
    garpInterval: undefined,
    gnaInterval: undefined,
  };
  /** static_ipaddress, static_routes and static_rules, as read. */
  readonly statics: { addresses: unknown[]; routes: string[]; rules: string[] } = {
    addresses: [],
    routes: [],
    rules: [],
  };
  /** First definitions by kind and name, for TND_CFG_DUPLICATE. */
  readonly defined = new Map<string, SourcePos>();
  readonly instances: Scope[] = [];
  private i = 0;
  private readonly stack: Frame[] = [];

  constructor(
    private readonly items: Item[],
    private readonly entry: string,
  ) {}

  run(): void {
    const top: Frame = {
      kind: 'top',
      label: '(top level)',
      open: { file: this.entry, line: 1, col: 1 },
      noBrace: false,
    };
    const scope: Scope = { obj: {}, base: [], label: '', rec: (sub, pos, label) => this.record(sub, pos, label) };
    this.body(top, (words) => this.dispatch('top level', words, scope));
    this.finish();
  }

  // ---- diagnostics and records

  diag(severity: Diagnostic['severity'], code: ErrorCode, pos: SourcePos, path: string, message: string): void {
    this.diagnostics.push({ ...pos, severity, code, path, message });
  }

  record(path: ConfigPath, pos: SourcePos, label: string): void {
    this.records.set(JSON.stringify(path), { pos, label });
  }

  // ---- structure

  private peek(): Item | undefined {
    return this.items[this.i];
  }

  /** Reads statements until the block's '}' (or the first statement that belongs to an enclosing block). */
  private body(frame: Frame, onStatement: (words: [Word, ...Word[]]) => void): void {
    this.stack.push(frame);
    try {
      for (;;) {
        const it = this.peek();
        if (!it) {
          if (frame.kind !== 'top') this.unclosed(frame.label, frame.open, frame.noBrace, 'the input ends first');
          return;
        }
        if (it.kind === 'close') {
          this.i++;
          if (frame.kind !== 'top') return;
          this.diag('error', 'TND_CFG_EXTRA_BRACE', it.pos, '(top level)', "this '}' closes no block");
          continue;
        }
        if (it.kind === 'open') {
          this.i++;
          this.diag(
            'error',
            'TND_CFG_SYNTAX',
            it.pos,
            frame.label,
            "a '{' with no keyword before it; its block is skipped",
          );
          this.skip('{', it.pos);
          continue;
        }
        const kw = it.words[0];
        if (frame.kind !== 'top' && this.belongsAbove(kw.text, frame)) {
          this.unclosed(
            frame.label,
            frame.open,
            frame.noBrace,
            `${kw.text} at line ${kw.pos.line} cannot be inside it`,
          );
          return;
        }
        this.i++;
        onStatement(it.words);
      }
    } finally {
      this.stack.pop();
    }
  }

  /** Whether a statement starting with `kw` cannot be inside `frame` but belongs to an enclosing block. */
  private belongsAbove(kw: string, frame: Frame): boolean {
    if (frame.kind === 'keywords' && frame.block && isKeepalivedKeyword(frame.block, kw)) return false;
    if (TOP_ONLY.has(kw)) return true;
    return this.takenByEnclosing(kw, this.stack.length - 2);
  }

  /** Whether a keyword block at or below stack index `from` (the top level excluded) takes `kw`. */
  private takenByEnclosing(kw: string, from: number): boolean {
    for (let k = from; k >= 1; k--) {
      const f = this.stack[k];
      if (f && f.kind === 'keywords' && f.block && isKeepalivedKeyword(f.block, kw)) return true;
    }
    return false;
  }

  private unclosed(label: string, open: SourcePos, noBrace: boolean, why: string): void {
    if (noBrace) return;
    this.diag('error', 'TND_CFG_UNCLOSED_BLOCK', open, label, `${label} opened here is never closed (${why})`);
  }

  /**
   * Skips a block whose '{' was just consumed, braces balanced, whatever it holds: the keywords of an unimplemented
   * block (a checker's `connect_timeout`, a `host { … }`) are its own, never the enclosing block's. It stops early
   * only at a keyword that can stand at the top level alone (`vrrp_instance`, `virtual_server` …), which means the
   * block lost its '}'.
   */
  private skip(label: string, open: SourcePos): void {
    let depth = 1;
    for (;;) {
      const it = this.peek();
      if (!it) {
        this.unclosed(label, open, false, 'the input ends first');
        return;
      }
      if (it.kind === 'open') depth++;
      else if (it.kind === 'close') {
        depth--;
        if (depth === 0) {
          this.i++;
          return;
        }
      } else {
        const kw = it.words[0];
        if (TOP_ONLY.has(kw.text)) {
          this.unclosed(label, open, false, `${kw.text} at line ${kw.pos.line} cannot be inside it`);
          return;
        }
      }
      this.i++;
    }
  }

  /** Skips the block that follows a statement, if one does. */
  skipBlockIfAny(label: string, open: SourcePos): void {
    if (this.peek()?.kind !== 'open') return;
    this.i++;
    this.skip(label, open);
  }

  /** Reads the block that must follow `kw` (keyword statements or value lines). */
  block(
    kw: Word,
    label: string,
    kind: 'keywords' | 'values',
    blockName: KaBlock | undefined,
    onStatement: (words: [Word, ...Word[]]) => void,
  ): void {
    let noBrace = false;
    if (this.peek()?.kind === 'open') this.i++;
    else {
      // keepalived reads the following lines as the block anyway; so do we, after saying so.
      noBrace = true;
      this.diag('error', 'TND_CFG_SYNTAX', kw.pos, label, `${kw.text} needs a block: ${kw.text} { … }`);
    }
    const frame: Frame = { kind, label, open: kw.pos, noBrace };
    if (blockName) frame.block = blockName;
    this.body(frame, onStatement);
  }

  /** Reads one statement of `block`: a supported keyword, a warned or rejected one, or a typo. */
  dispatch(block: KaBlock, words: [Word, ...Word[]], scope: Scope): void {
    const kw = words[0];
    const table = HANDLERS[block];
    const handler = table && Object.hasOwn(table, kw.text) ? table[kw.text] : undefined;
    if (handler) {
      handler(this, words, scope);
      return;
    }
    const where = block === 'top level' ? kw.text : `${scope.label}: ${kw.text}`;
    if (Object.hasOwn(WARNED[block], kw.text)) {
      const reason = WARNED[block][kw.text]!;
      if (this.peek()?.kind === 'open') {
        // The parser rule for every block tandem does not implement, at any depth: one warning naming it and its
        // line, and the whole block skipped, braces balanced, so that nothing in it disturbs the rest of the file.
        const label = block === 'top level' ? words.map((w) => w.text).join(' ') : where;
        this.diag(
          'warning',
          'TND_CFG_IGNORED_BLOCK',
          kw.pos,
          label,
          `the ${kw.text} block at line ${kw.pos.line} is skipped whole: ${reason}`,
        );
        this.skipBlockIfAny(label, kw.pos);
        return;
      }
      const why = reason === 'not implemented yet' ? '' : ` (${reason})`;
      this.diag('warning', 'TND_CFG_UNSUPPORTED', kw.pos, where, `${kw.text} is not supported yet; ignored${why}`);
      this.skipBlockIfAny(where, kw.pos);
      return;
    }
    if (Object.hasOwn(REJECTED[block], kw.text)) {
      this.diag(
        'error',
        'TND_CFG_REJECTED',
        kw.pos,
        where,
        `${kw.text} cannot be used with tandem: ${REJECTED[block][kw.text]}`,
      );
      this.skipBlockIfAny(where, kw.pos);
      return;
    }
    const hint = this.suggestKeyword(block, kw.text);
    const inBlock = block === 'top level' ? 'at the top level' : `in ${blockTitle(block)}`;
    this.diag(
      'error',
      'TND_CFG_UNKNOWN_KEY',
      kw.pos,
      where,
      `${kw.text} is not a keepalived keyword ${inBlock}${hint ? `; did you mean ${hint}?` : ''}`,
    );
    this.skipBlockIfAny(where, kw.pos);
  }

  private readonly suggestions = new Map<string, string | undefined>();

  /** A suggestion for a typo in `block`, remembered: a file may repeat one typo many times. */
  private suggestKeyword(block: KaBlock, word: string): string | undefined {
    const key = `${block}\0${word}`;
    if (!this.suggestions.has(key)) this.suggestions.set(key, suggest(word, keepalivedKeywords(block)));
    return this.suggestions.get(key);
  }

  // ---- values

  /** The arguments of a statement; reports TND_CFG_ARGS and returns undefined when too few are given. */
  args(words: [Word, ...Word[]], min: number, max: number, where: string, block?: KaBlock): Word[] | undefined {
    const kw = words[0];
    const args = words.slice(1);
    if (args.length >= min && args.length <= max) return args;
    const want = min === max ? `${min}` : max === Number.POSITIVE_INFINITY ? `at least ${min}` : `${min} to ${max}`;
    let message = `${kw.text} takes ${want} value${want === '1' ? '' : 's'}, got ${args.length}`;
    const at = args.length > max ? args[max]! : kw;
    if (args.length > max) {
      const extra = args.slice(max);
      message += ` (${extra.map((w) => w.text).join(' ')})`;
      const stray = block ? extra.find((w) => isKeepalivedKeyword(block, w.text)) : undefined;
      if (stray) {
        message +=
          `; keepalived reads a line, or the text after '{', as one statement, so ${stray.text} is not read as a ` +
          'keyword: put one keyword per line';
      }
    }
    this.diag('error', 'TND_CFG_ARGS', at.pos, where, message);
    return args.length < min ? undefined : args;
  }

  /**
   * The arguments of a flag keyword (`nopreempt`, `accept`, `misc_dynamic` …). keepalived's handlers of these never
   * look at their arguments, so `nopreempt 1` and even `nopreempt false` set the flag: the reader does the same and
   * says so, unless a stray word is a keyword of the block (two statements on one line), which stays an error.
   */
  flagArgs(words: [Word, ...Word[]], where: string, block?: KaBlock): void {
    const extra = words.slice(1);
    if (extra.length === 0) return;
    if (block && extra.some((w) => isKeepalivedKeyword(block, w.text))) {
      this.args(words, 0, 0, where, block);
      return;
    }
    const kw = words[0].text;
    const shown = extra.map((w) => w.text).join(' ');
    this.diag(
      'warning',
      'TND_CFG_AS_KEEPALIVED',
      extra[0]!.pos,
      where,
      `${kw} takes no value; ${shown} is ignored, as keepalived ignores it (${kw} is set whatever follows it)`,
    );
  }

  /** An integer, passed through unchecked for range (the schema judges it). */
  int(w: Word, where: string): number | undefined {
    if (/^[+-]?\d+$/.test(w.text)) {
      const n = Number(w.text);
      if (Number.isSafeInteger(n)) return n;
    }
    this.diag('error', 'TND_CFG_NUMBER', w.pos, where, `must be a whole number, got ${JSON.stringify(w.text)}`);
    return undefined;
  }

  /** keepalived seconds (fractions allowed) as integer milliseconds. */
  ms(w: Word, where: string): number | undefined {
    if (/^(?:\d+(?:\.\d*)?|\.\d+)$/.test(w.text)) {
      const exact = Number(w.text) * 1000;
      const ms = Math.round(exact);
      if (Number.isSafeInteger(ms)) {
        if (Math.abs(exact - ms) > 1e-6) {
          this.diag(
            'warning',
            'TND_CFG_NUMBER',
            w.pos,
            where,
            `${w.text} s is not a whole number of milliseconds; read as ${ms} ms`,
          );
        }
        return ms;
      }
    }
    this.diag(
      'error',
      'TND_CFG_NUMBER',
      w.pos,
      where,
      `must be a number of seconds (e.g. 1 or 0.5), got ${JSON.stringify(w.text)}`,
    );
    return undefined;
  }

  /** keepalived <BOOL>: on|off|true|false|yes|no; a missing value means true. */
  bool(w: Word | undefined, where: string): boolean | undefined {
    if (!w) return true;
    if (['on', 'true', 'yes'].includes(w.text)) return true;
    if (['off', 'false', 'no'].includes(w.text)) return false;
    this.diag(
      'error',
      'TND_CFG_ENUM',
      w.pos,
      where,
      `must be one of on, off, true, false, yes, no; got ${JSON.stringify(w.text)}`,
    );
    return undefined;
  }

  /** The file, weight and reverse of the track_file `name` (FILE_CHECK); an unknown name is TND_CFG_UNKNOWN_REF. */
  trackFilePath(name: Word): { path: string; weight?: number; reverse?: boolean } | undefined {
    const tf = Object.hasOwn(this.raw.vrrp.track_files, name.text)
      ? (this.raw.vrrp.track_files[name.text] as Obj)
      : undefined;
    if (!tf) {
      this.diag('error', 'TND_CFG_UNKNOWN_REF', name.pos, 'FILE_CHECK: track_file', `no track_file named ${name.text}`);
      return undefined;
    }
    if (typeof tf.path !== 'string') return undefined;
    return {
      path: tf.path,
      ...(typeof tf.weight === 'number' ? { weight: tf.weight } : {}),
      ...(typeof tf.reverse === 'boolean' ? { reverse: tf.reverse } : {}),
    };
  }

  /** TND_CFG_DUPLICATE for a second definition; returns true when `name` was already defined. */
  duplicate(kind: string, name: Word, where: string): boolean {
    const key = `${kind}\0${name.text}`;
    const first = this.defined.get(key);
    if (!first) {
      this.defined.set(key, name.pos);
      return false;
    }
    const at = first.file === name.pos.file ? `line ${first.line}` : `${first.file}:${first.line}`;
    this.diag(
      'error',
      'TND_CFG_DUPLICATE',
      name.pos,
      where,
      `${kind} ${name.text} is defined twice; first defined at ${at}`,
    );
    return true;
  }

  // ---- after the whole input: global defaults and settings that depend on the whole instance

  private finish(): void {
    const g = this.globals;
    const node: Obj = { name: g.routerId?.text ?? 'local' };
    this.raw.cluster.nodes.push(node);
    if (g.routerId) {
      this.record(['cluster', 'nodes', 0], g.routerId.pos, 'global_defs: router_id');
      this.record(['cluster', 'nodes', 0, 'name'], g.routerId.pos, 'global_defs: router_id');
    }
    // alerts (issue 12 item 5): subjects carry keepalived's [router_id].
    if (this.raw.alerts && g.routerId) {
      this.raw.alerts.router_id = g.routerId.text;
      this.record(['alerts', 'router_id'], g.routerId.pos, 'global_defs: router_id');
    }
    for (const s of this.instances) {
      const o = s.obj;
      const x = s.inst!;
      if (x.peers.length > 0) {
        const unicast: Obj = { peers: x.peers.map((w) => w.text) };
        s.rec(['unicast'], x.peersAt ?? x.peers[0]!.pos, `${s.label}: unicast_peer`);
        s.rec(['unicast', 'peers'], x.peersAt ?? x.peers[0]!.pos, `${s.label}: unicast_peer`);
        for (const [j, w] of x.peers.entries()) s.rec(['unicast', 'peers', j], w.pos, `${s.label}: unicast_peer`);
        if (x.src) {
          // keepalived has one source address for both modes: with peers it is the unicast source.
          unicast.source = x.src.word.text;
          s.rec(['unicast', 'source'], x.src.word.pos, `${s.label}: ${x.src.keyword}`);
        }
        o.unicast = unicast;
      } else if (x.src) {
        o.mcast_source = x.src.word.text;
        s.rec(['mcast_source'], x.src.word.pos, `${s.label}: ${x.src.keyword}`);
      }
      const fill = <T>(key: string, d: GlobalDefault<T>, into: Obj = o, path: ConfigPath = [key]): void => {
        if (!d || into[key] !== undefined) return;
        into[key] = d.value;
        s.rec(path, d.pos, d.label);
      };
      if (o.version === undefined) {
        if (g.version) fill('version', g.version);
        // keepalived's default is VRRPv2, and v3 for IPv6 addresses: written out so tandem speaks what its peers do.
        else o.version = firstVipIsV6(o.vips) ? 3 : 2;
      }
      if (g.garp.master_delay || g.garp.master_repeat || g.garp.master_refresh || g.garp.lower_prio_repeat) {
        const garp = (o.garp as Obj | undefined) ?? {};
        fill('master_delay', g.garp.master_delay, garp, ['garp', 'master_delay']);
        fill('master_repeat', g.garp.master_repeat, garp, ['garp', 'master_repeat']);
        fill('master_refresh', g.garp.master_refresh, garp, ['garp', 'master_refresh']);
        fill('lower_prio_repeat', g.garp.lower_prio_repeat, garp, ['garp', 'lower_prio_repeat']);
        o.garp = garp;
      }
      fill('lower_prio_no_advert', g.lowerPrioNoAdvert);
      fill('down_timer_adverts', g.downTimerAdverts);
      fill('v3_checksum', g.v3Checksum);
      fill('skip_check_adv_addr', g.skipCheckAdvAddr);
      if (g.garpInterval || g.gnaInterval) {
        const garp = (o.garp as Obj | undefined) ?? {};
        fill('interval', g.garpInterval, garp, ['garp', 'interval']);
        fill('na_interval', g.gnaInterval, garp, ['garp', 'na_interval']);
        o.garp = garp;
      }
      if (x.xmitBase) {
        if (o.vmac) {
          (o.vmac as Obj).xmit_base = true;
          s.rec(['vmac', 'xmit_base'], x.xmitBase.pos, `${s.label}: vmac_xmit_base`);
        } else
          this.diag(
            'warning',
            'TND_CFG_AS_KEEPALIVED',
            x.xmitBase.pos,
            `${s.label}: vmac_xmit_base`,
            'vmac_xmit_base without use_vmac does nothing in keepalived either; ignored',
          );
      }
      const strict = x.strict ?? g.strict;
      if (strict && !x.notStrict) strictMode(this, s, strict);
    }
    const st = this.statics;
    if (st.addresses.length + st.routes.length + st.rules.length > 0) {
      (this.raw.vrrp as Obj).static = {
        ...(st.addresses.length ? { addresses: st.addresses } : {}),
        ...(st.routes.length ? { routes: st.routes } : {}),
        ...(st.rules.length ? { rules: st.rules } : {}),
      };
    }
    finishLb(this);
  }
}

/** keepalived's strict mode, as vrrp.c vrrp_complete_instance applies it, with its messages. */
function strictMode(p: Parser, s: Scope, at: Word): void {
  const o = s.obj;
  const x = s.inst!;
  const where = `${s.label}: ${at.text}`;
  if (x.peers.length > 0)
    p.diag(
      'error',
      'TND_CFG_REJECTED',
      x.peersAt ?? at.pos,
      `${s.label}: unicast_peer`,
      'unicast peers are not supported in strict mode (keepalived: "Unicast peers are not supported in strict ' +
        `mode"; ${at.text} at line ${at.pos.line})`,
    );
  if (o.auth !== undefined) {
    delete o.auth;
    p.diag(
      'warning',
      'TND_CFG_AS_KEEPALIVED',
      at.pos,
      where,
      'strict mode does not support authentication; ignored, as keepalived ignores it (no auth is sent)',
    );
  }
  if (o.initial_state === 'master' && o.priority !== 255) {
    o.initial_state = 'backup';
    p.diag(
      'warning',
      'TND_CFG_AS_KEEPALIVED',
      at.pos,
      where,
      'strict mode: state MASTER must match being address owner (priority 255); started as BACKUP, as keepalived does',
    );
  }
  // The defaults strict mode changes, unless the instance sets them: no_accept and lower_prio_no_advert.
  if (o.accept === undefined) o.accept = false;
  if (o.lower_prio_no_advert === undefined) o.lower_prio_no_advert = true;
  if (o.version === 2 && firstVipIsV6(o.vips)) o.version = 3;
}

function firstVipIsV6(vips: unknown): boolean {
  if (!Array.isArray(vips) || vips.length === 0) return false;
  const v = vips[0] as unknown;
  const text = typeof v === 'string' ? v : v && typeof v === 'object' ? (v as Obj).address : undefined;
  return typeof text === 'string' && text.includes(':');
}

/** Sets an own property, so that a name like `__proto__` is data and not the prototype. */
function setOwn(o: Obj, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

function blockTitle(block: KaBlock): string {
  return block.endsWith('entry') ? `a ${block}` : block;
}

// ---- handlers, one per SUPPORTED keyword (a test keeps the two in step)

/** A scope for a block read only for its diagnostics (a duplicate, or one without a name). */
function discarded(label: string, obj: Obj): Scope {
  return { obj, base: [], label, rec: () => {} };
}

/** A scope whose records land under `base` in the locator. */
function childScope(p: Parser, base: ConfigPath, label: string, obj: Obj): Scope {
  return { obj, base, label, rec: (sub, pos, l) => p.record([...base, ...sub], pos, l) };
}

/** The handler of a statement with one value. */
function one(apply: (p: Parser, value: Word, scope: Scope, where: string, kw: Word) => void): Handler {
  return (p, words, scope) => {
    const where = scope.label ? `${scope.label}: ${words[0].text}` : words[0].text;
    const args = p.args(words, 1, 1, where, blockOf(scope));
    if (args?.[0]) apply(p, args[0], scope, where, words[0]);
  };
}

/** The handler of a flag (no value) that sets `key` to `value`; arguments are ignored as keepalived does. */
function flag(key: string, value: unknown): Handler {
  return (p, words, scope) => {
    const where = `${scope.label}: ${words[0].text}`;
    p.flagArgs(words, where, blockOf(scope));
    scope.obj[key] = value;
    scope.rec([key], words[0].pos, where);
  };
}

const intField = (key: string): Handler =>
  one((p, v, scope, where) => {
    const n = p.int(v, where);
    if (n === undefined) return;
    scope.obj[key] = n;
    scope.rec([key], v.pos, where);
  });

const msField = (key: string): Handler =>
  one((p, v, scope, where) => {
    const n = p.ms(v, where);
    if (n === undefined) return;
    scope.obj[key] = n;
    scope.rec([key], v.pos, where);
  });

const textField = (key: string): Handler =>
  one((_p, v, scope, where) => {
    scope.obj[key] = v.text;
    scope.rec([key], v.pos, where);
  });

/** `<BOOL>` keywords whose bare form means true. */
const boolField =
  (key: string, map: (b: boolean) => unknown = (b) => b): Handler =>
  (p, words, scope) => {
    const where = `${scope.label}: ${words[0].text}`;
    const args = p.args(words, 0, 1, where, blockOf(scope));
    if (!args) return;
    const b = p.bool(args[0], where);
    if (b === undefined) return;
    scope.obj[key] = map(b);
    scope.rec([key], (args[0] ?? words[0]).pos, where);
  };

/** `weight N [reverse|noreverse]` of vrrp_script, track_file and FILE_CHECK. */
export const weightField: Handler = (p, words, scope) => {
  const where = `${scope.label}: weight`;
  const args = p.args(words, 1, 2, where, blockOf(scope));
  if (!args?.[0]) return;
  const n = p.int(args[0], where);
  if (n !== undefined) {
    scope.obj.weight = n;
    scope.rec(['weight'], args[0].pos, where);
  }
  const r = args[1];
  if (!r) return;
  if (r.text === 'reverse' || r.text === 'noreverse') {
    scope.obj.reverse = r.text === 'reverse';
    scope.rec(['reverse'], r.pos, where);
  } else {
    p.diag(
      'error',
      'TND_CFG_ENUM',
      r.pos,
      where,
      `after the weight: reverse or noreverse, got ${JSON.stringify(r.text)}`,
    );
  }
};

/** notify scripts: the first word is the command line; keepalived's further words name a user and group. */
const notifyField =
  (key: string): Handler =>
  (p, words, scope) => {
    const where = `${scope.label}: ${words[0].text}`;
    const args = p.args(words, 1, 3, where, blockOf(scope));
    if (!args?.[0]) return;
    const notify = (scope.obj.notify as Obj | undefined) ?? {};
    scope.obj.notify = notify;
    notify[key] = args[0].text;
    scope.rec(['notify'], words[0].pos, where);
    scope.rec(['notify', key], args[0].pos, where);
    if (args[1]) {
      const who = args
        .slice(1)
        .map((w) => w.text)
        .join(' ');
      const message =
        `running a notify script as user ${who} is not supported yet; ignored (it runs as the tandem user). ` +
        'Quote the script and its arguments if these words were meant as arguments';
      p.diag('warning', 'TND_CFG_UNSUPPORTED', args[1].pos, where, message);
    }
  };

const garpField = (
  key: 'master_delay' | 'master_repeat' | 'master_refresh' | 'lower_prio_repeat',
  unit: 'ms' | 'int',
): Handler =>
  one((p, v, scope, where) => {
    const n = unit === 'ms' ? p.ms(v, where) : p.int(v, where);
    if (n === undefined) return;
    const garp = (scope.obj.garp as Obj | undefined) ?? {};
    scope.obj.garp = garp;
    garp[key] = n;
    scope.rec(['garp', key], v.pos, where);
  });

function keywordBlock(p: Parser, kw: Word, label: string, block: KaBlock, scope: Scope): void {
  SCOPE_BLOCK.set(scope, block);
  p.block(kw, label, 'keywords', block, (words) => p.dispatch(block, words, scope));
}

/** A global_defs <BOOL> (no value = true) that becomes an instance default. */
function globalBool(set: (p: Parser, d: GlobalDefault<boolean>) => void): Handler {
  return (p, words) => {
    const where = `global_defs: ${words[0].text}`;
    const args = p.args(words, 0, 1, where, 'global_defs');
    const b = args && p.bool(args[0], where);
    if (b !== undefined && args) set(p, { value: b, pos: (args[0] ?? words[0]).pos, label: where });
  };
}

/** The global_defs setting that becomes an instance default. */
function globalDefault<T>(
  set: (p: Parser, d: GlobalDefault<T>) => void,
  read: (p: Parser, w: Word, where: string) => T | undefined,
): Handler {
  return one((p, v, _scope, where) => {
    const value = read(p, v, where);
    if (value !== undefined) set(p, { value, pos: v.pos, label: where });
  });
}

const TOP: Record<string, Handler> = {
  ...LB_TOP,
  static_routes: routesBlock('static_routes', 'route', (p) => p.statics.routes),
  static_rules: routesBlock('static_rules', 'rule', (p) => p.statics.rules),
  static_ipaddress: (p, words) => {
    const kw = words[0];
    p.args(words, 0, 0, 'static_ipaddress', 'top level');
    p.block(kw, 'static_ipaddress', 'values', undefined, (entry) => {
      const [addr, ...opts] = entry;
      const where = 'static_ipaddress';
      const a: Obj = { address: addr.text };
      for (let k = 0; k < opts.length; k++) {
        const o = opts[k]!;
        const v = opts[k + 1];
        if ((o.text === 'dev' || o.text === 'label') && v) {
          a[o.text] = v.text;
          k++;
        } else if (VIP_PAIRS.has(o.text) && v) {
          p.diag('warning', 'TND_CFG_UNSUPPORTED', o.pos, where, `${o.text} is not supported yet; ignored`);
          k++;
        } else {
          p.diag('error', 'TND_CFG_UNKNOWN_KEY', o.pos, where, `${o.text} is not an option of a static address`);
          return;
        }
      }
      if (a.dev === undefined) {
        p.diag('error', 'TND_CFG_REQUIRED', addr.pos, where, `${addr.text}: a static address needs dev IFNAME`);
        return;
      }
      p.record(['vrrp', 'static', 'addresses', p.statics.addresses.length], addr.pos, where);
      p.statics.addresses.push(a);
    });
  },
  global_defs: (p, words) => {
    const kw = words[0];
    p.args(words, 0, 0, 'global_defs', 'top level');
    const scope: Scope = { obj: {}, base: [], label: 'global_defs', rec: () => {} };
    p.record(['cluster'], kw.pos, 'global_defs');
    keywordBlock(p, kw, 'global_defs', 'global_defs', scope);
  },
  vrrp_script: (p, words) => namedObject(p, words, 'vrrp_script', 'vrrp_script', 'scripts'),
  track_file: (p, words) => namedObject(p, words, 'track_file', 'track_file', 'track_files'),
  vrrp_track_file: (p, words) => namedObject(p, words, 'track_file', 'track_file', 'track_files'),
  vrrp_instance: (p, words) => {
    const kw = words[0];
    const name = p.args(words, 1, 1, kw.text, 'top level')?.[0];
    const label = name ? `vrrp_instance ${name.text}` : 'vrrp_instance';
    const keep = !!name && !p.duplicate('vrrp_instance', name, label);
    const index = p.raw.vrrp.instances.length;
    const base: ConfigPath = ['vrrp', 'instances', index];
    const obj: Obj = name ? { name: name.text } : {};
    const scope = keep ? childScope(p, base, label, obj) : discarded(label, obj);
    scope.inst = { peers: [] };
    if (keep && name) {
      p.raw.vrrp.instances.push(obj);
      p.instances.push(scope);
      p.record(base, kw.pos, label);
      p.record([...base, 'name'], name.pos, label);
    }
    keywordBlock(p, kw, label, 'vrrp_instance', scope);
  },
  vrrp_sync_group: (p, words) => {
    const kw = words[0];
    const name = p.args(words, 1, 1, kw.text, 'top level')?.[0];
    const label = name ? `vrrp_sync_group ${name.text}` : 'vrrp_sync_group';
    const keep = !!name && !p.duplicate('vrrp_sync_group', name, label);
    const base: ConfigPath = ['vrrp', 'sync_groups', p.raw.vrrp.sync_groups.length];
    const obj: Obj = name ? { name: name.text, members: [] } : { members: [] };
    const scope = keep ? childScope(p, base, label, obj) : discarded(label, obj);
    if (keep && name) {
      p.raw.vrrp.sync_groups.push(obj);
      p.record(base, kw.pos, label);
      p.record([...base, 'name'], name.pos, label);
    }
    keywordBlock(p, kw, label, 'vrrp_sync_group', scope);
  },
};

/** vrrp_script NAME { … } and track_file NAME { … }: objects in a map by name. */
function namedObject(
  p: Parser,
  words: [Word, ...Word[]],
  kind: string,
  block: 'vrrp_script' | 'track_file',
  map: 'scripts' | 'track_files',
): void {
  const kw = words[0];
  const name = p.args(words, 1, 1, kw.text, 'top level')?.[0];
  const label = name ? `${kw.text} ${name.text}` : kw.text;
  const keep = !!name && !p.duplicate(kind, name, label);
  const obj: Obj = {};
  const base: ConfigPath = ['vrrp', map, name?.text ?? ''];
  const scope = keep ? childScope(p, base, label, obj) : discarded(label, obj);
  if (keep && name) {
    setOwn(p.raw.vrrp[map], name.text, obj);
    p.record(base, kw.pos, label);
  }
  keywordBlock(p, kw, label, block, scope);
}

const GLOBAL_DEFS: Record<string, Handler> = {
  // alerts (issue 12 item 5)
  ...ALERT_GLOBAL_DEFS,
  router_id: one((p, v) => {
    p.globals.routerId = v;
  }),
  vrrp_version: globalDefault<number>(
    (p, d) => {
      p.globals.version = d;
    },
    (p, w, where) => p.int(w, where),
  ),
  vrrp_garp_master_delay: globalDefault<number>(
    (p, d) => {
      p.globals.garp.master_delay = d;
    },
    (p, w, where) => p.ms(w, where),
  ),
  vrrp_garp_lower_prio_repeat: globalDefault<number>(
    (p, d) => {
      p.globals.garp.lower_prio_repeat = d;
    },
    (p, w, where) => p.int(w, where),
  ),
  vrrp_garp_master_repeat: globalDefault<number>(
    (p, d) => {
      p.globals.garp.master_repeat = d;
    },
    (p, w, where) => p.int(w, where),
  ),
  vrrp_garp_master_refresh: globalDefault<number>(
    (p, d) => {
      p.globals.garp.master_refresh = d;
    },
    (p, w, where) => p.ms(w, where),
  ),
  vrrp_down_timer_adverts: globalDefault<number>(
    (p, d) => {
      p.globals.downTimerAdverts = d;
    },
    (p, w, where) => p.int(w, where),
  ),
  vrrp_lower_prio_no_advert: globalBool((p, d) => {
    p.globals.lowerPrioNoAdvert = d;
  }),
  v3_checksum_as_v2: (p, words) => {
    const where = `global_defs: ${words[0].text}`;
    const args = p.args(words, 0, 1, where, 'global_defs');
    const b = args && p.bool(args[0], where);
    if (b !== undefined && args) {
      p.globals.v3Checksum = { value: b ? 'message' : 'pseudo-header', pos: (args[0] ?? words[0]).pos, label: where };
    }
  },
  vrrp_strict: (p, words) => {
    p.flagArgs(words, 'global_defs: vrrp_strict', 'global_defs');
    p.globals.strict = words[0];
  },
  vrrp_skip_check_adv_addr: globalBool((p, d) => {
    p.globals.skipCheckAdvAddr = d;
  }),
  vrrp_garp_interval: globalDefault<number>(
    (p, d) => {
      p.globals.garpInterval = d;
    },
    (p, w, where) => p.ms(w, where),
  ),
  vrrp_gna_interval: globalDefault<number>(
    (p, d) => {
      p.globals.gnaInterval = d;
    },
    (p, w, where) => p.ms(w, where),
  ),
  vrrp_mcast_group4: one((p, v, _s, where) => {
    if (v.text !== '224.0.0.18') {
      p.diag(
        'error',
        'TND_CFG_REJECTED',
        v.pos,
        where,
        `group ${v.text} cannot be used: ${REJECTED.global_defs.vrrp_mcast_group4}`,
      );
    }
  }),
  vrrp_mcast_group6: one((p, v, _s, where) => {
    if (v.text.toLowerCase() !== 'ff02::12') {
      p.diag(
        'error',
        'TND_CFG_REJECTED',
        v.pos,
        where,
        `group ${v.text} cannot be used: ${REJECTED.global_defs.vrrp_mcast_group6}`,
      );
    }
  }),
};

const VRRP_SCRIPT: Record<string, Handler> = {
  script: (p, words, scope) => {
    const where = `${scope.label}: script`;
    const args = p.args(words, 1, Number.POSITIVE_INFINITY, where, 'vrrp_script');
    if (!args?.[0]) return;
    // One quoted word is already the whole command line; several words are joined, quoting those with blanks.
    scope.obj.command =
      args.length === 1
        ? args[0].text
        : args.map((w) => (/[\s']/.test(w.text) || !w.text ? quoteArg(w.text) : w.text)).join(' ');
    scope.rec(['command'], args[0].pos, where);
  },
  interval: msField('interval'),
  timeout: msField('timeout'),
  weight: weightField,
  rise: intField('rise'),
  fall: intField('fall'),
  user: userHandler('vrrp_script'),
  init_fail: flag('init_fail', true),
};

const TRACK_FILE: Record<string, Handler> = {
  file: textField('path'),
  weight: weightField,
  init_file: (p, words, scope) => {
    const where = `${scope.label}: init_file`;
    const args = p.args(words, 0, 2, where, 'track_file');
    if (!args) return;
    let value = 0;
    for (const a of args) {
      if (a.text === 'overwrite') {
        p.diag(
          'warning',
          'TND_CFG_UNSUPPORTED',
          a.pos,
          where,
          'overwrite is not supported yet; ignored (an existing file is kept)',
        );
        continue;
      }
      const n = p.int(a, where);
      if (n !== undefined) value = n;
    }
    scope.obj.init_file = value;
    scope.rec(['init_file'], words[0].pos, where);
  },
};

const INSTANCE: Record<string, Handler> = {
  state: one((p, v, scope, where) => {
    const state = v.text === 'MASTER' ? 'master' : v.text === 'BACKUP' ? 'backup' : undefined;
    if (!state) {
      p.diag(
        'error',
        'TND_CFG_ENUM',
        v.pos,
        where,
        `must be MASTER or BACKUP (upper case, as keepalived), got ${JSON.stringify(v.text)}`,
      );
      return;
    }
    scope.obj.initial_state = state;
    scope.rec(['initial_state'], v.pos, where);
  }),
  interface: textField('interface'),
  virtual_router_id: intField('vrid'),
  priority: intField('priority'),
  advert_int: msField('advert_interval'),
  version: intField('version'),
  nopreempt: flag('preempt', false),
  dont_track_primary: flag('track_primary', false),
  preempt: flag('preempt', true),
  preempt_delay: msField('preempt_delay'),
  accept: flag('accept', true),
  no_accept: flag('accept', false),
  v3_checksum_as_v2: boolField('v3_checksum', (b) => (b ? 'message' : 'pseudo-header')),
  lower_prio_no_advert: boolField('lower_prio_no_advert'),
  down_timer_adverts: intField('down_timer_adverts'),
  garp_master_delay: garpField('master_delay', 'ms'),
  garp_master_repeat: garpField('master_repeat', 'int'),
  garp_lower_prio_repeat: garpField('lower_prio_repeat', 'int'),
  garp_master_refresh: garpField('master_refresh', 'ms'),
  notify_master: notifyField('master'),
  notify_backup: notifyField('backup'),
  notify_fault: notifyField('fault'),
  notify_stop: notifyField('stop'),
  notify: notifyField('any'),
  unicast_src_ip: one((_p, v, scope) => {
    scope.inst!.src = { word: v, keyword: 'unicast_src_ip' };
  }),
  mcast_src_ip: one((_p, v, scope) => {
    scope.inst!.src = { word: v, keyword: 'mcast_src_ip' };
  }),
  authentication: (p, words, scope) => {
    const kw = words[0];
    const where = `${scope.label}: authentication`;
    p.args(words, 0, 0, where, 'vrrp_instance');
    const auth: Scope = { ...scope, auth: {}, label: scope.label };
    keywordBlock(p, kw, where, 'authentication', auth);
    const { type, pass, rejected } = auth.auth!;
    if (rejected) return;
    if (!type) {
      if (pass) {
        p.diag(
          'warning',
          'TND_CFG_REQUIRED',
          pass.pos,
          `${scope.label}: auth_pass`,
          'auth_pass without auth_type: keepalived sends no authentication; ignored',
        );
      }
      return;
    }
    const value: Obj = { type: 'pass' };
    scope.rec(['auth'], kw.pos, where);
    scope.rec(['auth', 'type'], type.pos, `${scope.label}: auth_type`);
    if (pass) {
      value.password = pass.text.slice(0, 8);
      scope.rec(['auth', 'password'], pass.pos, `${scope.label}: auth_pass`);
    }
    scope.obj.auth = value;
  },
  virtual_ipaddress: (p, words, scope) => {
    const kw = words[0];
    const where = `${scope.label}: virtual_ipaddress`;
    p.args(words, 0, 0, where, 'vrrp_instance');
    const vips = (scope.obj.vips as unknown[] | undefined) ?? [];
    scope.obj.vips = vips;
    scope.rec(['vips'], kw.pos, where);
    p.block(kw, where, 'values', undefined, (entry) => vipEntry(p, entry, scope, vips, where));
  },
  unicast_peer: (p, words, scope) => {
    const kw = words[0];
    const where = `${scope.label}: unicast_peer`;
    p.args(words, 0, 0, where, 'vrrp_instance');
    scope.inst!.peersAt ??= kw.pos;
    p.block(kw, where, 'values', undefined, (entry) => peerEntry(p, entry, scope, where));
  },
  track_interface: trackBlock('interfaces'),
  track_script: trackBlock('scripts'),
  track_file: trackBlock('files'),
  use_vmac: (p, words, scope) => {
    const where = `${scope.label}: use_vmac`;
    const args = p.args(words, 0, 2, where, 'vrrp_instance');
    if (!args) return;
    const vmac = (scope.obj.vmac as Obj | undefined) ?? {};
    scope.obj.vmac = vmac;
    scope.rec(['vmac'], words[0].pos, where);
    for (const a of args) {
      // keepalived tells the two apart the same way: an interface name cannot hold a ':'.
      if (a.text.includes(':'))
        p.diag(
          'warning',
          'TND_CFG_UNSUPPORTED',
          a.pos,
          where,
          `a MAC address of one's own (${a.text}) is not supported yet; ignored: the vmac gets the virtual router ` +
            'MAC 00:00:5e:00:01:VRID (RFC 5798 §7.3)',
        );
      else {
        vmac.name = a.text;
        scope.rec(['vmac', 'name'], a.pos, where);
      }
    }
  },
  vmac_xmit_base: (p, words, scope) => {
    p.flagArgs(words, `${scope.label}: vmac_xmit_base`, 'vrrp_instance');
    scope.inst!.xmitBase = words[0];
  },
  virtual_routes: routesBlock('virtual_routes', 'route'),
  virtual_rules: routesBlock('virtual_rules', 'rule'),
  skip_check_adv_addr: boolField('skip_check_adv_addr'),
  // alerts (issue 12 item 5)
  smtp_alert: namedSmtpAlert('instances', 'vrrp_instance'),
  strict_mode: (p, words, scope) => {
    const where = `${scope.label}: strict_mode`;
    const args = p.args(words, 0, 1, where, 'vrrp_instance');
    if (!args) return;
    const b = p.bool(args[0], where);
    if (b === true) scope.inst!.strict = words[0];
    else if (b === false) scope.inst!.notStrict = true;
  },
};

/**
 * A virtual_routes / virtual_rules block (and static_routes / static_rules): one route or rule per line, kept as
 * the `ip route` / `ip rule` arguments keepalived's own parser turns them into: `gw` is `via`, and the options
 * keepalived adds on top of ip's (`no_track`, `track_group NAME`, `or ADDR`) are reported and dropped.
 */
function routesBlock(keyword: string, kind: 'route' | 'rule', into?: (p: Parser) => string[]): Handler {
  return (p, words, scope) => {
    const kw = words[0];
    const where = scope.label ? `${scope.label}: ${keyword}` : keyword;
    p.args(words, 0, 0, where, scope.label ? 'vrrp_instance' : 'top level');
    const key = kind === 'route' ? 'virtual_routes' : 'virtual_rules';
    const list = into ? into(p) : ((scope.obj[key] as string[] | undefined) ?? []);
    if (!into) {
      scope.obj[key] = list;
      scope.rec([key], kw.pos, where);
    }
    p.block(kw, where, 'values', undefined, (entry) => {
      const text = ipArgs(p, entry, kind, where);
      if (text === undefined) return;
      if (!into) scope.rec([key, list.length], entry[0].pos, where);
      else p.record(['vrrp', 'static', kind === 'route' ? 'routes' : 'rules', list.length], entry[0].pos, where);
      list.push(text);
    });
  };
}

/** One route or rule line as `ip` arguments; undefined (reported) when nothing is left of it. */
function ipArgs(p: Parser, words: readonly Word[], kind: 'route' | 'rule', where: string): string | undefined {
  const out: string[] = [];
  for (let k = 0; k < words.length; k++) {
    const w = words[k]!;
    if (kind === 'route' && w.text === 'gw') out.push('via');
    else if (w.text === 'no_track') {
      p.diag('warning', 'TND_CFG_UNSUPPORTED', w.pos, where, 'no_track is not supported yet; ignored');
    } else if (w.text === 'track_group' || (kind === 'route' && w.text === 'or')) {
      p.diag(
        'warning',
        'TND_CFG_UNSUPPORTED',
        w.pos,
        where,
        `${w.text} ${words[k + 1]?.text ?? ''} is not supported yet; ignored${w.text === 'or' ? ' (the first gateway is used)' : ''}`.trim(),
      );
      k++;
    } else out.push(w.text);
  }
  if (out.length === 0) {
    p.diag('error', 'TND_CFG_ARGS', words[0]!.pos, where, `an empty ${kind}`);
    return undefined;
  }
  return out.join(' ');
}

const AUTHENTICATION: Record<string, Handler> = {
  auth_type: one((p, v, scope, where) => {
    const auth = scope.auth!;
    if (v.text === 'PASS') {
      auth.type = v;
      auth.rejected = false;
    } else if (v.text.toUpperCase() === 'PASS') {
      // keepalived 1.x compared with "AH" only and took every other value as PASS; 2.x compares exactly and, for
      // anything else, logs an error and sends no authentication. The author meant PASS: tandem reads PASS.
      auth.type = v;
      auth.rejected = false;
      p.diag(
        'warning',
        'TND_CFG_AS_KEEPALIVED',
        v.pos,
        where,
        `auth_type ${v.text} read as PASS, the author's intent and what keepalived 1.x does; keepalived 2.x logs ` +
          `"unknown authentication type '${v.text}'" and sends no authentication, so a keepalived 2.x peer ` +
          'reading this same file would send adverts without the password: write PASS',
      );
    } else if (v.text === 'AH') {
      auth.rejected = true;
      p.diag(
        'error',
        'TND_CFG_REJECTED',
        v.pos,
        where,
        `auth_type AH cannot be used with tandem: ${REJECTED.authentication.auth_type}`,
      );
    } else {
      p.diag('error', 'TND_CFG_ENUM', v.pos, where, `must be PASS or AH, got ${JSON.stringify(v.text)}`);
    }
  }),
  auth_pass: one((p, v, scope, where) => {
    scope.auth!.pass = v;
    if (v.text.length > 8) {
      p.diag(
        'warning',
        'TND_CFG_RANGE',
        v.pos,
        where,
        // Never the password itself, nor its used part: warnings go to terminals and logs (issue 9).
        `the password has ${v.text.length} characters; only the first 8 are used, as keepalived does`,
      );
    }
  }),
};

const SYNC_GROUP: Record<string, Handler> = {
  group: (p, words, scope) => {
    const kw = words[0];
    const where = `${scope.label}: group`;
    p.args(words, 0, 0, where, 'vrrp_sync_group');
    const members = scope.obj.members as string[];
    scope.rec(['members'], kw.pos, where);
    p.block(kw, where, 'values', undefined, (entry) => {
      for (const w of entry) {
        scope.rec(['members', members.length], w.pos, where);
        members.push(w.text);
      }
    });
  },
  notify_master: notifyField('master'),
  notify_backup: notifyField('backup'),
  notify_fault: notifyField('fault'),
  notify_stop: notifyField('stop'),
  notify: notifyField('any'),
  sync_group_tracking_weight: flag('tracking_weight', true),
  // alerts (issue 12 item 5)
  smtp_alert: namedSmtpAlert('sync_groups', 'vrrp_sync_group'),
};

/** Handlers by block; every SUPPORTED keyword of these blocks has one. */
const HANDLERS: Partial<Record<KaBlock, Record<string, Handler>>> = {
  'top level': TOP,
  global_defs: GLOBAL_DEFS,
  vrrp_script: VRRP_SCRIPT,
  track_file: TRACK_FILE,
  vrrp_instance: INSTANCE,
  authentication: AUTHENTICATION,
  vrrp_sync_group: SYNC_GROUP,
  ...LB_HANDLERS,
};

const VIP_PAIRS = new Set(['dev', 'label', 'brd', 'scope', 'peer', 'preferred_lft', 'track_group']);

/** One line of virtual_ipaddress: `ADDR[/LEN] [dev IF] [label L] [other ip-address options]`. */
function vipEntry(p: Parser, words: [Word, ...Word[]], scope: Scope, vips: unknown[], where: string): void {
  const [addr, ...opts] = words;
  const j = vips.length;
  const picked: { dev?: Word; label?: Word } = {};
  const ignored: Word[] = [];
  for (let k = 0; k < opts.length; k++) {
    const o = opts[k]!;
    if (VIP_PAIRS.has(o.text)) {
      const v = opts[k + 1];
      if (!v) {
        p.diag('error', 'TND_CFG_ARGS', o.pos, where, `${o.text} needs a value`);
        break;
      }
      k++;
      if (o.text === 'dev' || o.text === 'label') picked[o.text] = v;
      else ignored.push(o);
    } else if (Object.hasOwn(WARNED['virtual_ipaddress entry'], o.text)) {
      ignored.push(o);
    } else {
      const hint = suggest(o.text, keepalivedKeywords('virtual_ipaddress entry'));
      p.diag(
        'error',
        'TND_CFG_UNKNOWN_KEY',
        o.pos,
        where,
        `${o.text} is not an option of a virtual address${hint ? `; did you mean ${hint}?` : ''}` +
          ' (one address per line, options after it)',
      );
      break; // the words after an unknown option cannot be told apart: one error per line
    }
  }
  if (ignored.length > 0) {
    const names = ignored.map((w) => w.text).join(', ');
    p.diag(
      'warning',
      'TND_CFG_UNSUPPORTED',
      ignored[0]!.pos,
      where,
      `${names} ${ignored.length > 1 ? 'are' : 'is'} not supported yet; ignored`,
    );
  }
  scope.rec(['vips', j], addr.pos, where);
  if (!picked.dev && !picked.label) {
    vips.push(addr.text);
    return;
  }
  const vip: Obj = { address: addr.text };
  scope.rec(['vips', j, 'address'], addr.pos, where);
  for (const key of ['dev', 'label'] as const) {
    const v = picked[key];
    if (v) {
      vip[key] = v.text;
      scope.rec(['vips', j, key], v.pos, `${where} ${key}`);
    }
  }
  vips.push(vip);
}

/** One line of unicast_peer: `ADDR [min_ttl N] [max_ttl N]`. */
function peerEntry(p: Parser, words: [Word, ...Word[]], scope: Scope, where: string): void {
  const [addr, ...opts] = words;
  scope.inst!.peers.push(addr);
  for (let k = 0; k < opts.length; k++) {
    const o = opts[k]!;
    if (o.text === 'min_ttl' || o.text === 'max_ttl') {
      p.diag(
        'warning',
        'TND_CFG_UNSUPPORTED',
        o.pos,
        where,
        `${o.text} is not supported yet; ignored (${WARNED['unicast_peer entry'][o.text]})`,
      );
      k++;
    } else if (/^[0-9a-fA-F.:]+$/.test(o.text) && /[.:]/.test(o.text)) {
      p.diag(
        'error',
        'TND_CFG_ARGS',
        o.pos,
        where,
        `one address per line: keepalived reads ${o.text} as an option of ${addr.text}`,
      );
    } else {
      p.diag(
        'error',
        'TND_CFG_UNKNOWN_KEY',
        o.pos,
        where,
        `${o.text} is not an option of a unicast peer (min_ttl, max_ttl)`,
      );
    }
  }
}

/** track_interface / track_script / track_file { NAME [weight N] [reverse|noreverse] … }. */
function trackBlock(list: 'interfaces' | 'scripts' | 'files'): Handler {
  return (p, words, scope) => {
    const kw = words[0];
    const where = `${scope.label}: ${kw.text}`;
    p.args(words, 0, 0, where, 'vrrp_instance');
    const track = (scope.obj.track as Obj | undefined) ?? {};
    scope.obj.track = track;
    const entries = (track[list] as Obj[] | undefined) ?? [];
    track[list] = entries;
    if (!p.records.has(JSON.stringify([...scope.base, 'track']))) scope.rec(['track'], kw.pos, where);
    scope.rec(['track', list], kw.pos, where);
    p.block(kw, where, 'values', undefined, (entry) => {
      const [name, ...rest] = entry;
      const j = entries.length;
      const ref: Obj = { name: name.text };
      scope.rec(['track', list, j], name.pos, where);
      scope.rec(['track', list, j, 'name'], name.pos, where);
      for (let k = 0; k < rest.length; k++) {
        const w = rest[k]!;
        if (w.text === 'weight') {
          const v = rest[k + 1];
          k++;
          if (!v) {
            p.diag('error', 'TND_CFG_ARGS', w.pos, where, 'weight needs a value');
            break;
          }
          const n = p.int(v, where);
          if (n !== undefined) {
            ref.weight = n;
            scope.rec(['track', list, j, 'weight'], v.pos, where);
          }
        } else if (w.text === 'reverse' || w.text === 'noreverse') {
          ref.reverse = w.text === 'reverse';
          scope.rec(['track', list, j, 'reverse'], w.pos, where);
        } else {
          p.diag(
            'error',
            'TND_CFG_ARGS',
            w.pos,
            where,
            `expected NAME [weight N] [reverse|noreverse], got ${JSON.stringify(w.text)} (one name per line)`,
          );
          break;
        }
      }
      entries.push(ref);
    });
  };
}

function quoteArg(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** The closest keyword to a typo, if one is close enough to be a plausible intent. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  const limit = word.length <= 4 ? 1 : word.length <= 8 ? 2 : 3;
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = c.toLowerCase() === lower ? 0 : editDistance(lower, c.toLowerCase(), limit);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

/** Optimal string alignment distance (Levenshtein plus transpositions), cut off above `limit`. */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let before = new Array<number>(b.length + 1).fill(0);
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2]! + 1);
      row.push(d);
      rowMin = Math.min(rowMin, d);
    }
    if (rowMin > limit) return limit + 1; // every alignment already costs too much
    before = prev;
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * The keepalived keyword of a native field that the reader fills, for a field that is missing: a diagnostic about
 * it ("is required") then names the keyword the user has to write, as the user spells it, not the native key.
 */
const KEYWORD_OF_FIELD: readonly { at: readonly (string | null)[]; keyword: string }[] = [
  { at: ['vrrp', 'scripts', null, 'command'], keyword: 'script' },
  { at: ['vrrp', 'track_files', null, 'path'], keyword: 'file' },
  { at: ['vrrp', 'instances', null, 'interface'], keyword: 'interface' },
  { at: ['vrrp', 'instances', null, 'vrid'], keyword: 'virtual_router_id' },
  { at: ['vrrp', 'instances', null, 'priority'], keyword: 'priority' },
  { at: ['vrrp', 'instances', null, 'vips'], keyword: 'virtual_ipaddress' },
  { at: ['vrrp', 'instances', null, 'auth', 'password'], keyword: 'auth_pass' },
  { at: ['vrrp', 'sync_groups', null, 'members'], keyword: 'group' },
  { at: ['lb', 'services', null, 'real_servers', null, 'check', 'command'], keyword: 'misc_path' },
  { at: ['lb', 'services', null, 'real_servers', null, 'check', 'path'], keyword: 'file' },
  { at: ['lb', 'services', null, 'real_servers', null, 'check', 'name'], keyword: 'name' },
];

function keywordOfField(path: ConfigPath): string | undefined {
  return KEYWORD_OF_FIELD.find(
    (k) => k.at.length === path.length && k.at.every((seg, i) => seg === null || seg === path[i]),
  )?.keyword;
}

function locatorFrom(records: ReadonlyMap<string, Located>, entry: string): Locator {
  return {
    locate(path: ConfigPath): Located {
      for (let n = path.length; n > 0; n--) {
        const hit = records.get(JSON.stringify(path.slice(0, n)));
        if (!hit) continue;
        const keyword = n === path.length - 1 ? keywordOfField(path) : undefined;
        return keyword && !hit.label.endsWith(`: ${keyword}`) ? { ...hit, label: `${hit.label}: ${keyword}` } : hit;
      }
      return { pos: { file: entry, line: 1, col: 1 }, label: dottedPath(path) };
    },
  };
}

/** The keywords of `block` that the reader maps to native fields (kept equal to SUPPORTED by a test). */
export function handledKeywords(block: KaBlock): string[] {
  return Object.keys(HANDLERS[block] ?? {});
}
