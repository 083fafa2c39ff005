/**
 * The load balancer's part of the configuration: virtual services spread over real servers, their health checks and
 * the data plane that carries them (keepalived `virtual_server` / `real_server`, ipvsadm, HAProxy `server … check`).
 * Defaults follow HAProxy for timing (`inter` 2 s, `rise` 2, `fall` 3 are what operators expect of a check today);
 * the keepalived importer writes keepalived's own values explicitly, so an imported file behaves like the original.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { parseHexString } from './hex.ts';
import { duration, durationOr, fail, ipAddress, name } from './schema-atoms.ts';

const port = (what: string) => z.number().int().min(0).max(65_535).describe(what);

/** `198.18.1.10:80`, `[2001:db8::10]:80`, or `{ address, port }`. */
export const endpointSchema = z.union([
  z.string().transform((v, ctx) => {
    const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(v) ?? /^([^:]+):(\d{1,5})$/.exec(v);
    const p = m ? Number(m[2]) : Number.NaN;
    const addrOk = m?.[1] !== undefined && isIP(m[1]) !== 0;
    if (!m || !addrOk || p < 1 || p > 65_535) {
      fail(ctx, 'TND_CFG_ADDRESS', `not ADDRESS:PORT (IPv6 as [ADDRESS]:PORT, port 1..65535): ${JSON.stringify(v)}`);
      return z.NEVER;
    }
    return { address: m[1] as string, port: p };
  }),
  z.strictObject({ address: ipAddress, port: port('port, 1..65535').min(1) }),
]);

/** Accepted HTTP status codes: `200`, or a range text `200-299`. */
const statusCode = z.union([
  z.number().int().min(100).max(599),
  z.string().regex(/^[1-5]\d\d-[1-5]\d\d$/, 'a status code 100..599 or a range like 200-299'),
]);

/** When checks run and how their results count (HAProxy semantics: one counter, rise and fall). */
const timing = {
  interval: durationOr(2000, 'time between check starts (keepalived delay_loop, HAProxy inter)', 'interval'),
  rise: z.number().int().min(1).max(1000).default(2).describe('consecutive passes that bring a server up'),
  fall: z.number().int().min(1).max(1000).default(3).describe('consecutive failures that take a server down'),
  retries: z
    .number()
    .int()
    .min(0)
    .max(100)
    .default(0)
    .describe('extra attempts before a failure counts (keepalived retry / nb_get_retry)'),
  delay_before_retry: durationOr(1000, 'wait between a failed attempt and its retry'),
  warmup: duration('warmup').optional().describe('first check after a random delay up to this; default: the interval'),
  start_down: z.boolean().default(false).describe('start down and need `rise` passes (keepalived alpha)'),
};

const target = {
  address: ipAddress.optional().describe("address to check; default: the real server's (keepalived connect_ip)"),
  port: port("port to check; default: the real server's (keepalived connect_port)").min(1).optional(),
  bind: ipAddress.optional().describe('source address of check connections (keepalived bindto)'),
};

const tcpCheck = z.strictObject({
  type: z.literal('tcp').describe('TCP connect (keepalived TCP_CHECK)'),
  ...target,
  connect_timeout: durationOr(5000, 'give up connecting after this long'),
  ...timing,
});

const md5Digest = z
  .string()
  .regex(/^[0-9a-fA-F]{32}$/, 'an MD5 digest: 32 hex digits, as genhash prints it')
  .describe('MD5 of the body (keepalived digest)');

/** A further url of an HTTP check (keepalived: a second, third … `url { }` block). */
const httpUrl = z.strictObject({
  path: z.string().startsWith('/', 'a path must start with /').describe('request path with query'),
  host: z.string().min(1).optional().describe("Host header; default: the check's"),
  status: z.array(statusCode).min(1).default([]).describe('accepted status codes; default 200-299'),
  body_regex: z.string().min(1).optional().describe('the body must match this JavaScript regular expression'),
  regex_no_match: z.boolean().default(false).describe('fail when the body matches body_regex instead'),
  digest: md5Digest.optional(),
});

const hexText = (what: string, wildcards: boolean) =>
  z
    .string()
    .refine((v) => parseHexString(v, wildcards) !== undefined, {
      message: `hex octets like "de ad be ef"${wildcards ? ' (x for any nibble)' : ''}`,
    })
    .describe(what);

