/**
 * The cluster's identity: a CA made once by `tandem cluster init`, and a certificate per node signed by it.
 *
 * Join flow: `init` prints a one-time join token `tj1.SECRET.FINGERPRINT` (128-bit secret, sha256 of the CA
 * certificate). On the new node `tandem cluster join https://FIRST:PORT --token T --name NODE` fetches the CA from the
 * first node's peer listener, refuses unless its fingerprint is the pinned one and the listener's own certificate is
 * signed by it, then — trusting only that CA — sends its CSR with the token. The first node checks the token (stored
 * as a hash, 0600, used once, expires after a day), signs the CSR for NODE and returns the certificate. The CA key
 * never leaves the first node; the token's secret is never stored.
 */
import { createHash, randomBytes, timingSafeEqual, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TandemError } from '../core/errors.ts';
import { caCertificate, newKey, requestSubject, signingRequest, signNode } from '../os/openssl.ts';
import { peerRequest } from '../os/peer-https.ts';
import { writeSecretFile } from '../os/secret-file.ts';

/** How long a join token stays good. @default 24 h */
export const JOIN_TOKEN_TTL_MS = 24 * 3600_000;
const TOKENS = 'join-tokens.json';

/** sha256 of a certificate's DER, lowercase hex: what a join token pins. */
export function caFingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase();
}

/** Splits a join token. */
export function parseJoinToken(token: string): { secret: string; fingerprint: string } | undefined {
  const m = /^tj1\.([0-9a-f]{32})\.([0-9a-f]{64})$/.exec(token.trim());
  return m ? { secret: m[1]!, fingerprint: m[2]! } : undefined;
}

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

interface StoredToken {
  hash: string;
  expires: number;
}

function readTokens(dir: string): StoredToken[] {
  try {
    const v = JSON.parse(readFileSync(join(dir, TOKENS), 'utf8')) as unknown;
    return Array.isArray(v) ? (v as StoredToken[]).filter((t) => typeof t?.hash === 'string') : [];
  } catch {
    return [];
  }
}

/** Makes a new one-time join token (on the node holding the CA key). */
export function newJoinToken(dir: string, nowMs: number): string {
  const ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
  const secret = randomBytes(16).toString('hex');
  const tokens = readTokens(dir).filter((t) => t.expires > nowMs);
  tokens.push({ hash: sha(secret), expires: nowMs + JOIN_TOKEN_TTL_MS });
  writeSecretFile(join(dir, TOKENS), JSON.stringify(tokens));
  return `tj1.${secret}.${caFingerprint(ca)}`;
}

/** Consumes a token: true when it was good (and now is used up). */
export function useJoinToken(dir: string, token: string, nowMs: number): boolean {
  const t = parseJoinToken(token);
  if (!t) return false;
  const h = Buffer.from(sha(t.secret), 'hex');
  const tokens = readTokens(dir).filter((x) => x.expires > nowMs);
  const i = tokens.findIndex((x) => {
    const b = Buffer.from(x.hash, 'hex');
    return b.length === h.length && timingSafeEqual(b, h);
  });
  if (i < 0) return false;
  tokens.splice(i, 1);
  writeSecretFile(join(dir, TOKENS), JSON.stringify(tokens));
  return true;
}

/** What `tandem cluster init` made. */
export interface InitResult {
  dir: string;
  fingerprint: string;
  token: string;
}

/** `tandem cluster init`: the CA (ca.key 0600, ca.crt), this node's key and certificate, a first join token. */
export async function clusterInit(dir: string, node: string, clusterName: string, nowMs: number): Promise<InitResult> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    readFileSync(join(dir, 'ca.crt'));
    throw new TandemError(
      'TND_CLUSTER_TLS',
      `${dir} already holds a cluster CA (ca.crt); remove the directory to start over`,
    );
  } catch (e) {
    if (e instanceof TandemError) throw e;
  }
  const caKey = newKey();
  const caCert = await caCertificate(caKey, `${clusterName} cluster CA`.replace(/\s+/g, '-'));
  writeSecretFile(join(dir, 'ca.key'), caKey);
  writeSecretFile(join(dir, 'ca.crt'), caCert);
  const key = newKey();
  const cert = await signNode(await signingRequest(key, node), caCert, caKey, node);
  writeSecretFile(join(dir, 'node.key'), key);
  writeSecretFile(join(dir, 'node.crt'), cert);
  return { dir, fingerprint: caFingerprint(caCert), token: newJoinToken(dir, nowMs) };
}

