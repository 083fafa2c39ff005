import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { blockedListener, closedPort } from '../test-support.ts';
import { runTcpCheck } from './tcp.ts';

const never = new AbortController().signal;

async function listening(host: string): Promise<{ port: number; accepted: () => number; close: () => Promise<void> }> {
  let accepted = 0;
  const server = net.createServer((s) => {
    accepted++;
    s.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    accepted: () => accepted,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

test('a listening port is L4OK, and the check connection is closed at once', async () => {
  const s = await listening('127.0.0.1');
  try {
    const r = await runTcpCheck({ kind: 'tcp', addr: '127.0.0.1', port: s.port, connectTimeoutMs: 2_000 }, never);
    assert.equal(r.code, 'L4OK');
    assert.equal(r.detail, 'connected');
    assert.ok(r.durationMs >= 0 && r.durationMs < 2_000);
  } finally {
    await s.close();
  }
});

test('IPv6: a listening port on ::1 is L4OK', async () => {
  const s = await listening('::1');
  try {
    const r = await runTcpCheck({ kind: 'tcp', addr: '::1', port: s.port, connectTimeoutMs: 2_000 }, never);
    assert.equal(r.code, 'L4OK');
  } finally {
    await s.close();
  }
});

test('a closed port is L4CON with the errno in the detail', async () => {
  const port = await closedPort();
  const r = await runTcpCheck({ kind: 'tcp', addr: '127.0.0.1', port, connectTimeoutMs: 2_000 }, never);
  assert.equal(r.code, 'L4CON');
  assert.equal(r.detail, 'connection refused (ECONNREFUSED)');
});

test('a server whose SYNs go unanswered is L4TOUT after connect_timeout', async () => {
  const b = await blockedListener();
  try {
    const r = await runTcpCheck({ kind: 'tcp', addr: '127.0.0.1', port: b.port, connectTimeoutMs: 150 }, never);
    assert.equal(r.code, 'L4TOUT');
    assert.equal(r.detail, 'connect timed out after 150 ms');
    assert.ok(r.durationMs >= 140, `took ${r.durationMs} ms`);
  } finally {
    b.close();
  }
});

test('a source address that cannot be used is SOCKERR: our side, not the server', async () => {
  const r = await runTcpCheck(
    { kind: 'tcp', addr: '127.0.0.1', port: 9, connectTimeoutMs: 1_000, bindAddr: 'not-an-address' },
    never,
  );
  assert.equal(r.code, 'SOCKERR');
});

test('an abort ends a hanging connect at once, and an aborted signal starts nothing', async () => {
  const b = await blockedListener();
  try {
    const ac = new AbortController();
    const pending = runTcpCheck({ kind: 'tcp', addr: '127.0.0.1', port: b.port, connectTimeoutMs: 5_000 }, ac.signal);
    setTimeout(() => ac.abort(), 20);
    const r = await pending;
    assert.equal(r.detail, 'aborted');
    assert.ok(r.durationMs < 1_000);
    const again = await runTcpCheck(
      { kind: 'tcp', addr: '127.0.0.1', port: b.port, connectTimeoutMs: 5_000 },
      ac.signal,
    );
    assert.equal(again.detail, 'aborted');
  } finally {
    b.close();
  }
});
