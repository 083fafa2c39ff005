// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${NAME} here is keepalived syntax, not a template
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expandBraces, type Item, lexKeepalived } from './keepalived-lexer.ts';
import { memoryFs } from './memory-fs.ts';

const MAIN = '/etc/keepalived/keepalived.conf';

function lex(text: string, others: Record<string, string> = {}, configId?: string) {
  const r = lexKeepalived(MAIN, memoryFs({ [MAIN]: text, ...others }), configId === undefined ? {} : { configId });
  return { ...r, shown: r.items.map(show) };
}

/** A statement as its words joined by '|' (so that blanks inside a word show), a brace as itself. */
function show(it: Item): string {
  return it.kind === 'words' ? it.words.map((w) => w.text).join('|') : it.kind === 'open' ? '{' : '}';
}

test('a line splits at the first unquoted brace: "vrrp_instance VI_1 {" equals "{" on the next line', () => {
  assert.deepEqual(lex('vrrp_instance VI_1 {\n}\n').shown, lex('vrrp_instance VI_1\n{\n}\n').shown);
  assert.deepEqual(lex('vrrp_instance VI_1 {\n}\n').shown, ['vrrp_instance|VI_1', '{', '}']);
});

test('the text after a brace is a statement of its own, up to the next brace', () => {
  assert.deepEqual(lex('authentication { auth_type PASS auth_pass 1111 }').shown, [
    'authentication',
    '{',
    'auth_type|PASS|auth_pass|1111',
    '}',
  ]);
  assert.deepEqual(lex('a{b}c').shown, ['a', '{', 'b', '}', 'c']);
});

test('comments start with # or ! anywhere on a line, outside quotes', () => {
  const r = lex('! a comment\n# another\npriority 100 # trailing\nadvert_int 1! bang\nscript "a#b!c"\n');
  assert.deepEqual(r.shown, ['priority|100', 'advert_int|1', 'script|a#b!c']);
  assert.deepEqual(r.diagnostics, []);
});

test('an escaped \\# or \\! is a literal character, not a comment', () => {
  assert.deepEqual(lex('auth_pass ab\\#cd\\!e\n').shown, ['auth_pass|ab#cd!e']);
});

test('quoted strings lose their quotes, keep their blanks and concatenate with adjacent text', () => {
  // keepalived.conf(5): 'abcd" efg h jkl "mnop' is the single string 'abcd efg h jkl mnop'
  assert.deepEqual(lex(`x abcd" efg h jkl "mnop`).shown, ['x|abcd efg h jkl mnop']);
  assert.deepEqual(lex(`x abcd "efg h jkl" mnop`).shown, ['x|abcd|efg h jkl|mnop']);
  assert.deepEqual(lex(`x 'single "inner" quote' "double 'inner'"`).shown, [`x|single "inner" quote|double 'inner'`]);
  assert.deepEqual(lex('x ""').shown, ['x|']);
});

test('braces inside quotes do not split the statement', () => {
  assert.deepEqual(lex('script "echo {a,b}"').shown, ['script|echo {a,b}']);
});

test('escapes: \\t \\n \\xHH \\nnn \\cC and \\C for any other C, inside and outside quotes', () => {
  assert.deepEqual(lex('x "a\\tb" c\\x41 \\101 \\cA \\"q\\"').shown, ['x|a\tb|cA|A|\x01|"q"']);
});

test('an unterminated quote is a TND_CFG_SYNTAX error at the quote', () => {
  const r = lex('notify_master "/bin/true\n');
  assert.equal(r.diagnostics.length, 1);
  assert.equal(r.diagnostics[0]?.code, 'TND_CFG_SYNTAX');
  assert.equal(r.diagnostics[0]?.line, 1);
  assert.equal(r.diagnostics[0]?.col, 15);
});

test('every word carries the line and column of its first character (tabs count as one column)', () => {
  const r = lex('vrrp_instance VI_1 {\n\tpriority   "100"\n}\n');
  const words = r.items.flatMap((it) => (it.kind === 'words' ? it.words : []));
  assert.deepEqual(
    words.map((w) => [w.text, w.pos.line, w.pos.col]),
    [
      ['vrrp_instance', 1, 1],
      ['VI_1', 1, 15],
      ['priority', 2, 2],
      ['100', 2, 13],
    ],
  );
  assert.deepEqual(
    r.items.flatMap((it) => (it.kind === 'words' ? [] : [[it.pos.line, it.pos.col]])),
    [
      [1, 20],
      [3, 1],
    ],
  );
});

