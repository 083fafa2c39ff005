/** The CLI side of the control socket. */
import { request } from 'node:http';
import { DEFAULT_CONTROL_SOCKET } from './contract.ts';

/** The socket to talk to: --control, then $TANDEM_CONTROL, then the default. */
export function controlPath(flag?: string): string {
  return flag ?? process.env.TANDEM_CONTROL ?? DEFAULT_CONTROL_SOCKET;
}

/** A reply from the daemon, or why there is none. */
export type ControlReply =
  | { ok: true; status: number; body: unknown }
  | { ok: false; error: 'no-daemon' | 'timeout' | 'bad-reply'; message: string };

/** Sends one request to the daemon. Never throws. */
export function callDaemon(
  socketPath: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  timeoutMs = 10_000,
): Promise<ControlReply> {
  return new Promise((resolve) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        socketPath,
        method,
        path,
        headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {},
        timeout: timeoutMs,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => {
          try {
            resolve({ ok: true, status: res.statusCode ?? 0, body: JSON.parse(text) });
          } catch {
            resolve({
              ok: false,
              error: 'bad-reply',
              message: `the daemon answered something that is not JSON: ${text.slice(0, 200)}`,
            });
          }
        });
      },
    );
    req.on('timeout', () => {
      req.destroy();
      resolve({
        ok: false,
        error: 'timeout',
        message: `the daemon at ${socketPath} did not answer within ${timeoutMs} ms`,
      });
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      const why = e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? 'is tandem running?' : e.message;
      resolve({
        ok: false,
        error: 'no-daemon',
        message: `cannot reach the daemon at ${socketPath} (${e.code ?? 'error'}): ${why}`,
      });
    });
    if (payload) req.write(payload);
    req.end();
  });
}

/** issue 12, metrics: a reply that is text (`GET /v1/metrics`), or why there is none. */
export type TextReply =
  | { ok: true; status: number; text: string }
  | { ok: false; error: 'no-daemon' | 'timeout' | 'bad-reply'; message: string };

/** GETs a text reply from the daemon, at most `maxBytes`. Never throws. */
export function getDaemonText(
  socketPath: string,
  path: string,
  timeoutMs = 10_000,
  maxBytes = 16 << 20,
): Promise<TextReply> {
  return new Promise((resolve) => {
    const req = request({ socketPath, method: 'GET', path, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
        if (text.length > maxBytes) {
          req.destroy();
          resolve({ ok: false, error: 'bad-reply', message: `the daemon's reply is larger than ${maxBytes} bytes` });
        }
      });
      res.on('end', () => resolve({ ok: true, status: res.statusCode ?? 0, text }));
    });
    req.on('timeout', () => {
      req.destroy();
      resolve({
        ok: false,
        error: 'timeout',
        message: `the daemon at ${socketPath} did not answer within ${timeoutMs} ms`,
      });
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      const why = e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? 'is tandem running?' : e.message;
      resolve({
        ok: false,
        error: 'no-daemon',
        message: `cannot reach the daemon at ${socketPath} (${e.code ?? 'error'}): ${why}`,
      });
    });
    req.end();
  });
}
