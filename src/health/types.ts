/**
 * What a health check is and what it reports. Check specs are plain, frozen-config data; results are a closed set of
 * HAProxy's check result codes that flow unchanged to logs, metrics and the API (Rule 5).
 * @see HAProxy configuration.txt "show servers state" / `%[check_status]` for the code table
 * @see keepalived.conf(5) "virtual_server" … "TCP_CHECK", "HTTP_GET|SSL_GET", "MISC_CHECK"
 */
import type { CheckResultCode } from '../core/check-codes.ts';

export { CHECK_RESULT_CODES, CHECK_RESULT_MEANING, type CheckResultCode, passed } from '../core/check-codes.ts';

/** The outcome of one check run. Checkers never throw: every way a run can end is one of these. */
export interface CheckResult {
  /** What happened, as HAProxy would say it. */
  code: CheckResultCode;
  /** Plain language for the operator: "connection refused (ECONNREFUSED)", "HTTP 503, expected 200-299". */
  detail: string;
  /** From the start of the run to its result, in real milliseconds. */
  durationMs: number;
  /** misc_dynamic only: the weight the exit code asks for (exit code − 2). @see keepalived.conf(5) misc_dynamic */
  weight?: number;
  /** Script checks: how the process ended (keepalived logs a vrrp_script's exit status). */
  process?: { outcome: 'ok' | 'failed' | 'timeout' | 'aborted' | 'spawn-error'; exitCode: number | null };
}

/** An inclusive range of HTTP status codes (`200-299`; a single code is `{ from: 503, to: 503 }`). */
export interface StatusRange {
  from: number;
  to: number;
}

/** keepalived's default `status_code`: 200-299. @see keepalived.conf(5) url { status_code } */
export const DEFAULT_STATUS_CODES: readonly StatusRange[] = Object.freeze([{ from: 200, to: 299 }]);

/** keepalived's default `connect_timeout`: 5 s. @see keepalived.conf(5) connect_timeout */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/** The most of a response body an HTTP check reads for `regex` or `digest`. @default 1 MiB */
export const DEFAULT_MAX_BODY_BYTES = 1_048_576;

/** TCP_CHECK: a TCP connection that opens passes (L4OK). @see keepalived.conf(5) TCP_CHECK */
export interface TcpProbe {
  kind: 'tcp';
  /** Address to connect to [connect_ip]. @default the real server's address (set by the caller) */
  addr: string;
  /** Port to connect to [connect_port]. @default the real server's port (set by the caller) */
  port: number;
  /** Give up connecting after this long (L4TOUT) [connect_timeout]. @default 5000 */
  connectTimeoutMs: number;
  /** Source address of the check connection [bindto]. @default chosen by the kernel */
  bindAddr?: string;
}

/** One further `url { … }` of an HTTP_GET / SSL_GET: checked on its own connection after the first. */
export interface HttpUrl {
  /** Request path with query [url { path }]. */
  path: string;
  /** Host header [url { virtualhost }]. @default the check's host */
  host?: string;
  /** Accepted status codes [status_code]; empty = the default. @default 200-299 */
  statusCodes: readonly StatusRange[];
  /** [regex]. @default none */
  bodyRegex?: string;
  /** [regex_no_match]. @default false */
  regexNoMatch?: boolean;
  /** [digest]. @default none */
  digest?: string;
}

