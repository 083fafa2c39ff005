// E-mail alerts with STARTTLS and AUTH (issue 12 item 5), end to end: a real `tandem run` (user-space proxy on
// 127.0.0.1, so no namespace) health-checks a real server the test owns; the in-process smtp-server requires
// STARTTLS (a certificate made here by openssl) and AUTH with the password the daemon read from a 0600 file. When the
// server goes down the mail arrives over TLS, authenticated, with keepalived's checker subject and body; the
// password is in no log line.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { eventually, Output } from '../netns/tandem-lab.ts';
import { writeAlertedConfig } from './alerts-lab.ts';

const root = new URL('../../', import.meta.url).pathname;
const TANDEM = join(root, 'bin/tandem');
const PASSWORD = 't12s-smtp-password-Zq8';

interface Received {
  secure: boolean;
  user: unknown;
  from: string;
  to: string[];
  raw: string;
}

test("e-mail alert over STARTTLS with AUTH: a real server down mails keepalived's checker subject", {
  timeout: 60_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), `t12s-${process.pid}-smtp-`));
  const children: ChildProcess[] = [];
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  const gen = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { encoding: 'utf8', timeout: 30_000 },
  );
  assert.equal(gen.status, 0, gen.stderr);
  const received: Received[] = [];
  const auths: string[] = [];
  const smtp = new SMTPServer({
    key: readFileSync(key),
    cert: readFileSync(cert),
    authMethods: ['PLAIN', 'LOGIN'],
    size: 256 * 1024,
    logger: false,
    onAuth(auth, session, cb) {
      auths.push(`${auth.username} secure=${session.secure}`);
      if (auth.username === 'alerts' && auth.password === PASSWORD) cb(null, { user: 'alerts' });
      else cb(new Error('bad credentials'));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({
          secure: session.secure,
          user: session.user,
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        cb(null);
      });
    },
  });
  const smtpPort = await new Promise<number>((resolve) =>
    smtp.listen(0, '127.0.0.1', () => resolve((smtp.server.address() as AddressInfo).port)),
  );
  const backend = createServer((s) => s.end());
  const backendPort = await new Promise<number>((r) =>
    backend.listen(0, '127.0.0.1', () => r((backend.address() as AddressInfo).port)),
  );
  const passwordFile = join(dir, 'smtp.password');
  writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  const { config, vport } = await writeAlertedConfig(
    dir,
    backendPort,
    `  router_id: LVS_DEVEL
  email:
    to: [ops@example.com]
    from: tandem@example.com
    smtp:
      server: 127.0.0.1
      port: ${smtpPort}
      starttls: required
      ca_file: ${cert}
      user: alerts
      password_file: ${passwordFile}
      connect_timeout: 5s
`,
  );
  const control = join(dir, 't12s.sock');
  const child = spawn(
    process.execPath,
    [TANDEM, 'run', '-c', config, '--control', control, '--no-supervisor', '--verbose'],
    {
      cwd: root,
    },
  );
  children.push(child);
  const out = new Output(child);
  try {
    await out.waitFor(/serving virtual service web/, 30_000);
    await new Promise<void>((r) => backend.close(() => r()));
    await eventually(
      'the mail',
      () => received.length,
      (n) => n >= 1,
      20_000,
    );
    const m = received[0]!;
    assert.equal(m.secure, true, 'delivered after STARTTLS');
    assert.equal(m.user, 'alerts', 'authenticated');
    assert.deepEqual(auths, ['alerts secure=true']);
    assert.equal(m.from, 'tandem@example.com');
    assert.deepEqual(m.to, ['ops@example.com']);
    const unfolded = m.raw.replace(/\r?\n[ \t]+/g, ' ');
    assert.match(
      unfolded,
      new RegExp(
        `^Subject: \\[LVS_DEVEL\\] Realserver \\[127\\.0\\.0\\.1\\]:tcp:${backendPort} of virtual server \\[127\\.0\\.0\\.1\\]:tcp:${vport} - DOWN\\r?$`,
        'm',
      ),
    );
    assert.match(m.raw, /\r\n\r\n=> TCP CHECK failed on service <=\r\n/);
    await out.waitFor(/alerts: email: sent/, 10_000);
    assert.ok(!out.text().includes(PASSWORD), 'the password is in no log line (even with --verbose)');
    if (process.env.T12S_MAIL_OUT) writeFileSync(process.env.T12S_MAIL_OUT, m.raw);
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
    backend.close();
    await new Promise<void>((r) => smtp.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  }
});