test('CRLF line ends are read like LF', () => {
  assert.deepEqual(lex('a 1\r\nb 2\r\n').shown, ['a|1', 'b|2']);
});

test('include reads the matching files in sorted order, relative to the including file', () => {
  const r = lex('include conf.d/*.conf\nafter\n', {
    '/etc/keepalived/conf.d/b.conf': 'from_b\n',
    '/etc/keepalived/conf.d/a.conf': 'from_a\ninclude ../x/{one,two}.inc\n',
    '/etc/keepalived/conf.d/skip.txt': 'not me\n',
    '/etc/keepalived/x/one.inc': 'one\n',
    '/etc/keepalived/x/two.inc': 'two\n',
  });
  assert.deepEqual(r.shown, ['from_a', 'one', 'two', 'from_b', 'after']);
  assert.deepEqual(r.files, [
    MAIN,
    '/etc/keepalived/conf.d/a.conf',
    '/etc/keepalived/x/one.inc',
    '/etc/keepalived/x/two.inc',
    '/etc/keepalived/conf.d/b.conf',
  ]);
  assert.deepEqual(r.diagnostics, []);
  const one = r.items.find((it) => it.kind === 'words' && it.words[0].text === 'one');
  assert.deepEqual(one?.kind === 'words' ? one.words[0].pos : undefined, {
    file: '/etc/keepalived/x/one.inc',
    line: 1,
    col: 1,
  });
});

test('an include may open a block that the including file closes', () => {
  const r = lex('vrrp_instance VI_1 {\ninclude vi1.body\n}\n', { '/etc/keepalived/vi1.body': 'priority 100\n' });
  assert.deepEqual(r.shown, ['vrrp_instance|VI_1', '{', 'priority|100', '}']);
});

test('an include that matches nothing is a TND_CFG_INCLUDE warning (keepalived reads on); includem makes it an error', () => {
  const r = lex('include /nowhere/*.conf\nincludem /nowhere/x.conf\nnext\n');
  assert.deepEqual(
    r.diagnostics.map((d) => [d.severity, d.code, d.line]),
    [
      ['warning', 'TND_CFG_INCLUDE', 1],
      ['error', 'TND_CFG_INCLUDE', 2],
    ],
  );
  assert.deepEqual(r.shown, ['next']);
});

test('an include cycle is a TND_CFG_INCLUDE error naming the cycle, and reading goes on', () => {
  const r = lex('include a.conf\nend\n', {
    '/etc/keepalived/a.conf': 'in_a\ninclude b.conf\n',
    '/etc/keepalived/b.conf': 'in_b\ninclude keepalived.conf\n',
  });
  assert.deepEqual(r.shown, ['in_a', 'in_b', 'end']);
  assert.equal(r.diagnostics.length, 1);
  const d = r.diagnostics[0]!;
  assert.equal(d.code, 'TND_CFG_INCLUDE');
  assert.equal(d.severity, 'error');
  assert.equal(d.file, '/etc/keepalived/b.conf');
  assert.equal(d.line, 2);
  assert.match(d.message, /keepalived\.conf → .*a\.conf → .*b\.conf → .*keepalived\.conf/);
});

test('a file that includes itself is a cycle too', () => {
  const r = lex('include keepalived.conf\n');
  assert.deepEqual(
    r.diagnostics.map((d) => d.code),
    ['TND_CFG_INCLUDE'],
  );
});

test('include takes exactly one pattern', () => {
  const r = lex('include a b\n');
  assert.deepEqual(
    r.diagnostics.map((d) => d.code),
    ['TND_CFG_ARGS'],
  );
});

test('an unreadable entry file is TND_CFG_IO', () => {
  const r = lexKeepalived('/missing.conf', memoryFs({}));
  assert.deepEqual(
    r.diagnostics.map((d) => [d.code, d.file, d.line]),
    [['TND_CFG_IO', '/missing.conf', 1]],
  );
  assert.deepEqual(r.files, []);
});

test('a throwing fs counts as unreadable and never escapes', () => {
  const fs = {
    read: (p: string) => (p === MAIN ? 'include x/*\n' : undefined),
    glob: () => {
      throw new Error('boom');
    },
  };
  const r = lexKeepalived(MAIN, fs);
  assert.deepEqual(
    r.diagnostics.map((d) => d.code),
    ['TND_CFG_INCLUDE'],
  );
});

