/**
 * The lexical layer of keepalived.conf: comments, quotes, escapes, braces, includes, parameters and conditional
 * lines, following keepalived's own reader (lib/parser.c) so that a file means the same thing to both. The output is
 * a flat list of statements and braces with the position of every word in the user's own file; the includes are
 * spliced in, so the parser never knows a statement came from another file.
 *
 * Deliberate differences from keepalived, all on the lenient side:
 * - single quotes protect `#`, `!` and braces like double quotes do (keepalived honours only `"` there);
 * - an include line may use parameters and conditional prefixes (keepalived detects includes before those);
 * - `${_RANDOM}`, `${_ENV VAR}` and the `~SEQ`/`~LST` loops are refused with an error rather than evaluated, so the
 *   reader stays pure and every node reads the same config.
 * @see keepalived.conf(5) "DESCRIPTION", "Quoted strings"
 */
import { posix } from 'node:path';
import type { ErrorCode } from '../../core/errors.ts';
import type { Diagnostic, SourcePos } from '../diagnostics.ts';

/** File access injected so the reader stays pure (tests use an in-memory map). */
export interface ConfigFs {
  /** The text of a file; undefined when it cannot be read. */
  read(path: string): string | undefined;
  /** The files matching a glob pattern (`*`, `?`, `[…]`; braces are expanded before), sorted. */
  glob(pattern: string): string[];
}

/** Options of the reader. */
export interface KeepalivedReadOptions {
  /**
   * The config id (keepalived `-i`, by default the first part of the host name): selects `@ID` lines and fills
   * `${_INSTANCE}`. Without it, `@ID` lines are skipped and `@^ID` lines kept, with a warning.
   */
  configId?: string;
}

/** One word of a statement, quotes removed and escapes applied, with the position of its first character. */
export interface Word {
  text: string;
  pos: SourcePos;
}

/** A statement (its words, the first being the keyword) or a brace, in reading order. */
export type Item =
  | { kind: 'words'; words: [Word, ...Word[]] }
  | { kind: 'open'; pos: SourcePos }
  | { kind: 'close'; pos: SourcePos };

/** The output of the lexer. */
export interface LexResult {
  items: Item[];
  diagnostics: Diagnostic[];
  /** Every file read, the entry file first, in reading order. */
  files: string[];
}

/** The include keyword and its variants; a variant turns some include problems from warnings into errors. */
const INCLUDES: Readonly<Record<string, { noMatch: 'warning' | 'error'; unreadable: 'warning' | 'error' }>> = {
  include: { noMatch: 'warning', unreadable: 'warning' },
  includer: { noMatch: 'warning', unreadable: 'error' },
  includem: { noMatch: 'error', unreadable: 'error' },
  includew: { noMatch: 'error', unreadable: 'error' },
  includeb: { noMatch: 'error', unreadable: 'error' },
  includea: { noMatch: 'error', unreadable: 'error' },
};

/** Bounds that keep hostile or mistaken input (self-including globs, recursive parameters) cheap. */
const MAX_FILES = 256;
const MAX_SUBSTITUTIONS = 100;
const MAX_BRACE_EXPANSIONS = 256;
/** Linux PATH_MAX: no longer pattern can name a file. */
const PATH_MAX = 4096;

/** Text with the column of each character in its physical line, so substitutions keep positions. */
interface Seg {
  text: string;
  cols: number[];
}

const isBlank = (c: string | undefined): boolean =>
  c === ' ' || c === '\t' || c === '\f' || c === '\v' || c === '\r' || c === '\n';

/** Reads `entryPath` and everything it includes into statements and braces. Never throws. */
export function lexKeepalived(entryPath: string, fs: ConfigFs, options: KeepalivedReadOptions = {}): LexResult {
  const lexer = new Lexer(fs, options);
  const text = lexer.read(entryPath);
  if (text === undefined) {
    lexer.diag('error', 'TND_CFG_IO', { file: entryPath, line: 1, col: 1 }, entryPath, 'cannot read the file');
  } else {
    lexer.lexFile(entryPath, text, [entryPath]);
  }
  return { items: lexer.items, diagnostics: lexer.diagnostics, files: lexer.files };
}

