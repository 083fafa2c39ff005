/**
 * The lexical and block layer of Piranha's lvs.cf, following its parser (lvsconfig.c): one statement a line, words
 * separated by blanks, a word that starts with `"` or `'` runs to the same quote on that line, `#` starts a comment
 * only as the first thing on a line, and `virtual NAME {`, `server NAME {`, `failover NAME {` open blocks closed by a
 * `}` line. Quoted text keeps its backslash escapes (nanny applies `\n`, `\r`, `\\`, `\'` itself; see unescapeNanny).
 * One leniency: `key=value` without blanks is read as `key = value`.
 * @see lvs.cf(5); lvsconfig.c tokenizeString(), parseConfiguration()
 */
import type { ErrorCode } from '../../core/errors.ts';
import type { Diagnostic, SourcePos } from '../diagnostics.ts';
import type { Word } from './keepalived-lexer.ts';

export type { Word };

/** A `key = value…` line. */
export interface LvsSetting {
  key: Word;
  values: Word[];
}

/** The blocks of lvs.cf. */
export type LvsBlockKind = 'virtual' | 'server' | 'failover';

/** A block with its settings and nested blocks, in file order. */
export interface LvsBlock {
  kind: LvsBlockKind | 'top';
  kw: Word;
  name?: Word;
  settings: LvsSetting[];
  blocks: LvsBlock[];
}

/** The parse of one lvs.cf. */
export interface LvsParse {
  top: LvsBlock;
  diagnostics: Diagnostic[];
}

const isBlank = (c: string): boolean => c === ' ' || c === '\t' || c === '\f' || c === '\v' || c === '\r';

/** Which blocks each block may hold. */
const NESTS: Readonly<Record<LvsBlock['kind'], readonly LvsBlockKind[]>> = {
  top: ['virtual', 'failover'],
  virtual: ['server'],
  failover: [],
  server: [],
};

/**
 * Reads lvs.cf into blocks and settings. Never throws.
 * @example parseLvs('/etc/sysconfig/ha/lvs.cf', 'primary = 198.18.0.1\n').top.settings[0].key.text // 'primary'
 */
export function parseLvs(file: string, text: string): LvsParse {
  const diagnostics: Diagnostic[] = [];
  const diag = (code: ErrorCode, pos: SourcePos, path: string, message: string): void => {
    diagnostics.push({ ...pos, severity: 'error', code, path, message });
  };
  const start: Word = { text: '(top level)', pos: { file, line: 1, col: 1 } };
  const top: LvsBlock = { kind: 'top', kw: start, settings: [], blocks: [] };
  const stack: LvsBlock[] = [top];
  const label = (b: LvsBlock): string => (b.kind === 'top' ? 'lvs.cf' : `${b.kind} ${b.name?.text ?? ''}`.trim());

  for (const [i, raw] of text.split('\n').entries()) {
    const words = lexLine(file, i + 1, raw, (pos, message) => diag('TND_CFG_SYNTAX', pos, 'lvs.cf', message));
    if (!words) continue;
    const cur = stack[stack.length - 1]!;
    const [first, ...rest] = words as [LexWord, ...LexWord[]];
    if (first.text === '}' && !first.quoted) {
      if (rest.length > 0) diag('TND_CFG_ARGS', rest[0]!.pos, label(cur), "nothing may follow '}' on its line");
      if (stack.length === 1) diag('TND_CFG_EXTRA_BRACE', first.pos, 'lvs.cf', "this '}' closes no block");
      else stack.pop();
      continue;
    }
    const kind = first.text as LvsBlockKind;
    if ((kind === 'virtual' || kind === 'server' || kind === 'failover') && !first.quoted) {
      const [name, brace, ...extra] = rest;
      if (!name || name.text === '{' || brace?.text !== '{' || extra.length > 0) {
        diag(
          'TND_CFG_SYNTAX',
          first.pos,
          label(cur),
          `a ${kind} block opens with "${kind} NAME {" on one line` +
            (extra.length > 0 ? ' and nothing after the {' : ''),
        );
        // Read what follows as the block anyway when it was opened, so its own problems are found too.
        if (rest[rest.length - 1]?.text !== '{') continue;
      }
      if (!NESTS[cur.kind].includes(kind)) {
        const where = cur.kind === 'top' ? 'at the top level' : `inside ${label(cur)}`;
        diag('TND_CFG_SYNTAX', first.pos, label(cur), `a ${kind} block cannot be ${where}`);
      }
      const block: LvsBlock = { kind, kw: first, settings: [], blocks: [] };
      if (name && name.text !== '{') block.name = name;
      cur.blocks.push(block);
      stack.push(block);
      continue;
    }
    // key = value…; a key=value word is split for the reader's convenience.
    let key: Word = first;
    let values: LexWord[] = rest;
    const eq = first.quoted ? -1 : first.text.indexOf('=');
    if (eq > 0) {
      key = { text: first.text.slice(0, eq), pos: first.pos };
      const after = first.text.slice(eq + 1);
      values = after ? [{ text: after, pos: { ...first.pos, col: first.pos.col + eq + 1 } }, ...rest] : rest;
    } else if (rest[0]?.text === '=' && !rest[0].quoted) values = rest.slice(1);
    else if (rest[0]?.text.startsWith('=') && !rest[0].quoted) {
      values = [{ text: rest[0].text.slice(1), pos: { ...rest[0].pos, col: rest[0].pos.col + 1 } }, ...rest.slice(1)];
      if (values[0]!.text === '') values = values.slice(1);
    } else {
      diag('TND_CFG_SYNTAX', (rest[0] ?? first).pos, label(cur), `expected "${first.text} = VALUE"`);
      continue;
    }
    cur.settings.push({ key, values });
  }
  for (let k = stack.length - 1; k >= 1; k--) {
    const b = stack[k]!;
    diag('TND_CFG_UNCLOSED_BLOCK', b.kw.pos, label(b), `${label(b)} opened here is never closed (the file ends first)`);
  }
  return { top, diagnostics };
}

