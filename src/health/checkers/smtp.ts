/**
 * SMTP_CHECK: for each host in turn, a TCP connection, the 220 greeting, `HELO name`, its 250, then QUIT (whose
 * reply is read but not judged, as keepalived). Every host must pass; the first failure is the result. Replies are
 * read line by line, multi-line replies (`250-…` … `250 …`) whole, each bounded in size; a connect failure is L4CON
 * or L4TOUT, a wrong code L7STS, garbage L7RSP, silence L7TOUT.
 * @see keepalived check_smtp.c smtp_engine_thread, smtp_get_status; RFC 5321 §4.2 (reply lines)
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { connectErrorCode, describeSocketError } from '../../core/socket-error.ts';
import { type CheckResult, hostPort, type SmtpHost, type SmtpProbe } from '../types.ts';

/** The most bytes one SMTP reply may take (RFC 5321 §4.5.3.1.5: a reply line is at most 512 octets). */
export const SMTP_MAX_REPLY_BYTES = 4_096;

/**
 * Runs one SMTP check over every host. Never rejects; an abort ends it at once with detail "aborted".
 * @example await runSmtpCheck({ kind: 'smtp', hosts: [{ addr: '127.0.0.1', port: 25 }], heloName: 'lb1', timeoutMs: 5_000 }, signal)
 */
export async function runSmtpCheck(spec: SmtpProbe, signal: AbortSignal): Promise<CheckResult> {
  const started = performance.now();
  let last: CheckResult = { code: 'L7OK', detail: 'no host to check', durationMs: 0 };
  for (const host of spec.hosts) {
    last = await smtpDialogue(host, spec.heloName, host.timeoutMs ?? spec.timeoutMs, signal);
    if (last.code !== 'L7OK') break;
  }
  const durationMs = Math.round(performance.now() - started);
  const detail =
    last.code === 'L7OK' && spec.hosts.length > 1 ? `${spec.hosts.length} hosts: ${last.detail}` : last.detail;
  return { ...last, detail, durationMs };
}

function smtpDialogue(host: SmtpHost, heloName: string, timeoutMs: number, signal: AbortSignal): Promise<CheckResult> {
  const started = performance.now();
  const ms = (): number => Math.round(performance.now() - started);
  const where = hostPort(host.addr, host.port);
  if (signal.aborted) return Promise.resolve({ code: 'L7RSP', detail: 'aborted', durationMs: 0 });
  return new Promise<CheckResult>((resolve) => {
    let settled = false;
    let connected = false;
    let step: 'greeting' | 'helo' | 'quit' = 'greeting';
    let buf = '';
    const done = (r: Omit<CheckResult, 'durationMs'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve({ ...r, durationMs: ms() });
    };
    const onAbort = (): void => done({ code: 'L7RSP', detail: 'aborted' });
    const timer = setTimeout(
      () =>
        done(
          connected
            ? { code: 'L7TOUT', detail: `${where}: no complete ${step} reply within ${timeoutMs} ms` }
            : { code: 'L4TOUT', detail: `${where}: connect timed out after ${timeoutMs} ms` },
        ),
      Math.max(0, timeoutMs),
    );
    signal.addEventListener('abort', onAbort, { once: true });
    let socket: net.Socket;
    try {
      socket = net.connect({
        host: host.addr,
        port: host.port,
        ...(host.bindAddr ? { localAddress: host.bindAddr } : {}),
      });
    } catch (e) {
      socket = new net.Socket();
      done({ code: 'SOCKERR', detail: describeSocketError(e) });
      return;
    }
    socket.setEncoding('latin1');
    socket.once('connect', () => {
      connected = true;
    });
    socket.on('error', (e) =>
      done(
        connected
          ? { code: 'L7RSP', detail: `${where}: ${describeSocketError(e)} during the ${step}` }
          : { code: connectErrorCode(e), detail: `${where}: ${describeSocketError(e)}` },
      ),
    );
    socket.on('end', () => {
      if (step === 'quit') done({ code: 'L7OK', detail: `${where}: HELO accepted` });
      else done({ code: 'L7RSP', detail: `${where}: the server closed the connection before its ${step} reply` });
    });
    socket.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > SMTP_MAX_REPLY_BYTES) {
        done({ code: 'L7RSP', detail: `${where}: ${step} reply longer than ${SMTP_MAX_REPLY_BYTES} bytes` });
        return;
      }
      for (;;) {
        const reply = takeReply(buf);
        if (!reply) return;
        buf = reply.rest;
        if (reply.code === undefined) {
          done({ code: 'L7RSP', detail: `${where}: not an SMTP reply: ${JSON.stringify(reply.text.slice(0, 60))}` });
          return;
        }
        if (step === 'greeting') {
          if (reply.code !== 220) {
            done({
              code: 'L7STS',
              detail: `${where}: greeting ${reply.code}, expected 220: ${reply.text.slice(0, 80)}`,
            });
            return;
          }
          step = 'helo';
          socket.write(`HELO ${heloName}\r\n`);
        } else if (step === 'helo') {
          if (reply.code !== 250) {
            done({
              code: 'L7STS',
              detail: `${where}: HELO answered ${reply.code}, expected 250: ${reply.text.slice(0, 80)}`,
            });
            return;
          }
          step = 'quit';
          socket.write('QUIT\r\n');
        } else {
          done({ code: 'L7OK', detail: `${where}: HELO accepted` });
          return;
        }
      }
    });
  });
}

/**
 * The first complete reply in `buf` (every line up to one whose code is followed by a space or ends the line), its
 * code (undefined when a line does not start with three digits), and the rest. Pure.
 */
export function takeReply(buf: string): { code: number | undefined; text: string; rest: string } | undefined {
  let at = 0;
  for (;;) {
    const nl = buf.indexOf('\n', at);
    if (nl === -1) return undefined;
    const line = buf.slice(at, nl).replace(/\r$/, '');
    const m = /^(\d{3})([ -]|$)/.exec(line);
    if (!m) return { code: undefined, text: line, rest: buf.slice(nl + 1) };
    at = nl + 1;
    if (m[2] !== '-') return { code: Number(m[1]), text: buf.slice(0, nl).replace(/\r$/, ''), rest: buf.slice(at) };
  }
}
