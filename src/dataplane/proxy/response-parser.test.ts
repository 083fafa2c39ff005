import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { MAX_HEAD_BYTES, type ResponseHead, ResponseParser } from './response-parser.ts';

/** Feeds `text` in pieces of `split` bytes; returns the sink and the first error. */
function parse(text: string, opts: { split?: number; head?: boolean } = {}) {
  const got = { heads: [] as ResponseHead[], parts: [] as Buffer[], ends: 0 };
  const p = new ResponseParser({
    head: (h) => got.heads.push(h),
    body: (c) => got.parts.push(Buffer.from(c)),
    end: () => {
      got.ends++;
    },
  });
  p.expect(opts.head ?? false);
  const buf = Buffer.from(text, 'latin1');
  const step = opts.split ?? buf.length;
  let error = null;
  for (let i = 0; i < buf.length && !error; i += step) error = p.feed(buf.subarray(i, i + step));
  return { p, error, heads: got.heads, body: Buffer.concat(got.parts).toString('latin1'), ends: got.ends };
}

test('a Content-Length response: head, body, end; the connection stays reusable', () => {
  const r = parse('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello');
  assert.equal(r.error, null);
  assert.equal(r.heads.length, 1);
  const h = r.heads[0] as ResponseHead;
  assert.deepEqual([h.status, h.reason, h.framing, h.contentLength, h.keepAlive], [200, 'OK', 'length', 5, true]);
  assert.deepEqual(h.headers, ['Content-Type', 'text/plain', 'Content-Length', '5']);
  assert.equal(r.body, 'hello');
  assert.equal(r.ends, 1);
  assert.equal(r.p.reusable, true);
});

test('the same bytes give the same result however they are split (one byte at a time included)', () => {
  const text =
    'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nTransfer-Encoding: gzip, chunked\r\nX: y\r\n\r\n' +
    '5;ext=1\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nTrailer-Field: z\r\n\r\n';
  const whole = parse(text);
  assert.equal(whole.error, null);
  assert.equal(whole.body, 'helloabcdefghijklmnopqrstuvwxyz');
  fc.assert(
    fc.property(fc.integer({ min: 1, max: text.length }), (split) => {
      const r = parse(text, { split });
      assert.equal(r.error, null);
      assert.equal(r.body, whole.body);
      assert.equal(r.ends, 1);
      assert.equal(r.heads.length, 1, 'the 100 Continue is skipped');
      assert.equal(r.heads[0]?.status, 201);
      assert.equal(r.p.reusable, true);
    }),
    { seed: 5, numRuns: 200 },
  );
});

test('HEAD responses, 204 and 304 have no body whatever their headers say', () => {
  const head = parse('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n', { head: true });
  assert.deepEqual([head.heads[0]?.framing, head.ends, head.p.reusable], ['none', 1, true]);
  for (const status of [204, 304]) {
    const r = parse(`HTTP/1.1 ${status} X\r\nTransfer-Encoding: chunked\r\n\r\n`);
    assert.deepEqual([r.heads[0]?.framing, r.ends], ['none', 1]);
  }
});

test('a body without length runs until the connection closes, and the connection is not reused', () => {
  const r = parse('HTTP/1.1 200 OK\r\n\r\nsome bytes');
  assert.equal(r.heads[0]?.framing, 'close');
  assert.equal(r.ends, 0);
  assert.equal(r.p.closeDelimited, true);
  assert.equal(r.p.eof(), null);
  assert.equal(r.p.reusable, false);
  assert.equal(r.body, 'some bytes');
});

test('keep-alive: HTTP/1.1 unless Connection: close; HTTP/1.0 only with Connection: keep-alive', () => {
  assert.equal(parse('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n').p.reusable, false);
  assert.equal(parse('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n').p.reusable, false);
  assert.equal(parse('HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n').p.reusable, true);
});

test('the Keep-Alive timeout hint is read, in ms', () => {
  const r = parse('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5, max=100\r\nContent-Length: 0\r\n\r\n');
  assert.equal(r.heads[0]?.keepAliveTimeoutMs, 5_000);
});

test('bytes after the end of a response make the connection unusable', () => {
  const r = parse('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA');
  assert.equal(r.body, 'ok');
  assert.equal(r.ends, 1);
  assert.equal(r.p.trailing, true);
  assert.equal(r.p.reusable, false);
});

test('Transfer-Encoding with Content-Length: the chunked framing wins and the connection closes afterwards', () => {
  const r = parse('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n');
  assert.equal(r.body, 'ok');
  assert.equal(r.p.reusable, false);
});

test('malformed responses are errors, never exceptions', () => {
  const cases: [string, string][] = [
    ['HTTP/2 200 OK\r\n\r\n', 'bad-status-line'],
    ['HTTP/1.1 20 OK\r\n\r\n', 'bad-status-line'],
    ['HTTP/1.1 200 OK\r\nno colon\r\n\r\n', 'bad-header'],
    ['HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n', 'bad-header'],
    ['HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n', 'bad-header'],
    ['HTTP/1.1 200 OK\r\nA: b\x01c\r\n\r\n', 'bad-header'],
    ['HTTP/1.1 200 O\x00K\r\n\r\n', 'bad-status-line'],
    ['HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n', 'bad-content-length'],
    ['HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', 'bad-content-length'],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 'bad-chunk'],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX', 'bad-chunk'],
    ['HTTP/1.1 101 Switching Protocols\r\n\r\n', 'unexpected-upgrade'],
  ];
  for (const [text, want] of cases) assert.equal(parse(text).error, want, JSON.stringify(text));
  const huge = `HTTP/1.1 200 OK\r\nX: ${'a'.repeat(MAX_HEAD_BYTES)}`;
  assert.equal(parse(huge, { split: 4096 }).error, 'head-too-large');
});

test('arbitrary bytes never throw', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 1, max: 50 }), (bytes, split) => {
      const p = new ResponseParser({ head: () => {}, body: () => {}, end: () => {} });
      p.expect(false);
      const buf = Buffer.from(bytes);
      for (let i = 0; i < buf.length; i += split) if (p.feed(buf.subarray(i, i + split))) break;
      p.eof();
    }),
    { seed: 9, numRuns: 500 },
  );
});

test('a connection closing before the response ends is incomplete', () => {
  const r = parse('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
  assert.equal(r.p.eof(), 'incomplete');
  assert.equal(r.ends, 0);
});