class Lexer {
  readonly items: Item[] = [];
  readonly diagnostics: Diagnostic[] = [];
  readonly files: string[] = [];
  /** keepalived parameters are global: a definition in one file is seen by the files read after it. */
  private readonly defs = new Map<string, string>();
  private reads = 0;

  constructor(
    private readonly fs: ConfigFs,
    private readonly options: KeepalivedReadOptions,
  ) {}

  diag(severity: Diagnostic['severity'], code: ErrorCode, pos: SourcePos, path: string, message: string): void {
    this.diagnostics.push({ ...pos, severity, code, path, message });
  }

  /** Reads a file through the injected fs; a throwing fs counts as unreadable. */
  read(path: string): string | undefined {
    this.reads++;
    try {
      const text = this.fs.read(path);
      return typeof text === 'string' ? text : undefined;
    } catch {
      return undefined;
    }
  }

  lexFile(file: string, text: string, stack: readonly string[]): void {
    if (!this.files.includes(file)) this.files.push(file);
    const lines = text.split('\n');
    let pendingDef: { name: string; parts: string[] } | undefined;
    for (let n = 0; n < lines.length; n++) {
      const line = n + 1;
      const seg = trim(decomment(lines[n]!.endsWith('\r') ? lines[n]!.slice(0, -1) : lines[n]!));
      if (pendingDef) {
        // A multi-line definition goes on while its lines end in '\'; a blank line ends it (as keepalived).
        const more = seg.text.endsWith('\\');
        const part = more ? seg.text.slice(0, -1).trimEnd() : seg.text;
        if (part) pendingDef.parts.push(part);
        if (!more || !seg.text) {
          this.defs.set(pendingDef.name, pendingDef.parts.join('\n'));
          pendingDef = undefined;
        }
        continue;
      }
      if (!seg.text) continue;
      const at = (i: number): SourcePos => ({ file, line, col: seg.cols[i] ?? 1 });
      let cur = seg;
      if (cur.text.startsWith('@')) {
        const kept = this.conditional(cur, at(0));
        if (!kept) continue;
        cur = kept;
      }
      const def = /^\$([A-Za-z_][A-Za-z0-9_]*)[ \t]*=[ \t]*/.exec(cur.text);
      if (def) {
        const value = cur.text.slice(def[0].length);
        if (value.endsWith('\\')) pendingDef = { name: def[1]!, parts: [value.slice(0, -1).trimEnd()].filter(Boolean) };
        else this.defs.set(def[1]!, value);
        continue;
      }
      if (cur.text.startsWith('~SEQ') || cur.text.startsWith('~LST')) {
        this.diag(
          'error',
          'TND_CFG_REJECTED',
          at(0),
          cur.text.slice(0, 4),
          'loops are not expanded yet; write the lines out',
        );
        continue;
      }
      if (cur.text.includes('$')) cur = this.substitute(cur, file, line);
      // A multi-line parameter expands to several statements, all at the position of its reference.
      for (const logical of splitLines(cur)) {
        // An include line is taken whole, before brace splitting, so that csh braces in its pattern survive.
        this.tokenize(logical, file, line, stack, !/^include[rmwba]?[ \t]/.test(logical.text));
      }
    }
    if (pendingDef) this.defs.set(pendingDef.name, pendingDef.parts.join('\n'));
  }

  /** Applies an `@ID` / `@^ID` prefix; returns the rest of the line when it applies to this node. */
  private conditional(seg: Seg, pos: SourcePos): Seg | undefined {
    const negate = seg.text.startsWith('@^');
    const start = negate ? 2 : 1;
    let end = start;
    while (end < seg.text.length && !isBlank(seg.text[end])) end++;
    const id = seg.text.slice(start, end);
    if (end >= seg.text.length) return undefined;
    const configId = this.options.configId;
    let matches: boolean;
    if (configId === undefined) {
      // keepalived without a config id: @ID lines are skipped, @^ID lines are kept.
      matches = false;
      this.diag(
        'warning',
        'TND_CFG_UNSUPPORTED',
        pos,
        `@${negate ? '^' : ''}${id}`,
        `conditional line ${negate ? 'kept' : 'skipped'}: no config id was given (keepalived uses the host name)`,
      );
    } else {
      matches = id === configId;
    }
    if (matches === negate) return undefined;
    return trim({ text: seg.text.slice(end), cols: seg.cols.slice(end) });
  }