type LexWord = Word & { quoted?: boolean };

/** The words of one line; undefined for a blank or comment line, or a line with a broken quote (reported). */
function lexLine(
  file: string,
  line: number,
  raw: string,
  bad: (pos: SourcePos, message: string) => void,
): LexWord[] | undefined {
  const words: LexWord[] = [];
  let j = 0;
  while (j < raw.length && isBlank(raw[j]!)) j++;
  if (j >= raw.length || raw[j] === '#') return undefined;
  while (j < raw.length) {
    while (j < raw.length && isBlank(raw[j]!)) j++;
    if (j >= raw.length) break;
    const start = j;
    const q = raw[j];
    if (q === '"' || q === "'") {
      const end = raw.indexOf(q, j + 1);
      if (end === -1) {
        bad({ file, line, col: start + 1 }, `the quote ${q} opened here is not closed on this line`);
        return undefined;
      }
      words.push({ text: raw.slice(j + 1, end), pos: { file, line, col: start + 1 }, quoted: true });
      j = end + 1;
      continue;
    }
    while (j < raw.length && !isBlank(raw[j]!)) j++;
    words.push({ text: raw.slice(start, j), pos: { file, line, col: start + 1 } });
  }
  return words.length > 0 ? words : undefined;
}

/**
 * Applies the escapes nanny applies to send and expect strings: `\n`, `\r`, `\\`, `\'` (others stay as written).
 * @example unescapeNanny('GET / HTTP/1.0\\r\\n\\r\\n') // 'GET / HTTP/1.0\r\n\r\n'
 */
export function unescapeNanny(s: string): string {
  return s.replace(/\\([nr\\'])/g, (_m, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c));
}

/**
 * The prefix length of a dotted IPv4 netmask; undefined when it is not one (or not contiguous).
 * @example netmaskPrefix('255.255.255.0') // 24
 */
export function netmaskPrefix(mask: string): number | undefined {
  const octets = mask.split('.');
  if (octets.length !== 4 || octets.some((o) => !/^\d{1,3}$/.test(o) || Number(o) > 255)) return undefined;
  const bits = octets.map((o) => Number(o).toString(2).padStart(8, '0')).join('');
  if (!/^1*0*$/.test(bits)) return undefined;
  const zero = bits.indexOf('0');
  return zero === -1 ? 32 : zero;
}
