// The cluster CA and mutual TLS on 127.0.0.1, with real openssl and real TLS sockets.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { listenPeerHttps, peerRequest } from '../os/peer-https.ts';
import { answerJoin, caFingerprint, clusterInit, clusterJoin } from './identity.ts';

test('init makes a CA and a node certificate; a node joins with the token over TLS pinned to the CA; mutual TLS then names each peer', {
  timeout: 60_000,
}, async () => {
  const root = mkdtempSync(join(tmpdir(), `t13c-${process.pid}-`));
  try {
    const d1 = join(root, 'd1');
    const init = await clusterInit(d1, 'd1', 't13c', Date.now());
    for (const f of ['ca.key', 'node.key', 'join-tokens.json'])
      assert.equal(statSync(join(d1, f)).mode & 0o777, 0o600, f);
    const ca = readFileSync(join(d1, 'ca.crt'), 'utf8');
    assert.equal(init.fingerprint, caFingerprint(ca));
    assert.ok(new X509Certificate(ca).ca);
    const tls1 = {
      ca,
      cert: readFileSync(join(d1, 'node.crt'), 'utf8'),
      key: readFileSync(join(d1, 'node.key'), 'utf8'),
    };
    assert.equal(new X509Certificate(tls1.cert).subject, 'CN=d1');

    const seen: (string | undefined)[] = [];
    const l = await listenPeerHttps('127.0.0.1', 0, tls1, async (req) => {
      if (req.path === '/peer/v1/ca') return { status: 200, body: { ca } };
      if (req.path === '/peer/v1/join') {
        const r = await answerJoin(d1, req.body, Date.now());
        return r.ok ? { status: 200, body: r } : { status: 403, body: r };
      }
      seen.push(req.peer);
      return req.peer ? { status: 200, body: { hello: req.peer } } : { status: 401, body: { message: 'no cert' } };
    });
    const url = `https://127.0.0.1:${l.port}`;
    try {
      // A forged fingerprint: refused before the token is sent.
      await assert.rejects(
        clusterJoin(join(root, 'x'), url, init.token.replace(/\.[0-9a-f]{64}$/, `.${'a'.repeat(64)}`), 'd2'),
        /TND_CLUSTER_JOIN|not the a{64}/,
      );
      const d2 = join(root, 'd2');
      await clusterJoin(d2, url, init.token, 'd2');
      assert.equal(statSync(join(d2, 'node.key')).mode & 0o777, 0o600);
      const tls2 = {
        ca: readFileSync(join(d2, 'ca.crt'), 'utf8'),
        cert: readFileSync(join(d2, 'node.crt'), 'utf8'),
        key: readFileSync(join(d2, 'node.key'), 'utf8'),
      };
      assert.equal(new X509Certificate(tls2.cert).subject, 'CN=d2');
      assert.ok(new X509Certificate(tls2.cert).verify(new X509Certificate(ca).publicKey));
      // The token was for one join.
      await assert.rejects(clusterJoin(join(root, 'd3'), url, init.token, 'd3'), /wrong, used or expired/);

      const r = await peerRequest(url, tls2, 'GET', '/peer/v1/head');
      assert.ok(r.ok && r.status === 200 && r.peer === 'd1');
      assert.deepEqual(r.body, { hello: 'd2' });
      // No client certificate: the handler sees no peer.
      const anon = await peerRequest(url, { ca }, 'GET', '/peer/v1/head');
      assert.ok(anon.ok && anon.status === 401);
      // A certificate from another CA: not trusted either way.
      const other = join(root, 'other');
      await clusterInit(other, 'd9', 'evil', Date.now());
      const tlsEvil = {
        ca: readFileSync(join(other, 'ca.crt'), 'utf8'),
        cert: readFileSync(join(other, 'node.crt'), 'utf8'),
        key: readFileSync(join(other, 'node.key'), 'utf8'),
      };
      const evil = await peerRequest(url, tlsEvil, 'GET', '/peer/v1/head');
      assert.equal(evil.ok, false, 'the server certificate is not signed by the evil CA');
      const evil2 = await peerRequest(url, { ...tlsEvil, ca }, 'GET', '/peer/v1/head');
      assert.ok(evil2.ok && evil2.status === 401);
      assert.deepEqual(seen, ['d2', undefined, undefined]);
    } finally {
      await l.close();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
