/**
 * The authenticated request/response transport between nodes (the cluster's shared config): HTTPS with mutual TLS
 * under the cluster CA. The server asks every client for a certificate; a request whose client presented one the CA
 * signed carries the certificate's CN as `peer`, any other carries none, and the handler decides (only the join
 * routes answer a client without one: the joining node has no certificate yet). TLS 1.3 only, bodies bounded, every
 * request with a timeout.
 */
import { X509Certificate } from 'node:crypto';
import { createServer, request, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';

/** PEM texts of the CA, this node's certificate and key. */
export interface PeerTls {
  ca: string;
  cert: string;
  key: string;
}

/** One request as the handler sees it. */
export interface PeerRequest {
  method: string;
  path: string;
  body: unknown;
  /** The CN of the client's certificate, when the cluster CA signed it. */
  peer?: string;
  from: string;
}

/** The handler's answer: an HTTP status and a JSON body. */
export interface PeerReply {
  status: number;
  body: unknown;
}

/** Largest request or reply body. @default 4 MiB */
export const PEER_MAX_BODY = 4 * 1024 * 1024;

/** Starts a listener; resolves once it listens (rejects with the listen error). */
export async function listenPeerHttps(
  host: string,
  port: number,
  tls: PeerTls,
  handler: (req: PeerRequest) => Promise<PeerReply>,
): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer(
    { ...tls, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.3' },
    (req, res) => {
      const sock = req.socket as TLSSocket;
      const peer = sock.authorized ? (sock.getPeerCertificate().subject?.CN as string | undefined) : undefined;
      const chunks: Buffer[] = [];
      let size = 0;
      let over = false;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > PEER_MAX_BODY) {
          over = true;
          req.destroy();
        } else chunks.push(c);
      });
      req.on('end', () => {
        if (over) return;
        const send = (r: PeerReply) => {
          const text = JSON.stringify(r.body);
          res.writeHead(r.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
          res.end(text);
        };
        let body: unknown;
        try {
          body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
        } catch {
          return send({ status: 400, body: { code: 'TND_CTL_BAD_REQUEST', message: 'the body is not JSON' } });
        }
        handler({
          method: req.method ?? 'GET',
          path: req.url ?? '/',
          body,
          ...(peer ? { peer } : {}),
          from: sock.remoteAddress ?? '?',
        })
          .then(send)
          .catch((e: unknown) =>
            send({ status: 500, body: { code: 'TND_CTL_INTERNAL', message: `internal error: ${String(e)}` } }),
          );
      });
    },
  );
  server.requestTimeout = 15_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A reply from a peer (with the CN of its certificate), or why there is none. */
export type PeerResult =
  | { ok: true; status: number; body: unknown; peer: string | undefined; peerCert?: string }
  | { ok: false; message: string };

/** How to authenticate a request: the cluster's TLS, or (joining) none and the CA to trust, or nothing pinned. */
export type ClientTls = PeerTls | { ca: string } | { insecure: true };

/**
 * One request to `url` (https://ADDR:PORT) + `path`. With the cluster's TLS the peer must present a certificate the
 * cluster CA signed; its name is its CN (the CA signs only cluster nodes, so the address is not what is checked).
 * `insecure` trusts nothing and is only for fetching a CA that the caller then checks against a pinned fingerprint.
 * Never throws.
 */
export function peerRequest(
  url: string,
  tls: ClientTls,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  timeoutMs = 10_000,
): Promise<PeerResult> {
  return new Promise((resolve) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return resolve({ ok: false, message: `${url} is not a URL` });
    }
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const insecure = 'insecure' in tls;
    const req = request(
      {
        host: u.hostname.replace(/^\[|\]$/g, ''),
        port: Number(u.port || 443),
        method,
        path,
        ...(insecure ? { rejectUnauthorized: false } : { ...tls, rejectUnauthorized: true }),
        checkServerIdentity: () => undefined,
        minVersion: 'TLSv1.3',
        agent: false,
        timeout: timeoutMs,
        headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {},
      },
      (res) => {
        const sock = res.socket as TLSSocket;
        const cert = sock.getPeerCertificate?.();
        const peer = cert?.subject?.CN as string | undefined;
        const peerCert = cert?.raw ? new X509Certificate(cert.raw).toString() : undefined;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > PEER_MAX_BODY) {
            req.destroy();
            resolve({ ok: false, message: `${url}: the reply is larger than ${PEER_MAX_BODY} bytes` });
          } else chunks.push(c);
        });
        res.on('end', () => {
          try {
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({
              ok: true,
              status: res.statusCode ?? 0,
              body: text ? JSON.parse(text) : undefined,
              peer,
              ...(peerCert ? { peerCert } : {}),
            });
          } catch {
            resolve({ ok: false, message: `${url}: the reply is not JSON` });
          }
        });
      },
    );
    req.on('timeout', () => {
      req.destroy();
      resolve({ ok: false, message: `${url}: no answer within ${timeoutMs} ms` });
    });
    req.on('error', (e: NodeJS.ErrnoException) =>
      resolve({ ok: false, message: `${url}: ${e.code ?? ''} ${e.message}`.trim() }),
    );
    if (payload) req.write(payload);
    req.end();
  });
}
