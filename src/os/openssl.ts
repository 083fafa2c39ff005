/**
 * Certificates for the cluster CA (`tandem cluster init/join`). node:crypto makes the keys (EC P-256) and reads and
 * verifies certificates (X509Certificate), but it cannot create or sign one; Debian's `openssl` does, run here with
 * a timeout. Keys reach it through files in a fresh 0700 temporary directory (mode 0600, removed at once): never on the
 * command line, and not on stdin, which for a child of Node is a socketpair that openssl cannot open as /dev/stdin.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TandemError } from '../core/errors.ts';
import { runCommand } from './process.ts';

const TIMEOUT_MS = 15_000;

/** Runs openssl with `files` written into a private temporary directory; `@name` in args is that file's path. */
async function openssl(args: string[], files: Record<string, string>): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-ssl-'));
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text, { mode: 0o600 });
    return await run(args.map((a) => (a.startsWith('@') ? join(dir, a.slice(1)) : a)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function run(args: string[]): Promise<string> {
  const r = await runCommand(['openssl', ...args], {
    timeoutMs: TIMEOUT_MS,
    signal: new AbortController().signal,
  });
  if (r.outcome !== 'ok') {
    const why =
      r.outcome === 'spawn-error' ? `cannot run openssl (${r.error}); install the openssl package` : r.stderr.trim();
    throw new TandemError('TND_CLUSTER_TLS', `openssl ${args[0]} failed: ${why}`);
  }
  return r.stdout;
}

/** A new private key, PEM (PKCS#8). */
export function newKey(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
    type: 'pkcs8',
    format: 'pem',
  }) as string;
}

const cnOk = (cn: string): string => {
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(cn)) throw new TandemError('TND_CLUSTER_JOIN', `bad name ${JSON.stringify(cn)}`);
  return cn;
};

/** A self-signed CA certificate for `key`, valid `days`. */
export function caCertificate(key: string, cn: string, days = 3650): Promise<string> {
  return openssl(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      '@key',
      '-subj',
      `/CN=${cnOk(cn)}`,
      '-days',
      String(days),
      '-addext',
      'basicConstraints=critical,CA:TRUE,pathlen:0',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    { key },
  );
}

/** A certificate signing request for `key` naming `cn`. */
export function signingRequest(key: string, cn: string): Promise<string> {
  return openssl(['req', '-new', '-key', '@key', '-subj', `/CN=${cnOk(cn)}`], { key });
}

/** The CN a CSR names, after checking its signature. */
export async function requestSubject(csr: string): Promise<string> {
  const out = await openssl(['req', '-verify', '-noout', '-subject', '-nameopt', 'multiline', '-in', '@csr'], { csr });
  const m = /commonName\s*=\s*(\S+)/.exec(out);
  if (!m) throw new TandemError('TND_CLUSTER_JOIN', 'the signing request names no CN');
  return m[1]!;
}

/**
 * Signs `csr` with the CA (`caCert`, `caKey` PEM) as a node certificate for client and server use, valid `days`.
 */
export function signNode(csr: string, caCert: string, caKey: string, cn: string, days = 825): Promise<string> {
  const ext =
    'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n' +
    `subjectAltName=DNS:${cnOk(cn)}\n`;
  return openssl(
    [
      'x509',
      '-req',
      '-in',
      '@csr',
      '-CA',
      '@ca.crt',
      '-CAkey',
      '@ca.key',
      '-set_serial',
      `0x${randomBytes(12).toString('hex')}`,
      '-days',
      String(days),
      '-extfile',
      '@ext',
    ],
    { csr, 'ca.crt': caCert, 'ca.key': caKey, ext },
  );
}