  /** Replaces `$NAME` and `${NAME}` references, recursively, keeping each replacement at its reference's column. */
  private substitute(seg: Seg, file: string, line: number): Seg {
    let { text, cols } = seg;
    let count = 0;
    let i = text.indexOf('$');
    while (i !== -1) {
      const ref = matchRef(text, i);
      if (!ref) {
        i = text.indexOf('$', i + 1);
        continue;
      }
      const pos: SourcePos = { file, line, col: cols[i] ?? 1 };
      const value = this.lookup(ref, file, pos);
      if (value === undefined) {
        i = text.indexOf('$', ref.end);
        continue;
      }
      if (++count > MAX_SUBSTITUTIONS) {
        this.diag(
          'error',
          'TND_CFG_SYNTAX',
          pos,
          `$${ref.name}`,
          'parameter substitution does not end (a definition refers to itself?)',
        );
        break;
      }
      const col = cols[i] ?? 1;
      text = text.slice(0, i) + value + text.slice(ref.end);
      cols = [...cols.slice(0, i), ...new Array<number>(value.length).fill(col), ...cols.slice(ref.end)];
      // Rescan from the replacement: its text may hold further references.
      i = text.indexOf('$', i);
    }
    return { text, cols };
  }

  private lookup(
    ref: { name: string; params: string; braced: boolean },
    file: string,
    pos: SourcePos,
  ): string | undefined {
    const own = this.defs.get(ref.name);
    if (own !== undefined) return own;
    const shown = ref.braced ? `\${${ref.name}${ref.params ? ` ${ref.params}` : ''}}` : `$${ref.name}`;
    switch (ref.name) {
      case '_PWD':
        return posix.dirname(file);
      case '_HASH':
        return '#';
      case '_BANG':
        return '!';
      case '_INSTANCE':
        if (this.options.configId !== undefined) return this.options.configId;
        this.diag('warning', 'TND_CFG_UNSUPPORTED', pos, shown, 'no config id was given; left as it is');
        return undefined;
      case '_RANDOM':
        this.diag(
          'error',
          'TND_CFG_REJECTED',
          pos,
          shown,
          'a random value would make every node read a different config; write the value out',
        );
        return undefined;
      case '_ENV':
        this.diag(
          'error',
          'TND_CFG_REJECTED',
          pos,
          shown,
          'the reader does not read the environment; write the value out',
        );
        return undefined;
    }
    // keepalived leaves an unknown $NAME alone (it may be meant for a script); a braced one is most likely a typo.
    if (ref.braced)
      this.diag('warning', 'TND_CFG_UNKNOWN_REF', pos, shown, `parameter ${ref.name} is not defined; left as it is`);
    return undefined;
  }