const udpCheck = z.strictObject({
  type: z.literal('udp').describe('one datagram; fails on ICMP port unreachable (keepalived UDP_CHECK)'),
  ...target,
  payload: hexText('datagram to send, in hex (keepalived payload); default empty', false).optional(),
  require_reply: z.boolean().default(false).describe('a reply must come within the timeout'),
  reply: hexText('expected leading bytes of the reply (keepalived require_reply HEX)', true).optional(),
  min_reply_length: z.number().int().min(0).max(65_507).default(0).describe('shortest acceptable reply'),
  max_reply_length: z.number().int().min(0).max(65_507).default(255).describe('longest acceptable reply'),
  timeout: durationOr(5000, 'wait this long for a reply or a port unreachable (keepalived connect_timeout)'),
  ...timing,
});

const pingCheck = z.strictObject({
  type: z.literal('ping').describe('one ICMP echo request (keepalived PING_CHECK)'),
  address: target.address,
  bind: target.bind,
  timeout: durationOr(5000, 'wait this long for the echo reply (keepalived connect_timeout)'),
  ...timing,
});

const smtpHost = z.strictObject({
  address: ipAddress.optional().describe("server to talk to; default: the check's address, else the real server's"),
  port: port("port; default: the check's port, else the real server's").min(1).optional(),
  bind: ipAddress.optional().describe('source address'),
  timeout: duration('timeout').optional().describe("this host's timeout; default: the check's"),
});

const smtpCheck = z.strictObject({
  type: z.literal('smtp').describe('greeting 220, HELO → 250, QUIT (keepalived SMTP_CHECK)'),
  ...target,
  helo_name: z.string().min(1).default('smtpchecker.keepalived.org').describe('name sent with HELO'),
  hosts: z
    .array(smtpHost)
    .default([])
    .describe(
      "the servers checked in turn, all must pass (keepalived host blocks); default: one, the check's address and port",
    ),
  timeout: durationOr(5000, 'the whole dialogue with one host must end within this'),
  ...timing,
});

/** The query types of keepalived's DNS_CHECK (kept equal to health's DNS_TYPES by a test). */
export const DNS_QUERY_TYPES = ['A', 'NS', 'CNAME', 'SOA', 'MX', 'TXT', 'AAAA', 'RRSIG', 'DNSKEY'] as const;

const dnsCheck = z.strictObject({
  type: z.literal('dns').describe('one UDP query; RCODE 0 = up (keepalived DNS_CHECK)'),
  ...target,
  query_type: z.enum(DNS_QUERY_TYPES).default('SOA').describe('query type (keepalived type)'),
  name: z.string().default('').describe("name to ask for (keepalived name); default: the root '.'"),
  timeout: durationOr(5000, 'wait this long for the response'),
  ...timing,
});

const fileCheck = z.strictObject({
  type: z.literal('file').describe('the number in a file (keepalived FILE_CHECK with a track_file)'),
  path: z.string().min(1).describe('the file to read'),
  weight: z
    .number()
    .int()
    .min(-254)
    .max(254)
    .default(0)
    .describe('0: any value but 0 takes the server down; else value × weight is added to its weight'),
  reverse: z.boolean().default(false).describe('negate value × weight'),
  ...timing,
});

const httpCheck = z.strictObject({
  type: z.enum(['http', 'https']).describe('GET on a fresh connection (keepalived HTTP_GET / SSL_GET)'),
  ...target,
  path: z.string().startsWith('/', 'a path must start with /').default('/').describe('request path with query'),
  host: z.string().min(1).optional().describe('Host header (keepalived virtualhost)'),
  sni: z.string().min(1).optional().describe('TLS server name; default: host when it is a name'),
  status: z.array(statusCode).min(1).default([]).describe('accepted status codes; default 200-299'),
  body_regex: z.string().min(1).optional().describe('the body must match this JavaScript regular expression'),
  regex_no_match: z.boolean().default(false).describe('fail when the body matches body_regex instead'),
  digest: md5Digest.optional(),
  urls: z
    .array(httpUrl)
    .default([])
    .describe('further urls, each asked on its own connection; all must pass (keepalived: several url blocks)'),
  timeout: durationOr(5000, 'the whole check must end within this (keepalived connect_timeout)'),
  verify_tls: z.boolean().default(false).describe("verify the server's certificate (keepalived SSL_GET does not)"),
  ...timing,
});

