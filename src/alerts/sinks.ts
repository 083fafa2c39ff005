/**
 * The two real sinks: e-mail through an SMTP relay (nodemailer; keepalived's plain SMTP by default, STARTTLS and
 * AUTH when configured) and webhooks (a JSON POST signed with HMAC-SHA256 over the body). Secrets arrive as values
 * (the daemon reads their 0600 files) and never reach a log line or an error message.
 */
import { createHmac } from 'node:crypto';
import { createTransport } from 'nodemailer';
import type { SmtpSpec, WebhookSpec } from '../config/schema-alerts.ts';
import type { AlertSink } from './dispatcher.ts';
import { type AlertMessage, webhookBody } from './render.ts';

/** The signature header of a webhook body: `sha256=` and the hex HMAC-SHA256 of the exact bytes sent. */
export function signBody(secret: string | Uint8Array, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Rejects when `signal` aborts, so that a sender that cannot be cancelled still lets the queue move on. */
function raced<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** The e-mail sink: one SMTP transaction per message (as keepalived), to every recipient. */
export function smtpSink(opts: {
  smtp: SmtpSpec;
  from: string;
  to: string[];
  heloName: string;
  /** The AUTH password, read from smtp.password_file. */
  password?: string;
  /** The CA bundle, read from smtp.ca_file. */
  ca?: string;
  retries?: number;
}): AlertSink {
  const { smtp } = opts;
  const transport = createTransport({
    host: smtp.server,
    port: smtp.port,
    secure: smtp.tls,
    ignoreTLS: smtp.starttls === 'off',
    requireTLS: smtp.starttls === 'required',
    name: opts.heloName,
    connectionTimeout: smtp.connect_timeout,
    greetingTimeout: smtp.connect_timeout,
    socketTimeout: smtp.connect_timeout,
    ...(smtp.user ? { auth: { user: smtp.user, pass: opts.password ?? '' } } : {}),
    ...(opts.ca ? { tls: { ca: opts.ca } } : {}),
    // nodemailer's own logger stays off: its debug output would carry the AUTH exchange.
    logger: false,
    debug: false,
  });
  return {
    name: 'email',
    kind: 'email',
    retries: opts.retries ?? 3,
    backoffMs: 5_000,
    maxBackoffMs: 60_000,
    // The whole transaction: connect, greeting and each reply each have connect_timeout (nodemailer).
    timeoutMs: smtp.connect_timeout * 4,
    async send(m: AlertMessage, signal: AbortSignal): Promise<void> {
      await raced(
        transport.sendMail({
          from: opts.from,
          to: opts.to,
          subject: m.subject,
          text: `${m.body}\n`,
          date: new Date(m.wallMs),
          headers: { 'X-Mailer': 'tandem (keepalived smtp_alert)' },
        }),
        signal,
      );
    },
  };
}

/** Most bytes of a webhook's reply that are read (and thrown away). */
const REPLY_LIMIT = 64 * 1024;

/** A webhook sink. A reply outside 2xx is a failure (retried); the reply body is read up to 64 KiB and discarded. */
export function webhookSink(spec: WebhookSpec & { name: string }, routerId: () => string, secret?: string): AlertSink {
  return {
    name: spec.name,
    kind: 'webhook',
    retries: spec.retries,
    backoffMs: spec.backoff,
    maxBackoffMs: spec.max_backoff,
    timeoutMs: spec.timeout,
    async send(m: AlertMessage, signal: AbortSignal): Promise<void> {
      const body = webhookBody(routerId(), m);
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'user-agent': 'tandem-alerts',
        'x-tandem-delivery': m.id,
        'x-tandem-event': m.digest ? 'digest' : 'alert',
      };
      if (secret !== undefined) headers['x-tandem-signature'] = signBody(secret, body);
      const res = await fetch(spec.url, { method: 'POST', headers, body, signal, redirect: 'error' });
      let read = 0;
      if (res.body) {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          read += chunk.byteLength;
          if (read > REPLY_LIMIT) break;
        }
      }
      if (res.status < 200 || res.status > 299) throw new Error(`HTTP ${res.status} from ${new URL(spec.url).host}`);
    },
  };
}