  /** Splits one logical line into words and braces; a brace always ends the statement before it. */
  private tokenize(seg: Seg, file: string, line: number, stack: readonly string[], braces = true): void {
    const { text, cols } = seg;
    const at = (i: number): SourcePos => ({ file, line, col: cols[i] ?? cols[cols.length - 1] ?? 1 });
    let words: Word[] = [];
    let word: { text: string; start: number } | undefined;
    let quote: { ch: string; start: number } | undefined;
    const flushWord = (): void => {
      if (word) words.push({ text: word.text, pos: at(word.start) });
      word = undefined;
    };
    const flushStatement = (): void => {
      flushWord();
      const [first, ...rest] = words;
      if (first) this.statement([first, ...rest], file, stack);
      words = [];
    };
    const append = (s: string, i: number): void => {
      if (word) word.text += s;
      else word = { text: s, start: i };
    };
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (!quote && isBlank(c)) {
        flushWord();
        continue;
      }
      if (!quote && braces && (c === '{' || c === '}')) {
        flushStatement();
        this.items.push(c === '{' ? { kind: 'open', pos: at(i) } : { kind: 'close', pos: at(i) });
        continue;
      }
      if (c === '\\') {
        const { value, next } = decodeEscape(text, i);
        append(value, i);
        i = next - 1;
        continue;
      }
      if (quote) {
        if (c === quote.ch) quote = undefined;
        else append(c, i);
        continue;
      }
      if (c === '"' || c === "'") {
        quote = { ch: c, start: i };
        append('', i);
        continue;
      }
      append(c, i);
    }
    if (quote) {
      this.diag('error', 'TND_CFG_SYNTAX', at(quote.start), text.split(/[ \t]/, 1)[0]!, `missing closing ${quote.ch}`);
    }
    flushStatement();
  }

  /** Hands a statement to the parser, or reads the files it includes. */
  private statement(words: [Word, ...Word[]], file: string, stack: readonly string[]): void {
    const policy = Object.hasOwn(INCLUDES, words[0].text) ? INCLUDES[words[0].text] : undefined;
    if (!policy) {
      this.items.push({ kind: 'words', words });
      return;
    }
    const [kw, pattern] = words;
    const label = `${kw.text} ${pattern?.text ?? ''}`.trim();
    if (!pattern || words.length !== 2) {
      this.diag(
        'error',
        'TND_CFG_ARGS',
        kw.pos,
        label,
        `${kw.text} takes one file name or glob, got ${words.length - 1}`,
      );
      return;
    }
    if (pattern.text.length > PATH_MAX) {
      this.diag('error', 'TND_CFG_INCLUDE', pattern.pos, kw.text, `the pattern is longer than ${PATH_MAX} characters`);
      return;
    }
    const base = posix.dirname(file);
    const matches: string[] = [];
    for (const alternative of expandBraces(pattern.text)) {
      const abs = alternative.startsWith('/') ? alternative : posix.join(base, alternative);
      let found: string[] = [];
      try {
        const r = this.fs.glob(posix.normalize(abs));
        found = Array.isArray(r) ? r.filter((p): p is string => typeof p === 'string') : [];
      } catch {
        found = [];
      }
      for (const f of found) if (!matches.includes(f)) matches.push(f);
    }
    if (matches.length === 0) {
      const tail = policy.noMatch === 'warning' ? '; keepalived reads on without it' : '';
      this.diag(policy.noMatch, 'TND_CFG_INCLUDE', pattern.pos, label, `${pattern.text} matches no file${tail}`);
      return;
    }
    for (const m of matches) {
      if (stack.includes(m)) {
        const cycle = [...stack.slice(stack.indexOf(m)), m].join(' → ');
        this.diag('error', 'TND_CFG_INCLUDE', pattern.pos, label, `${m} includes itself: ${cycle}`);
        continue;
      }
      if (this.reads >= MAX_FILES) {
        this.diag('error', 'TND_CFG_INCLUDE', pattern.pos, label, `more than ${MAX_FILES} files read; ${m} skipped`);
        return;
      }
      const text = this.read(m);
      if (text === undefined) {
        this.diag(policy.unreadable, 'TND_CFG_IO', pattern.pos, label, `cannot read ${m}; skipped`);
        continue;
      }
      this.lexFile(m, text, [...stack, m]);
    }
  }
}

/** Removes a comment (`#` or `!` outside quotes) and the backslash of an escaped `\#` or `\!`. */
function decomment(raw: string): Seg {
  let text = '';
  const cols: number[] = [];
  let quote: string | undefined;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === '\\') {
      const n = raw[i + 1];
      if (n === undefined) {
        text += c;
        cols.push(i + 1);
        break;
      }
      if (!quote && (n === '#' || n === '!')) {
        text += n;
        cols.push(i + 2);
      } else {
        text += c + n;
        cols.push(i + 1, i + 2);
      }
      i++;
      continue;
    }
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '#' || c === '!') {
      break;
    }
    text += c;
    cols.push(i + 1);
  }
  return { text, cols };
}

function trim(seg: Seg): Seg {
  let a = 0;
  let b = seg.text.length;
  while (a < b && isBlank(seg.text[a])) a++;
  while (b > a && isBlank(seg.text[b - 1])) b--;
  return { text: seg.text.slice(a, b), cols: seg.cols.slice(a, b) };
}

function splitLines(seg: Seg): Seg[] {
  if (!seg.text.includes('\n')) return [seg];
  const out: Seg[] = [];
  let start = 0;
  for (let i = 0; i <= seg.text.length; i++) {
    if (i === seg.text.length || seg.text[i] === '\n') {
      out.push(trim({ text: seg.text.slice(start, i), cols: seg.cols.slice(start, i) }));
      start = i + 1;
    }
  }
  return out;
}

