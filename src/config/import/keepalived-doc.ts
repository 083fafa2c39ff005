/**
 * Renders docs/keepalived.md from the keyword tables, so the page says exactly what the reader does
 * (npm run gen:docs writes it; a test fails when the page is out of date).
 */
import { KA_BLOCKS, type KeywordTable, REJECTED, SUPPORTED, WARNED } from './keepalived-keywords.ts';

const INTRO = `# Reading keepalived.conf

Generated from \`src/config/import/keepalived-keywords.ts\` by \`npm run gen:docs\`;
a test fails when this page is out of date.

tandem reads the VRRP and the LVS part of a keepalived.conf directly, and reports every problem in one run as
\`file:line:col severity CODE path: message\`, pointing into your own file (included files too),
with keepalived's names (\`vrrp_instance VI_2: priority\`). The values are checked by the same schema and semantic
checks as a tandem YAML file, so \`priority 300\` is reported as out of range, and \`track_script { chk_ngnix }\`
naming no vrrp_script is reported at that line.

How the file is read (as keepalived reads it):

- A statement is one line. A brace splits a line: \`vrrp_instance VI_1 {\` is the same as \`{\` on the next line,
  and the text after a brace, up to the next brace, is one statement. So
  \`authentication { auth_type PASS auth_pass 1111 }\` gives \`auth_type\` three values: tandem reports
  \`TND_CFG_ARGS\` naming \`auth_pass\` rather than guessing. Put one keyword per line.
- Comments start with \`#\` or \`!\` anywhere outside quotes (\`\\#\` and \`\\!\` are literal). \`"…"\` and \`'…'\` quote;
  adjacent text concatenates; shell-like escapes (\`\\t\`, \`\\xHH\`, \`\\nnn\`, …) apply.
- Seconds (\`advert_int 0.5\`, \`interval 2\`, \`preempt_delay 2.5\`) become milliseconds.
- When an instance has no \`version\` and global_defs no \`vrrp_version\`, tandem writes keepalived's default:
  2, or 3 for IPv6 addresses, so it speaks what its keepalived peers speak.
- A missing \`}\` is reported once, at the keyword that opened the block, as soon as a statement that cannot be
  inside that block appears (for example the next \`vrrp_instance\`); reading then goes on.
- A block tandem does not implement (\`bfd_instance\`, \`BFD_CHECK\`, \`track_bfd\`, \`notification_email\` …), at any
  depth, is skipped whole, braces balanced, with one \`TND_CFG_IGNORED_BLOCK\` warning naming it and its line: nothing
  in it (a \`connect_timeout\`, a nested \`host { }\`) is read as a keyword of the enclosing block.
- Flags (\`nopreempt\`, \`accept\`, \`dont_track_primary\`, \`misc_dynamic\` …) accept and ignore arguments, as
  keepalived's handlers do: \`nopreempt 1\` (even \`nopreempt false\`) sets the flag, with a \`TND_CFG_AS_KEEPALIVED\`
  warning. \`auth_type pass\` (any case) is read as PASS, what keepalived 1.x did and the author meant, with a warning
  that keepalived 2.x logs "unknown authentication type" and sends no authentication for it.
- Conditional lines: \`tandem check\`, \`run\`, \`sim\` and \`import\` take keepalived's \`-i\` / \`--config-id ID\`
  (default: the host name up to its first dot, as keepalived): \`@ID\` lines are kept for that id, \`@^ID\` lines
  for every other, and \`\${_INSTANCE}\` is the id.
- A missing required setting is named as you write it: \`vrrp_script chk: script: is required\`.

The LVS part (\`virtual_server\`, \`virtual_server_group\`, \`real_server\` and its checkers) becomes \`lb.services\`:

- Each \`virtual_server ADDR PORT\` is one service named \`ADDR-PORT\` (\`ADDR-PORT-udp\` for UDP); a
  \`virtual_server group NAME\` is one service per address and port of the group, named \`NAME-ADDR-PORT\`, so
  \`198.18.0.1-10 80\` gives ten services. No port means port 0 (every port, persistent services only, as LVS).
- keepalived's behaviour is kept, not tandem's YAML defaults (which follow HAProxy): every check is written out with
  \`rise 1\`, \`fall 1\`, \`retries\` = \`retry\` (default 1, MISC_CHECK 0), \`delay_before_retry\` (default 3 s for
  HTTP_GET/SSL_GET, else 1 s), \`interval\` = \`delay_loop\` (default 60 s) and the connect timeout (default 5 s).
  Settings keepalived passes down (virtual server → real server → checker: \`delay_loop\`, \`connect_timeout\`,
  \`retry\`, \`delay_before_retry\`, \`warmup\`, \`alpha\`, \`virtualhost\`) are resolved the same way.
- A virtual server without \`protocol\` is UDP, as keepalived makes it (with a warning); without \`lvs_method\` it is
  NAT; without \`lvs_sched\` it is wlc.
- Every checker keepalived has is read: TCP_CHECK, HTTP_GET / SSL_GET (every \`url\` block: all must pass, each with
  its own status_code or digest), MISC_CHECK, UDP_CHECK, PING_CHECK (one ICMP echo through iputils ping), SMTP_CHECK
  (with \`host\` blocks, each checked in turn), DNS_CHECK and FILE_CHECK (its track_file's path and weight).
  \`virtual_server fwmark N\` (and \`fwmark N\` group entries) are services matched by the packet mark.
- Where tandem's model is narrower, the reader says so at the line: one check per real server (the first checker; the
  others are warned, where keepalived requires all to pass), \`inhibit_on_failure\` per
  service (a per-server setting is kept when all servers of the service agree). \`owner\` is left unset: the service
  runs where the instance holding its address is master.
- \`lb_kind DR\` is direct routing (nft netdev ingress, docs/dr.md); the director's interface is the one of the VRRP
  instance holding the address. TUN, SCTP and the schedulers tandem lacks are refused (\`TND_CFG_REJECTED\`).

Diagnostics: \`TND_CFG_UNSUPPORTED\` (warning) for a valid keepalived keyword tandem ignores,
\`TND_CFG_IGNORED_BLOCK\` (warning) for a block skipped whole, \`TND_CFG_AS_KEEPALIVED\` (warning) where keepalived
itself ignores or corrects a setting and tandem does the same, \`TND_CFG_REJECTED\` (error) for a setting tandem
refuses because ignoring it would break the cluster, \`TND_CFG_UNKNOWN_KEY\` (error, with a suggestion) for a word
that is not a keepalived keyword at all. See docs/errors.md for every code.
`;