/** HTTP_GET / SSL_GET: one GET on a fresh connection; passes (L7OK) when status, regex and digest all agree. */
export interface HttpProbe {
  kind: 'http';
  /** HTTPS (SSL_GET) rather than HTTP (HTTP_GET). */
  tls: boolean;
  /** Address to connect to [connect_ip]. */
  addr: string;
  /** Port to connect to [connect_port]. */
  port: number;
  /** Request path with query [url { path }]. @default '/' (set by the caller) */
  path: string;
  /** Host header [virtualhost]. @default the address (and port when not the scheme's default) */
  host?: string;
  /** TLS server name [sni_name / enable_sni]. @default `host` when it is a DNS name, else no SNI */
  sni?: string;
  /** Accepted status codes [status_code]; an empty list means the default. @default 200-299 */
  statusCodes: readonly StatusRange[];
  /** JavaScript regular expression the body must match [regex]. @default none */
  bodyRegex?: string;
  /** Fail when the body matches `bodyRegex` instead [regex_no_match]. @default false */
  regexNoMatch?: boolean;
  /** MD5 of the body, hex, as `genhash` prints it [digest]. @default none */
  digest?: string;
  /** The whole check, connect to last body byte, must end within this (L7TOUT) [connect_timeout]. @default 5000 */
  timeoutMs: number;
  /** Connecting alone must end within this (L4TOUT). @default timeoutMs */
  connectTimeoutMs?: number;
  /** Verify the server's certificate. keepalived's SSL_GET does not. @default false */
  rejectUnauthorized?: boolean;
  /** Source address of the check connection [bindto]. @default chosen by the kernel */
  bindAddr?: string;
  /** Most body bytes read for regex/digest; a longer body fails the check (L7RSP). @default 1048576 */
  maxBodyBytes?: number;
  /**
   * Further urls, each GET on a fresh connection after the first one passed; the check passes only when every url
   * does (keepalived: every `url` block of one HTTP_GET must pass). @default none
   */
  urls?: readonly HttpUrl[];
}

/** MISC_CHECK: a command; exit 0 passes (PROCOK). @see keepalived.conf(5) MISC_CHECK */
export interface ScriptProbe {
  kind: 'script';
  /** Command line (split without a shell) or argv [misc_path]. */
  command: string | readonly string[];
  /** Kill the command's process group after this long (PROCTOUT) [misc_timeout]. @default intervalMs */
  timeoutMs: number;
  /** Exit 1 fails, 2..255 pass with weight code − 2 [misc_dynamic]. @default false */
  dynamic: boolean;
  /** Run as this user id [user]; the daemon resolves names. @default the daemon's */
  uid?: number;
  /** Run with this group id [user … group]. @default the user's */
  gid?: number;
  /** Environment of the command. @default the daemon's */
  env?: Readonly<Record<string, string>>;
  /** Why this check cannot run at all (its `user` does not exist): every run fails with PROCERR and this detail. */
  refuse?: string;
}

/**
 * UDP_CHECK: sends `payload` in one datagram on a connected UDP socket. Without `requireReply` the check passes
 * unless an ICMP port unreachable comes back within the timeout (L4CON); with it a reply must come (else L4TOUT),
 * its length within `minReplyLength..maxReplyLength` and, when `reply` is given, its first bytes equal to it where
 * `replyMask` has zero bits (else L7RSP).
 * @see keepalived check_udp.c udp_check_thread, check_udp_reply; keepalived.conf(5) UDP_CHECK
 */
export interface UdpProbe {
  kind: 'udp';
  addr: string;
  port: number;
  /** Datagram sent [payload]; empty when none. @default empty */
  payload: Uint8Array;
  /** A reply is needed [require_reply]. @default false */
  requireReply: boolean;
  /** Expected leading bytes of the reply [require_reply HEX]. @default any */
  reply?: Uint8Array;
  /** Bits of `reply` that may differ (the nibbles written as x). @default none */
  replyMask?: Uint8Array;
  /** [min_reply_length]. @default 0 */
  minReplyLength: number;
  /** [max_reply_length]. @default 255 */
  maxReplyLength: number;
  /** Wait this long for an answer [connect_timeout]. @default 5000 */
  timeoutMs: number;
  /** Source address [bindto]. @default chosen by the kernel */
  bindAddr?: string;
}

/** PING_CHECK: one ICMP (ICMPv6) echo request; an echo reply within the timeout passes (L4OK). */
export interface PingProbe {
  kind: 'ping';
  addr: string;
  /** Wait this long for the echo reply (L4TOUT) [connect_timeout]. @default 5000 */
  timeoutMs: number;
  /** Source address [bindto]. @default chosen by the kernel */
  bindAddr?: string;
}