const scriptCheck = z.strictObject({
  type: z.literal('script').describe('a command; exit 0 = up (keepalived MISC_CHECK)'),
  command: z.string().min(1).describe('command line, run without a shell'),
  timeout: duration('timeout').optional().describe('kill it after this long; default: the interval'),
  dynamic: z.boolean().default(false).describe('exit 2..255 sets weight code − 2 (keepalived misc_dynamic)'),
  user: z.string().min(1).optional().describe('run as this user'),
  ...timing,
});

/** A health check of a real server. */
export const checkSchema = z.discriminatedUnion('type', [
  tcpCheck,
  httpCheck,
  scriptCheck,
  udpCheck,
  pingCheck,
  smtpCheck,
  dnsCheck,
  fileCheck,
]);

/** A real server. */
export const realServerSchema = z.strictObject({
  address: ipAddress.describe('address of the real server'),
  port: port("port; default: the virtual service's").min(1).optional(),
  weight: z.number().int().min(0).max(65_535).default(1).describe('relative weight; 0 = no new connections'),
  check: z
    .union([checkSchema, z.literal(false)])
    .optional()
    .describe("this server's check; default: the service's; false = never checked (always up)"),
});

/** The user-space proxy's settings for one service. */
export const proxySchema = z.strictObject({
  mode: z.enum(['tcp', 'http']).default('tcp').describe('tcp = byte stream; http = HTTP/1.1 reverse proxy'),
  listen: ipAddress.optional().describe("address to listen on; default: the service's vip"),
  retries: z
    .number()
    .int()
    .min(0)
    .max(10)
    .default(1)
    .describe('http: retry an idempotent request on another server when its connection fails'),
  passive_failures: z
    .number()
    .int()
    .min(0)
    .max(1000)
    .default(3)
    .describe('consecutive connection failures that mark a server down until its check passes; 0 = off'),
  connect_timeout: durationOr(3000, 'give up connecting to a real server after this long (HAProxy timeout connect)'),
  idle_timeout: durationOr(
    60_000,
    'the longest silence once a response, a WebSocket tunnel or a TCP stream is under way; pooled server ' +
      'connections idle this long close; the default of the timeouts below (HAProxy timeout server / tunnel)',
  ),
  forwarded_for: z.boolean().default(true).describe('http: add X-Forwarded-For, -Proto and -Host'),
  client_header_timeout: duration('client_header_timeout')
    .optional()
    .describe(
      'http: a request head must arrive whole within this (408 after it: the slowloris cut); default: 10s, or ' +
        'idle_timeout if shorter (nginx client_header_timeout, HAProxy timeout http-request)',
    ),
  client_body_timeout: duration('client_body_timeout')
    .optional()
    .describe('http: the longest pause between two reads of a request body (408); default: idle_timeout'),
  keepalive_timeout: duration('keepalive_timeout')
    .optional()
    .describe('http: an idle keep-alive client connection waits this long for its next request; default: idle_timeout'),
  response_timeout: duration('response_timeout')
    .optional()
    .describe('http: the longest a server may stay silent before its response head (504); default: idle_timeout'),
  max_connections: z
    .number()
    .int()
    .min(1)
    .max(10_000_000)
    .optional()
    .describe(
      'client connections open at once; more are refused at once; default: half of what the process ' +
        'file-descriptor budget holds (RLIMIT_NOFILE), so one service cannot starve the others (HAProxy maxconn)',
    ),
  max_headers: z
    .number()
    .int()
    .min(1)
    .max(10_000)
    .default(100)
    .describe('http: request header fields at most; more is 431 (HAProxy tune.http.maxhdr)'),
  max_header_size: z
    .number()
    .int()
    .min(1_024)
    .max(1_048_576)
    .default(16_384)
    .describe('http: bytes of request line and header fields at most; more is 431 (HAProxy tune.bufsize)'),
});