test('parameters: $NAME=value defines, $NAME and ${NAME} substitute, recursively, at the reference column', () => {
  const r = lex('$IF=eth0\n$DEV=dev $IF\n  interface $IF\n  10.0.0.1/24 ${DEV}\n');
  assert.deepEqual(r.shown, ['interface|eth0', '10.0.0.1/24|dev|eth0']);
  const words = r.items.flatMap((it) => (it.kind === 'words' ? it.words : []));
  assert.deepEqual(
    words.map((w) => [w.text, w.pos.line, w.pos.col]),
    [
      ['interface', 3, 3],
      ['eth0', 3, 13],
      ['10.0.0.1/24', 4, 3],
      ['dev', 4, 15],
      ['eth0', 4, 15],
    ],
  );
});

test('a multi-line parameter expands to several statements', () => {
  const r = lex('$ADDRS=10.0.0.1 \\\n  10.0.0.2 \\\n  10.0.0.3\nvirtual_ipaddress {\n$ADDRS\n}\n');
  assert.deepEqual(r.shown, ['virtual_ipaddress', '{', '10.0.0.1', '10.0.0.2', '10.0.0.3', '}']);
});

test('an undefined $NAME is left alone; an undefined ${NAME} is too, with a warning', () => {
  const r = lex('script "echo $HOME ${NOPE}"\n');
  assert.deepEqual(r.shown, ['script|echo $HOME ${NOPE}']);
  assert.deepEqual(
    r.diagnostics.map((d) => [d.code, d.severity]),
    [['TND_CFG_UNKNOWN_REF', 'warning']],
  );
});

test('a parameter defined in terms of itself stops with an error instead of looping', () => {
  const r = lex('$A=x$A\nvalue $A\n');
  assert.ok(r.diagnostics.some((d) => d.code === 'TND_CFG_SYNTAX'));
});

test('built-in parameters: ${_PWD} ${_HASH} ${_BANG}; ${_RANDOM} and ${_ENV} are refused', () => {
  const r = lex('x ${_PWD} a${_HASH}b${_BANG}c\ny ${_RANDOM 1 10} ${_ENV HOME}\n');
  assert.equal(r.shown[0], 'x|/etc/keepalived|a#b!c');
  assert.deepEqual(
    r.diagnostics.map((d) => d.code),
    ['TND_CFG_REJECTED', 'TND_CFG_REJECTED'],
  );
});

test('@ID lines apply when the config id matches; @^ID lines when it does not', () => {
  const text = '@lb1 priority 150\n@lb2 priority 100\n@^lb1 weight 1\n';
  assert.deepEqual(lex(text, {}, 'lb1').shown, ['priority|150']);
  assert.deepEqual(lex(text, {}, 'lb2').shown, ['priority|100', 'weight|1']);
});

test('without a config id, @ID lines are skipped and @^ID lines kept, each with a warning', () => {
  const r = lex('@lb1 priority 150\n@^lb1 weight 1\n');
  assert.deepEqual(r.shown, ['weight|1']);
  assert.deepEqual(
    r.diagnostics.map((d) => [d.code, d.severity, d.line]),
    [
      ['TND_CFG_UNSUPPORTED', 'warning', 1],
      ['TND_CFG_UNSUPPORTED', 'warning', 2],
    ],
  );
});

test('~SEQ loops are refused with an error', () => {
  const r = lex('~SEQ(i, 1, 3) vrrp_instance VI_$i\n');
  assert.deepEqual(r.shown, []);
  assert.deepEqual(
    r.diagnostics.map((d) => d.code),
    ['TND_CFG_REJECTED'],
  );
});

test('csh braces expand left to right, nested, and leave a brace without a comma alone', () => {
  assert.deepEqual(expandBraces('/a/{b,c}/{d,e{f,g}}'), [
    '/a/b/d',
    '/a/b/ef',
    '/a/b/eg',
    '/a/c/d',
    '/a/c/ef',
    '/a/c/eg',
  ]);
  assert.deepEqual(expandBraces('/a/{b}/x'), ['/a/{b}/x']);
  assert.deepEqual(expandBraces('/a/{,x}'), ['/a/', '/a/x']);
});