/** One SMTP server an SMTP_CHECK talks to: the check's own target, or a `host { … }` block. */
export interface SmtpHost {
  addr: string;
  port: number;
  bindAddr?: string;
  /** Per host [host { connect_timeout }]. @default the check's */
  timeoutMs?: number;
}

/**
 * SMTP_CHECK: for each host in turn, connect, read a 220 greeting, send `HELO helo_name`, read a 250, send QUIT.
 * Every host must pass (keepalived makes one checker per host block, and a real server needs all its checkers).
 * @see keepalived check_smtp.c smtp_engine_thread
 */
export interface SmtpProbe {
  kind: 'smtp';
  hosts: readonly SmtpHost[];
  /** [helo_name]. @default 'smtpchecker.keepalived.org' (keepalived's SMTP_DEFAULT_HELO) */
  heloName: string;
  /** Each host's whole dialogue must end within this (L7TOUT; connect: L4TOUT) [connect_timeout]. @default 5000 */
  timeoutMs: number;
}

/** keepalived's default helo_name. @see keepalived check_smtp.h SMTP_DEFAULT_HELO */
export const SMTP_DEFAULT_HELO = 'smtpchecker.keepalived.org';

/** The query types keepalived's DNS_CHECK knows, with their numbers. @see keepalived check_dns.c DNS_TYPE */
export const DNS_TYPES = { A: 1, NS: 2, CNAME: 5, SOA: 6, MX: 15, TXT: 16, AAAA: 28, RRSIG: 46, DNSKEY: 48 } as const;

/** A DNS_CHECK query type. */
export type DnsType = keyof typeof DNS_TYPES;

/**
 * DNS_CHECK: one query over UDP (recursion desired); a response with the query's id, QR set and RCODE 0 passes
 * (L7OK); another RCODE fails (L7STS); no response in time fails (L7TOUT).
 * @see keepalived check_dns.c dns_recv_thread
 */
export interface DnsProbe {
  kind: 'dns';
  addr: string;
  /** @default 53 (set by the caller when the real server has no port) */
  port: number;
  /** [type]. @default 'SOA' */
  type: DnsType;
  /** [name]; '' or '.' is the root. @default '' */
  name: string;
  /** [connect_timeout]. @default 5000 */
  timeoutMs: number;
  bindAddr?: string;
}

/**
 * FILE_CHECK: the number in a track file decides. With weight 0 any value but 0 is a fault; otherwise the value
 * times the weight (negated by reverse) is added to the server's weight, and a result at or below −254 is a fault.
 * A missing or unreadable file counts as 0, as keepalived's track files do.
 * @see keepalived check_file.c, track_file.c; keepalived.conf(5) FILE_CHECK
 */
export interface FileProbe {
  kind: 'file';
  path: string;
  /** [weight]. @default 0 (the track_file's own) */
  weight: number;
  /** [weight N reverse]. @default false */
  reverse: boolean;
  /** The real server's configured weight, to which the file's contribution is added. */
  baseWeight: number;
}

/** What one check run does: the probe part of a CheckSpec. */
export type Probe = TcpProbe | HttpProbe | ScriptProbe | UdpProbe | PingProbe | SmtpProbe | DnsProbe | FileProbe;

/**
 * When checks run and how results count. keepalived retry semantics: a failed check of a server that is up (or not
 * yet known) is run again up to `retries` times, `delayBeforeRetryMs` apart, and only when every retry has failed too
 * does the failure count; a pass at any point ends the retries. A server already down is not retried.
 * @see keepalived check_tcp.c tcp_epilog, check_misc.c misc_check_child_thread, check_dns.c dns_final
 *   (`if (checker->is_up || !checker->has_run) { if (checker->retry_it < checker->retry) … delay_before_retry`)
 * @see keepalived.conf(5) "retry: Retry count to make additional checks if check of an alive server fails"
 */
