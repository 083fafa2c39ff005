/**
 * The `Checker` contract: one run of one probe, bounded by the probe's own timeout and an AbortSignal (Rule 10), that
 * never rejects. `runProbe` dispatches to the real checkers; tests and the simulator pass their own.
 */
import { runDnsCheck } from './checkers/dns.ts';
import { runFileCheck } from './checkers/file.ts';
import { runHttpCheck } from './checkers/http.ts';
import { runPingCheck } from './checkers/ping.ts';
import { runScriptCheck } from './checkers/script.ts';
import { runSmtpCheck } from './checkers/smtp.ts';
import { runTcpCheck } from './checkers/tcp.ts';
import { runUdpCheck } from './checkers/udp.ts';
import type { CheckResult, HttpProbe, Probe } from './types.ts';

/**
 * Runs one check of `spec`. Must resolve (never reject) within the probe's timeout, and soon after `signal` fires;
 * a run ended by the signal resolves with detail "aborted" and a failing code that means nothing (callers drop it).
 * @see HAProxy src/check.c (one check task per server); keepalived check_api.c (one checker thread per checker)
 */
export type Checker<P extends Probe = Probe> = (spec: P, signal: AbortSignal) => Promise<CheckResult>;

/**
 * The real checker for any probe: TCP_CHECK, HTTP_GET/SSL_GET, MISC_CHECK, UDP_CHECK, PING_CHECK, SMTP_CHECK,
 * DNS_CHECK or FILE_CHECK.
 * @example const r = await runProbe({ kind: 'tcp', addr: '198.18.1.12', port: 80, connectTimeoutMs: 3_000 }, signal)
 */
export const runProbe: Checker = (spec, signal) => {
  switch (spec.kind) {
    case 'tcp':
      return runTcpCheck(spec, signal);
    case 'http':
      return spec.urls?.length ? runHttpUrls(spec, signal) : runHttpCheck(spec, signal);
    case 'script':
      return runScriptCheck(spec, signal);
    case 'udp':
      return runUdpCheck(spec, signal);
    case 'ping':
      return runPingCheck(spec, signal);
    case 'smtp':
      return runSmtpCheck(spec, signal);
    case 'dns':
      return runDnsCheck(spec, signal);
    case 'file':
      return runFileCheck(spec, signal);
  }
};

/**
 * Several `url` blocks of one HTTP_GET / SSL_GET: each url in order on a fresh connection; the first failure is
 * the result (naming its path), and the check passes only when every url passes, as keepalived requires.
 * @see keepalived check_http.c http_handle_response (on success it moves to the next url; any failure fails)
 */
export async function runHttpUrls(
  spec: HttpProbe,
  signal: AbortSignal,
  run: Checker<HttpProbe> = runHttpCheck,
): Promise<CheckResult> {
  const { urls = [], ...first } = spec;
  const all: HttpProbe[] = [
    first,
    ...urls.map((u) => {
      const { host, bodyRegex, regexNoMatch, digest, ...base } = first;
      return {
        ...base,
        path: u.path,
        statusCodes: u.statusCodes,
        ...((u.host ?? host) !== undefined ? { host: (u.host ?? host)! } : {}),
        ...(u.bodyRegex !== undefined ? { bodyRegex: u.bodyRegex, regexNoMatch: u.regexNoMatch ?? false } : {}),
        ...(u.digest !== undefined ? { digest: u.digest } : {}),
      };
    }),
  ];
  let durationMs = 0;
  let last: CheckResult | undefined;
  for (const probe of all) {
    last = await run(probe, signal);
    durationMs += last.durationMs;
    if (!last.code.endsWith('OK')) return { ...last, detail: `${probe.path}: ${last.detail}`, durationMs };
  }
  return { ...last!, detail: `${all.length} urls: ${last!.detail}`, durationMs };
}
