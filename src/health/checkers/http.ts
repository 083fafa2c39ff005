/**
 * HTTP_GET / SSL_GET: one GET on a fresh connection (no keep-alive, no pool: `agent: false`, like keepalived), then
 * the status code, and when asked the body's MD5 `digest` and a `regex`. The result code names the layer that
 * failed: L4 (connect), L6 (TLS handshake), L7 (HTTP). A configured regex runs on a worker thread (`regex-matcher`),
 * so even a pathological one never blocks the event loop.
 * @see keepalived check_http.c, check_ssl.c; HAProxy "option httpchk" and "check-ssl" result codes
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { connectErrorCode, describeSocketError, errnoOf } from '../../core/socket-error.ts';
import {
  type CheckResult,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_STATUS_CODES,
  formatStatusRanges,
  type HttpProbe,
  hostPort,
} from '../types.ts';
import { type RegexMatcher, regexMatcher } from './regex-matcher.ts';

/** The User-Agent of check requests. */
export const CHECK_USER_AGENT = 'tandem-health-check';

/** Where a check run is when something happens to it: decides the layer of a failure. */
type Phase = 'connect' | 'tls' | 'response' | 'body';

/**
 * Runs one HTTP(S) GET check. Never rejects; an abort ends it at once with detail "aborted".
 * @example await runHttpCheck({ kind: 'http', tls: false, addr: '198.18.1.12', port: 80, path: '/health', statusCodes: DEFAULT_STATUS_CODES, timeoutMs: 3_000 }, signal)
 */
export function runHttpCheck(
  spec: HttpProbe,
  signal: AbortSignal,
  matcher: RegexMatcher = regexMatcher,
): Promise<CheckResult> {
  const started = performance.now();
  const ms = (): number => Math.round(performance.now() - started);
  if (signal.aborted) return Promise.resolve({ code: 'L7RSP', detail: 'aborted', durationMs: 0 });
  const timeoutMs = Math.max(0, spec.timeoutMs);
  const connectTimeoutMs = Math.min(timeoutMs, Math.max(0, spec.connectTimeoutMs ?? timeoutMs));
  const maxBody = spec.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const ranges = spec.statusCodes.length > 0 ? spec.statusCodes : DEFAULT_STATUS_CODES;
  const host = spec.host ?? defaultHost(spec);

  return new Promise<CheckResult>((resolve) => {
    let phase: Phase = 'connect';
    let settled = false;
    let req: http.ClientRequest | undefined;
    let connectTimer: NodeJS.Timeout | undefined;
    const done = (r: Omit<CheckResult, 'durationMs'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(overall);
      clearTimeout(connectTimer);
      signal.removeEventListener('abort', onAbort);
      req?.destroy();
      resolve({ ...r, durationMs: ms() });
    };
    const onAbort = (): void => done({ code: 'L7RSP', detail: 'aborted' });
    const overall = setTimeout(
      () => done(timedOut(phase, phase === 'connect' ? connectTimeoutMs : timeoutMs)),
      timeoutMs,
    );
    if (connectTimeoutMs < timeoutMs) {
      connectTimer = setTimeout(() => {
        if (phase === 'connect') done(timedOut('connect', connectTimeoutMs));
      }, connectTimeoutMs);
    }
    signal.addEventListener('abort', onAbort, { once: true });

    const options: https.RequestOptions = {
      host: spec.addr,
      port: spec.port,
      path: spec.path || '/',
      method: 'GET',
      // A fresh connection for every check, as keepalived makes: a pooled one would test the pool, not the server.
      agent: false,
      setHost: false,
      headers: { host, 'user-agent': CHECK_USER_AGENT, accept: '*/*', connection: 'close' },
      ...(spec.bindAddr ? { localAddress: spec.bindAddr } : {}),
    };
    if (spec.tls) {
      options.servername = serverName(spec.sni, host);
      options.rejectUnauthorized = spec.rejectUnauthorized ?? false;
    }
    try {
      req = (spec.tls ? https : http).request(options);
    } catch (e) {
      done({ code: 'SOCKERR', detail: describeSocketError(e) });
      return;
    }
    req.on('socket', (socket) => {
      socket.once('connect', () => {
        if (phase === 'connect') phase = spec.tls ? 'tls' : 'response';
      });
      if (spec.tls) {
        socket.once('secureConnect', () => {
          phase = 'response';
        });
      }
    });
    req.on('error', (e) => done(failed(phase, e)));
    req.on('response', (res) => {
      phase = 'body';
      const status = res.statusCode ?? 0;
      if (!ranges.some((r) => status >= r.from && status <= r.to)) {
        done({ code: 'L7STS', detail: `HTTP ${status}, expected ${formatStatusRanges(ranges)}` });
        return;
      }
      if (spec.bodyRegex === undefined && spec.digest === undefined) {
        done({ code: 'L7OK', detail: `HTTP ${status}` });
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBody) done({ code: 'L7RSP', detail: `HTTP ${status}, body larger than ${maxBody} bytes` });
        else chunks.push(chunk);
      });
      res.on('end', () => {
        if (settled) return;
        // The network part is over; the body check has its own bound (the regex budget).
        clearTimeout(overall);
        void checkBody(spec, status, Buffer.concat(chunks), matcher, signal).then(done);
      });
      res.on('aborted', () => done({ code: 'L7RSP', detail: 'connection closed while reading the body' }));
      res.on('error', (e) => done({ code: 'L7RSP', detail: `body not read: ${describeSocketError(e)}` }));
    });
    req.end();
  });
}