/** The join request a node sends. */
export interface JoinRequest {
  token: string;
  name: string;
  csr: string;
}

/**
 * The first node's side of a join: checks the token and signs the CSR for the name it asks (the CSR's own CN must
 * be that name). Returns the certificate and the CA, or why not.
 */
export async function answerJoin(
  dir: string,
  body: unknown,
  nowMs: number,
): Promise<{ ok: true; cert: string; ca: string } | { ok: false; message: string }> {
  const b = body as Partial<JoinRequest> | undefined;
  if (typeof b?.token !== 'string' || typeof b.name !== 'string' || typeof b.csr !== 'string')
    return { ok: false, message: 'a join needs token, name and csr' };
  let caKey: string;
  let caCert: string;
  try {
    caKey = readFileSync(join(dir, 'ca.key'), 'utf8');
    caCert = readFileSync(join(dir, 'ca.crt'), 'utf8');
  } catch {
    return {
      ok: false,
      message: 'this node does not hold the cluster CA key; join through the node that ran cluster init',
    };
  }
  if (!useJoinToken(dir, b.token, nowMs)) return { ok: false, message: 'the join token is wrong, used or expired' };
  try {
    const cn = await requestSubject(b.csr);
    if (cn !== b.name) return { ok: false, message: `the signing request names ${cn}, not ${b.name}` };
    return { ok: true, cert: await signNode(b.csr, caCert, caKey, b.name), ca: caCert };
  } catch (e) {
    return { ok: false, message: (e as Error).message };
  }
}

/** `tandem cluster join URL --token T --name NODE`: gets this node's certificate from the first node. */
export async function clusterJoin(
  dir: string,
  url: string,
  token: string,
  node: string,
): Promise<{ fingerprint: string }> {
  const t = parseJoinToken(token);
  if (!t) throw new TandemError('TND_CLUSTER_JOIN', 'the token is not a tandem join token (tj1.SECRET.FINGERPRINT)');
  // 1. The CA, over a connection that trusts nothing yet: believed only if it is the pinned one and the listener's
  // certificate is signed by it.
  const r = await peerRequest(url, { insecure: true }, 'GET', '/peer/v1/ca');
  if (!r.ok) throw new TandemError('TND_CLUSTER_PEER', r.message);
  const ca = (r.body as { ca?: unknown } | undefined)?.ca;
  if (typeof ca !== 'string') throw new TandemError('TND_CLUSTER_PEER', `${url} did not send a CA certificate`);
  const fp = caFingerprint(ca);
  if (fp !== t.fingerprint)
    throw new TandemError('TND_CLUSTER_JOIN', `${url} presents CA ${fp}, not the ${t.fingerprint} the token pins`);
  if (
    !r.peerCert ||
    !new X509Certificate(r.peerCert).checkIssued(new X509Certificate(ca)) ||
    !new X509Certificate(r.peerCert).verify(new X509Certificate(ca).publicKey)
  )
    throw new TandemError('TND_CLUSTER_JOIN', `${url}'s certificate is not signed by the pinned CA`);
  // 2. The join itself, trusting only that CA.
  const key = newKey();
  const csr = await signingRequest(key, node);
  const j = await peerRequest(url, { ca }, 'POST', '/peer/v1/join', { token, name: node, csr } satisfies JoinRequest);
  if (!j.ok) throw new TandemError('TND_CLUSTER_PEER', j.message);
  const jb = j.body as { cert?: unknown; message?: unknown } | undefined;
  if (j.status !== 200 || typeof jb?.cert !== 'string')
    throw new TandemError('TND_CLUSTER_JOIN', `${url} refused the join: ${String(jb?.message ?? j.status)}`);
  if (!new X509Certificate(jb.cert).verify(new X509Certificate(ca).publicKey))
    throw new TandemError('TND_CLUSTER_JOIN', 'the certificate returned is not signed by the cluster CA');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeSecretFile(join(dir, 'ca.crt'), ca);
  writeSecretFile(join(dir, 'node.key'), key);
  writeSecretFile(join(dir, 'node.crt'), jb.cert);
  return { fingerprint: fp };
}