/** A virtual service (keepalived virtual_server). */
export const serviceSchema = z.strictObject({
  name: name.describe('service name, used in status, logs and `tandem rs`'),
  vip: ipAddress
    .optional()
    .describe('virtual address clients connect to; required unless fwmark is set (then it only names the owner)'),
  fwmark: z
    .number()
    .int()
    .min(1)
    .max(4_294_967_295)
    .optional()
    .describe('take the packets with this firewall mark instead of vip:port (keepalived virtual_server fwmark)'),
  port: port('port; 0 = every port (persistent services only, like LVS); required unless fwmark is set').default(0),
  protocol: z.enum(['tcp', 'udp']).default('tcp').describe('transport protocol'),
  scheduler: z
    .enum(['rr', 'wrr', 'lc', 'wlc', 'sh', 'mh'])
    .default('wrr')
    .describe(
      'rr, wrr, lc, wlc, sh (source hash), mh (Maglev); nft: lc and wlc steer the weights by connection counts',
    ),
  method: z.enum(['nat', 'dr']).default('nat').describe('forwarding: nat (DNAT) or dr (direct routing)'),
  dataplane: z
    .enum(['nft', 'proxy', 'haproxy'])
    .default('nft')
    .describe('nft = kernel NAT; proxy = user-space proxy; haproxy = a managed HAProxy (settings from proxy)'),
  interface: z
    .string()
    .regex(/^[A-Za-z0-9_.:@+-]{1,15}$/, 'an interface name (at most 15 characters)')
    .optional()
    .describe(
      "method dr: the director's interface on the real servers' segment, where clients' packets for the vip arrive; " +
        'default: the interface of the VRRP instance holding the vip',
    ),
  snat: z
    .union([z.boolean(), ipAddress])
    .default(false)
    .describe('nft: rewrite the client source too (true = masquerade, or an address), for one-armed setups'),
  proxy: proxySchema.default({
    mode: 'tcp',
    retries: 1,
    passive_failures: 3,
    connect_timeout: 3000,
    idle_timeout: 60_000,
    forwarded_for: true,
    max_headers: 100,
    max_header_size: 16_384,
  }),
  persistence: z
    .strictObject({
      timeout: durationOr(360_000, 'affinity lifetime (keepalived persistence_timeout)'),
      netmask: z
        .number()
        .int()
        .min(0)
        .max(128)
        .optional()
        .describe('client prefix sharing one affinity; default /32 or /128'),
    })
    .optional()
    .describe('send one client to one real server'),
  sorry_server: endpointSchema.optional().describe('takes new connections while the quorum is lost'),
  quorum: z
    .strictObject({
      min: z.number().int().min(1).default(1).describe('minimum total weight of live servers'),
      hysteresis: z.number().int().min(0).default(0).describe('tolerance around the quorum, against flapping'),
      up: z.string().min(1).optional().describe('command run when the quorum is gained'),
      down: z.string().min(1).optional().describe('command run when the quorum is lost'),
    })
    .default({ min: 1, hysteresis: 0 }),
  inhibit_on_failure: z.boolean().default(false).describe('a failed server stays with weight 0 instead of leaving'),
  slow_start: durationOr(0, 'ramp the weight of a server that comes back over this long'),
  drain_timeout: durationOr(300_000, '`tandem rs drain` waits this long for connections to end'),
  owner: name
    .optional()
    .describe('VRRP instance or sync group whose master serves this; default: the instance holding the vip'),
  check: checkSchema.optional().describe('health check of every real server; none = always up'),
  real_servers: z.array(realServerSchema).default([]).describe('the real servers'),
});

/** Replication of the NAT connection state between two directors (conntrackd, FTFW mode). */
export const conntrackSyncSchema = z.strictObject({
  interface: z
    .string()
    .regex(/^[A-Za-z0-9_.:@+-]{1,15}$/, 'an interface name (at most 15 characters)')
    .describe('the dedicated link between the two directors that the sync messages use'),
  addresses: z
    .record(z.string(), ipAddress)
    .describe("each director's address on that link, by node name (two nodes: each one's peer is the other)"),
  port: port('UDP port of the sync messages').min(1).default(3780),
  owner: name
    .optional()
    .describe(
      'VRRP instance or sync group whose master is the primary; default: the owner of the first service with nft',
    ),
  conntrackd: z.string().min(1).default('/usr/sbin/conntrackd').describe('the conntrackd binary'),
});

/** The `lb` section. */
export const lbSchema = z.strictObject({
  services: z.array(serviceSchema).default([]).describe('virtual services'),
  conntrack_sync: conntrackSyncSchema
    .optional()
    .describe('keep NAT connections across a director failover: tandem runs and steers conntrackd'),
  max_concurrent_checks: z.number().int().min(1).max(10_000).default(64).describe('health checks run at once, at most'),
});

export type LbSpec = z.output<typeof lbSchema>;
export type ConntrackSyncSpec = z.output<typeof conntrackSyncSchema>;
export type ServiceSpec = z.output<typeof serviceSchema>;
export type RealServerSpec = z.output<typeof realServerSchema>;
export type CheckSpecYaml = z.output<typeof checkSchema>;
export type ProxySpec = z.output<typeof proxySchema>;
