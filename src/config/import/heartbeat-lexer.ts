/**
 * The lexical layer shared by heartbeat's three files (ha.cf, haresources, authkeys): lines of blank-separated
 * words, `#` to the end of the line is a comment, and (haresources only) a line ending in `\` continues on the next.
 * Every word keeps its position in the user's file. Heartbeat has no quoting in these files, so neither has this.
 * @see heartbeat ha.cf(5), authkeys(5), and the sample haresources shipped with heartbeat
 */
import type { Word } from './keepalived-lexer.ts';

export type { Word };

/** One logical line: its words (at least one). */
export interface HbLine {
  words: [Word, ...Word[]];
}

/** Options of the lexer. */
export interface HbLexOptions {
  /** A `\` at the end of a line joins it with the next (haresources). @default false */
  continuation?: boolean;
}

const isBlank = (c: string): boolean => c === ' ' || c === '\t' || c === '\f' || c === '\v' || c === '\r';

/**
 * Splits `text` into logical lines of words. Never throws.
 * @example lexHeartbeat('/etc/ha.d/ha.cf', 'keepalive 2 # seconds\n')[0].words.map((w) => w.text) // ['keepalive', '2']
 */
export function lexHeartbeat(file: string, text: string, options: HbLexOptions = {}): HbLine[] {
  const out: HbLine[] = [];
  let pending: Word[] = [];
  const physical = text.split('\n');
  for (const [i, raw] of physical.entries()) {
    const hash = raw.indexOf('#');
    let body = hash === -1 ? raw : raw.slice(0, hash);
    let continues = false;
    if (options.continuation) {
      const trimmed = body.replace(/[ \t\f\v\r]+$/, '');
      if (trimmed.endsWith('\\')) {
        continues = true;
        body = trimmed.slice(0, -1);
      }
    }
    let j = 0;
    while (j < body.length) {
      while (j < body.length && isBlank(body[j]!)) j++;
      if (j >= body.length) break;
      const start = j;
      while (j < body.length && !isBlank(body[j]!)) j++;
      pending.push({ text: body.slice(start, j), pos: { file, line: i + 1, col: start + 1 } });
    }
    if (!continues || i === physical.length - 1) {
      const [first, ...rest] = pending;
      if (first) out.push({ words: [first, ...rest] });
      pending = [];
    }
  }
  return out;
}
