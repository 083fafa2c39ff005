/**
 * Text from config files and the network reaches terminals and logs: control characters in it (an ESC sequence in
 * a keepalived keyword, a newline in a YAML key) must not drive the terminal or forge a log line.
 */

// C0 controls, DEL and the C1 controls (U+0080–U+009F: a terminal may read U+009B as CSI).
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * `text` with every control character written as a visible escape (`\x1b`, `\n`, `\u009b`).
 * @example printable('a\x1b[31mb') // 'a\\x1b[31mb'
 */
export function printable(text: string): string {
  if (!CONTROL.test(text)) return text;
  CONTROL.lastIndex = 0;
  return text.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return code < 0x80 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
