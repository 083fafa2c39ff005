// Webhook alerts end to end (issue 12 item 5): a real `tandem run` (user-space proxy on 127.0.0.1, so no namespace
// is needed) health-checks a real server the test owns; the test stops and restarts it. The webhook receiver in the
// test answers 500 to the first delivery, checks the HMAC-SHA256 signature of every body with the secret from the
// 0600 file, and sees the retry carry the same delivery id; a flapping server then yields one digest, not a flood.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { callDaemon } from '../../src/api/client.ts';
import { eventually, Output } from '../netns/tandem-lab.ts';
import { writeAlertedConfig } from './alerts-lab.ts';

const root = new URL('../../', import.meta.url).pathname;
const TANDEM = join(root, 'bin/tandem');
const SECRET = 't12s-webhook-secret-0123456789';

interface Delivery {
  id: string;
  signatureOk: boolean;
  body: { type: string; subject: string; state: string; alerts: { state: string }[] };
  status: number;
}

function listen(server: Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function readBody(req: IncomingMessage, limit = 1 << 20): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) req.destroy(new Error('too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

test('webhook: HMAC-signed JSON, retried after a 500 with the same delivery id; a flapping server sends a digest', {
  timeout: 60_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), `t12s-${process.pid}-webhook-`));
  const children: ChildProcess[] = [];
  const deliveries: Delivery[] = [];
  let answered500 = false;
  const receiver = createHttpServer(async (req, res) => {
    const raw = await readBody(req);
    const sig = String(req.headers['x-tandem-signature'] ?? '');
    const want = `sha256=${createHmac('sha256', SECRET).update(raw).digest('hex')}`;
    const signatureOk = sig.length === want.length && timingSafeEqual(Buffer.from(sig), Buffer.from(want));
    const status = answered500 ? 200 : 500;
    answered500 = true;
    deliveries.push({ id: String(req.headers['x-tandem-delivery']), signatureOk, body: JSON.parse(raw), status });
    res.writeHead(status).end();
  });
  const hookPort = await new Promise<number>((resolve) =>
    receiver.listen(0, '127.0.0.1', () => resolve((receiver.address() as AddressInfo).port)),
  );
  let backend = createServer((s) => s.end());
  const backendPort = await listen(backend);
  const secretFile = join(dir, 'hook.secret');
  writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
  const { config, vport } = await writeAlertedConfig(
    dir,
    backendPort,
    `  router_id: t12s
  webhooks:
    - name: ops
      url: http://127.0.0.1:${hookPort}/hook
      secret_file: ${secretFile}
      backoff: 300ms
      retries: 3
  limits: { window: 4s, burst: 2 }
`,
  );
  const control = join(dir, 't12s.sock');
  const child = spawn(process.execPath, [TANDEM, 'run', '-c', config, '--control', control, '--no-supervisor'], {
    cwd: root,
  });
  children.push(child);
  const out = new Output(child);
  const downs = (n: number) =>
    eventually(
      `${n} down lines`,
      () => out.lines.filter((l) => /real server 127\.0\.0\.1:\d+ .* down/.test(l)).length,
      (c) => c >= n,
      20_000,
    );
  const ups = (n: number) =>
    eventually(
      `${n} up lines`,
      () => out.lines.filter((l) => /real server 127\.0\.0\.1:\d+ .* up:/.test(l)).length,
      (c) => c >= n,
      20_000,
    );
  try {
    await out.waitFor(/serving virtual service web/, 30_000);
    assert.ok(!out.text().includes(SECRET), 'the secret is never logged');
    // DOWN: first delivery answered 500, retried after the backoff.
    await new Promise<void>((r) => backend.close(() => r()));
    await downs(1);
    await eventually(
      'delivered after a retry',
      () => deliveries.length,
      (n) => n >= 2,
      15_000,
    );
    const [first, retry] = deliveries;
    assert.equal(first!.status, 500);
    assert.equal(retry!.status, 200);
    assert.equal(retry!.id, first!.id, 'a retry is the same delivery');
    assert.equal(
      retry!.body.subject,
      `[t12s] Realserver [127.0.0.1]:tcp:${backendPort} of virtual server [127.0.0.1]:tcp:${vport} - DOWN`,
    );
    assert.equal(retry!.body.type, 'alert');
    assert.ok(
      deliveries.every((d) => d.signatureOk),
      'every body carries a valid signature',
    );
    // Flapping: UP (second of the burst of 2), then DOWN and UP again are held for one digest at the window's end.
    backend = createServer((s) => s.end());
    await listen(backend, backendPort);
    await ups(1);
    await eventually(
      'the UP alert',
      () => deliveries.length,
      (n) => n >= 3,
      15_000,
    );
    await new Promise<void>((r) => backend.close(() => r()));
    await downs(2);
    backend = createServer((s) => s.end());
    await listen(backend, backendPort);
    await ups(2);
    assert.equal(deliveries.length, 3, 'the third and fourth changes are held, not sent');
    await eventually(
      'the digest',
      () => deliveries.length,
      (n) => n >= 4,
      15_000,
    );
    const digest = deliveries[3]!;
    assert.equal(digest.body.type, 'digest');
    assert.deepEqual(
      digest.body.alerts.map((a) => a.state),
      ['DOWN', 'UP'],
    );
    assert.match(digest.body.subject, /- UP \(digest: 2 changes in 4 s\)$/);
    const st = await callDaemon(control, 'GET', '/v1/status', undefined, 5_000);
    assert.ok(st.ok);
    const alerts = (st.body as { alerts: { digests: number; sinks: Record<string, Record<string, number>> } }).alerts;
    assert.equal(alerts.sinks.ops!.sent, 3);
    assert.equal(alerts.sinks.ops!.retried, 1);
    assert.equal(alerts.sinks.ops!.failed, 0);
    assert.equal(alerts.digests, 1);
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
    backend.close();
    receiver.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