/**
 * The counts of issue 11's "before": the tables on main at 22ffe28 (measured with keywordCounts there), kept so the
 * page shows what changed; the "now" row is counted from the tables every time the page is generated.
 */
export const COUNTS_BEFORE_ISSUE_11 = { supported: 169, warned: 256, rejected: 14 } as const;

/** How many entries each table has, over every block. */
export function keywordCounts(): { supported: number; warned: number; rejected: number } {
  const n = (t: KeywordTable): number => KA_BLOCKS.reduce((sum, b) => sum + Object.keys(t[b]).length, 0);
  return { supported: n(SUPPORTED), warned: n(WARNED), rejected: n(REJECTED) };
}

function countsSection(): string {
  const now = keywordCounts();
  const b = COUNTS_BEFORE_ISSUE_11;
  return (
    '\n## How many keywords\n\nEntries of the tables below (keywords and value forms, over every block), counted ' +
    'from `src/config/import/keepalived-keywords.ts` when this page is generated.\n\n' +
    '| | supported | warned | rejected |\n|---|---|---|---|\n' +
    `| before issue 11 (main at 22ffe28) | ${b.supported} | ${b.warned} | ${b.rejected} |\n` +
    `| now | ${now.supported} | ${now.warned} | ${now.rejected} |\n`
  );
}

const cell = (s: string): string => s.replaceAll('|', '\\|');
const code = (s: string): string => `\`${s.replaceAll('`', "'")}\``;

function section(title: string, lead: string, table: KeywordTable, header: string): string {
  let out = `\n## ${title}\n\n${lead}\n`;
  for (const block of KA_BLOCKS) {
    const rows = Object.entries(table[block]);
    if (rows.length === 0) continue;
    out += `\n### ${block}\n\n| keyword | ${header} |\n|---|---|\n`;
    for (const [keyword, text] of rows) out += `| ${cell(code(keyword))} | ${cell(text)} |\n`;
  }
  return out;
}

/** The text of docs/keepalived.md. */
export function renderKeepalivedDoc(): string {
  return (
    INTRO +
    countsSection() +
    section('Supported', 'These keywords fill the native configuration.', SUPPORTED, 'becomes') +
    section(
      'Ignored with a warning',
      'Valid keepalived keywords that tandem does not implement (yet); the file still loads.',
      WARNED,
      'why',
    ) +
    section(
      'Refused with an error',
      'Valid keepalived settings that tandem cannot honour without breaking the cluster; the file does not load.',
      REJECTED,
      'why',
    )
  );
}