const BRACED_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:[ \t]+([^}]*))?\}/y;
const PLAIN_REF = /\$([A-Za-z_][A-Za-z0-9_]*)/y;

/** A parameter reference at `i` (`$NAME` or `${NAME params}`), as keepalived recognises them. */
function matchRef(text: string, i: number): { name: string; params: string; braced: boolean; end: number } | undefined {
  // Sticky expressions match in place, so a line full of '$' stays linear.
  BRACED_REF.lastIndex = i;
  const braced = BRACED_REF.exec(text);
  if (braced) return { name: braced[1]!, params: (braced[2] ?? '').trim(), braced: true, end: i + braced[0].length };
  PLAIN_REF.lastIndex = i;
  const plain = PLAIN_REF.exec(text);
  if (!plain) return undefined;
  const end = i + plain[0].length;
  // keepalived only takes an unbraced name that ends the word: $INST.x is left alone.
  const after = text[end];
  if (after !== undefined && after !== ' ' && after !== '\t' && after !== ',' && after !== ')') return undefined;
  return { name: plain[1]!, params: '', braced: false, end };
}

/** Decodes the escape at `i` (a backslash): \a \b \E \f \n \r \t \v \xHH \nnn \cC, and \C for any other C. */
function decodeEscape(text: string, i: number): { value: string; next: number } {
  const n = text[i + 1];
  if (n === undefined) return { value: '\\', next: i + 1 };
  const simple: Record<string, string> = { a: '\x07', b: '\b', E: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };
  if (n === 'x' && /[0-9A-Fa-f]/.test(text[i + 2] ?? '')) {
    const hex = /^[0-9A-Fa-f]{1,2}/.exec(text.slice(i + 2))![0];
    return { value: String.fromCharCode(Number.parseInt(hex, 16)), next: i + 2 + hex.length };
  }
  if (n === 'c' && text[i + 2] !== undefined) {
    return { value: String.fromCharCode(text.charCodeAt(i + 2) & 0x1f), next: i + 3 };
  }
  if (n >= '0' && n <= '7') {
    const oct = /^[0-7]{1,3}/.exec(text.slice(i + 1))![0];
    return { value: String.fromCharCode(Number.parseInt(oct, 8) & 0xff), next: i + 1 + oct.length };
  }
  return { value: simple[n] ?? n, next: i + 2 };
}

/** Expands csh-style braces (`a{b,c}d` → `abd`, `acd`), as glob(3) with GLOB_BRACE does, left to right. */
export function expandBraces(pattern: string): string[] {
  const out: string[] = [];
  let steps = 0;
  const walk = (p: string): void => {
    // Bounded in results and in work, so a pathological pattern costs milliseconds, not minutes.
    if (out.length >= MAX_BRACE_EXPANSIONS || ++steps > 4 * MAX_BRACE_EXPANSIONS) return;
    const group = findBraceGroup(p);
    if (!group) {
      out.push(p);
      return;
    }
    for (const alt of group.alternatives) walk(p.slice(0, group.start) + alt + p.slice(group.end + 1));
  };
  walk(pattern);
  return out;
}

/** The leftmost `{…}` holding a top-level comma, with its alternatives; undefined when there is none. One pass. */
function findBraceGroup(p: string): { start: number; end: number; alternatives: string[] } | undefined {
  const open: { start: number; cuts: number[] }[] = [];
  let best: { start: number; end: number; cuts: number[] } | undefined;
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '{') open.push({ start: i, cuts: [] });
    else if (c === ',' && open.length > 0) open[open.length - 1]!.cuts.push(i);
    else if (c === '}') {
      const g = open.pop();
      // Inner groups close first, so keep looking for an enclosing (further left) group.
      if (g && g.cuts.length > 0 && (!best || g.start < best.start)) best = { start: g.start, end: i, cuts: g.cuts };
    }
  }
  if (!best) return undefined;
  const bounds = [best.start, ...best.cuts, best.end];
  const alternatives = bounds.slice(1).map((b, k) => p.slice(bounds[k]! + 1, b));
  return { start: best.start, end: best.end, alternatives };
}
