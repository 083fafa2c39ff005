import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { closedPort } from '../test-support.ts';
import { SMTP_DEFAULT_HELO, type SmtpProbe } from '../types.ts';
import { runSmtpCheck, takeReply } from './smtp.ts';

const never = new AbortController().signal;

/**
 * A scripted SMTP server on 127.0.0.x: `greeting` on connect, then `reply(command)` for each command line it reads
 * (undefined: silence). Records every command.
 */
async function smtpServer(host: string, greeting: string | undefined, reply: (line: string) => string | undefined) {
  const commands: string[] = [];
  const server = net.createServer((s) => {
    s.setEncoding('latin1');
    if (greeting !== undefined) s.write(greeting);
    let buf = '';
    s.on('data', (d: string) => {
      buf += d;
      for (let nl = buf.indexOf('\r\n'); nl !== -1; nl = buf.indexOf('\r\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        commands.push(line);
        const r = reply(line);
        if (r !== undefined) s.write(r);
        if (line === 'QUIT') s.end();
      }
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    commands,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const postfix = (line: string) =>
  line.startsWith('HELO ') ? '250 mx1.example.org\r\n' : line === 'QUIT' ? '221 2.0.0 Bye\r\n' : '502 5.5.2 Error\r\n';

const probe = (hosts: SmtpProbe['hosts'], heloName = SMTP_DEFAULT_HELO): SmtpProbe => ({
  kind: 'smtp',
  hosts,
  heloName,
  timeoutMs: 1_500,
});

test('a server that greets 220 and accepts HELO passes (L7OK); the dialogue is HELO helo_name, QUIT', async () => {
  const s = await smtpServer('127.0.0.1', '220 mx1.example.org ESMTP Postfix\r\n', postfix);
  try {
    const r = await runSmtpCheck(probe([{ addr: '127.0.0.1', port: s.port }], 'lb1.example.org'), never);
    assert.equal(r.code, 'L7OK', r.detail);
    assert.deepEqual(s.commands, ['HELO lb1.example.org', 'QUIT']);
  } finally {
    await s.close();
  }
});

test('a multi-line greeting (220-…, 220 …) is read whole before HELO', async () => {
  const s = await smtpServer('127.0.0.1', '220-mx1.example.org ESMTP\r\n220-no UCE\r\n220 ready\r\n', postfix);
  try {
    const r = await runSmtpCheck(probe([{ addr: '127.0.0.1', port: s.port }]), never);
    assert.equal(r.code, 'L7OK', r.detail);
    assert.deepEqual(s.commands, [`HELO ${SMTP_DEFAULT_HELO}`, 'QUIT']);
  } finally {
    await s.close();
  }
});

test('a 554 greeting or a refused HELO is L7STS; garbage is L7RSP; silence is L7TOUT', async () => {
  const busy = await smtpServer('127.0.0.1', '554 5.3.2 too busy\r\n', postfix);
  const picky = await smtpServer('127.0.0.1', '220 ok\r\n', (l) =>
    l === 'QUIT' ? '221 bye\r\n' : '501 5.5.4 bad\r\n',
  );
  const http = await smtpServer('127.0.0.1', 'HTTP/1.1 400 Bad Request\r\n', postfix);
  const mute = await smtpServer('127.0.0.1', undefined, () => undefined);
  try {
    const one = async (port: number) => runSmtpCheck(probe([{ addr: '127.0.0.1', port, timeoutMs: 600 }]), never);
    const r1 = await one(busy.port);
    assert.equal(r1.code, 'L7STS');
    assert.match(r1.detail, /greeting 554, expected 220/);
    const r2 = await one(picky.port);
    assert.equal(r2.code, 'L7STS');
    assert.match(r2.detail, /HELO answered 501/);
    assert.equal((await one(http.port)).code, 'L7RSP');
    assert.equal((await one(mute.port)).code, 'L7TOUT');
  } finally {
    await Promise.all([busy.close(), picky.close(), http.close(), mute.close()]);
  }
});

test('host blocks: every host is checked in turn and all must pass; the first failure names its host', async () => {
  const a = await smtpServer('127.0.0.2', '220 a\r\n', postfix);
  const b = await smtpServer('127.0.0.3', '220 b\r\n', postfix);
  const down = await closedPort('127.0.0.4');
  try {
    const ok = await runSmtpCheck(
      probe([
        { addr: '127.0.0.2', port: a.port },
        { addr: '127.0.0.3', port: b.port },
      ]),
      never,
    );
    assert.equal(ok.code, 'L7OK', ok.detail);
    assert.match(ok.detail, /^2 hosts/);
    assert.equal(b.commands.length, 2);
    const bad = await runSmtpCheck(
      probe([
        { addr: '127.0.0.2', port: a.port },
        { addr: '127.0.0.4', port: down },
      ]),
      never,
    );
    assert.equal(bad.code, 'L4CON');
    assert.match(bad.detail, new RegExp(`127\\.0\\.0\\.4:${down}: connection refused`));
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('takeReply: complete replies only, multi-line joined, a line without a code is garbage', () => {
  assert.equal(takeReply('220 partial'), undefined);
  assert.equal(takeReply('250-one\r\n250-two\r\n'), undefined);
  assert.deepEqual(takeReply('250-one\r\n250 two\r\nrest'), { code: 250, text: '250-one\r\n250 two', rest: 'rest' });
  assert.equal(takeReply('hello\r\n')!.code, undefined);
});