export interface CheckTiming {
  /** Time between check starts [delay_loop]; HAProxy `inter`. @default 60000 */
  intervalMs: number;
  /** Consecutive counted passes that bring a DOWN target UP; HAProxy `rise`. @default 1 (keepalived has no rise) */
  rise: number;
  /** Consecutive counted failures that bring an UP target DOWN; HAProxy `fall`. @default 1 (keepalived) */
  fall: number;
  /** Extra attempts before a failure counts [retry, nb_get_retry]. @default 1; MISC_CHECK 0 */
  retries: number;
  /** Wait between a failed attempt and its retry [delay_before_retry]. @default 3000 for HTTP, 1000 otherwise */
  delayBeforeRetryMs: number;
  /** The first check starts after a random delay in 0..warmupMs [warmup]; 0 starts at once. @default intervalMs */
  warmupMs: number;
  /** Start DOWN, needing `rise` passes, instead of unknown [alpha]. @default false */
  alpha?: boolean;
}

/** A complete check: what to probe and when. */
export type CheckSpec = Probe & CheckTiming;

/**
 * keepalived's defaults for the timing of a check of `kind` (delay_loop 60 s, retry 1 — MISC_CHECK 0 —,
 * delay_before_retry 3 s for HTTP_GET/SSL_GET and 1 s otherwise, warmup up to delay_loop, rise = fall = 1).
 * @see keepalived.conf(5) virtual_server: retry, delay_before_retry, warmup, delay_loop
 * @example const spec: CheckSpec = { ...checkTimingDefaults('tcp', 6_000), kind: 'tcp', addr, port, connectTimeoutMs: 3_000 }
 */
export function checkTimingDefaults(kind: Probe['kind'], intervalMs = 60_000): CheckTiming {
  return {
    intervalMs,
    rise: 1,
    fall: 1,
    retries: kind === 'script' ? 0 : kind === 'dns' ? 3 : 1,
    delayBeforeRetryMs: kind === 'http' ? 3_000 : 1_000,
    warmupMs: intervalMs,
  };
}

/** How long reading a FILE_CHECK file may take. @default 1000 */
export const FILE_CHECK_TIMEOUT_MS = 1_000;

/** The timeout the probe itself enforces (what a run must finish within, before the scheduler's guard). */
export function probeTimeoutMs(p: Probe): number {
  switch (p.kind) {
    case 'tcp':
      return p.connectTimeoutMs;
    case 'http':
      // Every url is a request of its own, each bounded by the timeout.
      return p.timeoutMs * (1 + (p.urls?.length ?? 0));
    case 'smtp':
      return p.hosts.reduce((sum, h) => sum + (h.timeoutMs ?? p.timeoutMs), 0);
    case 'script':
    case 'udp':
    case 'ping':
    case 'dns':
      return p.timeoutMs;
    case 'file':
      return FILE_CHECK_TIMEOUT_MS;
  }
}

/** The code for "no result in time" for a probe kind (L4TOUT, L7TOUT, PROCTOUT, FILEERR). */
export function timeoutCode(kind: Probe['kind']): CheckResultCode {
  switch (kind) {
    case 'tcp':
    case 'udp':
    case 'ping':
      return 'L4TOUT';
    case 'http':
    case 'smtp':
    case 'dns':
      return 'L7TOUT';
    case 'script':
      return 'PROCTOUT';
    case 'file':
      return 'FILEERR';
  }
}

/** `200-299 503` for a detail line. */
export function formatStatusRanges(ranges: readonly StatusRange[]): string {
  return ranges.map((r) => (r.from === r.to ? String(r.from) : `${r.from}-${r.to}`)).join(' ');
}

/** `198.18.1.12:80`, or `[2001:db8::12]:80` for IPv6, the way log lines name an endpoint. */
export function hostPort(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}