/** The result for a deadline that passed in `phase`. */
function timedOut(phase: Phase, afterMs: number): Omit<CheckResult, 'durationMs'> {
  switch (phase) {
    case 'connect':
      return { code: 'L4TOUT', detail: `connect timed out after ${afterMs} ms` };
    case 'tls':
      return { code: 'L6TOUT', detail: `TLS handshake timed out after ${afterMs} ms` };
    case 'response':
      return { code: 'L7TOUT', detail: `no response within ${afterMs} ms` };
    case 'body':
      return { code: 'L7TOUT', detail: `body not complete within ${afterMs} ms` };
  }
}

/** The result for an error in `phase`. */
function failed(phase: Phase, e: unknown): Omit<CheckResult, 'durationMs'> {
  const what = describeSocketError(e);
  switch (phase) {
    case 'connect':
      return { code: connectErrorCode(e), detail: what };
    case 'tls':
      return { code: 'L6RSP', detail: `TLS handshake failed: ${what}` };
    case 'response':
      if (errnoOf(e)?.startsWith('HPE_')) return { code: 'L7RSP', detail: `invalid HTTP response: ${what}` };
      // Node calls a close (FIN) before any response "socket hang up", with the code of a reset.
      if (e instanceof Error && e.message === 'socket hang up') {
        return { code: 'L7RSP', detail: 'no HTTP response: connection closed by the server' };
      }
      return { code: 'L7RSP', detail: `no HTTP response: ${what}` };
    case 'body':
      return { code: 'L7RSP', detail: `body not read: ${what}` };
  }
}

/** Digest, then regex, on a complete body. */
async function checkBody(
  spec: HttpProbe,
  status: number,
  body: Buffer,
  matcher: RegexMatcher,
  signal: AbortSignal,
): Promise<Omit<CheckResult, 'durationMs'>> {
  if (spec.digest !== undefined) {
    let actual: string;
    try {
      actual = createHash('md5').update(body).digest('hex');
    } catch (e) {
      // A FIPS-only OpenSSL refuses MD5.
      return { code: 'L7RSP', detail: `cannot compute the MD5 digest: ${describeSocketError(e)}` };
    }
    if (actual !== spec.digest.toLowerCase()) {
      return { code: 'L7RSP', detail: `HTTP ${status}, digest ${actual} expected ${spec.digest.toLowerCase()}` };
    }
  }
  if (spec.bodyRegex !== undefined) {
    const m = await matcher.match(spec.bodyRegex, body.toString('utf8'), signal);
    if (m === 'aborted') return { code: 'L7RSP', detail: 'aborted' };
    if (m === 'invalid') return { code: 'L7RSP', detail: `invalid regex /${spec.bodyRegex}/` };
    if (m === 'too-slow') {
      return { code: 'L7RSP', detail: `regex /${spec.bodyRegex}/ took longer than ${matcher.budgetMs} ms` };
    }
    if (spec.regexNoMatch && m) return { code: 'L7RSP', detail: `HTTP ${status}, body matches /${spec.bodyRegex}/` };
    if (!spec.regexNoMatch && !m) {
      return { code: 'L7RSP', detail: `HTTP ${status}, body does not match /${spec.bodyRegex}/` };
    }
  }
  return { code: 'L7OK', detail: `HTTP ${status}` };
}

/** The Host header when none is configured: the address, with the port unless it is the scheme's default. */
function defaultHost(spec: HttpProbe): string {
  const defaultPort = spec.tls ? 443 : 80;
  if (spec.port === defaultPort) return spec.addr.includes(':') ? `[${spec.addr}]` : spec.addr;
  return hostPort(spec.addr, spec.port);
}

/** The TLS server name: `sni`, else the Host header's name; never an IP address ('' sends no SNI). */
function serverName(sni: string | undefined, host: string): string {
  const name = sni ?? (host.startsWith('[') ? '' : host.replace(/:\d+$/, ''));
  return name && net.isIP(name) === 0 ? name : '';
}
